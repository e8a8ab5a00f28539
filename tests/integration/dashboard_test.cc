// The dashboard in a real browser: headless Chromium (Debian's chromium)
// loads it from a live server that is running work, and the page shows
// the busy workers with their pids, the open call with its callable, and
// the failures. A screenshot is kept under the build directory
// (PPROCD_TEST_ARTEFACTS/dashboard.png).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/integration/http_client.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

constexpr char kChromium[] = "/usr/bin/chromium";

// Chromium with its own empty profile, nothing fetched but the page.
std::string ChromiumCommand(const std::string& profile, const std::string& action,
                            const std::string& url) {
  return absl::StrCat(kChromium,
                      " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                      " --disable-background-networking --disable-component-update"
                      " --disable-sync --disable-dev-shm-usage --user-data-dir=",
                      profile, " --virtual-time-budget=3000 --window-size=1280,900 ", action, " '",
                      url, "' 2>/dev/null");
}

// Waits until `want` workers are busy; false after a minute.
bool WaitBusy(v1::ProcessFarmService::Stub* stub, uint32_t want, v1::GetStatusResponse* status) {
  return WaitFor(
      [&] {
        grpc::ClientContext context;
        return stub->GetStatus(&context, v1::GetStatusRequest(), status).ok() &&
               status->workers_busy() >= want;
      },
      absl::Minutes(1), absl::Milliseconds(50));
}

TEST(DashboardTest, ChromiumShowsWorkersCallsAndFailures) {
  ASSERT_EQ(access(kChromium, X_OK), 0) << "Debian's chromium is needed (scripts/setup)";
  std::string error;
  auto server =
      ServerProcess::Start({.workers = 2, .extra_args = {"--http", "127.0.0.1:0"}}, &error);
  ASSERT_NE(server, nullptr) << error;
  const std::string url = DashboardUrl(*server);
  ASSERT_FALSE(url.empty()) << server->Stderr();
  auto stub = server->NewStub();
  ItemsOutcome chaos =
      RunItems(stub.get(), /*ordered=*/true, "chaos", {Str("raise"), Str("crash")});
  ASSERT_OK(chaos.status);

  // Work that runs while the browser looks; it ends with the server.
  auto worker_stub = server->NewStub();
  std::thread work([&worker_stub] {
    RunItems(worker_stub.get(), /*ordered=*/true, "sleep_ms", {Num(60000), Num(60000), Num(1)});
  });
  v1::GetStatusResponse status;
  const bool busy = WaitBusy(stub.get(), 2, &status);
  EXPECT_TRUE(busy);

  CommandRun dom = busy ? RunCommand(ChromiumCommand(server->dir() + "/profile", "--dump-dom", url))
                        : CommandRun();
  EXPECT_EQ(dom.exit_code, 0) << dom.output;
  for (const v1::WorkerRow& worker : status.workers()) {
    EXPECT_TRUE(
        absl::StrContains(dom.output, absl::StrCat("<td class=\"num pid\">", worker.pid(),
                                                   "</td><td class=\"state-busy\">busy</td><td "
                                                   "class=\"callable\">sleep_ms</td>")))
        << "worker " << worker.pid() << " is not shown busy:\n"
        << dom.output;
  }
  EXPECT_TRUE(absl::StrContains(dom.output, "<tr class=\"call\">")) << dom.output;
  EXPECT_TRUE(absl::StrContains(dom.output,
                                "<td class=\"callable\">sleep_ms</td><td "
                                "class=\"num\">0 / 3</td>"))
      << dom.output;
  EXPECT_TRUE(absl::StrContains(dom.output, "chaos: raised on request")) << dom.output;
  EXPECT_TRUE(absl::StrContains(dom.output, "<pre>chaos: crashing with SIGSEGV on request"))
      << dom.output;
  EXPECT_TRUE(absl::StrContains(dom.output, "badge live")) << dom.output;

  mkdir(PPROCD_TEST_ARTEFACTS, 0755);
  const std::string shot = std::string(PPROCD_TEST_ARTEFACTS) + "/dashboard.png";
  unlink(shot.c_str());
  CommandRun screenshot = RunCommand(ChromiumCommand(
      server->dir() + "/profile", absl::StrCat("--hide-scrollbars --screenshot=", shot), url));
  EXPECT_EQ(screenshot.exit_code, 0) << screenshot.output;
  struct stat info;
  EXPECT_EQ(stat(shot.c_str(), &info), 0) << "no screenshot at " << shot;
  EXPECT_GT(info.st_size, 10000) << shot;

  server.reset();  // Ends the running Map.
  work.join();
}

}  // namespace
}  // namespace pprocd::testing
