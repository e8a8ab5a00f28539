// The server process as an operator sees it: socket files, stop signals,
// kill -9, listeners, health, descriptor hygiene, process names, the
// pidfile; and that a server started by a test dies with the test.
#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/util/must_start.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

std::vector<pid_t> WorkerPidsFromAMap(ServerProcess& server) {
  auto stub = server.NewStub();
  v1::CallOptions options;
  options.set_chunksize(1);
  ItemsOutcome outcome = RunItems(stub.get(), false, "sleep_ms", Range(20, 27), options);
  EXPECT_OK(outcome.status);
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

// Waits (up to 10 s) until GetStatus says `busy` workers run an item.
bool WaitUntilWorkersBusy(v1::ProcessFarmService::Stub* stub, uint32_t busy) {
  return WaitFor(
      [&] {
        v1::GetStatusResponse status;
        grpc::ClientContext context;
        return stub->GetStatus(&context, {}, &status).ok() && status.workers_busy() == busy;
      },
      absl::Seconds(10));
}

TEST(LifecycleTest, SigtermLetsARunningCallFinishWithinTheGrace) {
  auto server = MustStart({.extra_args = {"--grace-ms", "10000"}});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  ItemsOutcome outcome;
  std::thread call([&] { outcome = RunItems(stub.get(), true, "sleep_ms", {Num(800)}); });
  // Wait until the item runs, then ask the server to stop.
  ASSERT_TRUE(WaitUntilWorkersBusy(stub.get(), 1)) << "the item never started";
  server->Signal(SIGTERM);
  call.join();
  EXPECT_OK(outcome.status);
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
  // Once the item runs, ask the server to stop.
  ASSERT_TRUE(WaitUntilWorkersBusy(stub.get(), 1)) << "the item never started";
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
  EXPECT_OK(RunItems(stub.get(), true, "echo", {Num(1)}).status);
}

TEST(LifecycleTest, StaleSocketOfAKilledServerIsReplaced) {
  const TempDir dir("pprocd-lifecycle-test");
  ASSERT_TRUE(dir.ok());
  const std::string path = dir.path() + "/shared.sock";
  auto killed = MustStart({.socket_path = path});
  ASSERT_NE(killed, nullptr);
  killed->Signal(SIGKILL);
  killed->WaitExit(absl::Seconds(10));
  ASSERT_EQ(access(path.c_str(), F_OK), 0) << "kill -9 should leave the socket file";
  auto next = MustStart({.socket_path = path});
  ASSERT_NE(next, nullptr);
  auto stub = next->NewStub();
  EXPECT_OK(RunItems(stub.get(), true, "echo", {Num(1)}).status);
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
  ASSERT_OK(outcome.status);
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
    ASSERT_OK(health->Check(&context, request, &response));
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
      ASSERT_OK(outcome.status);
      if (i % 100 == 0) RunItems(stub.get(), true, "chaos", {Str("crash")});
    }
  };
  call_many(50);  // Warm up gRPC's threads and buffers.
  const int before = CountFds(server->pid());
  call_many(1000);
  // The last calls' descriptors are closed just after their answers.
  WaitFor([&] { return CountFds(server->pid()) <= before + 2; }, absl::Seconds(5));
  const int after = CountFds(server->pid());
  EXPECT_LE(after, before + 2) << "descriptors: " << before << " -> " << after;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What `ps -o comm` shows for `pid`.
std::string Comm(pid_t pid) {
  return std::string(
      absl::StripTrailingAsciiWhitespace(ReadText(absl::StrCat("/proc/", pid, "/comm"))));
}

// What `ps -o args` shows for `pid`: the arguments, one space apart.
std::string CommandLine(pid_t pid) {
  std::string text = ReadText(absl::StrCat("/proc/", pid, "/cmdline"));
  while (!text.empty() && text.back() == '\0') text.pop_back();
  for (char& c : text) c = c == '\0' ? ' ' : c;
  return text;
}

TEST(LifecycleTest, TemplateAndWorkersGoByTheirOwnNamesSoPidofFindsOnlyTheServer) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  WorkerPidsFromAMap(*server);
  const std::vector<pid_t> children = server->Children();
  ASSERT_EQ(children.size(), 1u) << "the template";
  const std::vector<pid_t> descendants = server->Descendants();
  ASSERT_GE(descendants.size(), 3u) << "template + 2 workers";
  EXPECT_EQ(Comm(server->pid()), "pprocd");
  for (const pid_t pid : descendants) {
    const std::string name = pid == children[0] ? "pprocd-template" : "pprocd-worker";
    EXPECT_EQ(Comm(pid), name) << "pid " << pid;
    EXPECT_EQ(CommandLine(pid), name) << "pid " << pid;
  }
  // Other servers may run on this machine: only this one's processes count.
  const CommandRun pidof = RunCommand("pidof pprocd");
  if (pidof.exit_code == 127) GTEST_SKIP() << "no pidof here: " << pidof.output;
  std::set<pid_t> found;
  for (absl::string_view field : absl::StrSplit(pidof.output, ' ', absl::SkipWhitespace())) {
    int pid = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(field), &pid)) found.insert(pid);
  }
  EXPECT_EQ(found.count(server->pid()), 1u) << pidof.output;
  for (const pid_t pid : descendants) {
    EXPECT_EQ(found.count(pid), 0u) << "pidof pprocd names " << pid << " (" << Comm(pid) << ")";
  }
}

TEST(LifecycleTest, AReloadedTemplateAlsoGoesByItsOwnName) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const pid_t first = server->Children().at(0);
  server->Signal(SIGHUP);
  // The new template is started by exec; the old one goes with its last
  // worker (none here).
  pid_t fresh = -1;
  WaitFor(
      [&] {
        for (const pid_t pid : server->Children()) {
          if (pid != first && Comm(pid) == "pprocd-template") fresh = pid;
        }
        return fresh >= 0;
      },
      absl::Seconds(60), absl::Milliseconds(20));
  ASSERT_GT(fresh, 0) << server->Stderr();
  EXPECT_EQ(CommandLine(fresh), "pprocd-template");
}

TEST(LifecycleTest, PidfileNamesTheServerOnceReadyAndGoesWhenItStops) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const std::string pidfile = server->state_dir() + "/pprocd.pid";
  EXPECT_EQ(ReadText(pidfile), absl::StrCat(server->pid(), "\n"));
  server->Signal(SIGTERM);
  const int status = server->WaitExit(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_NE(access(pidfile.c_str(), F_OK), 0) << "pidfile left behind";
}

TEST(LifecycleTest, SecondServerOnALiveStateDirRefusesToStart) {
  auto first = MustStart();
  ASSERT_NE(first, nullptr);
  std::string error;
  // Its own socket, the first one's state directory (and job store).
  auto second = ServerProcess::Start({.state_dir = first->state_dir()}, &error);
  EXPECT_EQ(second, nullptr) << "two servers share " << first->state_dir();
  EXPECT_NE(error.find(absl::StrCat("another pprocd (pid ", first->pid(), ") is running")),
            std::string::npos)
      << error;
  EXPECT_EQ(ReadText(first->state_dir() + "/pprocd.pid"), absl::StrCat(first->pid(), "\n"));
  auto stub = first->NewStub();
  EXPECT_OK(RunItems(stub.get(), true, "echo", {Num(1)}).status);
}

TEST(LifecycleTest, StalePidfileOfAKilledServerIsTakenOver) {
  const std::string dir = MakeTempDir();
  auto killed = MustStart({.state_dir = dir + "/var"});
  ASSERT_NE(killed, nullptr);
  killed->Signal(SIGKILL);
  killed->WaitExit(absl::Seconds(10));
  ASSERT_EQ(ReadText(dir + "/var/pprocd.pid"), absl::StrCat(killed->pid(), "\n"));
  auto next = MustStart({.state_dir = dir + "/var"});
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(ReadText(dir + "/var/pprocd.pid"), absl::StrCat(next->pid(), "\n"));
  next.reset();
  killed.reset();
  RemoveTree(dir);
}

// Run by the next test in a process of its own: starts a server, prints its
// directory and pid, and waits to be killed.
TEST(LifecycleTest, DISABLED_StartAServerAndWaitToBeKilled) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  std::printf("server dir %s\nserver pid %d\n", server->dir().c_str(),
              static_cast<int>(server->pid()));
  std::fflush(stdout);
  while (true) pause();
}

TEST(LifecycleTest, AServerStartedByATestDiesWhenTheTestIsKilled) {
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t test_pid = getpid();
  const pid_t helper = fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    DieWithTheTest(test_pid);
    dup2(out[1], STDOUT_FILENO);
    execl("/proc/self/exe", "integration_test", "--gtest_also_run_disabled_tests",
          "--gtest_filter=LifecycleTest.DISABLED_StartAServerAndWaitToBeKilled", nullptr);
    _exit(127);
  }
  close(out[1]);
  std::string output;
  int server = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (server == 0 && absl::Now() < deadline) {
    pollfd fd{out[0], POLLIN, 0};
    if (poll(&fd, 1, 100) <= 0) continue;
    char buffer[1024];
    const ssize_t n = read(out[0], buffer, sizeof(buffer));
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
    const size_t at = output.find("server pid ");
    const size_t end = output.find('\n', at);
    if (at != std::string::npos && end != std::string::npos) {
      ASSERT_TRUE(absl::SimpleAtoi(output.substr(at + 11, end - at - 11), &server)) << output;
    }
  }
  close(out[0]);
  kill(helper, SIGKILL);  // The "test" alone, as a timeout kills it.
  waitpid(helper, nullptr, 0);
  // The killed test could not remove its server's directory: this one does.
  const size_t dir_at = output.find("server dir ");
  if (dir_at != std::string::npos) {
    const size_t dir_end = output.find('\n', dir_at);
    const std::string dir = output.substr(dir_at + 11, dir_end - dir_at - 11);
    if (absl::StartsWith(dir, "/tmp/pprocd-test-")) {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  }
  ASSERT_GT(server, 0) << output;
  const bool gone = WaitAllGone({server}, absl::Seconds(10));
  if (!gone) {
    kill(-server, SIGKILL);
    kill(server, SIGKILL);
  }
  EXPECT_TRUE(gone) << "the server of a killed test is still running";
}

}  // namespace
}  // namespace pprocd::testing
