#include "worker/command_callable.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "base/json/json.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

// The stdin and stdout of a running command, and its pid.
struct Child {
  pid_t pid = -1;
  UniqueFd stdin_fd;
  UniqueFd stdout_fd;
};

// Everything the child of Spawn() needs, prepared before it starts: the
// child shares the worker's memory until it execs (a vfork-style clone), so
// it must not allocate, take locks or run the worker's signal handlers.
struct SpawnPlan {
  // Where the program may be, in PATH order (one entry when argv[0] has
  // a '/').
  std::vector<std::string> candidates;
  // argv, and the argv of /bin/sh running a candidate that is a script
  // without "#!" (element 1 is set in the child), null-terminated.
  std::vector<char*> argv;
  std::vector<char*> shell_argv;
  // The worker's environment with `spec.env` over it, null-terminated.
  std::vector<std::string> added_env;
  std::vector<char*> envp;
  const char* working_dir = nullptr;
  int stdin_fd = -1;
  int stdout_fd = -1;
  pid_t parent = -1;
  // The signal mask the program starts with (the worker's).
  sigset_t mask;
  // Set by the child when it fails before the program runs.
  enum class Failure { kNone, kChdir, kExec };
  Failure failure = Failure::kNone;
  int failure_errno = 0;
};

// The value of environment variable `name` in `envp`, or nullptr.
const char* FindEnv(const std::vector<char*>& envp, absl::string_view name) {
  for (const char* entry : envp) {
    if (entry == nullptr) break;
    const absl::string_view text(entry);
    if (text.size() > name.size() && text[name.size()] == '=' &&
        text.substr(0, name.size()) == name) {
      return entry + name.size() + 1;
    }
  }
  return nullptr;
}

// Fills `plan` to run `argv` (which must outlive it) as `spec` says.
void PlanSpawn(std::vector<std::string>& argv, const CommandSpec& spec, SpawnPlan* plan) {
  for (std::string& arg : argv) plan->argv.push_back(arg.data());
  plan->argv.push_back(nullptr);
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const absl::string_view text(*entry);
    const absl::string_view name = text.substr(0, text.find('='));
    if (spec.env.find(std::string(name)) == spec.env.end()) plan->envp.push_back(*entry);
  }
  plan->added_env.reserve(spec.env.size());
  for (const auto& [name, value] : spec.env) {
    plan->added_env.push_back(absl::StrCat(name, "=", value));
    plan->envp.push_back(plan->added_env.back().data());
  }
  plan->envp.push_back(nullptr);
  // execvp's search: PATH of the program's environment, glibc's default
  // without one; an empty element is the working directory.
  const std::string& program = argv[0];
  if (program.find('/') != std::string::npos) {
    plan->candidates.push_back(program);
  } else {
    const char* path = FindEnv(plan->envp, "PATH");
    for (absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/bin:/usr/bin", ':')) {
      plan->candidates.push_back(absl::StrCat(
          dir.empty() ? "." : dir, dir.empty() || dir.back() != '/' ? "/" : "", program));
    }
  }
  plan->shell_argv.push_back(const_cast<char*>("/bin/sh"));
  plan->shell_argv.push_back(nullptr);
  for (size_t i = 1; i < argv.size(); ++i) plan->shell_argv.push_back(argv[i].data());
  plan->shell_argv.push_back(nullptr);
  if (!spec.working_dir.empty()) plan->working_dir = spec.working_dir.c_str();
  plan->parent = ::getpid();
}

// The child of Spawn() runs on the worker's memory (CLONE_VM) until exec:
// AddressSanitizer's bookkeeping of its stack frames would land in the
// worker's shadow memory, so the child's code is not instrumented.
#if defined(__SANITIZE_ADDRESS__)
#define PPROCD_SPAWN_CHILD_CODE __attribute__((no_sanitize("address")))
#else
#define PPROCD_SPAWN_CHILD_CODE
#endif

// Makes `fd` the descriptor `target`, inheritable by the program.
PPROCD_SPAWN_CHILD_CODE bool MoveFd(int fd, int target) {
  if (fd == target) return ::fcntl(fd, F_SETFD, 0) == 0;
  return ::dup2(fd, target) == target;
}

// The child of Spawn(), until exec: async-signal-safe system calls only.
PPROCD_SPAWN_CHILD_CODE int SpawnChild(void* arg) {
  SpawnPlan& plan = *static_cast<SpawnPlan*>(arg);
  // Signals are blocked; a handler of the worker must never run here, on
  // the worker's memory, once they are not.
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    struct sigaction action;
    if (::sigaction(signal_number, nullptr, &action) != 0) continue;
    if (action.sa_handler == SIG_DFL || action.sa_handler == SIG_IGN) continue;
    action.sa_handler = SIG_DFL;
    action.sa_flags = 0;
    ::sigemptyset(&action.sa_mask);
    ::sigaction(signal_number, &action, nullptr);
  }
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != plan.parent) ::_exit(127);
  if (!MoveFd(plan.stdin_fd, STDIN_FILENO) || !MoveFd(plan.stdout_fd, STDOUT_FILENO)) {
    ::_exit(127);
  }
  if (plan.working_dir != nullptr && ::chdir(plan.working_dir) != 0) {
    plan.failure_errno = errno;
    plan.failure = SpawnPlan::Failure::kChdir;
    ::_exit(127);
  }
  ::sigprocmask(SIG_SETMASK, &plan.mask, nullptr);
  int error = ENOENT;
  bool denied = false;
  for (std::string& candidate : plan.candidates) {
    ::execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
    error = errno;
    if (error == ENOEXEC) {
      plan.shell_argv[1] = candidate.data();
      ::execve("/bin/sh", plan.shell_argv.data(), plan.envp.data());
      error = errno;
      break;
    }
    // As execvp: try the next directory only when the program is not in
    // this one (or may not be run from it).
    if (error == EACCES) {
      denied = true;
    } else if (error != ENOENT && error != ENOTDIR && error != ESTALE && error != ENODEV &&
               error != ETIMEDOUT) {
      break;
    }
  }
  plan.failure_errno = denied && error == ENOENT ? EACCES : error;
  plan.failure = SpawnPlan::Failure::kExec;
  ::_exit(127);
}

// Starts `argv` with stdin/stdout on pipes; stderr is the worker's, so it
// is captured as the item's. The child stays in the worker's process group
// (a kill of the worker kills it) and dies with the worker
// (PR_SET_PDEATHSIG). It is a vfork-style clone, not a fork: it shares the
// worker's memory until exec, so starting it costs the same however large
// the worker is. A program that cannot be started still yields a child,
// which exits with status 127 after the reason went to stderr.
absl::StatusOr<Child> Spawn(std::vector<std::string> argv, const CommandSpec& spec) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrnoStatus(errno, "pipe");
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return ErrnoStatus(errno, "pipe");
  }
  Child child;
  child.stdin_fd.Reset(in[1]);
  child.stdout_fd.Reset(out[0]);
  UniqueFd child_in(in[0]);
  UniqueFd child_out(out[1]);
  SpawnPlan plan;
  PlanSpawn(argv, spec, &plan);
  plan.stdin_fd = child_in.get();
  plan.stdout_fd = child_out.get();
  std::fflush(nullptr);
  // The child runs on this stack while the worker waits for its exec.
  alignas(64) char stack[64 << 10];
  sigset_t all;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &plan.mask);
  child.pid = ::clone(SpawnChild, stack + sizeof(stack), CLONE_VM | CLONE_VFORK | SIGCHLD, &plan);
  const int clone_errno = errno;
#if defined(__SANITIZE_ADDRESS__)
  // Whatever the child's frames left in the shadow of `stack` is stale.
  __asan_unpoison_memory_region(stack, sizeof(stack));
#endif
  ::pthread_sigmask(SIG_SETMASK, &plan.mask, nullptr);
  if (child.pid < 0) return ErrnoStatus(clone_errno, "clone");
  if (plan.failure == SpawnPlan::Failure::kChdir) {
    std::fprintf(stderr, "pprocd: cannot enter %s: %s\n", plan.working_dir,
                 std::strerror(plan.failure_errno));
  } else if (plan.failure == SpawnPlan::Failure::kExec) {
    std::fprintf(stderr, "pprocd: cannot run %s: %s\n", argv[0].c_str(),
                 std::strerror(plan.failure_errno));
  }
  std::fflush(stderr);
  return child;
}

// write(2) to a pipe whose reader may be gone: EPIPE instead of SIGPIPE
// (workers keep SIGPIPE's default action, which would kill them).
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_only;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  sigset_t old_mask;
  pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
  const ssize_t n = ::write(fd, data, size);
  const int saved_errno = errno;
  // The kernel also sends SIGPIPE after a partial write when the reader
  // goes away midway: take it in both cases.
  if (n < 0 ? errno == EPIPE : static_cast<size_t>(n) < size) {
    const timespec no_wait{0, 0};
    while (sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  errno = saved_errno;
  return n;
}

// Writes `input` to the child's stdin (then closes it) while reading its
// stdout to the end, so that neither side blocks the other.
absl::Status Exchange(Child& child, const std::string& input, std::string* output) {
  size_t written = 0;
  if (input.empty()) child.stdin_fd.Reset();
  char buffer[1 << 16];
  while (child.stdout_fd.valid()) {
    pollfd fds[2] = {{child.stdout_fd.get(), POLLIN, 0},
                     {child.stdin_fd.valid() ? child.stdin_fd.get() : -1, POLLOUT, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "poll");
    }
    if (fds[1].revents != 0) {
      const ssize_t n =
          WriteNoSigpipe(child.stdin_fd.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      // EPIPE (the program does not read its input) is not an error.
      if ((n < 0 && errno != EINTR && errno != EAGAIN) || written == input.size()) {
        child.stdin_fd.Reset();
      }
    }
    if (fds[0].revents != 0) {
      const ssize_t n = ::read(child.stdout_fd.get(), buffer, sizeof(buffer));
      if (n > 0) {
        output->append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        child.stdout_fd.Reset();
      }
    }
  }
  child.stdin_fd.Reset();
  return absl::OkStatus();
}

// "exited with status N" / "was killed by SIGNAME", or "" for success.
std::string WaitStatusText(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return absl::StrCat("could not be waited for: ", std::strerror(errno));
  }
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status) == 0 ? "" : absl::StrCat("exited with status ", WEXITSTATUS(status));
  }
  const int signal_number = WTERMSIG(status);
  const char* abbrev = sigabbrev_np(signal_number);
  return abbrev != nullptr ? absl::StrCat("was killed by SIG", abbrev)
                           : absl::StrCat("was killed by signal ", signal_number);
}

// The error of a command that failed: ResourceExhausted when it was
// killed for using up its CPU time limit (SIGXCPU).
absl::Status ExitError(const std::string& what, const std::string& exit_text) {
  const std::string message = absl::StrCat(what, " ", exit_text);
  if (exit_text == "was killed by SIGXCPU") {
    return absl::ResourceExhaustedError(absl::StrCat(message, ": it used up its CPU time limit"));
  }
  return absl::InternalError(message);
}

std::string ToJson(const Value& value) {
  std::string json;
  AppendJson(value, &json);
  return json;
}

// The arguments as the program gets them: the raw input when no parameter
// is declared, else an object naming each parameter.
Value ArgumentsValue(const CommandSpec& spec, const BoundArgs& args) {
  if (spec.params.empty()) return args.empty() ? Value() : *args[0];
  Value object;
  auto& fields = *object.mutable_struct_value()->mutable_fields();
  for (size_t i = 0; i < spec.params.size() && i < args.size(); ++i) {
    fields[spec.params[i].name] = *args[i];
  }
  return object;
}

// ArgumentsValue(spec, args) as JSON, appended to `out`.
void AppendArgumentsJson(const CommandSpec& spec, const BoundArgs& args, std::string* out) {
  if (spec.params.empty()) {
    if (args.empty()) {
      out->append("null");
    } else {
      AppendJson(*args[0], out);
    }
    return;
  }
  out->push_back('{');
  for (size_t i = 0; i < spec.params.size() && i < args.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(spec.params[i].name, out);
    out->push_back(':');
    AppendJson(*args[i], out);
  }
  out->push_back('}');
}

// argv with every "{name}" element replaced by that argument (a string as
// is, anything else as JSON).
std::vector<std::string> SubstituteArgv(const CommandSpec& spec, const BoundArgs& args) {
  std::vector<std::string> argv = spec.argv;
  for (std::string& arg : argv) {
    if (arg.size() < 3 || arg.front() != '{' || arg.back() != '}') continue;
    const std::string name = arg.substr(1, arg.size() - 2);
    for (size_t i = 0; i < spec.params.size() && i < args.size(); ++i) {
      if (spec.params[i].name != name) continue;
      arg = args[i]->has_string_value() ? args[i]->string_value() : ToJson(*args[i]);
    }
  }
  return argv;
}

bool UsesArgvPlaceholders(const CommandSpec& spec) {
  for (const std::string& arg : spec.argv) {
    if (arg.size() >= 3 && arg.front() == '{' && arg.back() == '}') return true;
  }
  return false;
}

absl::StatusOr<Value> ParseJsonResult(const std::string& text, absl::string_view what) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InternalError(absl::StrCat(what, " printed no result (expected JSON on stdout)"));
  }
  absl::StatusOr<Value> value = ParseJson(text);
  if (!value.ok()) {
    return absl::InternalError(
        absl::StrCat(what, " printed something that is not JSON: ", text.substr(0, 200)));
  }
  return value;
}

absl::StatusOr<Value> RunPerInvocation(const CommandSpec& spec, const BoundArgs& args) {
  const std::string input =
      UsesArgvPlaceholders(spec) ? std::string() : ToJson(ArgumentsValue(spec, args)) + "\n";
  PPROCD_ASSIGN_OR_RETURN(Child child, Spawn(SubstituteArgv(spec, args), spec));
  std::string output;
  const absl::Status exchanged = Exchange(child, input, &output);
  const std::string exit_text = WaitStatusText(child.pid);
  if (!exchanged.ok()) return exchanged;
  const std::string what = absl::StrCat("command ", spec.argv[0]);
  if (!exit_text.empty()) return ExitError(what, exit_text);
  if (spec.output == CommandSpec::Output::kBytes) {
    Value bytes;
    bytes.set_string_value(std::move(output));
    return bytes;
  }
  return ParseJsonResult(output, what);
}

// The environment variable that offers a persistent command the batch
// protocol, and the line with which it takes the offer.
constexpr char kBatchOfferName[] = "PPROCD_BATCH";
constexpr char kBatchOfferValue[] = "1";

// Whether `line` is the announcement {"batch": true}.
bool IsBatchAnnouncement(const std::string& line) {
  if (line.find("\"batch\"") == std::string::npos) return false;
  const absl::StatusOr<Value> value = ParseJson(line);
  if (!value.ok()) return false;
  const auto& fields = value->struct_value().fields();
  const auto batch = fields.find("batch");
  return fields.size() == 1 && batch != fields.end() && batch->second.bool_value();
}

// The long-lived process of a persistent command in this worker.
class PersistentCommand {
 public:
  explicit PersistentCommand(CommandSpec spec) : spec_(OfferBatches(std::move(spec))) {}

  absl::StatusOr<Value> Call(const BoundArgs& args) {
    PPROCD_RETURN_IF_ERROR(EnsureRunning());
    return CallOne(args);
  }

  // The outcomes of the first items of `batch`: all of them at once when
  // the process took the batch protocol (fewer if it stopped early), else
  // the first alone. None when the process died during a batch.
  std::vector<absl::StatusOr<Value>> CallBatch(absl::Span<const BoundArgs> batch) {
    std::vector<absl::StatusOr<Value>> outcomes;
    if (batch.empty()) return outcomes;
    if (absl::Status running = EnsureRunning(); !running.ok()) {
      outcomes.push_back(std::move(running));
    } else if (batch.size() == 1 || !batching_) {
      outcomes.push_back(CallOne(batch[0]));
    } else {
      CallMany(batch, &outcomes);
    }
    return outcomes;
  }

 private:
  static CommandSpec OfferBatches(CommandSpec spec) {
    // A value set in the config wins: PPROCD_BATCH = "0" declines for it.
    spec.env.emplace(kBatchOfferName, kBatchOfferValue);
    return spec;
  }

  absl::Status EnsureRunning() {
    // A process that ended while idle is replaced before the item is sent:
    // the item never met it, so it must not fail for it.
    if (child_.pid > 0 && ::waitpid(child_.pid, nullptr, WNOHANG) == child_.pid) {
      child_ = Child();
      buffer_.clear();
    }
    if (child_.pid < 0) {
      PPROCD_ASSIGN_OR_RETURN(child_, Spawn(spec_.argv, spec_));
      batching_ = false;
      first_line_ = true;
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Value> CallOne(const BoundArgs& args) {
    const uint64_t id = ++next_id_;
    std::string line = absl::StrCat("{\"id\":", id, ",\"args\":");
    AppendArgumentsJson(spec_, args, &line);
    line.append("}\n");
    if (!WriteLine(line)) return Died();
    std::string response;
    if (!ReadResponse(&response)) return Died();
    PPROCD_ASSIGN_OR_RETURN(Value parsed, ParseJsonResult(response, What()));
    const auto& answer = parsed.struct_value().fields();
    auto answer_id = answer.find("id");
    if (answer_id == answer.end() || answer_id->second.number_value() != static_cast<double>(id)) {
      Stop();
      return absl::InternalError(
          absl::StrCat(What(), " answered with the wrong id; it was restarted"));
    }
    return Outcome(answer);
  }

  // One request line {"batch": [{"id": N, "args": A}, ...]}, answered by
  // one line {"batch": [{"id": N, "result": R}, ...]}: the first k >= 1
  // requests, in order.
  void CallMany(absl::Span<const BoundArgs> batch, std::vector<absl::StatusOr<Value>>* outcomes) {
    const uint64_t first_id = next_id_ + 1;
    next_id_ += batch.size();
    std::string line = "{\"batch\":[";
    for (size_t i = 0; i < batch.size(); ++i) {
      absl::StrAppend(&line, i > 0 ? ",{\"id\":" : "{\"id\":", first_id + i, ",\"args\":");
      AppendArgumentsJson(spec_, batch[i], &line);
      line.push_back('}');
    }
    line.append("]}\n");
    std::string response;
    if (!WriteLine(line) || !ReadResponse(&response)) {
      const absl::Status died = Died();
      // What it wrote before it died goes with the first of the items,
      // which run again one at a time to find the one that kills it.
      std::fprintf(stderr,
                   "pprocd: %s (during a batch of %zu items: they run again one at a time)\n",
                   std::string(died.message()).c_str(), batch.size());
      std::fflush(stderr);
      return;
    }
    absl::StatusOr<Value> parsed = ParseJsonResult(response, What());
    const google::protobuf::ListValue* answers = nullptr;
    if (parsed.ok()) {
      const auto& fields = parsed->struct_value().fields();
      if (auto found = fields.find("batch");
          found != fields.end() && found->second.has_list_value()) {
        answers = &found->second.list_value();
      }
    }
    bool valid = answers != nullptr && answers->values_size() >= 1 &&
                 static_cast<size_t>(answers->values_size()) <= batch.size();
    for (int i = 0; valid && i < answers->values_size(); ++i) {
      const auto& answer = answers->values(i).struct_value().fields();
      auto answer_id = answer.find("id");
      valid = answer_id != answer.end() &&
              answer_id->second.number_value() == static_cast<double>(first_id + i);
    }
    if (!valid) {
      Stop();
      const absl::Status bad =
          parsed.ok() ? absl::InternalError(absl::StrCat(
                            What(), " answered a batch of ", batch.size(),
                            " requests with something else than the first of their answers, in "
                            "order, with their ids: ",
                            response.substr(0, 200), "; it was restarted"))
                      : parsed.status();
      outcomes->assign(batch.size(), bad);
      return;
    }
    outcomes->reserve(static_cast<size_t>(answers->values_size()));
    for (const Value& answer : answers->values()) {
      outcomes->push_back(Outcome(answer.struct_value().fields()));
    }
  }

  static absl::StatusOr<Value> Outcome(const google::protobuf::Map<std::string, Value>& answer) {
    if (auto error = answer.find("error"); error != answer.end()) {
      return absl::UnknownError(error->second.has_string_value() ? error->second.string_value()
                                                                 : ToJson(error->second));
    }
    auto result = answer.find("result");
    return result == answer.end() ? Value() : result->second;
  }

  std::string What() const { return absl::StrCat("command ", spec_.argv[0]); }

  bool WriteLine(const std::string& line) {
    size_t written = 0;
    while (written < line.size()) {
      const ssize_t n =
          WriteNoSigpipe(child_.stdin_fd.get(), line.data() + written, line.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      written += static_cast<size_t>(n);
    }
    return true;
  }

  // The next response line; the announcement a new process may write
  // before its first response is taken note of, not returned.
  bool ReadResponse(std::string* line) {
    if (!ReadLine(line)) return false;
    if (!first_line_) return true;
    first_line_ = false;
    if (!IsBatchAnnouncement(*line)) return true;
    batching_ = true;
    return ReadLine(line);
  }

  bool ReadLine(std::string* line) {
    size_t scanned = 0;
    while (true) {
      const size_t newline = buffer_.find('\n', scanned);
      if (newline != std::string::npos) {
        line->assign(buffer_, 0, newline);
        buffer_.erase(0, newline + 1);
        return true;
      }
      scanned = buffer_.size();
      char chunk[1 << 16];
      const ssize_t n = ::read(child_.stdout_fd.get(), chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // The process went away mid-call: reap it and start anew next time.
  absl::Status Died() {
    child_.stdin_fd.Reset();
    child_.stdout_fd.Reset();
    const std::string exit_text = WaitStatusText(child_.pid);
    child_ = Child();
    buffer_.clear();
    const absl::Status died = ExitError(absl::StrCat("persistent command ", spec_.argv[0]),
                                        exit_text.empty() ? std::string("exited") : exit_text);
    return absl::Status(died.code(),
                        absl::StrCat(died.message(), "; it is restarted for the next item"));
  }

  void Stop() {
    if (child_.pid > 0) ::kill(child_.pid, SIGKILL);
    (void)Died();
  }

  const CommandSpec spec_;
  Child child_;
  std::string buffer_;
  uint64_t next_id_ = 0;
  // The process announced the batch protocol.
  bool batching_ = false;
  // Nothing was read from the process yet.
  bool first_line_ = true;
};

// A registered Python function: its calls run in its Python pool, which the
// scheduler starts; no worker of the template ever calls this body.
CallableDef MakePythonCallable(CommandSpec spec) {
  CallableDef def;
  def.name = spec.name;
  def.description = spec.description;
  def.kind = spec.python->channel ? v1::CALLABLE_KIND_CHANNEL : v1::CALLABLE_KIND_FUNCTION;
  def.params = spec.params;
  if (def.params.empty()) {
    ParamSpec input;
    input.name = "arguments";
    input.type = v1::PARAMETER_TYPE_ANY;
    input.description = "bound to the function's parameters by the service rule";
    def.params.push_back(std::move(input));
  }
  def.origin =
      absl::StrCat("python: ", spec.python->DisplayName(), " (", spec.python->module_file, ")");
  const std::string name = def.name;
  auto elsewhere = [name](const BoundArgs&) -> absl::StatusOr<Value> {
    return absl::InternalError(absl::StrCat(name, " runs in its Python pool, not here"));
  };
  def.body = elsewhere;
  def.channel_body = [elsewhere](const BoundArgs& args, Channel&) { return elsewhere(args); };
  def.python = std::move(spec.python);
  return def;
}

}  // namespace

absl::StatusOr<CallableDef> MakeCommandCallable(CommandSpec spec) {
  if (spec.name.empty()) return absl::InvalidArgumentError("name: a callable needs a name");
  if (spec.python != nullptr) return MakePythonCallable(std::move(spec));
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("argv: callable ", spec.name, " needs a program to run"));
  }
  for (const std::string& arg : spec.argv) {
    if (arg.size() < 3 || arg.front() != '{' || arg.back() != '}') continue;
    const std::string name = arg.substr(1, arg.size() - 2);
    bool declared = false;
    for (const ParamSpec& param : spec.params) declared = declared || param.name == name;
    if (!declared) {
      return absl::InvalidArgumentError(
          absl::StrCat("argv: ", arg, " names no declared parameter of ", spec.name));
    }
    if (spec.mode == CommandSpec::Mode::kPersistent) {
      return absl::InvalidArgumentError(
          absl::StrCat("argv: ", arg, ": a persistent command gets its arguments on stdin"));
    }
  }
  CallableDef def;
  def.name = spec.name;
  def.description = spec.description;
  def.kind = v1::CALLABLE_KIND_FUNCTION;
  def.params = spec.params;
  if (def.params.empty()) {
    // The raw input value, whatever it is.
    ParamSpec input;
    input.name = "input";
    input.type = v1::PARAMETER_TYPE_ANY;
    input.default_value = Value();
    input.default_value->set_null_value({});
    input.description = "passed to the program as it is";
    def.params.push_back(std::move(input));
  }
  def.origin = absl::StrCat("command: ", spec.argv[0]);
  def.bytes_result = spec.output == CommandSpec::Output::kBytes;
  if (spec.mode == CommandSpec::Mode::kPerInvocation) {
    def.body = [spec = std::move(spec)](const BoundArgs& args) {
      return RunPerInvocation(spec, args);
    };
  } else {
    // One process per worker: the template never calls it, so each worker
    // starts its own on first use.
    auto command = std::make_shared<PersistentCommand>(std::move(spec));
    def.body = [command](const BoundArgs& args) { return command->Call(args); };
    def.batch_body = [command](absl::Span<const BoundArgs> batch) {
      return command->CallBatch(batch);
    };
  }
  return def;
}

}  // namespace pprocd
