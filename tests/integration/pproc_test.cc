// The pproc command-line tool against a real server, run as a user runs it.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

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

// The lines of `output` that are result objects ({"index":...}).
std::vector<std::string> ResultLines(const std::string& output) {
  std::vector<std::string> results;
  for (const std::string& line : Lines(output)) {
    if (absl::StartsWith(line, "{\"index\"") || absl::StartsWith(line, "{\"job\"")) {
      results.push_back(line);
    }
  }
  return results;
}

TEST_F(PprocEndToEndTest, SubmitThenAttachFromAnotherProcessGivesEveryResult) {
  const CommandRun submitted = Pproc("submit square 1..5 --name squares");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;
  const std::vector<std::string> words = absl::StrSplit(Lines(submitted.output).at(0), ' ');
  ASSERT_EQ(words.size(), 2u) << submitted.output;
  const std::string id = words[0];
  EXPECT_EQ(words[1], "squares");

  // By name, in a separate pproc process.
  const CommandRun attached = Pproc("attach squares");
  ASSERT_EQ(attached.exit_code, 0) << attached.output;
  EXPECT_EQ(ResultLines(attached.output),
            (std::vector<std::string>{R"({"index":0,"value":1})", R"({"index":1,"value":4})",
                                      R"({"index":2,"value":9})", R"({"index":3,"value":16})",
                                      R"({"index":4,"value":25})"}));
  EXPECT_NE(attached.output.find(id + " (squares) SUCCEEDED, 5/5 items\n"), std::string::npos)
      << attached.output;

  // A second attach replays the same results; --after-seq skips outputs.
  const CommandRun again = Pproc("attach " + id);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(ResultLines(again.output).size(), 5u) << again.output;
  const CommandRun resumed = Pproc("attach " + id + " --after-seq 3");
  EXPECT_EQ(ResultLines(resumed.output).size(), 3u) << resumed.output;

  const CommandRun jobs = Pproc("jobs");
  ASSERT_EQ(jobs.exit_code, 0) << jobs.output;
  const std::vector<std::string> rows = Lines(jobs.output);
  ASSERT_EQ(rows.size(), 2u) << jobs.output;
  EXPECT_TRUE(absl::StartsWith(rows[0], "ID ")) << rows[0];
  const std::vector<std::string> fields = absl::StrSplit(rows[1], ' ', absl::SkipEmpty());
  ASSERT_GE(fields.size(), 5u) << rows[1];
  EXPECT_EQ(std::vector<std::string>(fields.begin(), fields.begin() + 5),
            (std::vector<std::string>{id, "squares", "SUCCEEDED", "5/5", "square"}))
      << rows[1];
}

TEST_F(PprocEndToEndTest, JobsJsonIsOneJobPerLine) {
  ASSERT_EQ(Pproc("submit --attach square 1 2 --name a").exit_code, 0);
  ASSERT_EQ(Pproc("submit --attach square 3 --name b").exit_code, 0);
  const CommandRun run = Pproc("jobs --json --all --state succeeded");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const std::vector<std::string> lines = Lines(run.output);
  ASSERT_EQ(lines.size(), 2u) << run.output;
  std::vector<v1::Job> jobs(2);
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_OK(google::protobuf::util::JsonStringToMessage(lines[i], &jobs[i])) << lines[i];
  }
  EXPECT_EQ(jobs[0].name(), "b");  // Newest first.
  EXPECT_EQ(jobs[1].name(), "a");
  EXPECT_EQ(jobs[1].state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(jobs[1].items_done(), 2u);
  EXPECT_EQ(jobs[1].callable(), "square");
  const CommandRun named = Pproc("jobs --json --name a");
  EXPECT_EQ(Lines(named.output).size(), 1u) << named.output;
}

TEST_F(PprocEndToEndTest, SubmitAttachOfAFailingJobExitsOne) {
  const CommandRun run = Pproc(R"(submit --attach chaos '"ok"' '"raise"' --name bad)");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  const std::vector<std::string> results = ResultLines(run.output);
  ASSERT_EQ(results.size(), 2u) << run.output;
  EXPECT_EQ(results[0], R"({"index":0,"value":"ok"})");
  EXPECT_NE(results[1].find(R"("kind":"RAISED")"), std::string::npos) << results[1];
  EXPECT_NE(run.output.find("(bad) FAILED"), std::string::npos) << run.output;
  // Attaching later says the same.
  const CommandRun later = Pproc("attach bad");
  EXPECT_EQ(later.exit_code, 1) << later.output;
  const CommandRun listed = Pproc("jobs --state failed");
  EXPECT_NE(listed.output.find("bad"), std::string::npos) << listed.output;
}

TEST_F(PprocEndToEndTest, CancelEndsALongJobAndRmDeletesIt) {
  const CommandRun submitted = Pproc("submit sleep_ms 60000 60000 --chunksize 1 --name long");
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output;

  const CommandRun refused = Pproc("rm long");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("pproc: FAILED_PRECONDITION: "), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("cancel it"), std::string::npos) << refused.output;

  const CommandRun cancelled = Pproc("cancel long");
  ASSERT_EQ(cancelled.exit_code, 0) << cancelled.output;
  EXPECT_NE(cancelled.output.find("(long) CANCELLED"), std::string::npos) << cancelled.output;
  const CommandRun attached = Pproc("attach long");
  EXPECT_EQ(attached.exit_code, 1) << attached.output;
  EXPECT_TRUE(ResultLines(attached.output).empty()) << attached.output;
  EXPECT_NE(attached.output.find("(long) CANCELLED"), std::string::npos) << attached.output;
  EXPECT_NE(Pproc("jobs --state cancelled").output.find("long"), std::string::npos);

  const CommandRun removed = Pproc("rm long");
  EXPECT_EQ(removed.exit_code, 0) << removed.output;
  const CommandRun gone = Pproc("attach long");
  EXPECT_EQ(gone.exit_code, 2) << gone.output;
  EXPECT_NE(gone.output.find("NOT_FOUND"), std::string::npos) << gone.output;
}

TEST_F(PprocEndToEndTest, RmForceCancelsARunningJobFirst) {
  ASSERT_EQ(Pproc("submit sleep_ms 60000 --name busy").exit_code, 0);
  const CommandRun removed = Pproc("rm --force busy");
  EXPECT_EQ(removed.exit_code, 0) << removed.output;
  EXPECT_EQ(Pproc("jobs --json").output, "");
}

TEST_F(PprocEndToEndTest, AnUnknownJobIsExitStatusTwoWithNotFound) {
  for (const char* command : {"attach 0123456789abcdef", "cancel nope", "rm nope"}) {
    const CommandRun run = Pproc(command);
    EXPECT_EQ(run.exit_code, 2) << command << ": " << run.output;
    EXPECT_TRUE(absl::StartsWith(run.output, "pproc: NOT_FOUND: "))
        << command << ": " << run.output;
    EXPECT_EQ(Lines(run.output).size(), 1u) << run.output;
  }
}

TEST(PprocEndToEndNoServerTest, SaysWhichAddressWasTriedAndHowToStart) {
  for (const char* command : {"status", "jobs", "attach x", "submit square 1", "cancel x"}) {
    const CommandRun run =
        RunCommand(PprocBinary() + " --address unix:/nonexistent/pprocd.sock " + command);
    EXPECT_EQ(run.exit_code, 2) << command << ": " << run.output;
    EXPECT_EQ(Lines(run.output).size(), 1u) << command << ": " << run.output;
    EXPECT_NE(run.output.find("/nonexistent/pprocd.sock"), std::string::npos) << run.output;
    EXPECT_NE(run.output.find("scripts/run"), std::string::npos) << run.output;
  }
}

}  // namespace
}  // namespace pprocd::testing
