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
#include "base/log/log.h"
#include "base/status_macros.h"

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

// Gives the socket file at `path` (device `dev`, inode `ino`) `mode`, never
// through a symlink put in its place: through an O_PATH descriptor of the
// file itself, whose /proc/self/fd link chmod() follows (fchmod() takes no
// O_PATH descriptor).
absl::Status SetMode(const std::string& path, dev_t dev, ino_t ino, mode_t mode) {
  UniqueFd fd(open(path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, absl::StrCat("open ", path));
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return ErrnoStatus(errno, absl::StrCat("stat ", path));
  if (info.st_dev != dev || info.st_ino != ino) {
    return absl::FailedPreconditionError(absl::StrCat(path, " was replaced as it was made"));
  }
  if (chmod(absl::StrCat("/proc/self/fd/", fd.get()).c_str(), mode) != 0) {
    return ErrnoStatus(errno, absl::StrCat("chmod ", path));
  }
  return absl::OkStatus();
}

}  // namespace

UnixListener::UnixListener(UniqueFd listening, UniqueFd wake, std::string path,
                           std::optional<FileId> file, FsIdentity as, PeerRegistry* registry,
                           std::string job)
    : listening_(std::move(listening)),
      wake_(std::move(wake)),
      path_(std::move(path)),
      file_(file),
      as_(std::move(as)),
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
  std::optional<FileId> made;
  // bind() makes the file 0777 less the umask: the thread's umask gives it
  // its mode from the start.
  const absl::Status bound = RunAs(options.as, 0777 & ~options.mode, [&]() -> absl::Status {
    if (::bind(listening.get(), reinterpret_cast<const sockaddr*>(&address), sizeof(address)) !=
        0) {
      const int error = errno;
      if (error == EADDRINUSE) {
        return absl::AlreadyExistsError(absl::StrCat("address in use: ", path));
      }
      return ErrnoStatus(error, absl::StrCat("bind ", path));
    }
    // Whoever may write the directory could have put another socket there
    // since; it is then one they could have removed themselves.
    struct stat info;
    if (lstat(path.c_str(), &info) != 0) {
      return ErrnoStatus(errno, absl::StrCat("stat ", path, " once bound"));
    }
    if (!S_ISSOCK(info.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(path, " was replaced as it was made"));
    }
    made = FileId{info.st_dev, info.st_ino};
    // A default ACL of the directory takes the umask's place.
    if ((info.st_mode & 07777) != options.mode) {
      return SetMode(path, info.st_dev, info.st_ino, options.mode);
    }
    return absl::OkStatus();
  });
  if (!made.has_value()) return bound;
  // From here on the file is ours: the listener removes it when it goes.
  std::unique_ptr<UnixListener> listener(new UnixListener(
      std::move(listening), std::move(wake), path, made, options.as, registry, options.job));
  if (!bound.ok()) return bound;
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
  return std::unique_ptr<UnixListener>(new UnixListener(std::move(listening), std::move(wake),
                                                        std::move(path), std::nullopt,
                                                        FsIdentity::Own(), registry));
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
  if (!file_.has_value()) return;
  // Failing that, the file stays: there is no one to tell.
  (void)RunAs(as_, 0077, [this]() -> absl::Status {
    struct stat info;
    if (lstat(path_.c_str(), &info) != 0) return ErrnoStatus(errno, "stat");
    if (info.st_dev != file_->dev || info.st_ino != file_->ino) {
      return absl::FailedPreconditionError("not the socket this listener made");
    }
    if (unlink(path_.c_str()) != 0) return ErrnoStatus(errno, "unlink");
    return absl::OkStatus();
  });
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
        LogError("cannot accept connections; retrying",
                 {{"socket", path_}, {"error", std::strerror(error)}, {"retry_ms", kRetryMs}});
        error_logged_ = true;
      }
      return false;
    }
    if (error_logged_) {
      LogInfo("accepting on the socket again", {{"socket", path_}});
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
