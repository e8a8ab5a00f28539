#include "worker/template_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "base/process_title.h"
#include "base/status_macros.h"
#include "worker/output_capture.h"
#include "worker/worker_loop.h"

namespace pprocd {
namespace {

constexpr size_t kMaxControlMessage = 4096;
// Descriptors sent with WorkerSpawned: task socket, stdout file, stderr file.
constexpr int kSpawnedFds = 3;

absl::Status SendWithFds(int fd, const std::string& bytes, const int* fds, int fd_count) {
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(kSpawnedFds * sizeof(int))];
  if (fd_count > 0 && fd_count <= kSpawnedFds) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(fd_count * sizeof(int));
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fd_count * sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), fds, fd_count * sizeof(int));
  }
  ssize_t n;
  do {
    n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoStatus(errno, "send to template socket");
  return absl::OkStatus();
}

// --- Template side -------------------------------------------------------

class Template {
 public:
  Template(int control_fd, const Registry& registry)
      : control_fd_(control_fd), registry_(registry) {}

  [[noreturn]] void Run() {
    SetProcessTitle("pprocd-template");
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, nullptr);
    signal_fd_ = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd_ < 0) Exit("signalfd failed");
    while (true) {
      pollfd fds[2] = {{control_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        Exit("poll failed");
      }
      if (fds[1].revents) ReapChildren();
      if (fds[0].revents) HandleControl();
    }
  }

 private:
  [[noreturn]] void Exit(const char* why) {
    // The template's stderr is the server's: its line joins the server's log.
    if (why != nullptr) LogError("the template process stops", {{"error", why}, {"pid", getpid()}});
    for (const auto& [pid, id] : workers_) ::kill(-pid, SIGKILL);
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {
    }
    std::_Exit(why == nullptr ? 0 : 1);
  }

  void HandleControl() {
    char buffer[kMaxControlMessage];
    const ssize_t n = ::recv(control_fd_, buffer, sizeof(buffer), 0);
    if (n == 0) Exit(nullptr);  // The server closed the socket: shut down.
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return;
      Exit(nullptr);
    }
    wire::v1::TemplateRequest request;
    if (!request.ParseFromArray(buffer, static_cast<int>(n))) Exit("malformed request");
    if (request.has_spawn()) Spawn(request.spawn().worker_id());
    if (request.has_kill()) Kill(request.kill().worker_id());
  }

  // Only a worker not yet reaped is signalled: until waitpid() its pid (and
  // its process group id) cannot be given to another process.
  void Kill(uint64_t worker_id) {
    for (const auto& [pid, id] : workers_) {
      if (id == worker_id) {
        ::kill(-pid, SIGKILL);
        return;
      }
    }
  }

  void Spawn(uint64_t worker_id) {
    int task[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, task) != 0) {
      return ReportFailure(worker_id, "socketpair", errno);
    }
    const UniqueFd server_end(task[0]);
    UniqueFd worker_end(task[1]);
    // Output files: appended to by the worker, read by the worker and the
    // server (see output_capture.h).
    const UniqueFd out(CreateOutputFile("pprocd-stdout"));
    const int out_errno = errno;
    const UniqueFd err(CreateOutputFile("pprocd-stderr"));
    const int err_errno = errno;
    if (!out.valid() || !err.valid()) {
      return ReportFailure(worker_id, "create an output file", out.valid() ? err_errno : out_errno);
    }
    if (::fcntl(out.get(), F_SETFL, O_APPEND) != 0 || ::fcntl(err.get(), F_SETFL, O_APPEND) != 0) {
      return ReportFailure(worker_id, "fcntl", errno);
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    const int fork_errno = errno;
    if (pid == 0) {
      // The server's end must not stay open in the worker, or it would
      // never see the end of its task stream.
      ::close(server_end.get());
      RunChild(parent, worker_end.get(), out.get(), err.get());
    }
    worker_end.Reset();
    if (pid < 0) return ReportFailure(worker_id, "fork", fork_errno);
    ::setpgid(pid, pid);  // Also done by the child; whichever runs first wins.
    workers_[pid] = worker_id;
    wire::v1::TemplateEvent event;
    event.mutable_spawned()->set_worker_id(worker_id);
    event.mutable_spawned()->set_pid(pid);
    const int fds[3] = {server_end.get(), out.get(), err.get()};
    const absl::Status sent = SendWithFds(control_fd_, event.SerializeAsString(), fds, 3);
    if (!sent.ok()) Exit(nullptr);
  }

  [[noreturn]] void RunChild(pid_t parent, int task_fd, int stdout_fd, int stderr_fd) {
    ::setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(1);
    SetProcessTitle("pprocd-worker");
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::close(null_fd);
    }
    ::dup2(stdout_fd, STDOUT_FILENO);
    ::dup2(stderr_fd, STDERR_FILENO);
    ::close(stdout_fd);
    ::close(stderr_fd);
    ::close(control_fd_);
    ::close(signal_fd_);
    setvbuf(stdout, nullptr, _IOLBF, 0);
    RunWorker(task_fd, registry_);
  }

  // The worker could not be started: `what` failed with `error_number`.
  void ReportFailure(uint64_t worker_id, const char* what, int error_number) {
    wire::v1::TemplateEvent event;
    event.mutable_exited()->set_worker_id(worker_id);
    event.mutable_exited()->set_pid(-1);
    event.mutable_exited()->set_exit_code(-1);
    event.mutable_exited()->set_spawn_error(std::string(ErrnoStatus(error_number, what).message()));
    if (!SendWithFds(control_fd_, event.SerializeAsString(), nullptr, 0).ok()) Exit(nullptr);
  }

  void ReapChildren() {
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof(info)) > 0) {
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = workers_.find(pid);
      if (it == workers_.end()) continue;
      wire::v1::TemplateEvent event;
      wire::v1::WorkerExited* exited = event.mutable_exited();
      exited->set_worker_id(it->second);
      exited->set_pid(pid);
      exited->set_exit_code(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
      exited->set_signal(WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      workers_.erase(it);
      if (!SendWithFds(control_fd_, event.SerializeAsString(), nullptr, 0).ok()) Exit(nullptr);
    }
  }

  int control_fd_;
  int signal_fd_ = -1;
  const Registry& registry_;
  std::map<pid_t, uint64_t> workers_;
};

}  // namespace

// --- Server side ---------------------------------------------------------

absl::StatusOr<TemplateProcess> TemplateProcess::Start(const Registry& registry) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return ErrnoStatus(errno, "socketpair for the template");
  }
  const pid_t server = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int saved = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    return ErrnoStatus(saved, "fork the template");
  }
  if (pid == 0) {
    ::close(fds[0]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != server) std::_Exit(1);
    Template(fds[1], registry).Run();
  }
  ::close(fds[1]);
  return TemplateProcess(pid, UniqueFd(fds[0]));
}

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

void ServeExecutedTemplate(pid_t server, const absl::Status& loaded, const Registry& registry) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != server) std::_Exit(1);
  ::fcntl(kExecControlFd, F_SETFD, FD_CLOEXEC);
  wire::v1::TemplateEvent event;
  event.mutable_started()->set_error(loaded.ok() ? "" : std::string(loaded.message()));
  if (!SendWithFds(kExecControlFd, event.SerializeAsString(), nullptr, 0).ok() || !loaded.ok()) {
    std::_Exit(1);
  }
  Template(kExecControlFd, registry).Run();
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
