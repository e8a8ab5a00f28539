// The pidfile, with processes forked by the test standing in for servers
// (this binary has no other thread, so a forked child may allocate).
#include "server/pidfile.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace pprocd {
namespace {

class PidfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(temp_.ok());
    dir_ = temp_.path();
  }

  std::string path() const { return dir_ + "/pprocd.pid"; }
  std::string Content() const {
    std::ifstream in(path());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  bool Exists() const { return access(path().c_str(), F_OK) == 0; }

  // Runs `body` in a forked child (dying with this process) and returns its
  // exit code.
  template <typename Body>
  int InChild(Body body) {
    const pid_t child = fork();
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      _exit(body());
    }
    int status = 0;
    waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  testing::TempDir temp_{"pprocd-pidfile-test"};
  std::string dir_;
};

TEST_F(PidfileTest, EmptyUntilPublishedThenThePidThenRemoved) {
  {
    ASSERT_OK_AND_ASSIGN(Pidfile pidfile, Pidfile::Acquire(dir_));
    EXPECT_EQ(Content(), "");
    ASSERT_OK(pidfile.Publish());
    EXPECT_EQ(Content(), absl::StrCat(getpid(), "\n"));
  }
  EXPECT_FALSE(Exists());
}

TEST_F(PidfileTest, AnotherProcessIsRefusedWhileItIsHeldAndToldByWhom) {
  ASSERT_OK_AND_ASSIGN(Pidfile pidfile, Pidfile::Acquire(dir_));
  ASSERT_OK(pidfile.Publish());
  const pid_t holder = getpid();
  EXPECT_EQ(InChild([&] {
              absl::StatusOr<Pidfile> second = Pidfile::Acquire(dir_);
              if (second.ok()) return 1;
              if (!absl::IsFailedPrecondition(second.status())) return 2;
              return absl::StrContains(second.status().message(),
                                       absl::StrCat("another pprocd (pid ", holder, ")"))
                         ? 0
                         : 3;
            }),
            0);
  EXPECT_EQ(Content(), absl::StrCat(holder, "\n")) << "the refused process changed it";
}

TEST_F(PidfileTest, ReadServerPidNamesTheHolderAndRefusesAStartingOne) {
  absl::StatusOr<Pidfile> pidfile = Pidfile::Acquire(dir_);
  ASSERT_OK(pidfile);
  const pid_t holder = getpid();
  // The holder does not see its own lock: read from another process.
  EXPECT_EQ(InChild([&] {
              absl::StatusOr<pid_t> read = ReadServerPid(dir_);
              return !read.ok() && absl::IsFailedPrecondition(read.status()) &&
                             absl::StrContains(read.status().message(), "still starting")
                         ? 0
                         : 1;
            }),
            0);
  ASSERT_OK(pidfile->Publish());
  EXPECT_EQ(InChild([&] {
              absl::StatusOr<pid_t> read = ReadServerPid(dir_);
              return read.ok() && *read == holder ? 0 : 1;
            }),
            0);
}

TEST_F(PidfileTest, ReadServerPidRefusesAMissingOrStaleFile) {
  absl::StatusOr<pid_t> missing = ReadServerPid(dir_);
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();
  // A pid nobody holds the file for: maybe reused by any process since.
  std::ofstream(path()) << getpid() << "\n";
  absl::StatusOr<pid_t> stale = ReadServerPid(dir_);
  EXPECT_TRUE(absl::IsFailedPrecondition(stale.status())) << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "stale")) << stale.status();
}

TEST_F(PidfileTest, AKilledHoldersFileIsTakenOverThoughItsChildrenLive) {
  // A "server" that forks a "template" (which keeps the file open, as a
  // forked child does), then dies without cleaning up, as after kill -9.
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t server = fork();
  if (server == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    absl::StatusOr<Pidfile> pidfile = Pidfile::Acquire(dir_);
    if (!pidfile.ok() || !pidfile->Publish().ok()) _exit(1);
    const pid_t template_pid = fork();
    if (template_pid == 0) {
      while (true) pause();
    }
    if (write(ready[1], &template_pid, sizeof(template_pid)) != sizeof(template_pid)) _exit(2);
    _exit(0);  // No destructor: the file stays.
  }
  close(ready[1]);
  pid_t template_pid = -1;
  const ssize_t n = read(ready[0], &template_pid, sizeof(template_pid));
  close(ready[0]);
  // The orphaned "template" goes when the test does, whatever fails.
  struct Killer {
    pid_t pid;
    ~Killer() {
      if (pid > 0) kill(pid, SIGKILL);
    }
  } killer{n == static_cast<ssize_t>(sizeof(template_pid)) ? template_pid : -1};
  ASSERT_GT(killer.pid, 0);
  waitpid(server, nullptr, 0);
  ASSERT_EQ(Content(), absl::StrCat(server, "\n"));
  absl::StatusOr<Pidfile> next = Pidfile::Acquire(dir_);
  EXPECT_OK(next);
  if (next.ok()) {
    EXPECT_EQ(Content(), "") << "the stale pid must not show as the new server's";
  }
}

TEST_F(PidfileTest, ASymlinkInItsPlaceIsNotFollowed) {
  const std::string target = dir_ + "/elsewhere";
  ASSERT_EQ(symlink(target.c_str(), path().c_str()), 0);
  absl::StatusOr<Pidfile> pidfile = Pidfile::Acquire(dir_);
  EXPECT_FALSE(pidfile.ok());
  EXPECT_NE(access(target.c_str(), F_OK), 0) << "created through the symlink";
}

}  // namespace
}  // namespace pprocd
