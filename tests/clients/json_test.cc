#include "pprocd/client/json.h"

#include <cmath>
#include <limits>

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tests/util/status_matchers.h"
#include "tests/util/values.h"

namespace pprocd::client {
namespace {

using ::pprocd::testing::Num;

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;

TEST(ParseJsonValueTest, ParsesEveryJsonType) {
  EXPECT_EQ(ParseJsonValue("5").value().number_value(), 5);
  EXPECT_EQ(ParseJsonValue("-2.5").value().number_value(), -2.5);
  EXPECT_EQ(ParseJsonValue("\"crash\"").value().string_value(), "crash");
  EXPECT_TRUE(ParseJsonValue("true").value().bool_value());
  EXPECT_EQ(ParseJsonValue("null").value().kind_case(), Value::kNullValue);
  EXPECT_EQ(ParseJsonValue("[1,\"a\"]").value().list_value().values_size(), 2);
  EXPECT_EQ(ParseJsonValue(" {\"n\": 3} ").value().struct_value().fields().at("n").number_value(),
            3);
}

TEST(ParseJsonValueTest, RejectsWhatIsNotOneJsonValue) {
  for (const char* bad : {"", "crash", "[1,2", "5 6", "{\"a\"}", "1..3"}) {
    absl::StatusOr<Value> value = ParseJsonValue(bad);
    EXPECT_FALSE(value.ok()) << "accepted '" << bad << "'";
    if (!value.ok()) {
      EXPECT_THAT(value, StatusIs(absl::StatusCode::kInvalidArgument));
      // One line, without protobuf's echo of the input and caret.
      EXPECT_EQ(value.status().message().find('\n'), absl::string_view::npos);
    }
  }
}

TEST(FormatJsonNumberTest, IntegralNumbersPrintAsIntegers) {
  EXPECT_EQ(FormatJsonNumber(832040), "832040");
  EXPECT_EQ(FormatJsonNumber(0), "0");
  EXPECT_EQ(FormatJsonNumber(-3), "-3");
  // protobuf's MessageToJsonString prints these two as 1e+15 and
  // 1.2345678901234568e+17.
  EXPECT_EQ(FormatJsonNumber(1e15), "1000000000000000");
  EXPECT_EQ(FormatJsonNumber(123456789012345678.0), "123456789012345680");
  EXPECT_EQ(FormatJsonNumber(9007199254740993.0), "9007199254740992");
  EXPECT_EQ(FormatJsonNumber(-9223372036854775808.0), "-9223372036854775808");
}

TEST(FormatJsonNumberTest, OtherNumbersRoundTripShortest) {
  EXPECT_EQ(FormatJsonNumber(0.1), "0.1");
  EXPECT_EQ(FormatJsonNumber(-2.5), "-2.5");
  EXPECT_EQ(FormatJsonNumber(1e300), "1e+300");
  EXPECT_EQ(FormatJsonNumber(9223372036854775808.0), "9223372036854775808");
  EXPECT_EQ(FormatJsonNumber(1.5e-7), "1.5e-07");
  EXPECT_EQ(FormatJsonNumber(std::nan("")), "\"NaN\"");
  EXPECT_EQ(FormatJsonNumber(std::numeric_limits<double>::infinity()), "\"Infinity\"");
  EXPECT_EQ(FormatJsonNumber(-std::numeric_limits<double>::infinity()), "\"-Infinity\"");
}

TEST(ValueToJsonTest, PrintsCompactJsonWithSortedKeys) {
  Value value = ParseJsonValue(R"({"b": [1, 2.5, "x", null, true], "a": {"z": 1e15}})").value();
  EXPECT_EQ(ValueToJson(value), R"({"a":{"z":1000000000000000},"b":[1,2.5,"x",null,true]})");
}

TEST(ValueToJsonTest, UnsetValueIsNull) {
  EXPECT_EQ(ValueToJson(Value()), "null");
  Value list;
  list.mutable_list_value()->add_values();
  EXPECT_EQ(ValueToJson(list), "[null]");
}

TEST(ValueToJsonTest, OutputParsesBackToTheSameValue) {
  for (const char* json : {R"("tab\t quote\" backslash\\ newline\n \u0001 é ☃")",
                           R"([[],{},[{"k":[-0.5,1e-7,123456789]}]])", "832040", "-1e+300"}) {
    Value value = ParseJsonValue(json).value();
    Value reparsed = ParseJsonValue(ValueToJson(value)).value();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(value, reparsed))
        << json << " printed as " << ValueToJson(value);
  }
}

TEST(AppendJsonStringTest, EscapesControlsAndReplacesInvalidUtf8) {
  std::string out;
  AppendJsonString("a\"\\\n\x01\x7f é \xff\xc3", &out);
  EXPECT_EQ(out, "\"a\\\"\\\\\\n\\u0001\\u007f é \xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(FormatJsonNumberTest, ValueOfNumber) { EXPECT_EQ(ValueToJson(Num(832040)), "832040"); }

}  // namespace
}  // namespace pprocd::client
