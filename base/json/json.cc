#include "base/json/json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <forward_list>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "base/utf8.h"

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
    char buffer[24];
    const std::to_chars_result result =
        std::to_chars(buffer, buffer + sizeof(buffer), static_cast<int64_t>(number));
    out->append(buffer, result.ptr);
  } else {
    char buffer[32];
    int length = std::snprintf(buffer, sizeof(buffer), "%.15g", number);
    if (std::strtod(buffer, nullptr) != number) {
      length = std::snprintf(buffer, sizeof(buffer), "%.17g", number);
    }
    out->append(buffer, static_cast<size_t>(length));
  }
}

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

// The keys of one object, to find a repeated one without building the
// object. Allocates nothing for an object of a few keys without escapes.
class KeySet {
 public:
  // Adds the key whose JSON text (between the quotes, valid) is `raw`,
  // with `escaped` telling whether it has an escape; false if the object
  // has the key already.
  bool Insert(absl::string_view raw, bool escaped) {
    absl::string_view key = raw;
    if (escaped) {
      decoded_.push_front(Decode(raw));
      key = decoded_.front();
    }
    if (set_.empty()) {
      for (absl::string_view seen : few_) {
        if (seen == key) return false;
      }
      if (few_.size() < kFew) {
        few_.push_back(key);
        return true;
      }
      set_.insert(few_.begin(), few_.end());
    }
    return set_.insert(key).second;
  }

 private:
  static constexpr size_t kFew = 16;
  static std::string Decode(absl::string_view raw);

  absl::InlinedVector<absl::string_view, kFew> few_;
  absl::flat_hash_set<absl::string_view> set_;
  std::forward_list<std::string> decoded_;  // Stable addresses.
};

// The first position at or after `pos` in `text` that holds a byte a JSON
// string cannot take as it is ('"', '\\', a control character, a byte of a
// multi-byte UTF-8 sequence), or where fewer than 16 bytes are left: the
// caller goes on byte by byte from there. 16 bytes per step where SSE2
// exists (one signed comparison finds bytes < 0x20 and >= 0x80 alike).
size_t SkipPlainStringBytes(absl::string_view text, size_t pos) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20);
  while (pos + 16 <= text.size()) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text.data() + pos));
    const __m128i special =
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(chunk, quote), _mm_cmpeq_epi8(chunk, backslash)),
                     _mm_cmplt_epi8(chunk, space));
    const int mask = _mm_movemask_epi8(special);
    if (mask != 0) return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    pos += 16;
  }
#endif
  return pos;
}

// A recursive-descent reader. With kBuild it fills Values; without, it only
// validates (strings other than keys are checked, not copied).
template <bool kBuild>
class Parser {
 public:
  explicit Parser(absl::string_view text) : text_(text) {}

  // Reads one value and the whitespace after it; the text must end there.
  bool ParseAll(Value* value) {
    if (!ParseValue(value, 0)) return false;
    SkipSpace();
    if (pos_ != text_.size()) return Fail("text after the value");
    return true;
  }

  // Reads the whole text as an array, calling on_element(begin, end) for
  // each element and building it into the Value new_element() returns.
  template <typename NewElement, typename OnElement>
  bool ParseArrayText(NewElement new_element, OnElement on_element) {
    SkipSpace();
    if (pos_ == text_.size() || text_[pos_] != '[') {
      pos_ = 0;
      return Fail("expected a JSON array");
    }
    ++pos_;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
    } else {
      while (true) {
        SkipSpace();
        const size_t begin = pos_;
        if (!ParseValue(new_element(), 1)) return false;
        on_element(begin, pos_);
        SkipSpace();
        if (pos_ == text_.size()) return Fail("unterminated array");
        const char c = text_[pos_++];
        if (c == ']') break;
        if (c != ',') {
          --pos_;
          return Fail("expected ',' or ']'");
        }
      }
    }
    SkipSpace();
    if (pos_ != text_.size()) return Fail("text after the value");
    return true;
  }

  absl::Status Error() const {
    return absl::InvalidArgumentError(absl::StrCat("byte ", pos_, ": ", error_));
  }

 private:
  bool Fail(const char* what) {
    error_ = what;
    return false;
  }

  void SkipSpace() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (static_cast<unsigned char>(c) > ' ' ||
          (c != ' ' && c != '\t' && c != '\n' && c != '\r')) {
        break;
      }
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
        return ParseString(kBuild ? value->mutable_string_value() : nullptr);
      case 't':
        if (kBuild) value->set_bool_value(true);
        return Literal("true");
      case 'f':
        if (kBuild) value->set_bool_value(false);
        return Literal("false");
      case 'n':
        if (kBuild) value->set_null_value({});
        return Literal("null");
      default:
        return ParseNumber(value);
    }
  }

  bool ParseObject(Value* value, int depth) {
    if (depth > kMaxDepth) return Fail("nested too deep");
    ++pos_;
    google::protobuf::Map<std::string, Value>* fields =
        kBuild ? value->mutable_struct_value()->mutable_fields() : nullptr;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::string key;
    KeySet keys;
    while (true) {
      SkipSpace();
      if (pos_ == text_.size() || text_[pos_] != '"') return Fail("expected a key");
      const size_t key_begin = pos_;
      Value* field = nullptr;
      if (kBuild) {
        key.clear();
        if (!ParseString(&key)) return false;
        if (fields->find(key) != fields->end()) {
          pos_ = key_begin;
          return Fail("repeated key");
        }
        field = &(*fields)[key];
      } else {
        if (!ParseString(nullptr)) return false;
        if (!keys.Insert(text_.substr(key_begin + 1, pos_ - key_begin - 2), string_escaped_)) {
          pos_ = key_begin;
          return Fail("repeated key");
        }
      }
      SkipSpace();
      if (pos_ == text_.size() || text_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      if (!ParseValue(field, depth)) return false;
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
    if (depth > kMaxDepth) return Fail("nested too deep");
    ++pos_;
    google::protobuf::ListValue* list = kBuild ? value->mutable_list_value() : nullptr;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      if (!ParseValue(kBuild ? list->add_values() : nullptr, depth)) return false;
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

  // Reads a string at pos_ (its opening quote); appends its text to `*out`
  // unless `out` is null.
  bool ParseString(std::string* out) {
    ++pos_;  // The opening quote.
    string_escaped_ = false;
    while (true) {
      size_t plain = SkipPlainStringBytes(text_, pos_);
      while (plain < text_.size()) {
        const unsigned char c = static_cast<unsigned char>(text_[plain]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++plain;
      }
      if (out != nullptr) out->append(text_.data() + pos_, plain - pos_);
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
        if (out != nullptr) out->append(text_.data() + pos_, length);
        pos_ += length;
        continue;
      }
      // A backslash.
      string_escaped_ = true;
      if (++pos_ == text_.size()) return Fail("unterminated string");
      const char escape = text_[pos_++];
      char plain_escape = 0;
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          plain_escape = escape;
          break;
        case 'b':
          plain_escape = '\b';
          break;
        case 'f':
          plain_escape = '\f';
          break;
        case 'n':
          plain_escape = '\n';
          break;
        case 'r':
          plain_escape = '\r';
          break;
        case 't':
          plain_escape = '\t';
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
          if (out != nullptr) AppendUtf8(cp, out);
          continue;
        }
        default:
          pos_ -= 2;
          return Fail("bad escape in a string");
      }
      if (out != nullptr) out->push_back(plain_escape);
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
    const size_t integer_end = pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (!digits()) return Fail("bad number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (!digits()) return Fail("bad number");
    }
    if (!kBuild) return true;
    const bool negative = text_[start] == '-';
    const size_t first_digit = start + (negative ? 1 : 0);
    if (integer_end == pos_ && pos_ - first_digit <= 15) {
      // An integer below 10^15: exact as a double, no conversion needed.
      int64_t integer = 0;
      for (size_t i = first_digit; i < pos_; ++i) integer = integer * 10 + (text_[i] - '0');
      const double number = static_cast<double>(integer);
      value->set_number_value(negative ? -number : number);
      return true;
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
  bool string_escaped_ = false;  // Whether the last string read had an escape.
  const char* error_ = "";
};

std::string KeySet::Decode(absl::string_view raw) {
  // `raw` is a valid string body: read it again with its quotes.
  std::string quoted = absl::StrCat("\"", raw, "\"");
  absl::StatusOr<Value> value = ParseJson(quoted);
  return value.ok() ? value->string_value() : std::string(raw);
}

void AppendJsonList(const google::protobuf::RepeatedPtrField<Value>& values, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const Value& element : values) {
    if (!first) out->push_back(',');
    first = false;
    AppendJson(element, out);
  }
  out->push_back(']');
}

}  // namespace

void AppendJsonString(absl::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t plain = 0;  // Start of the bytes not yet copied.
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(text.substr(i));
      if (length != 0) {
        i += length;
        continue;
      }
    }
    out->append(text.data() + plain, i - plain);
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
        if (c >= 0x80) {
          out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
        } else {
          out->append("\\u00");
          out->push_back(kHex[c >> 4]);
          out->push_back(kHex[c & 0xF]);
        }
    }
    plain = ++i;
  }
  out->append(text.data() + plain, text.size() - plain);
  out->push_back('"');
}

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
    case Value::kListValue:
      AppendJsonList(value.list_value().values(), out);
      return;
    case Value::kNullValue:
    case Value::KIND_NOT_SET:
      break;
  }
  out->append("null");
}

void AppendJsonArray(absl::Span<const Value* const> values, std::string* out) {
  out->push_back('[');
  bool first = true;
  for (const Value* element : values) {
    if (!first) out->push_back(',');
    first = false;
    AppendJson(*element, out);
  }
  out->push_back(']');
}

void AppendJsonArray(const google::protobuf::RepeatedPtrField<Value>& values, std::string* out) {
  AppendJsonList(values, out);
}

absl::StatusOr<Value> ParseJson(absl::string_view text) {
  Parser<true> parser(text);
  Value value;
  if (!parser.ParseAll(&value)) return parser.Error();
  return value;
}

absl::Status SplitJsonArray(absl::string_view text, std::vector<JsonElement>* elements) {
  if (text.size() > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError("a JSON array of 4 GiB or more");
  }
  Parser<false> parser(text);
  const bool ok = parser.ParseArrayText(
      []() -> Value* { return nullptr; },
      [elements](size_t begin, size_t end) {
        elements->push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(end)});
      });
  if (!ok) return parser.Error();
  return absl::OkStatus();
}

absl::Status ParseJsonArray(absl::string_view text,
                            google::protobuf::RepeatedPtrField<Value>* out) {
  const int old_size = out->size();
  Parser<true> parser(text);
  const bool ok = parser.ParseArrayText([out] { return out->Add(); }, [](size_t, size_t) {});
  if (!ok) {
    out->DeleteSubrange(old_size, out->size() - old_size);
    return parser.Error();
  }
  return absl::OkStatus();
}

}  // namespace pprocd
