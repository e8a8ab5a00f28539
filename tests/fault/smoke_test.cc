// The fault binary's own check: a server starts and answers, so a fault test
// that fails does so for its fault, not for its fixture.
#include <gtest/gtest.h>

#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

TEST(FaultFixtureTest, AServerStartsAndAnswersEcho) {
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start({}, &error);
  ASSERT_NE(server, nullptr) << error;
  grpc::ClientContext context;
  v1::EchoRequest request;
  *request.mutable_value() = Num(7);
  v1::EchoResponse response;
  ASSERT_OK(server->NewStub()->Echo(&context, request, &response));
  EXPECT_EQ(response.value().number_value(), 7);
}

}  // namespace
}  // namespace pprocd::testing
