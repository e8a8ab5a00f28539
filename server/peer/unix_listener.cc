#include "server/peer/unix_listener.h"

#include <fcntl.h>
#include <grpcpp/server_posix.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "worker/base/status_macros.h"

namespace pprocd {
namespace {

// How long the loop pauses after an accept error before it tries again.
constexpr int kRetryMs = 100;
// Connections accepted in a row before the loop looks at the wake-up again.
constexpr int kBurst = 64;

absl::StatusOr<UniqueFd> MakeWake() {
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return ErrnoStatus(errno, "eventfd");
  return wake;
}

int SocketOption(int fd, int option) {
  int value = -1;
  socklen_t size = sizeof(value);
  if (getsockopt(fd, SOL_SOCKET, option, &value, &size) != 0) return -1;
  return value;
}

}  // namespace

UnixListener::UnixListener(UniqueFd listening, UniqueFd wake, std::string path, bool owns_path,
                           PeerRegistry* registry, std::string job)
    : listening_(std::move(listening)),
      wake_(std::move(wake)),
      path_(std::move(path)),
      owns_path_(owns_path),
      registry_(registry),
      job_(std::move(job)) {}

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::Bind(const std::string& path,
                                                                 PeerRegistry* registry,
                                                                 const BindOptions& options) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("bad UNIX socket path '", path, "'"));
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  PPROCD_ASSIGN_OR_RETURN(UniqueFd wake, MakeWake());
  UniqueFd listening(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listening.valid()) return ErrnoStatus(errno, "socket");
  const mode_t old_umask = umask(0077);  // The socket file is born owner-only.
  const int bound =
      ::bind(listening.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int bind_errno = errno;
  umask(old_umask);
  if (bound != 0) {
    if (bind_errno == EADDRINUSE) {
      return absl::AlreadyExistsError(absl::StrCat("address in use: ", path));
    }
    return ErrnoStatus(bind_errno, absl::StrCat("bind ", path));
  }
  // From here on the file is ours: the listener removes it when it goes.
  std::unique_ptr<UnixListener> listener(new UnixListener(
      std::move(listening), std::move(wake), path, /*owns_path=*/true, registry, options.job));
  if ((options.owner_uid.has_value() || options.owner_gid.has_value()) &&
      chown(path.c_str(), options.owner_uid.value_or(static_cast<uid_t>(-1)),
            options.owner_gid.value_or(static_cast<gid_t>(-1))) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chown ", path));
  }
  if (chmod(path.c_str(), options.mode) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chmod ", path));
  }
  if (listen(listener->listening_.get(), SOMAXCONN) != 0) {
    return ErrnoStatus(errno, absl::StrCat("listen on ", path));
  }
  return listener;
}

absl::StatusOr<std::unique_ptr<UnixListener>> UnixListener::Adopt(UniqueFd listening,
                                                                  PeerRegistry* registry) {
  if (SocketOption(listening.get(), SO_DOMAIN) != AF_UNIX ||
      SocketOption(listening.get(), SO_TYPE) != SOCK_STREAM ||
      SocketOption(listening.get(), SO_ACCEPTCONN) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("descriptor ", listening.get(), " is not a listening UNIX stream socket"));
  }
  const int flags = fcntl(listening.get(), F_GETFL);
  if (flags < 0 || fcntl(listening.get(), F_SETFL, flags | O_NONBLOCK) != 0 ||
      fcntl(listening.get(), F_SETFD, FD_CLOEXEC) != 0) {
    return ErrnoStatus(errno, "fcntl on the inherited socket");
  }
  sockaddr_un address{};
  socklen_t size = sizeof(address);
  std::string path;
  if (getsockname(listening.get(), reinterpret_cast<sockaddr*>(&address), &size) == 0 &&
      size > offsetof(sockaddr_un, sun_path)) {
    const size_t length = size - offsetof(sockaddr_un, sun_path);
    path = address.sun_path[0] == '\0'
               ? absl::StrCat("@", std::string(address.sun_path + 1, length - 1))
               : std::string(address.sun_path, strnlen(address.sun_path, length));
  }
  PPROCD_ASSIGN_OR_RETURN(UniqueFd wake, MakeWake());
  return std::unique_ptr<UnixListener>(new UnixListener(
      std::move(listening), std::move(wake), std::move(path), /*owns_path=*/false, registry));
}

UnixListener::~UnixListener() { Stop(); }

absl::Status UnixListener::Start(grpc::Server* server) {
  if (thread_.joinable() || stopped_) {
    return absl::FailedPreconditionError("the listener was already started");
  }
  thread_ = std::thread([this, server] { AcceptLoop(server); });
  return absl::OkStatus();
}

void UnixListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (thread_.joinable()) {
    const uint64_t one = 1;
    while (write(wake_.get(), &one, sizeof(one)) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  listening_.Reset();
  if (owns_path_) unlink(path_.c_str());
}

void UnixListener::AcceptLoop(grpc::Server* server) {
  bool pausing = false;
  while (true) {
    // While pausing after an error, only the wake-up is watched, with a
    // timeout: the listening socket would be readable at once again.
    pollfd fds[2] = {{wake_.get(), POLLIN, 0}, {listening_.get(), POLLIN, 0}};
    const int ready = poll(fds, pausing ? 1 : 2, pausing ? kRetryMs : -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      usleep(kRetryMs * 1000);  // Cannot even wait: never spin.
      continue;
    }
    if (fds[0].revents != 0) return;
    pausing = !AcceptPending(server);
  }
}

// Not checked by UBSan's vptr check: that check probes memory through a pipe,
// which cannot be made exactly when this function runs out of descriptors,
// so it would report the live registry as a bad object (EMFILE at accept).
__attribute__((no_sanitize("vptr"))) bool UnixListener::AcceptPending(grpc::Server* server) {
  for (int accepted = 0; accepted < kBurst; ++accepted) {
    const int fd = accept4(listening_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      const int error = errno;
      if (error == EAGAIN || error == EWOULDBLOCK) return true;
      // These concern one connection (it went away), not the listener.
      if (error == EINTR || error == ECONNABORTED || error == EPROTO) continue;
      if (!error_logged_) {
        std::fprintf(stderr, "pprocd: cannot accept on %s: %s; retrying every %d ms\n",
                     path_.c_str(), std::strerror(error), kRetryMs);
        error_logged_ = true;
      }
      return false;
    }
    if (error_logged_) {
      std::fprintf(stderr, "pprocd: accepting on %s again\n", path_.c_str());
      error_logged_ = false;
    }
    // The entry is written before gRPC owns the descriptor, so no call on
    // this connection can look it up before it is there (peer_registry.h).
    ucred credentials{};
    socklen_t size = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) {
      registry_->Record(fd, {credentials.pid, credentials.uid, credentials.gid, job_});
    } else {
      registry_->Forget(fd);
    }
    grpc::AddInsecureChannelFromFd(server, fd);
  }
  return true;
}

}  // namespace pprocd
