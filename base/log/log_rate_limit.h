// LogRateLimit: at most N lines of one kind per second, so that a burst of
// events (a thousand items crashing at once) cannot flood the log; the
// events past the cap are counted, and their count is logged once, as one
// "suppressed" line, when the second is over.
//
// Not thread-safe (its owner locks or confines it); time is passed in, so
// tests drive it without a clock.
#ifndef PPROCD_BASE_LOG_LOG_RATE_LIMIT_H_
#define PPROCD_BASE_LOG_LOG_RATE_LIMIT_H_

#include <cstdint>

namespace pprocd {

class LogRateLimit {
 public:
  static constexpr uint64_t kWindowUs = 1000000;

  explicit LogRateLimit(uint32_t per_second) : per_second_(per_second) {}

  // An event at `now_us` (any monotonic clock, in microseconds): true if it
  // may be logged. Events past the cap within one second return false and
  // are counted. `*ended_suppressed` gets the count of those of a second
  // that has ended (0 if none): the caller logs it first.
  bool Allow(uint64_t now_us, uint64_t* ended_suppressed);
  // The events suppressed in a second that has ended by `now_us`, taken
  // (the next call returns 0): the caller logs their count. 0 while the
  // second that suppressed them is still running.
  uint64_t TakeSuppressed(uint64_t now_us);
  // When TakeSuppressed() will next return more than 0 (UINT64_MAX: no
  // event is suppressed), for a timer.
  uint64_t FlushDueUs() const;

 private:
  const uint32_t per_second_;
  bool started_ = false;
  uint64_t window_start_us_ = 0;
  uint32_t in_window_ = 0;
  uint64_t suppressed_ = 0;
};

}  // namespace pprocd

#endif  // PPROCD_BASE_LOG_LOG_RATE_LIMIT_H_
