// The command JSON codec, checked against protobuf's JSON parser.
#include "worker/value_json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

Value ProtobufParse(const std::string& json) {
  Value value;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &value);
  EXPECT_TRUE(status.ok()) << json << ": " << status.ToString();
  return value;
}

std::string Print(const Value& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

TEST(ValueJsonTest, ParsesAsProtobufDoes) {
  for (const std::string json : {
           R"(null)",
           R"(true)",
           R"( false )",
           R"(0)",
           R"(-0.5e-3)",
           R"(123456789012345678)",
           R"(1.7976931348623157e308)",
           R"("")",
           R"("tab\tquote\" backslash\\ slash\/ \b\f\n\r")",
           R"("\u00e9\u4e2d\ud83d\ude00 é中😀")",
           R"([])",
           R"({})",
           R"([1, [2, [3, {"a": []}]], "x", null, true])",
           R"({"id": 7, "args": {"i": 3, "j": [1.5, -2]}, "nested": {"k": {"l": null}}})",
       }) {
    absl::StatusOr<Value> ours = ParseJson(json);
    ASSERT_TRUE(ours.ok()) << json << ": " << ours.status();
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*ours, ProtobufParse(json)))
        << json << "\nours: " << ours->DebugString();
  }
}

TEST(ValueJsonTest, RefusesWhatIsNotJson) {
  for (const std::string json : {"",
                                 " ",
                                 "nul",
                                 "tru",
                                 "01",
                                 "1.",
                                 ".5",
                                 "-",
                                 "1e",
                                 "+1",
                                 "[1,]",
                                 "[1 2]",
                                 "{\"a\"}",
                                 "{\"a\":1,}",
                                 "{a:1}",
                                 "\"open",
                                 "\"bad \\x escape\"",
                                 "\"\\u12\"",
                                 "1 2",
                                 "[1]]",
                                 "\"raw \n newline\"",
                                 "\"\xff\"",
                                 "\"\xc0\xaf\"",
                                 "NaN",
                                 "Infinity"}) {
    EXPECT_FALSE(ParseJson(json).ok()) << "accepted: " << json;
  }
  std::string deep(101, '[');
  deep += std::string(101, ']');
  EXPECT_FALSE(ParseJson(deep).ok());
  std::string fine(100, '[');
  fine += std::string(100, ']');
  EXPECT_TRUE(ParseJson(fine).ok());
}

TEST(ValueJsonTest, ALoneSurrogateBecomesTheReplacementCharacter) {
  absl::StatusOr<Value> value = ParseJson(R"("a\udc80b\ud800")");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->string_value(),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
}

TEST(ValueJsonTest, PrintsNumbersAsProtobufDoes) {
  for (const double number :
       {0.0, -0.0, 7.0, -42.0, 0.1, 1.5, 1e15, 123456789012345.0, 123456789012345678.0, 1e-7,
        3.141592653589793, std::numeric_limits<double>::max(),
        std::numeric_limits<double>::denorm_min()}) {
    Value value;
    value.set_number_value(number);
    std::string theirs;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(value, &theirs).ok());
    EXPECT_EQ(Print(value), theirs) << number;
  }
  Value nan;
  nan.set_number_value(std::nan(""));
  EXPECT_EQ(Print(nan), "\"NaN\"");
  Value infinity;
  infinity.set_number_value(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(Print(infinity), "\"-Infinity\"");
}

TEST(ValueJsonTest, PrintedValuesReadBackTheSame) {
  const std::string json =
      R"({"s": "quote\" backslash\\ ctl\u0001\n é😀", "l": [1, 2.5, -0.001, true, null, {}],)"
      R"( "o": {"k": "v"}, "big": 1e300})";
  const Value value = ProtobufParse(json);
  const std::string printed = Print(value);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ProtobufParse(printed), value))
      << printed;
  absl::StatusOr<Value> ours = ParseJson(printed);
  ASSERT_TRUE(ours.ok()) << ours.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*ours, value));
  EXPECT_EQ(Print(Value()), "null");
}

TEST(ValueJsonTest, ParsesAnArrayOntoAnArenaAppendingItsElements) {
  google::protobuf::Arena arena;
  auto* list = google::protobuf::Arena::CreateMessage<google::protobuf::ListValue>(&arena);
  list->add_values()->set_string_value("before");
  ASSERT_TRUE(ParseJsonArray(R"( [1, "a", {"k": [true, null]}] )", list->mutable_values()).ok());
  ASSERT_EQ(list->values_size(), 4);
  EXPECT_EQ(list->values(3).GetArena(), &arena);
  std::string out;
  for (const Value& value : list->values()) AppendJson(value, &out);
  EXPECT_EQ(out, R"("before"1"a"{"k":[true,null]})");
}

TEST(ValueJsonTest, AnArrayThatDoesNotParseLeavesTheListAsItWas) {
  google::protobuf::ListValue list;
  list.add_values()->set_number_value(1);
  for (const char* text : {R"({"a": 1})", "3", "[1, 2", "[1] [2]", "[1, tru]", ""}) {
    EXPECT_FALSE(ParseJsonArray(text, list.mutable_values()).ok()) << text;
    EXPECT_EQ(list.values_size(), 1) << text;
  }
  EXPECT_TRUE(ParseJsonArray("[]", list.mutable_values()).ok());
  EXPECT_EQ(list.values_size(), 1);
}

}  // namespace
}  // namespace pprocd
