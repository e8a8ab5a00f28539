#include "base/log/log.h"

#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/base/const_init.h"
#include "absl/synchronization/mutex.h"

namespace pprocd {
namespace log_internal {

std::atomic<int> min_level{static_cast<int>(LogLevel::kInfo)};

namespace {

std::atomic<int> format{static_cast<int>(LogFormat::kText)};
std::atomic<int> output_fd{STDERR_FILENO};
// Held across the write, so that a line cut short by a signal or a full
// pipe is finished before another starts.
ABSL_CONST_INIT absl::Mutex write_mu(absl::kConstInit);

int64_t NowUnixMs() {
  timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

}  // namespace

void Write(LogLevel level, absl::string_view msg, absl::Span<const LogField> fields) {
  const std::string line =
      FormatLogLine(static_cast<LogFormat>(format.load(std::memory_order_relaxed)), NowUnixMs(),
                    level, msg, fields);
  const int fd = output_fd.load(std::memory_order_relaxed);
  absl::MutexLock lock(&write_mu);
  for (size_t written = 0; written < line.size();) {
    const ssize_t n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // Nowhere to log to (stderr closed, pipe gone): dropped.
    written += static_cast<size_t>(n);
  }
}

}  // namespace log_internal

void ConfigureLog(LogFormat format, LogLevel min_level) {
  log_internal::format.store(static_cast<int>(format), std::memory_order_relaxed);
  log_internal::min_level.store(static_cast<int>(min_level), std::memory_order_relaxed);
}

LogFormat CurrentLogFormat() {
  return static_cast<LogFormat>(log_internal::format.load(std::memory_order_relaxed));
}

LogLevel CurrentLogLevel() {
  return static_cast<LogLevel>(log_internal::min_level.load(std::memory_order_relaxed));
}

void SetLogOutput(int fd) { log_internal::output_fd.store(fd, std::memory_order_relaxed); }

}  // namespace pprocd
