// ReconnectReactor: the server side of Reconnect. Replays the stored
// outputs of one or more jobs after a sequence number, then follows the
// new ones as the JobManager stores them, until every job has ended (its
// final-state output has been sent). Reads the store itself; the
// JobManager only wakes it. Writes its responses serialized (the method is
// a raw one: see FarmService).
#ifndef PPROCD_SERVER_FRONT_RECONNECT_REACTOR_H_
#define PPROCD_SERVER_FRONT_RECONNECT_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

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

  // Starts streaming at once. `jobs` must outlive the call. Each message
  // carries up to `max_outputs_per_message` outputs (0 counts as 1).
  ReconnectReactor(JobManager* jobs, std::vector<Cursor> cursors,
                   uint32_t max_outputs_per_message = 1);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Sends the next output (or several, packed), reading more from the store
  // when none is buffered, or finishes once every job has ended.
  void PumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the next outputs of every job that has not ended, in turn.
  absl::Status RefillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  JobManager* const jobs_;
  const uint32_t max_outputs_per_message_;
  uint64_t watcher_ = 0;
  absl::Mutex mu_;
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
