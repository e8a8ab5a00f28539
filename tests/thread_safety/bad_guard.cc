// A deliberate mistake for scripts/check-thread-safety --self-test: Count()
// reads a field guarded by mu_ without holding mu_. clang's -Wthread-safety
// must refuse this file. Not built by CMake.
#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pprocd {

class Counter {
 public:
  void Add() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ++count_;
  }
  // The mistake: no lock.
  int Count() const { return count_; }

 private:
  mutable absl::Mutex mu_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

int ReadCounter() {
  Counter counter;
  counter.Add();
  return counter.Count();
}

}  // namespace pprocd
