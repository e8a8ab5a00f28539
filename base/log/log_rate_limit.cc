#include "base/log/log_rate_limit.h"

namespace pprocd {

bool LogRateLimit::Allow(uint64_t now_us, uint64_t* ended_suppressed) {
  *ended_suppressed = 0;
  if (!started_ || now_us - window_start_us_ >= kWindowUs) {
    *ended_suppressed = suppressed_;
    suppressed_ = 0;
    started_ = true;
    window_start_us_ = now_us;
    in_window_ = 0;
  }
  if (in_window_ < per_second_) {
    ++in_window_;
    return true;
  }
  ++suppressed_;
  return false;
}

uint64_t LogRateLimit::TakeSuppressed(uint64_t now_us) {
  if (suppressed_ == 0 || now_us - window_start_us_ < kWindowUs) return 0;
  const uint64_t taken = suppressed_;
  suppressed_ = 0;
  started_ = false;
  return taken;
}

uint64_t LogRateLimit::FlushDueUs() const {
  return suppressed_ == 0 ? UINT64_MAX : window_start_us_ + kWindowUs;
}

}  // namespace pprocd
