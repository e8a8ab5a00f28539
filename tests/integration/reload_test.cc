// SIGHUP reloads the callables of a real pprocd started with --config: new
// work uses the new set while work in flight finishes on the old workers,
// and a reload that fails keeps the old set and says why. `pproc reload`
// sends it to the server that holds the state directory's pidfile.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

// A command callable that prints `text` as its JSON result after `sleep`
// seconds.
std::string Printer(const std::string& name, const std::string& text, int sleep = 0) {
  return absl::StrCat(
      "[[callable]]\nname = \"", name, "\"\nargv = [\"sh\", \"-c\", \"cat >/dev/null; ",
      sleep > 0 ? absl::StrCat("sleep ", sleep, "; ") : "", "printf '\\\"", text, "\\\"'\"]\n");
}

class ReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    Write(Printer("version", "one") + Printer("slow", "old", 3) + Printer("leaving", "bye"));
    std::string error;
    server_ = ServerProcess::Start({.extra_args = {"--config", config_path()}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  void TearDown() override { RemoveTree(dir_); }

  std::string config_path() const { return dir_ + "/pprocd.toml"; }
  void Write(const std::string& text) { std::ofstream(config_path(), std::ios::trunc) << text; }

  v1::GetStatusResponse Status() {
    grpc::ClientContext context;
    v1::GetStatusResponse status;
    EXPECT_OK(stub_->GetStatus(&context, {}, &status));
    return status;
  }
  std::set<std::string> Names() {
    grpc::ClientContext context;
    v1::ListCallablesResponse response;
    EXPECT_OK(stub_->ListCallables(&context, {}, &response));
    std::set<std::string> names;
    for (const v1::Callable& callable : response.callables()) names.insert(callable.name());
    return names;
  }
  // The one result of `callable` on a null input, or the call's error.
  std::string RunOne(const std::string& callable) {
    google::protobuf::Value null;
    null.set_null_value({});
    const ItemsOutcome outcome = RunItems(stub_.get(), true, callable, {null});
    if (!outcome.status.ok()) return absl::StrCat("status ", outcome.status.error_code());
    if (outcome.results.size() != 1) return "no result";
    const v1::ItemResult& result = outcome.results[0];
    return result.has_error() ? "error: " + result.error().message()
                              : result.value().string_value();
  }
  // Sends SIGHUP and waits for the server to report reload number `count`.
  bool ReloadAndWait(uint64_t count) {
    server_->Signal(SIGHUP);
    return WaitFor([&] { return Status().callable_reloads() >= count; }, absl::Seconds(60),
                   absl::Milliseconds(20));
  }
  // Waits until the server's stderr holds `text` `count` times.
  bool WaitForStderr(const std::string& text, int count = 1) {
    return WaitFor(
        [&] {
          const std::string log = server_->Stderr();
          int seen = 0;
          for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) {
            ++seen;
          }
          return seen >= count;
        },
        absl::Seconds(60), absl::Milliseconds(20));
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

TEST_F(ReloadTest, NewWorkUsesTheNewSetWhileRunningWorkFinishesOnTheOldWorkers) {
  ASSERT_EQ(RunOne("version"), "one");
  std::string slow_result;
  std::thread slow([&] {
    auto stub = server_->NewStub();
    google::protobuf::Value null;
    null.set_null_value({});
    const ItemsOutcome outcome = RunItems(stub.get(), true, "slow", {null});
    slow_result = outcome.status.ok() && outcome.results.size() == 1
                      ? outcome.results[0].value().string_value()
                      : "failed: " + outcome.status.error_message();
  });
  // The slow item is running on an old worker.
  WaitFor([&] { return Status().items_running() != 0; }, absl::Seconds(30));
  const pid_t old_template = server_->Children().at(0);

  Write(Printer("version", "two") + Printer("slow", "new") + Printer("arrived", "hello"));
  ASSERT_TRUE(ReloadAndWait(1)) << server_->Stderr();
  EXPECT_EQ(RunOne("version"), "two");
  EXPECT_EQ(RunOne("arrived"), "hello");
  EXPECT_EQ(RunOne("leaving"), absl::StrCat("status ", grpc::StatusCode::NOT_FOUND));
  const std::set<std::string> names = Names();
  EXPECT_TRUE(names.count("arrived"));
  EXPECT_FALSE(names.count("leaving"));
  EXPECT_TRUE(names.count("echo")) << "built-ins stay";

  slow.join();
  EXPECT_EQ(slow_result, "old") << "the running item finished on its old worker";
  EXPECT_EQ(RunOne("slow"), "new");
  // The old template goes once its last worker has finished.
  EXPECT_TRUE(WaitAllGone({old_template}, absl::Seconds(30)));
  EXPECT_EQ(server_->Children().size(), 1u) << "one template: the new one";
  EXPECT_TRUE(WaitForStderr("reloaded: "));
}

TEST_F(ReloadTest, AFailedReloadKeepsTheOldSetAndSaysWhy) {
  Write(Printer("version", "two") + "surprise = 1\n");
  server_->Signal(SIGHUP);
  ASSERT_TRUE(WaitForStderr("reload failed, the current callables stay")) << server_->Stderr();
  EXPECT_NE(server_->Stderr().find("surprise"), std::string::npos) << server_->Stderr();
  EXPECT_EQ(RunOne("version"), "one");
  EXPECT_TRUE(Names().count("leaving"));
  EXPECT_EQ(Status().callable_reloads(), 0u);

  // A callable that takes a built-in's name fails the reload too.
  Write(Printer("echo", "mine"));
  server_->Signal(SIGHUP);
  ASSERT_TRUE(WaitForStderr("reload failed, the current callables stay", 2)) << server_->Stderr();
  EXPECT_NE(server_->Stderr().find("callable echo: the name is already taken"), std::string::npos)
      << server_->Stderr();
  EXPECT_EQ(RunOne("version"), "one");

  // Once the file is right, the next SIGHUP takes it.
  Write(Printer("version", "three"));
  ASSERT_TRUE(ReloadAndWait(1)) << server_->Stderr();
  EXPECT_EQ(RunOne("version"), "three");
}

TEST_F(ReloadTest, ManyReloadsInARowLeaveOneTemplateAndAWorkingPool) {
  for (int round = 1; round <= 5; ++round) {
    Write(Printer("version", absl::StrCat("v", round)));
    ASSERT_TRUE(ReloadAndWait(round)) << server_->Stderr();
    EXPECT_EQ(RunOne("version"), absl::StrCat("v", round));
  }
  WaitFor([&] { return server_->Children().size() <= 1; }, absl::Seconds(30),
          absl::Milliseconds(20));
  EXPECT_EQ(server_->Children().size(), 1u);
  const ItemsOutcome outcome = RunItems(stub_.get(), true, "square", Range(0, 199));
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 200u);
  EXPECT_EQ(outcome.results[199].value().number_value(), 199.0 * 199.0);
}

TEST_F(ReloadTest, PprocReloadSignalsTheServerOfTheStateDirAndWaitsForTheNewSet) {
  Write(Printer("version", "two"));
  const CommandRun run =
      RunCommand(absl::StrCat(PprocBinary(), " --address unix:", server_->socket_path(),
                              " reload --wait --state-dir ", server_->state_dir()));
  ASSERT_EQ(run.exit_code, 0) << run.output << server_->Stderr();
  EXPECT_NE(run.output.find(absl::StrCat("sent SIGHUP to pprocd (pid ", server_->pid(), ", from ",
                                         server_->state_dir(), "/pprocd.pid)")),
            std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("reloaded: "), std::string::npos) << run.output;
  EXPECT_EQ(Status().callable_reloads(), 1u);
  EXPECT_EQ(RunOne("version"), "two");
}

TEST_F(ReloadTest, PprocReloadSignalsNobodyWithoutALiveServer) {
  const std::string reload = absl::StrCat(PprocBinary(), " reload --state-dir ", dir_);
  const CommandRun none = RunCommand(reload);
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("no pprocd is running with --state-dir " + dir_), std::string::npos)
      << none.output;

  // A pidfile its server left when it was killed; its pid now another
  // process's, which must not get the signal.
  pid_t other = -1;
  char sleep_path[] = "/bin/sleep";
  char seconds[] = "60";
  char* argv[] = {sleep_path, seconds, nullptr};
  ASSERT_EQ(posix_spawn(&other, sleep_path, nullptr, nullptr, argv, environ), 0);
  std::ofstream(dir_ + "/pprocd.pid") << other << "\n";
  const CommandRun stale = RunCommand(reload);
  int status = 0;
  const bool other_alive = waitpid(other, &status, WNOHANG) == 0;
  kill(other, SIGKILL);
  waitpid(other, nullptr, 0);
  EXPECT_EQ(stale.exit_code, 2) << stale.output;
  EXPECT_NE(stale.output.find("stale"), std::string::npos) << stale.output;
  EXPECT_TRUE(other_alive) << "pproc reload signalled pid " << other << ": status " << status;
  EXPECT_EQ(Status().callable_reloads(), 0u);
}

}  // namespace
}  // namespace pprocd::testing
