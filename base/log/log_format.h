// How one log line is written: the pure part of the logger (log.h), kept
// apart so that it can be tested without a process-wide state.
//
// Text (logfmt):
//   2026-12-07T02:20:07.123Z level=warn msg="item failed" callable=fib index=3
// A value is written bare unless it is empty or holds a space, a control
// character, '=', '"', '\\' or a byte that is not valid UTF-8; then it is
// quoted, with '"', '\\', \n, \r, \t escaped, other control characters as
// \u00XX and invalid bytes as \xNN.
//
// JSON (one object per line):
//   {"time":"2026-12-07T02:20:07.123Z","level":"warn","msg":"item failed",
//    "callable":"fib","index":3}
// Strings are escaped as base/json/json.h's AppendJsonString escapes them
// (control characters escaped, bytes that are not valid UTF-8 as U+FFFD),
// so every line is valid JSON. Integers and booleans are JSON numbers and booleans; a double
// that is not finite is a string.
//
// Pure functions; safe from any thread.
#ifndef PPROCD_BASE_LOG_LOG_FORMAT_H_
#define PPROCD_BASE_LOG_LOG_FORMAT_H_

#include <cstdint>
#include <string>
#include <type_traits>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace pprocd {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug", "info", "warn", "error".
const char* LogLevelName(LogLevel level);
// The level named `name` (as LogLevelName gives it); false if none.
bool ParseLogLevel(absl::string_view name, LogLevel* level);
// "text" or "json"; false for anything else.
bool ParseLogFormat(absl::string_view name, LogFormat* format);
const char* LogFormatName(LogFormat format);

// One key=value of a log line. Holds views: the key and a string value
// must outlive the line's writing (a temporary in the same statement does).
class LogField {
 public:
  enum class Kind { kString, kInt, kUint, kDouble, kBool };

  LogField(absl::string_view key, absl::string_view value)
      : key_(key), kind_(Kind::kString), text_(value) {}
  LogField(absl::string_view key, const std::string& value)
      : LogField(key, absl::string_view(value)) {}
  LogField(absl::string_view key, const char* value)
      : LogField(key, absl::string_view(value == nullptr ? "" : value)) {}
  LogField(absl::string_view key, bool value) : key_(key), kind_(Kind::kBool), bool_(value) {}
  LogField(absl::string_view key, double value) : key_(key), kind_(Kind::kDouble), double_(value) {}
  template <typename Int, typename std::enable_if_t<
                              std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  LogField(absl::string_view key, Int value) : key_(key) {
    if constexpr (std::is_signed_v<Int>) {
      kind_ = Kind::kInt;
      int_ = static_cast<int64_t>(value);
    } else {
      kind_ = Kind::kUint;
      uint_ = static_cast<uint64_t>(value);
    }
  }

  absl::string_view key() const { return key_; }
  Kind kind() const { return kind_; }
  absl::string_view text() const { return text_; }
  int64_t int_value() const { return int_; }
  uint64_t uint_value() const { return uint_; }
  double double_value() const { return double_; }
  bool bool_value() const { return bool_; }

 private:
  absl::string_view key_;
  Kind kind_;
  absl::string_view text_;
  union {
    int64_t int_ = 0;
    uint64_t uint_;
    double double_;
    bool bool_;
  };
};

// The time `unix_ms` (milliseconds since the epoch) as RFC 3339 in UTC
// with milliseconds: 2026-12-07T02:20:07.123Z.
std::string FormatLogTime(int64_t unix_ms);

// One whole line, ending in '\n'.
std::string FormatLogLine(LogFormat format, int64_t unix_ms, LogLevel level, absl::string_view msg,
                          absl::Span<const LogField> fields);

// `value` as a logfmt value (quoted only when it must be), appended.
void AppendLogfmtValue(absl::string_view value, std::string* out);

}  // namespace pprocd

#endif  // PPROCD_BASE_LOG_LOG_FORMAT_H_
