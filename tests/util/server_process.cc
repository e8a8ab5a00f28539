#include "tests/util/server_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/json/json.h"
#include "tests/util/wait_for.h"

#ifndef PPROCD_BINARY
#error "PPROCD_BINARY must name the pprocd executable"
#endif

namespace pprocd::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Parent pid of `pid` from /proc, or -1.
pid_t ParentOf(pid_t pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(close + 2), ' ');
  int parent = -1;
  if (fields.size() < 2 || !absl::SimpleAtoi(fields[1], &parent)) return -1;
  return parent;
}

// The wait status of child `pid` once it has exited, without reaping it:
// its pid, and so its process group id, stay taken. Nothing while it runs
// (or, with `block`, waits for it to exit).
std::optional<int> PeekExit(pid_t pid, bool block) {
  siginfo_t info{};
  const int options = WEXITED | WNOWAIT | (block ? 0 : WNOHANG);
  int waited;
  do {
    waited = waitid(P_PID, static_cast<id_t>(pid), &info, options);
  } while (waited != 0 && errno == EINTR);
  if (waited != 0 || info.si_pid != pid) return std::nullopt;
  switch (info.si_code) {
    case CLD_EXITED:
      return (info.si_status & 0xff) << 8;
    case CLD_KILLED:
      return info.si_status;
    case CLD_DUMPED:
      return info.si_status | 0x80;
    default:
      return std::nullopt;
  }
}

// Kills the process group of child `pid` (the child leads it), then reaps
// the child.
void KillGroupAndReap(pid_t pid) {
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);  // In case it never made its group.
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

}  // namespace

void DieWithTheTest(pid_t test_pid) {
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The test died before the line above: no signal will come.
  if (getppid() != test_pid) _exit(127);
}

std::string MakeTempDir() {
  std::string pattern = "/tmp/pprocd-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  return pattern;
}

void RemoveTree(const std::string& path) {
  if (path.empty() || path == "/") return;
  DIR* dir = opendir(path.c_str());
  if (dir != nullptr) {
    while (dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = path + "/" + name;
      if (entry->d_type == DT_DIR) {
        RemoveTree(child);
      } else {
        unlink(child.c_str());
      }
    }
    closedir(dir);
  }
  rmdir(path.c_str());
}

bool ProcessAlive(pid_t pid) {
  const std::string stat = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (stat.empty()) return false;
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

bool WaitAllGone(const std::vector<pid_t>& pids, absl::Duration timeout) {
  return WaitFor(
      [&] {
        bool any = false;
        for (pid_t pid : pids) any = any || ProcessAlive(pid);
        return !any;
      },
      timeout);
}

int CountFds(pid_t pid) {
  DIR* dir = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return -1;
  int count = 0;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count - 2;
}

std::unique_ptr<ServerProcess> ServerProcess::Start(const Options& options, std::string* error) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  server->dir_ = MakeTempDir();
  server->socket_path_ =
      options.socket_path.empty() ? server->dir_ + "/run/pprocd.sock" : options.socket_path;
  std::vector<std::string> args;
  if (options.activation_socket >= 0) {
    // The shell's pid is the server's after exec.
    args = {"/bin/sh", "-c", "LISTEN_PID=$$ LISTEN_FDS=1 exec \"$0\" \"$@\""};
  }
  if (!options.env.empty() || !options.working_dir.empty()) {
    // env(1) execs the server: its pid stays the server's.
    args.push_back("/usr/bin/env");
    if (!options.working_dir.empty()) {
      args.push_back("-C");
      args.push_back(options.working_dir);
    }
    args.insert(args.end(), options.env.begin(), options.env.end());
  }
  args.push_back(PPROCD_BINARY);
  if (!options.no_default_listen) {
    args.push_back("--listen");
    args.push_back("unix:" + server->socket_path_);
  }
  if (!options.no_state_dir) {
    server->state_dir_ = options.state_dir.empty() ? server->dir_ + "/var" : options.state_dir;
    args.push_back("--state-dir");
    args.push_back(server->state_dir_);
  }
  args.push_back("--workers");
  args.push_back(std::to_string(options.workers));
  for (const std::string& arg : options.extra_args) args.push_back(arg);

  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe failed";
    return nullptr;
  }
  const std::string stderr_path = server->dir_ + "/stderr.log";
  // Built before the fork: the child of a threaded process must not allocate.
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t test_pid = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    DieWithTheTest(test_pid);
    dup2(out[1], STDOUT_FILENO);
    const int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) dup2(err, STDERR_FILENO);
    if (options.activation_socket >= 0) {
      dup2(options.activation_socket, 3);
      fcntl(3, F_SETFD, 0);  // Also when it already was descriptor 3.
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  if (pid < 0) {
    close(out[0]);
    *error = "fork failed";
    return nullptr;
  }
  setpgid(pid, pid);  // Also done by the child; whichever runs first wins.
  server->pid_ = pid;
  // Read stdout until the ready line (or the process dies).
  std::string pending;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  bool ready = false;
  while (!ready && absl::Now() < deadline) {
    pollfd fd{out[0], POLLIN, 0};
    if (poll(&fd, 1, 100) <= 0) continue;
    char buffer[1024];
    const ssize_t n = read(out[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    size_t newline;
    while ((newline = pending.find('\n')) != std::string::npos) {
      server->ready_lines_.push_back(pending.substr(0, newline));
      if (pending.find("pprocd ready on") < newline) ready = true;
      pending.erase(0, newline + 1);
    }
  }
  // Keep reading stdout in the background so the server never blocks on it.
  std::thread([fd = out[0]] {
    char buffer[1024];
    while (read(fd, buffer, sizeof(buffer)) > 0) {
    }
    close(fd);
  }).detach();
  if (!ready) {
    *error = absl::StrCat("pprocd did not become ready; stderr:\n", server->Stderr());
    return nullptr;
  }
  return server;
}

ServerProcess::~ServerProcess() {
  // The server, and its template and anything else left in its group.
  if (pid_ > 0) KillGroupAndReap(pid_);
  RemoveTree(dir_);
}

std::string ServerProcess::Stderr() const { return ReadFile(dir_ + "/stderr.log"); }

std::shared_ptr<grpc::Channel> ServerProcess::NewChannel() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel("unix:" + socket_path_, grpc::InsecureChannelCredentials(),
                                   args);
}

std::unique_ptr<v1::ProcessFarmService::Stub> ServerProcess::NewStub() const {
  return v1::ProcessFarmService::NewStub(NewChannel());
}

void ServerProcess::Signal(int signal_number) const { kill(pid_, signal_number); }

int ServerProcess::WaitExit(absl::Duration timeout) {
  WaitFor(
      [&] {
        if (!exit_status_.has_value()) exit_status_ = PeekExit(pid_, /*block=*/false);
        return exit_status_.has_value();
      },
      timeout);
  return exit_status_.value_or(-1);
}

std::vector<pid_t> ServerProcess::Descendants() const {
  std::vector<pid_t> all;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return all;
  std::vector<std::pair<pid_t, pid_t>> parents;
  while (dirent* entry = readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    parents.emplace_back(pid, ParentOf(pid));
  }
  closedir(proc);
  std::vector<pid_t> frontier = {pid_};
  while (!frontier.empty()) {
    const pid_t parent = frontier.back();
    frontier.pop_back();
    for (const auto& [pid, ppid] : parents) {
      if (ppid == parent && ProcessAlive(pid)) {
        all.push_back(pid);
        frontier.push_back(pid);
      }
    }
  }
  return all;
}

CommandRun RunCommand(const std::string& command) {
  CommandRun run;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return run;
  const pid_t test_pid = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    DieWithTheTest(test_pid);
    // In a group of its own the command must not read the terminal (it
    // would be stopped): it gets its input only from within `command`.
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (null_fd > STDIN_FILENO) close(null_fd);
    dup2(out[1], STDOUT_FILENO);
    dup2(out[1], STDERR_FILENO);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  if (pid < 0) {
    close(out[0]);
    return run;
  }
  setpgid(pid, pid);
  char buffer[4096];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof(buffer))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) run.output.append(buffer, static_cast<size_t>(n));
  }
  close(out[0]);
  const std::optional<int> status = PeekExit(pid, /*block=*/true);
  KillGroupAndReap(pid);
  run.exit_code = status.has_value() && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  return run;
}

std::string PprocBinary() { return PPROC_BINARY; }

std::vector<pid_t> ServerProcess::Children() const {
  std::vector<pid_t> children;
  for (pid_t pid : Descendants()) {
    if (ParentOf(pid) == pid_) children.push_back(pid);
  }
  return children;
}

ItemsOutcome RunItems(v1::ProcessFarmService::Stub* stub, bool ordered, const std::string& callable,
                      const std::vector<google::protobuf::Value>& inputs,
                      const v1::CallOptions& options, size_t batch) {
  ItemsOutcome outcome;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto run = [&](auto stream, auto request_type, auto response_type) {
    using Request = decltype(request_type);
    using Response = decltype(response_type);
    std::thread writer([&] {
      size_t next = 0;
      bool first = true;
      while (first || next < inputs.size()) {
        Request request;
        if (first) {
          request.set_callable(callable);
          *request.mutable_options() = options;
        }
        if (options.packed()) {
          std::string* packed = request.mutable_packed_inputs();
          packed->push_back('[');
          for (size_t i = 0; i < batch && next < inputs.size(); ++i) {
            if (i > 0) packed->push_back(',');
            AppendJson(inputs[next++], packed);
          }
          packed->push_back(']');
        } else {
          for (size_t i = 0; i < batch && next < inputs.size(); ++i) {
            *request.add_inputs() = inputs[next++];
          }
        }
        first = false;
        if (!stream->Write(request)) break;
      }
      stream->WritesDone();
    });
    Response response;
    while (stream->Read(&response)) {
      ++outcome.responses;
      std::vector<v1::ItemResult> merged(response.results().begin(), response.results().end());
      for (const v1::ResultBlock& block : response.blocks()) {
        outcome.blocks.push_back(block);
        absl::StatusOr<google::protobuf::Value> values = ParseJson(block.values());
        if (!values.ok() ||
            static_cast<uint32_t>(values->list_value().values_size()) != block.count()) {
          // Shows up as a wrong result in the test's checks.
          v1::ItemResult& wrong = merged.emplace_back();
          wrong.set_index(block.first_index());
          wrong.mutable_error()->set_message("a malformed block: " + block.ShortDebugString());
          continue;
        }
        for (uint32_t k = 0; k < block.count(); ++k) {
          v1::ItemResult& result = merged.emplace_back();
          result.set_index(block.first_index() + k);
          result.set_last(true);
          *result.mutable_value() = values->list_value().values(static_cast<int>(k));
          if (block.item_stats_size() == static_cast<int>(block.count())) {
            *result.mutable_stats() = block.item_stats(static_cast<int>(k));
          }
        }
      }
      // Within one response, results and blocks merge by index.
      if (response.blocks_size() > 0) {
        std::stable_sort(
            merged.begin(), merged.end(),
            [](const v1::ItemResult& a, const v1::ItemResult& b) { return a.index() < b.index(); });
      }
      for (auto& result : merged) outcome.results.push_back(std::move(result));
    }
    writer.join();
    outcome.status = stream->Finish();
  };
  if (ordered) {
    run(stub->Map(&context), v1::MapRequest(), v1::MapResponse());
  } else {
    run(stub->Queue(&context), v1::QueueRequest(), v1::QueueResponse());
  }
  return outcome;
}

}  // namespace pprocd::testing
