// pproc map / pproc queue: stream ITEMs through a callable and print each
// result as it arrives.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pproc/commands.h"
#include "pproc/interrupt.h"
#include "pproc/items.h"
#include "pproc/progress.h"
#include "pproc/result_printer.h"

namespace pprocd::pproc {
namespace {

struct RunFlags {
  std::string callable;
  std::vector<std::string> items;
  uint32_t limit = 0;
  uint32_t chunksize = 0;
  uint32_t timeout_ms = 0;
  bool fresh = false;
  bool stats = false;
  bool logs = false;
};

v1::CallOptions MakeCallOptions(const RunFlags& flags, std::optional<uint64_t> total) {
  v1::CallOptions options;
  options.set_limit(flags.limit);
  options.set_chunksize(flags.chunksize);
  options.set_timeout_ms(flags.timeout_ms);
  options.set_isolation(flags.fresh ? v1::ISOLATION_FRESH : v1::ISOLATION_POOLED);
  if (total.has_value()) options.set_expected_inputs(*total);
  // Every item's own figures only when they are printed (the packed form's
  // default is a summary per chunk, which costs less).
  if (flags.stats) options.set_item_stats(v1::ITEM_STATS_PER_ITEM);
  return options;
}

int RunItems(const GlobalFlags& globals, client::CallKind kind, const RunFlags& flags) {
  // Check every ITEM before connecting: a typo should not start a call.
  absl::StatusOr<std::vector<ItemSpec>> specs = ParseItems(flags.items);
  if (!specs.ok()) return ReportError(specs.status());
  absl::StatusOr<std::unique_ptr<ItemSource>> source =
      ItemSource::Create(*std::move(specs), STDIN_FILENO);
  if (!source.ok()) return ReportError(source.status());
  absl::StatusOr<std::unique_ptr<client::Client>> client = MakeClient(globals);
  if (!client.ok()) return ReportError(client.status());

  const std::optional<uint64_t> total = (*source)->total();
  const bool stdout_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  ProgressBar progress(stderr, total.value_or(0),
                       total.has_value() && ::isatty(STDERR_FILENO) == 1);
  LineWriter out(stdout);
  const ResultFormat format{/*envelope=*/kind == client::CallKind::kQueue,
                            /*stats=*/flags.stats};
  const bool summary = total.has_value() && ::isatty(STDERR_FILENO) == 1;
  const absl::Time started = absl::Now();
  uint64_t succeeded = 0, failed = 0;
  const client::ResultSink sink = [&](const v1::ItemResult& result) -> absl::Status {
    if (result.last()) ++(result.has_error() ? failed : succeeded);
    if (stdout_is_terminal || (flags.logs && result.logs_size() > 0)) progress.Hide();
    if (flags.logs && result.logs_size() > 0) {
      // Before the result, and flushed first, so that a terminal shows each
      // item's output above its result.
      out.Flush().IgnoreError();
      std::fputs(FormatItemLogs(result).c_str(), stderr);
    }
    absl::Status written = out.WriteLine(FormatResult(result, format));
    progress.Advance();
    return written;
  };

  client::CallCanceller canceller;
  absl::Status status;
  {
    ScopedInterruptHandler on_interrupt([&canceller] { canceller.Cancel(); });
    status = (*client)->RunItems(kind, flags.callable, MakeCallOptions(flags, total), **source,
                                 sink, &canceller);
  }
  progress.Finish();
  if (summary && status.ok()) {
    std::fprintf(stderr, "%s\n",
                 FormatRunSummary(succeeded, failed, absl::Now() - started).c_str());
  }
  absl::Status flushed = out.Flush();
  if (out.broken_pipe()) return kExitBrokenPipe;
  if (!status.ok() && canceller.cancelled()) {
    std::fputs("pproc: interrupted\n", stderr);
    return kExitInterrupted;
  }
  if (!status.ok()) return ReportError(status);
  if (!flushed.ok()) return ReportError(flushed);
  return failed > 0 ? kExitItemFailed : kExitOk;
}

constexpr char kItemsHelp[] = R"(
ITEM is one of:
  a JSON value   5  '"text"'  '{"n":3}'  (quote for the shell; a JSON list
                 spreads over the callable's parameters: '[2,10]')
  A..B           the integers A to B inclusive: 1..30, -5..5
  -              JSON values from stdin, one per line
)";

constexpr char kExitHelp[] = R"(
Exit status: 0 all items succeeded, 1 some item failed, 2 RPC or usage
error, 130 interrupted.)";

void AddRunCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code,
                   client::CallKind kind) {
  const bool is_map = kind == client::CallKind::kMap;
  CLI::App* command =
      app.add_subcommand(is_map ? "map" : "queue",
                         is_map ? "Run a callable over every ITEM; print one result per line "
                                  "in input order"
                                : "Run a callable over every ITEM; print results as they "
                                  "complete, each with its input's index");
  auto flags = std::make_shared<RunFlags>();
  command->add_option("NAME", flags->callable, "The callable to run")->required();
  command->add_option("ITEM", flags->items, "Inputs (see below)")->required();
  command->add_option("--limit", flags->limit,
                      "Run at most N of this call's items at once "
                      "(0 = pool size)");
  command->add_option("--chunksize", flags->chunksize,
                      "Items sent to a worker in one hop (0 = automatic)");
  command->add_option("--timeout-ms", flags->timeout_ms,
                      "Fail an item that runs longer than this with "
                      "TIMED_OUT (0 = no timeout)");
  command->add_flag("--fresh", flags->fresh, "Run every item in a brand-new worker process");
  command->add_flag("--logs", flags->logs,
                    "Print what each item wrote to stdout and stderr on stderr, line by line, "
                    "marked [item N stdout] or [item N stderr]");
  command->add_flag("--stats", flags->stats,
                    "Print {\"index\",\"value\"|\"error\",\"stats\"} objects "
                    "with each item's wall/CPU time, peak RSS and worker pid");
  const std::string output_help = is_map ? R"(
Output, one line per item, in input order:
  VALUE                 the JSON result, e.g. 832040
  {"error":{...}}       a failed item: {"kind":"CRASHED","signal":"SIGSEGV",
                        "message":"...","stderr_tail":"..."} (empty members
                        left out; exit_code for a crash by exit)
With --stats every line is {"index":N,"value"|"error":...,"stats":{...}}.
)"
                                         : R"(
Output, one line per item, in completion order:
  {"index":N,"value":VALUE}      N is the input's position, from 0
  {"index":N,"error":{...}}      a failed item: {"kind":"CRASHED",
                                 "signal":"SIGSEGV","message":"...",
                                 "stderr_tail":"..."} (empty members left
                                 out; exit_code for a crash by exit)
With --stats each line also has "stats":{...}.
)";
  command->footer(absl::StrCat(kItemsHelp, output_help,
                               "A progress bar (with rate and time left) shows on stderr when "
                               "it is a terminal and the item count is known, and a one-line "
                               "summary when the call ends.\n",
                               kExitHelp));
  command->callback(
      [&globals, exit_code, kind, flags] { *exit_code = RunItems(globals, kind, *flags); });
}

}  // namespace

void AddRunCommands(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  AddRunCommand(app, globals, exit_code, client::CallKind::kMap);
  AddRunCommand(app, globals, exit_code, client::CallKind::kQueue);
}

}  // namespace pprocd::pproc
