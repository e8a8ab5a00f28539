// The HTTP listener (--http): /metrics in the Prometheus text format whose
// counters move with the work done, and /api/status for the dashboard.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/json/json.h"
#include "tests/integration/http_client.h"
#include "tests/util/prometheus_text.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    server_ = ServerProcess::Start({.workers = 2, .extra_args = {"--http", "127.0.0.1:0"}}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
    base_ = DashboardUrl(*server_);
    ASSERT_FALSE(base_.empty()) << server_->Stderr();
  }

  std::map<std::string, double> Scrape() {
    HttpAnswer answer = HttpGet(base_ + "metrics");
    EXPECT_EQ(answer.status, 200) << answer.body;
    EXPECT_TRUE(absl::StartsWith(answer.content_type, "text/plain; version=0.0.4"))
        << answer.content_type;
    absl::StatusOr<std::map<std::string, double>> samples = ParsePrometheusText(answer.body);
    EXPECT_OK(samples) << answer.body;
    last_text_ = answer.body;
    return samples.ok() ? *samples : std::map<std::string, double>();
  }

  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
  std::string base_;
  std::string last_text_;
};

double Get(const std::map<std::string, double>& samples, const std::string& series) {
  auto it = samples.find(series);
  return it == samples.end() ? 0 : it->second;
}

TEST_F(HttpTest, TheJobStoreGaugeCountsALargeRequestKeptBesideTheDatabase) {
  const double before = Get(Scrape(), "pprocd_job_store_bytes");
  // 300 inputs of 1 KiB: a request large enough to be kept in a file of
  // its own beside the database.
  std::string packed = "[";
  for (int i = 0; i < 300; ++i) {
    absl::StrAppend(&packed, i > 0 ? "," : "", "\"", std::string(1024, 'a' + i % 26), "\"");
  }
  packed += "]";
  v1::SubmitRequest request;
  request.mutable_options()->set_packed(true);
  request.set_packed_inputs(packed);
  request.set_callable("echo");
  grpc::ClientContext context;
  v1::SubmitResponse response;
  ASSERT_TRUE(stub_->Submit(&context, request, &response).ok());
  EXPECT_GE(Get(Scrape(), "pprocd_job_store_bytes"), before + 300 * 1024)
      << "the request's " << packed.size() << " bytes are not counted";
}

TEST_F(HttpTest, MetricsCountersMoveByTheWorkDone) {
  const std::map<std::string, double> before = Scrape();
  EXPECT_EQ(Get(before, "pprocd_workers_configured"), 2);
  EXPECT_GT(Get(before, "pprocd_job_store_bytes"), 0);

  ItemsOutcome fib = RunItems(stub_.get(), /*ordered=*/true, "fib", Range(1, 20));
  ASSERT_OK(fib.status);
  v1::CallOptions packed;
  packed.set_packed(true);
  ItemsOutcome squares = RunItems(stub_.get(), /*ordered=*/false, "square", Range(1, 30), packed);
  ASSERT_OK(squares.status);
  ItemsOutcome chaos =
      RunItems(stub_.get(), /*ordered=*/true, "chaos", {Str("ok"), Str("raise"), Str("crash")});
  ASSERT_OK(chaos.status);
  ASSERT_EQ(chaos.results.size(), 3u);

  const std::map<std::string, double> after = Scrape();
  const auto moved = [&](const std::string& series) {
    return Get(after, series) - Get(before, series);
  };
  EXPECT_EQ(moved(R"(pprocd_items_total{callable="fib",outcome="ok"})"), 20);
  EXPECT_EQ(moved(R"(pprocd_items_total{callable="square",outcome="ok"})"), 30);
  EXPECT_EQ(moved(R"(pprocd_items_total{callable="chaos",outcome="ok"})"), 1);
  EXPECT_EQ(moved(R"(pprocd_items_total{callable="chaos",outcome="raised"})"), 1);
  EXPECT_EQ(moved(R"(pprocd_items_total{callable="chaos",outcome="crashed"})"), 1);
  EXPECT_EQ(moved(R"(pprocd_item_duration_seconds_count{callable="fib"})"), 20);
  EXPECT_EQ(moved(R"(pprocd_item_duration_seconds_bucket{callable="fib",le="+Inf"})"), 20);
  EXPECT_EQ(moved(R"(pprocd_worker_respawns_total{reason="crashed"})"), 1);
  EXPECT_EQ(moved(R"(pprocd_rpcs_total{method="/pprocd.v1.ProcessFarmService/Map",code="OK"})"), 2);
  EXPECT_EQ(moved(R"(pprocd_rpcs_total{method="/pprocd.v1.ProcessFarmService/Queue",code="OK"})"),
            1);
  EXPECT_EQ(Get(after, "pprocd_calls_active"), 0);
  EXPECT_EQ(Get(after, "pprocd_items_queued"), 0);
  EXPECT_EQ(Get(after, R"(pprocd_jobs{state="SUCCEEDED"})"), 0);

  // Debian's promtool, when installed, agrees that the text is well formed.
  if (access("/usr/bin/promtool", X_OK) == 0) {
    const std::string file = server_->dir() + "/metrics.txt";
    std::ofstream(file) << last_text_;
    CommandRun check = RunCommand("/usr/bin/promtool check metrics < " + file);
    EXPECT_EQ(check.exit_code, 0) << check.output;
  }
}

TEST_F(HttpTest, StatusJsonListsWorkersAndRecentFailures) {
  ItemsOutcome chaos = RunItems(stub_.get(), /*ordered=*/true, "chaos", {Str("raise")});
  ASSERT_OK(chaos.status);
  HttpAnswer answer = HttpGet(base_ + "api/status");
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.content_type, "application/json");
  absl::StatusOr<Value> parsed = ParseJson(answer.body);
  ASSERT_OK(parsed) << answer.body;
  const auto& status = parsed->struct_value().fields().at("status").struct_value().fields();
  const auto& workers = status.at("workers").list_value().values();
  ASSERT_EQ(workers.size(), 2u) << answer.body;
  for (const Value& worker : workers) {
    EXPECT_GT(worker.struct_value().fields().at("pid").number_value(), 0) << answer.body;
  }
  const auto& failures = status.at("recent_failures").list_value().values();
  ASSERT_EQ(failures.size(), 1u) << answer.body;
  const auto& failure = failures[0].struct_value().fields();
  EXPECT_EQ(failure.at("callable").string_value(), "chaos");
  EXPECT_EQ(failure.at("kind").string_value(), "ERROR_KIND_RAISED");
  EXPECT_TRUE(parsed->struct_value().fields().at("jobs").has_list_value());
}

TEST_F(HttpTest, ServesTheDashboardFiles) {
  HttpAnswer page = HttpGet(base_);
  EXPECT_EQ(page.status, 200);
  EXPECT_TRUE(absl::StartsWith(page.content_type, "text/html")) << page.content_type;
  EXPECT_TRUE(absl::StrContains(page.body, "dashboard.js"));
  HttpAnswer script = HttpGet(base_ + "dashboard.js");
  EXPECT_EQ(script.status, 200);
  EXPECT_TRUE(absl::StrContains(script.body, "api/status"));
  EXPECT_EQ(HttpGet(base_ + "no-such-file").status, 404);
}

TEST(HttpOptionTest, AnAddressInUseStopsTheServer) {
  std::string error;
  auto first =
      ServerProcess::Start({.workers = 1, .extra_args = {"--http", "127.0.0.1:0"}}, &error);
  ASSERT_NE(first, nullptr) << error;
  const std::string url = DashboardUrl(*first);
  const std::string port = url.substr(url.rfind(':') + 1, url.size() - url.rfind(':') - 2);
  auto second =
      ServerProcess::Start({.workers = 1, .extra_args = {"--http", "127.0.0.1:" + port}}, &error);
  EXPECT_EQ(second, nullptr);
  EXPECT_TRUE(absl::StrContains(error, "cannot listen for HTTP on 127.0.0.1:" + port)) << error;
}

TEST(HttpOptionTest, OffByDefault) {
  std::string error;
  auto server = ServerProcess::Start({.workers = 1}, &error);
  ASSERT_NE(server, nullptr) << error;
  EXPECT_EQ(DashboardUrl(*server), "");
}

}  // namespace
}  // namespace pprocd::testing
