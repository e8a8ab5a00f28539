// The config file through a real pprocd: --check-config on good and bad
// files, a server that takes its settings and command callables from
// --config, and command-line flags that override the file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// A temporary directory holding one config file, removed at the end.
class ConfigDir {
 public:
  explicit ConfigDir(const std::string& text) : dir_(MakeTempDir()) {
    std::ofstream(path()) << text;
  }
  ~ConfigDir() { RemoveTree(dir_); }
  const std::string& dir() const { return dir_; }
  std::string path() const { return dir_ + "/pprocd.toml"; }

 private:
  std::string dir_;
};

CommandRun Pprocd(const std::string& args) {
  return RunCommand(absl::StrCat(PPROCD_BINARY_PATH, " ", args));
}

// pprocd started with nothing but `--config FILE`, in a working directory
// of its own (so that paths the file makes relative to itself show). Stopped
// with SIGTERM and reaped when destroyed. Test-only; one thread.
class ConfigOnlyServer {
 public:
  // Null when the server did not print its ready line; `output` then holds
  // what it printed.
  static std::unique_ptr<ConfigOnlyServer> Start(const std::string& config_path,
                                                 std::string* output) {
    std::unique_ptr<ConfigOnlyServer> server(new ConfigOnlyServer());
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) return nullptr;
    const pid_t test_pid = getpid();
    server->pid_ = fork();
    if (server->pid_ == 0) {
      DieWithTheTest(test_pid);
      dup2(out[1], STDOUT_FILENO);
      dup2(out[1], STDERR_FILENO);
      if (chdir(server->cwd_.c_str()) != 0) _exit(126);
      execl(PPROCD_BINARY_PATH, PPROCD_BINARY_PATH, "--config", config_path.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    if (server->pid_ > 0) setpgid(server->pid_, server->pid_);
    server->out_ = out[0];
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (output->find("pprocd ready on") == std::string::npos || output->back() != '\n') {
      pollfd fd{server->out_, POLLIN, 0};
      if (absl::Now() > deadline) return nullptr;
      if (poll(&fd, 1, 100) <= 0) continue;
      char buffer[1024];
      const ssize_t n = read(server->out_, buffer, sizeof(buffer));
      if (n <= 0) return nullptr;
      output->append(buffer, static_cast<size_t>(n));
    }
    return server;
  }

  ~ConfigOnlyServer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      // Unreaped until its group (what is left of it) is killed too.
      siginfo_t info{};
      waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
    RemoveTree(cwd_);
  }

  const std::string& cwd() const { return cwd_; }

 private:
  ConfigOnlyServer() : cwd_(MakeTempDir()) {}
  pid_t pid_ = -1;
  int out_ = -1;
  std::string cwd_;
};

v1::GetStatusResponse Status(v1::ProcessFarmService::Stub* stub) {
  grpc::ClientContext context;
  v1::GetStatusResponse status;
  EXPECT_OK(stub->GetStatus(&context, {}, &status));
  return status;
}

TEST(CheckConfigTest, AGoodFileExitsZeroWithASummaryAndStartsNothing) {
  ConfigDir config(R"([server]
listen = ["unix:run/farm.sock"]
workers = 3
state_dir = "state"

[[callable]]
name = "echo_json"
argv = ["cat"]
)");
  const CommandRun run = Pprocd("--check-config " + config.path());
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_EQ(run.output,
            config.path() + ": ok (server: listen, workers, state_dir; callables: echo_json)\n");
  EXPECT_FALSE(Exists(config.dir() + "/state")) << "no state directory";
  EXPECT_FALSE(Exists(config.dir() + "/run")) << "no socket";
}

TEST(CheckConfigTest, ABadFilePrintsEveryErrorWithItsLineAndExitsOne) {
  ConfigDir config(R"([server]
workers = "four"
colour = "blue"

[[callable]]
name = "wc"
argv = ["wc", "-l"]
output = "xml"
)");
  const CommandRun run = Pprocd("--check-config " + config.path());
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.output,
            config.path() + ":2:11: server.workers must be an integer, not a string\n" +
                config.path() +
                ":3:1: unknown key server.colour (known: admin_group, call_window, "
                "grace_ms, keep_jobs_hours, listen, log_format, log_level, max_message_bytes, "
                "max_queued_items, max_store_mib, max_tasks_per_worker, plugins, state_dir, "
                "workers)\n" +
                config.path() +
                ":8:10: callable[0].output must be one of \"json\", \"bytes\", not \"xml\"\n");
}

TEST(CheckConfigTest, ACallableTheServerWouldRefuseIsAnErrorAtItsLine) {
  ConfigDir config(R"(
[[callable]]
name = "echo"
argv = ["cat"]
)");
  const CommandRun run = Pprocd("--check-config " + config.path());
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_EQ(run.output,
            config.path() + ":2: callable echo: the name is already taken (origin: builtin)\n");
}

TEST(CheckConfigTest, AMissingFileIsAnError) {
  const CommandRun run = Pprocd("--check-config /nonexistent/pprocd.toml");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, "/nonexistent/pprocd.toml: cannot open: No such file or directory\n");
}

TEST(ConfigFileTest, TheServerTakesListenWorkersAndStateDirFromTheFile) {
  ConfigDir config(R"([server]
listen = ["unix:run/farm.sock"]
workers = 3
state_dir = "state"
)");
  std::string output;
  std::unique_ptr<ConfigOnlyServer> server = ConfigOnlyServer::Start(config.path(), &output);
  ASSERT_NE(server, nullptr) << output;
  // Paths are relative to the file's directory, not the server's.
  const std::string socket = config.dir() + "/run/farm.sock";
  EXPECT_NE(output.find("pprocd ready on unix:" + socket + " (3 workers)"), std::string::npos)
      << output;
  EXPECT_TRUE(Exists(config.dir() + "/state"));
  EXPECT_FALSE(Exists(server->cwd() + "/state"));
  auto stub = v1::ProcessFarmService::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  EXPECT_EQ(Status(stub.get()).workers_configured(), 3u);
}

TEST(ConfigFileTest, AFlagOnTheCommandLineOverridesTheFile) {
  ConfigDir config(R"([server]
listen = ["unix:run/farm.sock"]
workers = 3
)");
  std::string error;
  // ServerProcess passes --listen (its own socket) and --workers 2.
  std::unique_ptr<ServerProcess> server =
      ServerProcess::Start({.workers = 2, .extra_args = {"--config", config.path()}}, &error);
  ASSERT_NE(server, nullptr) << error;
  EXPECT_EQ(Status(server->NewStub().get()).workers_configured(), 2u);
  EXPECT_FALSE(Exists(config.dir() + "/run/farm.sock"));
}

TEST(ConfigFileTest, ABadFileStopsTheServerWithItsErrors) {
  ConfigDir config("[server]\nworkers = \"four\"\n");
  const CommandRun run = Pprocd("--config " + config.path());
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, config.path() + ":2:11: server.workers must be an integer, not a string\n");
}

TEST(ConfigFileTest, ACallableWhoseNameIsTakenStopsTheServerNamingIt) {
  ConfigDir config("[[callable]]\nname = \"square\"\nargv = [\"cat\"]\n");
  const std::string dir = MakeTempDir();
  const CommandRun run = Pprocd(absl::StrCat("--listen unix:", dir, "/s.sock --state-dir ", dir,
                                             "/var --config ", config.path()));
  RemoveTree(dir);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.output, "pprocd: config " + config.path() +
                            ": callable square: the name is already taken (origin: builtin)\n");
}

class ConfigCallableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = std::make_unique<ConfigDir>(R"(
[[callable]]
name = "echo_json"
description = "Returns its arguments as an object."
argv = ["cat"]
output = "json"
params = [ { name = "text", type = "string", description = "any text" },
           { name = "n", type = "integer", default = 10 } ]

[[callable]]
name = "pwd"
argv = ["sh", "-c", "cat >/dev/null; printf '\"%s\"' \"$PWD\""]
working_dir = "jobs"
)");
    mkdir((config_->dir() + "/jobs").c_str(), 0700);
    std::string error;
    server_ = ServerProcess::Start({.extra_args = {"--config", config_->path()}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  std::unique_ptr<ConfigDir> config_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

TEST_F(ConfigCallableTest, ListCallablesShowsTheFilesCallableWithItsParameters) {
  grpc::ClientContext context;
  v1::ListCallablesResponse response;
  ASSERT_OK(stub_->ListCallables(&context, {}, &response));
  std::map<std::string, v1::Callable> by_name;
  for (const auto& callable : response.callables()) by_name[callable.name()] = callable;
  ASSERT_TRUE(by_name.count("echo_json"));
  const v1::Callable& echo = by_name["echo_json"];
  EXPECT_EQ(echo.description(), "Returns its arguments as an object.");
  ASSERT_EQ(echo.parameters_size(), 2);
  EXPECT_EQ(echo.parameters(0).name(), "text");
  EXPECT_EQ(echo.parameters(0).type(), v1::PARAMETER_TYPE_STRING);
  EXPECT_EQ(echo.parameters(0).description(), "any text");
  EXPECT_TRUE(echo.parameters(0).required());
  EXPECT_EQ(echo.parameters(1).name(), "n");
  EXPECT_EQ(echo.parameters(1).type(), v1::PARAMETER_TYPE_INTEGER);
  EXPECT_FALSE(echo.parameters(1).required());
  EXPECT_EQ(echo.parameters(1).default_value().number_value(), 10);
  EXPECT_TRUE(by_name.count("echo")) << "built-ins stay";
}

TEST_F(ConfigCallableTest, MapRunsTheFilesCommandWithItsArgumentsAndDefaults) {
  ItemsOutcome outcome =
      RunItems(stub_.get(), true, "echo_json", {Str("hello"), List({Str("bye"), Num(3)})});
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 2u);
  const auto& first = outcome.results[0].value().struct_value().fields();
  EXPECT_EQ(first.at("text").string_value(), "hello");
  EXPECT_EQ(first.at("n").number_value(), 10);
  const auto& second = outcome.results[1].value().struct_value().fields();
  EXPECT_EQ(second.at("text").string_value(), "bye");
  EXPECT_EQ(second.at("n").number_value(), 3);
}

TEST_F(ConfigCallableTest, AWorkingDirIsRelativeToTheFile) {
  google::protobuf::Value null;
  null.set_null_value({});
  ItemsOutcome outcome = RunItems(stub_.get(), true, "pwd", {null});
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 1u);
  EXPECT_EQ(outcome.results[0].value().string_value(), config_->dir() + "/jobs")
      << outcome.results[0].DebugString();
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

// Resource limits from [limits.NAME] tables, on built-in callables.
class ConfigLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_ = std::make_unique<ConfigDir>(R"(
[limits.hog]
max_memory_mib = 64

[limits.fib]
cpu_seconds = 1

[limits.sleep_ms]
timeout_ms = 300
max_concurrent = 1
)");
    std::string error;
    server_ = ServerProcess::Start({.extra_args = {"--config", config_->path()}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  std::unique_ptr<ConfigDir> config_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

TEST_F(ConfigLimitsTest, ListCallablesShowsEachCallablesLimits) {
  grpc::ClientContext context;
  v1::ListCallablesResponse response;
  ASSERT_OK(stub_->ListCallables(&context, {}, &response));
  std::map<std::string, v1::CallableLimits> limits;
  for (const auto& callable : response.callables()) limits[callable.name()] = callable.limits();
  EXPECT_EQ(limits["hog"].max_memory_mib(), 64u);
  EXPECT_EQ(limits["fib"].cpu_seconds(), 1u);
  EXPECT_EQ(limits["sleep_ms"].timeout_ms(), 300u);
  EXPECT_EQ(limits["echo"].ByteSizeLong(), 0u) << "no limits where none are set";
}

TEST_F(ConfigLimitsTest, AnItemPastItsMemoryLimitFailsSayingSoAndTheNextOneRuns) {
  if (kSanitized) GTEST_SKIP() << "AddressSanitizer reserves address space beyond any limit";
  v1::CallOptions options;
  options.set_chunksize(1);
  ItemsOutcome outcome = RunItems(stub_.get(), true, "hog", {Num(512), Num(8)}, options);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 2u);
  EXPECT_EQ(outcome.results[0].error().kind(), v1::ERROR_KIND_MEMORY_LIMIT)
      << outcome.results[0].DebugString();
  EXPECT_EQ(outcome.results[1].value().number_value(), 8);
}

TEST_F(ConfigLimitsTest, AnItemPastItsCpuLimitIsKilledSayingSo) {
  ItemsOutcome outcome =
      RunItems(stub_.get(), true, "fib", {Num(75), Num(10)});  // fib(75): minutes of CPU
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 2u);
  EXPECT_EQ(outcome.results[0].error().kind(), v1::ERROR_KIND_CPU_LIMIT)
      << outcome.results[0].DebugString();
  EXPECT_EQ(outcome.results[0].error().signal(), "SIGXCPU") << outcome.results[0].DebugString();
  EXPECT_EQ(outcome.results[1].value().number_value(), 89);
}

TEST_F(ConfigLimitsTest, TheDefaultTimeoutAndConcurrencyApplyToEveryCall) {
  v1::CallOptions options;
  options.set_chunksize(1);
  ItemsOutcome outcome =
      RunItems(stub_.get(), true, "sleep_ms", {Num(60000), Num(50), Num(50), Num(50)}, options);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), 4u);
  EXPECT_EQ(outcome.results[0].error().kind(), v1::ERROR_KIND_TIMED_OUT);
  // max_concurrent = 1: the invocations never overlap, on 2 workers.
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (const auto& result : outcome.results) {
    spans.emplace_back(result.stats().start_unix_us(),
                       result.stats().start_unix_us() + result.stats().wall_us());
  }
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) {
    EXPECT_GE(spans[i].first, spans[i - 1].second) << "items " << i - 1 << " and " << i;
  }
}

TEST(ConfigLimitsFileTest, LimitsForNoCallableStopTheServerAtTheirLine) {
  ConfigDir config("[limits.no_such_callable]\ntimeout_ms = 5\n");
  const std::string dir = MakeTempDir();
  const CommandRun run = Pprocd(absl::StrCat("--listen unix:", dir, "/s.sock --state-dir ", dir,
                                             "/var --config ", config.path()));
  RemoveTree(dir);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("limits for no_such_callable: no callable has that name"),
            std::string::npos)
      << run.output;
  const CommandRun checked = Pprocd("--check-config " + config.path());
  EXPECT_EQ(checked.exit_code, 1);
  EXPECT_NE(checked.output.find(config.path() + ":1: limits for no_such_callable"),
            std::string::npos)
      << checked.output;
  ConfigDir bad("[limits.echo]\nmax_memory = 5\n");
  const CommandRun unknown = Pprocd("--check-config " + bad.path());
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("max_memory"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace pprocd::testing
