// The server process as an operator sees it: socket files, stop signals,
// kill -9, listeners, health, descriptor hygiene.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/util/server_process.h"

namespace pprocd::testing {
namespace {

std::unique_ptr<ServerProcess> MustStart(ServerProcess::Options options = {}) {
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start(options, &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

std::vector<pid_t> WorkerPidsFromAMap(ServerProcess& server) {
  auto stub = server.NewStub();
  v1::CallOptions options;
  options.set_chunksize(1);
  ItemsOutcome outcome = RunItems(stub.get(), false, "sleep_ms", Range(20, 27), options);
  EXPECT_TRUE(outcome.status.ok());
  std::vector<pid_t> pids;
  for (const auto& result : outcome.results) pids.push_back(result.stats().worker_pid());
  return pids;
}

TEST(LifecycleTest, SocketIsOwnerOnlyInACreatedDirectory) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  struct stat info;
  ASSERT_EQ(stat(server->socket_path().c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(stat((server->dir() + "/run").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST(LifecycleTest, SigtermStopsCleanlyLeavingNoProcessAndNoSocket) {
  for (int signal_number : {SIGTERM, SIGINT}) {
    auto server = MustStart();
    ASSERT_NE(server, nullptr);
    WorkerPidsFromAMap(*server);
    const std::vector<pid_t> descendants = server->Descendants();
    EXPECT_GE(descendants.size(), 3u) << "template + 2 workers";
    server->Signal(signal_number);
    const int status = server->WaitExit(absl::Seconds(20));
    ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_TRUE(WaitAllGone(descendants, absl::Seconds(10)));
    EXPECT_NE(access(server->socket_path().c_str(), F_OK), 0) << "socket left behind";
  }
}

TEST(LifecycleTest, SigtermLetsARunningCallFinishWithinTheGrace) {
  auto server = MustStart({.extra_args = {"--grace-ms", "10000"}});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  ItemsOutcome outcome;
  std::thread call([&] { outcome = RunItems(stub.get(), true, "sleep_ms", {Num(800)}); });
  // Wait until the item runs, then ask the server to stop.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    v1::GetStatusResponse status;
    grpc::ClientContext context;
    if (stub->GetStatus(&context, {}, &status).ok() && status.workers_busy() == 1) break;
    absl::SleepFor(absl::Milliseconds(10));
  }
  server->Signal(SIGTERM);
  call.join();
  EXPECT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  ASSERT_EQ(outcome.results.size(), 1u);
  EXPECT_EQ(outcome.results[0].value().number_value(), 800);
  const int status = server->WaitExit(absl::Seconds(20));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(LifecycleTest, SigtermCancelsCallsThatOutliveTheGrace) {
  auto server = MustStart({.extra_args = {"--grace-ms", "200"}});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  ItemsOutcome outcome;
  std::thread call([&] { outcome = RunItems(stub.get(), true, "sleep_ms", {Num(60000)}); });
  absl::SleepFor(absl::Milliseconds(300));
  const std::vector<pid_t> descendants = server->Descendants();
  server->Signal(SIGTERM);
  const int status = server->WaitExit(absl::Seconds(20));
  call.join();
  EXPECT_FALSE(outcome.status.ok());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(WaitAllGone(descendants, absl::Seconds(10)));
}

TEST(LifecycleTest, KillNineOfTheServerLeavesNoWorkerBehind) {
  auto server = MustStart({.workers = 3});
  ASSERT_NE(server, nullptr);
  WorkerPidsFromAMap(*server);
  const std::vector<pid_t> descendants = server->Descendants();
  EXPECT_GE(descendants.size(), 4u);
  server->Signal(SIGKILL);
  server->WaitExit(absl::Seconds(10));
  EXPECT_TRUE(WaitAllGone(descendants, absl::Seconds(10))) << "orphaned workers remain";
}

TEST(LifecycleTest, LosingTheTemplateStopsTheServerWithAnErrorAndNoLeftovers) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  WorkerPidsFromAMap(*server);
  const std::vector<pid_t> descendants = server->Descendants();
  const std::vector<pid_t> children = server->Children();
  ASSERT_EQ(children.size(), 1u) << "the template is the server's only child";
  kill(children[0], SIGKILL);
  const int status = server->WaitExit(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 1) << "a server without workers must not pretend to serve";
  EXPECT_TRUE(WaitAllGone(descendants, absl::Seconds(10)));
  EXPECT_NE(access(server->socket_path().c_str(), F_OK), 0) << "socket left behind";
  EXPECT_NE(server->Stderr().find("worker pool has stopped"), std::string::npos)
      << server->Stderr();
}

TEST(LifecycleTest, SecondServerOnALiveSocketRefusesToStart) {
  auto first = MustStart();
  ASSERT_NE(first, nullptr);
  std::string error;
  auto second = ServerProcess::Start({.socket_path = first->socket_path()}, &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_NE(error.find("already serving"), std::string::npos) << error;
  // The first one is unharmed.
  auto stub = first->NewStub();
  EXPECT_TRUE(RunItems(stub.get(), true, "echo", {Num(1)}).status.ok());
}

TEST(LifecycleTest, StaleSocketOfAKilledServerIsReplaced) {
  auto first = MustStart();
  ASSERT_NE(first, nullptr);
  const std::string path = first->dir() + "/shared.sock";
  first.reset();
  auto killed = MustStart({.socket_path = path});
  ASSERT_NE(killed, nullptr);
  killed->Signal(SIGKILL);
  killed->WaitExit(absl::Seconds(10));
  ASSERT_EQ(access(path.c_str(), F_OK), 0) << "kill -9 should leave the socket file";
  auto next = MustStart({.socket_path = path});
  ASSERT_NE(next, nullptr);
  auto stub = next->NewStub();
  EXPECT_TRUE(RunItems(stub.get(), true, "echo", {Num(1)}).status.ok());
}

TEST(LifecycleTest, TcpPortZeroPicksAPortAndServes) {
  auto server =
      MustStart({.extra_args = {"--listen", "tcp:127.0.0.1:0"}, .no_default_listen = true});
  ASSERT_NE(server, nullptr);
  std::string address;
  for (const std::string& line : server->ready_lines()) {
    const size_t at = line.find("pprocd ready on tcp:");
    if (at != std::string::npos) address = line.substr(at + 20, line.find(' ', at + 20) - at - 20);
  }
  ASSERT_FALSE(address.empty());
  EXPECT_EQ(address.find(":0"), std::string::npos) << address;
  auto stub = v1::ProcessFarmService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  ItemsOutcome outcome = RunItems(stub.get(), true, "square", {Num(12)});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error_message();
  EXPECT_EQ(outcome.results.at(0).value().number_value(), 144);
}

TEST(LifecycleTest, HealthReportsServing) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  auto health = grpc::health::v1::Health::NewStub(server->NewChannel());
  for (const std::string service : {"", "pprocd.v1.ProcessFarmService"}) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok());
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
}

TEST(LifecycleTest, NoDescriptorGrowthAfterAThousandCalls) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  auto call_many = [&](int count) {
    for (int i = 0; i < count; ++i) {
      std::vector<google::protobuf::Value> inputs = {Num(i), Num(i + 1)};
      ItemsOutcome outcome = RunItems(stub.get(), i % 2 == 0, "square", inputs);
      ASSERT_TRUE(outcome.status.ok());
      if (i % 100 == 0) RunItems(stub.get(), true, "chaos", {Str("crash")});
    }
  };
  call_many(50);  // Warm up gRPC's threads and buffers.
  const int before = CountFds(server->pid());
  call_many(1000);
  absl::SleepFor(absl::Milliseconds(200));
  const int after = CountFds(server->pid());
  EXPECT_LE(after, before + 2) << "descriptors: " << before << " -> " << after;
}

}  // namespace
}  // namespace pprocd::testing
