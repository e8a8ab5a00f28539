#include "worker/item_limits.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/match.h"

namespace pprocd {
namespace {

// The process's address space now, in bytes (0 when unknown).
rlim_t AddressSpaceBytes() {
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long pages = 0;
  const int read = std::fscanf(statm, "%lu", &pages);
  std::fclose(statm);
  return read == 1 ? static_cast<rlim_t>(pages) * static_cast<rlim_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// CPU time used so far, rounded up to whole seconds.
rlim_t CpuSecondsUsed() {
  rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const long usec = usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
  return static_cast<rlim_t>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + usec / 1000000 +
                             (usec % 1000000 > 0 ? 1 : 0));
}

}  // namespace

ScopedItemLimits::ScopedItemLimits(const v1::CallableLimits& limits) {
  if (limits.max_memory_mib() > 0) {
    Set(RLIMIT_AS, AddressSpaceBytes() + static_cast<rlim_t>(limits.max_memory_mib()) * (1 << 20));
  }
  if (limits.cpu_seconds() > 0) {
    // RLIMIT_CPU counts the whole life of the process: allow this much
    // more than it has used (up to a second more, from the rounding).
    Set(RLIMIT_CPU, CpuSecondsUsed() + limits.cpu_seconds());
  }
  if (limits.max_open_files() > 0) Set(RLIMIT_NOFILE, limits.max_open_files());
}

void ScopedItemLimits::Set(int resource, rlim_t soft) {
  Saved& saved = saved_[count_];
  if (getrlimit(resource, &saved.value) != 0) return;
  rlimit lowered = saved.value;
  lowered.rlim_cur =
      saved.value.rlim_max == RLIM_INFINITY ? soft : std::min(soft, saved.value.rlim_max);
  if (setrlimit(resource, &lowered) != 0) return;
  saved.resource = resource;
  ++count_;
}

ScopedItemLimits::~ScopedItemLimits() {
  for (int i = count_ - 1; i >= 0; --i) setrlimit(saved_[i].resource, &saved_[i].value);
}

v1::ErrorKind FailureKind(const absl::Status& status, const v1::CallableLimits& limits,
                          absl::string_view stderr_tail) {
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    if (limits.cpu_seconds() > 0 && absl::StrContains(status.message(), "SIGXCPU")) {
      return v1::ERROR_KIND_CPU_LIMIT;
    }
    if (limits.max_memory_mib() > 0) return v1::ERROR_KIND_MEMORY_LIMIT;
  }
  if (limits.max_memory_mib() > 0) {
    for (absl::string_view sign :
         {"MemoryError", "out of memory", "Out of memory", "Cannot allocate memory",
          "std::bad_alloc", "Fatal process OOM"}) {
      if (absl::StrContains(status.message(), sign) || absl::StrContains(stderr_tail, sign)) {
        return v1::ERROR_KIND_MEMORY_LIMIT;
      }
    }
  }
  return v1::ERROR_KIND_RAISED;
}

}  // namespace pprocd
