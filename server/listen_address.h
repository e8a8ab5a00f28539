// Listen addresses of the server: parsing `unix:PATH` and `tcp:HOST:PORT`,
// and preparing a UNIX socket path (parent directory, stale socket, a live
// server already there). Called from main() before the server starts.
#ifndef PPROCD_SERVER_LISTEN_ADDRESS_H_
#define PPROCD_SERVER_LISTEN_ADDRESS_H_

#include <string>

#include "absl/status/statusor.h"

namespace pprocd {

struct ListenAddress {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  // UNIX: the socket path as given. TCP: "HOST:PORT".
  std::string target;
  // What gRPC's AddListeningPort takes.
  std::string GrpcUri() const;
  // How a user names it: "unix:PATH" or "tcp:HOST:PORT".
  std::string Display() const;
};

// Parses "unix:PATH", "unix:///ABS", "tcp:HOST:PORT" or "tcp:[V6]:PORT".
// InvalidArgument names the flag and says what is accepted.
absl::StatusOr<ListenAddress> ParseListenAddress(const std::string& text);

// Makes `path` ready to bind: creates missing parent directories (0700),
// removes a stale socket left by a dead server, and fails with
// AlreadyExists when a live server answers there, or FailedPrecondition when
// the path is something other than a socket.
absl::Status PrepareUnixSocketPath(const std::string& path);

}  // namespace pprocd

#endif  // PPROCD_SERVER_LISTEN_ADDRESS_H_
