// Bad input gets a clear status before any work, and the server goes on
// serving everyone else.
#include <gtest/gtest.h>

#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ =
        ServerProcess::Start({.workers = 2, .extra_args = {"--max-queued-items", "500"}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    // After every bad request the server still serves.
    ItemsOutcome outcome = RunItems(stub_.get(), true, "square", {Num(3)});
    ASSERT_OK(outcome.status);
    EXPECT_EQ(outcome.results.at(0).value().number_value(), 9);
    v1::GetStatusResponse status;
    grpc::ClientContext context;
    ASSERT_OK(stub_->GetStatus(&context, {}, &status));
    EXPECT_EQ(status.items_completed(), 1u) << "bad requests must not run any item";
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

struct BadCase {
  std::string name;
  std::string callable;
  std::vector<google::protobuf::Value> inputs;
  v1::CallOptions options;
  grpc::StatusCode code;
  std::string message_part;
};

v1::CallOptions WithChunksize(uint32_t chunksize) {
  v1::CallOptions options;
  options.set_chunksize(chunksize);
  return options;
}

TEST_F(BadInputTest, TableOfBadRequests) {
  v1::CallOptions unknown_isolation;
  unknown_isolation.set_isolation(static_cast<v1::Isolation>(7));
  v1::CallOptions long_timeout;
  long_timeout.set_timeout_ms(4000000000u);
  const std::vector<BadCase> cases = {
      {"unknown callable", "no_such_fn", {Num(1)}, {}, grpc::StatusCode::NOT_FOUND, "no_such_fn"},
      {"no callable", "", {Num(1)}, {}, grpc::StatusCode::INVALID_ARGUMENT, "callable"},
      {"wrong type",
       "fib",
       {Str("ten")},
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "parameter 'n' of fib must be an integer, got string"},
      {"not an integer", "fib", {Num(2.5)}, {}, grpc::StatusCode::INVALID_ARGUMENT, "'n'"},
      {"missing argument",
       "ackermann",
       {List({Num(1)})},
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "parameter 'n' of ackermann is required"},
      {"too many arguments",
       "ackermann",
       {List({Num(1), Num(2), Num(3)})},
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "at most 2"},
      {"bad item later in the batch",
       "fib",
       {Num(1), Num(2), Str("x")},
       {},
       grpc::StatusCode::INVALID_ARGUMENT,
       "inputs[2]"},
      {"chunksize out of range",
       "echo",
       {Num(1)},
       WithChunksize(1000000),
       grpc::StatusCode::INVALID_ARGUMENT,
       "options.chunksize"},
      {"timeout out of range",
       "echo",
       {Num(1)},
       long_timeout,
       grpc::StatusCode::INVALID_ARGUMENT,
       "options.timeout_ms"},
      {"unknown isolation",
       "echo",
       {Num(1)},
       unknown_isolation,
       grpc::StatusCode::INVALID_ARGUMENT,
       "options.isolation"},
      {"more queued items than the server allows",
       "echo",
       std::vector<google::protobuf::Value>(600, Num(1)),
       {},
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       "queue"},
  };
  for (const BadCase& bad : cases) {
    for (bool ordered : {true, false}) {
      SCOPED_TRACE(bad.name + (ordered ? " (Map)" : " (Queue)"));
      ItemsOutcome outcome = RunItems(stub_.get(), ordered, bad.callable, bad.inputs, bad.options,
                                      /*batch=*/1000);
      EXPECT_EQ(outcome.status.error_code(), bad.code) << outcome.status.error_message();
      EXPECT_NE(outcome.status.error_message().find(bad.message_part), std::string::npos)
          << outcome.status.error_message();
      EXPECT_TRUE(outcome.results.empty());
    }
  }
}

TEST_F(BadInputTest, OversizeMessageIsResourceExhausted) {
  std::string big(20 << 20, 'x');
  ItemsOutcome outcome = RunItems(stub_.get(), true, "echo", {Str(big)});
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << outcome.status.error_message();
}

TEST_F(BadInputTest, OptionsOnlyInTheFirstRequest) {
  grpc::ClientContext context;
  auto stream = stub_->Map(&context);
  v1::MapRequest first;
  first.set_callable("sleep_ms");  // No inputs yet: nothing may run.
  ASSERT_TRUE(stream->Write(first));
  v1::MapRequest second;
  second.mutable_options()->set_limit(3);
  *second.add_inputs() = Num(1);
  stream->Write(second);
  stream->WritesDone();
  v1::MapResponse response;
  while (stream->Read(&response)) {
  }
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("options"), std::string::npos);
}

TEST_F(BadInputTest, EmptyJobRequestsNameTheMissingField) {
  {
    grpc::ClientContext context;
    v1::SubmitResponse response;
    const grpc::Status status = stub_->Submit(&context, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(status.error_message().find("callable"), std::string::npos) << status.error_message();
  }
  {
    grpc::ClientContext context;
    v1::GetJobResponse response;
    const grpc::Status status = stub_->GetJob(&context, {}, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message().rfind("job:", 0), 0u) << status.error_message();
  }
  {
    grpc::ClientContext context;
    auto reader = stub_->Reconnect(&context, {});
    v1::ReconnectResponse response;
    EXPECT_FALSE(reader->Read(&response));
    const grpc::Status status = reader->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(status.error_message().rfind("jobs:", 0), 0u) << status.error_message();
  }
}

TEST_F(BadInputTest, ListCallablesDescribesEveryBuiltinWithItsParameters) {
  grpc::ClientContext context;
  v1::ListCallablesResponse response;
  ASSERT_OK(stub_->ListCallables(&context, {}, &response));
  std::map<std::string, v1::Callable> by_name;
  for (const auto& callable : response.callables()) by_name[callable.name()] = callable;
  for (const char* name : {"echo", "square", "fib", "ackermann", "sleep_ms", "calculate", "hog",
                           "call_count", "chaos"}) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_FALSE(by_name[name].description().empty()) << name;
  }
  const v1::Callable& calculate = by_name["calculate"];
  ASSERT_EQ(calculate.parameters_size(), 4);
  EXPECT_EQ(calculate.parameters(0).name(), "i");
  EXPECT_TRUE(calculate.parameters(0).required());
  EXPECT_EQ(calculate.parameters(2).name(), "n");
  EXPECT_FALSE(calculate.parameters(2).required());
  EXPECT_EQ(calculate.parameters(2).default_value().number_value(), 10);
  EXPECT_EQ(calculate.parameters(2).type(), v1::PARAMETER_TYPE_INTEGER);
}

}  // namespace
}  // namespace pprocd::testing
