// ReconnectReactor: the server side of Reconnect. Replays the stored
// outputs of one or more jobs after a sequence number, then follows the
// new ones as the JobManager stores them, until every job has ended (its
// final-state output has been sent). Reads the store itself; the
// JobManager only wakes it. Writes its responses serialized (the method is
// a raw one: see FarmService).
//
// A stored block of results (OutputKind::kBlock) goes to a packed reader
// (ReconnectRequest.packed) as one `block` output whose seq is its first
// item's, and to any other reader as one `result` output per item, as the
// Value form has them (see job_blocks.h). An after_seq inside a block
// starts with the rest of it: a block that carries only its items after
// after_seq (and without the block's totals, which stay with its first
// item), or the results of those items.
#ifndef PPROCD_SERVER_FRONT_RECONNECT_REACTOR_H_
#define PPROCD_SERVER_FRONT_RECONNECT_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "pprocd/v1/service.pb.h"
#include "server/jobs/job_manager.h"

namespace pprocd {

class ReconnectReactor : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  struct Cursor {
    std::string job_id;
    // The last seq sent (or skipped by after_seq).
    int64_t after = 0;
    bool ended = false;
  };

  // Waits for Begin(). `jobs` must outlive the call. Each message carries
  // up to `max_outputs_per_message` outputs (0 counts as 1). `packed`:
  // blocks go out as blocks.
  ReconnectReactor(JobManager* jobs, uint32_t max_outputs_per_message = 1, bool packed = false);

  // Starts streaming from `cursors` (the jobs named, once found), or
  // finishes with the error. Exactly once, from any thread (the job
  // manager's, or the handler's before it returns the reactor). If the call
  // ended before (the client cancelled), Begin deletes the reactor: nobody
  // may touch it after Begin returns unless the call is still running.
  void Begin(absl::StatusOr<std::vector<Cursor>> cursors) ABSL_LOCKS_EXCLUDED(mu_);

  void OnWriteDone(bool ok) ABSL_LOCKS_EXCLUDED(mu_) override;
  void OnCancel() ABSL_LOCKS_EXCLUDED(mu_) override;
  void OnDone() ABSL_LOCKS_EXCLUDED(mu_) override;

 private:
  // Sends the next output (or several, packed), reading more from the store
  // when none is buffered, or finishes once every job has ended.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the next outputs of every job that has not ended, in turn.
  absl::Status RefillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Buffers the items of a stored block after cursor.after: as one block
  // (returns 0), or one by one, up to `budget` of them (returns how many);
  // advances the cursor past those buffered.
  absl::StatusOr<uint64_t> BufferBlockLocked(Cursor& cursor, const JobOutput& output,
                                             uint64_t budget) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  JobManager* const jobs_;
  const uint32_t max_outputs_per_message_;
  const bool packed_;
  absl::Mutex mu_;
  // Set by Begin(); 0 until then, and when it finished the call at once.
  uint64_t watcher_ ABSL_GUARDED_BY(mu_) = 0;
  // Begin() has run; OnDone() has run (gRPC is done with the call).
  bool begun_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Cursor> cursors_ ABSL_GUARDED_BY(mu_);
  std::deque<v1::ReconnectResponse> buffered_ ABSL_GUARDED_BY(mu_);
  v1::ReconnectResponse writing_response_ ABSL_GUARDED_BY(mu_);
  // writing_response_ serialized, while it is written.
  grpc::ByteBuffer write_buffer_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_RECONNECT_REACTOR_H_
