// Map and Queue through a real pprocd: order, completeness, limits, chunking
// and flow control.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

class MapQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(ServerProcess::Options options) {
    std::string error;
    server_ = ServerProcess::Start(options, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

double Fib(int n) { return n <= 1 ? 1 : Fib(n - 1) + Fib(n - 2); }

TEST_F(MapQueueTest, MapOfFibIsCorrectAndInInputOrder) {
  ItemsOutcome outcome = RunItems(stub_.get(), true, "fib", Range(1, 30));
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(outcome.results[i].index(), static_cast<uint64_t>(i));
    EXPECT_EQ(outcome.results[i].value().number_value(), Fib(i + 1)) << "fib(" << i + 1 << ")";
  }
}

TEST_F(MapQueueTest, MapKeepsOrderWhenLaterItemsFinishFirst) {
  // Early items sleep longest, so they finish last.
  std::vector<google::protobuf::Value> inputs;
  for (int i = 0; i < 8; ++i) inputs.push_back(Num((8 - i) * 15));
  v1::CallOptions options;
  options.set_chunksize(1);
  ItemsOutcome outcome = RunItems(stub_.get(), true, "sleep_ms", inputs, options);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 8u);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(outcome.results[i].index(), static_cast<uint64_t>(i));
    EXPECT_EQ(outcome.results[i].value().number_value(), (8 - i) * 15);
  }
}

TEST_F(MapQueueTest, QueueReturnsEveryIndexExactlyOnceWithItsOwnResult) {
  std::vector<google::protobuf::Value> inputs;
  for (int i = 0; i < 300; ++i) inputs.push_back(Num(i % 7));
  ItemsOutcome outcome = RunItems(stub_.get(), false, "sleep_ms", inputs, {}, 37);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 300u);
  std::set<uint64_t> seen;
  for (const v1::ItemResult& result : outcome.results) {
    EXPECT_TRUE(seen.insert(result.index()).second) << "index " << result.index() << " twice";
    EXPECT_EQ(result.value().number_value(), static_cast<double>(result.index() % 7));
  }
  EXPECT_EQ(seen.size(), 300u);
}

TEST_F(MapQueueTest, QueueDeliversFastItemsBeforeSlowOnes) {
  v1::CallOptions options;
  options.set_chunksize(1);
  ItemsOutcome outcome =
      RunItems(stub_.get(), false, "sleep_ms", {Num(1500), Num(1), Num(2), Num(3)}, options);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 4u);
  EXPECT_EQ(outcome.results.back().index(), 0u) << "the slow item should complete last";
}

// Largest number of items whose [start, start + wall) intervals overlap.
int MaxConcurrency(const std::vector<v1::ItemResult>& results) {
  std::vector<std::pair<uint64_t, int>> events;
  for (const auto& result : results) {
    events.emplace_back(result.stats().start_unix_us(), +1);
    events.emplace_back(result.stats().start_unix_us() + result.stats().wall_us(), -1);
  }
  std::sort(events.begin(), events.end());
  int running = 0;
  int most = 0;
  for (const auto& [time, delta] : events) most = std::max(most, running += delta);
  return most;
}

TEST_F(MapQueueTest, LimitCapsConcurrentItemsOfTheCall) {
  server_.reset();
  Start({.workers = 4});
  std::vector<google::protobuf::Value> inputs(12, Num(40));
  v1::CallOptions options;
  options.set_limit(2);
  ItemsOutcome outcome = RunItems(stub_.get(), false, "sleep_ms", inputs, options);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 12u);
  EXPECT_LE(MaxConcurrency(outcome.results), 2);
  // Without a limit the same call does use more than two workers at once.
  ItemsOutcome unlimited = RunItems(stub_.get(), false, "sleep_ms", inputs, [] {
    v1::CallOptions o;
    o.set_chunksize(1);
    return o;
  }());
  ASSERT_OK(unlimited.status);
  EXPECT_GT(MaxConcurrency(unlimited.results), 2);
}

TEST_F(MapQueueTest, ArgumentsSpreadFromListsAndStructsWithDefaults) {
  google::protobuf::Value named;
  (*named.mutable_struct_value()->mutable_fields())["i"] = Num(3);
  (*named.mutable_struct_value()->mutable_fields())["j"] = Num(4);
  (*named.mutable_struct_value()->mutable_fields())["n"] = Num(100);
  ItemsOutcome outcome = RunItems(stub_.get(), true, "calculate",
                                  {List({Num(2), Num(5)}), named, List({Num(1), Num(1), Num(7)})});
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 3u);
  EXPECT_EQ(outcome.results[0].value().number_value(), 25);   // 2*10+5
  EXPECT_EQ(outcome.results[1].value().number_value(), 304);  // 3*100+4
  EXPECT_EQ(outcome.results[2].value().number_value(), 8);    // 1*7+1
}

TEST_F(MapQueueTest, ManyInputsAcrossManyRequestsAllComeBack) {
  std::vector<google::protobuf::Value> inputs = Range(0, 49999);
  ItemsOutcome outcome = RunItems(stub_.get(), true, "square", inputs, {}, 777);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 50000u);
  for (int i = 0; i < 50000; i += 997) {
    EXPECT_EQ(outcome.results[i].value().number_value(), static_cast<double>(i) * i);
  }
  EXPECT_GT(outcome.responses, 1);
}

TEST_F(MapQueueTest, EmptyInputFinishesWithNoResults) {
  ItemsOutcome outcome = RunItems(stub_.get(), true, "echo", {});
  EXPECT_OK(outcome.status);
  EXPECT_TRUE(outcome.results.empty());
}

TEST_F(MapQueueTest, SlowReaderHoldsServerQueueWithinTheWindow) {
  server_.reset();
  Start({.workers = 2, .extra_args = {"--call-window", "1000"}});
  constexpr int kMessages = 400;
  grpc::ClientContext context;
  auto stream = stub_->Map(&context);
  std::atomic<int> written{0};
  std::thread writer([&] {
    // 40 MB in all: more than the transport's buffers can absorb.
    const std::string padding(1000, 'p');
    for (int message = 0; message < kMessages; ++message) {
      v1::MapRequest request;
      if (message == 0) request.set_callable("echo");
      for (int i = 0; i < 100; ++i) {
        *request.add_inputs() = List({Num(message * 100 + i), Str(padding)});
      }
      if (!stream->Write(request)) return;
      ++written;
    }
    stream->WritesDone();
  });
  // Nobody reads for a while: the server must stop taking inputs.
  absl::SleepFor(absl::Milliseconds(1500));
  v1::GetStatusResponse status;
  {
    grpc::ClientContext status_context;
    ASSERT_OK(stub_->GetStatus(&status_context, {}, &status));
  }
  EXPECT_LE(status.items_queued(), 1100u);
  EXPECT_LT(written.load(), kMessages) << "all inputs were taken although nobody read results";
  v1::MapResponse response;
  uint64_t expected = 0;
  while (stream->Read(&response)) {
    for (const auto& result : response.results()) {
      ASSERT_EQ(result.index(), expected);
      ASSERT_EQ(result.value().list_value().values(0).number_value(),
                static_cast<double>(expected));
      ++expected;
    }
  }
  writer.join();
  EXPECT_OK(stream->Finish());
  EXPECT_EQ(expected, kMessages * 100u);
}

TEST_F(MapQueueTest, EveryResultCarriesItsStats) {
  ItemsOutcome outcome = RunItems(stub_.get(), true, "hog", {Num(32)});
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 1u);
  const v1::ItemStats& stats = outcome.results[0].stats();
  EXPECT_GT(stats.worker_pid(), 0);
  EXPECT_GT(stats.wall_us(), 0u);
  EXPECT_GE(stats.max_rss_kib(), 32u * 1024);
}

}  // namespace
}  // namespace pprocd::testing
