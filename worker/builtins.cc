#include "worker/builtins.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

ParamSpec Required(std::string name, v1::ParameterType type, std::string description) {
  return ParamSpec{std::move(name), type, std::nullopt, std::move(description)};
}

ParamSpec Optional(std::string name, v1::ParameterType type, double fallback,
                   std::string description) {
  return ParamSpec{std::move(name), type, NumberValue(fallback), std::move(description)};
}

// calculate's and calculate_tagged's: (i, j, n=10, delay_ms=0).
std::vector<ParamSpec> CalculateParams() {
  return {Required("i", v1::PARAMETER_TYPE_INTEGER, "row"),
          Required("j", v1::PARAMETER_TYPE_INTEGER, "column"),
          Optional("n", v1::PARAMETER_TYPE_INTEGER, 10, "row width"),
          Optional("delay_ms", v1::PARAMETER_TYPE_INTEGER, 0, "sleep before answering")};
}

double Fib(int64_t n) { return n <= 1 ? 1 : Fib(n - 1) + Fib(n - 2); }

int64_t Ackermann(int64_t m, int64_t n) {
  if (m == 0) return n + 1;
  if (n == 0) return Ackermann(m - 1, 1);
  return Ackermann(m - 1, Ackermann(m, n - 1));
}

void SleepMs(int64_t ms) {
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

// Allocates `mib` MiB and writes every page so it is really resident.
absl::Status Hog(int64_t mib) {
  if (mib < 0) return absl::InvalidArgumentError("hog: mib must be >= 0");
  const size_t bytes = static_cast<size_t>(mib) << 20;
  char* block = static_cast<char*>(std::malloc(bytes > 0 ? bytes : 1));
  if (block == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("hog: cannot allocate ", mib, " MiB"));
  }
  const long page = sysconf(_SC_PAGESIZE);
  for (size_t offset = 0; offset < bytes; offset += static_cast<size_t>(page)) {
    block[offset] = static_cast<char>(offset);
  }
  // Keep the writes observable so they are not optimised away.
  volatile char sink = bytes > 0 ? block[bytes - 1] : 0;
  (void)sink;
  std::free(block);
  return absl::OkStatus();
}

int64_t NumberAfter(absl::string_view action, absl::string_view prefix) {
  int64_t number = 0;
  if (!absl::SimpleAtoi(action.substr(prefix.size()), &number)) return -1;
  return number;
}

absl::StatusOr<Value> Chaos(const BoundArgs& args) {
  const std::string& action = args[0]->string_value();
  if (action == "ok") return StringValue("ok");
  if (action == "raise") return absl::UnknownError("chaos: raised on request");
  if (action == "crash") {
    std::fprintf(stderr, "chaos: crashing with SIGSEGV on request\n");
    std::fflush(stderr);
    ::raise(SIGSEGV);
  }
  if (action == "abort") {
    std::fprintf(stderr, "chaos: aborting on request\n");
    std::fflush(stderr);
    std::abort();
  }
  if (absl::StartsWith(action, "exit:")) {
    const int64_t code = NumberAfter(action, "exit:");
    if (code < 0 || code > 255) {
      return absl::InvalidArgumentError("chaos: exit:N needs 0 <= N <= 255");
    }
    std::fprintf(stderr, "chaos: exiting with status %d on request\n", static_cast<int>(code));
    std::fflush(stderr);
    std::_Exit(static_cast<int>(code));
  }
  if (absl::StartsWith(action, "sleep:")) {
    const int64_t ms = NumberAfter(action, "sleep:");
    if (ms < 0) return absl::InvalidArgumentError("chaos: sleep:MS needs MS >= 0");
    SleepMs(ms);
    return StringValue("ok");
  }
  if (absl::StartsWith(action, "hog:")) {
    const int64_t mib = NumberAfter(action, "hog:");
    if (mib < 0) return absl::InvalidArgumentError("chaos: hog:MIB needs MIB >= 0");
    PPROCD_RETURN_IF_ERROR(Hog(mib));
    return StringValue("ok");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "chaos: unknown action '", action, "' (ok, raise, crash, abort, exit:N, sleep:MS, hog:MIB)"));
}

Value ListOf(std::initializer_list<double> numbers) {
  Value list;
  for (double number : numbers) *list.mutable_list_value()->add_values() = NumberValue(number);
  return list;
}

// Writes `text` to the stream `count` times, one write(2) each, and returns
// the number of bytes written.
absl::StatusOr<Value> WriteOutput(const BoundArgs& args) {
  const std::string& text = args[0]->string_value();
  const std::string& stream = args[1]->string_value();
  const int64_t count = IntegerArg(*args[2]);
  int fd;
  if (stream == "stdout") {
    fd = STDOUT_FILENO;
  } else if (stream == "stderr") {
    fd = STDERR_FILENO;
  } else {
    return absl::InvalidArgumentError("write_output: stream must be stdout or stderr");
  }
  if (count < 0) return absl::InvalidArgumentError("write_output: count must be >= 0");
  std::fflush(nullptr);
  for (int64_t i = 0; i < count; ++i) {
    if (::write(fd, text.data(), text.size()) < 0) {
      return absl::InternalError(absl::StrCat("write_output: ", std::strerror(errno)));
    }
  }
  return NumberValue(static_cast<double>(count) * static_cast<double>(text.size()));
}

// The channel callables.

absl::StatusOr<Value> CalculateRow(const BoundArgs& args, Channel& channel) {
  const int64_t i = IntegerArg(*args[0]);
  const int64_t n = IntegerArg(*args[1]);
  const int64_t delay_ms = IntegerArg(*args[2]);
  if (n < 0 || n > 1000000) return absl::InvalidArgumentError("calculate_row: needs 0 <= n <= 1e6");
  for (int64_t j = 0; j < n; ++j) {
    SleepMs(delay_ms);
    PPROCD_RETURN_IF_ERROR(channel.Send(
        ListOf({static_cast<double>(i), static_cast<double>(j), static_cast<double>(i * n + j)})));
  }
  return Value();
}

absl::StatusOr<Value> Rows(const BoundArgs& args, Channel& channel) {
  const int64_t count = IntegerArg(*args[0]);
  const int64_t delay_ms = IntegerArg(*args[1]);
  if (count < 0) return absl::InvalidArgumentError("rows: count must be >= 0");
  for (int64_t k = 0; k < count; ++k) {
    SleepMs(delay_ms);
    PPROCD_RETURN_IF_ERROR(channel.Send(NumberValue(static_cast<double>(k))));
  }
  return Value();
}

absl::StatusOr<Value> Countdown(const BoundArgs&, Channel& channel) {
  while (true) {
    PPROCD_ASSIGN_OR_RETURN(std::optional<Value> received, channel.Receive());
    if (!received.has_value()) return Value();
    if (received->kind_case() != Value::kNumberValue) {
      return absl::InvalidArgumentError("countdown: received a value that is not a number");
    }
    const double next = received->number_value() - 1;
    PPROCD_RETURN_IF_ERROR(channel.Send(NumberValue(next)));
    if (next <= 0) return Value();
  }
}

absl::StatusOr<Value> Accumulate(const BoundArgs&, Channel& channel) {
  double sum = 0;
  while (true) {
    PPROCD_ASSIGN_OR_RETURN(std::optional<Value> received, channel.Receive());
    if (!received.has_value()) return NumberValue(sum);
    if (received->kind_case() != Value::kNumberValue) {
      return absl::InvalidArgumentError("accumulate: received a value that is not a number");
    }
    sum += received->number_value();
  }
}

CallableDef ChannelCallable(std::string name, std::string description,
                            std::vector<ParamSpec> params, ChannelBody body) {
  CallableDef def;
  def.name = std::move(name);
  def.description = std::move(description);
  def.kind = v1::CALLABLE_KIND_CHANNEL;
  def.params = std::move(params);
  def.channel_body = std::move(body);
  return def;
}

// `def`, declared never to write to stdout or stderr (its body does not):
// its worker then looks for output only where it sends results
// (CallableDef::writes_output).
CallableDef Quiet(CallableDef def) {
  def.writes_output = false;
  return def;
}

std::vector<CallableDef> Builtins() {
  using v1::PARAMETER_TYPE_ANY;
  using v1::PARAMETER_TYPE_INTEGER;
  using v1::PARAMETER_TYPE_NUMBER;
  using v1::PARAMETER_TYPE_STRING;
  std::vector<CallableDef> defs;
  defs.push_back(Quiet({"echo",
                        "Returns its argument unchanged.",
                        v1::CALLABLE_KIND_FUNCTION,
                        {Required("value", PARAMETER_TYPE_ANY, "any value")},
                        [](const BoundArgs& args) -> absl::StatusOr<Value> { return *args[0]; }}));
  defs.push_back(Quiet({"square",
                        "Returns x*x.",
                        v1::CALLABLE_KIND_FUNCTION,
                        {Required("x", PARAMETER_TYPE_NUMBER, "a number")},
                        [](const BoundArgs& args) -> absl::StatusOr<Value> {
                          const double x = args[0]->number_value();
                          return NumberValue(x * x);
                        }}));
  defs.push_back(Quiet({"fib",
                        "Fibonacci by naive recursion (1 for n <= 1, else fib(n-1) + fib(n-2)): "
                        "a CPU benchmark.",
                        v1::CALLABLE_KIND_FUNCTION,
                        {Required("n", PARAMETER_TYPE_INTEGER, "index, at most 90")},
                        [](const BoundArgs& args) -> absl::StatusOr<Value> {
                          const int64_t n = IntegerArg(*args[0]);
                          if (n > 90) return absl::InvalidArgumentError("fib: n must be <= 90");
                          return NumberValue(Fib(n));
                        }}));
  defs.push_back(Quiet({"ackermann",
                        "The Ackermann function A(m, n), by recursion.",
                        v1::CALLABLE_KIND_FUNCTION,
                        {Required("m", PARAMETER_TYPE_INTEGER, "0 <= m <= 3"),
                         Required("n", PARAMETER_TYPE_INTEGER, "0 <= n <= 12")},
                        [](const BoundArgs& args) -> absl::StatusOr<Value> {
                          const int64_t m = IntegerArg(*args[0]);
                          const int64_t n = IntegerArg(*args[1]);
                          if (m < 0 || m > 3 || n < 0 || n > 12) {
                            return absl::InvalidArgumentError(
                                "ackermann: needs 0 <= m <= 3 and 0 <= n <= 12");
                          }
                          return NumberValue(static_cast<double>(Ackermann(m, n)));
                        }}));
  defs.push_back(Quiet({"sleep_ms",
                        "Sleeps for ms milliseconds, then returns ms.",
                        v1::CALLABLE_KIND_FUNCTION,
                        {Required("ms", PARAMETER_TYPE_INTEGER, "milliseconds")},
                        [](const BoundArgs& args) -> absl::StatusOr<Value> {
                          SleepMs(IntegerArg(*args[0]));
                          return *args[0];
                        }}));
  defs.push_back(Quiet(
      {"calculate", "Returns i*n + j after sleeping delay_ms (the pprocess tutorial's function).",
       v1::CALLABLE_KIND_FUNCTION, CalculateParams(),
       [](const BoundArgs& args) -> absl::StatusOr<Value> {
         SleepMs(IntegerArg(*args[3]));
         return NumberValue(static_cast<double>(IntegerArg(*args[0]) * IntegerArg(*args[2]) +
                                                IntegerArg(*args[1])));
       }}));
  defs.push_back(Quiet({"calculate_tagged",
                        "Returns [i, j, i*n + j] after sleeping delay_ms (the tutorial's tagged "
                        "result, for Queue).",
                        v1::CALLABLE_KIND_FUNCTION, CalculateParams(),
                        [](const BoundArgs& args) -> absl::StatusOr<Value> {
                          SleepMs(IntegerArg(*args[3]));
                          const int64_t i = IntegerArg(*args[0]);
                          const int64_t j = IntegerArg(*args[1]);
                          return ListOf({static_cast<double>(i), static_cast<double>(j),
                                         static_cast<double>(i * IntegerArg(*args[2]) + j)});
                        }}));
  defs.push_back(ChannelCallable(
      "calculate_row",
      "Channel: sends [i, j, i*n + j] for j = 0..n-1, sleeping delay_ms before each (the "
      "tutorial's continuous function).",
      {Required("i", PARAMETER_TYPE_INTEGER, "row"),
       Optional("n", PARAMETER_TYPE_INTEGER, 10, "row width"),
       Optional("delay_ms", PARAMETER_TYPE_INTEGER, 0, "sleep before each value")},
      CalculateRow));
  defs.push_back(
      ChannelCallable("rows", "Channel: sends 0..count-1, sleeping delay_ms before each.",
                      {Required("count", PARAMETER_TYPE_INTEGER, "how many values"),
                       Optional("delay_ms", PARAMETER_TYPE_INTEGER, 0, "sleep before each value")},
                      Rows));
  defs.push_back(ChannelCallable(
      "countdown",
      "Channel: for each number k received, sends k-1; returns after sending 0 or at the end "
      "of input (pprocess's two-way test).",
      {}, Countdown));
  defs.push_back(ChannelCallable(
      "accumulate", "Channel: sums the numbers it receives; returns the sum at the end of input.",
      {}, Accumulate));
  defs.push_back(
      {"write_output",
       "Writes text count times to stdout or stderr, then returns the bytes written.",
       v1::CALLABLE_KIND_FUNCTION,
       {Required("text", PARAMETER_TYPE_STRING, "what to write"),
        ParamSpec{"stream", PARAMETER_TYPE_STRING, StringValue("stdout"), "stdout or stderr"},
        Optional("count", PARAMETER_TYPE_INTEGER, 1, "how many times")},
       WriteOutput});
  defs.push_back(Quiet({"hog",
                        "Allocates and touches mib MiB of memory, frees it, returns mib.",
                        v1::CALLABLE_KIND_FUNCTION,
                        {Required("mib", PARAMETER_TYPE_INTEGER, "MiB to allocate")},
                        [](const BoundArgs& args) -> absl::StatusOr<Value> {
                          PPROCD_RETURN_IF_ERROR(Hog(IntegerArg(*args[0])));
                          return *args[0];
                        }}));
  defs.push_back(
      Quiet({"call_count",
             "How many times this worker process has run call_count, this call included: "
             "always 1 in a FRESH process, counting up in a reused one.",
             v1::CALLABLE_KIND_FUNCTION,
             {},
             [](const BoundArgs&) -> absl::StatusOr<Value> {
               static int64_t calls = 0;
               return NumberValue(static_cast<double>(++calls));
             }}));
  defs.push_back({"chaos",
                  "Misbehaves on request, for tests: ok, raise, crash (SIGSEGV), abort, "
                  "exit:N, sleep:MS, hog:MIB.",
                  v1::CALLABLE_KIND_FUNCTION,
                  {Required("action", PARAMETER_TYPE_STRING, "what to do")},
                  Chaos});
  return defs;
}

}  // namespace

absl::Status RegisterBuiltins(Registry* registry) {
  for (CallableDef& def : Builtins()) {
    PPROCD_RETURN_IF_ERROR(registry->Add(std::move(def)));
  }
  return absl::OkStatus();
}

}  // namespace pprocd
