// Server address resolution for pprocd clients: turns what a user wrote
// (--address, $PPROCD_ADDRESS, or nothing) into a gRPC target string.
//
// Safe to call from any thread; LocateServer and ResolveAddress read the
// environment and look at the file system, so they must not race with
// setenv().
#ifndef PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_ADDRESS_H_
#define PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_ADDRESS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pprocd::client {

// Where the server is looked for, in order (the same in every client and in
// the server; README: Where is the server?):
//   1. the explicit address (--address, an argument);
//   2. $PPROCD_ADDRESS;
//   3. the per-user socket, UserSocketPath();
//   4. the system socket, kSystemSocketPath.
// Without 1 and 2, the first of 3 and 4 that exists is used, else 3 (so
// that an error names it).

// The environment variable consulted when no explicit address is given.
inline constexpr char kAddressEnvVar[] = "PPROCD_ADDRESS";
// Where a system-wide server listens (deploy/systemd).
inline constexpr char kSystemSocketPath[] = "/run/pprocd/pprocd.sock";

// The per-user socket, where `pprocd` listens by default:
// $XDG_RUNTIME_DIR/pprocd/pprocd.sock when XDG_RUNTIME_DIR is an absolute
// path, else /tmp/pprocd-UID/pprocd.sock (UID: the effective user id).
std::string UserSocketPath();

// The outcome of the search.
struct Located {
  // The gRPC target to connect to.
  std::string target;
  // What was tried, in order, as a user reads it, e.g.
  // "unix:/run/user/1000/pprocd/pprocd.sock (the per-user socket)".
  std::vector<std::string> tried;
  // What an error adds when no server answers at `target`: what was tried
  // and how to start a server ("...; start one with `pprocd` or
  // scripts/run").
  std::string no_server_hint;
};

// Follows the search order above with `flag` as the explicit address.
// Fails with INVALID_ARGUMENT (naming the address, or $PPROCD_ADDRESS) when
// the chosen address is malformed; see NormalizeAddress for the forms.
absl::StatusOr<Located> LocateServer(absl::string_view flag);

// LocateServer(flag).target.
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
