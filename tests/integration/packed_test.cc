// The packed form (CallOptions.packed): inputs as JSON arrays, successful
// results as ResultBlocks. It gives what the Value form gives, and bad
// packed input gets the same kind of status, naming where it is wrong.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "base/json/json.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

class PackedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({.workers = 2}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

v1::CallOptions Packed(v1::ItemStatsMode stats = v1::ITEM_STATS_UNSPECIFIED) {
  v1::CallOptions options;
  options.set_packed(true);
  options.set_item_stats(stats);
  return options;
}

Value Parsed(const std::string& json) {
  absl::StatusOr<Value> value = ParseJson(json);
  EXPECT_OK(value);
  return value.ok() ? *value : Value();
}

// A value as JSON with object keys sorted (a Struct's order is a hash
// map's).
std::string Canonical(const Value& value) {
  if (value.has_struct_value()) {
    std::map<std::string, const Value*> fields;
    for (const auto& [key, field] : value.struct_value().fields()) fields[key] = &field;
    std::string text = "{";
    for (const auto& [key, field] : fields) {
      if (text.size() > 1) text += ",";
      AppendJsonString(key, &text);
      text += ":" + Canonical(*field);
    }
    return text + "}";
  }
  if (value.has_list_value()) {
    std::string text = "[";
    for (const Value& element : value.list_value().values()) {
      if (text.size() > 1) text += ",";
      text += Canonical(element);
    }
    return text + "]";
  }
  std::string text;
  AppendJson(value, &text);
  return text;
}

// What a user compares between the forms: index, value or error kind,
// signal and message (a crash's message names a pid, which differs).
std::string Outcome(const v1::ItemResult& result) {
  std::string text = std::to_string(result.index()) + " ";
  if (result.has_error()) {
    const v1::ItemError& error = result.error();
    text += "error " + v1::ErrorKind_Name(error.kind()) + " " + error.signal();
    if (error.kind() == v1::ERROR_KIND_RAISED) text += " " + error.message();
  } else {
    text += Canonical(result.value());
  }
  return text;
}

std::vector<std::string> Outcomes(std::vector<v1::ItemResult> results) {
  std::sort(results.begin(), results.end(),
            [](const auto& a, const auto& b) { return a.index() < b.index(); });
  std::vector<std::string> outcomes;
  for (const auto& result : results) outcomes.push_back(Outcome(result));
  return outcomes;
}

TEST_F(PackedTest, MapOfManyItemsComesInOrderInBlocks) {
  const std::vector<Value> inputs = Range(0, 20000);
  ItemsOutcome outcome = RunItems(stub_.get(), true, "echo", inputs, Packed(), 4096);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ(outcome.results[i].index(), i);
    ASSERT_EQ(outcome.results[i].value().number_value(), static_cast<double>(i));
  }
  // Items travel in bulk: far fewer blocks than items, each with its
  // chunk's summary (the packed form's default).
  EXPECT_LT(outcome.blocks.size(), inputs.size() / 10);
  for (const v1::ResultBlock& block : outcome.blocks) {
    EXPECT_TRUE(block.has_stats());
    EXPECT_GT(block.stats().worker_pid(), 0);
    EXPECT_EQ(block.item_stats_size(), 0);
  }
}

TEST_F(PackedTest, BothFormsGiveTheSameResultsErrorsIncluded) {
  std::vector<Value> echoed = {Parsed("null"),
                               Parsed("true"),
                               Parsed("-0.5"),
                               Parsed("1e300"),
                               Parsed("\"héllo ✓ \\\"q\\\" \\n\""),
                               Parsed("[1,[2,[3]],{}]"),
                               Parsed("{\"a\":{\"b\":[null,false]},\"c\":\"\"}"),
                               Parsed("12345678901")};
  for (int i = 0; i < 300; ++i) echoed.push_back(Num(i));
  const std::vector<Value> chaos = {Str("ok"), Str("raise"),  Str("ok"),    Str("crash"),
                                    Str("ok"), Str("exit:3"), Str("raise"), Str("ok")};
  for (bool ordered : {true, false}) {
    for (const auto& [callable, inputs] : {std::pair{"echo", echoed}, std::pair{"chaos", chaos}}) {
      SCOPED_TRACE(std::string(callable) + (ordered ? " Map" : " Queue"));
      ItemsOutcome values = RunItems(stub_.get(), ordered, callable, inputs, {}, 50);
      ItemsOutcome packed = RunItems(stub_.get(), ordered, callable, inputs, Packed(), 50);
      ASSERT_OK(values.status);
      ASSERT_OK(packed.status);
      EXPECT_EQ(Outcomes(packed.results), Outcomes(values.results));
      if (ordered) {
        for (size_t i = 0; i < packed.results.size(); ++i) {
          ASSERT_EQ(packed.results[i].index(), i) << "Map results come in input order";
        }
      }
    }
  }
}

TEST_F(PackedTest, FailuresAndOutputComeAsItemResultsBesideTheBlocks) {
  std::vector<Value> inputs;
  for (int i = 0; i < 40; ++i) inputs.push_back(Str(i == 17 ? "raise" : "ok"));
  ItemsOutcome outcome = RunItems(stub_.get(), true, "chaos", inputs, Packed(), 40);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 40u);
  EXPECT_EQ(outcome.results[17].error().kind(), v1::ERROR_KIND_RAISED);
  EXPECT_TRUE(outcome.results[17].has_stats()) << "a failure keeps its own stats";
  uint64_t in_blocks = 0;
  for (const v1::ResultBlock& block : outcome.blocks) {
    in_blocks += block.count();
    EXPECT_FALSE(block.first_index() <= 17 && 17 < block.first_index() + block.count());
  }
  EXPECT_EQ(in_blocks, 39u);

  // An item that prints is an ItemResult with its logs.
  v1::CallOptions options = Packed();
  ItemsOutcome printed = RunItems(
      stub_.get(), true, "write_output",
      {Parsed(R"({"text":"hello"})"), Parsed(R"({"text":"again","stream":"stderr"})")}, options);
  ASSERT_OK(printed.status);
  ASSERT_EQ(printed.results.size(), 2u);
  ASSERT_EQ(printed.results[0].logs_size(), 1);
  EXPECT_EQ(printed.results[0].logs(0).data(), "hello");
  ASSERT_EQ(printed.results[1].logs_size(), 1);
  EXPECT_EQ(printed.results[1].logs(0).stream(), v1::LOG_STREAM_STDERR);
}

TEST_F(PackedTest, ACallChoosesItsStats) {
  const std::vector<Value> inputs = Range(0, 100);
  ItemsOutcome per_item =
      RunItems(stub_.get(), true, "echo", inputs, Packed(v1::ITEM_STATS_PER_ITEM));
  ASSERT_OK(per_item.status);
  ASSERT_FALSE(per_item.blocks.empty());
  for (const v1::ResultBlock& block : per_item.blocks) {
    EXPECT_EQ(block.item_stats_size(), static_cast<int>(block.count()));
  }
  for (const v1::ItemResult& result : per_item.results) {
    EXPECT_GT(result.stats().worker_pid(), 0);
  }
  ItemsOutcome none = RunItems(stub_.get(), true, "echo", inputs, Packed(v1::ITEM_STATS_NONE));
  ASSERT_OK(none.status);
  for (const v1::ResultBlock& block : none.blocks) {
    EXPECT_FALSE(block.has_stats());
    EXPECT_EQ(block.item_stats_size(), 0);
  }
  EXPECT_EQ(none.results.size(), inputs.size());
}

// One request of a packed call, sent raw, and the call's status.
grpc::Status RunPackedRequests(v1::ProcessFarmService::Stub* stub,
                               const std::vector<v1::MapRequest>& requests) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = stub->Map(&context);
  for (const v1::MapRequest& request : requests) {
    if (!stream->Write(request)) break;
  }
  stream->WritesDone();
  v1::MapResponse response;
  while (stream->Read(&response)) {
  }
  return stream->Finish();
}

v1::MapRequest FirstRequest(const std::string& callable, const std::string& packed_inputs,
                            bool packed = true) {
  v1::MapRequest request;
  request.set_callable(callable);
  request.mutable_options()->set_packed(packed);
  request.set_packed_inputs(packed_inputs);
  return request;
}

TEST_F(PackedTest, BadPackedInputIsRefusedNamingWhereAndTheServerGoesOn) {
  v1::MapRequest later;
  later.set_packed_inputs("[1, 2,, 3]");
  v1::MapRequest mixed_later;
  *mixed_later.add_inputs() = Num(1);
  struct Case {
    std::string name;
    std::vector<v1::MapRequest> requests;
    grpc::StatusCode code;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {"not JSON",
       {FirstRequest("echo", "[1, 2, nope]")},
       grpc::StatusCode::INVALID_ARGUMENT,
       "byte 7"},
      {"not an array",
       {FirstRequest("echo", "{\"a\": 1}")},
       grpc::StatusCode::INVALID_ARGUMENT,
       "byte 0"},
      {"unterminated",
       {FirstRequest("echo", "[1, 2")},
       grpc::StatusCode::INVALID_ARGUMENT,
       "packed_inputs of request 1"},
      {"bad in a later request",
       {FirstRequest("echo", "[0]"), later},
       grpc::StatusCode::INVALID_ARGUMENT,
       "packed_inputs of request 2: byte 6"},
      {"wrong type at an index",
       {FirstRequest("fib", "[1, 2, \"ten\"]")},
       grpc::StatusCode::INVALID_ARGUMENT,
       "inputs[2]: parameter 'n' of fib must be an integer, got string"},
      {"wrong type in a later request",
       {FirstRequest("fib", "[1, 2]"),
        [] {
          v1::MapRequest request;
          request.set_packed_inputs("[3, 4.5]");
          return request;
        }()},
       grpc::StatusCode::INVALID_ARGUMENT,
       "inputs[3]"},
      {"Value inputs in a packed call",
       {FirstRequest("echo", "[1]"), mixed_later},
       grpc::StatusCode::INVALID_ARGUMENT,
       "inputs: this call uses the packed form"},
      {"packed inputs in a Value-form call",
       {FirstRequest("echo", "[1]", /*packed=*/false)},
       grpc::StatusCode::INVALID_ARGUMENT,
       "packed_inputs: this call uses the Value form"},
      {"over the message limit",
       {FirstRequest("echo", "[\"" + std::string(20 << 20, 'x') + "\"]")},
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       ""},
  };
  for (const Case& bad : cases) {
    SCOPED_TRACE(bad.name);
    const grpc::Status status = RunPackedRequests(stub_.get(), bad.requests);
    EXPECT_EQ(status.error_code(), bad.code) << status.error_message();
    EXPECT_NE(status.error_message().find(bad.message_part), std::string::npos)
        << status.error_message();
  }
  ItemsOutcome after = RunItems(stub_.get(), true, "square", {Num(3)}, Packed());
  ASSERT_OK(after.status);
  EXPECT_EQ(after.results.at(0).value().number_value(), 9);
}

TEST_F(PackedTest, CancelledIndicesOfAPackedQueueEndCancelledAndTheRestRun) {
  grpc::ClientContext context;
  auto stream = stub_->Queue(&context);
  v1::QueueRequest first;
  first.set_callable("sleep_ms");
  first.mutable_options()->set_packed(true);
  first.mutable_options()->set_chunksize(1);
  first.set_packed_inputs("[3000, 3000, 1, 1, 1, 1]");
  ASSERT_TRUE(stream->Write(first));
  v1::QueueRequest cancel;
  cancel.add_cancel_indices(0);
  cancel.add_cancel_indices(1);
  cancel.add_cancel_indices(4);
  ASSERT_TRUE(stream->Write(cancel));
  stream->WritesDone();
  std::map<uint64_t, std::string> outcomes;
  v1::QueueResponse response;
  while (stream->Read(&response)) {
    for (const auto& result : response.results()) {
      outcomes[result.index()] = v1::ErrorKind_Name(result.error().kind());
    }
    for (const auto& block : response.blocks()) {
      for (uint64_t k = 0; k < block.count(); ++k) outcomes[block.first_index() + k] = "ok";
    }
  }
  ASSERT_OK(stream->Finish());
  EXPECT_EQ(outcomes, (std::map<uint64_t, std::string>{{0, "ERROR_KIND_CANCELLED"},
                                                       {1, "ERROR_KIND_CANCELLED"},
                                                       {2, "ok"},
                                                       {3, "ok"},
                                                       {4, "ERROR_KIND_CANCELLED"},
                                                       {5, "ok"}}));
}

TEST_F(PackedTest, StartTakesAndGivesPackedMessages) {
  grpc::ClientContext context;
  auto stream = stub_->Start(&context);
  v1::StartRequest first;
  first.set_callable("accumulate");
  first.mutable_options()->set_packed(true);
  ASSERT_TRUE(stream->Write(first));
  v1::StartRequest messages;
  messages.set_packed_messages("[1, 2, 3.5]");
  ASSERT_TRUE(stream->Write(messages));
  messages.set_packed_messages("[10]");
  ASSERT_TRUE(stream->Write(messages));
  stream->WritesDone();
  v1::StartResponse response;
  double sum = -1;
  while (stream->Read(&response)) {
    if (response.has_result()) sum = response.result().value().number_value();
  }
  const grpc::Status status = stream->Finish();
  ASSERT_OK(status);
  EXPECT_EQ(sum, 16.5);

  grpc::ClientContext rows_context;
  auto rows = stub_->Start(&rows_context);
  v1::StartRequest start_rows;
  start_rows.set_callable("rows");
  start_rows.mutable_options()->set_packed(true);
  start_rows.set_packed_arguments("{\"count\": 5}");
  ASSERT_TRUE(rows->Write(start_rows));
  rows->WritesDone();
  std::vector<double> sent;
  while (rows->Read(&response)) {
    if (response.packed_messages().empty()) continue;
    Value array = Parsed(response.packed_messages());
    for (const Value& value : array.list_value().values()) sent.push_back(value.number_value());
  }
  const grpc::Status rows_status = rows->Finish();
  ASSERT_OK(rows_status);
  EXPECT_EQ(sent, (std::vector<double>{0, 1, 2, 3, 4}));
}

}  // namespace
}  // namespace pprocd::testing
