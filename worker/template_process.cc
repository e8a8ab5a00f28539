#include "worker/template_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/log/log.h"
#include "base/status_macros.h"
#include "worker/template_socket.h"

namespace pprocd {

using template_socket::kMaxControlMessage;
using template_socket::kSpawnedFds;
using template_socket::SendWithFds;

// The server's side: the handle. The template's side is template_serve.cc.

absl::StatusOr<TemplateProcess> TemplateProcess::Launch(const std::string& program,
                                                        const std::vector<std::string>& argv) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus(errno, "socketpair for the template");
  }
  UniqueFd server_end(fds[0]);
  UniqueFd child_end(fds[1]);
  if (child_end.get() == kExecControlFd) {
    // dup2 onto itself would leave close-on-exec set.
    child_end.Reset(::fcntl(fds[1], F_DUPFD_CLOEXEC, kExecControlFd + 1));
    if (!child_end.valid()) return ErrnoStatus(errno, "dup the template socket");
  }
  std::vector<std::string> argv_storage = argv;
  std::vector<char*> raw_argv;
  for (std::string& arg : argv_storage) raw_argv.push_back(arg.data());
  raw_argv.push_back(nullptr);
  // The server's environment, with $PPROCD_LOG_FORMAT saying how the
  // template writes its own lines on the server's stderr.
  std::string log_format = absl::StrCat(kLogFormatVariable, "=", LogFormatName(CurrentLogFormat()));
  std::vector<char*> raw_env;
  const std::string own_entry = absl::StrCat(kLogFormatVariable, "=");
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!absl::StartsWith(*entry, own_entry)) raw_env.push_back(*entry);
  }
  raw_env.push_back(log_format.data());
  raw_env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_end.get(), kExecControlFd);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  const int spawned =
      ::posix_spawn(&pid, program.c_str(), &actions, &attributes, raw_argv.data(), raw_env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) return ErrnoStatus(spawned, absl::StrCat("start ", program));
  return TemplateProcess(pid, std::move(server_end));
}

absl::StatusOr<TemplateProcess> TemplateProcess::Exec(const std::vector<std::string>& args,
                                                      absl::Duration timeout) {
  std::vector<std::string> argv;
  argv.push_back("pprocd");
  argv.insert(argv.end(), args.begin(), args.end());
  absl::StatusOr<TemplateProcess> launched = Launch("/proc/self/exe", argv);
  if (!launched.ok()) return launched.status();
  TemplateProcess started = *std::move(launched);
  pollfd ready{started.control_fd(), POLLIN, 0};
  int polled;
  do {
    polled = ::poll(&ready, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
  } while (polled < 0 && errno == EINTR);
  if (polled == 0) {
    return absl::DeadlineExceededError(absl::StrCat(
        "the new template did not load its callables within ", absl::FormatDuration(timeout)));
  }
  char buffer[kMaxControlMessage];
  const ssize_t n = ::recv(started.control_fd(), buffer, sizeof(buffer), MSG_DONTWAIT);
  wire::v1::TemplateEvent event;
  if (n <= 0 || !event.ParseFromArray(buffer, static_cast<int>(n)) || !event.has_started()) {
    return absl::UnavailableError("the new template process ended before it was ready");
  }
  if (!event.started().error().empty()) {
    return absl::FailedPreconditionError(event.started().error());
  }
  return started;
}

TemplateProcess::~TemplateProcess() { Stop(); }

absl::Status TemplateProcess::RequestSpawn(uint64_t worker_id, const std::string& callable) {
  // A hint only: a name too long for the template's datagram is left out.
  constexpr size_t kMaxCallableHint = 1024;
  wire::v1::TemplateRequest request;
  request.mutable_spawn()->set_worker_id(worker_id);
  if (callable.size() <= kMaxCallableHint) request.mutable_spawn()->set_callable(callable);
  return SendWithFds(control_.get(), request.SerializeAsString(), nullptr, 0);
}

absl::Status TemplateProcess::SendDatagram(absl::string_view data) {
  return SendWithFds(control_.get(), std::string(data), nullptr, 0);
}

absl::Status TemplateProcess::RequestKill(uint64_t worker_id) {
  wire::v1::TemplateRequest request;
  request.mutable_kill()->set_worker_id(worker_id);
  return SendWithFds(control_.get(), request.SerializeAsString(), nullptr, 0);
}

absl::Status TemplateProcess::ReadEvent(TemplateEventWithFds* out, bool* got) {
  *got = false;
  char buffer[kMaxControlMessage];
  iovec iov{buffer, sizeof(buffer)};
  alignas(cmsghdr) char control[CMSG_SPACE(kSpawnedFds * sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(control_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const int saved = errno;
    if (saved == EAGAIN || saved == EWOULDBLOCK) return absl::OkStatus();
    if (saved == EMFILE || saved == ENFILE || saved == ENOMEM || saved == ENOBUFS) {
      return absl::ResourceExhaustedError(
          ErrnoStatus(saved, "read from the template socket").message());
    }
  }
  if (n <= 0) return absl::UnavailableError("the template process has gone away");
  // Every descriptor that arrived is owned at once, so that none leaks
  // whatever the message turns out to be.
  std::vector<UniqueFd> received;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      received.emplace_back(fd);
    }
  }
  out->task_fd.Reset();
  out->stdout_fd.Reset();
  out->stderr_fd.Reset();
  out->fds_lost = false;
  if (!out->event.ParseFromArray(buffer, static_cast<int>(n))) {
    return absl::InternalError("malformed event from the template");
  }
  if (out->event.has_spawned()) {
    if ((msg.msg_flags & MSG_CTRUNC) != 0 || received.size() != kSpawnedFds) {
      out->fds_lost = true;  // `received` closes those that came.
    } else {
      out->task_fd = std::move(received[0]);
      out->stdout_fd = std::move(received[1]);
      out->stderr_fd = std::move(received[2]);
    }
  }
  *got = true;
  return absl::OkStatus();
}

void TemplateProcess::Stop(absl::Duration grace) {
  if (pid_ < 0) return;
  control_.Reset();
  const absl::Time deadline = absl::Now() + grace;
  while (true) {
    const pid_t done = ::waitpid(pid_, nullptr, WNOHANG);
    if (done == pid_ || (done < 0 && errno != EINTR)) break;
    if (absl::Now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  pid_ = -1;
}

}  // namespace pprocd
