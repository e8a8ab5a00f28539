// A job's own socket (SubmitRequest.socket_path) against a user who swaps a
// directory on its path for a symlink: the server, running as root, must
// never create, remove or reveal anything there that the user could not.
// Two local users are made for the test and removed after it; the server is
// open to them (--socket-mode 0666) and they call it with grpcurl (setpriv).
// Needs root, useradd and setpriv: skipped without them.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/util/server_process.h"

namespace pprocd::testing {
namespace {

// A local user made for one test, removed (with its group) when it goes.
class LocalUser {
 public:
  // Makes user `name`; empty() when that fails (`error` says why).
  LocalUser(const std::string& name, std::string* error) {
    const CommandRun made = RunCommand(absl::StrCat("useradd -M -U -s /bin/false ", name));
    if (made.exit_code != 0) {
      *error = absl::StrCat("useradd ", name, ": ", made.output);
      return;
    }
    name_ = name;
    uid_ = static_cast<uid_t>(std::atoi(RunCommand("id -u " + name).output.c_str()));
    gid_ = static_cast<gid_t>(std::atoi(RunCommand("id -g " + name).output.c_str()));
  }
  ~LocalUser() {
    if (name_.empty()) return;
    RunCommand("userdel " + name_);
    RunCommand("groupdel " + name_ + " 2>/dev/null");
  }
  LocalUser(const LocalUser&) = delete;
  LocalUser& operator=(const LocalUser&) = delete;

  bool empty() const { return name_.empty(); }
  const std::string& name() const { return name_; }
  uid_t uid() const { return uid_; }
  gid_t gid() const { return gid_; }

 private:
  std::string name_;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The names in directory `dir`.
std::set<std::string> Entries(const std::string& dir) {
  std::set<std::string> names;
  const CommandRun listed = RunCommand("ls -A " + dir);
  std::istringstream lines(listed.output);
  for (std::string line; std::getline(lines, line);) names.insert(line);
  return names;
}

class SocketPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root, to make users and run clients as them";
    if (RunCommand("command -v useradd && command -v userdel && command -v setpriv").exit_code !=
        0) {
      GTEST_SKIP() << "useradd, userdel or setpriv is missing";
    }
    const char* grpcurl = std::getenv("PPROCD_GRPCURL");
    ASSERT_NE(grpcurl, nullptr) << "PPROCD_GRPCURL must name grpcurl";
    std::string error;
    const std::string suffix = absl::StrCat(getpid(), "-", absl::ToUnixNanos(absl::Now()) % 1000);
    attacker_ = std::make_unique<LocalUser>("pprocd-a-" + suffix, &error);
    ASSERT_FALSE(attacker_->empty()) << error;
    other_ = std::make_unique<LocalUser>("pprocd-b-" + suffix, &error);
    ASSERT_FALSE(other_->empty()) << error;

    // base/            root 0755: every user may enter it
    //   pprocd.sock    the server's socket, mode 0666
    //   grpcurl        a copy every user may run
    //   a/             the attacker's own (0755); a/d holds the job sockets
    //   root/          root's, 0755: others may look, only root may write
    //   secret/        root's, 0700
    base_ = MakeTempDir();
    ASSERT_FALSE(base_.empty());
    ASSERT_EQ(chmod(base_.c_str(), 0755), 0);
    grpcurl_ = base_ + "/grpcurl";
    ASSERT_EQ(RunCommand(absl::StrCat("cp ", grpcurl, " ", grpcurl_, " && chmod 755 ", grpcurl_))
                  .exit_code,
              0);
    for (const std::string& dir : {A(""), A("/d")}) {
      ASSERT_EQ(mkdir(dir.c_str(), 0755), 0) << dir;
      ASSERT_EQ(chown(dir.c_str(), attacker_->uid(), attacker_->gid()), 0) << dir;
    }
    ASSERT_EQ(mkdir(Root("").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(Secret("").c_str(), 0700), 0);
    Start();
  }
  void TearDown() override {
    server_.reset();
    if (!base_.empty()) RemoveTree(base_);
    other_.reset();
    attacker_.reset();
  }

  std::string A(const std::string& rest) const { return base_ + "/a" + rest; }
  std::string Root(const std::string& rest) const { return base_ + "/root" + rest; }
  std::string Secret(const std::string& rest) const { return base_ + "/secret" + rest; }

  void Start() {
    std::string error;
    server_ = ServerProcess::Start({.extra_args = {"--socket-mode", "0666"},
                                    .socket_path = base_ + "/pprocd.sock",
                                    .state_dir = base_ + "/var"},
                                   &error);
    ASSERT_NE(server_, nullptr) << error;
  }
  void StopWith(int signal_number) {
    server_->Signal(signal_number);
    ASSERT_NE(server_->WaitExit(absl::Seconds(30)), -1) << "the server did not stop";
  }

  // Runs shell `command` as `user` (its own uid, gid and groups).
  static CommandRun As(const LocalUser& user, const std::string& command) {
    return RunCommand(absl::StrCat("setpriv --reuid ", user.name(), " --regid ", user.name(),
                                   " --init-groups /bin/sh -c '", command, "'"));
  }
  // grpcurl METHOD with `json`, as `user`, on the server's socket.
  CommandRun Call(const LocalUser& user, const std::string& method, const std::string& json) {
    return RunCommand(absl::StrCat("setpriv --reuid ", user.name(), " --regid ", user.name(),
                                   " --init-groups ", grpcurl_, " -plaintext -unix -d '", json,
                                   "' ", server_->socket_path(), " pprocd.v1.ProcessFarmService/",
                                   method));
  }
  // Submits a job with its own socket at `socket`, as `user`.
  CommandRun SubmitWithSocket(const LocalUser& user, const std::string& socket) {
    return Call(
        user, "Submit",
        absl::StrCat(R"({"callable":"square","inputs":[1],"socket_path":")", socket, R"("})"));
  }
  // The "id" of the job in a grpcurl answer.
  static std::string JobId(const std::string& output) {
    const size_t at = output.find("\"id\": \"");
    return at == std::string::npos ? "" : output.substr(at + 7, 16);
  }
  // Writes root's own file at `path`, which nobody else may change.
  static void PutRootsFile(const std::string& path) {
    std::ofstream(path) << "root's own\n";
    chmod(path.c_str(), 0644);
  }
  static bool IsRootsFile(const std::string& path) {
    struct stat info;
    return lstat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && info.st_uid == 0 &&
           ReadAll(path) == "root's own\n";
  }

  std::unique_ptr<LocalUser> attacker_;
  std::unique_ptr<LocalUser> other_;
  std::string base_;
  std::string grpcurl_;
  std::unique_ptr<ServerProcess> server_;
};

// The attack: sockets made in the attacker's own directory, then that
// directory swapped for a symlink to root's. Neither DeleteJob, nor a SIGTERM
// of the server, nor its next start may touch root's directory.
TEST_F(SocketPathTest, ASymlinkSwappedIntoThePathNeverLetsTheServerTouchRootsFiles) {
  std::string jobs[3];
  for (int i = 0; i < 3; ++i) {
    const std::string socket = A(absl::StrCat("/d/job", i, ".sock"));
    const CommandRun submitted = SubmitWithSocket(*attacker_, socket);
    ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
    jobs[i] = JobId(submitted.output);
    struct stat info;
    ASSERT_EQ(lstat(socket.c_str(), &info), 0) << socket;
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_uid, attacker_->uid()) << "the socket belongs to its job's owner";
    EXPECT_EQ(info.st_mode & 07777, 0600u);
  }
  // Root's files of the same names as the first two sockets.
  PutRootsFile(Root("/job0.sock"));
  PutRootsFile(Root("/job1.sock"));
  const CommandRun swapped = As(*attacker_, absl::StrCat("mv ", A("/d"), " ", A("/d.old"),
                                                         " && ln -s ", Root(""), " ", A("/d")));
  ASSERT_EQ(swapped.exit_code, 0) << swapped.output;

  const CommandRun deleted =
      Call(*attacker_, "DeleteJob", absl::StrCat(R"({"job":")", jobs[0], R"("})"));
  EXPECT_EQ(deleted.exit_code, 0) << deleted.output;
  EXPECT_TRUE(IsRootsFile(Root("/job0.sock"))) << "DeleteJob removed root's file";

  StopWith(SIGTERM);
  EXPECT_TRUE(IsRootsFile(Root("/job1.sock"))) << "the server's SIGTERM removed root's file";

  // No socket is made again through the symlink, by the attacker's right or
  // root's: root's directory holds what it held.
  Start();
  EXPECT_EQ(Entries(Root("")), (std::set<std::string>{"job0.sock", "job1.sock"}));
  EXPECT_TRUE(IsRootsFile(Root("/job0.sock")));
  EXPECT_TRUE(IsRootsFile(Root("/job1.sock")));
  for (const std::string& job : {jobs[1], jobs[2]}) {
    EXPECT_NE(server_->Stderr().find(absl::StrCat("job ", job, ": its socket is not served")),
              std::string::npos)
        << server_->Stderr();
  }
}

// Killed, the server leaves its sockets; the next start replaces only a
// socket of the job's owner, as that owner.
TEST_F(SocketPathTest, AfterAKillTheNextStartMakesNothingWhereTheOwnerMayNotWrite) {
  const std::string socket = A("/d/job.sock");
  const CommandRun submitted = SubmitWithSocket(*attacker_, socket);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  StopWith(SIGKILL);
  const CommandRun swapped = As(*attacker_, absl::StrCat("mv ", A("/d"), " ", A("/d.old"),
                                                         " && ln -s ", Root(""), " ", A("/d")));
  ASSERT_EQ(swapped.exit_code, 0) << swapped.output;
  Start();
  EXPECT_TRUE(Entries(Root("")).empty()) << "a socket was made in root's directory";
  EXPECT_NE(server_->Stderr().find(
                absl::StrCat("job ", JobId(submitted.output), ": its socket is not served")),
            std::string::npos)
      << server_->Stderr();
  // Swapped back, the job's socket is served again.
  const CommandRun back =
      As(*attacker_, absl::StrCat("rm ", A("/d"), " && mv ", A("/d.old"), " ", A("/d")));
  ASSERT_EQ(back.exit_code, 0) << back.output;
  server_.reset();
  Start();
  struct stat info;
  ASSERT_EQ(lstat(socket.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_uid, attacker_->uid());
}

// A user asks for a socket where they may not write, or where they may not
// even look: PERMISSION_DENIED, and nothing about what is there.
TEST_F(SocketPathTest, ASocketWhereTheCallerMayNotWriteIsPermissionDenied) {
  const CommandRun in_theirs = SubmitWithSocket(*other_, A("/d/x.sock"));
  EXPECT_NE(in_theirs.output.find("PermissionDenied"), std::string::npos) << in_theirs.output;
  EXPECT_NE(in_theirs.output.find("socket_path"), std::string::npos) << in_theirs.output;
  EXPECT_TRUE(Entries(A("/d")).empty());

  PutRootsFile(Secret("/there"));
  for (const std::string& path : {Secret("/there"), Secret("/not-there")}) {
    const CommandRun hidden = SubmitWithSocket(*other_, path);
    EXPECT_NE(hidden.output.find("PermissionDenied"), std::string::npos)
        << path << ": " << hidden.output;
  }
  EXPECT_EQ(Entries(Secret("")), (std::set<std::string>{"there"}));

  // Through a symlink of their own to root's directory: the same.
  const CommandRun linked = As(*attacker_, absl::StrCat("ln -s ", Root(""), " ", A("/r")));
  ASSERT_EQ(linked.exit_code, 0) << linked.output;
  const CommandRun through = SubmitWithSocket(*attacker_, A("/r/x.sock"));
  EXPECT_NE(through.output.find("PermissionDenied"), std::string::npos) << through.output;
  EXPECT_TRUE(Entries(Root("")).empty());
}

}  // namespace
}  // namespace pprocd::testing
