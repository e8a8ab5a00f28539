// WorkerPool: the worker processes and the templates that fork them, as the
// scheduler thread sees them: each worker's slot, the idle ones, the
// template of each generation of callables (and each Python pool's), the
// backoff after failed starts, and kills, which always go through the
// template that reaps the worker. It knows nothing of calls or of the event
// loop: SchedulerLoop decides what to run where and watches the sockets.
// Scheduler thread only; nothing here is thread-safe.
#ifndef PPROCD_SERVER_SCHEDULER_WORKER_POOL_H_
#define PPROCD_SERVER_SCHEDULER_WORKER_POOL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/time/time.h"
#include "server/scheduler/worker_slot.h"
#include "worker/template_process.h"

namespace pprocd {

// How long to wait before asking for workers again after `failures` failed
// starts in a row (failures >= 1): 20 ms, doubling, at most 640 ms.
absl::Duration SpawnRetryDelay(uint64_t failures);

// The backoff after failed worker starts: while it runs, no worker is asked
// for; pooled workers that failed are owed and asked for again when it
// ends. Pure bookkeeping on the times it is given.
class SpawnBackoff {
 public:
  // A start failed at `now`; `owe_pooled`: a pooled worker of the
  // registered callables is to be asked for again. True for the first
  // failure of a run (the one worth a log line).
  bool Failed(absl::Time now, bool owe_pooled);
  // A worker started: the failures of the run this ends (0: none).
  uint64_t Started();
  // Whether starts wait for the backoff now.
  bool waiting() const { return retry_at_ != absl::InfiniteFuture(); }
  // When the backoff ends (InfiniteFuture: none runs).
  absl::Time retry_at() const { return retry_at_; }
  // At `now`: when the backoff is over, ends it and returns the pooled
  // workers owed (to be asked for); else 0.
  uint32_t TakeOwedIfDue(absl::Time now);

 private:
  uint64_t failures_ = 0;
  absl::Time retry_at_ = absl::InfiniteFuture();
  uint32_t pooled_owed_ = 0;
};

class WorkerPool {
 public:
  using Workers = std::unordered_map<uint64_t, std::unique_ptr<WorkerSlot>>;
  using Templates = std::map<uint64_t, std::unique_ptr<TemplateProcess>>;

  // `first`: the template of the first generation of registered callables.
  explicit WorkerPool(std::unique_ptr<TemplateProcess> first);

  // --- Templates (ids are never reused) ---
  // The template id of the current generation of registered callables.
  uint64_t generation() const { return generation_; }
  // Makes `process` the current generation and returns its id; the
  // previous one stays until RemoveTemplate (its workers finish on it).
  uint64_t AddGeneration(std::unique_ptr<TemplateProcess> process);
  // Adds a template that is not a generation (a Python pool's) and
  // returns its id.
  uint64_t AddTemplate(std::unique_ptr<TemplateProcess> process);
  TemplateProcess* FindTemplate(uint64_t id) const;
  // Forgets template `id` (its handle's destructor stops the process).
  void RemoveTemplate(uint64_t id);
  const Templates& templates() const { return templates_; }
  // Whether any worker of template `id` is left, in any state.
  bool HasWorkersOf(uint64_t template_id) const;
  std::vector<uint64_t> WorkersOf(uint64_t template_id) const;

  // --- Workers ---
  // Asks template `template_id` for a worker (a FRESH one for `fresh_call`
  // runs `callable` only) and returns its slot, kStarting; nullptr when the
  // template is gone or could not be asked (logged). A FRESH worker counts
  // in fresh_alive() until ReleaseFreshSlot.
  WorkerSlot* Spawn(uint64_t template_id, bool fresh = false, uint64_t fresh_call = 0,
                    const std::string& callable = "");
  WorkerSlot* Find(uint64_t id) const;
  // Takes worker `id` out of the pool (and out of the idle ones).
  std::unique_ptr<WorkerSlot> Remove(uint64_t id);
  const Workers& workers() const { return workers_; }
  // Forgets every worker (at shutdown, once the templates were told to kill
  // them).
  void ForgetWorkers();
  // worker.MoveTo(next), logging a step WorkerState does not allow.
  static void MoveWorker(WorkerSlot& worker, WorkerState next);
  // Asks the template that reaps the worker to SIGKILL its process group,
  // once, and records why (the first reason counts). Every kill of a worker
  // goes through here: the server never signals a worker's pid itself.
  void Kill(WorkerSlot& worker, KillReason reason);
  // Retires the worker: it stops counting as FRESH, leaves the idle ones,
  // and its socket is closed so that it exits once idle. The caller stops
  // watching the socket first.
  void Retire(WorkerSlot& worker);
  // A FRESH worker stops counting in fresh_alive() (once).
  void ReleaseFreshSlot(WorkerSlot& worker);
  uint32_t fresh_alive() const { return fresh_alive_; }

  // --- Idle workers (latest first) ---
  // The worker became idle at `now_us` and may take a task.
  void MarkIdle(WorkerSlot& worker, uint64_t now_us);
  // The worker may no longer take a task (it is busy, ending or gone).
  void LeaveIdle(uint64_t id);
  bool HasIdle(uint64_t template_id) const;
  // The latest idle worker of template `template_id`, taken out of the
  // idle ones; nullptr if none.
  WorkerSlot* TakeIdle(uint64_t template_id);
  // An idle worker of another template than `template_id` (to retire and
  // make room); nullptr if none.
  WorkerSlot* IdleNotOf(uint64_t template_id) const;
  // The idle workers, oldest first.
  std::vector<WorkerSlot*> Idle() const;
  bool any_idle() const { return !idle_.empty(); }

  // Pooled workers (not FRESH, not retiring): how many, and how many of
  // template `template_id` are starting.
  uint32_t LivePooled() const;
  uint32_t StartingOf(uint64_t template_id) const;

  SpawnBackoff& backoff() { return backoff_; }
  const SpawnBackoff& backoff() const { return backoff_; }

 private:
  Templates templates_;
  uint64_t generation_ = 1;
  uint64_t next_template_id_ = 2;
  Workers workers_;
  std::vector<uint64_t> idle_;
  uint64_t next_worker_id_ = 1;
  uint32_t fresh_alive_ = 0;
  SpawnBackoff backoff_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_WORKER_POOL_H_
