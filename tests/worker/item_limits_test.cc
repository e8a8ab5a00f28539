// Per-invocation resource limits, applied to this process (and a child).
#include "worker/item_limits.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <new>
#include <vector>

namespace pprocd {
namespace {

bool CanAllocateMib(size_t mib) {
  try {
    // Through a volatile pointer, so that the allocation is not elided.
    char* volatile block = new char[mib << 20];
    block[0] = 1;
    delete[] block;
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

TEST(ItemLimitsTest, AMemoryLimitFailsLargeAllocationsOnlyWhileItHolds) {
  if (kSanitized) GTEST_SKIP() << "AddressSanitizer reserves address space beyond any limit";
  v1::CallableLimits limits;
  limits.set_max_memory_mib(64);
  {
    const ScopedItemLimits scoped(limits);
    EXPECT_TRUE(CanAllocateMib(8));
    EXPECT_FALSE(CanAllocateMib(512));
  }
  EXPECT_TRUE(CanAllocateMib(512)) << "the limit is lifted after the item";
}

TEST(ItemLimitsTest, AnOpenFilesLimitHoldsWhileItHolds) {
  v1::CallableLimits limits;
  limits.set_max_open_files(64);
  std::vector<int> opened;
  {
    const ScopedItemLimits scoped(limits);
    for (int i = 0; i < 100; ++i) {
      const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      opened.push_back(fd);
    }
    EXPECT_LT(opened.size(), 64u);
  }
  for (int fd : opened) close(fd);
  const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0);
  close(fd);
}

TEST(ItemLimitsTest, ACpuLimitKillsABusyProcessWithSigxcpu) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    v1::CallableLimits limits;
    limits.set_cpu_seconds(1);
    const ScopedItemLimits scoped(limits);
    volatile unsigned long spin = 0;
    while (true) spin = spin + 1;
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGXCPU);
}

TEST(ItemLimitsTest, FailureKindNamesTheLimitThatWasHit) {
  v1::CallableLimits none;
  v1::CallableLimits memory;
  memory.set_max_memory_mib(10);
  v1::CallableLimits cpu;
  cpu.set_cpu_seconds(1);
  const absl::Status exhausted = absl::ResourceExhaustedError("out of memory");
  const absl::Status xcpu = absl::ResourceExhaustedError("command x was killed by SIGXCPU");
  EXPECT_EQ(FailureKind(exhausted, none), v1::ERROR_KIND_RAISED);
  EXPECT_EQ(FailureKind(exhausted, memory), v1::ERROR_KIND_MEMORY_LIMIT);
  EXPECT_EQ(FailureKind(xcpu, cpu), v1::ERROR_KIND_CPU_LIMIT);
  EXPECT_EQ(FailureKind(absl::UnknownError("boom"), memory), v1::ERROR_KIND_RAISED);
  // A program that ran out of memory says so on stderr.
  const absl::Status exited = absl::InternalError("command exited with status 1");
  EXPECT_EQ(FailureKind(exited, memory, "Traceback ...\nMemoryError\n"),
            v1::ERROR_KIND_MEMORY_LIMIT);
  EXPECT_EQ(FailureKind(exited, memory, "FATAL ERROR: ... JavaScript heap out of memory"),
            v1::ERROR_KIND_MEMORY_LIMIT);
  EXPECT_EQ(FailureKind(exited, none, "MemoryError\n"), v1::ERROR_KIND_RAISED)
      << "no memory limit, no MEMORY_LIMIT";
  EXPECT_EQ(FailureKind(exited, memory, "ValueError: bad\n"), v1::ERROR_KIND_RAISED);
}

}  // namespace
}  // namespace pprocd
