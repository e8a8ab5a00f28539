// PeerRegistry: the kernel credentials (SO_PEERCRED) of every connection a
// UnixListener handed to gRPC, keyed by the connection's descriptor number,
// which is what gRPC reports as a call's peer ("fd:<n>"). Thread-safe.
//
// The race, and why it is benign: a descriptor number is reused only after
// gRPC has closed the connection that held it, and the listener overwrites
// the entry when it accepts the new connection, before handing it to gRPC.
// So a call always finds the credentials of its own connection, provided it
// asks while that connection is open, i.e. at the start of its handler. A
// handler that asks after its client went away may see the next connection
// on the same number: look up once, early, and keep the answer.
#ifndef PPROCD_SERVER_PEER_PEER_REGISTRY_H_
#define PPROCD_SERVER_PEER_PEER_REGISTRY_H_

#include <sys/types.h>

#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "server/peer/caller_identity.h"

namespace pprocd {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  // The job whose own socket the connection came through ("" = a server
  // socket).
  std::string job;
};

class PeerRegistry final : public CallerIdentitySource {
 public:
  // Records the credentials of the connection on descriptor `fd`, replacing
  // whatever an earlier connection on that number left.
  void Record(int fd, const PeerCredentials& credentials) ABSL_LOCKS_EXCLUDED(mutex_);
  // Drops the entry of `fd` (its connection has no known credentials).
  void Forget(int fd) ABSL_LOCKS_EXCLUDED(mutex_);

  // The credentials of the connection gRPC names `peer` ("fd:<n>"); none for
  // any other peer ("ipv4:...", "ipv6:...", "unix:...") or an unknown fd.
  std::optional<PeerCredentials> Lookup(absl::string_view peer) const ABSL_LOCKS_EXCLUDED(mutex_);
  std::optional<PeerCredentials> Lookup(const grpc::ServerContextBase& context) const;

  // CallerIdentitySource: Lookup(context), as a CallerIdentity.
  CallerIdentity Identify(const grpc::ServerContextBase& context) const override;

  // The descriptor number in a peer string "fd:<n>", if it is one.
  static std::optional<int> PeerFd(absl::string_view peer);

 private:
  mutable absl::Mutex mutex_;
  absl::flat_hash_map<int, PeerCredentials> by_fd_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_PEER_PEER_REGISTRY_H_
