// The process's log: one line per event on stderr (or the descriptor
// SetLogOutput names), with a UTC time, a level, a message and key=value
// fields, as logfmt text or JSON lines (log_format.h shows both).
//
//   LogWarn("item failed", {{"callable", name}, {"index", index}});
//
// Thread-safe: each line is formatted whole and written with one write(2)
// under a lock, so lines from threads (and processes sharing the
// descriptor, for lines up to PIPE_BUF bytes) never interleave. A line
// below the level set costs one relaxed atomic load, besides building its
// arguments; build costly ones under `if (LogEnabled(...))`.
//
// A forked child (the template, its workers) inherits the settings. What
// a worker writes on its own stderr is its item's output, not this log.
#ifndef PPROCD_BASE_LOG_LOG_H_
#define PPROCD_BASE_LOG_LOG_H_

#include <atomic>
#include <initializer_list>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/log/log_format.h"

namespace pprocd {

namespace log_internal {
extern std::atomic<int> min_level;
void Write(LogLevel level, absl::string_view msg, absl::Span<const LogField> fields);
}  // namespace log_internal

// Sets the format and the lowest level written (default: text, info).
// Meant for the start of main(); safe at any time.
void ConfigureLog(LogFormat format, LogLevel min_level);
LogFormat CurrentLogFormat();
LogLevel CurrentLogLevel();
// Where lines go (default 2, stderr); for tests. The descriptor is not
// owned and must stay open while lines may be written.
void SetLogOutput(int fd);

inline bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= log_internal::min_level.load(std::memory_order_relaxed);
}

inline void Log(LogLevel level, absl::string_view msg,
                std::initializer_list<LogField> fields = {}) {
  if (LogEnabled(level)) {
    log_internal::Write(level, msg, absl::MakeConstSpan(fields.begin(), fields.size()));
  }
}
// The same with fields gathered at run time (a vector, an array).
inline void LogFields(LogLevel level, absl::string_view msg, absl::Span<const LogField> fields) {
  if (LogEnabled(level)) log_internal::Write(level, msg, fields);
}
inline void LogDebug(absl::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kDebug, msg, fields);
}
inline void LogInfo(absl::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kInfo, msg, fields);
}
inline void LogWarn(absl::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kWarn, msg, fields);
}
inline void LogError(absl::string_view msg, std::initializer_list<LogField> fields = {}) {
  Log(LogLevel::kError, msg, fields);
}

}  // namespace pprocd

#endif  // PPROCD_BASE_LOG_LOG_H_
