// libFuzzer target: the JSON codec of command callables
// (base/json).
//
// The input is read three ways. Checked:
// - as JSON text: ParseJson() never fails badly; what it accepts prints
//   (AppendJson) to text it accepts again, with the same value (a number
//   beyond a double's range reads as infinity and prints as the string
//   "Infinity", as protobuf prints it); when protobuf's own JSON parser
//   also accepts the text, both give the same value; SplitJsonArray() and
//   ParseJsonArray() accept exactly the arrays ParseJson() accepts, with
//   the same error, and each element's range parses (ParseJson) to the
//   element ParseJsonArray() gives;
// - as a string: when the bytes are valid UTF-8, AppendJsonString() quotes
//   them into JSON that reads back as the same string;
// - as a serialized google.protobuf.Value (what a client sends): when it
//   parses, it prints to JSON that reads back as the same value.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "base/json/json.h"
#include "base/utf8.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "tests/fuzz/fuzz_check.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

bool IsValidUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// Whether `printed`, read back from AppendJson(original), is what JSON can
// say of `original`: the same value, except that a non-finite number
// becomes the string protobuf prints for it and an unset value null.
bool SameAfterPrinting(const Value& original, const Value& printed) {
  switch (original.kind_case()) {
    case Value::kNumberValue: {
      const double number = original.number_value();
      if (std::isnan(number)) {
        return printed.kind_case() == Value::kStringValue && printed.string_value() == "NaN";
      }
      if (std::isinf(number)) {
        return printed.kind_case() == Value::kStringValue &&
               printed.string_value() == (number > 0 ? "Infinity" : "-Infinity");
      }
      return printed.kind_case() == Value::kNumberValue && printed.number_value() == number &&
             std::signbit(printed.number_value()) == std::signbit(number);
    }
    case Value::kStringValue:
      return printed.kind_case() == Value::kStringValue &&
             printed.string_value() == original.string_value();
    case Value::kBoolValue:
      return printed.kind_case() == Value::kBoolValue &&
             printed.bool_value() == original.bool_value();
    case Value::kStructValue: {
      if (printed.kind_case() != Value::kStructValue) return false;
      const auto& fields = original.struct_value().fields();
      const auto& printed_fields = printed.struct_value().fields();
      if (fields.size() != printed_fields.size()) return false;
      for (const auto& [key, field] : fields) {
        const auto it = printed_fields.find(key);
        if (it == printed_fields.end() || !SameAfterPrinting(field, it->second)) return false;
      }
      return true;
    }
    case Value::kListValue: {
      if (printed.kind_case() != Value::kListValue) return false;
      const auto& values = original.list_value().values();
      const auto& printed_values = printed.list_value().values();
      if (values.size() != printed_values.size()) return false;
      for (int i = 0; i < values.size(); ++i) {
        if (!SameAfterPrinting(values[i], printed_values[i])) return false;
      }
      return true;
    }
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      break;
  }
  return printed.kind_case() == Value::kNullValue;
}

// Prints `value` and reads it back; aborts unless it reads as the same.
void CheckPrintsAndReadsBack(const Value& value, const char* what) {
  std::string json;
  AppendJson(value, &json);
  absl::StatusOr<Value> again = ParseJson(json);
  if (!again.ok()) {
    std::fprintf(stderr, "printed: %s\nerror: %s\n", json.c_str(),
                 again.status().ToString().c_str());
  }
  FUZZ_CHECK(again.ok(), what);
  FUZZ_CHECK(SameAfterPrinting(value, *again), what);
}

// SplitJsonArray and ParseJsonArray against ParseJson (`whole` is its
// result for `text`).
void CheckArray(absl::string_view text, const absl::StatusOr<Value>& whole) {
  std::vector<JsonElement> elements;
  const absl::Status split = SplitJsonArray(text, &elements);
  google::protobuf::RepeatedPtrField<Value> parsed;
  const absl::Status parsed_status = ParseJsonArray(text, &parsed);
  FUZZ_CHECK(split == parsed_status, "SplitJsonArray and ParseJsonArray agree");
  const bool is_array = whole.ok() && whole->kind_case() == Value::kListValue;
  if (!whole.ok() && split.message() != "byte 0: expected a JSON array") {
    FUZZ_CHECK(split == whole.status(), "SplitJsonArray fails as ParseJson does");
  }
  FUZZ_CHECK(split.ok() == is_array, "SplitJsonArray accepts exactly the arrays");
  if (!split.ok()) {
    FUZZ_CHECK(parsed.empty(), "ParseJsonArray leaves nothing on failure");
    return;
  }
  const auto& values = whole->list_value().values();
  FUZZ_CHECK(
      elements.size() == static_cast<size_t>(values.size()) && parsed.size() == values.size(),
      "one range and one value per element");
  for (int i = 0; i < values.size(); ++i) {
    const JsonElement& element = elements[static_cast<size_t>(i)];
    FUZZ_CHECK(element.begin < element.end && element.end <= text.size(), "range in the text");
    const absl::string_view slice = text.substr(element.begin, element.end - element.begin);
    absl::StatusOr<Value> alone = ParseJson(slice);
    FUZZ_CHECK(alone.ok(), "an element's range parses alone");
    FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*alone, values[i]) &&
                   google::protobuf::util::MessageDifferencer::Equals(parsed[i], values[i]),
               "an element's range and ParseJsonArray give the element");
    const char first = slice.front();
    const char last = slice.back();
    FUZZ_CHECK(first != ' ' && first != '\n' && last != ' ' && last != '\n',
               "a range has no surrounding whitespace");
  }
}

void CheckText(absl::string_view text) {
  absl::StatusOr<Value> ours = ParseJson(text);
  CheckArray(text, ours);
  if (!ours.ok()) {
    FUZZ_CHECK(ours.status().code() == absl::StatusCode::kInvalidArgument, "error code");
    return;
  }
  CheckPrintsAndReadsBack(*ours, "parsed text printed and read back");
  Value theirs;
  if (google::protobuf::util::JsonStringToMessage(std::string(text), &theirs).ok()) {
    FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*ours, theirs),
               "the same value as protobuf's JSON parser");
  }
}

void CheckString(absl::string_view text) {
  if (!IsValidUtf8(text)) return;
  std::string json;
  AppendJsonString(text, &json);
  absl::StatusOr<Value> again = ParseJson(json);
  FUZZ_CHECK(again.ok(), "a quoted string reads back");
  FUZZ_CHECK(again->kind_case() == Value::kStringValue && again->string_value() == text,
             "a quoted string reads back as itself");
}

void CheckBinary(absl::string_view bytes) {
  Value value;
  if (!value.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  CheckPrintsAndReadsBack(value, "a client's value printed and read back");
}

}  // namespace
}  // namespace pprocd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  pprocd::CheckText(input);
  pprocd::CheckString(input);
  pprocd::CheckBinary(input);
  return 0;
}
