#include "pprocd/client/client.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "fake_farm.h"
#include "gtest/gtest.h"
#include "pprocd/client/input_source.h"
#include "tests/util/status_matchers.h"
#include "tests/util/values.h"

namespace pprocd::client {
namespace {

using ::pprocd::testing::Num;

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;
using ::testing::AllOf;
using testing::FakeFarm;
using ::testing::HasSubstr;

// Yields 0, 1, 2, ... up to `count` inputs (unbounded when count < 0),
// failing with `error` after `fail_after` inputs when that is >= 0.
class CountingSource : public InputSource {
 public:
  explicit CountingSource(int64_t count, int64_t fail_after = -1,
                          absl::Status error = absl::OkStatus())
      : count_(count), fail_after_(fail_after), error_(std::move(error)) {}
  absl::StatusOr<bool> Next(Value* value) override {
    if (next_ == fail_after_) return error_;
    if (count_ >= 0 && next_ == count_) return false;
    value->set_number_value(static_cast<double>(next_++));
    return true;
  }
  int64_t produced() const { return next_; }

 private:
  const int64_t count_;
  const int64_t fail_after_;
  const absl::Status error_;
  int64_t next_ = 0;
};

// Yields `ready` inputs, then waits in Next() (reporting NextIsReady() false)
// until Interrupt() or Release(); fails after `patience` so a broken client
// fails the test instead of hanging it.
class BlockingSource : public InputSource {
 public:
  explicit BlockingSource(int ready, absl::Duration patience = absl::Seconds(10))
      : ready_(ready), patience_(patience) {}
  absl::StatusOr<bool> Next(Value* value) override {
    if (produced_ < ready_) {
      value->set_number_value(produced_++);
      return true;
    }
    waiting_.Notify();
    if (!wake_.WaitForNotificationWithTimeout(patience_)) {
      return absl::DeadlineExceededError("BlockingSource was never woken");
    }
    if (interrupted_.HasBeenNotified()) {
      return absl::CancelledError("interrupted");
    }
    return false;  // Released: the inputs end.
  }
  bool NextIsReady() override { return produced_ < ready_; }
  void Interrupt() override {
    if (!interrupted_.HasBeenNotified()) interrupted_.Notify();
    if (!wake_.HasBeenNotified()) wake_.Notify();
  }
  void Release() {
    if (!wake_.HasBeenNotified()) wake_.Notify();
  }
  bool WaitUntilWaiting() { return waiting_.WaitForNotificationWithTimeout(patience_); }
  bool interrupted() const { return interrupted_.HasBeenNotified(); }

 private:
  const int ready_;
  const absl::Duration patience_;
  int produced_ = 0;
  absl::Notification waiting_;
  absl::Notification wake_;
  absl::Notification interrupted_;
};

TEST(ClientTest, MapDeliversEveryResultInInputOrder) {
  FakeFarm farm;
  Client client(farm.target());
  CountingSource inputs(10000);
  v1::CallOptions options;
  options.set_limit(3);
  options.set_expected_inputs(10000);
  std::vector<double> values;
  absl::Status status =
      client.RunItems(CallKind::kMap, "echo", options, inputs, [&](const v1::ItemResult& result) {
        EXPECT_EQ(result.index(), values.size());
        values.push_back(result.value().number_value());
        return absl::OkStatus();
      });
  ASSERT_OK(status);
  ASSERT_EQ(values.size(), 10000u);
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(values[i], i);
  EXPECT_EQ(farm.callable(), "echo");
  EXPECT_EQ(farm.options().limit(), 3u);
  EXPECT_EQ(farm.options().expected_inputs(), 10000u);
  // Header alone, then batches of at most 1024 inputs.
  EXPECT_FALSE(farm.first_request_had_inputs());
  EXPECT_EQ(farm.requests_received(), 1 + (10000 + 1023) / 1024);
  EXPECT_EQ(farm.inputs_received(), 10000u);
}

TEST(ClientTest, QueueUsesTheQueueRpc) {
  FakeFarm farm;
  Client client(farm.target());
  ValueListSource inputs({Num(7), Num(8)});
  std::vector<uint64_t> indices;
  absl::Status status = client.RunItems(CallKind::kQueue, "echo", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult& result) {
                                          indices.push_back(result.index());
                                          return absl::OkStatus();
                                        });
  ASSERT_OK(status);
  EXPECT_EQ(indices, (std::vector<uint64_t>{0, 1}));
}

TEST(ClientTest, LargeTrafficBothWaysDoesNotDeadlock) {
  // 40 MB each way: far beyond the flow-control windows, so the client must
  // read results while it is still writing inputs.
  FakeFarm farm;
  Client client(farm.target());
  std::vector<Value> payloads;
  Value big;
  big.set_string_value(std::string(20000, 'x'));
  payloads.assign(2000, big);
  ValueListSource inputs(std::move(payloads));
  size_t results = 0;
  absl::Status status = client.RunItems(CallKind::kMap, "echo", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult& result) {
                                          EXPECT_EQ(result.value().string_value().size(), 20000u);
                                          ++results;
                                          return absl::OkStatus();
                                        });
  ASSERT_OK(status);
  EXPECT_EQ(results, 2000u);
}

TEST(ClientTest, BatchesStayUnderTheByteLimit) {
  FakeFarm farm;
  Client client(farm.target());
  Value big;
  big.set_string_value(std::string(600 << 10, 'x'));  // 600 KiB.
  Value huge;
  huge.set_string_value(std::string(3 << 20, 'y'));  // Alone over 1 MiB.
  ValueListSource inputs({big, big, huge, Num(1), Num(2)});
  size_t results = 0;
  absl::Status status = client.RunItems(CallKind::kMap, "echo", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult&) {
                                          ++results;
                                          return absl::OkStatus();
                                        });
  ASSERT_OK(status);
  EXPECT_EQ(results, 5u);
  // Header, [big], [big], [huge], [1, 2].
  EXPECT_EQ(farm.requests_received(), 5);
}

TEST(ClientTest, SendsWhatItHasBeforeWaitingForSlowInput) {
  FakeFarm farm;
  Client client(farm.target());
  BlockingSource inputs(/*ready=*/3);
  int results = 0;
  absl::Status status = client.RunItems(CallKind::kMap, "echo", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult&) {
                                          // The 3 ready inputs come back while the source is
                                          // still waiting for its fourth.
                                          if (++results == 3) inputs.Release();
                                          return absl::OkStatus();
                                        });
  ASSERT_OK(status);
  EXPECT_EQ(results, 3);
}

TEST(ClientTest, FailedItemsAreResultsNotErrors) {
  FakeFarm farm;
  Client client(farm.target());
  Value fail;
  fail.set_string_value("fail");
  ValueListSource inputs({Num(1), fail});
  std::vector<v1::ItemResult> results;
  absl::Status status = client.RunItems(CallKind::kMap, "echo", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult& result) {
                                          results.push_back(result);
                                          return absl::OkStatus();
                                        });
  ASSERT_OK(status);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0].has_value());
  EXPECT_EQ(results[1].error().kind(), v1::ERROR_KIND_RAISED);
}

TEST(ClientTest, SinkErrorCancelsTheCallAndIsReturned) {
  FakeFarm farm;
  Client client(farm.target());
  CountingSource inputs(/*count=*/-1);  // Endless.
  int results = 0;
  absl::Status status = client.RunItems(
      CallKind::kMap, "echo", v1::CallOptions(), inputs, [&](const v1::ItemResult&) {
        return ++results == 5 ? absl::DataLossError("sink full") : absl::OkStatus();
      });
  EXPECT_EQ(status, absl::DataLossError("sink full"));
  EXPECT_EQ(results, 5);
  EXPECT_TRUE(farm.WaitForCancellation(absl::Seconds(10)));
}

TEST(ClientTest, InputErrorCancelsTheCallAndIsReturned) {
  FakeFarm farm;
  Client client(farm.target());
  CountingSource inputs(/*count=*/-1, /*fail_after=*/2000,
                        absl::InvalidArgumentError("stdin line 2001: bad"));
  absl::Status status = client.RunItems(CallKind::kQueue, "echo", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult&) { return absl::OkStatus(); });
  EXPECT_EQ(status, absl::InvalidArgumentError("stdin line 2001: bad"));
  EXPECT_TRUE(farm.WaitForCancellation(absl::Seconds(10)));
}

TEST(ClientTest, RpcErrorKeepsCodeAndMessageAndWakesBlockedInput) {
  FakeFarm farm;
  Client client(farm.target());
  BlockingSource inputs(/*ready=*/0);
  absl::Status status = client.RunItems(CallKind::kMap, "missing", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult&) { return absl::OkStatus(); });
  EXPECT_EQ(status, absl::NotFoundError("no callable named 'missing'"));
  EXPECT_TRUE(inputs.interrupted());
}

TEST(ClientTest, CancellerEndsACallFromAnotherThread) {
  FakeFarm farm;
  Client client(farm.target());
  BlockingSource inputs(/*ready=*/10);
  CallCanceller canceller;
  std::thread cancel([&] {
    ASSERT_TRUE(inputs.WaitUntilWaiting());
    canceller.Cancel();
  });
  absl::Status status = client.RunItems(
      CallKind::kMap, "hang", v1::CallOptions(), inputs,
      [&](const v1::ItemResult&) { return absl::OkStatus(); }, &canceller);
  cancel.join();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_TRUE(inputs.interrupted());
  EXPECT_TRUE(farm.WaitForCancellation(absl::Seconds(10)));
}

TEST(ClientTest, CancelledCancellerFailsTheCallAtOnce) {
  FakeFarm farm;
  Client client(farm.target());
  CallCanceller canceller;
  canceller.Cancel();
  CountingSource inputs(10);
  absl::Status status = client.RunItems(
      CallKind::kMap, "echo", v1::CallOptions(), inputs,
      [&](const v1::ItemResult&) { return absl::OkStatus(); }, &canceller);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled));
  EXPECT_EQ(inputs.produced(), 0);
}

TEST(ClientTest, UnreachableServerNamesTheAddressAndHowToStartIt) {
  const std::string target = "unix:/nonexistent-pproc-test-dir/s.sock";
  Client client(target);
  CountingSource inputs(3);
  absl::Status status = client.RunItems(CallKind::kMap, "echo", v1::CallOptions(), inputs,
                                        [&](const v1::ItemResult&) { return absl::OkStatus(); });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable,
                               AllOf(HasSubstr(target), HasSubstr("scripts/run"))));

  absl::StatusOr<v1::GetStatusResponse> response = client.GetStatus();
  EXPECT_THAT(response, StatusIs(absl::StatusCode::kUnavailable, HasSubstr(target)));
}

TEST(ClientTest, UnaryCallsReturnTheResponse) {
  FakeFarm farm;
  Client client(farm.target());
  absl::StatusOr<v1::ListCallablesResponse> callables = client.ListCallables();
  ASSERT_OK(callables);
  ASSERT_EQ(callables->callables_size(), 1);
  EXPECT_EQ(callables->callables(0).name(), "echo");
  ASSERT_OK_AND_ASSIGN(v1::GetStatusResponse status, client.GetStatus());
  EXPECT_EQ(status.workers_configured(), 4u);
}

v1::SubmitRequest JobRequest(const std::string& callable, std::vector<Value> inputs) {
  v1::SubmitRequest request;
  request.set_callable(callable);
  for (Value& input : inputs) *request.add_inputs() = std::move(input);
  return request;
}

TEST(ClientJobsTest, SubmitSendsTheRequestAndReturnsTheJob) {
  FakeFarm farm;
  Client client(farm.target());
  v1::SubmitRequest request = JobRequest("echo", {Num(1), Num(2)});
  request.set_name("pair");
  request.set_retries(3);
  ASSERT_OK_AND_ASSIGN(v1::Job job, client.Submit(request));
  EXPECT_EQ(job.id(), "job-1");
  EXPECT_EQ(job.name(), "pair");
  EXPECT_EQ(job.items_total(), 2u);
  EXPECT_EQ(farm.last_submit().retries(), 3u);
  EXPECT_EQ(client.Submit(JobRequest("missing", {Num(1)})).status(),
            absl::NotFoundError("no callable named 'missing'"));
}

TEST(ClientJobsTest, ReconnectPassesEveryOutputAfterTheSeqAndEndsWithTheJob) {
  FakeFarm farm;
  Client client(farm.target());
  ASSERT_OK(client.Submit(JobRequest("echo", {Num(5), Num(6)})));
  v1::ReconnectRequest request;
  request.add_jobs("job-1");
  std::vector<v1::ReconnectResponse> outputs;
  const JobOutputSink sink = [&](const v1::ReconnectResponse& output) {
    outputs.push_back(output);
    return absl::OkStatus();
  };
  ASSERT_OK(client.Reconnect(request, sink));
  ASSERT_EQ(outputs.size(), 4u);
  EXPECT_EQ(outputs[0].job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(outputs[1].result().value().number_value(), 5);
  EXPECT_EQ(outputs[2].result().value().number_value(), 6);
  EXPECT_EQ(outputs[3].job().state(), v1::JOB_STATE_SUCCEEDED);
  for (size_t i = 0; i < outputs.size(); ++i) EXPECT_EQ(outputs[i].seq(), i + 1);

  outputs.clear();
  request.set_after_seq(2);
  ASSERT_OK(client.Reconnect(request, sink));
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].seq(), 3u);

  request.set_jobs(0, "nope");
  EXPECT_EQ(client.Reconnect(request, sink), absl::NotFoundError("no job 'nope'"));
}

TEST(ClientJobsTest, ReconnectSinkErrorAndCancellerEndTheFollow) {
  FakeFarm farm;
  Client client(farm.target());
  ASSERT_OK(client.Submit(JobRequest("hang", {Num(1)})));
  v1::ReconnectRequest request;
  request.add_jobs("job-1");
  EXPECT_EQ(
      client.Reconnect(
          request, [](const v1::ReconnectResponse&) { return absl::DataLossError("sink full"); }),
      absl::DataLossError("sink full"));

  CallCanceller canceller;
  absl::Notification first_output;
  std::thread cancel([&] {
    ASSERT_TRUE(first_output.WaitForNotificationWithTimeout(absl::Seconds(10)));
    canceller.Cancel();
  });
  absl::Status status = client.Reconnect(
      request,
      [&](const v1::ReconnectResponse&) {
        if (!first_output.HasBeenNotified()) first_output.Notify();
        return absl::OkStatus();
      },
      &canceller);
  cancel.join();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kCancelled));
}

TEST(ClientJobsTest, ForEachJobFetchesEveryPageNewestFirst) {
  FakeFarm farm;
  Client client(farm.target());
  for (int i = 0; i < 5; ++i) ASSERT_OK(client.Submit(JobRequest("echo", {Num(i)})));
  v1::ListJobsRequest request;
  request.set_page_size(2);
  std::vector<std::string> ids;
  absl::Status status = client.ForEachJob(request, [&](const v1::Job& job) {
    ids.push_back(job.id());
    return absl::OkStatus();
  });
  ASSERT_OK(status);
  EXPECT_EQ(ids, (std::vector<std::string>{"job-5", "job-4", "job-3", "job-2", "job-1"}));
  EXPECT_EQ(farm.list_jobs_calls(), 3);

  ASSERT_OK_AND_ASSIGN(v1::ListJobsResponse page, client.ListJobs(request));
  EXPECT_EQ(page.jobs_size(), 2);
  EXPECT_FALSE(page.next_page_token().empty());

  // The visitor's error stops the listing.
  int visited = 0;
  EXPECT_EQ(client.ForEachJob(request,
                              [&](const v1::Job&) {
                                return ++visited == 3 ? absl::AbortedError("enough")
                                                      : absl::OkStatus();
                              }),
            absl::AbortedError("enough"));
  EXPECT_EQ(visited, 3);
}

TEST(ClientJobsTest, GetCancelAndDeleteKeepTheServersCodeAndMessage) {
  FakeFarm farm;
  Client client(farm.target());
  v1::SubmitRequest request = JobRequest("hang", {Num(1)});
  request.set_name("long");
  ASSERT_OK(client.Submit(request));
  ASSERT_OK_AND_ASSIGN(v1::Job job, client.GetJob("long"));
  EXPECT_EQ(job.state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(client.DeleteJob("long"),
            absl::FailedPreconditionError("job long is RUNNING: cancel it before deleting it"));
  ASSERT_OK_AND_ASSIGN(v1::Job cancelled, client.CancelJob("job-1"));
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_OK(client.DeleteJob("long"));
  EXPECT_EQ(client.GetJob("long").status(), absl::NotFoundError("no job 'long'"));
  EXPECT_THAT(client.CancelJob("long"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(ClientJobsTest, UnreachableServerNamesTheAddress) {
  const std::string target = "unix:/nonexistent-pproc-test-dir/s.sock";
  Client client(target);
  absl::StatusOr<v1::Job> job = client.GetJob("x");
  EXPECT_THAT(job, StatusIs(absl::StatusCode::kUnavailable, HasSubstr(target)));
  v1::ReconnectRequest request;
  request.add_jobs("x");
  absl::Status status =
      client.Reconnect(request, [](const v1::ReconnectResponse&) { return absl::OkStatus(); });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("scripts/run")));
}

}  // namespace
}  // namespace pprocd::client
