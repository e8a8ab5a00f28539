// Background jobs against a real pprocd, the way a careless client or a
// crash would treat them: a result larger than any message the server
// sends, kill -9 in the middle of a job, and an idempotency key reused for
// another request.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

struct Submitted {
  grpc::Status status;
  v1::Job job;
};

Submitted Submit(v1::ProcessFarmService::Stub* stub, const v1::SubmitRequest& request) {
  grpc::ClientContext context;
  v1::SubmitResponse response;
  Submitted out;
  out.status = stub->Submit(&context, request, &response);
  out.job = response.job();
  return out;
}

v1::SubmitRequest Job(const std::string& callable, const std::vector<Value>& inputs) {
  v1::SubmitRequest request;
  request.set_callable(callable);
  for (const Value& input : inputs) *request.add_inputs() = input;
  request.set_ordered(true);
  return request;
}

struct Stream {
  grpc::Status status;
  std::vector<v1::ReconnectResponse> outputs;
};

// Every output of `job` from the start, until the job has ended.
Stream ReplayAll(v1::ProcessFarmService::Stub* stub, const std::string& job) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::ReconnectRequest request;
  request.add_jobs(job);
  Stream stream;
  auto reader = stub->Reconnect(&context, request);
  v1::ReconnectResponse response;
  while (reader->Read(&response)) stream.outputs.push_back(response);
  stream.status = reader->Finish();
  return stream;
}

class JobsFaultTest : public ::testing::Test {
 protected:
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) RemoveTree(dir_);
  }
  void Start(std::vector<std::string> extra = {}) {
    if (dir_.empty()) dir_ = MakeTempDir();
    std::string error;
    server_ = ServerProcess::Start({.extra_args = std::move(extra), .state_dir = dir_ + "/state"},
                                   &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

// A result that no Reconnect message could carry is kept as a failed item
// of the same index: the outputs after it and the job's final state replay.
TEST_F(JobsFaultTest, AResultLargerThanAnyMessageIsStoredAsAFailedItemAndTheRestReplays) {
  dir_ = MakeTempDir();
  const std::string config = dir_ + "/pprocd.toml";
  // `big` writes as many bytes as its input asks for.
  std::ofstream(config) << R"([[callable]]
name = "big"
argv = ["sh", "-c", "read n; head -c \"$n\" /dev/zero | tr '\\000' x"]
output = "bytes"
)";
  constexpr int kLimit = 1 << 20;
  ASSERT_NO_FATAL_FAILURE(Start({"--config", config, "--max-message-bytes", absl::StrCat(kLimit)}));
  const Submitted submitted = Submit(stub_.get(), Job("big", {Num(3), Num(2 * kLimit), Num(5)}));
  ASSERT_OK(submitted.status);

  const Stream stream = ReplayAll(stub_.get(), submitted.job.id());
  ASSERT_OK(stream.status);
  std::vector<v1::ItemResult> results;
  for (const auto& output : stream.outputs) {
    if (output.has_result()) results.push_back(output.result());
  }
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].index(), 0u);
  EXPECT_FALSE(results[0].has_error());
  EXPECT_EQ(results[1].index(), 1u);
  ASSERT_TRUE(results[1].has_error());
  EXPECT_NE(results[1].error().message().find(
                absl::StrCat("exceeds the largest message the server sends (", kLimit, " bytes)")),
            std::string::npos)
      << results[1].error().message();
  EXPECT_TRUE(results[1].last());
  EXPECT_EQ(results[2].index(), 2u);
  EXPECT_FALSE(results[2].has_error());
  ASSERT_TRUE(stream.outputs.back().has_job());
  const v1::Job& last = stream.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_FAILED) << "one item failed";
  EXPECT_EQ(last.items_done(), 3u);
  EXPECT_EQ(last.last_seq(), stream.outputs.back().seq());
}

// A block of results stored under a larger --max-message-bytes than the
// server now has is replayed to a packed reader item by item, each in a
// message that fits: nothing is lost, and no message is over the limit.
TEST_F(JobsFaultTest, ABlockStoredUnderALargerLimitReplaysItemByItem) {
  constexpr int kItems = 200;
  constexpr size_t kItemBytes = 8000;
  ASSERT_NO_FATAL_FAILURE(Start());
  std::string inputs = "[";
  for (int i = 0; i < kItems; ++i) {
    absl::StrAppend(&inputs, i > 0 ? "," : "", "\"", std::string(kItemBytes, 'a' + i % 26), "\"");
  }
  inputs += "]";
  v1::SubmitRequest request;
  request.set_callable("echo");
  request.mutable_options()->set_packed(true);
  request.mutable_options()->set_chunksize(kItems);
  request.set_packed_inputs(inputs);
  request.set_ordered(true);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  const auto replay = [&] {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    v1::ReconnectRequest reconnect;
    reconnect.add_jobs(submitted.job.id());
    reconnect.set_packed(true);
    Stream stream;
    auto reader = stub_->Reconnect(&context, reconnect);
    v1::ReconnectResponse response;
    while (reader->Read(&response)) stream.outputs.push_back(response);
    stream.status = reader->Finish();
    return stream;
  };
  const Stream before = replay();
  ASSERT_OK(before.status);
  size_t largest = 0;
  for (const auto& output : before.outputs) largest = std::max(largest, output.ByteSizeLong());
  // The worker sends a block once it holds 64 KiB, or sooner when items
  // are slow (a loaded machine): the coming limit is taken from what was
  // stored, below the largest block and above any one item's message.
  ASSERT_GT(largest, 4 * kItemBytes) << "blocks of several items";
  const size_t kLimit = std::max<size_t>(2 * kItemBytes, largest / 2);

  server_.reset();
  ASSERT_NO_FATAL_FAILURE(Start({"--max-message-bytes", absl::StrCat(kLimit)}));
  const Stream after = replay();
  ASSERT_OK(after.status);
  uint64_t seq = 1;
  int items = 0;
  for (const auto& output : after.outputs) {
    EXPECT_LE(output.ByteSizeLong(), kLimit);
    EXPECT_EQ(output.seq(), seq);
    seq += output.has_block() ? output.block().count() : 1;
    if (output.has_block()) {
      items += static_cast<int>(output.block().count());
    } else if (output.has_result()) {
      ASSERT_FALSE(output.result().has_error()) << output.result().error().message();
      EXPECT_EQ(output.result().value().string_value(),
                std::string(kItemBytes, 'a' + output.result().index() % 26));
      ++items;
    }
  }
  EXPECT_EQ(items, kItems);
  EXPECT_EQ(after.outputs.back().job().state(), v1::JOB_STATE_SUCCEEDED);
}

// A packed Reconnect (as every client asks for) takes an output into a
// message only while the message still fits the limit: a small output
// followed by one just under the limit arrive as two messages, not as one
// message the server refuses to send.
TEST_F(JobsFaultTest, PackedReplayNeverMakesAMessageLargerThanTheLimit) {
  dir_ = MakeTempDir();
  const std::string config = dir_ + "/pprocd.toml";
  std::ofstream(config) << R"([[callable]]
name = "big"
argv = ["sh", "-c", "read n; head -c \"$n\" /dev/zero | tr '\\000' x"]
output = "bytes"
)";
  constexpr int kLimit = 1 << 20;
  ASSERT_NO_FATAL_FAILURE(Start({"--config", config, "--max-message-bytes", absl::StrCat(kLimit)}));
  const int near_limit = kLimit - 700;  // fits alone, not beside the 1000 bytes
  const Submitted submitted =
      Submit(stub_.get(), Job("big", {Num(1000), Num(near_limit), Num(near_limit), Num(7)}));
  ASSERT_OK(submitted.status);
  // Wait for the end of the job with one output per message, then replay
  // it packed.
  ASSERT_OK(ReplayAll(stub_.get(), submitted.job.id()).status);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::ReconnectRequest request;
  request.add_jobs(submitted.job.id());
  request.set_max_outputs_per_message(256);
  auto reader = stub_->Reconnect(&context, request);
  std::vector<uint64_t> sizes;
  int messages = 0;
  v1::ReconnectResponse response;
  while (reader->Read(&response)) {
    ++messages;
    std::vector<const v1::ReconnectResponse*> all = {&response};
    for (const v1::ReconnectResponse& more : response.more()) all.push_back(&more);
    for (const v1::ReconnectResponse* output : all) {
      if (output->has_result() && !output->result().has_error()) {
        sizes.push_back(output->result().value().string_value().size() +
                        output->result().data().size());
      }
    }
  }
  const grpc::Status status = reader->Finish();
  ASSERT_OK(status);
  ASSERT_EQ(sizes.size(), 4u) << "every result arrives, none failed";
  EXPECT_GE(messages, 3) << "the two large outputs cannot share a message; sizes "
                         << absl::StrJoin(sizes, ",");
}

// After kill -9, the job's items_done is the number of its final results
// the store kept, as Reconnect replays them.
TEST_F(JobsFaultTest, AfterKill9ItemsDoneIsTheNumberOfStoredResults) {
  ASSERT_NO_FATAL_FAILURE(Start());
  std::vector<Value> inputs;
  for (int i = 0; i < 400; ++i) inputs.push_back(Num(5));
  v1::SubmitRequest request = Job("sleep_ms", inputs);
  request.mutable_options()->set_chunksize(1);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  {
    // Watch live until some results are stored, then kill -9 mid-job.
    grpc::ClientContext context;
    v1::ReconnectRequest watch;
    watch.add_jobs(submitted.job.id());
    auto reader = stub_->Reconnect(&context, watch);
    v1::ReconnectResponse response;
    int seen = 0;
    while (seen < 40 && reader->Read(&response)) ++seen;
    context.TryCancel();
    reader->Finish();
    ASSERT_EQ(seen, 40);
  }
  server_->Signal(SIGKILL);
  ASSERT_NE(server_->WaitExit(absl::Seconds(30)), -1);
  server_.reset();
  ASSERT_NO_FATAL_FAILURE(Start());

  const Stream stream = ReplayAll(stub_.get(), submitted.job.id());
  ASSERT_OK(stream.status);
  // The results of the attempt: those after its RUNNING state.
  uint64_t stored = 0;
  for (const auto& output : stream.outputs) {
    if (output.has_job() && !output.progress() && output.job().state() == v1::JOB_STATE_RUNNING) {
      stored = 0;
    }
    if (output.has_result() && output.result().last()) ++stored;
  }
  ASSERT_GT(stored, 0u);
  ASSERT_TRUE(stream.outputs.back().has_job());
  const v1::Job& last = stream.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_INTERRUPTED);
  EXPECT_EQ(last.items_done(), stored);

  grpc::ClientContext context;
  v1::GetJobRequest get;
  get.set_job(submitted.job.id());
  v1::GetJobResponse got;
  ASSERT_OK(stub_->GetJob(&context, get, &got));
  EXPECT_EQ(got.job().items_done(), stored);
}

// An idempotency key names one request: the same request again is the same
// job; another callable or other inputs under that key are refused, with
// the difference named and the key quoted short.
TEST_F(JobsFaultTest, AnIdempotencyKeyReusedForAnotherRequestIsRefused) {
  ASSERT_NO_FATAL_FAILURE(Start());
  v1::SubmitRequest request = Job("square", {Num(3), Num(4)});
  request.set_idempotency_key("k");
  const Submitted first = Submit(stub_.get(), request);
  ASSERT_OK(first.status);
  const Submitted again = Submit(stub_.get(), request);
  ASSERT_OK(again.status);
  EXPECT_EQ(again.job.id(), first.job.id());

  v1::SubmitRequest other_callable = request;
  other_callable.set_callable("fib");
  const Submitted refused = Submit(stub_.get(), other_callable);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(refused.status.error_message(),
            "idempotency_key 'k' was used for a job of callable 'square'; this request names "
            "'fib'");

  v1::SubmitRequest other_inputs = Job("square", {Num(3), Num(5)});
  other_inputs.set_idempotency_key("k");
  const Submitted refused_inputs = Submit(stub_.get(), other_inputs);
  EXPECT_EQ(refused_inputs.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused_inputs.status.error_message().find("with different inputs"), std::string::npos)
      << refused_inputs.status.error_message();

  v1::SubmitRequest other_options = request;
  other_options.set_retries(2);
  const Submitted refused_options = Submit(stub_.get(), other_options);
  EXPECT_EQ(refused_options.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused_options.status.error_message().find("with different options"),
            std::string::npos)
      << refused_options.status.error_message();

  // A long key comes back cut short.
  const std::string long_key(64 * 1024, 'k');
  v1::SubmitRequest long_first = Job("square", {Num(1)});
  long_first.set_idempotency_key(long_key);
  ASSERT_OK(Submit(stub_.get(), long_first).status);
  v1::SubmitRequest long_other = long_first;
  long_other.set_callable("fib");
  const Submitted refused_long = Submit(stub_.get(), long_other);
  EXPECT_EQ(refused_long.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_LT(refused_long.status.error_message().size(), 300u)
      << refused_long.status.error_message().substr(0, 300);

  // The first job ran once, as first asked.
  const Stream stream = ReplayAll(stub_.get(), first.job.id());
  ASSERT_OK(stream.status);
  std::vector<double> values;
  for (const auto& output : stream.outputs) {
    if (output.has_result()) values.push_back(output.result().value().number_value());
  }
  EXPECT_EQ(values, (std::vector<double>{9, 16}));
}

}  // namespace
}  // namespace pprocd::testing
