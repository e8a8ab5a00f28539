// The real grpcurl binary against a real server: list, describe, call.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>

#include "tests/util/server_process.h"

namespace pprocd::testing {
namespace {

CommandRun GrpcurlOnUnixSocket(const std::string& args) {
  const char* tool = std::getenv("PPROCD_GRPCURL");
  return RunCommand(std::string(tool != nullptr ? tool : "grpcurl") + " -plaintext -unix " + args);
}

class GrpcurlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({}, &error);
    ASSERT_NE(server_, nullptr) << error;
  }
  CommandRun Call(const std::string& args) {
    return GrpcurlOnUnixSocket(server_->socket_path() + " " + args);
  }
  CommandRun CallWith(const std::string& data, const std::string& args) {
    return GrpcurlOnUnixSocket("-d '" + data + "' " + server_->socket_path() + " " + args);
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(GrpcurlTest, ListsEveryService) {
  const CommandRun run = Call("list");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("pprocd.v1.ProcessFarmService"), std::string::npos);
  EXPECT_NE(run.output.find("grpc.health.v1.Health"), std::string::npos);
  EXPECT_NE(run.output.find("grpc.reflection.v1alpha.ServerReflection"), std::string::npos);
}

TEST_F(GrpcurlTest, DescribesEveryServiceIncludingHealth) {
  for (const char* service : {"pprocd.v1.ProcessFarmService", "grpc.health.v1.Health"}) {
    const CommandRun run = Call(std::string("describe ") + service);
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("is a service"), std::string::npos) << run.output;
  }
  const CommandRun map = Call("describe pprocd.v1.ProcessFarmService.Map");
  EXPECT_NE(map.output.find("stream .pprocd.v1.MapRequest"), std::string::npos) << map.output;
  const CommandRun message = Call("describe pprocd.v1.ItemError");
  EXPECT_NE(message.output.find("stderr_tail"), std::string::npos) << message.output;
}

TEST_F(GrpcurlTest, CallsMapWithJson) {
  const CommandRun run = CallWith(R"({"callable":"calculate","inputs":[[1,2],[3,4,100]]})",
                                  "pprocd.v1.ProcessFarmService/Map");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"value\": 12"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"value\": 304"), std::string::npos) << run.output;
  EXPECT_LT(run.output.find("\"value\": 12"), run.output.find("\"value\": 304"));
}

TEST_F(GrpcurlTest, TalksToAChannelWithStart) {
  // Several JSON messages on one stream: the first starts countdown, the
  // others are its channel input; grpcurl half-closes after the last.
  const CommandRun run = CallWith(R"({"callable":"countdown"} {"message":3} {"message":2})",
                                  "pprocd.v1.ProcessFarmService/Start");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const size_t two = run.output.find("\"message\": 2");
  const size_t one = run.output.find("\"message\": 1");
  ASSERT_NE(two, std::string::npos) << run.output;
  ASSERT_NE(one, std::string::npos) << run.output;
  EXPECT_LT(two, one);
  EXPECT_NE(run.output.find("\"last\": true", one), std::string::npos) << run.output;
}

TEST_F(GrpcurlTest, ShowsWhatAnItemPrinted) {
  const CommandRun run = CallWith(R"({"callable":"write_output","inputs":["hello"]})",
                                  "pprocd.v1.ProcessFarmService/Queue");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("LOG_STREAM_STDOUT"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("\"data\": \"aGVsbG8=\""), std::string::npos) << run.output;
}

TEST_F(GrpcurlTest, HealthCheckAnswersServing) {
  const CommandRun run = CallWith("{}", "grpc.health.v1.Health/Check");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("SERVING"), std::string::npos) << run.output;
}

TEST_F(GrpcurlTest, UnknownCallableIsNotFound) {
  const CommandRun run =
      CallWith(R"({"callable":"nope","inputs":[1]})", "pprocd.v1.ProcessFarmService/Map");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("NotFound"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace pprocd::testing
