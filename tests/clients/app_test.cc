// pproc end to end, in process: the real command line against FakeFarm.
#include "pproc/app.h"

#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fake_farm.h"
#include "gtest/gtest.h"

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

TEST(KeepListsWholeTest, PadsOnlyBracketedArguments) {
  const char* argv[] = {"pproc", "map", "f", "[1,2]", "[::1]:80", "[", "1"};
  EXPECT_EQ(KeepListsWhole(7, argv),
            (std::vector<std::string>{"map", "f", "[1,2] ", "[::1]:80", "[", "1"}));
}

}  // namespace
}  // namespace pprocd::pproc
