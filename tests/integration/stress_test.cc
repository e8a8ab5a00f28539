// Many calls at once, mixing crashes, raises, timeouts, limits, fresh
// processes and cancels: every call ends with a complete answer or a clean
// cancel, and the server returns to an idle, whole pool with nothing queued.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <thread>

#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

const char* const kActions[] = {"ok",    "ok",    "ok",     "sleep:5",
                                "raise", "crash", "exit:3", "sleep:400"};

TEST(StressTest, MixedFailuresAndCancelsLeaveAWholeIdlePool) {
  std::string error;
  auto server = ServerProcess::Start({.workers = 3}, &error);
  ASSERT_NE(server, nullptr) << error;
  constexpr int kClients = 8;
  constexpr int kCallsPerClient = 6;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 random(1234 + c);
      auto stub = server->NewStub();
      for (int call = 0; call < kCallsPerClient; ++call) {
        const int count = 1 + static_cast<int>(random() % 40);
        std::vector<google::protobuf::Value> inputs;
        for (int i = 0; i < count; ++i) inputs.push_back(Str(kActions[random() % 8]));
        v1::CallOptions options;
        options.set_limit(static_cast<uint32_t>(random() % 3));
        options.set_chunksize(static_cast<uint32_t>(random() % 5));
        if (random() % 3 == 0) options.set_timeout_ms(200);
        if (random() % 5 == 0) options.set_isolation(v1::ISOLATION_FRESH);
        const bool ordered = random() % 2 == 0;
        if (random() % 4 == 0) {
          // Cancel part-way through.
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::milliseconds(50 + random() % 200));
          auto stream = stub->Queue(&context);
          v1::QueueRequest request;
          request.set_callable("chaos");
          *request.mutable_options() = options;
          for (const auto& input : inputs) *request.add_inputs() = input;
          stream->Write(request);
          stream->WritesDone();
          v1::QueueResponse response;
          while (stream->Read(&response)) {
          }
          const grpc::Status status = stream->Finish();
          EXPECT_TRUE(status.ok() || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)
              << status.error_message();
          continue;
        }
        ItemsOutcome outcome = RunItems(stub.get(), ordered, "chaos", inputs, options);
        ASSERT_OK(outcome.status);
        ASSERT_EQ(outcome.results.size(), inputs.size());
        std::set<uint64_t> seen;
        for (const auto& result : outcome.results) {
          EXPECT_TRUE(seen.insert(result.index()).second);
          const std::string action = inputs[result.index()].string_value();
          if (action == "crash" || action == "exit:3") {
            EXPECT_EQ(result.error().kind(), v1::ERROR_KIND_CRASHED) << action;
          } else if (action == "raise") {
            EXPECT_EQ(result.error().kind(), v1::ERROR_KIND_RAISED);
          } else if (action == "sleep:400" && options.timeout_ms() > 0) {
            // An item's time is counted from when the server has read the
            // result before it: a server stalled for 200 ms (sanitizers, a
            // storm of crashes) may see it finish in time.
            EXPECT_TRUE(result.error().kind() == v1::ERROR_KIND_TIMED_OUT ||
                        result.value().string_value() == "ok")
                << result.ShortDebugString();
          } else {
            EXPECT_EQ(result.value().string_value(), "ok") << action;
          }
        }
        if (ordered) {
          for (size_t i = 0; i < outcome.results.size(); ++i) {
            EXPECT_EQ(outcome.results[i].index(), i);
          }
        }
      }
    });
  }
  for (auto& client : clients) client.join();
  // Back to rest: nothing queued or running, every call closed, pool whole.
  auto stub = server->NewStub();
  v1::GetStatusResponse status;
  grpc::Status asked;
  WaitFor(
      [&] {
        grpc::ClientContext context;
        asked = stub->GetStatus(&context, {}, &status);
        return !asked.ok() || (status.workers_idle() == 3 && status.calls_active() == 0 &&
                               status.items_queued() == 0 && status.items_running() == 0 &&
                               status.workers_starting() == 0);
      },
      absl::Seconds(20), absl::Milliseconds(50));
  ASSERT_OK(asked);
  EXPECT_EQ(status.workers_idle(), 3u);
  EXPECT_EQ(status.workers_busy(), 0u);
  EXPECT_EQ(status.calls_active(), 0u);
  EXPECT_EQ(status.items_queued(), 0u);
  EXPECT_EQ(status.items_running(), 0u);
  EXPECT_EQ(server->Descendants().size(), 4u) << "template + 3 workers, no stray fresh process";
  // And it still computes.
  ItemsOutcome after = RunItems(stub.get(), true, "square", Range(0, 99));
  ASSERT_OK(after.status);
  EXPECT_EQ(after.results.at(99).value().number_value(), 9801);
}

}  // namespace
}  // namespace pprocd::testing
