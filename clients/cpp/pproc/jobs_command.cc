// pproc submit / jobs / attach / cancel / rm: background jobs, which run on
// the server whether or not a client watches them.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "pproc/commands.h"
#include "pproc/interrupt.h"
#include "pproc/items.h"
#include "pproc/progress.h"
#include "pproc/result_printer.h"

namespace pprocd::pproc {
namespace {

constexpr char kJobStatePrefix[] = "JOB_STATE_";

struct AttachFlags {
  std::vector<std::string> jobs;
  uint64_t after_seq = 0;
  bool stats = false;
  bool logs = false;
};

struct SubmitFlags {
  std::string callable;
  std::vector<std::string> items;
  std::string name;
  std::string key;
  uint32_t retries = 0;
  uint32_t retry_backoff_ms = 0;
  bool unordered = false;
  uint32_t limit = 0;
  uint32_t chunksize = 0;
  uint32_t timeout_ms = 0;
  bool fresh = false;
  std::string socket;
  bool attach = false;
  bool stats = false;
};

struct ListFlags {
  std::string state;
  std::string name;
  bool all = false;
  bool json = false;
};

// "nightly" for a named job, else its id.
std::string JobLabel(const v1::Job& job) { return job.name().empty() ? job.id() : job.name(); }

std::string FormatTimestamp(const google::protobuf::Timestamp& stamp, absl::TimeZone zone) {
  const absl::Time time = absl::FromUnixSeconds(stamp.seconds()) + absl::Nanoseconds(stamp.nanos());
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", time, zone);
}

// --- attach ----------------------------------------------------------------

// What attach knows of one job while it follows it.
struct Followed {
  std::string label;
  v1::Job job;  // The latest snapshot.
  uint64_t done = 0;
};

int Attach(const client::Client& client, const AttachFlags& flags) {
  // Resolve every JOB first: an unknown one fails before anything prints,
  // and the ids, names and totals are known before the first output.
  std::map<std::string, Followed> followed;  // By id.
  std::vector<std::string> order;            // Ids, as given.
  uint64_t total = 0;
  for (const std::string& name : flags.jobs) {
    absl::StatusOr<v1::Job> job = client.GetJob(name);
    if (!job.ok()) return ReportError(job.status());
    if (followed.count(job->id()) > 0) continue;
    order.push_back(job->id());
    total += job->items_total();
    followed[job->id()] = Followed{JobLabel(*job), *job, 0};
  }
  const bool several = order.size() > 1;

  const bool stdout_is_terminal = ::isatty(STDOUT_FILENO) == 1;
  ProgressBar progress(stderr, total, ::isatty(STDERR_FILENO) == 1);
  LineWriter out(stdout);
  const ResultFormat format{/*envelope=*/true, /*stats=*/flags.stats};
  const auto update_progress = [&] {
    uint64_t done = 0;
    for (const auto& [id, job] : followed) done += job.done;
    progress.Set(done);
  };
  const client::JobOutputSink sink = [&](const v1::ReconnectResponse& output) -> absl::Status {
    auto found = followed.find(output.job_id());
    if (found == followed.end()) return absl::OkStatus();  // Not asked for.
    Followed& job = found->second;
    if (output.has_job()) {
      job.job = output.job();
      job.done = output.job().items_done();
      update_progress();
      return absl::OkStatus();
    }
    if (!output.has_result()) return absl::OkStatus();
    if (stdout_is_terminal || (flags.logs && output.result().logs_size() > 0)) progress.Hide();
    if (flags.logs && output.result().logs_size() > 0) {
      out.Flush().IgnoreError();
      std::fputs(FormatItemLogs(output.result(), several ? job.label : "").c_str(), stderr);
    }
    absl::Status written =
        out.WriteLine(several ? FormatJobResult(job.label, output.result(), format)
                              : FormatResult(output.result(), format));
    if (output.result().last()) ++job.done;
    update_progress();
    return written;
  };

  v1::ReconnectRequest request;
  for (const std::string& id : order) request.add_jobs(id);
  request.set_after_seq(flags.after_seq);
  client::CallCanceller canceller;
  absl::Status status;
  {
    ScopedInterruptHandler on_interrupt([&canceller] { canceller.Cancel(); });
    status = client.Reconnect(request, sink, &canceller);
  }
  progress.Finish();
  absl::Status flushed = out.Flush();
  if (out.broken_pipe()) return kExitBrokenPipe;
  if (!status.ok() && canceller.cancelled()) {
    std::fputs(absl::StrCat("pproc: interrupted; the job goes on (pproc attach ",
                            absl::StrJoin(flags.jobs, " "), ")\n")
                   .c_str(),
               stderr);
    return kExitInterrupted;
  }
  if (!status.ok()) return ReportError(status);
  if (!flushed.ok()) return ReportError(flushed);

  bool all_succeeded = true;
  std::string summary;
  for (const std::string& id : order) {
    const v1::Job& job = followed[id].job;
    if (job.state() != v1::JOB_STATE_SUCCEEDED) all_succeeded = false;
    absl::StrAppend(&summary, FormatJobSummary(job), "\n");
  }
  std::fputs(summary.c_str(), stderr);
  return all_succeeded ? kExitOk : kExitItemFailed;
}

// --- submit ----------------------------------------------------------------

int Submit(const GlobalFlags& globals, const SubmitFlags& flags) {
  absl::StatusOr<std::vector<ItemSpec>> specs = ParseItems(flags.items);
  if (!specs.ok()) return ReportError(specs.status());
  absl::StatusOr<std::unique_ptr<ItemSource>> source =
      ItemSource::Create(*std::move(specs), STDIN_FILENO);
  if (!source.ok()) return ReportError(source.status());

  v1::SubmitRequest request;
  request.set_callable(flags.callable);
  while (true) {
    absl::StatusOr<bool> more = (*source)->Next(request.add_inputs());
    if (!more.ok()) return ReportError(more.status());
    if (!*more) break;
  }
  request.mutable_inputs()->RemoveLast();
  v1::CallOptions& options = *request.mutable_options();
  options.set_limit(flags.limit);
  options.set_chunksize(flags.chunksize);
  options.set_timeout_ms(flags.timeout_ms);
  options.set_isolation(flags.fresh ? v1::ISOLATION_FRESH : v1::ISOLATION_POOLED);
  options.set_expected_inputs(request.inputs_size());
  // Every item's own figures are stored: any later `pproc attach --stats`
  // prints them.
  options.set_item_stats(v1::ITEM_STATS_PER_ITEM);
  request.set_ordered(!flags.unordered);
  request.set_name(flags.name);
  request.set_idempotency_key(flags.key);
  request.set_retries(flags.retries);
  request.set_retry_backoff_ms(flags.retry_backoff_ms);
  if (!flags.socket.empty()) {
    // The server has its own working directory: send an absolute path.
    std::string path = flags.socket;
    if (path.front() != '/') {
      char cwd[4096];
      if (::getcwd(cwd, sizeof(cwd)) != nullptr) path = absl::StrCat(cwd, "/", path);
    }
    request.set_socket_path(path);
  }

  absl::StatusOr<std::unique_ptr<client::Client>> client = MakeClient(globals);
  if (!client.ok()) return ReportError(client.status());
  absl::StatusOr<v1::Job> job = (*client)->Submit(std::move(request));
  if (!job.ok()) return ReportError(job.status());
  const std::string line =
      job->name().empty() ? job->id() : absl::StrCat(job->id(), " ", job->name());
  if (!flags.attach) {
    std::fputs(absl::StrCat(line, "\n").c_str(), stdout);
    return std::fflush(stdout) == 0 ? kExitOk : kExitError;
  }
  std::fputs(absl::StrCat("pproc: submitted job ", line, "\n").c_str(), stderr);
  return Attach(**client, AttachFlags{{job->id()}, 0, flags.stats});
}

// --- jobs ------------------------------------------------------------------

int ListJobs(const GlobalFlags& globals, const ListFlags& flags) {
  v1::ListJobsRequest request;
  if (!flags.state.empty()) {
    absl::StatusOr<v1::JobState> state = ParseJobState(flags.state);
    if (!state.ok()) return ReportError(state.status());
    request.set_state(*state);
  }
  request.set_name(flags.name);
  absl::StatusOr<std::unique_ptr<client::Client>> client = MakeClient(globals);
  if (!client.ok()) return ReportError(client.status());

  std::vector<v1::Job> jobs;
  bool more = false;
  if (flags.all) {
    absl::Status listed = (*client)->ForEachJob(request, [&jobs](const v1::Job& job) {
      jobs.push_back(job);
      return absl::OkStatus();
    });
    if (!listed.ok()) return ReportError(listed);
  } else {
    absl::StatusOr<v1::ListJobsResponse> page = (*client)->ListJobs(request);
    if (!page.ok()) return ReportError(page.status());
    jobs.assign(page->jobs().begin(), page->jobs().end());
    more = !page->next_page_token().empty();
  }

  std::string out;
  if (flags.json) {
    for (const v1::Job& job : jobs) {
      if (absl::Status printed = AppendMessageJson(job, &out); !printed.ok()) {
        return ReportError(printed);
      }
    }
  } else {
    out = FormatJobsTable(jobs, absl::LocalTimeZone());
  }
  std::fputs(out.c_str(), stdout);
  if (std::fflush(stdout) != 0) return kExitError;
  if (more) std::fputs("pproc: older jobs not shown; --all lists every one\n", stderr);
  return kExitOk;
}

// --- cancel, rm ------------------------------------------------------------

// Runs `act` on every JOB, reporting each failure and going on; returns
// kExitError when any failed.
template <typename Act>
int ForEachNamedJob(const GlobalFlags& globals, const std::vector<std::string>& jobs, Act act) {
  absl::StatusOr<std::unique_ptr<client::Client>> client = MakeClient(globals);
  if (!client.ok()) return ReportError(client.status());
  int exit_code = kExitOk;
  for (const std::string& job : jobs) {
    absl::StatusOr<std::string> line = act(**client, job);
    if (!line.ok()) {
      exit_code = ReportError(line.status());
      // An unreachable server will not come back for the next job.
      if (line.status().code() == absl::StatusCode::kUnavailable) break;
      continue;
    }
    std::fputs(absl::StrCat(*line, "\n").c_str(), stdout);
    std::fflush(stdout);
  }
  return exit_code;
}

int CancelJobs(const GlobalFlags& globals, const std::vector<std::string>& jobs) {
  return ForEachNamedJob(
      globals, jobs,
      [](const client::Client& client, const std::string& name) -> absl::StatusOr<std::string> {
        absl::StatusOr<v1::Job> job = client.CancelJob(name);
        if (!job.ok()) return job.status();
        return FormatJobSummary(*job);
      });
}

int RemoveJobs(const GlobalFlags& globals, const std::vector<std::string>& jobs, bool force) {
  return ForEachNamedJob(globals, jobs,
                         [force](const client::Client& client,
                                 const std::string& name) -> absl::StatusOr<std::string> {
                           if (force) {
                             absl::StatusOr<v1::Job> cancelled = client.CancelJob(name);
                             if (!cancelled.ok()) return cancelled.status();
                           }
                           absl::Status deleted = client.DeleteJob(name);
                           if (!deleted.ok()) return deleted;
                           return absl::StrCat("deleted ", name);
                         });
}

constexpr char kJobHelp[] = "\nJOB is a job's id or its name.\n";

void AddSubmitCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand(
      "submit",
      "Start a background job: CALLABLE over every ITEM, run by the server whether or not "
      "anyone watches; print its id (and name) and exit");
  auto flags = std::make_shared<SubmitFlags>();
  command->add_option("CALLABLE", flags->callable, "The callable to run")->required();
  command->add_option("ITEM", flags->items, "Inputs, as for map (see below)")->required();
  command->add_option("--name", flags->name,
                      "Name the job (unique among your jobs; usable in place of its id)");
  command->add_option("--key", flags->key,
                      "Idempotency key: submitting again with the same key returns the "
                      "first job instead of starting another");
  command->add_option("--retries", flags->retries,
                      "Run the whole job again up to R times when an attempt fails");
  command->add_option("--retry-backoff-ms", flags->retry_backoff_ms,
                      "Wait before the first retry, doubled for each later one "
                      "(0 = 1000 ms)");
  command->add_flag("--unordered", flags->unordered,
                    "Store results in completion order (as queue) instead of input order");
  command->add_option("--limit", flags->limit,
                      "Run at most N of this job's items at once (0 = pool size)");
  command->add_option("--chunksize", flags->chunksize,
                      "Items sent to a worker in one hop (0 = automatic)");
  command->add_option("--timeout-ms", flags->timeout_ms,
                      "Fail an item that runs longer than this with TIMED_OUT "
                      "(0 = no timeout)");
  command->add_flag("--fresh", flags->fresh, "Run every item in a brand-new worker process");
  command->add_option("--socket", flags->socket,
                      "Ask the server to serve this job alone on a UNIX socket at PATH");
  command->add_flag("--attach", flags->attach,
                    "Do not exit: follow the job as 'pproc attach' does (its id goes to "
                    "stderr)");
  command->add_flag("--stats", flags->stats, "With --attach: add each item's stats");
  command->footer(R"(
ITEM is a JSON value, A..B (integers, inclusive) or - (JSON values from
stdin, one per line), as for map; every input is sent with the request.

Output: "ID" or "ID NAME", one line. Exit status: 0 submitted, 2 RPC or
usage error; with --attach, those of attach.)");
  command->callback([&globals, exit_code, flags] { *exit_code = Submit(globals, *flags); });
}

void AddAttachCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand(
      "attach",
      "Follow background jobs: print their stored results, then new ones as they come, "
      "until every JOB has ended");
  auto flags = std::make_shared<AttachFlags>();
  command->add_option("JOB", flags->jobs, "Jobs to follow, by id or name")->required();
  command->add_option("--after-seq", flags->after_seq,
                      "Skip the outputs numbered N or less (outputs are numbered 1, 2, ... "
                      "per job; a job's last_seq is in 'pproc jobs --json')");
  command->add_flag("--stats", flags->stats, "Add each item's wall/CPU time, RSS and pid");
  command->add_flag("--logs", flags->logs,
                    "Print what each item wrote to stdout and stderr on stderr, line by line, "
                    "marked [item N stdout] or [item N stderr] (with the job first when several "
                    "are followed)");
  command->footer(absl::StrCat(kJobHelp, R"(
Output (stdout), one line per result, as queue prints them:
  {"index":N,"value":VALUE}   or   {"index":N,"error":{...}}
with "job":"NAME-OR-ID" first when several jobs are followed. A job that
runs again (--retries) prints its results again. At the end, one line per
job on stderr: ID (NAME) STATE, DONE/TOTAL items[: error]. A progress bar
shows on stderr when it is a terminal. Ctrl-C stops following; the jobs go
on.

Exit status: 0 every job SUCCEEDED, 1 some job did not, 2 RPC or usage
error, 130 interrupted.)"));
  command->callback([&globals, exit_code, flags] {
    absl::StatusOr<std::unique_ptr<client::Client>> client = MakeClient(globals);
    *exit_code = client.ok() ? Attach(**client, *flags) : ReportError(client.status());
  });
}

void AddListCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command =
      app.add_subcommand("jobs", "List your background jobs, newest first, as a table");
  auto flags = std::make_shared<ListFlags>();
  command->add_option("--state", flags->state,
                      "Only jobs in this state: queued, running, succeeded, failed, "
                      "cancelled, interrupted");
  command->add_option("--name", flags->name, "Only the job with this name");
  command->add_flag("--all", flags->all, "Every job, not only the newest 100");
  command->add_flag("--json", flags->json,
                    "One Job as JSON per line instead (64-bit counters are strings, "
                    "per the proto3 JSON mapping)");
  command->footer(R"(
Columns: ID NAME STATE DONE/TOTAL CALLABLE CREATED ENDED ERROR (times in
the local time zone; '-' when unset).)");
  command->callback([&globals, exit_code, flags] { *exit_code = ListJobs(globals, *flags); });
}

void AddCancelCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand(
      "cancel", "Cancel queued or running jobs (their running items are killed)");
  auto jobs = std::make_shared<std::vector<std::string>>();
  command->add_option("JOB", *jobs, "Jobs to cancel, by id or name")->required();
  command->footer(absl::StrCat(kJobHelp, R"(
Prints each job's state after: ID (NAME) STATE, DONE/TOTAL items[: error]
(a job that had already ended is left as it was). Exit status: 0, or 2
when a job could not be cancelled.)"));
  command->callback([&globals, exit_code, jobs] { *exit_code = CancelJobs(globals, *jobs); });
}

void AddRemoveCommand(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  CLI::App* command = app.add_subcommand("rm", "Delete ended jobs with their stored results");
  auto jobs = std::make_shared<std::vector<std::string>>();
  auto force = std::make_shared<bool>(false);
  command->add_option("JOB", *jobs, "Jobs to delete, by id or name")->required();
  command->add_flag("--force", *force, "Cancel a queued or running job first");
  command->footer(absl::StrCat(kJobHelp, R"(
A queued or running job is refused (FAILED_PRECONDITION) unless --force.
Exit status: 0, or 2 when a job could not be deleted.)"));
  command->callback(
      [&globals, exit_code, jobs, force] { *exit_code = RemoveJobs(globals, *jobs, *force); });
}

}  // namespace

std::string JobStateName(v1::JobState state) {
  absl::string_view name = v1::JobState_Name(state);
  if (name.empty()) return absl::StrCat("UNKNOWN_", static_cast<int>(state));
  absl::ConsumePrefix(&name, kJobStatePrefix);
  return std::string(name);
}

absl::StatusOr<v1::JobState> ParseJobState(absl::string_view text) {
  std::string upper = absl::AsciiStrToUpper(text);
  if (!absl::StartsWith(upper, kJobStatePrefix)) upper = absl::StrCat(kJobStatePrefix, upper);
  v1::JobState state;
  if (v1::JobState_Parse(upper, &state) && state != v1::JOB_STATE_UNSPECIFIED) return state;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown job state '", text,
                   "'; one of queued, running, succeeded, failed, cancelled, interrupted"));
}

std::string FormatJobSummary(const v1::Job& job) {
  std::string line = job.id();
  if (!job.name().empty()) absl::StrAppend(&line, " (", job.name(), ")");
  absl::StrAppend(&line, " ", JobStateName(job.state()), ", ", job.items_done(), "/",
                  job.items_total(), " items");
  absl::string_view error = job.error();
  error = error.substr(0, error.find('\n'));
  if (!error.empty()) absl::StrAppend(&line, ": ", error);
  return line;
}

std::string FormatJobsTable(const std::vector<v1::Job>& jobs, absl::TimeZone zone) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"ID", "NAME", "STATE", "DONE/TOTAL", "CALLABLE", "CREATED", "ENDED", "ERROR"});
  const auto or_dash = [](std::string text) { return text.empty() ? "-" : text; };
  for (const v1::Job& job : jobs) {
    absl::string_view error = job.error();
    error = error.substr(0, error.find('\n'));
    rows.push_back({job.id(), or_dash(job.name()), JobStateName(job.state()),
                    absl::StrCat(job.items_done(), "/", job.items_total()), or_dash(job.callable()),
                    job.has_create_time() ? FormatTimestamp(job.create_time(), zone) : "-",
                    job.has_end_time() ? FormatTimestamp(job.end_time(), zone) : "-",
                    or_dash(std::string(error))});
  }
  std::vector<size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i > 0) line.append("  ");
      line.append(row[i]);
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size(), ' ');
    }
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

void AddJobCommands(CLI::App& app, const GlobalFlags& globals, int* exit_code) {
  AddSubmitCommand(app, globals, exit_code);
  AddListCommand(app, globals, exit_code);
  AddAttachCommand(app, globals, exit_code);
  AddCancelCommand(app, globals, exit_code);
  AddRemoveCommand(app, globals, exit_code);
}

}  // namespace pprocd::pproc
