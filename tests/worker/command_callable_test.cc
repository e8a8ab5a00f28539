// Command callables run real programs: sh, cat, python3.
#include "worker/command_callable.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"
#include "tests/util/values.h"
#include "tests/util/wait_for.h"

namespace pprocd {
namespace {

using ::pprocd::testing::Null;
using ::pprocd::testing::Num;
using ::pprocd::testing::Str;
using ::pprocd::testing::TempDir;

using google::protobuf::Value;

// Binds `input` and runs the callable once, here.
absl::StatusOr<Value> Invoke(const CallableDef& def, const Value& input) {
  BoundArgs args;
  const absl::Status bound = BindArguments(def, input, &args);
  if (!bound.ok()) return bound;
  return def.body(args);
}

CommandSpec Spec(std::vector<std::string> argv) {
  CommandSpec spec;
  spec.name = "test_command";
  spec.argv = std::move(argv);
  return spec;
}

TEST(CommandCallableTest, PerInvocationGetsJsonOnStdinAndReturnsItsJsonStdout) {
  CommandSpec spec = Spec({"cat"});
  spec.params = {ParamSpec{"a", v1::PARAMETER_TYPE_NUMBER, std::nullopt, ""},
                 ParamSpec{"b", v1::PARAMETER_TYPE_STRING, Str("x"), ""}};
  absl::StatusOr<CallableDef> def = MakeCommandCallable(spec);
  ASSERT_OK(def);
  Value input;
  *input.mutable_list_value()->add_values() = Num(7);
  ASSERT_OK_AND_ASSIGN(Value result, Invoke(*def, input));
  // cat echoes the arguments object, the default filled in.
  const auto& fields = result.struct_value().fields();
  EXPECT_EQ(fields.at("a").number_value(), 7);
  EXPECT_EQ(fields.at("b").string_value(), "x");
}

TEST(CommandCallableTest, WithoutDeclaredParametersTheRawInputGoesIn) {
  ASSERT_OK_AND_ASSIGN(CallableDef def, MakeCommandCallable(Spec({"cat"})));
  ASSERT_OK_AND_ASSIGN(Value result, Invoke(def, Num(42)));
  EXPECT_EQ(result.number_value(), 42);
}

TEST(CommandCallableTest, ArgvPlaceholdersAndBytesOutput) {
  CommandSpec spec = Spec({"printf", "%s-%s", "{word}", "{count}"});
  spec.params = {ParamSpec{"word", v1::PARAMETER_TYPE_STRING, std::nullopt, ""},
                 ParamSpec{"count", v1::PARAMETER_TYPE_INTEGER, std::nullopt, ""}};
  spec.output = CommandSpec::Output::kBytes;
  ASSERT_OK_AND_ASSIGN(CallableDef def, MakeCommandCallable(spec));
  EXPECT_TRUE(def.bytes_result);
  Value input;
  *input.mutable_list_value()->add_values() = Str("hello");
  *input.mutable_list_value()->add_values() = Num(3);
  ASSERT_OK_AND_ASSIGN(Value result, Invoke(def, input));
  EXPECT_EQ(result.string_value(), "hello-3");
}

TEST(CommandCallableTest, AFailingProgramIsTheItemsErrorWithItsStatus) {
  absl::StatusOr<CallableDef> def =
      MakeCommandCallable(Spec({"sh", "-c", "echo oops >&2; exit 3"}));
  ASSERT_OK(def);
  absl::StatusOr<Value> result = Invoke(*def, Null());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("exited with status 3"), std::string::npos)
      << result.status();

  def = MakeCommandCallable(Spec({"sh", "-c", "kill -SEGV $$"}));
  result = Invoke(*def, Null());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("killed by SIGSEGV"), std::string::npos)
      << result.status();

  def = MakeCommandCallable(Spec({"sh", "-c", "echo not json"}));
  result = Invoke(*def, Null());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("not JSON"), std::string::npos) << result.status();

  // A program that never reads its (large) input: no SIGPIPE for the worker.
  def = MakeCommandCallable(Spec({"true"}));
  result = Invoke(*def, Str(std::string(4 << 20, 'x')));
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("printed no result"), std::string::npos)
      << result.status();

  def = MakeCommandCallable(Spec({"/nonexistent/program"}));
  result = Invoke(*def, Null());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("status 127"), std::string::npos) << result.status();
}

constexpr char kPersistentScript[] = R"(
import json, os, sys
for line in sys.stdin:
    request = json.loads(line)
    args = request["args"]
    if args == "die":
        sys.exit(4)
    if args == "answer_then_die":
        print(json.dumps({"id": request["id"], "result": os.getpid()}), flush=True)
        sys.exit(0)
    if args == "fail":
        print(json.dumps({"id": request["id"], "error": "asked to fail"}), flush=True)
        continue
    print(json.dumps({"id": request["id"], "result": [args, os.getpid()]}), flush=True)
)";

TEST(CommandCallableTest, PersistentServesManyItemsFromOneProcessAndRestartsWhenItDies) {
  CommandSpec spec = Spec({"python3", "-c", kPersistentScript});
  spec.mode = CommandSpec::Mode::kPersistent;
  absl::StatusOr<CallableDef> def = MakeCommandCallable(spec);
  ASSERT_OK(def);
  double pid = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_OK_AND_ASSIGN(Value result, Invoke(*def, Num(i)));
    EXPECT_EQ(result.list_value().values(0).number_value(), i);
    if (i == 0) pid = result.list_value().values(1).number_value();
    EXPECT_EQ(result.list_value().values(1).number_value(), pid) << "one process for all";
  }
  absl::StatusOr<Value> failed = Invoke(*def, Str("fail"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "asked to fail");

  absl::StatusOr<Value> died = Invoke(*def, Str("die"));
  ASSERT_FALSE(died.ok());
  EXPECT_NE(died.status().message().find("exited with status 4"), std::string::npos)
      << died.status();
  absl::StatusOr<Value> again = Invoke(*def, Num(9));
  ASSERT_OK(again);
  EXPECT_NE(again->list_value().values(1).number_value(), pid) << "a new process";

  // A process that ends between items costs the next item nothing.
  ASSERT_OK_AND_ASSIGN(Value bye, Invoke(*def, Str("answer_then_die")));
  // Wait until it has exited (a zombie: nobody has reaped it yet).
  const std::string stat =
      "/proc/" + std::to_string(static_cast<int>(bye.number_value())) + "/stat";
  testing::WaitFor(
      [&] {
        std::ifstream file(stat);
        std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
        const size_t paren = text.rfind(')');
        return paren != std::string::npos && text.compare(paren + 2, 1, "Z") == 0;
      },
      absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(Value after, Invoke(*def, Num(10)));
  EXPECT_EQ(after.list_value().values(0).number_value(), 10);
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

// Whether process `pid` is gone (or a zombie nobody reaped yet).
bool ProcessGone(pid_t pid) {
  const std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return stat.empty() || (paren != std::string::npos && stat.compare(paren + 2, 1, "Z") == 0);
}

TEST(CommandCallableTest, TheProgramGetsItsWorkingDirectoryEnvironmentAndPath) {
  TempDir dir("pprocd-command-callable");
  ASSERT_TRUE(dir.ok());
  // A program found through the PATH of the callable's environment.
  const std::string bin = dir.path() + "/bin";
  ASSERT_EQ(::mkdir(bin.c_str(), 0755), 0);
  {
    std::ofstream script(bin + "/where");
    script << "#!/bin/sh\nprintf '%s|%s|%s|%s' \"$(pwd)\" \"$GREETING\" \"$HOME_TOO\" \"$1\"\n";
  }
  ASSERT_EQ(::chmod((bin + "/where").c_str(), 0755), 0);
  CommandSpec spec = Spec({"where", "{word}"});
  spec.params = {ParamSpec{"word", v1::PARAMETER_TYPE_STRING, std::nullopt, ""}};
  spec.working_dir = dir.path();
  spec.env = {{"GREETING", "hello there"},
              {"PATH", bin + ":/usr/bin:/bin"},
              {"HOME_TOO", getenv("HOME") != nullptr ? getenv("HOME") : ""}};
  spec.output = CommandSpec::Output::kBytes;
  absl::StatusOr<CallableDef> def = MakeCommandCallable(spec);
  ASSERT_OK(def);
  absl::StatusOr<Value> result = Invoke(*def, Str("a b"));
  ASSERT_OK(result);
  char real[PATH_MAX];
  ASSERT_NE(::realpath(dir.path().c_str(), real), nullptr);
  EXPECT_EQ(result->string_value(), std::string(real) + "|hello there|" +
                                        (getenv("HOME") != nullptr ? getenv("HOME") : "") + "|a b");
  // The worker's own directory and environment are left as they were.
  EXPECT_EQ(getenv("GREETING"), nullptr);
  char cwd[PATH_MAX];
  ASSERT_NE(::getcwd(cwd, sizeof(cwd)), nullptr);
  EXPECT_NE(std::string(cwd), std::string(real));

  // A script without "#!" runs with /bin/sh, as execvp runs it.
  {
    std::ofstream script(bin + "/plain");
    script << "printf plain\n";
  }
  ASSERT_EQ(::chmod((bin + "/plain").c_str(), 0755), 0);
  spec.argv = {"plain"};
  spec.params.clear();
  def = MakeCommandCallable(spec);
  ASSERT_OK(def);
  result = Invoke(*def, Null());
  ASSERT_OK(result);
  EXPECT_EQ(result->string_value(), "plain");

  // A program not on that PATH, or a working directory that is not there.
  spec.argv = {"no-such-program-anywhere"};
  def = MakeCommandCallable(spec);
  result = Invoke(*def, Null());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("status 127"), std::string::npos) << result.status();
  spec.argv = {"true"};
  spec.working_dir = dir.path() + "/missing";
  def = MakeCommandCallable(spec);
  result = Invoke(*def, Null());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("status 127"), std::string::npos) << result.status();
}

// Runs `def` with `input` in a forked "worker" that is killed once the
// program has written its pid to `pid_file`; returns that pid (-1 when it
// never came).
pid_t KillTheWorkerWhileItRuns(const CallableDef& def, const Value& input,
                               const std::string& pid_file) {
  const pid_t worker = ::fork();
  if (worker == 0) {
    (void)Invoke(def, input);
    ::_exit(0);
  }
  pid_t program = -1;
  testing::WaitFor(
      [&] {
        std::istringstream text(ReadFile(pid_file));
        if (!(text >> program)) program = -1;
        return program >= 0;
      },
      absl::Seconds(20));
  ::kill(worker, SIGKILL);
  ::waitpid(worker, nullptr, 0);
  return program;
}

TEST(CommandCallableTest, ProgramsDieWithTheWorker) {
  TempDir dir("pprocd-command-callable");
  ASSERT_TRUE(dir.ok());
  const std::string pid_file = dir.path() + "/pid";
  for (const CommandSpec::Mode mode :
       {CommandSpec::Mode::kPerInvocation, CommandSpec::Mode::kPersistent}) {
    ::unlink(pid_file.c_str());
    CommandSpec spec = Spec({"sh", "-c",
                             "echo $$ > " + pid_file + ".tmp && mv " + pid_file + ".tmp " +
                                 pid_file + " && exec sleep 600"});
    spec.mode = mode;
    ASSERT_OK_AND_ASSIGN(CallableDef def, MakeCommandCallable(spec));
    const pid_t program = KillTheWorkerWhileItRuns(def, Num(1), pid_file);
    ASSERT_GT(program, 0) << "the program never started";
    const bool gone = testing::WaitFor([&] { return ProcessGone(program); }, absl::Seconds(20));
    EXPECT_TRUE(gone) << "program " << program << " outlived its worker";
    if (!gone) ::kill(program, SIGKILL);
  }
}

// A persistent program that takes the batch protocol when offered. Each
// result is [args, pid, how many requests came in its line]. "fail" is an
// error, "die" exits, "loud" writes to stderr and ends its batch there,
// "garble" answers the batch with nonsense.
constexpr char kBatchScript[] = R"(
import json, os, sys
if os.environ.get("PPROCD_BATCH") == "1":
    print(json.dumps({"batch": True}), flush=True)
def answer(request, size):
    args = request["args"]
    if args == "die":
        sys.exit(5)
    if args == "fail":
        return {"id": request["id"], "error": "asked to fail"}
    return {"id": request["id"], "result": [args, os.getpid(), size]}
for line in sys.stdin:
    request = json.loads(line)
    if "batch" not in request:
        print(json.dumps(answer(request, 1)), flush=True)
        continue
    batch = request["batch"]
    if any(r["args"] == "garble" for r in batch):
        print(json.dumps({"batch": [{"id": -1, "result": 0}]}), flush=True)
        continue
    answers = []
    for r in batch:
        answers.append(answer(r, len(batch)))
        if r["args"] == "loud":
            print("loud", file=sys.stderr, flush=True)
            break
    print(json.dumps({"batch": answers}), flush=True)
)";

struct Batch {
  std::vector<Value> inputs;
  std::vector<BoundArgs> args;
};

Batch MakeBatch(const CallableDef& def, std::vector<Value> inputs) {
  Batch batch;
  batch.inputs = std::move(inputs);
  for (const Value& input : batch.inputs) {
    batch.args.emplace_back();
    EXPECT_OK(BindArguments(def, input, &batch.args.back()));
  }
  return batch;
}

CommandSpec BatchSpec() {
  CommandSpec spec = Spec({"python3", "-c", kBatchScript});
  spec.mode = CommandSpec::Mode::kPersistent;
  return spec;
}

TEST(CommandCallableTest, PersistentBatchesAnswerEachItemInOrder) {
  ASSERT_OK_AND_ASSIGN(CallableDef def, MakeCommandCallable(BatchSpec()));
  ASSERT_TRUE(def.batch_body);
  // The first request of a new process goes alone: its offer is not
  // taken yet.
  Batch first = MakeBatch(def, {Num(0), Num(1)});
  std::vector<absl::StatusOr<Value>> outcomes = def.batch_body(first.args);
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_OK(outcomes[0]);
  const double pid = outcomes[0]->list_value().values(1).number_value();

  Batch batch = MakeBatch(def, {Num(1), Num(2), Str("fail"), Num(4)});
  outcomes = def.batch_body(batch.args);
  ASSERT_EQ(outcomes.size(), 4u);
  for (int i : {0, 1, 3}) {
    ASSERT_OK(outcomes[i]) << i;
    const auto& values = outcomes[i]->list_value().values();
    EXPECT_EQ(values[0].number_value(), batch.inputs[i].number_value());
    EXPECT_EQ(values[1].number_value(), pid) << "one process";
    EXPECT_EQ(values[2].number_value(), 4) << "the four came in one line";
  }
  ASSERT_FALSE(outcomes[2].ok());
  EXPECT_EQ(outcomes[2].status().message(), "asked to fail");

  // A program may answer only the first items of a batch.
  Batch loud = MakeBatch(def, {Num(1), Str("loud"), Num(3)});
  outcomes = def.batch_body(loud.args);
  ASSERT_EQ(outcomes.size(), 2u);
  EXPECT_EQ(outcomes[1]->list_value().values(0).string_value(), "loud");

  // A single item still uses the one-request line.
  ASSERT_OK_AND_ASSIGN(Value one, Invoke(def, Num(7)));
  EXPECT_EQ(one.list_value().values(2).number_value(), 1);
}

TEST(CommandCallableTest, APersistentProcessThatDiesMidBatchLosesTheBatch) {
  ASSERT_OK_AND_ASSIGN(CallableDef def, MakeCommandCallable(BatchSpec()));
  Batch warm = MakeBatch(def, {Num(0)});
  ASSERT_EQ(def.batch_body(warm.args).size(), 1u);
  Batch batch = MakeBatch(def, {Num(1), Str("die"), Num(3)});
  // Lost as a whole: which item killed it is unknown.
  EXPECT_TRUE(def.batch_body(batch.args).empty());
  // One at a time, the culprit fails with the reason and the others run.
  std::vector<absl::StatusOr<Value>> outcomes =
      def.batch_body(absl::MakeConstSpan(batch.args).subspan(0, 1));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_OK(outcomes[0]);
  outcomes = def.batch_body(absl::MakeConstSpan(batch.args).subspan(1, 1));
  ASSERT_EQ(outcomes.size(), 1u);
  ASSERT_FALSE(outcomes[0].ok());
  EXPECT_NE(outcomes[0].status().message().find("exited with status 5"), std::string::npos)
      << outcomes[0].status();
  outcomes = def.batch_body(absl::MakeConstSpan(batch.args).subspan(2));
  ASSERT_EQ(outcomes.size(), 1u);
  EXPECT_OK(outcomes[0]);

  // A nonsense answer fails the whole batch, and the process is replaced.
  Batch garbled = MakeBatch(def, {Num(1), Str("garble")});
  outcomes = def.batch_body(garbled.args);
  ASSERT_EQ(outcomes.size(), 2u);
  for (const auto& outcome : outcomes) {
    ASSERT_FALSE(outcome.ok());
    EXPECT_NE(outcome.status().message().find("restarted"), std::string::npos) << outcome.status();
  }
}

TEST(CommandCallableTest, APersistentProgramMayDeclineOrIgnoreTheBatchOffer) {
  // The one-request program of the test above knows nothing of batches.
  CommandSpec plain = Spec({"python3", "-c", kPersistentScript});
  plain.mode = CommandSpec::Mode::kPersistent;
  CommandSpec declined = BatchSpec();
  declined.env["PPROCD_BATCH"] = "0";
  for (const CommandSpec& spec : {plain, declined}) {
    ASSERT_OK_AND_ASSIGN(CallableDef def, MakeCommandCallable(spec));
    Batch batch = MakeBatch(def, {Num(1), Num(2), Num(3)});
    for (size_t first = 0; first < 3; ++first) {
      std::vector<absl::StatusOr<Value>> outcomes =
          def.batch_body(absl::MakeConstSpan(batch.args).subspan(first));
      ASSERT_EQ(outcomes.size(), 1u) << "one at a time";
      ASSERT_OK(outcomes[0]);
      EXPECT_EQ(outcomes[0]->list_value().values(0).number_value(), first + 1);
    }
  }
}

TEST(CommandCallableTest, BadSpecsAreRefusedNamingTheField) {
  EXPECT_NE(MakeCommandCallable(Spec({})).status().message().find("argv"), std::string::npos);
  CommandSpec nameless = Spec({"cat"});
  nameless.name.clear();
  EXPECT_NE(MakeCommandCallable(nameless).status().message().find("name"), std::string::npos);
  EXPECT_NE(MakeCommandCallable(Spec({"echo", "{nope}"})).status().message().find("{nope}"),
            std::string::npos);
}

}  // namespace
}  // namespace pprocd
