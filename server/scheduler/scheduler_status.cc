// SchedulerLoop::FillStatusRows(): the rows of GetStatus that dashboards
// show (workers, calls, recent failures).
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "absl/time/clock.h"
#include "base/unique_fd.h"
#include "server/metrics/server_metrics.h"
#include "server/scheduler/scheduler_loop.h"

namespace pprocd {
namespace {

// The resident set of process `pid` in KiB from /proc/PID/statm; 0 when
// it cannot be read (the process is gone, or not yet started).
uint64_t ResidentKib(pid_t pid) {
  if (pid <= 0) return 0;
  char path[64];
  std::snprintf(path, sizeof(path), "/proc/%d/statm", static_cast<int>(pid));
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return 0;
  char text[128];
  const ssize_t got = read(fd.get(), text, sizeof(text) - 1);
  if (got <= 0) return 0;
  text[got] = '\0';
  unsigned long long size = 0, resident = 0;
  if (std::sscanf(text, "%llu %llu", &size, &resident) != 2) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

}  // namespace

void SchedulerLoop::FillStatusRows(v1::GetStatusResponse* status) const {
  const uint64_t now_us = NowUs();
  for (const auto& [id, worker] : pool_.workers()) {
    v1::WorkerRow* row = status->add_workers();
    row->set_pid(worker->pid);
    row->set_state(WorkerStateName(worker->state));
    row->set_rss_kib(ResidentKib(worker->pid));
    row->set_items_run(worker->items_run);
    row->set_fresh(worker->fresh);
    if (!worker->busy()) continue;
    row->set_call_id(worker->task.call_id);
    const CallState* call = calls_.Find(worker->task.call_id);
    if (call != nullptr) row->set_callable(call->callable);
    if (worker->unreported() > 0) row->set_item_index(worker->current_index());
    if (now_us > worker->task.item_started_us && worker->task.item_started_us > 0) {
      row->set_item_age_ms((now_us - worker->task.item_started_us) / 1000);
    }
  }
  const absl::Time now = clock_.Now();
  for (const auto& [id, call] : calls_) {
    v1::CallRow* row = status->add_calls();
    row->set_id(id);
    row->set_callable(call.callable);
    row->set_items_done(call.counts.items_done);
    row->set_items_failed(call.counts.items_failed);
    row->set_items_received(call.inputs_received);
    row->set_inputs_ended(call.input_ended);
    row->set_items_running(call.running);
    row->set_items_queued(call.pending_items);
    row->set_age_ms(static_cast<uint64_t>(absl::ToInt64Milliseconds(now - call.opened)));
  }
  for (const ItemFailure& failure : ServerMetrics::Get().RecentFailures()) {
    v1::FailureRow* row = status->add_recent_failures();
    row->set_time_unix_ms(static_cast<uint64_t>(failure.time_unix_ms));
    row->set_callable(failure.callable);
    row->set_call_id(failure.call_id);
    row->set_index(failure.index);
    row->set_kind(static_cast<v1::ErrorKind>(failure.kind_number));
    row->set_message(failure.message);
    row->set_stderr_tail(failure.stderr_tail);
    row->set_worker_pid(failure.worker_pid);
  }
}

}  // namespace pprocd
