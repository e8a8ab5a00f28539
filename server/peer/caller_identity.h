// CallerIdentity: who made an RPC, as far as the transport can tell, and the
// small interface a service asks it from. Header-only.
#ifndef PPROCD_SERVER_PEER_CALLER_IDENTITY_H_
#define PPROCD_SERVER_PEER_CALLER_IDENTITY_H_

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <string>

namespace pprocd {

// The kernel credentials of the process that connected, when known.
// `known` is false for a caller the server cannot identify (TCP, or a
// connection not accepted by a UnixListener): an anonymous owner. The
// other fields are meaningful only when `known`.
struct CallerIdentity {
  bool known = false;
  uid_t uid = 0;
  gid_t gid = 0;
  pid_t pid = 0;
  // The job whose own socket (SubmitRequest.socket_path) the call came
  // through; empty for the server's sockets.
  std::string job;
};

// Answers who made the call of `context`. Implementations are thread-safe
// (gRPC calls handlers from many threads). Ask at the start of a handler,
// while the call's connection is surely open (see PeerRegistry).
class CallerIdentitySource {
 public:
  virtual ~CallerIdentitySource() = default;
  virtual CallerIdentity Identify(const grpc::ServerContextBase& context) const = 0;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_PEER_CALLER_IDENTITY_H_
