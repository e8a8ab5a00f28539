// `pproc top` in a real terminal (tmux): it shows the busy workers and the
// open call of a live server, and q ends it. `pproc map/attach --logs`
// print what each item wrote, marked by item.
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

TEST(TopTest, ShowsBusyWorkersInATerminalAndQuitsOnQ) {
  std::string error;
  auto server = ServerProcess::Start({.workers = 2}, &error);
  ASSERT_NE(server, nullptr) << error;
  auto stub = server->NewStub();
  ItemsOutcome chaos = RunItems(stub.get(), /*ordered=*/true, "chaos", {Str("raise")});
  ASSERT_OK(chaos.status);
  std::thread work([&server] {
    auto worker_stub = server->NewStub();
    RunItems(worker_stub.get(), /*ordered=*/true, "sleep_ms", {Num(60000), Num(60000)});
  });

  const std::string tmux = absl::StrCat("tmux -S ", server->dir(), "/tmux.sock");
  CommandRun started =
      RunCommand(absl::StrCat(tmux, " new-session -d -s top -x 150 -y 40 '", PprocBinary(),
                              " --address unix:", server->socket_path(), " top'"));
  ASSERT_EQ(started.exit_code, 0) << started.output;
  // The screen once both workers show busy on sleep_ms (it redraws every
  // second).
  std::string screen;
  int busy = 0;
  WaitFor(
      [&] {
        screen = RunCommand(tmux + " capture-pane -p -t top").output;
        busy = 0;
        for (size_t at = screen.find("busy      sleep_ms"); at != std::string::npos;
             at = screen.find("busy      sleep_ms", at + 1)) {
          ++busy;
        }
        return busy == 2;
      },
      absl::Minutes(1), absl::Milliseconds(200));
  EXPECT_EQ(busy, 2) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "workers 2/2 busy")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "sleep_ms             [")) << screen;
  EXPECT_TRUE(absl::StrContains(screen, "chaos call 1 item 0 RAISED: chaos: raised on request"))
      << screen;

  RunCommand(tmux + " send-keys -t top q");
  const bool ended =
      WaitFor([&] { return RunCommand(tmux + " has-session -t top").exit_code != 0; },
              absl::Seconds(10), absl::Milliseconds(100));
  EXPECT_TRUE(ended) << "pproc top did not end on q";
  RunCommand(tmux + " kill-server");

  server.reset();  // Ends the running Map.
  work.join();
}

TEST(PprocLogsTest, MapAndAttachMarkEachItemsOutput) {
  std::string error;
  auto server = ServerProcess::Start({.workers = 2}, &error);
  ASSERT_NE(server, nullptr) << error;
  const std::string pproc = absl::StrCat(PprocBinary(), " --address unix:", server->socket_path());
  CommandRun map = RunCommand(absl::StrCat(
      pproc,
      R"( map write_output '{"text":"hello\n","count":2}' '{"text":"oops","stream":"stderr"}')",
      " --logs 2>&1 >/dev/null"));
  EXPECT_EQ(map.exit_code, 0) << map.output;
  EXPECT_EQ(map.output, "[item 0 stdout] hello\n[item 0 stdout] hello\n[item 1 stderr] oops\n");
  CommandRun quiet =
      RunCommand(absl::StrCat(pproc, R"( map write_output '{"text":"hello\n"}' 2>&1 >/dev/null)"));
  EXPECT_EQ(quiet.output, "");

  CommandRun submit =
      RunCommand(absl::StrCat(pproc, R"( submit --name logged write_output '{"text":"hi\n"}')"));
  ASSERT_EQ(submit.exit_code, 0) << submit.output;
  CommandRun attach = RunCommand(absl::StrCat(pproc, " attach logged --logs 2>&1 >/dev/null"));
  EXPECT_EQ(attach.exit_code, 0) << attach.output;
  EXPECT_TRUE(absl::StartsWith(attach.output, "[item 0 stdout] hi\n")) << attach.output;
}

}  // namespace
}  // namespace pprocd::testing
