// The server out of file descriptors while FRESH items start: a worker whose
// sockets cannot be handed over to the server (SCM_RIGHTS truncated) is not
// a crash of its item. Items wait and run once descriptors are back, or fail
// saying why after a bound; the server goes on serving.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

constexpr char kOutOfDescriptors[] =
    "the server ran out of file descriptors: the worker's sockets could not be handed over";

// The RLIMIT_NOFILE under which exactly `free` descriptor numbers are unused
// in `pid` (a new descriptor takes the lowest free number).
rlim_t LimitLeavingFree(pid_t pid, int free) {
  std::set<int> open;
  DIR* fds = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (fds == nullptr) return 0;
  while (dirent* entry = readdir(fds)) {
    if (entry->d_name[0] != '.') open.insert(std::atoi(entry->d_name));
  }
  closedir(fds);
  int number = 0;
  for (int unused = 0;; ++number) {
    if (open.count(number) == 0 && unused++ == free) break;
  }
  return static_cast<rlim_t>(number);
}

v1::CallOptions Fresh() {
  v1::CallOptions options;
  options.set_isolation(v1::ISOLATION_FRESH);
  options.set_chunksize(1);
  return options;
}

bool WaitForLog(const ServerProcess& server, const std::string& text, absl::Duration timeout) {
  return WaitFor([&] { return server.Stderr().find(text) != std::string::npos; }, timeout);
}

// Waits until the server has only its template and `pooled` workers left.
bool WaitForPool(const ServerProcess& server, size_t pooled) {
  return WaitFor([&] { return server.Descendants().size() == 1 + pooled; }, absl::Seconds(20));
}

// The server's descriptor limit, squeezed to leave `free` numbers unused
// for the life of the object (or until Restore()).
class SqueezedDescriptors {
 public:
  SqueezedDescriptors(pid_t pid, int free) : pid_(pid) {
    ok_ = prlimit(pid, RLIMIT_NOFILE, nullptr, &original_) == 0;
    rlimit tight = original_;
    tight.rlim_cur = LimitLeavingFree(pid, free);
    ok_ = ok_ && tight.rlim_cur > 0 && prlimit(pid, RLIMIT_NOFILE, &tight, nullptr) == 0;
  }
  ~SqueezedDescriptors() { Restore(); }
  bool ok() const { return ok_; }
  void Restore() {
    if (ok_) prlimit(pid_, RLIMIT_NOFILE, &original_, nullptr);
    ok_ = false;
  }

 private:
  pid_t pid_;
  rlimit original_{};
  bool ok_ = false;
};

class DescriptorExhaustionTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({.workers = 2}, &error);
    ASSERT_NE(server_, nullptr) << error;
    // The connection is made now: under the squeeze the server could not
    // accept it.
    stub_ = server_->NewStub();
    ItemsOutcome warm = RunItems(stub_.get(), true, "echo", {Num(0)}, Fresh());
    ASSERT_OK(warm.status);
    ASSERT_TRUE(WaitForPool(*server_, 2));
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

// With no descriptor free, none of a worker's sockets arrives; with two, one
// of the three is missing.
INSTANTIATE_TEST_SUITE_P(FreeDescriptors, DescriptorExhaustionTest, ::testing::Values(0, 2));

TEST_P(DescriptorExhaustionTest, FreshItemsWaitForDescriptorsAndRunOnceTheyAreBack) {
  SqueezedDescriptors squeeze(server_->pid(), GetParam());
  ASSERT_TRUE(squeeze.ok());
  ItemsOutcome outcome;
  std::thread caller([&] { outcome = RunItems(stub_.get(), true, "echo", Range(1, 4), Fresh()); });
  const bool noticed = WaitForLog(*server_, kOutOfDescriptors, absl::Seconds(20));
  squeeze.Restore();
  caller.join();
  EXPECT_TRUE(noticed) << server_->Stderr();
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 4u);
  for (const v1::ItemResult& result : outcome.results) {
    if (result.has_error()) {
      // Only if descriptors stayed short past the bound (a very slow host).
      EXPECT_NE(result.error().message().find(kOutOfDescriptors), std::string::npos)
          << result.error().message();
    } else {
      EXPECT_EQ(result.value().number_value(), static_cast<double>(result.index() + 1));
    }
  }
  EXPECT_TRUE(WaitForLog(*server_, "workers start again", absl::Seconds(10)));
}

TEST_P(DescriptorExhaustionTest, FreshItemsFailSayingWhyWhileDescriptorsStayShort) {
  // The squeeze counts the descriptors free now: wait until the warm-up's
  // FRESH process is wholly gone and no descriptor is being closed, or one
  // closed later would make room for a worker's sockets.
  int fds_before = CountFds(server_->pid());
  for (const absl::Time deadline = absl::Now() + absl::Seconds(5); absl::Now() < deadline;) {
    absl::SleepFor(absl::Milliseconds(200));
    const int now = CountFds(server_->pid());
    if (now == fds_before) break;
    fds_before = now;
  }
  {
    SqueezedDescriptors squeeze(server_->pid(), GetParam());
    ASSERT_TRUE(squeeze.ok());
    ItemsOutcome outcome = RunItems(stub_.get(), true, "echo", Range(1, 3), Fresh());
    ASSERT_OK(outcome.status);
    ASSERT_EQ(outcome.results.size(), 3u);
    for (const v1::ItemResult& result : outcome.results) {
      ASSERT_TRUE(result.has_error()) << "item " << result.index() << " ran";
      EXPECT_NE(result.error().message().find(kOutOfDescriptors), std::string::npos)
          << result.error().message();
      EXPECT_EQ(result.error().exit_code(), 0);
      EXPECT_EQ(result.error().signal(), "");
    }
  }
  // Descriptors are back: the server serves FRESH items again, and kept
  // none of those that arrived on the truncated hand-offs.
  ItemsOutcome after = RunItems(stub_.get(), true, "echo", Range(1, 3), Fresh());
  ASSERT_OK(after.status);
  ASSERT_EQ(after.results.size(), 3u);
  for (const v1::ItemResult& result : after.results) {
    EXPECT_EQ(result.value().number_value(), static_cast<double>(result.index() + 1))
        << result.error().message();
  }
  ASSERT_TRUE(WaitForPool(*server_, 2));
  // The last FRESH worker's output files are closed once the template has
  // reaped it, which may come just after its result: a leak stays.
  WaitFor([&] { return CountFds(server_->pid()) == fds_before; }, absl::Seconds(10));
  EXPECT_EQ(CountFds(server_->pid()), fds_before);
  grpc::ClientContext context;
  v1::GetStatusResponse status;
  ASSERT_OK(stub_->GetStatus(&context, {}, &status));
  EXPECT_EQ(status.workers_idle(), 2u);
}

}  // namespace
}  // namespace pprocd::testing
