// Time as a component reads it, so that a test can set it: the process's
// real clocks in production (RealClock), a clock advanced by hand in tests
// (tests/util/fake_clock.h). A component takes a `const Clock&` and reads
// nothing else.
#ifndef PPROCD_BASE_CLOCK_H_
#define PPROCD_BASE_CLOCK_H_

#include <cstdint>

#include "absl/time/time.h"

namespace pprocd {

class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds of a clock that never steps back (CLOCK_MONOTONIC): for
  // durations and deadlines.
  virtual uint64_t MonotonicMicros() const = 0;
  // Wall time: for timestamps and ages shown to people, and deadlines kept
  // as absl::Time. Thread-safe, as MonotonicMicros.
  virtual absl::Time Now() const = 0;
};

// The real clocks; lives as long as the process.
const Clock& RealClock();

}  // namespace pprocd

#endif  // PPROCD_BASE_CLOCK_H_
