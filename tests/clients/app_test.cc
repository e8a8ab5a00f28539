// pproc end to end, in process: the real command line against FakeFarm.
#include "pproc/app.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fake_farm.h"
#include "gtest/gtest.h"
#include "tests/util/temp_dir.h"

namespace pprocd::pproc {
namespace {

using client::testing::FakeFarm;

// Sends file descriptor `fd` to a temporary file until Release().
class CapturedFd {
 public:
  explicit CapturedFd(int fd) : fd_(fd), file_(std::tmpfile()) {
    std::fflush(nullptr);
    saved_ = ::dup(fd_);
    ::dup2(::fileno(file_), fd_);
  }
  ~CapturedFd() { Release(); }
  std::string Release() {
    if (file_ == nullptr) return "";
    std::fflush(nullptr);
    ::dup2(saved_, fd_);
    ::close(saved_);
    std::rewind(file_);
    std::string text;
    int c;
    while ((c = std::fgetc(file_)) != EOF) text.push_back(static_cast<char>(c));
    std::fclose(file_);
    file_ = nullptr;
    return text;
  }

 private:
  const int fd_;
  FILE* file_;
  int saved_ = -1;
};

struct PprocRun {
  int exit_code;
  std::string out;
  std::string err;
};

PprocRun RunWith(std::vector<std::string> args) {
  args.insert(args.begin(), "pproc");
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  CapturedFd out(STDOUT_FILENO);
  CapturedFd err(STDERR_FILENO);
  PprocRun run;
  run.exit_code = RunPproc(static_cast<int>(argv.size()), argv.data());
  run.out = out.Release();
  run.err = err.Release();
  return run;
}

TEST(PprocTest, MapPrintsOneValuePerLineAndKeepsJsonListsWhole) {
  FakeFarm farm;
  PprocRun run = RunWith({"--address", farm.target(), "map", "echo", "1..3", "[1, 2]", "\"s\"",
                          "-2..-1", "{\"k\":[]}"});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "1\n2\n3\n[1,2]\n\"s\"\n-2\n-1\n{\"k\":[]}\n");
  EXPECT_EQ(run.err, "");  // stderr is not a terminal: no progress bar.
}

TEST(PprocTest, PrintsTheSameInEitherFormOfItems) {
  FakeFarm farm;
  for (const char* command : {"map", "queue"}) {
    for (bool stats : {false, true}) {
      std::vector<std::string> args = {"--address", farm.target(), command,   "echo",
                                       "1..3",      "\"fail\"",    "\"log\"", "{\"k\":[null,2.5]}"};
      if (stats) args.push_back("--stats");
      PprocRun packed = RunWith(args);
      EXPECT_TRUE(farm.options().packed());
      // Each item's own stats only when they are printed.
      EXPECT_EQ(farm.options().item_stats(),
                stats ? v1::ITEM_STATS_PER_ITEM : v1::ITEM_STATS_UNSPECIFIED);
      args.push_back("--value-form");
      PprocRun values = RunWith(args);
      EXPECT_FALSE(farm.options().packed());
      EXPECT_EQ(packed.exit_code, 1) << packed.err;
      EXPECT_EQ(values.exit_code, 1) << values.err;
      EXPECT_EQ(packed.out, values.out);
      EXPECT_NE(packed.out.find("{\"k\":[null,2.5]}"), std::string::npos) << packed.out;
      if (stats) {
        EXPECT_NE(packed.out.find("\"stats\":{\"wall_us\":1,"), std::string::npos) << packed.out;
      }
    }
  }
}

TEST(PprocTest, SendsTheOptionsAndTheExpectedInputCount) {
  FakeFarm farm;
  PprocRun run = RunWith({"--address", farm.target(), "queue", "echo", "1..10", "--limit", "3",
                          "--chunksize", "7", "--timeout-ms", "250", "--fresh"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(farm.callable(), "echo");
  v1::CallOptions options = farm.options();
  EXPECT_EQ(options.limit(), 3u);
  EXPECT_EQ(options.chunksize(), 7u);
  EXPECT_EQ(options.timeout_ms(), 250u);
  EXPECT_EQ(options.isolation(), v1::ISOLATION_FRESH);
  EXPECT_EQ(options.expected_inputs(), 10u);
}

TEST(PprocTest, QueueFailedItemPrintsErrorAndExitsOne) {
  FakeFarm farm;
  PprocRun run = RunWith({"--address", farm.target(), "queue", "echo", "\"fail\"", "5"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out,
            "{\"index\":0,\"error\":{\"kind\":\"RAISED\",\"message\":\"asked "
            "to fail\"}}\n{\"index\":1,\"value\":5}\n");
}

TEST(PprocTest, RpcErrorExitsTwoWithCodeAndMessage) {
  FakeFarm farm;
  PprocRun run = RunWith({"--address", farm.target(), "map", "missing", "1"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "pproc: NOT_FOUND: no callable named 'missing'\n");
}

TEST(PprocTest, ReloadWithoutAServerExitsTwoNamingTheStateDir) {
  const ::pprocd::testing::TempDir temp("pproc-reload-test");
  ASSERT_TRUE(temp.ok());
  const std::string& dir = temp.path();
  PprocRun run = RunWith({"reload", "--state-dir", dir});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, std::string("pproc: NOT_FOUND: no ") + dir +
                         "/pprocd.pid: no pprocd is running with --state-dir " + dir + "\n");
}

TEST(PprocTest, UnreachableServerExitsTwoNamingTheAddress) {
  PprocRun run = RunWith({"--address", "/nonexistent-pproc-dir/s.sock", "status"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("pproc: UNAVAILABLE: "), std::string::npos);
  EXPECT_NE(run.err.find("unix:/nonexistent-pproc-dir/s.sock"), std::string::npos);
  EXPECT_NE(run.err.find("scripts/run"), std::string::npos) << run.err;
}

TEST(PprocTest, InvalidItemIsReportedBeforeConnecting) {
  PprocRun run = RunWith({"--address", "/nonexistent-pproc-dir/s.sock", "map", "echo", "oops"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("INVALID_ARGUMENT: invalid item 'oops'"), std::string::npos) << run.err;
}

TEST(PprocTest, ReadsItemsFromStdin) {
  FakeFarm farm;
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const std::string input = "\"a\"\n\n[1, 2]\n3\n";
  ASSERT_EQ(::write(fds[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  ::close(fds[1]);
  int saved_stdin = ::dup(STDIN_FILENO);
  ::dup2(fds[0], STDIN_FILENO);
  ::close(fds[0]);
  PprocRun run = RunWith({"--address", farm.target(), "map", "echo", "0", "-"});
  ::dup2(saved_stdin, STDIN_FILENO);
  ::close(saved_stdin);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "0\n\"a\"\n[1,2]\n3\n");
  EXPECT_EQ(farm.options().expected_inputs(), 0u);  // Unknown with '-'.
}

TEST(PprocTest, CallablesAndStatusPrintOneLinePerEntry) {
  FakeFarm farm;
  PprocRun callables = RunWith({"--address", farm.target(), "callables"});
  EXPECT_EQ(callables.exit_code, 0) << callables.err;
  EXPECT_EQ(callables.out, "echo()\n");
  PprocRun status = RunWith({"--address", farm.target(), "status"});
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("\nworkers_configured: 4\n"), std::string::npos);
  PprocRun json = RunWith({"--address", farm.target(), "status", "--json"});
  EXPECT_EQ(json.out.front(), '{');
  EXPECT_NE(json.out.find("\"workers_configured\":4"), std::string::npos);
}

TEST(PprocTest, UsageErrorsExitTwo) {
  EXPECT_EQ(RunWith({}).exit_code, 2);
  EXPECT_EQ(RunWith({"map", "echo"}).exit_code, 2);
  EXPECT_EQ(RunWith({"map", "echo", "1", "--limit", "-1"}).exit_code, 2);
  EXPECT_EQ(RunWith({"map", "echo", "1", "--bogus"}).exit_code, 2);
  EXPECT_EQ(RunWith({"--help"}).exit_code, 0);
}

TEST(PprocJobsTest, SubmitPrintsTheIdAndNameAndSendsEveryOption) {
  FakeFarm farm;
  PprocRun run = RunWith({"--address",
                          farm.target(),
                          "submit",
                          "echo",
                          "1..3",
                          "[1, 2]",
                          "--name",
                          "n",
                          "--key",
                          "k",
                          "--retries",
                          "2",
                          "--retry-backoff-ms",
                          "5",
                          "--unordered",
                          "--limit",
                          "4",
                          "--chunksize",
                          "6",
                          "--timeout-ms",
                          "7",
                          "--fresh"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "job-1 n\n");
  const v1::SubmitRequest request = farm.last_submit();
  EXPECT_EQ(request.callable(), "echo");
  // The packed form: every input in one JSON array.
  EXPECT_TRUE(request.options().packed());
  EXPECT_EQ(request.inputs_size(), 0);
  EXPECT_EQ(request.packed_inputs(), "[1,2,3,[1,2]]");
  // Stored with every item's own stats, for a later attach --stats.
  EXPECT_EQ(request.options().item_stats(), v1::ITEM_STATS_PER_ITEM);
  EXPECT_EQ(request.name(), "n");
  EXPECT_EQ(request.idempotency_key(), "k");
  EXPECT_EQ(request.retries(), 2u);
  EXPECT_EQ(request.retry_backoff_ms(), 5u);
  EXPECT_FALSE(request.ordered());
  EXPECT_EQ(request.options().limit(), 4u);
  EXPECT_EQ(request.options().chunksize(), 6u);
  EXPECT_EQ(request.options().timeout_ms(), 7u);
  EXPECT_EQ(request.options().isolation(), v1::ISOLATION_FRESH);

  PprocRun plain = RunWith({"--address", farm.target(), "submit", "echo", "1"});
  EXPECT_EQ(plain.out, "job-2\n");
  EXPECT_TRUE(farm.last_submit().ordered());
}

TEST(PprocJobsTest, AttachPrintsEveryResultThenTheFinalStateAndExitsByIt) {
  FakeFarm farm;
  ASSERT_EQ(
      RunWith({"--address", farm.target(), "submit", "echo", "1..2", "--name", "ok"}).exit_code, 0);
  PprocRun ok = RunWith({"--address", farm.target(), "attach", "ok"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(ok.out, "{\"index\":0,\"value\":1}\n{\"index\":1,\"value\":2}\n");
  EXPECT_EQ(ok.err, "job-1 (ok) SUCCEEDED, 2/2 items\n");

  PprocRun resumed = RunWith({"--address", farm.target(), "attach", "job-1", "--after-seq", "2"});
  EXPECT_EQ(resumed.out, "{\"index\":1,\"value\":2}\n");

  // Either form, the same lines, stats included.
  PprocRun with_stats = RunWith({"--address", farm.target(), "attach", "ok", "--stats"});
  PprocRun value_form =
      RunWith({"--address", farm.target(), "--value-form", "attach", "ok", "--stats"});
  EXPECT_EQ(with_stats.out, value_form.out);
  EXPECT_NE(with_stats.out.find("\"stats\":{\"wall_us\":2,"), std::string::npos) << with_stats.out;

  PprocRun failed =
      RunWith({"--address", farm.target(), "submit", "--attach", "echo", "\"fail\"", "3"});
  EXPECT_EQ(failed.exit_code, 1) << failed.err;
  EXPECT_EQ(failed.out,
            "{\"index\":0,\"error\":{\"kind\":\"RAISED\",\"message\":\"asked to fail\"}}\n"
            "{\"index\":1,\"value\":3}\n");
  EXPECT_NE(failed.err.find("pproc: submitted job job-2\n"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("job-2 FAILED, 2/2 items: an item failed\n"), std::string::npos)
      << failed.err;

  PprocRun both = RunWith({"--address", farm.target(), "attach", "ok", "job-2"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.out.find("{\"job\":\"ok\",\"index\":0,\"value\":1}\n"), std::string::npos)
      << both.out;
  EXPECT_NE(both.out.find("{\"job\":\"job-2\",\"index\":1,\"value\":3}\n"), std::string::npos)
      << both.out;
}

TEST(PprocJobsTest, JobsListsATableOrJsonLines) {
  FakeFarm farm;
  for (const char* name : {"first", "second"}) {
    ASSERT_EQ(
        RunWith({"--address", farm.target(), "submit", "echo", "1", "--name", name}).exit_code, 0);
  }
  PprocRun table = RunWith({"--address", farm.target(), "jobs"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = table.out.find('\n', start)) != std::string::npos;
       start = end + 1) {
    lines.push_back(table.out.substr(start, end - start));
  }
  ASSERT_EQ(lines.size(), 3u) << table.out;
  EXPECT_EQ(lines[0].rfind("ID", 0), 0u);
  EXPECT_EQ(lines[1].rfind("job-2  second  SUCCEEDED  1/1", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind("job-1  first   SUCCEEDED  1/1", 0), 0u) << lines[2];

  PprocRun json = RunWith({"--address", farm.target(), "jobs", "--json", "--all", "--name", "first",
                           "--state", "succeeded"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.out.front(), '{');
  EXPECT_NE(json.out.find("\"name\":\"first\""), std::string::npos) << json.out;
  EXPECT_EQ(json.out.find("second"), std::string::npos) << json.out;

  PprocRun bad = RunWith({"--address", farm.target(), "jobs", "--state", "done"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("INVALID_ARGUMENT: unknown job state 'done'"), std::string::npos);
}

TEST(PprocJobsTest, CancelAndRmWithTheServersRefusal) {
  FakeFarm farm;
  ASSERT_EQ(
      RunWith({"--address", farm.target(), "submit", "hang", "1", "--name", "long"}).exit_code, 0);
  PprocRun refused = RunWith({"--address", farm.target(), "rm", "long"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_EQ(refused.err,
            "pproc: FAILED_PRECONDITION: job long is RUNNING: cancel it before deleting it\n");
  PprocRun forced = RunWith({"--address", farm.target(), "rm", "--force", "long"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(forced.out, "deleted long\n");

  ASSERT_EQ(RunWith({"--address", farm.target(), "submit", "hang", "1"}).exit_code, 0);
  PprocRun cancelled = RunWith({"--address", farm.target(), "cancel", "job-2", "nope"});
  EXPECT_EQ(cancelled.exit_code, 2);
  EXPECT_EQ(cancelled.out, "job-2 CANCELLED, 0/1 items: cancelled\n");
  EXPECT_EQ(cancelled.err, "pproc: NOT_FOUND: no job 'nope'\n");

  PprocRun missing = RunWith({"--address", farm.target(), "attach", "nope"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "pproc: NOT_FOUND: no job 'nope'\n");
}

TEST(KeepListsWholeTest, PadsOnlyBracketedArguments) {
  const char* argv[] = {"pproc", "map", "f", "[1,2]", "[::1]:80", "[", "1"};
  EXPECT_EQ(KeepListsWhole(7, argv),
            (std::vector<std::string>{"map", "f", "[1,2] ", "[::1]:80", "[", "1"}));
}

}  // namespace
}  // namespace pprocd::pproc
