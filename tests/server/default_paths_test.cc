#include "server/default_paths.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Sets or clears an environment variable for one test, restoring it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    value == nullptr ? unsetenv(name) : setenv(name, value, 1);
  }
  ~ScopedEnv() { old_.has_value() ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

using testing::TempDir;

TEST(DefaultPathsTest, ThePerUserSocketIsUnderXdgRuntimeDir) {
  ScopedEnv runtime("XDG_RUNTIME_DIR", "/run/user/4321/");
  EXPECT_EQ(UserSocketPath(), "/run/user/4321/pprocd/pprocd.sock");
  EXPECT_EQ(UserSocketDir(), "/run/user/4321/pprocd");
}

TEST(DefaultPathsTest, WithoutXdgRuntimeDirThePerUserSocketIsInAPrivateTmpDirectory) {
  const std::string expected = "/tmp/pprocd-" + std::to_string(geteuid()) + "/pprocd.sock";
  ScopedEnv runtime("XDG_RUNTIME_DIR", nullptr);
  EXPECT_EQ(UserSocketPath(), expected);
  ScopedEnv relative("XDG_RUNTIME_DIR", "relative");  // Ignored, as XDG says.
  EXPECT_EQ(UserSocketPath(), expected);
}

TEST(DefaultPathsTest, TheServerListensOnPprocdAddressElseThePerUserSocket) {
  ScopedEnv runtime("XDG_RUNTIME_DIR", "/x");
  {
    ScopedEnv address("PPROCD_ADDRESS", nullptr);
    EXPECT_EQ(DefaultListenAddress().value(), "unix:/x/pprocd/pprocd.sock");
  }
  for (const auto& [given, listen] : std::vector<std::pair<const char*, const char*>>{
           {"unix:/a/b.sock", "unix:/a/b.sock"},
           {"/a/b.sock", "unix:/a/b.sock"},
           {"tcp:127.0.0.1:7000", "tcp:127.0.0.1:7000"},
           {"localhost:7000", "tcp:localhost:7000"}}) {
    ScopedEnv address("PPROCD_ADDRESS", given);
    EXPECT_EQ(DefaultListenAddress().value(), listen) << given;
  }
  ScopedEnv address("PPROCD_ADDRESS", "dns:///example.test:443");
  absl::StatusOr<std::string> refused = DefaultListenAddress();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("$PPROCD_ADDRESS"), std::string::npos);
}

TEST(DefaultPathsTest, TheStateDirIsUnderXdgStateHomeElseTheHomeDirectory) {
  {
    ScopedEnv state("XDG_STATE_HOME", "/s");
    EXPECT_EQ(DefaultStateDir().value(), "/s/pprocd");
  }
  ScopedEnv state("XDG_STATE_HOME", nullptr);
  ScopedEnv home("HOME", "/home/someone");
  EXPECT_EQ(DefaultStateDir().value(), "/home/someone/.local/state/pprocd");
}

TEST(DefaultPathsTest, MakeDirectoriesCreatesMissingParentsPrivate) {
  TempDir dir;
  ASSERT_OK(MakeDirectories(dir.path() + "/a/b/c"));
  struct stat info;
  ASSERT_EQ(stat((dir.path() + "/a/b").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  EXPECT_OK(MakeDirectories(dir.path() + "/a/b/c"));
}

TEST(DefaultPathsTest, APrivateDirectoryIsCreatedOwnerOnly) {
  TempDir dir;
  const std::string made = dir.path() + "/pprocd-sockets";
  ASSERT_OK(PreparePrivateDirectory(made));
  struct stat info;
  ASSERT_EQ(stat(made.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0700u);
  EXPECT_EQ(info.st_uid, geteuid());
  EXPECT_OK(PreparePrivateDirectory(made));  // Again: it is ours.
}

TEST(DefaultPathsTest, ADirectoryGroupOrOthersCanWriteIsRefused) {
  TempDir dir;
  const std::string shared = dir.path() + "/shared";
  ASSERT_EQ(mkdir(shared.c_str(), 0700), 0);
  for (mode_t mode : {01777, 0777, 0770, 0720, 0702}) {
    ASSERT_EQ(chmod(shared.c_str(), mode), 0);
    absl::Status refused = PreparePrivateDirectory(shared);
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                  AllOf(HasSubstr("group or others may write it"),
                                        HasSubstr("chmod 700 " + shared))))
        << std::oct << mode;
  }
  ASSERT_EQ(chmod(shared.c_str(), 0750), 0);  // Readable by the group is fine.
  EXPECT_OK(PreparePrivateDirectory(shared));
}

TEST(DefaultPathsTest, ASymlinkOrAFileIsRefused) {
  TempDir dir;
  ASSERT_EQ(mkdir((dir.path() + "/real").c_str(), 0700), 0);
  ASSERT_EQ(symlink((dir.path() + "/real").c_str(), (dir.path() + "/link").c_str()), 0);
  EXPECT_THAT(PreparePrivateDirectory(dir.path() + "/link"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  std::system(("touch '" + dir.path() + "/file'").c_str());
  EXPECT_THAT(PreparePrivateDirectory(dir.path() + "/file"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace pprocd
