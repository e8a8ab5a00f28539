#include "worker/registry.h"

#include <gtest/gtest.h>

#include "tests/util/status_matchers.h"
#include "tests/util/values.h"
#include "worker/builtins.h"

namespace pprocd {
namespace {

using ::pprocd::testing::Num;

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;

Value ListOf(std::initializer_list<Value> values) {
  Value value;
  for (const Value& item : values) *value.mutable_list_value()->add_values() = item;
  return value;
}

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(RegisterBuiltins(&registry_)); }
  absl::StatusOr<Value> Call(const std::string& name, const Value& input) {
    const CallableDef* def = registry_.Find(name);
    if (def == nullptr) return absl::NotFoundError(name);
    BoundArgs args;
    absl::Status bound = BindArguments(*def, input, &args);
    if (!bound.ok()) return bound;
    return def->body(args);
  }
  Registry registry_;
};

TEST_F(RegistryTest, PureBuiltinsSayTheyNeverWriteAndTheOthersMay) {
  for (const char* quiet : {"echo", "square", "fib", "ackermann", "sleep_ms", "calculate",
                            "calculate_tagged", "call_count", "hog"}) {
    const CallableDef* def = registry_.Find(quiet);
    ASSERT_NE(def, nullptr) << quiet;
    EXPECT_FALSE(def->writes_output) << quiet;
  }
  // chaos prints before it crashes or exits: each of its items is checked.
  const CallableDef* chaos = registry_.Find("chaos");
  ASSERT_NE(chaos, nullptr);
  EXPECT_TRUE(chaos->writes_output);
}

TEST_F(RegistryTest, DuplicateNamesAreRefused) {
  CallableDef echo;
  echo.name = "echo";
  echo.body = [](const BoundArgs&) -> absl::StatusOr<Value> { return Value(); };
  EXPECT_THAT(registry_.Add(echo), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(RegistryTest, BuiltinsComputeWhatTheyPromise) {
  EXPECT_EQ(Call("fib", Num(0))->number_value(), 1);
  EXPECT_EQ(Call("fib", Num(1))->number_value(), 1);
  EXPECT_EQ(Call("fib", Num(20))->number_value(), 10946);
  EXPECT_EQ(Call("square", Num(1.5))->number_value(), 2.25);
  EXPECT_EQ(Call("ackermann", ListOf({Num(2), Num(3)}))->number_value(), 9);
  EXPECT_EQ(Call("ackermann", ListOf({Num(3), Num(3)}))->number_value(), 61);
  EXPECT_EQ(Call("calculate", ListOf({Num(4), Num(2)}))->number_value(), 42);
  EXPECT_EQ(Call("calculate", ListOf({Num(4), Num(2), Num(100)}))->number_value(), 402);
  EXPECT_THAT(Call("chaos", NumberValue(0)), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Call("chaos", StringValue("raise")).status().message(), "chaos: raised on request");
  EXPECT_EQ(Call("chaos", StringValue("ok"))->string_value(), "ok");
  EXPECT_THAT(Call("chaos", StringValue("dance")), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(Call("hog", Num(4))->number_value(), 4);
}

TEST_F(RegistryTest, BindingNamesTheParameterAtFault) {
  const absl::Status wrong = Call("ackermann", ListOf({Num(1), StringValue("x")})).status();
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kInvalidArgument,
                              "parameter 'n' of ackermann must be an integer, got string"));
  Value unknown;
  (*unknown.mutable_struct_value()->mutable_fields())["q"] = Num(1);
  EXPECT_EQ(Call("calculate", unknown).status().message(), "calculate has no parameter 'q'");
  EXPECT_EQ(Call("calculate", Num(1)).status().message(), "parameter 'j' of calculate is required");
}

TEST_F(RegistryTest, SingleParameterCallablesTakeListsWhole) {
  const Value list = ListOf({Num(1), Num(2)});
  absl::StatusOr<Value> echoed = Call("echo", list);
  ASSERT_OK(echoed);
  EXPECT_EQ(echoed->list_value().values_size(), 2);
}

TEST_F(RegistryTest, DescribeListsParametersAndDefaults) {
  const v1::Callable described = Describe(*registry_.Find("calculate"));
  EXPECT_EQ(described.kind(), v1::CALLABLE_KIND_FUNCTION);
  ASSERT_EQ(described.parameters_size(), 4);
  EXPECT_EQ(described.parameters(3).name(), "delay_ms");
  EXPECT_EQ(described.parameters(3).default_value().number_value(), 0);
  EXPECT_FALSE(described.parameters(3).required());
}

}  // namespace
}  // namespace pprocd
