#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "pproc/top_command.h"

namespace pprocd::pproc {
namespace {

v1::GetStatusResponse BusyServer() {
  v1::GetStatusResponse status;
  status.set_workers_busy(1);
  status.set_workers_configured(2);
  status.set_uptime_ms(65000);
  v1::WorkerRow* worker = status.add_workers();
  worker->set_pid(4242);
  worker->set_state("busy");
  worker->set_callable("fib");
  worker->set_item_index(7);
  worker->set_item_age_ms(1500);
  worker->set_rss_kib(20480);
  v1::CallRow* call = status.add_calls();
  call->set_id(9);
  call->set_callable("fib");
  call->set_items_done(5);
  call->set_items_received(10);
  call->set_inputs_ended(true);
  call->set_age_ms(1000);
  v1::FailureRow* failure = status.add_recent_failures();
  failure->set_callable("chaos");
  failure->set_call_id(2);
  failure->set_index(1);
  failure->set_kind(v1::ERROR_KIND_CRASHED);
  failure->set_message("worker 17 was killed by SIGSEGV");
  failure->set_stderr_tail("first\nchaos: crashing\n");
  return status;
}

TEST(FormatTopTest, ShowsWorkersCallsJobsAndFailures) {
  v1::Job job;
  job.set_name("nightly");
  job.set_state(v1::JOB_STATE_RUNNING);
  job.set_callable("square");
  job.set_items_done(3);
  job.set_items_total(8);
  job.set_owner_uid(1000);
  const std::string screen = FormatTop(BusyServer(), {job}, 100, 200);
  EXPECT_TRUE(absl::StrContains(screen, "up 1m05s  workers 1/2 busy")) << screen;
  EXPECT_TRUE(
      absl::StrContains(screen, "4242     busy      fib                         7      1.5s"))
      << screen;
  EXPECT_TRUE(absl::StrContains(screen, "9      fib                  [###############..."))
      << screen;
  EXPECT_TRUE(absl::StrContains(screen, "5/10 items 5.0/s 1s left")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "nightly                  RUNNING      square")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "3/8            uid 1000")) << screen;
  EXPECT_TRUE(absl::StrContains(
      screen, "chaos call 2 item 1 CRASHED: worker 17 was killed by SIGSEGV  | chaos: crashing"))
      << screen;
}

TEST(FormatTopTest, FitsTheTerminal) {
  const std::string screen = FormatTop(BusyServer(), {}, 5, 20);
  int lines = 0;
  for (char c : screen) lines += c == '\n';
  EXPECT_EQ(lines, 4);
  for (absl::string_view line : absl::StrSplit(screen, '\n')) EXPECT_LE(line.size(), 20u);
}

}  // namespace
}  // namespace pprocd::pproc
