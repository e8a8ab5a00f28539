// The server's own UNIX listener (server/peer) end to end: calls, grpcurl,
// many connections, UNIX and TCP side by side, and systemd socket activation.
#include <dirent.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/util/must_start.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

CommandRun Grpcurl(const std::string& args) {
  const char* tool = std::getenv("PPROCD_GRPCURL");
  return RunCommand(std::string(tool != nullptr ? tool : "grpcurl") + " -plaintext " + args);
}

// A stub on a connection of its own (not shared with other channels).
std::unique_ptr<v1::ProcessFarmService::Stub> OwnStub(const std::string& target) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return v1::ProcessFarmService::NewStub(
      grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args));
}

// The "socket:[inode]" links among the open descriptors of `pid`.
std::vector<std::string> SocketLinks(pid_t pid) {
  std::vector<std::string> links;
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* fds = opendir(dir.c_str());
  if (fds == nullptr) return links;
  while (dirent* entry = readdir(fds)) {
    char target[256];
    const ssize_t n = readlink((dir + "/" + entry->d_name).c_str(), target, sizeof(target) - 1);
    if (n > 0) links.emplace_back(target, static_cast<size_t>(n));
  }
  closedir(fds);
  return links;
}

// The RLIMIT_NOFILE under which exactly `free` descriptor numbers are unused
// in `pid` (a new descriptor takes the lowest free number, so the count of
// open descriptors alone would miss the gaps between them).
rlim_t LimitLeavingFree(pid_t pid, int free) {
  std::set<int> open;
  DIR* fds = opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (fds == nullptr) return 0;
  while (dirent* entry = readdir(fds)) {
    if (entry->d_name[0] != '.') open.insert(std::atoi(entry->d_name));
  }
  closedir(fds);
  int number = 0;
  for (int unused = 0;; ++number) {
    if (open.count(number) == 0 && ++unused == free) break;
  }
  return static_cast<rlim_t>(number + 1);
}

// A raw connection to the UNIX socket at `path` (no gRPC), or -1.
int RawConnect(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (fd >= 0 && connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

bool Holds(pid_t pid, const std::string& link) {
  for (const std::string& held : SocketLinks(pid)) {
    if (held == link) return true;
  }
  return false;
}

TEST(PeerListenerTest, MapWorksOverManyConnections) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  for (int i = 0; i < 50; ++i) {
    auto stub = OwnStub("unix:" + server->socket_path());
    ItemsOutcome outcome = RunItems(stub.get(), true, "square", Range(1, 3));
    ASSERT_OK(outcome.status);
    ASSERT_EQ(outcome.results.size(), 3u);
    EXPECT_EQ(outcome.results[2].value().number_value(), 9);
  }
  std::vector<std::thread> callers;
  std::vector<int> ok(8, 0);
  for (size_t t = 0; t < ok.size(); ++t) {
    callers.emplace_back([&, t] {
      auto stub = OwnStub("unix:" + server->socket_path());
      ok[t] = RunItems(stub.get(), false, "echo", Range(1, 100)).status.ok();
    });
  }
  for (std::thread& caller : callers) caller.join();
  for (size_t t = 0; t < ok.size(); ++t) EXPECT_TRUE(ok[t]) << "caller " << t;
}

TEST(PeerListenerTest, GrpcurlListsAndCallsAsBefore) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  const CommandRun list = Grpcurl("-unix " + server->socket_path() + " list");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_NE(list.output.find("pprocd.v1.ProcessFarmService"), std::string::npos) << list.output;
  const CommandRun map = Grpcurl(R"(-unix -d '{"callable":"square","inputs":[7]}' )" +
                                 server->socket_path() + " pprocd.v1.ProcessFarmService/Map");
  ASSERT_EQ(map.exit_code, 0) << map.output;
  EXPECT_NE(map.output.find("\"value\": 49"), std::string::npos) << map.output;
  const CommandRun health =
      Grpcurl("-unix -d '{}' " + server->socket_path() + " grpc.health.v1.Health/Check");
  EXPECT_NE(health.output.find("SERVING"), std::string::npos) << health.output;
}

TEST(PeerListenerTest, OutOfDescriptorsIsLoggedOnceAndTheServerRecovers) {
  auto server = MustStart();
  ASSERT_NE(server, nullptr);
  rlimit original{};
  ASSERT_EQ(prlimit(server->pid(), RLIMIT_NOFILE, nullptr, &original), 0);
  // Room for two more descriptors in the server, then EMFILE at accept.
  rlimit tight = original;
  tight.rlim_cur = LimitLeavingFree(server->pid(), 2);
  ASSERT_EQ(prlimit(server->pid(), RLIMIT_NOFILE, &tight, nullptr), 0);
  std::vector<int> raw;
  for (int i = 0; i < 8; ++i) raw.push_back(RawConnect(server->socket_path()));
  WaitFor([&] { return server->Stderr().find("cannot accept") != std::string::npos; },
          absl::Seconds(20));
  ASSERT_NE(server->Stderr().find("Too many open files"), std::string::npos) << server->Stderr();
  // It keeps retrying while the limit holds (every 100 ms), silently.
  absl::SleepFor(absl::Milliseconds(500));
  ASSERT_EQ(prlimit(server->pid(), RLIMIT_NOFILE, &original, nullptr), 0);
  for (int fd : raw) close(fd);
  auto stub = OwnStub("unix:" + server->socket_path());
  ItemsOutcome outcome = RunItems(stub.get(), true, "echo", {Num(1)});
  EXPECT_OK(outcome.status);
  EXPECT_TRUE(ProcessAlive(server->pid()));
  EXPECT_EQ(Count(server->Stderr(), "cannot accept"), 1u) << server->Stderr();
  EXPECT_EQ(Count(server->Stderr(), "accepting on"), 1u) << server->Stderr();
}

TEST(PeerListenerTest, UnixAndTcpServeSideBySide) {
  const std::string dir = MakeTempDir();
  const std::string socket = dir + "/both.sock";
  auto server = MustStart({.extra_args = {"--listen", "unix:" + socket, "tcp:127.0.0.1:0"},
                           .socket_path = socket,
                           .no_default_listen = true});
  ASSERT_NE(server, nullptr);
  std::string tcp;
  for (const std::string& line : server->ready_lines()) {
    const size_t at = line.find("pprocd ready on tcp:");
    if (at != std::string::npos) tcp = line.substr(at + 20, line.find(' ', at + 20) - at - 20);
  }
  ASSERT_FALSE(tcp.empty());
  for (const std::string& target : {"unix:" + socket, tcp}) {
    auto stub = OwnStub(target);
    ItemsOutcome outcome = RunItems(stub.get(), true, "echo", {Num(5)});
    EXPECT_OK(outcome.status) << target;
  }
  server->Signal(SIGTERM);
  const int status = server->WaitExit(absl::Seconds(20));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_NE(access(socket.c_str(), F_OK), 0) << "socket left behind";
  RemoveTree(dir);
}

TEST(PeerListenerTest, ServesASocketPassedBySocketActivation) {
  const std::string dir = MakeTempDir();
  const std::string path = dir + "/activated.sock";
  const int listening = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listening, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(bind(listening, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listening, 16), 0);
  struct stat info {};
  ASSERT_EQ(fstat(listening, &info), 0);
  const std::string link = absl::StrCat("socket:[", info.st_ino, "]");

  auto server =
      MustStart({.socket_path = path, .no_default_listen = true, .activation_socket = listening});
  close(listening);
  ASSERT_NE(server, nullptr);
  ASSERT_FALSE(server->ready_lines().empty());
  EXPECT_NE(server->ready_lines()[0].find("pprocd ready on unix:" + path), std::string::npos)
      << server->ready_lines()[0];
  auto stub = OwnStub("unix:" + path);
  ItemsOutcome outcome = RunItems(stub.get(), true, "square", Range(1, 4));
  ASSERT_OK(outcome.status);
  EXPECT_EQ(outcome.results.size(), 4u);
  // The server serves the socket; the template (and so every worker) does
  // not hold it.
  EXPECT_TRUE(Holds(server->pid(), link));
  const std::vector<pid_t> children = server->Children();
  ASSERT_EQ(children.size(), 1u);
  EXPECT_FALSE(Holds(children[0], link)) << "the template inherited the listening socket";
  for (pid_t pid : server->Descendants()) EXPECT_FALSE(Holds(pid, link)) << "process " << pid;
  stub.reset();  // An open connection would hold the drain for its whole grace.

  server->Signal(SIGTERM);
  const int status = server->WaitExit(absl::Seconds(20));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status << "\n"
                                                             << server->Stderr();
  EXPECT_EQ(access(path.c_str(), F_OK), 0) << "the activated socket is the service manager's";
  RemoveTree(dir);
}

}  // namespace
}  // namespace pprocd::testing
