// WorkerSlot: the scheduler's view of one worker process: its descriptors,
// the task it runs, the tail of what it printed, and why it was killed.
// Owned and used only by the scheduler thread.
#ifndef PPROCD_SERVER_SCHEDULER_WORKER_SLOT_H_
#define PPROCD_SERVER_SCHEDULER_WORKER_SLOT_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "base/framing.h"
#include "base/unique_fd.h"
#include "pprocd/wire/v1/wire.pb.h"
#include "server/scheduler/input_block.h"

namespace pprocd {

// A worker's life: kStarting (asked of the template) -> kIdle (its
// descriptors came) <-> kBusy (running a task); from kIdle it may end as
// kRetiring (asked to exit: its socket closed, the exit is expected and
// nobody replaces it on that account) or kExiting (its socket ended on its
// own: the template's WorkerExited settles the accounts). A busy worker
// whose socket ends stays kBusy until then. Changed only through
// WorkerSlot::MoveTo, which refuses any other step.
enum class WorkerState { kStarting, kIdle, kBusy, kExiting, kRetiring };

// Whether a worker may go from `from` to `to` (see WorkerState).
bool IsWorkerTransition(WorkerState from, WorkerState to);
// "starting", "idle", "busy", "exiting" (kExiting and kRetiring alike), as
// GetStatus shows a worker.
const char* WorkerStateName(WorkerState state);
// kCancelItems: some items of the task were cancelled one by one (the
// call's cancelled set names them); the others are run again.
enum class KillReason { kNone, kTimeout, kCancel, kCancelItems };

// The last lines of a worker's output, for crash reports.
class OutputTail {
 public:
  static constexpr size_t kKeepBytes = 4096;
  void Append(absl::string_view bytes);
  // The last `max_lines` complete or partial lines.
  std::string LastLines(int max_lines) const;

 private:
  std::string bytes_;
};

// The task a busy worker runs: set whole by SchedulerLoop::AssignTask, and
// emptied whole (WorkerSlot::EndTask) once its last item is reported.
struct WorkerTask {
  uint64_t id = 0;
  uint64_t call_id = 0;
  // Its inputs (runs of blocks, kept for requeue), each item's index in
  // its call, and how many items came back.
  std::vector<InputRun> runs;
  std::vector<uint64_t> indices;
  int reported = 0;
  bool report_each = false;
  // The callable is a channel callable; its channel takes input (Start).
  bool channel = false;
  bool channel_open = false;
  // The callable whose max_concurrent count this busy worker holds ("" =
  // none).
  std::string counted_callable;
  // Messages the running item has sent so far (its next result's seq).
  uint64_t item_seq = 0;
  // The call's result form and stats (TaskFrame.packed_results, item_stats).
  bool packed_results = false;
  v1::ItemStatsMode item_stats = v1::ITEM_STATS_PER_ITEM;
  // When the running item started (monotonic µs), and its timeout (0: none).
  uint64_t item_started_us = 0;
  uint32_t timeout_ms = 0;
};

struct WorkerSlot {
  uint64_t id = 0;
  // The generation of callables (template) it was forked from.
  uint64_t generation = 1;
  // For messages and results only: the server never signals a pid, since
  // the template reaps workers and a reaped pid may name another process
  // (kills go through the template: SchedulerLoop::Kill).
  pid_t pid = -1;
  // Read freely; changed only with MoveTo().
  WorkerState state = WorkerState::kStarting;
  UniqueFd task_fd;
  // Its stdout and stderr memory files (worker/output_capture.h).
  UniqueFd stdout_fd;
  UniqueFd stderr_fd;
  FrameReader reader;
  // Bytes of task frames not yet written (the socket is non-blocking).
  std::string outbox;
  bool want_writable = false;
  // The events its task socket is registered for in the loop's epoll set
  // (SchedulerLoop::UpdateWatch skips a registration that changes nothing).
  uint32_t watched_events = 0;
  // Not read while its call holds too many unsent results (a channel
  // callable that sends faster than the client reads): the worker then
  // blocks in its send, which bounds the server's memory.
  bool paused = false;

  // The task being run (state kBusy); empty when idle.
  WorkerTask task;

  KillReason kill_reason = KillReason::kNone;
  // A kill has been asked of the template (SchedulerLoop::Kill): once is
  // enough.
  bool kill_requested = false;

  // A FRESH worker runs one item of `fresh_call`, then retires.
  bool fresh = false;
  uint64_t fresh_call = 0;
  // Counted in the loop's FRESH processes (until its item is done).
  bool fresh_counted = false;
  // When it last became idle (monotonic µs): idle Python workers retire.
  uint64_t idle_since_us = 0;
  // Items this worker has finished (for --max-tasks-per-worker).
  uint64_t items_run = 0;
  // Moves to `next`; false (and no change) when WorkerState does not allow
  // that step, which the caller logs: it is a defect of the scheduler.
  bool MoveTo(WorkerState next);
  bool busy() const { return state == WorkerState::kBusy; }
  bool retiring() const { return state == WorkerState::kRetiring; }
  int unreported() const { return static_cast<int>(task.indices.size()) - task.reported; }
  // Empties the task (its last item was reported).
  void EndTask() { task = WorkerTask{}; }
  // Appends the TaskFrame of the current task to the outbox: its inputs are
  // the runs' JSON text, copied in as one array without parsing.
  // `limits` (may be null) go in the frame for a worker that applies them
  // itself (TaskFrame.limits).
  void QueueTaskFrame(const std::string& callable, const v1::CallableLimits* limits = nullptr);
  // The task's items [from, to) (offsets in the task) as runs.
  std::vector<InputRun> RunsOf(size_t from, size_t to) const;
  // Appends a frame of channel input for the running task.
  void QueueChannelInput(const std::vector<std::string>& messages, bool end);
  // The index (in its call) of the item running now.
  uint64_t current_index() const { return task.indices[static_cast<size_t>(task.reported)]; }
  // Writes as much of the outbox as the socket takes.
  absl::Status FlushOutbox();
};

// Appends one frame to `out_frames`: `header` serialized, followed by each
// of `fields` (already serialized) as a length-delimited field with `tag`.
// Splicing avoids parsing and re-serializing inputs the server only passes
// on.
void AppendSplicedFrame(const google::protobuf::MessageLite& header, uint32_t tag,
                        const std::vector<std::string>& fields, std::string* out_frames);

// "SIGSEGV" for 11, and so on; "signal N" when unknown.
std::string SignalName(int signal_number);

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_WORKER_SLOT_H_
