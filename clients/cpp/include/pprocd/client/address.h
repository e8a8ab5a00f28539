// Server address resolution for pprocd clients: turns what a user wrote
// (--address, $PPROCD_ADDRESS, or nothing) into a gRPC target string.
//
// Pure functions, safe to call from any thread (ResolveAddress reads the
// environment, so it must not race with setenv()).
#ifndef PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_ADDRESS_H_
#define PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pprocd::client {

// The server's socket when nothing else is said, relative to the working
// directory (where scripts/run starts the server).
inline constexpr char kDefaultAddress[] = "unix:run/pprocd.sock";
// The environment variable consulted when no explicit address is given.
inline constexpr char kAddressEnvVar[] = "PPROCD_ADDRESS";

// Returns the gRPC target for `flag` when it is non-empty, else for
// $PPROCD_ADDRESS when that is set and non-empty, else for kDefaultAddress.
// Fails with INVALID_ARGUMENT (naming the address) when the chosen address
// is malformed; see NormalizeAddress for the accepted forms.
absl::StatusOr<std::string> ResolveAddress(absl::string_view flag);

// Converts one user-written address to a gRPC target:
//   unix:PATH, unix:///ABS/PATH  -> unchanged (PATH may be relative)
//   PATH containing '/' or ending in ".sock" -> unix:PATH
//   tcp:HOST:PORT -> HOST:PORT
//   HOST:PORT, [V6ADDR]:PORT -> unchanged
//   dns:, ipv4:, ipv6:, unix-abstract: targets -> unchanged
// Anything else fails with INVALID_ARGUMENT naming the address.
absl::StatusOr<std::string> NormalizeAddress(absl::string_view address);

}  // namespace pprocd::client

#endif  // PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_ADDRESS_H_
