// The pproc command-line tool against a real server, run as a user runs it.
#include <gtest/gtest.h>

#include "absl/strings/str_split.h"
#include "tests/util/server_process.h"

namespace pprocd::testing {
namespace {

class PprocEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({}, &error);
    ASSERT_NE(server_, nullptr) << error;
  }
  CommandRun Pproc(const std::string& args) {
    return RunCommand(PprocBinary() + " --address unix:" + server_->socket_path() + " " + args);
  }
  std::unique_ptr<ServerProcess> server_;
};

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

TEST_F(PprocEndToEndTest, MapFibPrintsOneLinePerItemInOrder) {
  const CommandRun run = Pproc("map fib 1..30");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<std::string> lines = Lines(run.output);
  ASSERT_EQ(lines.size(), 30u) << run.output;
  EXPECT_EQ(lines[0], "1");
  EXPECT_EQ(lines[1], "2");
  EXPECT_EQ(lines[9], "89");
  EXPECT_EQ(lines[29], "1346269");
}

TEST_F(PprocEndToEndTest, AFailedItemIsAnErrorLineAndExitStatusOne) {
  const CommandRun run = Pproc(R"(map chaos '"ok"' '"crash"' '"ok"')");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const std::vector<std::string> lines = Lines(run.output);
  ASSERT_EQ(lines.size(), 3u) << run.output;
  EXPECT_EQ(lines[0], "\"ok\"");
  EXPECT_NE(lines[1].find(R"("kind":"CRASHED")"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find(R"("signal":"SIGSEGV")"), std::string::npos) << lines[1];
  EXPECT_EQ(lines[2], "\"ok\"");
}

TEST_F(PprocEndToEndTest, QueueNamesEachIndexAndListsSpreadOverParameters) {
  const CommandRun run = Pproc("queue calculate '[1, 2]' '[3, 4, 100]'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find(R"({"index":0,"value":12})"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(R"({"index":1,"value":304})"), std::string::npos) << run.output;
}

TEST_F(PprocEndToEndTest, ReadsItemsFromStdin) {
  const CommandRun run = RunCommand("printf '3\\n4\\n' | " + PprocBinary() +
                                    " --address unix:" + server_->socket_path() + " map square -");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(Lines(run.output), (std::vector<std::string>{"9", "16"}));
}

TEST_F(PprocEndToEndTest, CallablesAndStatusAnswer) {
  const CommandRun callables = Pproc("callables");
  ASSERT_EQ(callables.exit_code, 0) << callables.output;
  EXPECT_NE(callables.output.find("calculate"), std::string::npos) << callables.output;
  const CommandRun status = Pproc("status");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("workers"), std::string::npos) << status.output;
}

TEST_F(PprocEndToEndTest, BadRequestIsExitStatusTwoWithTheReason) {
  const CommandRun run = Pproc("map fib '\"ten\"'");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("INVALID_ARGUMENT"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("'n'"), std::string::npos) << run.output;
}

TEST(PprocEndToEndNoServerTest, SaysWhichAddressWasTriedAndHowToStart) {
  const CommandRun run =
      RunCommand(PprocBinary() + " --address unix:/nonexistent/pprocd.sock status");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("/nonexistent/pprocd.sock"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("scripts/run"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace pprocd::testing
