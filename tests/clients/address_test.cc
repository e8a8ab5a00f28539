#include "pprocd/client/address.h"

#include <cstdlib>

#include "gtest/gtest.h"

namespace pprocd::client {
namespace {

// Sets or clears $PPROCD_ADDRESS for one test, restoring it afterwards.
class ScopedAddressEnv {
 public:
  explicit ScopedAddressEnv(const char* value) {
    const char* old = std::getenv(kAddressEnvVar);
    if (old != nullptr) old_ = old;
    had_old_ = old != nullptr;
    if (value == nullptr) {
      unsetenv(kAddressEnvVar);
    } else {
      setenv(kAddressEnvVar, value, 1);
    }
  }
  ~ScopedAddressEnv() {
    if (had_old_) {
      setenv(kAddressEnvVar, old_.c_str(), 1);
    } else {
      unsetenv(kAddressEnvVar);
    }
  }

 private:
  std::string old_;
  bool had_old_ = false;
};

std::string Normalized(const char* address) {
  absl::StatusOr<std::string> target = NormalizeAddress(address);
  EXPECT_TRUE(target.ok()) << address << ": " << target.status();
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
    EXPECT_EQ(target.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(target.status().message().find(std::string("'") + bad + "'"), absl::string_view::npos)
        << target.status();
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

TEST(ResolveAddressTest, DefaultIsRunSocketInWorkingDirectory) {
  ScopedAddressEnv env(nullptr);
  EXPECT_EQ(ResolveAddress("").value(), "unix:run/pprocd.sock");
}

TEST(ResolveAddressTest, EmptyEnvironmentMeansDefault) {
  ScopedAddressEnv env("");
  EXPECT_EQ(ResolveAddress("").value(), "unix:run/pprocd.sock");
}

TEST(ResolveAddressTest, BadEnvironmentValueNamesTheVariable) {
  ScopedAddressEnv env("nonsense");
  absl::StatusOr<std::string> target = ResolveAddress("");
  ASSERT_FALSE(target.ok());
  EXPECT_NE(target.status().message().find("PPROCD_ADDRESS"), absl::string_view::npos);
}

}  // namespace
}  // namespace pprocd::client
