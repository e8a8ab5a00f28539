// POOLED reuses processes, FRESH gives every item a new one, and
// --max-tasks-per-worker recycles pooled workers.
#include <gtest/gtest.h>

#include <set>

#include "tests/util/must_start.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

v1::CallOptions Options(v1::Isolation isolation, uint32_t chunksize = 1) {
  v1::CallOptions options;
  options.set_isolation(isolation);
  options.set_chunksize(chunksize);
  return options;
}

std::set<int> Pids(const ItemsOutcome& outcome) {
  std::set<int> pids;
  for (const auto& result : outcome.results) pids.insert(result.stats().worker_pid());
  return pids;
}

TEST(IsolationTest, PooledCallsReuseTheSameProcesses) {
  auto server = MustStart({.workers = 2});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  std::vector<google::protobuf::Value> inputs(20, google::protobuf::Value());
  ItemsOutcome first =
      RunItems(stub.get(), true, "call_count", inputs, Options(v1::ISOLATION_POOLED));
  ItemsOutcome second =
      RunItems(stub.get(), true, "call_count", inputs, Options(v1::ISOLATION_UNSPECIFIED));
  ASSERT_OK(first.status);
  ASSERT_OK(second.status);
  EXPECT_LE(Pids(first).size(), 2u);
  EXPECT_EQ(Pids(first), Pids(second)) << "the second call should run on the same workers";
  // State persists in a reused process: the counts add up to 40 over both calls.
  double highest = 0;
  for (const auto& result : second.results)
    highest = std::max(highest, result.value().number_value());
  EXPECT_GT(highest, 10);
}

TEST(IsolationTest, FreshRunsEveryItemInANewProcessWithNoLeftoverState) {
  auto server = MustStart({.workers = 2});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  ItemsOutcome pooled =
      RunItems(stub.get(), true, "call_count", std::vector<google::protobuf::Value>(4),
               Options(v1::ISOLATION_POOLED));
  std::vector<google::protobuf::Value> inputs(12, google::protobuf::Value());
  ItemsOutcome fresh =
      RunItems(stub.get(), false, "call_count", inputs, Options(v1::ISOLATION_FRESH));
  ASSERT_OK(fresh.status);
  ASSERT_EQ(fresh.results.size(), 12u);
  for (const auto& result : fresh.results) {
    EXPECT_EQ(result.value().number_value(), 1) << "a FRESH process has run nothing before";
  }
  const std::set<int> fresh_pids = Pids(fresh);
  EXPECT_EQ(fresh_pids.size(), 12u) << "one process per item";
  for (int pid : Pids(pooled)) EXPECT_EQ(fresh_pids.count(pid), 0u);
  // FRESH processes are gone once their item is done.
  EXPECT_TRUE(
      WaitAllGone(std::vector<pid_t>(fresh_pids.begin(), fresh_pids.end()), absl::Seconds(10)));
  // The pool was not touched.
  v1::GetStatusResponse status;
  grpc::ClientContext context;
  ASSERT_OK(stub->GetStatus(&context, {}, &status));
  EXPECT_EQ(status.workers_respawned(), 0u);
}

TEST(IsolationTest, FreshCrashFailsOnlyItsItemAndLimitHolds) {
  auto server = MustStart({.workers = 3});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  std::vector<google::protobuf::Value> inputs(6, Str("sleep:30"));
  inputs[2] = Str("crash");
  v1::CallOptions options = Options(v1::ISOLATION_FRESH);
  options.set_limit(2);
  ItemsOutcome outcome = RunItems(stub.get(), true, "chaos", inputs, options);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    if (i == 2) {
      EXPECT_EQ(outcome.results[i].error().kind(), v1::ERROR_KIND_CRASHED);
    } else {
      EXPECT_EQ(outcome.results[i].value().string_value(), "ok");
    }
  }
}

TEST(IsolationTest, MaxTasksPerWorkerRecyclesPooledWorkers) {
  auto server = MustStart({.workers = 1, .extra_args = {"--max-tasks-per-worker", "3"}});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  std::vector<google::protobuf::Value> inputs(12, google::protobuf::Value());
  ItemsOutcome outcome =
      RunItems(stub.get(), true, "call_count", inputs, Options(v1::ISOLATION_POOLED, 0));
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 12u);
  for (int i = 0; i < 12; ++i) {
    EXPECT_EQ(outcome.results[i].value().number_value(), i % 3 + 1) << "item " << i;
  }
  EXPECT_EQ(Pids(outcome).size(), 4u);
  v1::GetStatusResponse status;
  grpc::ClientContext context;
  ASSERT_OK(stub->GetStatus(&context, {}, &status));
  EXPECT_GE(status.workers_recycled(), 4u);
  EXPECT_EQ(status.workers_respawned(), 0u);
}

}  // namespace
}  // namespace pprocd::testing
