// WaitFor: a test waits for a condition (a worker respawned, a file written,
// a state reached) by asking it again until it holds or a deadline passes,
// instead of sleeping for a guessed time. Test-only.
//
//   ASSERT_TRUE(WaitFor([&] { return Status().workers_idle() == 2; }, absl::Seconds(10)))
//       << "both workers are back";
#ifndef PPROCD_TESTS_UTIL_WAIT_FOR_H_
#define PPROCD_TESTS_UTIL_WAIT_FOR_H_

#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pprocd::testing {

// Calls `condition` (a callable returning bool) until it returns true, every
// `interval`, for at most `timeout`. Returns true as soon as it holds; false
// if it still did not hold when asked once more at the deadline. The first
// call is immediate.
template <typename Condition>
bool WaitFor(Condition&& condition, absl::Duration timeout,
             absl::Duration interval = absl::Milliseconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(interval);
  }
  return true;
}

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_UTIL_WAIT_FOR_H_
