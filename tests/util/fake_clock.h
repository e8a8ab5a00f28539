// A Clock that moves only when a test advances it: both of its readings
// (monotonic and wall) move together. Safe to read from any thread while
// the test advances it.
#ifndef PPROCD_TESTS_UTIL_FAKE_CLOCK_H_
#define PPROCD_TESTS_UTIL_FAKE_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace pprocd::testing {

class FakeClock final : public Clock {
 public:
  uint64_t MonotonicMicros() const override { return elapsed_us_.load() + kMonotonicStartUs; }
  absl::Time Now() const override { return wall_start_ + absl::Microseconds(elapsed_us_.load()); }

  // Moves both readings forward by `by` (>= 0).
  void Advance(absl::Duration by) {
    elapsed_us_.fetch_add(static_cast<uint64_t>(absl::ToInt64Microseconds(by)));
  }

 private:
  // Far from zero, as a real monotonic clock on a machine up for a while.
  static constexpr uint64_t kMonotonicStartUs = uint64_t{1000} * 1000 * 1000;
  const absl::Time wall_start_ = absl::Now();
  std::atomic<uint64_t> elapsed_us_{0};
};

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_UTIL_FAKE_CLOCK_H_
