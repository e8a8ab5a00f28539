// The template's side of template_process.h: the process that forks,
// reaps and kills the workers, started by TemplateProcess::Start (a fork of
// the server) or ServeExecutedTemplate (a new process image).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "base/log/log.h"
#include "base/process_title.h"
#include "base/status_macros.h"
#include "worker/output_capture.h"
#include "worker/registry.h"
#include "worker/template_process.h"
#include "worker/template_socket.h"
#include "worker/worker_loop.h"

namespace pprocd {
namespace {

using template_socket::kMaxControlMessage;
using template_socket::SendWithFds;

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

}  // namespace pprocd
