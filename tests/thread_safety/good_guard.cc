// The correct twin of bad_guard.cc for scripts/check-thread-safety
// --self-test: every access to count_ holds mu_, so -Wthread-safety must
// accept this file. Not built by CMake.
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pprocd {

class Counter {
 public:
  void Add() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    AddLocked();
  }
  int Count() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    return count_;
  }

 private:
  void AddLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { ++count_; }

  mutable absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

int ReadCounter() {
  Counter counter;
  counter.Add();
  return counter.Count();
}

}  // namespace pprocd
