#include "pprocd/client/address.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace pprocd::client {
namespace {

using ::pprocd::testing::StatusIs;
using ::testing::HasSubstr;

// Sets or clears an environment variable for one test, restoring it
// afterwards.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    had_old_ = old != nullptr;
    if (value == nullptr) {
      unsetenv(name);
    } else {
      setenv(name, value, 1);
    }
  }
  ~ScopedEnv() {
    if (had_old_) {
      setenv(name_.c_str(), old_.c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
  }

 private:
  std::string name_;
  std::string old_;
  bool had_old_ = false;
};

// Sets or clears $PPROCD_ADDRESS for one test.
class ScopedAddressEnv : public ScopedEnv {
 public:
  explicit ScopedAddressEnv(const char* value) : ScopedEnv(kAddressEnvVar, value) {}
};

std::string Normalized(const char* address) {
  absl::StatusOr<std::string> target = NormalizeAddress(address);
  EXPECT_OK(target) << address;
  return target.ok() ? *target : "";
}

TEST(NormalizeAddressTest, UnixTargetsPassThrough) {
  EXPECT_EQ(Normalized("unix:run/pprocd.sock"), "unix:run/pprocd.sock");
  EXPECT_EQ(Normalized("unix:///tmp/x/s.sock"), "unix:///tmp/x/s.sock");
  EXPECT_EQ(Normalized("unix:/tmp/x/s.sock"), "unix:/tmp/x/s.sock");
}

TEST(NormalizeAddressTest, BarePathsBecomeUnixTargets) {
  EXPECT_EQ(Normalized("/tmp/x/s.sock"), "unix:/tmp/x/s.sock");
  EXPECT_EQ(Normalized("run/pprocd.sock"), "unix:run/pprocd.sock");
  EXPECT_EQ(Normalized("pprocd.sock"), "unix:pprocd.sock");
  EXPECT_EQ(Normalized("./sock"), "unix:./sock");
}

TEST(NormalizeAddressTest, TcpPrefixIsDropped) {
  EXPECT_EQ(Normalized("tcp:localhost:50051"), "localhost:50051");
  EXPECT_EQ(Normalized("tcp:[::1]:7000"), "[::1]:7000");
}

TEST(NormalizeAddressTest, HostPortPassesThrough) {
  EXPECT_EQ(Normalized("localhost:50051"), "localhost:50051");
  EXPECT_EQ(Normalized("127.0.0.1:1"), "127.0.0.1:1");
  EXPECT_EQ(Normalized("  localhost:80  "), "localhost:80");
}

TEST(NormalizeAddressTest, RejectsMalformedAddressesNamingThem) {
  for (const char* bad : {"", "localhost", "tcp:localhost", "host:0", "host:70000", "host:http",
                          ":80", "unix:", "unix://relative/s.sock"}) {
    absl::StatusOr<std::string> target = NormalizeAddress(bad);
    ASSERT_FALSE(target.ok()) << "accepted '" << bad << "' as " << *target;
    EXPECT_THAT(target, StatusIs(absl::StatusCode::kInvalidArgument,
                                 HasSubstr(std::string("'") + bad + "'")));
  }
}

TEST(ResolveAddressTest, FlagWinsOverEnvironment) {
  ScopedAddressEnv env("unix:/from/env.sock");
  EXPECT_EQ(ResolveAddress("tcp:h:1").value(), "h:1");
}

TEST(ResolveAddressTest, EnvironmentWinsOverDefault) {
  ScopedAddressEnv env("/from/env.sock");
  EXPECT_EQ(ResolveAddress("").value(), "unix:/from/env.sock");
}

TEST(ResolveAddressTest, DefaultIsThePerUserSocketUnderXdgRuntimeDir) {
  ScopedAddressEnv env(nullptr);
  ScopedEnv runtime("XDG_RUNTIME_DIR", "/nonexistent/run/user/1234");
  EXPECT_EQ(UserSocketPath(), "/nonexistent/run/user/1234/pprocd/pprocd.sock");
  EXPECT_EQ(ResolveAddress("").value(), "unix:/nonexistent/run/user/1234/pprocd/pprocd.sock");
}

TEST(ResolveAddressTest, WithoutXdgRuntimeDirThePerUserSocketIsInAPrivateTmpDirectory) {
  ScopedAddressEnv env(nullptr);
  ScopedEnv runtime("XDG_RUNTIME_DIR", nullptr);
  const std::string expected = "/tmp/pprocd-" + std::to_string(geteuid()) + "/pprocd.sock";
  EXPECT_EQ(UserSocketPath(), expected);
  ScopedEnv relative("XDG_RUNTIME_DIR", "relative/dir");  // Ignored, as XDG says.
  EXPECT_EQ(UserSocketPath(), expected);
}

TEST(ResolveAddressTest, EmptyEnvironmentMeansTheSearch) {
  ScopedAddressEnv env("");
  ScopedEnv runtime("XDG_RUNTIME_DIR", "/nonexistent/xdg");
  EXPECT_EQ(ResolveAddress("").value(), "unix:/nonexistent/xdg/pprocd/pprocd.sock");
}

TEST(LocateServerTest, AnExistingPerUserSocketIsUsed) {
  const ::pprocd::testing::TempDir temp("pprocd-address-test");
  ASSERT_TRUE(temp.ok());
  const std::string& dir = temp.path();
  ScopedAddressEnv env(nullptr);
  ScopedEnv runtime("XDG_RUNTIME_DIR", dir.c_str());
  ASSERT_EQ(mkdir((dir + "/pprocd").c_str(), 0700), 0);
  const std::string socket = dir + "/pprocd/pprocd.sock";
  ASSERT_EQ(mknod(socket.c_str(), S_IFSOCK | 0600, 0), 0);
  absl::StatusOr<Located> located = LocateServer("");
  ASSERT_OK(located);
  EXPECT_EQ(located->target, "unix:" + socket);
}

TEST(LocateServerTest, NoServerHintNamesEachAddressTriedInOrderAndHowToStartOne) {
  ScopedAddressEnv env(nullptr);
  ScopedEnv runtime("XDG_RUNTIME_DIR", "/nonexistent/xdg");
  absl::StatusOr<Located> located = LocateServer("");
  ASSERT_OK(located);
  ASSERT_EQ(located->tried.size(), 2u);
  EXPECT_EQ(located->tried[0], "unix:/nonexistent/xdg/pprocd/pprocd.sock (the per-user socket)");
  EXPECT_EQ(located->tried[1], "unix:/run/pprocd/pprocd.sock (the system socket)");
  const std::string& hint = located->no_server_hint;
  EXPECT_LT(hint.find("/nonexistent/xdg/pprocd/pprocd.sock"), hint.find("/run/pprocd/pprocd.sock"))
      << hint;
  EXPECT_NE(hint.find("$PPROCD_ADDRESS"), std::string::npos) << hint;
  EXPECT_NE(hint.find("start one with `pprocd` or scripts/run"), std::string::npos) << hint;
}

TEST(LocateServerTest, AnExplicitAddressIsTheOnlyOneTried) {
  ScopedAddressEnv env("unix:/from/env.sock");
  ASSERT_OK_AND_ASSIGN(Located located, LocateServer("tcp:localhost:7000"));
  EXPECT_EQ(located.target, "localhost:7000");
  ASSERT_EQ(located.tried.size(), 1u);
  EXPECT_EQ(located.no_server_hint,
            "tried localhost:7000 (the address given); start one with `pprocd --listen "
            "tcp:localhost:7000` or scripts/run --listen tcp:localhost:7000");
}

TEST(LocateServerTest, TheEnvironmentIsNamedInTheHint) {
  ScopedAddressEnv env("unix:///srv/p.sock");
  ASSERT_OK_AND_ASSIGN(Located located, LocateServer(""));
  EXPECT_EQ(located.no_server_hint,
            "tried unix:///srv/p.sock (from $PPROCD_ADDRESS); start one with `pprocd --listen "
            "unix:/srv/p.sock` or scripts/run --listen unix:/srv/p.sock");
}

TEST(ResolveAddressTest, BadEnvironmentValueNamesTheVariable) {
  ScopedAddressEnv env("nonsense");
  absl::StatusOr<std::string> target = ResolveAddress("");
  ASSERT_FALSE(target.ok());
  EXPECT_NE(target.status().message().find("PPROCD_ADDRESS"), absl::string_view::npos);
}

}  // namespace
}  // namespace pprocd::client
