// The client library in both forms of items (ClientOptions::packed) against
// FakeFarm: what goes on the wire, and that the user gets the same results
// either way.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fake_farm.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "pprocd/client/client.h"
#include "pprocd/client/input_source.h"
#include "pprocd/client/json.h"
#include "tests/util/status_matchers.h"

namespace pprocd::client {
namespace {

using google::protobuf::Value;
using google::protobuf::util::MessageDifferencer;
using ::pprocd::testing::StatusIs;
using testing::FakeFarm;
using ::testing::HasSubstr;

Value Json(const std::string& json) {
  absl::StatusOr<Value> value = ParseJsonValue(json);
  EXPECT_OK(value) << json;
  return value.ok() ? *value : Value();
}

// Inputs of every JSON kind, failures ("fail") and items that write logs
// ("log") among successes, so the packed form mixes blocks and ItemResults.
std::vector<Value> MixedInputs() {
  std::vector<Value> inputs;
  for (const char* json :
       {"1", "\"fail\"", "2.5", "-0.1", "1000000000000000", "\"log\"", "\"text \\\"quoted\\\" é\"",
        "null", "true", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}", "[]", "\"fail\"", "\"fail\"", "{}",
        "\"log\"", "[1,[2,[3]]]", "false"}) {
    inputs.push_back(Json(json));
  }
  return inputs;
}

ClientOptions Form(bool packed) {
  ClientOptions options;
  options.packed = packed;
  return options;
}

struct Collected {
  absl::Status status;
  std::vector<v1::ItemResult> results;
};

Collected RunAll(const Client& client, CallKind kind, const v1::CallOptions& options,
                 std::vector<Value> inputs, const std::string& callable = "echo") {
  ValueListSource source(std::move(inputs));
  Collected out;
  out.status = client.RunItems(kind, callable, options, source, [&](const v1::ItemResult& result) {
    out.results.push_back(result);
    return absl::OkStatus();
  });
  return out;
}

void ExpectSameResults(const std::vector<v1::ItemResult>& packed,
                       const std::vector<v1::ItemResult>& values) {
  ASSERT_EQ(packed.size(), values.size());
  for (size_t i = 0; i < packed.size(); ++i) {
    EXPECT_TRUE(MessageDifferencer::Equals(packed[i], values[i]))
        << "result " << i << ": packed " << packed[i].ShortDebugString() << "\nValue form "
        << values[i].ShortDebugString();
  }
}

TEST(PackedClientTest, MapAndQueueGiveTheSameResultsInBothForms) {
  FakeFarm farm;
  Client packed(farm.target(), Form(true));
  Client values(farm.target(), Form(false));
  // Every item's own stats in the packed form too: then even they match.
  v1::CallOptions per_item;
  per_item.set_item_stats(v1::ITEM_STATS_PER_ITEM);
  for (CallKind kind : {CallKind::kMap, CallKind::kQueue}) {
    Collected a = RunAll(packed, kind, per_item, MixedInputs());
    ASSERT_OK(a.status);
    EXPECT_TRUE(farm.options().packed());
    Collected b = RunAll(values, kind, v1::CallOptions(), MixedInputs());
    ASSERT_OK(b.status);
    EXPECT_FALSE(farm.options().packed());
    ExpectSameResults(a.results, b.results);
    ASSERT_EQ(a.results.size(), MixedInputs().size());
    // In input order: the merge of blocks and ItemResults keeps it.
    for (size_t i = 0; i < a.results.size(); ++i) EXPECT_EQ(a.results[i].index(), i);
    EXPECT_EQ(a.results[1].error().kind(), v1::ERROR_KIND_RAISED);
    EXPECT_EQ(a.results[5].logs(0).data(), "log\n");
  }
}

TEST(PackedClientTest, SendsEachRequestsInputsAsOneJsonArray) {
  FakeFarm farm;
  Client client(farm.target());  // The packed form is the default.
  Collected got = RunAll(client, CallKind::kMap, v1::CallOptions(),
                         {Json("1"), Json("\"a\""), Json("{\"k\":[true,null]}"), Json("0.5")});
  ASSERT_OK(got.status);
  EXPECT_TRUE(farm.options().packed());
  EXPECT_FALSE(farm.first_request_had_inputs());
  EXPECT_EQ(farm.packed_inputs(), std::vector<std::string>{"[1,\"a\",{\"k\":[true,null]},0.5]"});
  EXPECT_EQ(got.results.size(), 4u);
}

TEST(PackedClientTest, BatchesKeepTheInputCountLimit) {
  FakeFarm farm;
  ClientOptions options;
  options.max_inputs_per_request = 3;
  Client client(farm.target(), options);
  std::vector<Value> inputs;
  for (int i = 0; i < 7; ++i) inputs.push_back(Json(std::to_string(i)));
  Collected got = RunAll(client, CallKind::kMap, v1::CallOptions(), inputs);
  ASSERT_OK(got.status);
  EXPECT_EQ(farm.packed_inputs(), (std::vector<std::string>{"[0,1,2]", "[3,4,5]", "[6]"}));
  EXPECT_EQ(farm.inputs_received(), 7u);
}

TEST(PackedClientTest, ValueFormOptionSendsOneValuePerInput) {
  FakeFarm farm;
  Client client(farm.target(), Form(false));
  Collected got = RunAll(client, CallKind::kMap, v1::CallOptions(), {Json("1"), Json("2")});
  ASSERT_OK(got.status);
  EXPECT_FALSE(farm.options().packed());
  EXPECT_TRUE(farm.packed_inputs().empty());
  EXPECT_EQ(farm.inputs_received(), 2u);
  // The Value form's default: every item carries its own stats.
  EXPECT_EQ(got.results[1].stats().wall_us(), 2u);
}

TEST(PackedClientTest, ChunkTotalsGoToTheChunkStatsSinkByDefault) {
  FakeFarm farm;
  Client client(farm.target());
  ValueListSource source(MixedInputs());
  std::vector<v1::ItemResult> results;
  uint64_t covered = 0;
  uint64_t wall_us = 0;
  absl::Status status = client.RunItems(
      CallKind::kMap, "echo", v1::CallOptions(), source,
      [&](const v1::ItemResult& result) {
        results.push_back(result);
        return absl::OkStatus();
      },
      nullptr,
      [&](uint64_t first_index, uint32_t count, const v1::ItemStats& stats) {
        // Called before the chunk's items reach the sink.
        EXPECT_EQ(results.size(), first_index);
        covered += count;
        wall_us += stats.wall_us();
        EXPECT_EQ(stats.worker_pid(), 42u);
      });
  ASSERT_OK(status);
  ASSERT_EQ(results.size(), MixedInputs().size());
  uint64_t expected_wall = 0;
  uint64_t successes = 0;
  for (const v1::ItemResult& result : results) {
    if (result.has_value() && result.logs_size() == 0) {
      // Covered by a chunk's totals instead.
      EXPECT_FALSE(result.has_stats()) << result.ShortDebugString();
      ++successes;
      expected_wall += result.index() + 1;
    } else {
      EXPECT_TRUE(result.has_stats()) << result.ShortDebugString();
    }
  }
  EXPECT_EQ(covered, successes);
  EXPECT_EQ(wall_us, expected_wall);
}

TEST(PackedClientTest, MalformedBlockFailsTheCallAsInternal) {
  FakeFarm farm;
  Client client(farm.target());
  Collected got =
      RunAll(client, CallKind::kMap, v1::CallOptions(), {Json("1"), Json("2")}, "badblock");
  EXPECT_THAT(got.status,
              StatusIs(absl::StatusCode::kInternal, HasSubstr("malformed result block")));
  EXPECT_TRUE(got.results.empty());
}

TEST(PackedClientTest, StartExchangesTheSameMessagesInBothForms) {
  FakeFarm farm;
  for (bool packed : {true, false}) {
    SCOPED_TRACE(packed ? "packed" : "Value form");
    Client client(farm.target(), Form(packed));
    absl::StatusOr<std::unique_ptr<StartCall>> call =
        client.Start("echo", Json("{\"n\":[1,2]}"), v1::CallOptions());
    ASSERT_OK(call);
    ASSERT_TRUE((*call)->Send(Json("1")));
    ASSERT_TRUE((*call)->Send(Json("\"x\"")));
    (*call)->CloseSend();
    std::vector<std::string> received;
    while (true) {
      ASSERT_OK_AND_ASSIGN(std::optional<Value> got, (*call)->Receive());
      if (!got.has_value()) break;
      received.push_back(ValueToJson(*got));
    }
    EXPECT_EQ(received, (std::vector<std::string>{"1", "\"x\""}));
    EXPECT_EQ(ValueToJson((*call)->result().value()), "{\"n\":[1,2]}");
    const std::vector<v1::StartRequest> requests = farm.start_requests();
    ASSERT_EQ(requests.size(), 3u);
    EXPECT_EQ(requests[0].options().packed(), packed);
    if (packed) {
      EXPECT_EQ(requests[0].packed_arguments(), "{\"n\":[1,2]}");
      EXPECT_FALSE(requests[0].has_arguments());
      EXPECT_EQ(requests[1].packed_messages(), "[1]");
      EXPECT_EQ(requests[2].packed_messages(), "[\"x\"]");
    } else {
      EXPECT_TRUE(requests[0].packed_arguments().empty());
      EXPECT_TRUE(requests[1].has_message());
    }
  }
}

TEST(PackedClientTest, StartHandsOutMessagesThatCameTogetherOneByOne) {
  FakeFarm farm;
  Client client(farm.target());
  v1::CallOptions options;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<StartCall> call, client.Start("echo", Json("0"), options));
  // A value that is a list is one message, not several.
  ASSERT_TRUE(call->Send(Json("[7,8]")));
  call->CloseSend();
  absl::StatusOr<std::optional<Value>> first = call->Receive();
  ASSERT_TRUE(first.ok() && first->has_value()) << first.status();
  EXPECT_EQ(ValueToJson(**first), "[7,8]");
  absl::StatusOr<std::optional<Value>> end = call->Receive();
  ASSERT_OK(end);
  EXPECT_FALSE(end->has_value());
}

v1::SubmitRequest JobOf(std::vector<Value> inputs) {
  v1::SubmitRequest request;
  request.set_callable("echo");
  for (Value& input : inputs) *request.add_inputs() = std::move(input);
  return request;
}

std::vector<v1::ReconnectResponse> Follow(const Client& client, const std::string& job,
                                          uint64_t after_seq = 0) {
  v1::ReconnectRequest request;
  request.add_jobs(job);
  request.set_after_seq(after_seq);
  std::vector<v1::ReconnectResponse> outputs;
  absl::Status status = client.Reconnect(request, [&](const v1::ReconnectResponse& output) {
    outputs.push_back(output);
    return absl::OkStatus();
  });
  EXPECT_OK(status);
  return outputs;
}

TEST(PackedClientTest, SubmitSendsOneJsonArrayAndReconnectGivesTheSameOutputsInBothForms) {
  FakeFarm farm;
  Client packed(farm.target(), Form(true));
  Client values(farm.target(), Form(false));
  ASSERT_OK_AND_ASSIGN(v1::Job job, packed.Submit(JobOf(MixedInputs())));
  const v1::SubmitRequest sent = farm.last_submit();
  EXPECT_TRUE(sent.options().packed());
  EXPECT_EQ(sent.inputs_size(), 0);
  EXPECT_EQ(sent.packed_inputs().substr(0, 14), "[1,\"fail\",2.5,");
  EXPECT_EQ(job.items_total(), MixedInputs().size());

  for (uint64_t after_seq : {0, 4}) {
    std::vector<v1::ReconnectResponse> a = Follow(packed, job.id(), after_seq);
    std::vector<v1::ReconnectResponse> b = Follow(values, job.id(), after_seq);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].seq(), after_seq + i + 1);
      EXPECT_TRUE(MessageDifferencer::Equals(a[i], b[i]))
          << "output " << i << ": packed " << a[i].ShortDebugString() << "\nValue form "
          << b[i].ShortDebugString();
    }
  }

  // A Value-form Submit sends Values.
  ASSERT_OK(values.Submit(JobOf({Json("3")})));
  EXPECT_FALSE(farm.last_submit().options().packed());
  EXPECT_EQ(farm.last_submit().inputs_size(), 1);
}

}  // namespace
}  // namespace pprocd::client
