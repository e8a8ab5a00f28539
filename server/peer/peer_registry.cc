#include "server/peer/peer_registry.h"

#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"

namespace pprocd {

void PeerRegistry::Record(int fd, const PeerCredentials& credentials) {
  absl::MutexLock lock(&mutex_);
  by_fd_[fd] = credentials;
}

void PeerRegistry::Forget(int fd) {
  absl::MutexLock lock(&mutex_);
  by_fd_.erase(fd);
}

std::optional<int> PeerRegistry::PeerFd(absl::string_view peer) {
  int fd = -1;
  if (!absl::ConsumePrefix(&peer, "fd:") || !absl::SimpleAtoi(peer, &fd) || fd < 0) {
    return std::nullopt;
  }
  return fd;
}

std::optional<PeerCredentials> PeerRegistry::Lookup(absl::string_view peer) const {
  const std::optional<int> fd = PeerFd(peer);
  if (!fd.has_value()) return std::nullopt;
  absl::MutexLock lock(&mutex_);
  const auto found = by_fd_.find(*fd);
  if (found == by_fd_.end()) return std::nullopt;
  return found->second;
}

std::optional<PeerCredentials> PeerRegistry::Lookup(const grpc::ServerContextBase& context) const {
  return Lookup(context.peer());
}

CallerIdentity PeerRegistry::Identify(const grpc::ServerContextBase& context) const {
  CallerIdentity identity;
  if (const std::optional<PeerCredentials> found = Lookup(context); found.has_value()) {
    identity.known = true;
    identity.uid = found->uid;
    identity.gid = found->gid;
    identity.pid = found->pid;
    identity.job = found->job;
  }
  return identity;
}

}  // namespace pprocd
