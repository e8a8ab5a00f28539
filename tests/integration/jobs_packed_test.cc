// Background jobs in the packed form through a real pprocd: a job stores
// its successful results as blocks; Reconnect gives them as blocks to a
// packed reader and one result per item to any other, the same items at
// the same seqs, from any after_seq, across restarts.
#include <gtest/gtest.h>
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/json/json.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

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

// A packed job of `callable` over the JSON array `inputs`.
v1::SubmitRequest PackedJob(const std::string& callable, std::string inputs, bool ordered = true) {
  v1::SubmitRequest request;
  request.set_callable(callable);
  request.mutable_options()->set_packed(true);
  request.set_packed_inputs(std::move(inputs));
  request.set_ordered(ordered);
  return request;
}

// Input i of the echo jobs: a number, a string or an object, in turn.
std::string EchoInput(int i) {
  switch (i % 3) {
    case 0:
      return absl::StrCat(i);
    case 1:
      return absl::StrCat("\"s", i, "\"");
    default:
      return absl::StrCat("{\"k\":[", i, ",true,null]}");
  }
}

std::string EchoInputs(int count) {
  std::string json = "[";
  for (int i = 0; i < count; ++i) absl::StrAppend(&json, i > 0 ? "," : "", EchoInput(i));
  return json + "]";
}

struct Stream {
  grpc::Status status;
  // Every output, those packed in `more` taken out, in stream order.
  std::vector<v1::ReconnectResponse> outputs;
  int messages = 0;
};

Stream Reconnect(v1::ProcessFarmService::Stub* stub, const std::string& job, uint64_t after_seq,
                 bool packed, uint32_t per_message = 64) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  v1::ReconnectRequest request;
  request.add_jobs(job);
  request.set_after_seq(after_seq);
  request.set_packed(packed);
  request.set_max_outputs_per_message(per_message);
  Stream stream;
  auto reader = stub->Reconnect(&context, request);
  v1::ReconnectResponse response;
  while (reader->Read(&response)) {
    ++stream.messages;
    google::protobuf::RepeatedPtrField<v1::ReconnectResponse> more;
    more.Swap(response.mutable_more());
    stream.outputs.push_back(response);
    for (v1::ReconnectResponse& output : more) stream.outputs.push_back(std::move(output));
  }
  stream.status = reader->Finish();
  return stream;
}

// Seqs run from `first` with no gap or repeat, a block taking one per item;
// returns the seq after the last.
uint64_t ExpectContiguous(const Stream& stream, uint64_t first) {
  uint64_t expected = first;
  for (const auto& output : stream.outputs) {
    EXPECT_EQ(output.seq(), expected);
    expected = output.seq() + (output.has_block() ? output.block().count() : 1);
  }
  return expected;
}

// A packed stream as a reader of the Value form gets it: each block as one
// `result` per item (index, value, last, its item_stats as stats).
std::vector<std::string> Expanded(const Stream& stream) {
  std::vector<std::string> outputs;
  for (const v1::ReconnectResponse& output : stream.outputs) {
    if (!output.has_block()) {
      outputs.push_back(output.SerializeAsString());
      continue;
    }
    const v1::ResultBlock& block = output.block();
    google::protobuf::RepeatedPtrField<google::protobuf::Value> values;
    const absl::Status parsed = ParseJsonArray(block.values(), &values);
    EXPECT_OK(parsed);
    EXPECT_EQ(values.size(), static_cast<int>(block.count()));
    for (int i = 0; i < values.size(); ++i) {
      v1::ReconnectResponse item;
      item.set_job_id(output.job_id());
      item.set_seq(output.seq() + static_cast<uint64_t>(i));
      v1::ItemResult* result = item.mutable_result();
      result->set_index(block.first_index() + static_cast<uint64_t>(i));
      *result->mutable_value() = values.Get(i);
      result->set_last(true);
      if (block.item_stats_size() == static_cast<int>(block.count())) {
        *result->mutable_stats() = block.item_stats(i);
      }
      outputs.push_back(item.SerializeAsString());
    }
  }
  return outputs;
}

std::vector<std::string> Serialized(const Stream& stream) {
  std::vector<std::string> outputs;
  for (const v1::ReconnectResponse& output : stream.outputs) {
    outputs.push_back(output.SerializeAsString());
  }
  return outputs;
}

// Each item's value as JSON, by index; failures as "error: <message>".
std::vector<std::string> ItemsByIndex(const Stream& stream, size_t count) {
  std::vector<std::string> items(count);
  for (const v1::ReconnectResponse& output : stream.outputs) {
    if (output.has_result()) {
      const v1::ItemResult& result = output.result();
      EXPECT_LT(result.index(), count);
      if (result.index() >= count) continue;
      EXPECT_TRUE(items[result.index()].empty()) << "item " << result.index() << " twice";
      if (result.has_error()) {
        items[result.index()] = "error: " + result.error().message();
      } else {
        AppendJson(result.value(), &items[result.index()]);
      }
    } else if (output.has_block()) {
      const v1::ResultBlock& block = output.block();
      std::vector<JsonElement> elements;
      EXPECT_OK(SplitJsonArray(block.values(), &elements));
      EXPECT_EQ(elements.size(), block.count());
      for (size_t i = 0; i < elements.size(); ++i) {
        const uint64_t index = block.first_index() + i;
        EXPECT_LT(index, count);
        if (index >= count) continue;
        EXPECT_TRUE(items[index].empty()) << "item " << index << " twice";
        absl::StatusOr<google::protobuf::Value> value =
            ParseJson(absl::string_view(block.values())
                          .substr(elements[i].begin, elements[i].end - elements[i].begin));
        EXPECT_OK(value);
        if (value.ok()) AppendJson(*value, &items[index]);
      }
    }
  }
  return items;
}

class JobsPackedTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start() {
    if (state_dir_.empty()) state_dir_ = MakeTempDir();
    std::string error;
    server_ = ServerProcess::Start({.state_dir = state_dir_}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    server_.reset();
    RemoveTree(state_dir_);
  }
  // Stops the server with `signal_number` and starts a new one on the same
  // state dir.
  void Restart(int signal_number) {
    server_->Signal(signal_number);
    ASSERT_NE(server_->WaitExit(absl::Seconds(30)), -1);
    server_.reset();
    Start();
  }

  std::string state_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

TEST_F(JobsPackedTest, TenThousandItemsReplayIdenticallyInBothForms) {
  constexpr int kItems = 10000;
  const Submitted submitted = Submit(stub_.get(), PackedJob("echo", EchoInputs(kItems)));
  ASSERT_OK(submitted.status);
  EXPECT_EQ(submitted.job.items_total(), static_cast<uint64_t>(kItems));

  const Stream packed = Reconnect(stub_.get(), submitted.job.id(), 0, /*packed=*/true);
  ASSERT_OK(packed.status);
  const uint64_t end = ExpectContiguous(packed, 1);
  const v1::Job& last = packed.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(last.items_done(), static_cast<uint64_t>(kItems));
  EXPECT_EQ(last.last_seq(), end - 1);
  const std::vector<std::string> items = ItemsByIndex(packed, kItems);
  for (int i = 0; i < kItems; ++i) {
    const absl::StatusOr<google::protobuf::Value> input = ParseJson(EchoInput(i));
    ASSERT_OK(input);
    std::string expected;
    AppendJson(*input, &expected);
    ASSERT_EQ(items[static_cast<size_t>(i)], expected) << "item " << i;
  }
  // Stored in bulk: far fewer outputs than items.
  EXPECT_LT(packed.outputs.size(), static_cast<size_t>(kItems / 10));

  // The Value form: the same items at the same seqs, one result each, in
  // messages of one output or of many.
  const std::vector<std::string> expanded = Expanded(packed);
  for (const uint32_t per_message : {1u, 64u}) {
    const Stream values =
        Reconnect(stub_.get(), submitted.job.id(), 0, /*packed=*/false, per_message);
    ASSERT_OK(values.status);
    for (const auto& output : values.outputs) ASSERT_FALSE(output.has_block());
    EXPECT_EQ(ExpectContiguous(values, 1), end);
    ASSERT_EQ(values.outputs.size(), expanded.size());
    EXPECT_TRUE(Serialized(values) == expanded) << "per message " << per_message;
  }
  // A second packed replay is the same.
  EXPECT_TRUE(Serialized(Reconnect(stub_.get(), submitted.job.id(), 0, true)) ==
              Serialized(packed));
}

TEST_F(JobsPackedTest, AfterSeqInsideABlockStartsWithTheRestOfIt) {
  v1::SubmitRequest request = PackedJob("echo", EchoInputs(2000));
  request.mutable_options()->set_item_stats(v1::ITEM_STATS_PER_ITEM);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  const Stream packed = Reconnect(stub_.get(), submitted.job.id(), 0, true);
  ASSERT_OK(packed.status);
  size_t at = 0;
  while (at < packed.outputs.size() &&
         !(packed.outputs[at].has_block() && packed.outputs[at].block().count() >= 3)) {
    ++at;
  }
  ASSERT_LT(at, packed.outputs.size()) << "a block of 3 items or more";
  const v1::ReconnectResponse& whole = packed.outputs[at];
  ASSERT_EQ(whole.block().item_stats_size(), static_cast<int>(whole.block().count()));
  const uint64_t after = whole.seq() + 1;  // Its first two items were read.

  const Stream rest = Reconnect(stub_.get(), submitted.job.id(), after, true);
  ASSERT_OK(rest.status);
  ASSERT_EQ(rest.outputs.size(), packed.outputs.size() - at);
  const v1::ReconnectResponse& tail = rest.outputs.front();
  ASSERT_TRUE(tail.has_block());
  EXPECT_EQ(tail.seq(), after + 1);
  EXPECT_EQ(tail.block().first_index(), whole.block().first_index() + 2);
  EXPECT_EQ(tail.block().count(), whole.block().count() - 2);
  ASSERT_EQ(tail.block().item_stats_size(), static_cast<int>(tail.block().count()));
  EXPECT_EQ(tail.block().item_stats(0).SerializeAsString(),
            whole.block().item_stats(2).SerializeAsString());
  std::vector<JsonElement> elements;
  ASSERT_OK(SplitJsonArray(whole.block().values(), &elements));
  EXPECT_EQ(tail.block().values(),
            absl::StrCat("[",
                         whole.block().values().substr(elements[2].begin,
                                                       elements.back().end - elements[2].begin),
                         "]"));
  for (size_t i = 1; i < rest.outputs.size(); ++i) {
    EXPECT_EQ(rest.outputs[i].SerializeAsString(), packed.outputs[at + i].SerializeAsString());
  }

  // The Value form from the same seq: the same items, one by one.
  const std::vector<std::string> expanded = Expanded(packed);
  const Stream values = Reconnect(stub_.get(), submitted.job.id(), after, false);
  ASSERT_OK(values.status);
  ASSERT_EQ(values.outputs.size(), expanded.size() - after);
  EXPECT_EQ(values.outputs.front().seq(), after + 1);
  EXPECT_EQ(values.outputs.front().result().index(), whole.block().first_index() + 2);
  EXPECT_TRUE(
      Serialized(values) ==
      std::vector<std::string>(expanded.begin() + static_cast<ptrdiff_t>(after), expanded.end()));
}

// A failure is an ItemResult beside the blocks, in its place; the job fails
// naming how many items failed, and both forms agree.
TEST_F(JobsPackedTest, AFailingItemAmongBlocksKeepsItsPlace) {
  constexpr int kItems = 200;
  std::string inputs = "[";
  for (int i = 0; i < kItems; ++i) {
    absl::StrAppend(&inputs, i > 0 ? "," : "", i == 77 ? "\"raise\"" : "\"ok\"");
  }
  inputs += "]";
  v1::SubmitRequest request = PackedJob("chaos", inputs);
  request.mutable_options()->set_chunksize(20);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  const Stream packed = Reconnect(stub_.get(), submitted.job.id(), 0, true);
  ASSERT_OK(packed.status);
  ExpectContiguous(packed, 1);
  int blocks = 0;
  int errors = 0;
  uint64_t next_index = 0;
  for (const auto& output : packed.outputs) {
    if (output.has_block()) {
      ++blocks;
      EXPECT_EQ(output.block().first_index(), next_index);
      next_index += output.block().count();
    } else if (output.has_result()) {
      ++errors;
      EXPECT_EQ(output.result().index(), 77u);
      EXPECT_EQ(next_index, 77u) << "in its place";
      EXPECT_EQ(output.result().error().message(), "chaos: raised on request");
      ++next_index;
    }
  }
  EXPECT_EQ(next_index, static_cast<uint64_t>(kItems));
  EXPECT_EQ(errors, 1);
  EXPECT_GE(blocks, 2);
  const v1::Job& last = packed.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(last.items_done(), static_cast<uint64_t>(kItems));
  EXPECT_EQ(last.error(), absl::StrCat("1 of ", kItems, " items failed"));
  const Stream values = Reconnect(stub_.get(), submitted.job.id(), 0, false);
  ASSERT_OK(values.status);
  EXPECT_TRUE(Serialized(values) == Expanded(packed));
}

// Every stored output survives a clean stop and a kill -9, and a job killed
// mid-run comes back INTERRUPTED counting the items its blocks hold.
TEST_F(JobsPackedTest, ARestartKeepsEveryOutput) {
  const Submitted done = Submit(stub_.get(), PackedJob("echo", EchoInputs(10000)));
  ASSERT_OK(done.status);
  const Stream before = Reconnect(stub_.get(), done.job.id(), 0, true);
  ASSERT_OK(before.status);
  ASSERT_EQ(before.outputs.back().job().state(), v1::JOB_STATE_SUCCEEDED);

  std::string sleeps = "[";
  for (int i = 0; i < 300; ++i) absl::StrAppend(&sleeps, i > 0 ? "," : "", 5);
  sleeps += "]";
  v1::SubmitRequest request = PackedJob("sleep_ms", sleeps);
  request.mutable_options()->set_chunksize(10);
  const Submitted killed = Submit(stub_.get(), request);
  ASSERT_OK(killed.status);
  // Watch live until some blocks are stored, then kill -9 mid-job.
  std::vector<std::string> seen_live;
  {
    grpc::ClientContext context;
    v1::ReconnectRequest watch;
    watch.add_jobs(killed.job.id());
    watch.set_packed(true);
    auto reader = stub_->Reconnect(&context, watch);
    v1::ReconnectResponse response;
    int blocks = 0;
    while (blocks < 3 && reader->Read(&response)) {
      blocks += response.has_block() ? 1 : 0;
      seen_live.push_back(response.SerializeAsString());
    }
    context.TryCancel();
    reader->Finish();
  }
  Restart(SIGKILL);
  Restart(SIGTERM);

  for (const bool packed_form : {true, false}) {
    const Stream after = Reconnect(stub_.get(), done.job.id(), 0, packed_form);
    ASSERT_OK(after.status);
    EXPECT_TRUE(Serialized(after) == (packed_form ? Serialized(before) : Expanded(before)));
  }
  const Stream interrupted = Reconnect(stub_.get(), killed.job.id(), 0, true);
  ASSERT_OK(interrupted.status);
  ExpectContiguous(interrupted, 1);
  ASSERT_GE(interrupted.outputs.size(), seen_live.size());
  for (size_t i = 0; i < seen_live.size(); ++i) {
    EXPECT_EQ(interrupted.outputs[i].SerializeAsString(), seen_live[i])
        << "what a watcher saw before the kill is stored as it was";
  }
  const v1::Job& last = interrupted.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_INTERRUPTED);
  uint64_t results = 0;
  for (const auto& output : interrupted.outputs) {
    if (output.has_block()) results += output.block().count();
    if (output.has_result()) ++results;
  }
  EXPECT_GE(results, 3u);
  EXPECT_LT(results, 300u);
  EXPECT_EQ(last.items_done(), results) << "counted from the stored blocks";
}

// An idempotency key names one packed request: the same one gets the same
// job, other packed inputs are refused naming the inputs.
TEST_F(JobsPackedTest, AReusedKeyWithOtherPackedInputsIsRefused) {
  v1::SubmitRequest request = PackedJob("square", "[1,2,3]");
  request.set_idempotency_key("batch-9");
  const Submitted first = Submit(stub_.get(), request);
  ASSERT_OK(first.status);
  const Submitted again = Submit(stub_.get(), request);
  ASSERT_OK(again.status);
  EXPECT_EQ(again.job.id(), first.job.id());
  request.set_packed_inputs("[1,2,4]");
  const Submitted other = Submit(stub_.get(), request);
  EXPECT_EQ(other.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(other.status.error_message().find("different inputs"), std::string::npos)
      << other.status.error_message();
}

}  // namespace
}  // namespace pprocd::testing
