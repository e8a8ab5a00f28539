// Command callables run real programs: sh, cat, python3.
#include "worker/command_callable.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

namespace pprocd {
namespace {

using google::protobuf::Value;

Value Str(const std::string& text) {
  Value value;
  value.set_string_value(text);
  return value;
}

Value Null() {
  Value value;
  value.set_null_value({});
  return value;
}

Value Num(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

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
  ASSERT_TRUE(def.ok()) << def.status();
  Value input;
  *input.mutable_list_value()->add_values() = Num(7);
  absl::StatusOr<Value> result = Invoke(*def, input);
  ASSERT_TRUE(result.ok()) << result.status();
  // cat echoes the arguments object, the default filled in.
  const auto& fields = result->struct_value().fields();
  EXPECT_EQ(fields.at("a").number_value(), 7);
  EXPECT_EQ(fields.at("b").string_value(), "x");
}

TEST(CommandCallableTest, WithoutDeclaredParametersTheRawInputGoesIn) {
  absl::StatusOr<CallableDef> def = MakeCommandCallable(Spec({"cat"}));
  ASSERT_TRUE(def.ok());
  absl::StatusOr<Value> result = Invoke(*def, Num(42));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->number_value(), 42);
}

TEST(CommandCallableTest, ArgvPlaceholdersAndBytesOutput) {
  CommandSpec spec = Spec({"printf", "%s-%s", "{word}", "{count}"});
  spec.params = {ParamSpec{"word", v1::PARAMETER_TYPE_STRING, std::nullopt, ""},
                 ParamSpec{"count", v1::PARAMETER_TYPE_INTEGER, std::nullopt, ""}};
  spec.output = CommandSpec::Output::kBytes;
  absl::StatusOr<CallableDef> def = MakeCommandCallable(spec);
  ASSERT_TRUE(def.ok()) << def.status();
  EXPECT_TRUE(def->bytes_result);
  Value input;
  *input.mutable_list_value()->add_values() = Str("hello");
  *input.mutable_list_value()->add_values() = Num(3);
  absl::StatusOr<Value> result = Invoke(*def, input);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->string_value(), "hello-3");
}

TEST(CommandCallableTest, AFailingProgramIsTheItemsErrorWithItsStatus) {
  absl::StatusOr<CallableDef> def =
      MakeCommandCallable(Spec({"sh", "-c", "echo oops >&2; exit 3"}));
  ASSERT_TRUE(def.ok());
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
  ASSERT_TRUE(def.ok()) << def.status();
  double pid = 0;
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Value> result = Invoke(*def, Num(i));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_EQ(result->list_value().values(0).number_value(), i);
    if (i == 0) pid = result->list_value().values(1).number_value();
    EXPECT_EQ(result->list_value().values(1).number_value(), pid) << "one process for all";
  }
  absl::StatusOr<Value> failed = Invoke(*def, Str("fail"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "asked to fail");

  absl::StatusOr<Value> died = Invoke(*def, Str("die"));
  ASSERT_FALSE(died.ok());
  EXPECT_NE(died.status().message().find("exited with status 4"), std::string::npos)
      << died.status();
  absl::StatusOr<Value> again = Invoke(*def, Num(9));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_NE(again->list_value().values(1).number_value(), pid) << "a new process";

  // A process that ends between items costs the next item nothing.
  absl::StatusOr<Value> bye = Invoke(*def, Str("answer_then_die"));
  ASSERT_TRUE(bye.ok()) << bye.status();
  // Wait until it has exited (a zombie: nobody has reaped it yet).
  const std::string stat =
      "/proc/" + std::to_string(static_cast<int>(bye->number_value())) + "/stat";
  for (int i = 0; i < 500; ++i) {
    std::ifstream file(stat);
    std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');
    if (paren != std::string::npos && text.compare(paren + 2, 1, "Z") == 0) break;
    usleep(10 * 1000);
  }
  absl::StatusOr<Value> after = Invoke(*def, Num(10));
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->list_value().values(0).number_value(), 10);
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
