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
#include "pprocd/wire/v1/wire.pb.h"
#include "worker/base/unique_fd.h"
#include "worker/framing.h"

namespace pprocd {

enum class WorkerState { kStarting, kIdle, kBusy, kExiting };
enum class KillReason { kNone, kTimeout, kCancel, kShutdown };

// The last bytes a worker wrote to stdout/stderr, for crash reports.
class OutputTail {
 public:
  static constexpr size_t kKeepBytes = 4096;
  void Append(absl::string_view bytes);
  // The last `max_lines` complete or partial lines.
  std::string LastLines(int max_lines) const;

 private:
  std::string bytes_;
};

struct WorkerSlot {
  uint64_t id = 0;
  pid_t pid = -1;
  WorkerState state = WorkerState::kStarting;
  UniqueFd task_fd;
  UniqueFd output_fd;
  FrameReader reader;
  // Bytes of task frames not yet written (the socket is non-blocking).
  std::string outbox;
  bool want_writable = false;

  // The task being run (state kBusy): its id and flags, its inputs (each a
  // serialized google.protobuf.Value, kept for requeue), each item's index
  // in its call, and how many results came back.
  uint64_t task_id = 0;
  bool report_each = false;
  std::vector<std::string> inputs;
  std::vector<uint64_t> indices;
  uint64_t call_id = 0;
  int reported = 0;
  uint64_t item_started_us = 0;
  uint32_t timeout_ms = 0;

  KillReason kill_reason = KillReason::kNone;
  OutputTail tail;

  // A FRESH worker runs one item of `fresh_call`, then retires.
  bool fresh = false;
  uint64_t fresh_call = 0;
  // Items this worker has finished (for --max-tasks-per-worker).
  uint64_t items_run = 0;
  // Asked to exit (its socket closed) after its last item: its exit is
  // expected and nobody replaces it on that account.
  bool retiring = false;

  bool busy() const { return state == WorkerState::kBusy; }
  int unreported() const { return static_cast<int>(inputs.size()) - reported; }
  // Appends the TaskFrame of the current task to the outbox, splicing the
  // already-serialized inputs in without parsing them again.
  void QueueTaskFrame(const std::string& callable);
  // Writes as much of the outbox as the socket takes.
  absl::Status FlushOutbox();
  // Sends SIGKILL to the worker's process group and records why.
  void Kill(KillReason reason);
};

// "SIGSEGV" for 11, and so on; "signal N" when unknown.
std::string SignalName(int signal_number);

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_WORKER_SLOT_H_
