#include "worker/value_json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "worker/base/utf8.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

constexpr int kMaxDepth = 100;

void AppendNumber(double number, std::string* out) {
  if (std::isnan(number)) {
    out->append("\"NaN\"");
  } else if (std::isinf(number)) {
    out->append(number > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else if (std::trunc(number) == number && std::fabs(number) < 1e15 &&
             !(number == 0 && std::signbit(number))) {
    // What %.15g prints for these, without printf.
    absl::StrAppend(out, static_cast<int64_t>(number));
  } else {
    char buffer[32];
    int length = std::snprintf(buffer, sizeof(buffer), "%.15g", number);
    if (std::strtod(buffer, nullptr) != number) {
      length = std::snprintf(buffer, sizeof(buffer), "%.17g", number);
    }
    out->append(buffer, static_cast<size_t>(length));
  }
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t plain = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.data() + plain, i - plain);
    plain = i + 1;
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
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(text.data() + plain, text.size() - plain);
  out->push_back('"');
}

namespace {

// Appends code point `cp` as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  absl::StatusOr<Value> ParseAll() {
    Value value;
    if (!ParseValue(&value, 0)) return Error();
    SkipSpace();
    if (pos_ != text_.size()) {
      error_ = "text after the value";
      return Error();
    }
    return value;
  }

  absl::Status ParseAllElements(google::protobuf::RepeatedPtrField<Value>* list) {
    const int before = list->size();
    SkipSpace();
    bool ok = pos_ < text_.size() && text_[pos_] == '[' ? ParseElements(list, 1)
                                                        : Fail("expected a JSON array");
    if (ok) {
      SkipSpace();
      if (pos_ != text_.size()) ok = Fail("text after the value");
    }
    if (ok) return absl::OkStatus();
    list->DeleteSubrange(before, list->size() - before);
    return Error();
  }

 private:
  absl::Status Error() const {
    return absl::InvalidArgumentError(absl::StrCat(error_, " at byte ", pos_));
  }

  bool Fail(const char* what) {
    error_ = what;
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool Literal(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return Fail("not a JSON value");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(Value* value, int depth) {
    SkipSpace();
    if (pos_ == text_.size()) return Fail("no value");
    switch (text_[pos_]) {
      case '{':
        return ParseObject(value, depth + 1);
      case '[':
        return ParseArray(value, depth + 1);
      case '"':
        return ParseString(value->mutable_string_value());
      case 't':
        value->set_bool_value(true);
        return Literal("true");
      case 'f':
        value->set_bool_value(false);
        return Literal("false");
      case 'n':
        value->set_null_value({});
        return Literal("null");
      default:
        return ParseNumber(value);
    }
  }

  bool ParseObject(Value* value, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deep");
    ++pos_;
    auto& fields = *value->mutable_struct_value()->mutable_fields();
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::string key;
    while (true) {
      SkipSpace();
      if (pos_ == text_.size() || text_[pos_] != '"') return Fail("expected a key");
      key.clear();
      if (!ParseString(&key)) return false;
      SkipSpace();
      if (pos_ == text_.size() || text_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      if (fields.find(key) != fields.end()) return Fail("repeated key");
      if (!ParseValue(&fields[key], depth)) return false;
      SkipSpace();
      if (pos_ == text_.size()) return Fail("unterminated object");
      if (text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (text_[pos_] != ',') return Fail("expected ',' or '}'");
      ++pos_;
    }
  }

  bool ParseArray(Value* value, int depth) {
    return ParseElements(value->mutable_list_value()->mutable_values(), depth);
  }

  // Parses the array at pos_, appending its elements to `*list`.
  bool ParseElements(google::protobuf::RepeatedPtrField<Value>* list, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deep");
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      if (!ParseValue(list->Add(), depth)) return false;
      SkipSpace();
      if (pos_ == text_.size()) return Fail("unterminated array");
      if (text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      if (text_[pos_] != ',') return Fail("expected ',' or ']'");
      ++pos_;
    }
  }

  bool Hex4(uint32_t* out) {
    if (text_.size() - pos_ < 4) return Fail("bad \\u escape");
    uint32_t cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_ + i];
      cp <<= 4;
      if (c >= '0' && c <= '9') {
        cp |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        cp |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        cp |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return Fail("bad \\u escape");
      }
    }
    pos_ += 4;
    *out = cp;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // The opening quote.
    while (true) {
      size_t plain = pos_;
      while (plain < text_.size()) {
        const unsigned char c = static_cast<unsigned char>(text_[plain]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++plain;
      }
      out->append(text_.data() + pos_, plain - pos_);
      pos_ = plain;
      if (pos_ == text_.size()) return Fail("unterminated string");
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("control character in a string");
      if (c >= 0x80) {
        const size_t length = Utf8SequenceLength(text_.substr(pos_));
        if (length == 0) return Fail("invalid UTF-8 in a string");
        out->append(text_.data() + pos_, length);
        pos_ += length;
        continue;
      }
      // A backslash.
      if (++pos_ == text_.size()) return Fail("unterminated string");
      const char escape = text_[pos_++];
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          out->push_back(escape);
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && text_.substr(pos_, 2) == "\\u") {
            const size_t before = pos_;
            pos_ += 2;
            uint32_t low = 0;
            if (!Hex4(&low)) return false;
            if (low >= 0xDC00 && low <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else {
              pos_ = before;  // Not a pair: the next escape stands alone.
            }
          }
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          AppendUtf8(cp, out);
          break;
        }
        default:
          --pos_;
          return Fail("bad escape in a string");
      }
    }
  }

  bool ParseNumber(Value* value) {
    const size_t start = pos_;
    const auto digits = [&] {
      const size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ > from;
    };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      ++pos_;
    } else if (!digits()) {
      pos_ = start;
      return Fail("not a JSON value");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return Fail("bad number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return Fail("bad number");
    }
    double number = 0;
    const std::from_chars_result result =
        std::from_chars(text_.data() + start, text_.data() + pos_, number);
    if (result.ec == std::errc::result_out_of_range) {
      // Beyond a double's range: what strtod gives (infinity or zero).
      number = std::strtod(std::string(text_.substr(start, pos_ - start)).c_str(), nullptr);
    } else if (result.ec != std::errc() || result.ptr != text_.data() + pos_) {
      pos_ = start;
      return Fail("bad number");
    }
    value->set_number_value(number);
    return true;
  }

  const absl::string_view text_;
  size_t pos_ = 0;
  const char* error_ = "";
};

}  // namespace

void AppendJson(const Value& value, std::string* out) {
  switch (value.kind_case()) {
    case Value::kNumberValue:
      AppendNumber(value.number_value(), out);
      return;
    case Value::kStringValue:
      AppendJsonString(value.string_value(), out);
      return;
    case Value::kBoolValue:
      out->append(value.bool_value() ? "true" : "false");
      return;
    case Value::kStructValue: {
      out->push_back('{');
      bool first = true;
      for (const auto& [key, field] : value.struct_value().fields()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(key, out);
        out->push_back(':');
        AppendJson(field, out);
      }
      out->push_back('}');
      return;
    }
    case Value::kListValue: {
      out->push_back('[');
      bool first = true;
      for (const Value& element : value.list_value().values()) {
        if (!first) out->push_back(',');
        first = false;
        AppendJson(element, out);
      }
      out->push_back(']');
      return;
    }
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      break;
  }
  out->append("null");
}

absl::StatusOr<Value> ParseJson(absl::string_view text) { return Parser(text).ParseAll(); }

absl::Status ParseJsonArray(absl::string_view text,
                            google::protobuf::RepeatedPtrField<google::protobuf::Value>* out) {
  return Parser(text).ParseAllElements(out);
}

}  // namespace pprocd
