#include "base/clock.h"

#include <time.h>

#include "absl/time/clock.h"

namespace pprocd {
namespace {

class SystemClock final : public Clock {
 public:
  uint64_t MonotonicMicros() const override {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
  }
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace

const Clock& RealClock() {
  static const SystemClock* const clock = new SystemClock();
  return *clock;
}

}  // namespace pprocd
