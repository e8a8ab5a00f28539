// The server's log as an operator reads it: with --log-format json every
// line is a JSON object with time, level and msg, and the events worth
// knowing are there with their fields (start, settings, each failed item,
// respawns, job states, shutdown); in the default text format every line
// starts with an RFC 3339 time and carries level=.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "base/json/json.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

// One JSON line of the log, its fields as text ("" when absent).
struct Line {
  std::map<std::string, Value> fields;
  std::string Text(const std::string& key) const {
    auto found = fields.find(key);
    if (found == fields.end()) return "";
    if (found->second.has_string_value()) return found->second.string_value();
    if (found->second.has_number_value()) {
      return std::to_string(static_cast<int64_t>(found->second.number_value()));
    }
    return "?";
  }
  double Number(const std::string& key) const {
    auto found = fields.find(key);
    return found == fields.end() ? -1 : found->second.number_value();
  }
};

const std::regex& Rfc3339Millis() {
  static const std::regex kTime(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$)");
  return kTime;
}

// Every line of `log` as JSON; a line that is not a JSON object with
// string time, level and msg fails the test.
std::vector<Line> ParseJsonLines(const std::string& log) {
  std::vector<Line> lines;
  for (absl::string_view text : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    absl::StatusOr<Value> parsed = ParseJson(text);
    EXPECT_TRUE(parsed.ok() && parsed->has_struct_value()) << "not a JSON object: " << text;
    if (!parsed.ok() || !parsed->has_struct_value()) continue;
    Line line;
    for (const auto& [key, value] : parsed->struct_value().fields()) line.fields[key] = value;
    EXPECT_TRUE(std::regex_match(line.Text("time"), Rfc3339Millis())) << text;
    EXPECT_NE(std::string("debug info warn error").find(line.Text("level")), std::string::npos)
        << text;
    EXPECT_FALSE(line.Text("level").empty()) << text;
    EXPECT_FALSE(line.Text("msg").empty()) << text;
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<Line> With(const std::vector<Line>& lines, const std::string& msg) {
  std::vector<Line> found;
  for (const Line& line : lines) {
    if (line.Text("msg") == msg) found.push_back(line);
  }
  return found;
}

// The "item failed" line of item `index` of `callable` (empty fields if none).
Line Failure(const std::vector<Line>& lines, const std::string& callable, int index) {
  for (const Line& line : With(lines, "item failed")) {
    if (line.Text("callable") == callable && line.Number("index") == index) return line;
  }
  ADD_FAILURE() << "no failure line for " << callable << " item " << index;
  return {};
}

std::unique_ptr<ServerProcess> StartServer(const std::vector<std::string>& args) {
  std::string error;
  std::unique_ptr<ServerProcess> server =
      ServerProcess::Start({.workers = 2, .extra_args = args}, &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

// Stops the server (SIGTERM) once `stub`'s connection is closed, and
// returns its log.
std::string StopAndReadLog(ServerProcess& server,
                           std::unique_ptr<v1::ProcessFarmService::Stub> stub) {
  stub.reset();
  server.Signal(SIGTERM);
  EXPECT_NE(server.WaitExit(absl::Seconds(30)), -1);
  return server.Stderr();
}

TEST(ServerLogTest, JsonLinesCarryStartFailuresRespawnsJobsAndShutdown) {
  std::unique_ptr<ServerProcess> server = StartServer({"--log-format", "json"});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  ItemsOutcome chaos = RunItems(stub.get(), true, "chaos", {Str("ok"), Str("crash"), Str("raise")});
  ASSERT_OK(chaos.status);
  v1::CallOptions timeout;
  timeout.set_timeout_ms(200);
  ItemsOutcome slow = RunItems(stub.get(), true, "chaos", {Str("sleep:60000")}, timeout);
  ASSERT_OK(slow.status);
  ASSERT_EQ(slow.results.size(), 1u);
  ASSERT_EQ(slow.results[0].error().kind(), v1::ERROR_KIND_TIMED_OUT);
  // A job, followed to its end.
  v1::SubmitRequest submit;
  submit.set_callable("chaos");
  submit.set_name("logged-job");
  *submit.add_inputs() = Str("ok");
  std::string job_id;
  {
    grpc::ClientContext context;
    v1::SubmitResponse response;
    ASSERT_OK(stub->Submit(&context, submit, &response));
    job_id = response.job().id();
    grpc::ClientContext follow;
    v1::ReconnectRequest reconnect;
    reconnect.add_jobs(job_id);
    auto reader = stub->Reconnect(&follow, reconnect);
    v1::ReconnectResponse output;
    while (reader->Read(&output)) {
    }
    ASSERT_OK(reader->Finish());
  }
  const std::string log = StopAndReadLog(*server, std::move(stub));
  const std::vector<Line> lines = ParseJsonLines(log);
  ASSERT_FALSE(lines.empty()) << log;

  const std::vector<Line> started = With(lines, "started");
  ASSERT_EQ(started.size(), 1u) << log;
  EXPECT_FALSE(started[0].Text("version").empty());
  EXPECT_EQ(started[0].Text("listen"), "unix:" + server->socket_path());
  EXPECT_EQ(started[0].Number("workers"), 2);
  EXPECT_EQ(started[0].Text("state_dir"), server->state_dir());
  EXPECT_EQ(started[0].Number("pid"), server->pid());
  const std::vector<Line> settings = With(lines, "settings");
  ASSERT_EQ(settings.size(), 1u) << log;
  EXPECT_EQ(settings[0].Text("log_format"), "json");
  EXPECT_EQ(settings[0].Text("log_level"), "info");

  const Line crash = Failure(lines, "chaos", 1);
  EXPECT_EQ(crash.Text("level"), "warn");
  EXPECT_EQ(crash.Text("kind"), "crashed");
  EXPECT_EQ(crash.Text("signal"), "SIGSEGV");
  EXPECT_GT(crash.Number("pid"), 0);
  EXPECT_GT(crash.Number("call"), 0);
  const Line raised = Failure(lines, "chaos", 2);
  EXPECT_EQ(raised.Text("kind"), "raised");
  EXPECT_EQ(raised.Text("error"), "chaos: raised on request");
  EXPECT_GT(raised.Number("pid"), 0);
  EXPECT_EQ(raised.Text("signal"), "");
  const Line timed_out = Failure(lines, "chaos", 0);
  EXPECT_EQ(timed_out.Text("kind"), "timed_out");
  EXPECT_GT(timed_out.Number("pid"), 0);

  std::map<std::string, int> respawns;
  for (const Line& line : With(lines, "worker respawned")) ++respawns[line.Text("reason")];
  EXPECT_EQ(respawns["crashed"], 1) << log;
  EXPECT_EQ(respawns["timed_out"], 1) << log;

  std::vector<std::string> job_states;
  for (const Line& line : With(lines, "job state")) {
    if (line.Text("job") != job_id) continue;
    EXPECT_EQ(line.Text("name"), "logged-job");
    EXPECT_EQ(line.Number("owner"), getuid());
    EXPECT_EQ(line.Text("callable"), "chaos");
    job_states.push_back(line.Text("state"));
  }
  EXPECT_EQ(job_states, (std::vector<std::string>{"QUEUED", "RUNNING", "SUCCEEDED"})) << log;

  const std::vector<Line> stopping = With(lines, "shutting down");
  ASSERT_EQ(stopping.size(), 1u) << log;
  EXPECT_EQ(stopping[0].Text("reason"), "SIGTERM");
  const std::vector<Line> stopped = With(lines, "stopped");
  ASSERT_EQ(stopped.size(), 1u) << log;
  EXPECT_EQ(stopped[0].Text("reason"), "SIGTERM");
  EXPECT_GE(stopped[0].Number("took_ms"), 0);
  EXPECT_EQ(lines.back().Text("msg"), "stopped") << "the last line says the server stopped";
}

TEST(ServerLogTest, ABurstOfFailuresIsCappedAndTheRestCounted) {
  std::unique_ptr<ServerProcess> server = StartServer({"--log-format", "json"});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  constexpr int kItems = 300;
  std::vector<Value> inputs(kItems, Str("raise"));
  ItemsOutcome outcome = RunItems(stub.get(), false, "chaos", inputs);
  ASSERT_OK(outcome.status);
  ASSERT_EQ(outcome.results.size(), static_cast<size_t>(kItems));
  const std::vector<Line> lines = ParseJsonLines(StopAndReadLog(*server, std::move(stub)));
  const size_t logged = With(lines, "item failed").size();
  double suppressed = 0;
  for (const Line& line : With(lines, "suppressed failed items")) {
    suppressed += line.Number("suppressed");
  }
  EXPECT_LT(logged, static_cast<size_t>(kItems)) << "the burst was not capped";
  EXPECT_EQ(logged + static_cast<size_t>(suppressed), static_cast<size_t>(kItems))
      << "each failure is logged or counted";
}

TEST(ServerLogTest, TextLinesStartWithATimeAndCarryALevel) {
  std::unique_ptr<ServerProcess> server = StartServer({});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  ItemsOutcome chaos = RunItems(stub.get(), true, "chaos", {Str("crash"), Str("raise")});
  ASSERT_OK(chaos.status);
  const std::string log = StopAndReadLog(*server, std::move(stub));
  static const std::regex kLine(
      R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) msg=\S.*)");
  int lines = 0;
  for (absl::string_view text : absl::StrSplit(log, '\n', absl::SkipEmpty())) {
    ++lines;
    EXPECT_TRUE(std::regex_match(std::string(text), kLine)) << text;
  }
  EXPECT_GT(lines, 0);
  EXPECT_NE(log.find("level=warn msg=\"item failed\" callable=chaos call="), std::string::npos)
      << log;
  EXPECT_NE(log.find(" index=0 kind=crashed signal=SIGSEGV pid="), std::string::npos) << log;
  EXPECT_NE(log.find(" index=1 kind=raised pid="), std::string::npos) << log;
}

TEST(ServerLogTest, AHigherLevelLeavesOutTheInfoLines) {
  std::unique_ptr<ServerProcess> server = StartServer({"--log-level", "warn"});
  ASSERT_NE(server, nullptr);
  auto stub = server->NewStub();
  ItemsOutcome chaos = RunItems(stub.get(), true, "chaos", {Str("raise")});
  ASSERT_OK(chaos.status);
  const std::string log = StopAndReadLog(*server, std::move(stub));
  EXPECT_EQ(log.find("msg=started"), std::string::npos) << log;
  EXPECT_EQ(log.find("level=info"), std::string::npos) << log;
  EXPECT_NE(log.find("level=warn msg=\"item failed\""), std::string::npos) << log;
}

}  // namespace
}  // namespace pprocd::testing
