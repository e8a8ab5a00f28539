// Channel callables through a real pprocd: Start (a two-way channel to one
// invocation), continuous Map and Queue (many results per input), output
// captured per item, and single items cancelled.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <thread>

#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

class ChannelTest : public ::testing::Test {
 protected:
  void SetUp() override { Start({}); }
  void Start(ServerProcess::Options options) {
    std::string error;
    server_ = ServerProcess::Start(options, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  v1::GetStatusResponse Status() {
    grpc::ClientContext context;
    v1::GetStatusResponse status;
    EXPECT_OK(stub_->GetStatus(&context, {}, &status));
    return status;
  }
  // Waits until no item runs and every pooled worker is idle.
  bool WaitPoolIdle() {
    return WaitFor(
        [&] {
          const v1::GetStatusResponse status = Status();
          return status.items_running() == 0 &&
                 status.workers_idle() == status.workers_configured() && status.calls_active() == 0;
        },
        absl::Seconds(5));
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

using StartStream = grpc::ClientReaderWriter<v1::StartRequest, v1::StartResponse>;

std::unique_ptr<StartStream> Open(v1::ProcessFarmService::Stub* stub, grpc::ClientContext* context,
                                  const std::string& callable, const Value& arguments,
                                  const v1::CallOptions& options = {}) {
  auto stream = stub->Start(context);
  v1::StartRequest first;
  first.set_callable(callable);
  *first.mutable_arguments() = arguments;
  *first.mutable_options() = options;
  EXPECT_TRUE(stream->Write(first));
  return stream;
}

bool SendMessage(StartStream* stream, const Value& value) {
  v1::StartRequest request;
  *request.mutable_message() = value;
  return stream->Write(request);
}

// Reads the rest of a Start stream: the messages, then the final result.
struct StartOutcome {
  std::vector<Value> messages;
  std::optional<v1::ItemResult> result;
  std::vector<v1::LogRecord> logs;
  grpc::Status status;
};

StartOutcome ReadToEnd(StartStream* stream) {
  StartOutcome outcome;
  v1::StartResponse response;
  while (stream->Read(&response)) {
    for (const auto& log : response.logs()) outcome.logs.push_back(log);
    if (response.has_message()) outcome.messages.push_back(response.message());
    if (response.has_result()) outcome.result = response.result();
  }
  outcome.status = stream->Finish();
  return outcome;
}

TEST_F(ChannelTest, CountdownAnswersEachNumberOverOneChannel) {
  grpc::ClientContext context;
  auto stream = Open(stub_.get(), &context, "countdown", Value());
  v1::StartResponse response;
  // pprocess's two-way test: each reply is the number received minus one.
  for (double k : {3.0, 2.0, 1.0}) {
    ASSERT_TRUE(SendMessage(stream.get(), Num(k)));
    ASSERT_TRUE(stream->Read(&response));
    ASSERT_TRUE(response.has_message()) << response.DebugString();
    EXPECT_EQ(response.message().number_value(), k - 1);
  }
  stream->WritesDone();
  StartOutcome rest = ReadToEnd(stream.get());
  ASSERT_OK(rest.status);
  EXPECT_TRUE(rest.messages.empty());
  ASSERT_TRUE(rest.result.has_value());
  EXPECT_TRUE(rest.result->last());
  EXPECT_EQ(rest.result->seq(), 3u);
  EXPECT_TRUE(rest.result->value().has_null_value());
  EXPECT_GT(rest.result->stats().worker_pid(), 0);
}

TEST_F(ChannelTest, AccumulateSumsUntilTheClientHalfCloses) {
  grpc::ClientContext context;
  auto stream = Open(stub_.get(), &context, "accumulate", Value());
  for (int i = 1; i <= 100; ++i) ASSERT_TRUE(SendMessage(stream.get(), Num(i)));
  stream->WritesDone();
  StartOutcome outcome = ReadToEnd(stream.get());
  ASSERT_OK(outcome.status);
  EXPECT_TRUE(outcome.messages.empty());
  ASSERT_TRUE(outcome.result.has_value());
  EXPECT_EQ(outcome.result->value().number_value(), 5050);
}

TEST_F(ChannelTest, ManyMessagesBothWaysArriveInOrder) {
  // More input than the server holds for one invocation: flow control
  // must neither lose nor reorder any.
  grpc::ClientContext context;
  auto stream = Open(stub_.get(), &context, "accumulate", Value());
  double expected = 0;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(SendMessage(stream.get(), Num(i)));
    expected += i;
  }
  stream->WritesDone();
  StartOutcome outcome = ReadToEnd(stream.get());
  ASSERT_OK(outcome.status);
  EXPECT_EQ(outcome.result->value().number_value(), expected);

  grpc::ClientContext rows_context;
  auto rows = Open(stub_.get(), &rows_context, "rows", Num(5000));
  rows->WritesDone();
  StartOutcome sent = ReadToEnd(rows.get());
  ASSERT_OK(sent.status);
  ASSERT_EQ(sent.messages.size(), 5000u);
  for (int k = 0; k < 5000; ++k) ASSERT_EQ(sent.messages[k].number_value(), k);
  EXPECT_EQ(sent.result->seq(), 5000u);
}

TEST_F(ChannelTest, StartOfAFunctionCallableGivesItsResult) {
  grpc::ClientContext context;
  auto stream = Open(stub_.get(), &context, "calculate_tagged", List({Num(3), Num(4)}));
  EXPECT_TRUE(SendMessage(stream.get(), Num(1)));  // Nobody receives it: ignored.
  stream->WritesDone();
  StartOutcome outcome = ReadToEnd(stream.get());
  ASSERT_OK(outcome.status);
  ASSERT_TRUE(outcome.result.has_value());
  const auto& list = outcome.result->value().list_value();
  ASSERT_EQ(list.values_size(), 3);
  EXPECT_EQ(list.values(2).number_value(), 34);
}

TEST_F(ChannelTest, FreshStartsRunInNewProcessesAndPooledOnesReuseThem) {
  auto call_count = [&](v1::Isolation isolation) {
    grpc::ClientContext context;
    v1::CallOptions options;
    options.set_isolation(isolation);
    auto stream = Open(stub_.get(), &context, "call_count", Value(), options);
    stream->WritesDone();
    StartOutcome outcome = ReadToEnd(stream.get());
    EXPECT_OK(outcome.status);
    return std::make_pair(outcome.result->value().number_value(),
                          outcome.result->stats().worker_pid());
  };
  std::set<int> fresh_pids;
  for (int i = 0; i < 3; ++i) {
    auto [count, pid] = call_count(v1::ISOLATION_FRESH);
    EXPECT_EQ(count, 1) << "a FRESH process has run nothing before";
    fresh_pids.insert(pid);
  }
  EXPECT_EQ(fresh_pids.size(), 3u);
  Start({.workers = 1});
  const auto first = call_count(v1::ISOLATION_POOLED);
  const auto second = call_count(v1::ISOLATION_POOLED);
  EXPECT_EQ(first.second, second.second);
  EXPECT_EQ(second.first, first.first + 1);
}

TEST_F(ChannelTest, CancellingAStartKillsTheInvocation) {
  grpc::ClientContext context;
  auto stream = Open(stub_.get(), &context, "countdown", Value());
  ASSERT_TRUE(SendMessage(stream.get(), Num(10)));
  v1::StartResponse response;
  ASSERT_TRUE(stream->Read(&response));
  const pid_t before = static_cast<pid_t>(Status().workers_busy());
  EXPECT_EQ(before, 1);
  context.TryCancel();
  while (stream->Read(&response)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // The worker waiting in receive() is killed and replaced.
  WaitFor([&] { return Status().workers_respawned() != 0; }, absl::Seconds(5));
  EXPECT_EQ(Status().workers_respawned(), 1u) << Status().DebugString() << server_->Stderr();
  EXPECT_TRUE(WaitPoolIdle());
}

TEST_F(ChannelTest, StartTimeoutKillsAChannelThatRunsTooLong) {
  grpc::ClientContext context;
  v1::CallOptions options;
  options.set_timeout_ms(300);
  Value args;
  *args.mutable_list_value()->add_values() = Num(1000000);
  *args.mutable_list_value()->add_values() = Num(10);
  auto stream = Open(stub_.get(), &context, "rows", args, options);
  stream->WritesDone();
  StartOutcome outcome = ReadToEnd(stream.get());
  ASSERT_OK(outcome.status);
  ASSERT_TRUE(outcome.result.has_value());
  EXPECT_EQ(outcome.result->error().kind(), v1::ERROR_KIND_TIMED_OUT);
  EXPECT_GT(outcome.messages.size(), 0u);
  EXPECT_EQ(outcome.result->seq(), outcome.messages.size());
  EXPECT_TRUE(WaitPoolIdle());
}

TEST_F(ChannelTest, BadStartRequestsGetAStatusNamingTheField) {
  {
    grpc::ClientContext context;
    auto stream = Open(stub_.get(), &context, "no_such_callable", Value());
    StartOutcome outcome = ReadToEnd(stream.get());
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::NOT_FOUND);
  }
  {
    grpc::ClientContext context;
    auto stream = Open(stub_.get(), &context, "rows", Str("many"));
    StartOutcome outcome = ReadToEnd(stream.get());
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(outcome.status.error_message().find("arguments: parameter 'count'"),
              std::string::npos)
        << outcome.status.error_message();
  }
  {
    grpc::ClientContext context;
    auto stream = Open(stub_.get(), &context, "countdown", Value());
    v1::StartRequest again;
    again.set_callable("countdown");
    stream->Write(again);
    StartOutcome outcome = ReadToEnd(stream.get());
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(outcome.status.error_message().find("callable"), std::string::npos);
  }
  {
    grpc::ClientContext context;
    auto stream = stub_->Start(&context);
    stream->WritesDone();
    StartOutcome outcome = ReadToEnd(stream.get());
    EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
  EXPECT_TRUE(WaitPoolIdle());
}

// Groups a continuous call's results by input.
std::map<uint64_t, std::vector<v1::ItemResult>> ByInput(const std::vector<v1::ItemResult>& all) {
  std::map<uint64_t, std::vector<v1::ItemResult>> grouped;
  for (const auto& result : all) grouped[result.index()].push_back(result);
  return grouped;
}

TEST_F(ChannelTest, ContinuousQueueGivesEveryRowValueWithSeqAndALastMark) {
  std::vector<Value> inputs;
  for (int i = 0; i < 10; ++i) inputs.push_back(List({Num(i), Num(10), Num(i % 3)}));
  ItemsOutcome outcome = RunItems(stub_.get(), false, "calculate_row", inputs);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 110u);  // 10 values and one end per row
  for (const auto& [index, results] : ByInput(outcome.results)) {
    ASSERT_EQ(results.size(), 11u);
    for (size_t seq = 0; seq < results.size(); ++seq) {
      EXPECT_EQ(results[seq].seq(), seq);
      EXPECT_EQ(results[seq].last(), seq == 10);
    }
    for (int j = 0; j < 10; ++j) {
      const auto& triple = results[j].value().list_value();
      EXPECT_EQ(triple.values(0).number_value(), index);
      EXPECT_EQ(triple.values(1).number_value(), j);
      EXPECT_EQ(triple.values(2).number_value(), index * 10 + j);
    }
    EXPECT_TRUE(results[10].value().has_null_value());
    EXPECT_GT(results[10].stats().worker_pid(), 0);
  }
}

TEST_F(ChannelTest, ContinuousMapGivesEachInputsResultsTogetherInInputOrder) {
  std::vector<Value> inputs;
  // Early rows are slow, so later rows finish first and must wait.
  for (int i = 0; i < 6; ++i) inputs.push_back(List({Num(4), Num((6 - i) * 3)}));
  v1::CallOptions options;
  options.set_chunksize(1);
  ItemsOutcome outcome = RunItems(stub_.get(), true, "rows", inputs, options);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 30u);
  for (size_t k = 0; k < outcome.results.size(); ++k) {
    EXPECT_EQ(outcome.results[k].index(), k / 5);
    EXPECT_EQ(outcome.results[k].seq(), k % 5);
  }
}

TEST_F(ChannelTest, AFastSenderAndASlowReaderStayWithinTheWindow) {
  Start({.extra_args = {"--call-window", "64"}});
  grpc::ClientContext context;
  auto stream = stub_->Queue(&context);
  v1::QueueRequest request;
  request.set_callable("rows");
  *request.add_inputs() = Num(20000);
  *request.add_inputs() = Num(20000);
  ASSERT_TRUE(stream->Write(request));
  stream->WritesDone();
  std::map<uint64_t, uint64_t> next_seq;
  v1::QueueResponse response;
  size_t total = 0;
  while (stream->Read(&response)) {
    for (const auto& result : response.results()) {
      EXPECT_EQ(result.seq(), next_seq[result.index()]++);
      ++total;
    }
  }
  ASSERT_OK(stream->Finish());
  EXPECT_EQ(total, 40002u);
}

TEST_F(ChannelTest, OutputIsCapturedPerItemAsLogs) {
  std::vector<Value> inputs;
  for (int i = 0; i < 6; ++i) {
    Value args;
    (*args.mutable_struct_value()->mutable_fields())["text"] =
        Str("line " + std::to_string(i) + "\n");
    (*args.mutable_struct_value()->mutable_fields())["stream"] = Str(i % 2 ? "stderr" : "stdout");
    inputs.push_back(args);
  }
  ItemsOutcome outcome = RunItems(stub_.get(), true, "write_output", inputs);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    const v1::ItemResult& result = outcome.results[i];
    ASSERT_EQ(result.logs_size(), 1) << "item " << i;
    EXPECT_EQ(result.logs(0).stream(), i % 2 ? v1::LOG_STREAM_STDERR : v1::LOG_STREAM_STDOUT);
    EXPECT_EQ(result.logs(0).data(), "line " + std::to_string(i) + "\n");
  }
  // Items that print nothing carry no logs.
  ItemsOutcome quiet = RunItems(stub_.get(), true, "echo", Range(1, 3));
  for (const auto& result : quiet.results) EXPECT_EQ(result.logs_size(), 0);
  // The server's own log never gets the items' output.
  EXPECT_EQ(server_->Stderr().find("line 1"), std::string::npos);
}

TEST_F(ChannelTest, LargeOutputIsBoundedWithTheDroppedBytesCounted) {
  Value args;
  auto& fields = *args.mutable_struct_value()->mutable_fields();
  fields["text"] = Str(std::string(99, 'x') + "\n");
  fields["count"] = Num(10000);  // 1 MB
  ItemsOutcome outcome = RunItems(stub_.get(), true, "write_output", {args});
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 1u);
  ASSERT_EQ(outcome.results[0].logs_size(), 1);
  const v1::LogRecord& log = outcome.results[0].logs(0);
  EXPECT_EQ(log.data().size(), 64u * 1024u);
  EXPECT_EQ(log.dropped_bytes(), 1000000u - 64u * 1024u);
  EXPECT_EQ(outcome.results[0].value().number_value(), 1000000);
}

TEST_F(ChannelTest, ACrashedItemsOutputComesWithItsFailure) {
  ItemsOutcome outcome = RunItems(stub_.get(), true, "chaos", {Str("ok"), Str("crash")});
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 2u);
  const v1::ItemResult& crashed = outcome.results[1];
  ASSERT_EQ(crashed.error().kind(), v1::ERROR_KIND_CRASHED);
  EXPECT_TRUE(crashed.last());
  EXPECT_NE(crashed.error().stderr_tail().find("chaos: crashing"), std::string::npos);
  ASSERT_EQ(crashed.logs_size(), 1);
  EXPECT_EQ(crashed.logs(0).stream(), v1::LOG_STREAM_STDERR);
  EXPECT_NE(crashed.logs(0).data().find("chaos: crashing"), std::string::npos);
}

TEST_F(ChannelTest, CancellingOneItemKillsOnlyThatItem) {
  grpc::ClientContext context;
  auto stream = stub_->Queue(&context);
  v1::QueueRequest request;
  request.set_callable("sleep_ms");
  request.mutable_options()->set_chunksize(1);
  request.mutable_options()->set_limit(1);
  for (int ms : {60000, 20, 20}) *request.add_inputs() = Num(ms);
  ASSERT_TRUE(stream->Write(request));
  // Item 0 runs (limit 1); items 1 and 2 wait. Cancel 0 (running) and 2
  // (queued).
  ASSERT_TRUE(WaitFor([&] { return Status().items_running() != 0; }, absl::Seconds(30),
                      absl::Milliseconds(5)))
      << "item 0 runs";
  v1::QueueRequest cancel;
  cancel.add_cancel_indices(0);
  cancel.add_cancel_indices(2);
  cancel.add_cancel_indices(99);  // Not an input: ignored.
  ASSERT_TRUE(stream->Write(cancel));
  stream->WritesDone();
  std::map<uint64_t, v1::ItemResult> results;
  v1::QueueResponse response;
  while (stream->Read(&response)) {
    for (const auto& result : response.results()) results[result.index()] = result;
  }
  ASSERT_OK(stream->Finish());
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].error().kind(), v1::ERROR_KIND_CANCELLED);
  EXPECT_NE(results[0].error().message().find("killed"), std::string::npos);
  EXPECT_EQ(results[1].value().number_value(), 20);
  EXPECT_EQ(results[2].error().kind(), v1::ERROR_KIND_CANCELLED);
  EXPECT_TRUE(WaitPoolIdle());
}

}  // namespace
}  // namespace pprocd::testing
