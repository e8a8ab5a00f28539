// Requests a careless or hostile client sends: bytes that do not parse in
// the middle of a stream or as a unary request, values far too long to
// echo back, and Reconnect sequence numbers at the top of the range.
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

// The path of `method`: an RpcMethod keeps a pointer to it, not a copy.
const std::string& MethodPath(const std::string& method) {
  static auto* const paths = new std::map<std::string, std::string>;
  auto [it, added] = paths->emplace(method, "");
  if (added) it->second = "/pprocd.v1.ProcessFarmService/" + method;
  return it->second;
}

// A client that sends and receives bytes as they are, so that a test can
// send what no generated stub would.
using RawStream = grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>;

grpc::ByteBuffer Bytes(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

grpc::ByteBuffer Serialized(const google::protobuf::MessageLite& message) {
  return Bytes(message.SerializeAsString());
}

std::unique_ptr<RawStream> OpenRawStream(grpc::Channel* channel, const std::string& method,
                                         grpc::ClientContext* context) {
  const grpc::internal::RpcMethod rpc(MethodPath(method).c_str(),
                                      grpc::internal::RpcMethod::BIDI_STREAMING);
  return std::unique_ptr<RawStream>(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          channel, rpc, context));
}

grpc::Status RawUnary(grpc::Channel* channel, const std::string& method,
                      const std::string& request) {
  const grpc::internal::RpcMethod rpc(MethodPath(method).c_str(),
                                      grpc::internal::RpcMethod::NORMAL_RPC);
  grpc::ClientContext context;
  grpc::ByteBuffer response;
  return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      channel, rpc, &context, Bytes(request), &response);
}

grpc::Status RawReconnect(grpc::Channel* channel, const std::string& request) {
  const grpc::internal::RpcMethod rpc(MethodPath("Reconnect").c_str(),
                                      grpc::internal::RpcMethod::SERVER_STREAMING);
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
      grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(channel, rpc, &context,
                                                                    Bytes(request)));
  grpc::ByteBuffer response;
  while (reader->Read(&response)) {
  }
  return reader->Finish();
}

// `message` serialized, with its one string "@@@@" replaced by bytes that
// are not UTF-8 (protobuf refuses such a string field when it parses).
std::string WithInvalidUtf8(const google::protobuf::MessageLite& message) {
  std::string bytes = message.SerializeAsString();
  const size_t at = bytes.find("@@@@");
  EXPECT_NE(at, std::string::npos);
  if (at != std::string::npos) bytes.replace(at, 4, "\xff\xfe\xc3\x28");
  return bytes;
}

// A value of lists nested `depth` deep: past protobuf's recursion limit of
// 100 when it parses (serializing it has no limit).
Value Nested(int depth) {
  Value value = Num(1);
  for (int i = 0; i < depth; ++i) {
    Value outer;
    *outer.mutable_list_value()->add_values() = std::move(value);
    value = std::move(outer);
  }
  return value;
}

v1::MapRequest Items(const std::string& callable, const std::vector<Value>& inputs) {
  v1::MapRequest request;
  request.set_callable(callable);
  for (const Value& input : inputs) *request.add_inputs() = input;
  return request;
}

// The two kinds of bytes that do not parse, as the inputs of a Map (or
// Queue: the fields are the same) request.
struct BadBytes {
  std::string name;
  std::string bytes;
  std::string reason_part;
};

std::vector<BadBytes> BadItemRequests() {
  return {{"invalid UTF-8", WithInvalidUtf8(Items("", {Str("@@@@")})), "UTF-8"},
          {"nested 200 deep", Items("", {Nested(200)}).SerializeAsString(), "nested"}};
}

class RequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({.workers = 2}, &error);
    ASSERT_NE(server_, nullptr) << error;
    channel_ = server_->NewChannel();
    stub_ = v1::ProcessFarmService::NewStub(channel_);
  }

  // Map or Queue of [1, 2], then `bad`, then [3]; the call's status.
  grpc::Status ItemsThenBad(const std::string& method, const std::string& bad, int* results) {
    grpc::ClientContext context;
    std::unique_ptr<RawStream> stream = OpenRawStream(channel_.get(), method, &context);
    // Later writes may fail once the server has ended the call.
    stream->Write(Serialized(Items("square", {Num(1), Num(2)})));
    stream->Write(Bytes(bad));
    stream->Write(Serialized(Items("", {Num(3)})));
    stream->WritesDone();
    *results = 0;
    grpc::ByteBuffer raw;
    while (stream->Read(&raw)) {
      std::vector<grpc::Slice> slices;
      EXPECT_OK(raw.Dump(&slices));
      std::string bytes;
      for (const grpc::Slice& slice : slices) {
        bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
      }
      v1::MapResponse response;  // QueueResponse has the same fields.
      EXPECT_TRUE(response.ParseFromString(bytes));
      *results += response.results_size();
    }
    return stream->Finish();
  }

  // The server still serves a good call.
  void ExpectStillServes() {
    ItemsOutcome outcome = RunItems(stub_.get(), true, "square", {Num(4)});
    ASSERT_OK(outcome.status);
    EXPECT_EQ(outcome.results.at(0).value().number_value(), 16);
  }

  // A job of `inputs` to `square`, run to its end; its id and the seq of
  // its last output.
  std::string FinishedJob(uint64_t* last_seq) {
    v1::SubmitRequest submit;
    submit.set_callable("square");
    for (int i = 1; i <= 3; ++i) *submit.add_inputs() = Num(i);
    grpc::ClientContext context;
    v1::SubmitResponse submitted;
    const grpc::Status status = stub_->Submit(&context, submit, &submitted);
    EXPECT_OK(status);
    v1::ReconnectRequest follow;
    follow.add_jobs(submitted.job().id());
    std::vector<v1::ReconnectResponse> outputs = Follow(follow);
    EXPECT_GE(outputs.size(), 4u);  // Three results and the final state at least.
    *last_seq = outputs.empty() ? 0 : outputs.back().seq();
    return submitted.job().id();
  }

  // Every output a Reconnect stream sends, to its (OK) end.
  std::vector<v1::ReconnectResponse> Follow(const v1::ReconnectRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = stub_->Reconnect(&context, request);
    std::vector<v1::ReconnectResponse> outputs;
    v1::ReconnectResponse response;
    while (reader->Read(&response)) outputs.push_back(response);
    const grpc::Status status = reader->Finish();
    EXPECT_OK(status);
    return outputs;
  }

  std::unique_ptr<ServerProcess> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

TEST_F(RequestsTest, MapFailsNamingALaterRequestThatDoesNotParse) {
  for (const BadBytes& bad : BadItemRequests()) {
    SCOPED_TRACE(bad.name);
    int results = 0;
    const grpc::Status status = ItemsThenBad("Map", bad.bytes, &results);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find("request 2 (counting from 1) could not be parsed"),
              std::string::npos)
        << status.error_message();
    EXPECT_NE(status.error_message().find(bad.reason_part), std::string::npos)
        << status.error_message();
    EXPECT_LE(results, 2) << "input 3, after the bad request, must not run";
  }
  ExpectStillServes();
}

TEST_F(RequestsTest, QueueFailsNamingALaterRequestThatDoesNotParse) {
  for (const BadBytes& bad : BadItemRequests()) {
    SCOPED_TRACE(bad.name);
    int results = 0;
    const grpc::Status status = ItemsThenBad("Queue", bad.bytes, &results);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find("request 2 (counting from 1) could not be parsed"),
              std::string::npos)
        << status.error_message();
    EXPECT_LE(results, 2) << "input 3, after the bad request, must not run";
  }
  ExpectStillServes();
}

TEST_F(RequestsTest, StartFailsNamingALaterRequestThatDoesNotParse) {
  v1::StartRequest bad_utf8;
  *bad_utf8.mutable_message() = Str("@@@@");
  v1::StartRequest deep;
  *deep.mutable_message() = Nested(200);
  for (const std::string& bad : {WithInvalidUtf8(bad_utf8), deep.SerializeAsString()}) {
    grpc::ClientContext context;
    std::unique_ptr<RawStream> stream = OpenRawStream(channel_.get(), "Start", &context);
    v1::StartRequest first;
    first.set_callable("accumulate");
    stream->Write(Serialized(first));
    // Requests 2, 3 and 5 carry 1, 2 and 3; request 4 does not parse.
    for (int number : {1, 2, 0, 3}) {
      v1::StartRequest message;
      *message.mutable_message() = Num(number);
      stream->Write(number == 0 ? Bytes(bad) : Serialized(message));
    }
    stream->WritesDone();
    grpc::ByteBuffer response;
    while (stream->Read(&response)) {
    }
    const grpc::Status status = stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_NE(status.error_message().find("request 4 (counting from 1) could not be parsed"),
              std::string::npos)
        << status.error_message();
  }
  ExpectStillServes();
}

TEST_F(RequestsTest, UnaryRequestsThatDoNotParseAreInvalidArgumentNamingTheMethod) {
  // Eleven bytes of varint continuation: no message parses from them.
  const std::string garbage(11, '\xff');
  for (const char* method : {"Submit", "GetJob", "ListJobs", "CancelJob", "DeleteJob",
                             "ListCallables", "GetStatus", "Echo"}) {
    const grpc::Status status = RawUnary(channel_.get(), method, garbage);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << method << ": " << status.error_message();
    EXPECT_EQ(status.error_message().rfind(
                  absl::StrCat(method, ": the request could not be parsed as pprocd.v1.", method,
                               "Request"),
                  0),
              0u)
        << status.error_message();
  }
  const grpc::Status reconnect = RawReconnect(channel_.get(), garbage);
  EXPECT_EQ(reconnect.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << reconnect.error_message();
  EXPECT_NE(reconnect.error_message().find("Reconnect: the request could not be parsed"),
            std::string::npos)
      << reconnect.error_message();

  v1::SubmitRequest submit;
  submit.set_callable("@@@@");
  *submit.add_inputs() = Num(1);
  const grpc::Status utf8 = RawUnary(channel_.get(), "Submit", WithInvalidUtf8(submit));
  EXPECT_EQ(utf8.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << utf8.error_message();
  EXPECT_NE(utf8.error_message().find("UTF-8"), std::string::npos) << utf8.error_message();

  v1::GetJobRequest get;
  get.set_job("@@@@");
  const grpc::Status job = RawUnary(channel_.get(), "GetJob", WithInvalidUtf8(get));
  EXPECT_EQ(job.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << job.error_message();
  ExpectStillServes();
}

TEST_F(RequestsTest, AFloodOfRequestsThatDoNotParseLeavesTheLogShort) {
  const size_t log_before = server_->Stderr().size();
  v1::SubmitRequest submit;
  submit.set_callable("@@@@");
  *submit.add_inputs() = Num(1);
  const std::string bad_submit = WithInvalidUtf8(submit);
  v1::GetJobRequest get;
  get.set_job("@@@@");
  const std::string bad_get = WithInvalidUtf8(get);
  const std::string garbage(11, '\xff');
  for (int i = 0; i < 1000; ++i) {
    const grpc::Status status = i % 3 == 0   ? RawUnary(channel_.get(), "Submit", bad_submit)
                                : i % 3 == 1 ? RawUnary(channel_.get(), "GetJob", bad_get)
                                             : RawUnary(channel_.get(), "Echo", garbage);
    ASSERT_FALSE(status.ok());
  }
  for (int i = 0; i < 20; ++i) {
    int results = 0;
    EXPECT_FALSE(ItemsThenBad("Map", BadItemRequests()[0].bytes, &results).ok());
  }
  ExpectStillServes();
  const std::string log = server_->Stderr();
  EXPECT_LT(log.size() - log_before, 1000u) << log.substr(log_before, 2000);
}

TEST_F(RequestsTest, ALongCallableNameIsNotFoundWithAShortMessage) {
  const std::string name(64 << 10, 'n');
  ItemsOutcome map = RunItems(stub_.get(), true, name, {Num(1)});
  EXPECT_EQ(map.status.error_code(), grpc::StatusCode::NOT_FOUND) << map.status.error_message();
  EXPECT_LE(map.status.error_message().size(), 1024u);
  EXPECT_NE(map.status.error_message().find("is not registered"), std::string::npos)
      << map.status.error_message();

  v1::SubmitRequest submit;
  submit.set_callable(name);
  *submit.add_inputs() = Num(1);
  grpc::ClientContext context;
  v1::SubmitResponse response;
  const grpc::Status submitted = stub_->Submit(&context, submit, &response);
  EXPECT_EQ(submitted.error_code(), grpc::StatusCode::NOT_FOUND) << submitted.error_message();
  EXPECT_LE(submitted.error_message().size(), 1024u);

  grpc::ClientContext start_context;
  auto start = stub_->Start(&start_context);
  v1::StartRequest first;
  first.set_callable(name);
  start->Write(first);
  start->WritesDone();
  v1::StartResponse ignored;
  while (start->Read(&ignored)) {
  }
  const grpc::Status started = start->Finish();
  EXPECT_EQ(started.error_code(), grpc::StatusCode::NOT_FOUND) << started.error_message();
  EXPECT_LE(started.error_message().size(), 1024u);
}

TEST_F(RequestsTest, ALongJobIdIsNotFoundWithAShortMessage) {
  const std::string id(1 << 20, 'j');
  {
    grpc::ClientContext context;
    v1::GetJobRequest request;
    request.set_job(id);
    v1::GetJobResponse response;
    const grpc::Status status = stub_->GetJob(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
    EXPECT_LE(status.error_message().size(), 1024u);
  }
  {
    grpc::ClientContext context;
    v1::CancelJobRequest request;
    request.set_job(id);
    v1::CancelJobResponse response;
    const grpc::Status status = stub_->CancelJob(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  }
  {
    grpc::ClientContext context;
    v1::DeleteJobRequest request;
    request.set_job(id);
    v1::DeleteJobResponse response;
    const grpc::Status status = stub_->DeleteJob(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  }
  {
    grpc::ClientContext context;
    v1::ReconnectRequest request;
    request.add_jobs(id);
    auto reader = stub_->Reconnect(&context, request);
    v1::ReconnectResponse response;
    while (reader->Read(&response)) {
    }
    const grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
    EXPECT_LE(status.error_message().size(), 1024u);
  }
}

TEST_F(RequestsTest, ReconnectAfterTheTopOfTheSeqRangeReplaysNothing) {
  uint64_t last_seq = 0;
  const std::string id = FinishedJob(&last_seq);
  ASSERT_GT(last_seq, 0u);
  for (uint64_t after : {last_seq, uint64_t{1} << 63, (uint64_t{1} << 63) + 1, ~uint64_t{0}}) {
    SCOPED_TRACE(after);
    v1::ReconnectRequest request;
    request.add_jobs(id);
    request.set_after_seq(after);
    EXPECT_TRUE(Follow(request).empty());

    v1::ReconnectRequest by_job;
    by_job.add_jobs(id);
    (*by_job.mutable_after_seq_by_job())[id] = after;
    EXPECT_TRUE(Follow(by_job).empty());
  }
  // Just before the last output: that output alone.
  v1::ReconnectRequest request;
  request.add_jobs(id);
  request.set_after_seq(last_seq - 1);
  std::vector<v1::ReconnectResponse> last = Follow(request);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].seq(), last_seq);
}

}  // namespace
}  // namespace pprocd::testing
