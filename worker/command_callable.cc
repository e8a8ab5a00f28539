#include "worker/command_callable.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "worker/base/status_macros.h"
#include "worker/base/unique_fd.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

// The stdin and stdout of a running command, and its pid.
struct Child {
  pid_t pid = -1;
  UniqueFd stdin_fd;
  UniqueFd stdout_fd;
};

// Forks and execs `argv` with stdin/stdout on pipes; stderr is the
// worker's, so it is captured as the item's. The child stays in the
// worker's process group (a kill of the worker kills it) and dies with the
// worker.
absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv, const CommandSpec& spec) {
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
  std::fflush(nullptr);
  const pid_t parent = ::getpid();
  child.pid = ::fork();
  if (child.pid < 0) return ErrnoStatus(errno, "fork");
  if (child.pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) std::_Exit(127);
    ::dup2(child_in.get(), STDIN_FILENO);
    ::dup2(child_out.get(), STDOUT_FILENO);
    if (!spec.working_dir.empty() && ::chdir(spec.working_dir.c_str()) != 0) {
      std::fprintf(stderr, "pprocd: cannot enter %s: %s\n", spec.working_dir.c_str(),
                   std::strerror(errno));
      std::_Exit(127);
    }
    for (const auto& [name, value] : spec.env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "pprocd: cannot run %s: %s\n", args[0], std::strerror(errno));
    std::_Exit(127);
  }
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
  if (!google::protobuf::util::MessageToJsonString(value, &json).ok()) return "null";
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
  Value value;
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InternalError(absl::StrCat(what, " printed no result (expected JSON on stdout)"));
  }
  const auto parsed = google::protobuf::util::JsonStringToMessage(text, &value);
  if (!parsed.ok()) {
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

// The long-lived process of a persistent command in this worker.
class PersistentCommand {
 public:
  explicit PersistentCommand(CommandSpec spec) : spec_(std::move(spec)) {}

  absl::StatusOr<Value> Call(const BoundArgs& args) {
    // A process that ended while idle is replaced before the item is sent:
    // the item never met it, so it must not fail for it.
    if (child_.pid > 0 && ::waitpid(child_.pid, nullptr, WNOHANG) == child_.pid) {
      child_ = Child();
      buffer_.clear();
    }
    if (child_.pid < 0) {
      PPROCD_ASSIGN_OR_RETURN(child_, Spawn(spec_.argv, spec_));
    }
    const uint64_t id = ++next_id_;
    Value request;
    auto& fields = *request.mutable_struct_value()->mutable_fields();
    fields["id"].set_number_value(static_cast<double>(id));
    fields["args"] = ArgumentsValue(spec_, args);
    const std::string line = ToJson(request) + "\n";
    if (!WriteLine(line)) return Died();
    std::string response;
    if (!ReadLine(&response)) return Died();
    PPROCD_ASSIGN_OR_RETURN(Value parsed,
                            ParseJsonResult(response, absl::StrCat("command ", spec_.argv[0])));
    const auto& answer = parsed.struct_value().fields();
    auto answer_id = answer.find("id");
    if (answer_id == answer.end() || answer_id->second.number_value() != static_cast<double>(id)) {
      Stop();
      return absl::InternalError(
          absl::StrCat("command ", spec_.argv[0], " answered with the wrong id; it was restarted"));
    }
    if (auto error = answer.find("error"); error != answer.end()) {
      return absl::UnknownError(error->second.has_string_value() ? error->second.string_value()
                                                                 : ToJson(error->second));
    }
    auto result = answer.find("result");
    return result == answer.end() ? Value() : result->second;
  }

 private:
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

  bool ReadLine(std::string* line) {
    while (true) {
      const size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        *line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return true;
      }
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
};

}  // namespace

absl::StatusOr<CallableDef> MakeCommandCallable(CommandSpec spec) {
  if (spec.name.empty()) return absl::InvalidArgumentError("name: a callable needs a name");
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
  }
  return def;
}

}  // namespace pprocd
