// The JSON codec, checked against protobuf's JSON parser.
#include "base/json/json.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;

Value ProtobufParse(const std::string& json) {
  Value value;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &value);
  EXPECT_OK(status) << json;
  return value;
}

std::string Print(const Value& value) {
  std::string out;
  AppendJson(value, &out);
  return out;
}

TEST(JsonTest, ParsesAsProtobufDoes) {
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
    ASSERT_OK(ours) << json;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*ours, ProtobufParse(json)))
        << json << "\nours: " << ours->DebugString();
  }
}

TEST(JsonTest, RefusesWhatIsNotJson) {
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
  EXPECT_OK(ParseJson(fine));
}

TEST(JsonTest, ReadsNumbersExactly) {
  for (const auto& [json, number] : std::vector<std::pair<std::string, double>>{
           {"0", 0.0},
           {"-7", -7.0},
           {"999999999999999", 999999999999999.0},
           {"-123456789012345", -123456789012345.0},
           {"9007199254740993", 9007199254740992.0},  // Rounds to the nearest double.
           {"12345678901234567890", 12345678901234567890.0},
           {"1e400", std::numeric_limits<double>::infinity()},
           {"-1e400", -std::numeric_limits<double>::infinity()},
           {"1e-400", 0.0},
           {"2.5E+3", 2500.0}}) {
    absl::StatusOr<Value> value = ParseJson(json);
    ASSERT_OK(value) << json;
    EXPECT_EQ(value->number_value(), number) << json;
  }
  absl::StatusOr<Value> negative_zero = ParseJson("-0");
  ASSERT_OK(negative_zero);
  EXPECT_TRUE(std::signbit(negative_zero->number_value()));
}

TEST(JsonTest, ALoneSurrogateBecomesTheReplacementCharacter) {
  ASSERT_OK_AND_ASSIGN(Value value, ParseJson(R"("a\udc80b\ud800")"));
  EXPECT_EQ(value.string_value(),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD");
}

TEST(JsonTest, PrintsNumbersAsProtobufDoes) {
  for (const double number :
       {0.0, -0.0, 7.0, -42.0, 0.1, 1.5, 1e15, 123456789012345.0, 123456789012345678.0, 1e-7,
        3.141592653589793, std::numeric_limits<double>::max(),
        std::numeric_limits<double>::denorm_min()}) {
    Value value;
    value.set_number_value(number);
    std::string theirs;
    ASSERT_OK(google::protobuf::util::MessageToJsonString(value, &theirs));
    EXPECT_EQ(Print(value), theirs) << number;
  }
  Value nan;
  nan.set_number_value(std::nan(""));
  EXPECT_EQ(Print(nan), "\"NaN\"");
  Value infinity;
  infinity.set_number_value(-std::numeric_limits<double>::infinity());
  EXPECT_EQ(Print(infinity), "\"-Infinity\"");
}

TEST(JsonTest, PrintedValuesReadBackTheSame) {
  const std::string json =
      R"({"s": "quote\" backslash\\ ctl\u0001\n é😀", "l": [1, 2.5, -0.001, true, null, {}],)"
      R"( "o": {"k": "v"}, "big": 1e300})";
  const Value value = ProtobufParse(json);
  const std::string printed = Print(value);
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ProtobufParse(printed), value))
      << printed;
  ASSERT_OK_AND_ASSIGN(Value ours, ParseJson(printed));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ours, value));
  EXPECT_EQ(Print(Value()), "null");
}

TEST(JsonTest, StringsAreAlwaysValidJson) {
  std::string out;
  AppendJsonString("a\"\\\n\r\t\b\f\x01\x7f é😀 \xff\xc3", &out);
  EXPECT_EQ(out, "\"a\\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u007f é😀 \xEF\xBF\xBD\xEF\xBF\xBD\"");
  ASSERT_OK_AND_ASSIGN(Value back, ParseJson(out));
  EXPECT_EQ(back.string_value(), "a\"\\\n\r\t\b\f\x01\x7f é😀 \xEF\xBF\xBD\xEF\xBF\xBD");
}

// The texts of the elements SplitJsonArray finds in `json`, or its error.
std::vector<std::string> Split(absl::string_view json) {
  std::vector<JsonElement> elements;
  const absl::Status status = SplitJsonArray(json, &elements);
  if (!status.ok()) return {std::string(status.message())};
  std::vector<std::string> texts;
  for (const JsonElement& element : elements) {
    texts.emplace_back(json.substr(element.begin, element.end - element.begin));
  }
  return texts;
}

std::string ErrorOf(const absl::Status& status) {
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument));
  return std::string(status.message());
}

TEST(JsonTest, ErrorsGiveTheByteOffset) {
  EXPECT_EQ(ErrorOf(ParseJson("[1, 2 3]").status()), "byte 6: expected ',' or ']'");
  EXPECT_EQ(ErrorOf(ParseJson(R"({"a": 1, "a": 2})").status()), "byte 9: repeated key");
  EXPECT_EQ(ErrorOf(ParseJson("1 2").status()), "byte 2: text after the value");
  EXPECT_EQ(ErrorOf(ParseJson("").status()), "byte 0: no value");
}

TEST(JsonTest, LongStringsFindEveryByteThatNeedsCareWhereverItStands) {
  // Strings are scanned 16 bytes at a time: a byte that needs care is found
  // at every position of a block and across blocks.
  for (int at = 0; at < 40; ++at) {
    SCOPED_TRACE(absl::StrCat("at ", at));
    const std::string before(static_cast<size_t>(at), 'a');
    const std::string after(23, 'b');
    EXPECT_EQ(ParseJson("\"" + before + "\\n" + after + "\"")->string_value(),
              before + "\n" + after);
    EXPECT_EQ(ParseJson("\"" + before + "\\\"" + after + "\"")->string_value(),
              before + "\"" + after);
    EXPECT_EQ(ParseJson("\"" + before + "\xC3\xA9" + after + "\"")->string_value(),
              before + "\xC3\xA9" + after);
    EXPECT_EQ(ParseJson("[\"" + before + "\"," + "\"" + after + "\"]")
                  ->list_value()
                  .values(1)
                  .string_value(),
              after);
    EXPECT_EQ(ErrorOf(ParseJson("\"" + before + "\x01" + after + "\"").status()),
              absl::StrCat("byte ", at + 1, ": control character in a string"));
    EXPECT_THAT(ParseJson("\"" + before + "\xFF" + after + "\""),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(ParseJson("\"" + before + after), StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(SplitJsonArrayTest, GivesEachElementsBytesWithoutWhitespace) {
  EXPECT_EQ(Split(R"([12345, "a,b]" ,{"k": [1, 2]}, [], null,true,-1.5e3])"),
            (std::vector<std::string>{"12345", R"("a,b]")", R"({"k": [1, 2]})", "[]", "null",
                                      "true", "-1.5e3"}));
  EXPECT_EQ(Split(" \n[ ]\t"), std::vector<std::string>{});
  EXPECT_EQ(Split("[[[]]]"), std::vector<std::string>{"[[]]"});
  EXPECT_EQ(Split(R"(["\"", "\\", "é😀\ud800"])"),
            (std::vector<std::string>{R"("\"")", R"("\\")", R"("é😀\ud800")"}));
}

TEST(SplitJsonArrayTest, AppendsToTheVector) {
  std::vector<JsonElement> elements = {{7, 9}};
  ASSERT_OK(SplitJsonArray("[1,22]", &elements));
  ASSERT_EQ(elements.size(), 3u);
  EXPECT_EQ(elements[1].begin, 1u);
  EXPECT_EQ(elements[1].end, 2u);
  EXPECT_EQ(elements[2].begin, 3u);
  EXPECT_EQ(elements[2].end, 5u);
}

TEST(SplitJsonArrayTest, RefusesWhatIsNotAJsonArray) {
  for (const char* json : {"", "1", "{}", "\"[]\"", "null", " {\"a\": [1]}"}) {
    EXPECT_EQ(Split(json), std::vector<std::string>{"byte 0: expected a JSON array"}) << json;
  }
  EXPECT_EQ(Split("[1, 2 3]"), std::vector<std::string>{"byte 6: expected ',' or ']'"});
  EXPECT_EQ(Split("[1,]"), std::vector<std::string>{"byte 3: not a JSON value"});
  EXPECT_EQ(Split("[1] 2"), std::vector<std::string>{"byte 4: text after the value"});
  EXPECT_EQ(Split("[1, 2"), std::vector<std::string>{"byte 5: unterminated array"});
  EXPECT_EQ(Split(R"([{"a": 1, "b": {"a": 2}, "a": 3}])"),
            std::vector<std::string>{"byte 25: repeated key"});
  // The same key, once escaped.
  EXPECT_EQ(Split(R"([{"ab": 1, "a\u0062": 2}])"),
            std::vector<std::string>{"byte 11: repeated key"});
  EXPECT_EQ(Split("[\"\xff\"]"), std::vector<std::string>{"byte 2: invalid UTF-8 in a string"});
  EXPECT_EQ(Split("[tru]"), std::vector<std::string>{"byte 1: not a JSON value"});
  EXPECT_EQ(Split("[01]"), std::vector<std::string>{"byte 2: expected ',' or ']'"});
  EXPECT_EQ(Split("[\"a\\x\"]"), std::vector<std::string>{"byte 3: bad escape in a string"});
}

TEST(SplitJsonArrayTest, FindsRepeatedKeysInLargeObjects) {
  std::string json = "[{";
  for (int i = 0; i < 40; ++i) json += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  const std::string error = absl::StrCat("byte ", json.size(), ": repeated key");
  std::string repeated = json + "\"k\\u0031\":1}]";  // "k1" again.
  json += "\"k1x\":1}]";
  EXPECT_EQ(Split(json).size(), 1u) << Split(json)[0];
  EXPECT_EQ(Split(repeated), std::vector<std::string>{error});
}

TEST(SplitJsonArrayTest, CountsDepthFromTheArray) {
  std::string fine = std::string(100, '[') + std::string(100, ']');
  EXPECT_EQ(Split(fine).size(), 1u);
  std::string deep = std::string(101, '[') + std::string(101, ']');
  EXPECT_EQ(Split(deep), std::vector<std::string>{"byte 100: nested too deep"});
}

TEST(SplitJsonArrayTest, AgreesWithParseJson) {
  for (const char* json : {"[1,2", "[1 2]", "[\"a\n\"]", "[{\"a\":1,}]", "[1]x", "[-]", "[1e5,]",
                           "[{\"a\" 1}]", "[\"\\ud800\\u12\"]"}) {
    std::vector<JsonElement> elements;
    const absl::Status split = SplitJsonArray(json, &elements);
    EXPECT_EQ(split, ParseJson(json).status()) << json;
  }
}

TEST(ParseJsonArrayTest, AppendsTheElements) {
  google::protobuf::RepeatedPtrField<Value> values;
  values.Add()->set_string_value("before");
  ASSERT_OK(ParseJsonArray(R"([1, "two", {"three": [3]}, null])", &values));
  ASSERT_EQ(values.size(), 5);
  EXPECT_EQ(values[0].string_value(), "before");
  EXPECT_EQ(values[1].number_value(), 1);
  EXPECT_EQ(values[2].string_value(), "two");
  EXPECT_EQ(values[3].struct_value().fields().at("three").list_value().values(0).number_value(), 3);
  EXPECT_EQ(values[4].kind_case(), Value::kNullValue);
  ASSERT_OK(ParseJsonArray("[]", &values));
  EXPECT_EQ(values.size(), 5);
}

TEST(ParseJsonArrayTest, LeavesTheFieldAsItWasOnError) {
  google::protobuf::RepeatedPtrField<Value> values;
  values.Add()->set_number_value(7);
  EXPECT_EQ(ErrorOf(ParseJsonArray("[1, 2, {\"a\": tru}]", &values)), "byte 13: not a JSON value");
  EXPECT_EQ(ErrorOf(ParseJsonArray("{\"a\": 1}", &values)), "byte 0: expected a JSON array");
  ASSERT_EQ(values.size(), 1);
  EXPECT_EQ(values[0].number_value(), 7);
}

TEST(ParseJsonArrayTest, FillsAFieldOnAnArena) {
  google::protobuf::Arena arena;
  auto* list = google::protobuf::Arena::CreateMessage<google::protobuf::ListValue>(&arena);
  ASSERT_OK(ParseJsonArray(R"([{"k": "v"}, [1.5], "s"])", list->mutable_values()));
  ASSERT_EQ(list->values_size(), 3);
  EXPECT_EQ(list->values(0).GetArena(), &arena);
  EXPECT_EQ(list->values(0).struct_value().fields().at("k").string_value(), "v");
  EXPECT_EQ(list->values(1).list_value().values(0).number_value(), 1.5);
  EXPECT_EQ(list->values(2).string_value(), "s");
}

TEST(AppendJsonArrayTest, PrintsTheValuesAsOneArray) {
  google::protobuf::RepeatedPtrField<Value> values;
  ASSERT_OK(ParseJsonArray(R"([1, "a\"b", [true, null], {"k": 0.5}])", &values));
  std::string out = "x";
  AppendJsonArray(values, &out);
  EXPECT_EQ(out, R"(x[1,"a\"b",[true,null],{"k":0.5}])");
  std::vector<const Value*> pointers = {&values[1], &values[0]};
  out.clear();
  AppendJsonArray(pointers, &out);
  EXPECT_EQ(out, R"(["a\"b",1])");
  out.clear();
  AppendJsonArray(absl::Span<const Value* const>(), &out);
  EXPECT_EQ(out, "[]");
}

}  // namespace
}  // namespace pprocd
