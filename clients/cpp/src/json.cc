#include "pprocd/client/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "worker/base/utf8.h"

namespace pprocd::client {
namespace {

using google::protobuf::Value;

void AppendStructJson(const google::protobuf::Struct& fields, std::string* out) {
  // Struct is a hash map: sort the keys so output is deterministic.
  std::vector<const std::string*> keys;
  keys.reserve(fields.fields_size());
  for (const auto& [key, unused] : fields.fields()) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  out->push_back('{');
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(*keys[i], out);
    out->push_back(':');
    AppendValueJson(fields.fields().at(*keys[i]), out);
  }
  out->push_back('}');
}

}  // namespace

absl::StatusOr<Value> ParseJsonValue(absl::string_view json) {
  Value value;
  google::protobuf::util::Status status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &value);
  if (!status.ok()) {
    // protobuf appends the input and a caret on later lines: keep line one.
    absl::string_view reason(status.message().data(), status.message().size());
    reason = reason.substr(0, reason.find('\n'));
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", reason));
  }
  if (value.kind_case() == Value::KIND_NOT_SET) {
    return absl::InvalidArgumentError("invalid JSON: no value");
  }
  return value;
}

std::string ValueToJson(const Value& value) {
  std::string out;
  AppendValueJson(value, &out);
  return out;
}

void AppendValueJson(const Value& value, std::string* out) {
  switch (value.kind_case()) {
    case Value::kNumberValue:
      out->append(FormatJsonNumber(value.number_value()));
      return;
    case Value::kStringValue:
      AppendJsonString(value.string_value(), out);
      return;
    case Value::kBoolValue:
      out->append(value.bool_value() ? "true" : "false");
      return;
    case Value::kStructValue:
      AppendStructJson(value.struct_value(), out);
      return;
    case Value::kListValue: {
      out->push_back('[');
      bool first = true;
      for (const Value& element : value.list_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        AppendValueJson(element, out);
      }
      out->push_back(']');
      return;
    }
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      out->append("null");
      return;
  }
  out->append("null");
}

std::string FormatJsonNumber(double number) {
  if (std::isnan(number)) return "\"NaN\"";
  if (std::isinf(number)) return number > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  // 2^63 is exact as a double; every double below it in magnitude that is
  // integral fits in int64_t.
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (std::trunc(number) == number && std::fabs(number) < kTwoTo63) {
    return absl::StrCat(static_cast<int64_t>(number));
  }
  char buffer[64];
  std::to_chars_result result = std::to_chars(buffer, buffer + sizeof(buffer), number);
  return std::string(buffer, result.ptr);
}

void AppendJsonString(absl::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t length = Utf8SequenceLength(text.substr(i));
      if (length == 0) {
        out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
        ++i;
      } else {
        out->append(text.data() + i, length);
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

}  // namespace pprocd::client
