#include "pproc/top_command.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "pproc/commands.h"
#include "pproc/interrupt.h"
#include "pproc/progress.h"

namespace pprocd::pproc {
namespace {

std::string Age(uint64_t ms) {
  if (ms < 1000) return absl::StrCat(ms, "ms");
  if (ms < 60000) return absl::StrFormat("%.1fs", ms / 1000.0);
  if (ms < 3600000) return absl::StrFormat("%dm%02ds", ms / 60000, (ms / 1000) % 60);
  return absl::StrFormat("%dh%02dm", ms / 3600000, (ms / 60000) % 60);
}

std::string Memory(uint64_t kib) {
  if (kib < 10 * 1024) return absl::StrCat(kib, "K");
  if (kib < 10 * 1024 * 1024) return absl::StrCat(kib / 1024, "M");
  return absl::StrFormat("%.1fG", kib / 1024.0 / 1024.0);
}

std::string LastLine(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  return lines.empty() ? "" : lines.back();
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

std::string KindName(v1::ErrorKind kind) {
  std::string name = v1::ErrorKind_Name(kind);
  return name.rfind("ERROR_KIND_", 0) == 0 ? name.substr(11) : name;
}

// Puts the terminal in non-canonical mode without echo (so q needs no
// Enter) and restores it on destruction. Does nothing off a terminal.
class RawInput {
 public:
  RawInput() {
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawInput() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  RawInput(const RawInput&) = delete;
  RawInput& operator=(const RawInput&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

// Waits up to a second for q (or the end of stdin) or an interrupt; true
// when either came.
bool WaitForQuit(const std::atomic<bool>& interrupted) {
  for (int slice = 0; slice < 10 && !interrupted.load(); ++slice) {
    pollfd in{STDIN_FILENO, POLLIN, 0};
    if (poll(&in, 1, 100) <= 0) continue;
    char key = 0;
    const ssize_t got = read(STDIN_FILENO, &key, 1);
    if (got <= 0 || key == 'q' || key == 'Q') return true;
  }
  return interrupted.load();
}

int RunTop(const GlobalFlags& globals, bool once) {
  absl::StatusOr<std::unique_ptr<client::Client>> client = MakeClient(globals);
  if (!client.ok()) return ReportError(client.status());
  std::atomic<bool> interrupted{false};
  ScopedInterruptHandler on_interrupt([&interrupted] { interrupted.store(true); });
  std::unique_ptr<RawInput> raw;
  const bool terminal = isatty(STDOUT_FILENO) && !once;
  if (terminal) {
    raw = std::make_unique<RawInput>();
    std::fputs("\x1b[?25l", stdout);  // hide the cursor
  }
  int code = kExitOk;
  while (true) {
    absl::StatusOr<v1::GetStatusResponse> status = (*client)->GetStatus();
    if (!status.ok()) {
      code = ReportError(status.status());
      break;
    }
    v1::ListJobsRequest request;
    request.set_page_size(10);
    absl::StatusOr<v1::ListJobsResponse> listed = (*client)->ListJobs(request);
    std::vector<v1::Job> jobs;
    if (listed.ok()) jobs.assign(listed->jobs().begin(), listed->jobs().end());
    winsize size{};
    int rows = 1000, columns = 200;
    if (terminal && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0) {
      rows = size.ws_row;
      columns = size.ws_col;
    }
    const std::string screen = FormatTop(*status, jobs, rows, columns);
    std::fputs(terminal ? absl::StrCat("\x1b[H\x1b[2J", screen).c_str() : screen.c_str(), stdout);
    std::fflush(stdout);
    if (once || WaitForQuit(interrupted)) break;
  }
  if (terminal) std::fputs("\x1b[?25h\n", stdout);
  return code;
}

}  // namespace

std::string FormatTop(const v1::GetStatusResponse& status, const std::vector<v1::Job>& jobs,
                      int rows, int columns) {
  std::vector<std::string> lines;
  lines.push_back(absl::StrFormat(
      "pprocd  up %s  workers %u/%u busy  running %u  queued %u  done %u  failed %u  "
      "respawns %u   (q quits)",
      Age(status.uptime_ms()), status.workers_busy(), status.workers_configured(),
      status.items_running(), status.items_queued(), status.items_completed(),
      status.items_failed() + status.items_crashed(), status.workers_respawned()));
  lines.push_back("");
  lines.push_back(absl::StrFormat("%-8s %-9s %-20s %8s %9s %7s %6s", "PID", "STATE", "CALLABLE",
                                  "ITEM", "AGE", "RSS", "RUN"));
  std::vector<v1::WorkerRow> workers(status.workers().begin(), status.workers().end());
  std::sort(workers.begin(), workers.end(),
            [](const v1::WorkerRow& a, const v1::WorkerRow& b) { return a.pid() < b.pid(); });
  for (const v1::WorkerRow& worker : workers) {
    const bool busy = worker.state() == "busy";
    lines.push_back(absl::StrFormat("%-8d %-9s %-20s %8s %9s %7s %6u", worker.pid(),
                                    worker.state() + (worker.fresh() ? "*" : ""), worker.callable(),
                                    busy ? absl::StrCat(worker.item_index()) : "",
                                    busy ? Age(worker.item_age_ms()) : "", Memory(worker.rss_kib()),
                                    worker.items_run()));
  }
  lines.push_back("");
  lines.push_back(
      absl::StrFormat("%-6s %-20s %-40s %6s %8s", "CALL", "CALLABLE", "PROGRESS", "FAILED", "AGE"));
  if (status.calls_size() == 0) lines.push_back("(no open calls)");
  for (const v1::CallRow& call : status.calls()) {
    const double seconds = call.age_ms() / 1000.0;
    const double rate = seconds > 0 ? call.items_done() / seconds : 0;
    std::string progress = call.inputs_ended() && call.items_received() > 0
                               ? ProgressBar::Render(call.items_done(), call.items_received(), rate)
                               : absl::StrCat(call.items_done(), "/", call.items_received(),
                                              "+ items ", ProgressBar::FormatRate(rate));
    lines.push_back(absl::StrFormat("%-6u %-20s %-40s %6u %8s", call.id(), call.callable(),
                                    progress, call.items_failed(), Age(call.age_ms())));
  }
  lines.push_back("");
  lines.push_back(absl::StrFormat("%-24s %-12s %-20s %-14s %s", "JOB", "STATE", "CALLABLE",
                                  "DONE/TOTAL", "OWNER"));
  if (jobs.empty()) lines.push_back("(no jobs)");
  for (const v1::Job& job : jobs) {
    lines.push_back(
        absl::StrFormat("%-24s %-12s %-20s %-14s %s", job.name().empty() ? job.id() : job.name(),
                        JobStateName(job.state()), job.callable(),
                        absl::StrCat(job.items_done(), "/", job.items_total()),
                        job.owner_uid() < 0 ? "tcp" : absl::StrCat("uid ", job.owner_uid())));
  }
  lines.push_back("");
  lines.push_back("RECENT FAILURES");
  if (status.recent_failures_size() == 0) lines.push_back("(none)");
  for (const v1::FailureRow& failure : status.recent_failures()) {
    std::string line =
        absl::StrFormat("%s call %u item %u %s: %s", failure.callable(), failure.call_id(),
                        failure.index(), KindName(failure.kind()), FirstLine(failure.message()));
    if (!failure.stderr_tail().empty()) {
      absl::StrAppend(&line, "  | ", LastLine(failure.stderr_tail()));
    }
    lines.push_back(line);
  }
  std::string screen;
  const size_t max_rows = static_cast<size_t>(std::max(rows - 1, 1));
  for (size_t i = 0; i < lines.size() && i < max_rows; ++i) {
    absl::StrAppend(&screen, lines[i].substr(0, static_cast<size_t>(std::max(columns, 1))), "\n");
  }
  return screen;
}

void AddTopCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand(
      "top",
      "Show the workers (pid, state, callable, item age, RSS), calls (progress, rate), jobs and "
      "recent failures, refreshed every second; q quits");
  auto once = std::make_shared<bool>(false);
  command->add_flag("--once", *once, "Print the view once and exit");
  command->callback([&globals, exit_code, once] { *exit_code = RunTop(globals, *once); });
}

}  // namespace pprocd::pproc
