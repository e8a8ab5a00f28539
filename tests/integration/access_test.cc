// Per-user access to background jobs through a real pprocd: the server
// learns each UNIX-socket caller's uid from the kernel; a job belongs to
// the uid that submitted it; another uid is denied, root sees everything.
// And a job's own socket file (socket_path), reached by the real grpcurl.
// The other user is `nobody` (65534), run with setpriv: needs root.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "tests/util/server_process.h"

namespace pprocd::testing {
namespace {

constexpr uid_t kNobody = 65534;

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root, to run a client as another user";
    if (RunCommand("command -v setpriv").exit_code != 0) GTEST_SKIP() << "setpriv is missing";
    // A directory every user may enter, and one `nobody` may write to.
    dir_ = MakeTempDir();
    chmod(dir_.c_str(), 0755);
    nobody_dir_ = dir_ + "/nobody";
    mkdir(nobody_dir_.c_str(), 0755);
    ASSERT_EQ(chown(nobody_dir_.c_str(), kNobody, kNobody), 0);
    // grpcurl where `nobody` may run it.
    grpcurl_ = dir_ + "/grpcurl";
    ASSERT_EQ(RunCommand(absl::StrCat("cp ", std::getenv("PPROCD_GRPCURL"), " ", grpcurl_,
                                      " && chmod 755 ", grpcurl_))
                  .exit_code,
              0);
    std::string error;
    server_ = ServerProcess::Start(
        {.extra_args = {"--socket-mode", "0666"}, .socket_path = dir_ + "/pprocd.sock"}, &error);
    ASSERT_NE(server_, nullptr) << error;
  }
  void TearDown() override {
    server_.reset();
    if (!dir_.empty()) RemoveTree(dir_);
  }

  // grpcurl METHOD with `json` on `socket`, as root or as nobody.
  CommandRun Call(bool as_nobody, const std::string& method, const std::string& json,
                  const std::string& socket = "") {
    return RunCommand(absl::StrCat(
        as_nobody ? "setpriv --reuid 65534 --regid 65534 --clear-groups " : "", grpcurl_,
        " -plaintext -unix -d '", json, "' ", socket.empty() ? server_->socket_path() : socket,
        " pprocd.v1.ProcessFarmService/", method));
  }
  // The "id" of the job in a grpcurl answer.
  static std::string JobId(const std::string& output) {
    const size_t at = output.find("\"id\": \"");
    return at == std::string::npos ? "" : output.substr(at + 7, 16);
  }

  std::string dir_;
  std::string nobody_dir_;
  std::string grpcurl_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(AccessTest, AnotherUsersJobIsDeniedAndEachUserListsOnlyTheirOwn) {
  const CommandRun submitted =
      Call(false, "Submit", R"({"callable":"sleep_ms","inputs":[20000],"name":"roots"})");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  const std::string roots = JobId(submitted.output);
  ASSERT_EQ(roots.size(), 16u) << submitted.output;

  for (const char* method : {"GetJob", "CancelJob", "DeleteJob"}) {
    const CommandRun denied = Call(true, method, absl::StrCat(R"({"job":")", roots, R"("})"));
    EXPECT_NE(denied.exit_code, 0) << method;
    EXPECT_NE(denied.output.find("PermissionDenied"), std::string::npos)
        << method << ": " << denied.output;
  }
  const CommandRun watch = Call(true, "Reconnect", absl::StrCat(R"({"jobs":[")", roots, R"("]})"));
  EXPECT_NE(watch.output.find("PermissionDenied"), std::string::npos) << watch.output;
  // Names are per owner: nobody has no job of that name.
  EXPECT_NE(Call(true, "GetJob", R"({"job":"roots"})").output.find("NotFound"), std::string::npos);

  const CommandRun own = Call(true, "Submit", R"({"callable":"square","inputs":[7]})");
  ASSERT_EQ(own.exit_code, 0) << own.output;
  EXPECT_NE(own.output.find("\"owner_uid\": \"65534\""), std::string::npos) << own.output;
  const std::string nobodys = JobId(own.output);
  const CommandRun replay =
      Call(true, "Reconnect", absl::StrCat(R"({"jobs":[")", nobodys, R"("]})"));
  EXPECT_EQ(replay.exit_code, 0) << replay.output;
  EXPECT_NE(replay.output.find("\"value\": 49"), std::string::npos) << replay.output;

  const CommandRun theirs = Call(true, "ListJobs", "{}");
  EXPECT_NE(theirs.output.find(nobodys), std::string::npos);
  EXPECT_EQ(theirs.output.find(roots), std::string::npos) << "only their own";
  const CommandRun all = Call(false, "ListJobs", "{}");
  EXPECT_NE(all.output.find(nobodys), std::string::npos) << "root sees every job";
  EXPECT_NE(all.output.find(roots), std::string::npos);
  // Root may act on nobody's job.
  EXPECT_EQ(Call(false, "GetJob", absl::StrCat(R"({"job":")", nobodys, R"("})")).exit_code, 0);
  EXPECT_EQ(Call(false, "CancelJob", absl::StrCat(R"({"job":")", roots, R"("})")).exit_code, 0);
}

TEST_F(AccessTest, AJobsOwnSocketBelongsToItsOwnerAndReconnectWithNoJobAttachesToIt) {
  const std::string socket = nobody_dir_ + "/task.socket";
  const CommandRun submitted = Call(
      true, "Submit",
      absl::StrCat(R"({"callable":"square","inputs":[1,2,3],"socket_path":")", socket, R"("})"));
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  struct stat info;
  ASSERT_EQ(stat(socket.c_str(), &info), 0);
  EXPECT_TRUE(S_ISSOCK(info.st_mode));
  EXPECT_EQ(info.st_uid, kNobody);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  const CommandRun attached = Call(true, "Reconnect", "{}", socket);
  ASSERT_EQ(attached.exit_code, 0) << attached.output;
  EXPECT_NE(attached.output.find("\"value\": 9"), std::string::npos) << attached.output;
  EXPECT_NE(attached.output.find("JOB_STATE_SUCCEEDED"), std::string::npos);
  EXPECT_NE(attached.output.find(JobId(submitted.output)), std::string::npos);

  // nobody may not make a socket where it may not write.
  const CommandRun refused = Call(
      true, "Submit",
      absl::StrCat(R"({"callable":"square","inputs":[1],"socket_path":")", dir_, R"(/x.sock"})"));
  EXPECT_NE(refused.output.find("PermissionDenied"), std::string::npos) << refused.output;
  EXPECT_NE(refused.output.find("socket_path"), std::string::npos) << refused.output;
  // A taken path, a relative path.
  EXPECT_NE(
      Call(true, "Submit",
           absl::StrCat(R"({"callable":"square","inputs":[1],"socket_path":")", socket, R"("})"))
          .output.find("AlreadyExists"),
      std::string::npos);
  EXPECT_NE(Call(true, "Submit", R"({"callable":"square","inputs":[1],"socket_path":"x.sock"})")
                .output.find("InvalidArgument"),
            std::string::npos);

  // Deleting the job removes its socket.
  ASSERT_EQ(Call(true, "DeleteJob", absl::StrCat(R"({"job":")", JobId(submitted.output), R"("})"))
                .exit_code,
            0);
  EXPECT_NE(stat(socket.c_str(), &info), 0);
}

}  // namespace
}  // namespace pprocd::testing
