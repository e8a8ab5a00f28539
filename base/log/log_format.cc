#include "base/log/log_format.h"

#include <time.h>

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/json/json.h"
#include "base/utf8.h"

namespace pprocd {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Whether a logfmt value must be quoted: empty, or a byte a reader would
// split or misread on.
bool NeedsQuotes(absl::string_view value) {
  if (value.empty()) return true;
  for (size_t i = 0; i < value.size();) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7F) return true;
    if (c < 0x80) {
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(value.substr(i));
    if (length == 0) return true;
    i += length;
  }
  return false;
}

void AppendNumber(const LogField& field, bool json, std::string* out) {
  switch (field.kind()) {
    case LogField::Kind::kInt:
      absl::StrAppend(out, field.int_value());
      return;
    case LogField::Kind::kUint:
      absl::StrAppend(out, field.uint_value());
      return;
    case LogField::Kind::kBool:
      out->append(field.bool_value() ? "true" : "false");
      return;
    case LogField::Kind::kDouble: {
      const double value = field.double_value();
      if (!std::isfinite(value)) {
        const char* name = std::isnan(value) ? "NaN" : (value > 0 ? "Infinity" : "-Infinity");
        if (json) {
          absl::StrAppend(out, "\"", name, "\"");
        } else {
          out->append(name);
        }
        return;
      }
      char buffer[32];
      std::snprintf(buffer, sizeof(buffer), "%.6g", value);
      out->append(buffer);
      return;
    }
    case LogField::Kind::kString:
      return;
  }
}

void AppendText(int64_t unix_ms, LogLevel level, absl::string_view msg,
                absl::Span<const LogField> fields, std::string* out) {
  out->append(FormatLogTime(unix_ms));
  absl::StrAppend(out, " level=", LogLevelName(level), " msg=");
  AppendLogfmtValue(msg, out);
  for (const LogField& field : fields) {
    out->push_back(' ');
    out->append(field.key().data(), field.key().size());
    out->push_back('=');
    if (field.kind() == LogField::Kind::kString) {
      AppendLogfmtValue(field.text(), out);
    } else {
      AppendNumber(field, /*json=*/false, out);
    }
  }
}

void AppendJsonLine(int64_t unix_ms, LogLevel level, absl::string_view msg,
                    absl::Span<const LogField> fields, std::string* out) {
  absl::StrAppend(out, "{\"time\":\"", FormatLogTime(unix_ms), "\",\"level\":\"",
                  LogLevelName(level), "\",\"msg\":");
  AppendJsonString(msg, out);
  for (const LogField& field : fields) {
    out->push_back(',');
    AppendJsonString(field.key(), out);
    out->push_back(':');
    if (field.kind() == LogField::Kind::kString) {
      AppendJsonString(field.text(), out);
    } else {
      AppendNumber(field, /*json=*/true, out);
    }
  }
  out->push_back('}');
}

}  // namespace

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool ParseLogLevel(absl::string_view name, LogLevel* level) {
  for (LogLevel each : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    if (name == LogLevelName(each)) {
      *level = each;
      return true;
    }
  }
  return false;
}

const char* LogFormatName(LogFormat format) { return format == LogFormat::kJson ? "json" : "text"; }

bool ParseLogFormat(absl::string_view name, LogFormat* format) {
  if (name == "text") {
    *format = LogFormat::kText;
  } else if (name == "json") {
    *format = LogFormat::kJson;
  } else {
    return false;
  }
  return true;
}

std::string FormatLogTime(int64_t unix_ms) {
  int64_t seconds = unix_ms / 1000;
  int64_t millis = unix_ms % 1000;
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  const time_t t = static_cast<time_t>(seconds);
  tm utc{};
  gmtime_r(&t, &utc);
  char buffer[80];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(millis));
  return buffer;
}

std::string FormatLogLine(LogFormat format, int64_t unix_ms, LogLevel level, absl::string_view msg,
                          absl::Span<const LogField> fields) {
  std::string line;
  line.reserve(96 + msg.size() + 24 * fields.size());
  if (format == LogFormat::kJson) {
    AppendJsonLine(unix_ms, level, msg, fields, &line);
  } else {
    AppendText(unix_ms, level, msg, fields, &line);
  }
  line.push_back('\n');
  return line;
}

void AppendLogfmtValue(absl::string_view value, std::string* out) {
  if (!NeedsQuotes(value)) {
    out->append(value.data(), value.size());
    return;
  }
  out->push_back('"');
  for (size_t i = 0; i < value.size();) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      const size_t length = Utf8SequenceLength(value.substr(i));
      if (length == 0) {
        absl::StrAppend(out, "\\x", absl::string_view(&kHex[c >> 4], 1),
                        absl::string_view(&kHex[c & 0xF], 1));
        ++i;
      } else {
        out->append(value.data() + i, length);
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
      default:
        if (c < 0x20 || c == 0x7F) {
          absl::StrAppend(out, "\\u00", absl::string_view(&kHex[c >> 4], 1),
                          absl::string_view(&kHex[c & 0xF], 1));
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out->push_back('"');
}

}  // namespace pprocd
