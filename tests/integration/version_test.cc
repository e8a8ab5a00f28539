// One version everywhere: `pprocd --version`, `pproc --version` and
// GetStatus (read with the real grpcurl) all say what the VERSION file says.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/util/server_process.h"

namespace pprocd::testing {
namespace {

std::string VersionFile() {
  std::ifstream in(PPROCD_VERSION_FILE);
  std::string line;
  std::getline(in, line);
  return std::string(absl::StripAsciiWhitespace(line));
}

TEST(VersionTest, VersionFileHoldsAVersion) {
  const std::string version = VersionFile();
  EXPECT_FALSE(version.empty());
  EXPECT_EQ(version.find_first_not_of("0123456789."), std::string::npos) << version;
}

TEST(VersionTest, BothBinariesPrintTheVersionFile) {
  const CommandRun server = RunCommand(absl::StrCat(PPROCD_BINARY_PATH, " --version"));
  EXPECT_EQ(server.exit_code, 0) << server.output;
  EXPECT_EQ(server.output, "pprocd " + VersionFile() + "\n");
  const CommandRun client = RunCommand(PprocBinary() + " --version");
  EXPECT_EQ(client.exit_code, 0) << client.output;
  EXPECT_EQ(client.output, "pproc " + VersionFile() + "\n");
}

TEST(VersionTest, GetStatusSaysTheVersionFile) {
  std::string error;
  std::unique_ptr<ServerProcess> server = ServerProcess::Start({}, &error);
  ASSERT_NE(server, nullptr) << error;
  const char* grpcurl = std::getenv("PPROCD_GRPCURL");
  const CommandRun run =
      RunCommand(absl::StrCat(grpcurl != nullptr ? grpcurl : "grpcurl", " -plaintext -unix ",
                              server->socket_path(), " pprocd.v1.ProcessFarmService/GetStatus"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("\"version\": \"" + VersionFile() + "\""), std::string::npos)
      << run.output;
}

}  // namespace
}  // namespace pprocd::testing
