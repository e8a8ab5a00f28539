// The built-in callables every pprocd serves: demos, CPU and memory
// benchmarks, and `chaos` for fault tests.
#ifndef PPROCD_WORKER_BUILTINS_H_
#define PPROCD_WORKER_BUILTINS_H_

#include "absl/status/status.h"
#include "worker/registry.h"

namespace pprocd {

// Adds echo, square, fib, ackermann, sleep_ms, calculate, hog, call_count
// and chaos.
absl::Status RegisterBuiltins(Registry* registry);

}  // namespace pprocd

#endif  // PPROCD_WORKER_BUILTINS_H_
