// SchedulerLoop: the state and event loop behind Scheduler. Every method
// runs on the scheduler thread; nothing here is thread-safe. Commands from
// other threads arrive through Scheduler::Post.
#ifndef PPROCD_SERVER_SCHEDULER_SCHEDULER_LOOP_H_
#define PPROCD_SERVER_SCHEDULER_SCHEDULER_LOOP_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/event_loop/event_loop.h"
#include "server/scheduler/call_state.h"
#include "server/scheduler/call_table.h"
#include "server/scheduler/crash_attribution.h"
#include "server/scheduler/scheduler.h"
#include "server/scheduler/worker_pool.h"
#include "server/scheduler/worker_slot.h"
#include "worker/template_process.h"

namespace pprocd {

// What the loop shares with the Scheduler that owns it, named here rather
// than reached through the owner's private members. Every reference
// outlives the loop.
struct SchedulerLoopContext {
  const SchedulerOptions& options;
  const CurrentRegistry* registry;
  // The loop the scheduler thread runs; other threads post to it.
  EventLoop& events;
  // Inputs queued server-wide: Scheduler::ReserveQueued adds them, the loop
  // takes them off as they start, fail or are dropped.
  std::atomic<uint64_t>& queued_items;
  // Set once Run() has torn everything down (Scheduler::running()).
  std::atomic<bool>& loop_exited;
};

class SchedulerLoop {
 public:
  SchedulerLoop(const SchedulerLoopContext& context, TemplateProcess template_process);

  // Sets up epoll and asks for the first workers.
  absl::Status Init();
  // Serves until the owner's loop is closed (Scheduler::Stop) or the
  // template is lost, then tears everything down.
  void Run();

  // Commands (see Scheduler for their contracts).
  void OpenCall(uint64_t id, const std::string& callable, const v1::CallOptions& options,
                CallOrder order, std::shared_ptr<CallSink> sink,
                std::shared_ptr<const PythonTarget> python);
  void OpenChannelCall(uint64_t id, const std::string& callable, const v1::CallOptions& options,
                       std::string arguments, std::shared_ptr<CallSink> sink,
                       std::shared_ptr<const PythonTarget> python);
  void SendChannel(uint64_t id, std::vector<std::string> messages);
  void EndChannel(uint64_t id);
  void CancelItems(uint64_t id, std::vector<uint64_t> indices);
  // `reading_on`: the front has already started reading the call's next
  // inputs (Scheduler::AddInputsReadingOn), so they stay requested.
  void AddInputs(uint64_t id, std::shared_ptr<const InputBlock> inputs, uint32_t begin,
                 uint32_t end, bool reading_on = false);
  void EndInputs(uint64_t id);
  void ResultsSent(uint64_t id, uint64_t count);
  void CancelCall(uint64_t id);
  void ReplaceTemplate(TemplateProcess template_process);
  void FillStatus(v1::GetStatusResponse* status) const;
  // The per-worker, per-call and recent-failure rows (scheduler_status.cc).
  void FillStatusRows(v1::GetStatusResponse* status) const;

 private:
  // What an event's tag names (its low bits; the rest is an id).
  enum class Source : uint64_t { kTemplate = 1, kTask = 2 };

  // The scheduler's clock (SchedulerOptions::clock): monotonic µs.
  uint64_t NowUs() const { return clock_.MonotonicMicros(); }

  void Watch(int fd, Source source, uint64_t worker_id, uint32_t events);
  void Unwatch(int fd);
  // A ready descriptor of a template or a worker.
  void HandleReady(uint64_t tag, uint32_t events);
  // Events of the template of `generation`.
  void HandleTemplate(uint64_t generation);
  // Stops the template of a past generation once none of its workers is
  // left.
  void StopIdleTemplate(uint64_t generation);
  void HandleTask(WorkerSlot& worker);
  void HandleResultFrame(WorkerSlot& worker, absl::string_view payload);
  void WorkerExited(uint64_t worker_id, int exit_code, int signal_number);
  void AttributeUnreported(WorkerSlot& worker, CallState* call, int exit_code, int signal_number);
  void RequeueFront(CallState& call, WorkerSlot& worker, int from, bool solo);
  // Passes on a block of the worker's next items (the task's offsets from
  // `reported`), numbered with their indices in the call.
  void DeliverBlock(WorkerSlot& worker, BlockPtr block, CallState* call);
  // Asks a template (the current generation's unless named) for a worker:
  // a pooled one, or a FRESH one for `call`.
  void SpawnWorker(bool fresh = false, uint64_t call = 0, uint64_t template_id = 0);
  // The template whose workers serve `call`.
  uint64_t TemplateOf(const CallState& call) const {
    return call.template_id != 0 ? call.template_id : pool_.generation();
  }
  // Whether new work may go to workers of template `id`: the current
  // generation, or the template its Python pool uses now.
  bool IsCurrentTemplate(uint64_t id) const;
  bool IsPythonTemplate(uint64_t id) const { return python_templates_.count(id) > 0; }
  // Pooled workers for runnable calls that found none idle, within the
  // worker budget (SchedulerOptions::workers, over every template): a new
  // one while under it, else an idle worker of another template retires to
  // make room.
  void ProvideWorkers();
  // Python workers idle for long retire; a worker of the current
  // generation takes each one's place.
  void RetireIdlePythonWorkers();

  // Python function pools (PythonTarget): one template per pool key at a
  // time; a changed module file starts a new one.
  // Binds a Python call to its pool's template, starting one if needed.
  void BindPythonPool(CallState& call);
  void StartPythonTemplate(const std::string& key, std::shared_ptr<const PythonTarget> target);
  // A template process for `target` that has loaded the worker runtime and
  // waits for its module: the spare of its SpareKey() when one is alive,
  // else a new process. Then told its module.
  absl::StatusOr<std::unique_ptr<TemplateProcess>> TemplateFor(const PythonTarget& target);
  // Starts a spare for `target`'s interpreter and import path unless one
  // is there (or kMaxPythonSpares are), so the next new module with them
  // skips the interpreter's start and the runtime's import.
  void KeepSpare(const PythonTarget& target);
  // The first event of a starting Python template: ready, or why not.
  void HandlePythonStart(uint64_t template_id, const std::string& key);
  void PythonTemplateFailed(const std::string& key, const absl::Status& why);
  // Python templates whose start took too long.
  void CheckPythonStarts();
  // Forgets a template that has stopped or was lost.
  void DropTemplate(uint64_t template_id);
  // A worker asked for will never serve: the template could not start it,
  // or its descriptors could not be handed over. `why` says which. No
  // worker starts until a backoff has passed; a pooled one is asked for
  // again then; a FRESH one's call keeps its items queued, and fails them
  // with `why` once its workers have failed to start for kSpawnPatience.
  // The caller stops the worker's template if it is of a past generation
  // and now idle (StopIdleTemplate).
  void SpawnFailed(uint64_t worker_id, const std::string& why);
  // Fails every queued item of `call` with `why`: no worker could start.
  void FailQueued(CallState& call, const std::string& why);
  // A freshly started FRESH worker takes one item of its call, or retires.
  void StartFreshWorker(WorkerSlot& worker);
  // Stops watching the worker's socket and retires it (WorkerPool::Retire).
  void Retire(WorkerSlot& worker);
  void Dispatch();
  void SpawnFreshWorkers();
  void AssignTask(WorkerSlot& worker, CallState& call);
  void SendTask(WorkerSlot& worker);
  // Sets the epoll interest of the worker's socket from its paused and
  // want_writable flags.
  void UpdateWatch(WorkerSlot& worker);
  // CallableLimits.max_concurrent: whether the call's callable may run on
  // one more worker, and the release of a worker's count.
  bool CallableHasRoom(const CallState& call);
  void ReleaseCallableSlot(WorkerSlot& worker);
  // Pauses or resumes reading the workers of a channel-callable call so
  // that its unsent results stay within the window.
  void UpdatePause(CallState& call);
  // The failure result of the item a worker was running when it died.
  ResultPtr FailedItemResult(WorkerSlot& worker, uint64_t index);
  // The failure of the worker's first unreported item, blamed for its
  // death (AttributeDeath's kBlameFirst); counts it.
  ResultPtr BlamedItemResult(WorkerSlot& worker, const CallState& call, Blame blame, int exit_code,
                             int signal_number);
  // Empties output files that grow without bound (output_capture.h).
  void CheckOutputSizes();
  void CheckTimeouts();
  int NextWakeMs() const;
  void FlushCalls();
  void FinishCall(CallState& call, absl::Status status, std::vector<ResultPiece> last_results = {});
  void Shutdown();

  const SchedulerOptions& options_;
  const CurrentRegistry* const registry_;
  std::atomic<uint64_t>& queued_items_;
  std::atomic<bool>& loop_exited_;
  // The workers and the templates of each generation of callables still in
  // use; new workers come from the current one (reloads add generations).
  WorkerPool pool_;
  struct PythonPool {
    // The template new calls use (0: none) and its module file's stamp.
    uint64_t current = 0;
    std::string stamp;
    // A template being started (0: none), its stamp, and the calls
    // waiting for it.
    uint64_t starting = 0;
    std::string starting_stamp;
    absl::Time start_deadline = absl::InfiniteFuture();
    std::vector<uint64_t> waiting;
    std::string display_name;
    // The target of the template being started.
    std::shared_ptr<const PythonTarget> starting_target;
  };
  std::map<std::string, PythonPool> python_pools_;
  // Each Python template's pool key.
  std::unordered_map<uint64_t, std::string> python_templates_;
  // Spare Python templates by PythonTarget::SpareKey(): started after a
  // pool's template with the same interpreter and import path is ready,
  // they wait (not watched) for a module; one ends when the server closes
  // its control socket. At most kMaxPythonSpares at once: a new one takes
  // the place of the one started first.
  struct PythonSpare {
    std::unique_ptr<TemplateProcess> process;
    uint64_t started = 0;  // The order in which spares were started.
  };
  std::map<std::string, PythonSpare> python_spares_;
  uint64_t next_spare_sequence_ = 0;
  // The owner's loop: its thread runs every method here.
  EventLoop& events_;
  bool stopping_ = false;
  // Every reading of time in the loop comes from here.
  const Clock& clock_;
  const absl::Time started_;

  // The template sockets are not read before this (the kernel could not
  // hand an event over: out of memory or descriptors).
  absl::Time retry_template_read_at_ = absl::InfiniteFuture();
  uint64_t next_output_check_us_ = 0;

  // The open calls, and which changed in this turn (FlushCalls).
  CallTable calls_;
  uint64_t last_served_call_ = 0;
  uint64_t next_task_id_ = 1;

  wire::v1::ResultFrame result_frame_;

  uint64_t items_completed_ = 0;
  uint64_t items_failed_ = 0;
  uint64_t items_crashed_ = 0;
  uint64_t workers_respawned_ = 0;
  uint64_t workers_recycled_ = 0;
  uint64_t callable_reloads_ = 0;
  // Busy workers per callable, for callables with a max_concurrent limit.
  std::unordered_map<std::string, uint32_t> busy_by_callable_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_SCHEDULER_LOOP_H_
