// Resource limits of one invocation, applied to the worker process while the
// item runs (setrlimit soft limits, relative to what the process already
// uses) and lifted afterwards. Child processes a callable starts inherit
// them.
#ifndef PPROCD_WORKER_ITEM_LIMITS_H_
#define PPROCD_WORKER_ITEM_LIMITS_H_

#include <sys/resource.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "pprocd/v1/callable.pb.h"
#include "pprocd/v1/item.pb.h"

namespace pprocd {

class ScopedItemLimits {
 public:
  explicit ScopedItemLimits(const v1::CallableLimits& limits);
  ~ScopedItemLimits();
  ScopedItemLimits(const ScopedItemLimits&) = delete;
  ScopedItemLimits& operator=(const ScopedItemLimits&) = delete;

 private:
  struct Saved {
    int resource = -1;
    rlimit value{};
  };
  void Set(int resource, rlim_t soft);

  Saved saved_[3];
  int count_ = 0;
};

// The kind of a failed invocation's error: a limit's kind when `status`
// says a limit was hit (ResourceExhausted under a memory limit, or a
// SIGXCPU under a CPU limit), else ERROR_KIND_RAISED. A program the item ran
// (a command callable) cannot report its own allocation failure: under a
// memory limit, an error whose `stderr_tail` says memory ran out
// (MemoryError, "out of memory", ENOMEM's "Cannot allocate memory",
// std::bad_alloc, V8's "Fatal process OOM"), in its message or its
// `stderr_tail`, is ERROR_KIND_MEMORY_LIMIT too.
v1::ErrorKind FailureKind(const absl::Status& status, const v1::CallableLimits& limits,
                          absl::string_view stderr_tail = "");

}  // namespace pprocd

#endif  // PPROCD_WORKER_ITEM_LIMITS_H_
