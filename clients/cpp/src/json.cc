#include "pprocd/client/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/json/json.h"

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
  absl::StatusOr<Value> value = ParseJson(json);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("invalid JSON: ", value.status().message()));
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
  pprocd::AppendJsonString(text, out);
}

}  // namespace pprocd::client
