// RunAs: an action runs with the user's file-system rights and a umask of
// its own, and nothing of either leaks to the calling thread or the process.
// The cases that switch identity need root (they use the user `nobody`).
#include "server/fs_identity/fs_identity.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "base/status_macros.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;

std::string MakeDir() {
  std::string pattern = "/tmp/pprocd-fsid-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return "";
  chmod(pattern.c_str(), 0755);
  return pattern;
}

void RemoveDir(const std::string& dir) { std::system(("rm -rf " + dir).c_str()); }

// Creates `path` as a regular file; the errno-mapped status on failure.
absl::Status Create(const std::string& path) {
  const int fd = open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) return ErrnoStatus(errno, "create " + path);
  close(fd);
  return absl::OkStatus();
}

class FsIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeDir();
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override { RemoveDir(dir_); }
  // The user `nobody`, for the cases that need root.
  bool Nobody(uid_t* uid, gid_t* gid) {
    const passwd* entry = getpwnam("nobody");
    if (geteuid() != 0 || entry == nullptr) return false;
    *uid = entry->pw_uid;
    *gid = entry->pw_gid;
    return true;
  }

  std::string dir_;
};

TEST_F(FsIdentityTest, TheActionsUmaskIsItsOwn) {
  const mode_t before = umask(022);
  const std::string path = dir_ + "/file";
  ASSERT_OK(RunAs(FsIdentity::Own(), 0177, [&] { return Create(path); }));
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(umask(before), 022u) << "the process's umask changed";
}

TEST_F(FsIdentityTest, OwnUidIsOwnIdentity) {
  ASSERT_OK_AND_ASSIGN(FsIdentity own, FsIdentity::OfUser(geteuid()));
  EXPECT_TRUE(own.own());
}

TEST_F(FsIdentityTest, ActsWithTheUsersRightsAndCreatesFilesAsThem) {
  uid_t uid;
  gid_t gid;
  if (!Nobody(&uid, &gid)) GTEST_SKIP() << "needs root and the user nobody";
  ASSERT_OK_AND_ASSIGN(FsIdentity nobody, FsIdentity::OfUser(uid));
  ASSERT_FALSE(nobody.own());
  EXPECT_EQ(nobody.uid(), uid);
  EXPECT_EQ(nobody.gid(), gid);

  // Root's directory, and a file only root may read: not for nobody.
  const std::string secret = dir_ + "/secret";
  ASSERT_OK(Create(secret));
  ASSERT_EQ(chmod(secret.c_str(), 0600), 0);
  const absl::Status in_roots = RunAs(nobody, 022, [&] { return Create(dir_ + "/x"); });
  EXPECT_THAT(in_roots, StatusIs(absl::StatusCode::kPermissionDenied));
  const absl::Status read = RunAs(nobody, 022, [&]() -> absl::Status {
    const int fd = open(secret.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open");
    close(fd);
    return absl::OkStatus();
  });
  EXPECT_THAT(read, StatusIs(absl::StatusCode::kPermissionDenied));

  // Nobody's directory: the file is nobody's.
  const std::string theirs = dir_ + "/theirs";
  ASSERT_EQ(mkdir(theirs.c_str(), 0755), 0);
  ASSERT_EQ(chown(theirs.c_str(), uid, gid), 0);
  ASSERT_OK(RunAs(nobody, 077, [&] { return Create(theirs + "/file"); }));
  struct stat info;
  ASSERT_EQ(stat((theirs + "/file").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, uid);
  EXPECT_EQ(info.st_gid, gid);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  // The calling thread is still root.
  EXPECT_OK(Create(dir_ + "/mine"));
}

TEST_F(FsIdentityTest, AnUnknownUidIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  uid_t unknown = 3999999000;
  while (getpwuid(unknown) != nullptr) ++unknown;
  const absl::StatusOr<FsIdentity> identity = FsIdentity::OfUser(unknown);
  EXPECT_THAT(identity, StatusIs(absl::StatusCode::kPermissionDenied));
}

// A server that is not root acts only as itself.
TEST_F(FsIdentityTest, AProcessThatIsNotRootCannotTakeAnotherUsersIdentity) {
  uid_t uid;
  gid_t gid;
  if (!Nobody(&uid, &gid)) GTEST_SKIP() << "needs root and the user nobody";
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0) _exit(2);
    const absl::StatusOr<FsIdentity> root = FsIdentity::OfUser(0);
    if (root.ok() || root.status().code() != absl::StatusCode::kPermissionDenied) _exit(3);
    const absl::StatusOr<FsIdentity> self = FsIdentity::OfUser(uid);
    _exit(self.ok() && self->own() ? 0 : 4);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

}  // namespace
}  // namespace pprocd
