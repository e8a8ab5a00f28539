// Where the server is without an address: a real pprocd started with no
// --listen and no --state-dir, found by a client with no address from
// another directory, under a temporary XDG_RUNTIME_DIR and XDG_STATE_HOME;
// and a per-user socket directory that others could write is refused.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/util/server_process.h"

namespace pprocd::testing {
namespace {

bool Exists(const std::string& path) {
  struct stat info;
  return lstat(path.c_str(), &info) == 0;
}

class DefaultAddressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    runtime_ = dir_ + "/runtime";
    state_home_ = dir_ + "/state";
    start_dir_ = dir_ + "/started-here";
    elsewhere_ = dir_ + "/elsewhere";
    for (const std::string& made : {runtime_, start_dir_, elsewhere_}) {
      ASSERT_EQ(mkdir(made.c_str(), 0700), 0) << made;
    }
  }
  void TearDown() override {
    server_.reset();
    RemoveTree(dir_);
  }
  // A client's command line, run from another directory, with no address.
  std::string FromElsewhere(const std::string& command) const {
    return absl::StrCat("cd ", elsewhere_, " && env -u PPROCD_ADDRESS XDG_RUNTIME_DIR=", runtime_,
                        " XDG_STATE_HOME=", state_home_, " ", command, " 2>&1");
  }
  // pprocd with only the given arguments, in the temporary environment;
  // bounded, since a server that wrongly starts would not exit.
  CommandRun Pprocd(const std::string& args) const {
    return RunCommand(absl::StrCat(
        "cd ", start_dir_, " && env -u PPROCD_ADDRESS XDG_RUNTIME_DIR=", runtime_,
        " XDG_STATE_HOME=", state_home_, " timeout 30 ", PPROCD_BINARY_PATH, " ", args, " 2>&1"));
  }

  std::string dir_, runtime_, state_home_, start_dir_, elsewhere_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(DefaultAddressTest, AServerWithNoAddressIsFoundByAClientWithNoneFromAnotherDirectory) {
  const std::string socket = runtime_ + "/pprocd/pprocd.sock";
  std::string error;
  server_ = ServerProcess::Start({.socket_path = socket,
                                  .no_default_listen = true,
                                  .no_state_dir = true,
                                  .env = {"-u", "PPROCD_ADDRESS", "XDG_RUNTIME_DIR=" + runtime_,
                                          "XDG_STATE_HOME=" + state_home_},
                                  .working_dir = start_dir_},
                                 &error);
  ASSERT_NE(server_, nullptr) << error;
  ASSERT_FALSE(server_->ready_lines().empty());
  EXPECT_EQ(server_->ready_lines().front().rfind("pprocd ready on unix:" + socket + " ", 0), 0u)
      << server_->ready_lines().front();
  struct stat info;
  ASSERT_EQ(stat((runtime_ + "/pprocd").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);

  const CommandRun status = RunCommand(FromElsewhere(PprocBinary() + " status"));
  EXPECT_EQ(status.exit_code, 0) << status.output;
  const CommandRun map = RunCommand(FromElsewhere(PprocBinary() + " map square 1..3"));
  EXPECT_EQ(map.exit_code, 0) << map.output;
  EXPECT_EQ(map.output, "1\n4\n9\n");

  // The state is the user's, not the working directory's.
  EXPECT_TRUE(Exists(state_home_ + "/pprocd/pprocd.pid"));
  EXPECT_TRUE(Exists(state_home_ + "/pprocd/jobs.db"));
  EXPECT_FALSE(Exists(start_dir_ + "/run"));
  EXPECT_FALSE(Exists(start_dir_ + "/var"));
  // pproc reload finds the server's pidfile in the same default place.
  const CommandRun reload = RunCommand(FromElsewhere(PprocBinary() + " reload --wait"));
  EXPECT_EQ(reload.exit_code, 0) << reload.output;
  EXPECT_NE(reload.output.find(state_home_ + "/pprocd/pprocd.pid"), std::string::npos)
      << reload.output;
}

TEST_F(DefaultAddressTest, WithNoServerTheErrorNamesEachAddressTriedAndHowToStartOne) {
  const CommandRun run = RunCommand(FromElsewhere(PprocBinary() + " status"));
  EXPECT_EQ(run.exit_code, 2) << run.output;
  const std::string user = "unix:" + runtime_ + "/pprocd/pprocd.sock (the per-user socket)";
  const std::string system = "unix:/run/pprocd/pprocd.sock (the system socket)";
  ASSERT_NE(run.output.find(user), std::string::npos) << run.output;
  EXPECT_GT(run.output.find(system), run.output.find(user)) << run.output;
  EXPECT_NE(run.output.find("$PPROCD_ADDRESS"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("start one with `pprocd` or scripts/run"), std::string::npos)
      << run.output;
}

TEST_F(DefaultAddressTest, APerUserSocketDirectoryOthersCanWriteIsRefused) {
  const std::string socket_dir = runtime_ + "/pprocd";
  ASSERT_EQ(mkdir(socket_dir.c_str(), 0700), 0);
  for (mode_t mode : {0777, 0770, 0702}) {
    ASSERT_EQ(chmod(socket_dir.c_str(), mode), 0);
    const CommandRun run = Pprocd("");
    EXPECT_EQ(run.exit_code, 1) << run.output;
    EXPECT_NE(run.output.find("refusing the socket directory " + socket_dir +
                              ": group or others may write it"),
              std::string::npos)
        << run.output;
    EXPECT_FALSE(Exists(socket_dir + "/pprocd.sock"));
  }
}

TEST_F(DefaultAddressTest, APerUserSocketDirectoryThatIsASymlinkIsRefused) {
  const std::string target = dir_ + "/someone-elses";
  ASSERT_EQ(mkdir(target.c_str(), 0700), 0);
  ASSERT_EQ(symlink(target.c_str(), (runtime_ + "/pprocd").c_str()), 0);
  const CommandRun run = Pprocd("");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("refusing the socket directory"), std::string::npos) << run.output;
  EXPECT_FALSE(Exists(target + "/pprocd.sock"));
}

}  // namespace
}  // namespace pprocd::testing
