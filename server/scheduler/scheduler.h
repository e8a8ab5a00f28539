// Scheduler: the one thread that owns every worker connection, every call's
// queue, limits, timeouts and kills. Other threads (gRPC reactors, main) only
// post commands to it; it answers through each call's CallSink.
//
// Public methods are thread-safe unless noted. Dependencies point down only:
// scheduler -> worker supervision (TemplateProcess) -> OS.
#ifndef PPROCD_SERVER_SCHEDULER_SCHEDULER_H_
#define PPROCD_SERVER_SCHEDULER_SCHEDULER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/clock.h"
#include "base/event_loop/event_loop.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/v1/service.pb.h"
#include "server/scheduler/call_sink.h"
#include "server/scheduler/input_block.h"
#include "worker/python_target.h"
#include "worker/registry.h"
#include "worker/template_process.h"

namespace pprocd {

class SchedulerLoop;

enum class CallOrder { kInputOrder, kCompletionOrder };

struct SchedulerOptions {
  // Pooled workers kept running.
  uint32_t workers = 2;
  // Inputs accepted and not yet dispatched, over all calls; more is
  // RESOURCE_EXHAUSTED.
  uint64_t max_queued_items = 1000000;
  // Per call: inputs held, running, and results not yet sent, at most
  // (plus one request message). Bounds memory per call.
  uint64_t call_window_items = 16384;
  // A pooled worker is replaced after running this many items (0 = never),
  // as multiprocessing's maxtasksperchild.
  uint64_t max_tasks_per_worker = 0;
  // FRESH processes running an item at once, over all calls (0 =
  // `workers`); one that is done may still be exiting.
  uint32_t max_fresh_workers = 0;
  // Every reading of time (item timeouts, backoffs, idle retirement,
  // uptime and ages); must outlive the scheduler. Tests pass a fake.
  const Clock* clock = &RealClock();
};

class Scheduler {
 public:
  // Takes the running template, whose workers run the callables of
  // `registry`'s current set. `registry` must outlive the scheduler.
  Scheduler(SchedulerOptions options, TemplateProcess template_process,
            const CurrentRegistry* registry);
  // Stops the loop if Stop() was not called.
  ~Scheduler();

  // Starts the loop thread and the first workers.
  absl::Status Start();
  // Fails every open call with UNAVAILABLE, kills and reaps every worker,
  // stops the template and joins the thread. Idempotent.
  void Stop();
  // False once the loop has ended: after Stop(), or by itself when the
  // template process was lost (the server should then exit).
  bool running() const;

  // Opens a call of a validated callable; returns its id, or Unavailable
  // once stopping (then the sink is never called). The sink is kept until
  // Finish() has been called on it; it is never called synchronously from
  // here, since the caller may hold the sink's lock.
  // `python`: the call runs a Python function by reference (`callable` is
  // then only its name for messages); its pool's template is started or
  // replaced as needed, and a module the template cannot import finishes
  // the call with INVALID_ARGUMENT.
  absl::StatusOr<uint64_t> OpenCall(const std::string& callable, const v1::CallOptions& options,
                                    CallOrder order, std::shared_ptr<CallSink> sink,
                                    std::shared_ptr<const PythonTarget> python = nullptr);
  // Opens a Start call: one invocation of `callable` with `arguments` (one
  // JSON value); results in sending order (a channel
  // callable's messages, then the final result). The invocation's channel
  // input comes with SendChannel, one batch per WantInput, and ends with
  // EndChannel. Same contract as OpenCall otherwise.
  absl::StatusOr<uint64_t> OpenChannelCall(const std::string& callable,
                                           const v1::CallOptions& options, std::string arguments,
                                           std::shared_ptr<CallSink> sink,
                                           std::shared_ptr<const PythonTarget> python = nullptr);
  // Messages for a Start call's channel (serialized Values, in order);
  // answers one WantInput.
  void SendChannel(uint64_t call, std::vector<std::string> messages);
  // The end of a Start call's channel input (client half-close).
  void EndChannel(uint64_t call);
  // Cancels single items of a call: queued ones are dropped, running ones
  // have their worker killed (other items of that worker's chunk run
  // again); each gives an ERROR_KIND_CANCELLED result. Indices unknown or
  // finished are ignored.
  void CancelItems(uint64_t call, std::vector<uint64_t> indices);
  // Reserves room for `count` more queued inputs server-wide; false (and no
  // reservation) when that would pass max_queued_items. A reservation is
  // consumed by AddInputs of the same count.
  bool ReserveQueued(uint64_t count);
  // Inputs of the call (a JSON array split into its elements), numbered
  // after those already given. Answers one WantInput (an empty block
  // counts).
  void AddInputs(uint64_t call, std::shared_ptr<const InputBlock> inputs);
  // Elements [begin, end) of `inputs` only.
  void AddInputs(uint64_t call, std::shared_ptr<const InputBlock> inputs, uint32_t begin,
                 uint32_t end);
  // Like AddInputs, for a caller that has already started reading its next
  // batch: that batch (AddInputs or EndInputs) answers no WantInput. For a
  // call's first request, so that a half-close sent with it is seen at
  // once; a call so holds at most one request's inputs more than asked.
  void AddInputsReadingOn(uint64_t call, std::shared_ptr<const InputBlock> inputs);
  // No more inputs will come (client half-close).
  void EndInputs(uint64_t call);
  // The front has written `count` results of the call.
  void ResultsSent(uint64_t call, uint64_t count);
  // Drops the call's queued inputs, kills its running workers, and finishes
  // it with CANCELLED.
  void CancelCall(uint64_t call);
  // A reload of the callables: new workers come from `template_process`
  // (whose callables the caller makes current in the registry). Workers of
  // the previous template finish what they run, then exit; that template
  // stops once its last worker is gone.
  void ReplaceTemplate(TemplateProcess template_process);
  // A snapshot of the counters, given to `done`: on the scheduler thread,
  // or at once on the calling thread with Unavailable once the scheduler
  // has stopped. `done` is called exactly once and must not block (it runs
  // on the thread that owns every worker).
  using StatusCallback = std::function<void(absl::StatusOr<v1::GetStatusResponse>)>;
  void GetStatus(StatusCallback done);

 private:
  // Queues a command for the loop; false (and dropped) once stopped.
  bool TryPost(std::function<void(SchedulerLoop&)> command);
  void Post(std::function<void(SchedulerLoop&)> command);

  SchedulerOptions options_;
  const CurrentRegistry* const registry_;
  // The scheduler thread's loop: its workers' and templates' sockets, the
  // commands posted here. Closed once the scheduler stops.
  EventLoop events_;
  std::unique_ptr<SchedulerLoop> loop_;
  std::thread thread_;
  std::atomic<uint64_t> next_call_id_{1};
  std::atomic<uint64_t> queued_items_{0};
  std::atomic<bool> loop_exited_{false};
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_SCHEDULER_H_
