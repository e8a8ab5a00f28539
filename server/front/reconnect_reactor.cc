#include "server/front/reconnect_reactor.h"

#include <algorithm>
#include <utility>

#include "server/front/raw_message.h"
#include "server/front/status_convert.h"

namespace pprocd {
namespace {

// Outputs read per job per turn, so that several jobs interleave.
constexpr int kOutputsPerRead = 256;
// A packed message takes no further output once it is this large.
constexpr size_t kPackedBytes = 1 << 20;

}  // namespace

ReconnectReactor::ReconnectReactor(JobManager* jobs, std::vector<Cursor> cursors,
                                   uint32_t max_outputs_per_message)
    : jobs_(jobs),
      max_outputs_per_message_(std::max<uint32_t>(1, max_outputs_per_message)),
      cursors_(std::move(cursors)) {
  // Registered before the first read: an output stored after that read
  // wakes the stream.
  watcher_ = jobs_->AddWatcher([this] {
    absl::MutexLock lock(&mu_);
    PumpLocked();
  });
  absl::MutexLock lock(&mu_);
  PumpLocked();
}

void ReconnectReactor::PumpLocked() {
  if (writing_ || finished_) return;
  if (buffered_.empty()) {
    if (absl::Status read = RefillLocked(); !read.ok()) return FinishLocked(ToGrpcStatus(read));
  }
  if (buffered_.empty()) {
    bool all_ended = true;
    for (const Cursor& cursor : cursors_) all_ended = all_ended && cursor.ended;
    if (all_ended) FinishLocked(grpc::Status::OK);
    return;  // Otherwise the JobManager wakes us when more is stored.
  }
  writing_response_ = std::move(buffered_.front());
  buffered_.pop_front();
  size_t bytes = max_outputs_per_message_ > 1 ? writing_response_.ByteSizeLong() : 0;
  while (!buffered_.empty() &&
         static_cast<uint32_t>(writing_response_.more_size()) + 1 < max_outputs_per_message_ &&
         bytes < kPackedBytes) {
    bytes += buffered_.front().ByteSizeLong();
    *writing_response_.add_more() = std::move(buffered_.front());
    buffered_.pop_front();
  }
  const absl::Status serialized = SerializeResponse(writing_response_, &write_buffer_);
  if (!serialized.ok()) return FinishLocked(ToGrpcStatus(serialized));
  writing_ = true;
  StartWrite(&write_buffer_);
}

absl::Status ReconnectReactor::RefillLocked() {
  for (Cursor& cursor : cursors_) {
    if (cursor.ended) continue;
    absl::StatusOr<std::vector<JobOutput>> outputs =
        jobs_->ReadOutputs(cursor.job_id, cursor.after, kOutputsPerRead);
    if (!outputs.ok()) return outputs.status();
    if (outputs->empty()) {
      // Nothing newer: the job has ended if its last output is behind us
      // (after_seq may skip its final state).
      absl::StatusOr<JobRecord> job = jobs_->store().GetJob(cursor.job_id, /*with_request=*/false);
      if (!job.ok()) return job.status();
      if (IsFinished(job->state) && job->last_seq <= cursor.after) cursor.ended = true;
      continue;
    }
    for (JobOutput& output : *outputs) {
      v1::ReconnectResponse response;
      response.set_job_id(cursor.job_id);
      response.set_seq(static_cast<uint64_t>(output.seq));
      cursor.after = output.seq;
      bool parsed = false;
      if (output.kind == OutputKind::kResult) {
        parsed = response.mutable_result()->ParseFromString(output.payload);
      } else {
        parsed = response.mutable_job()->ParseFromString(output.payload);
        response.set_progress(output.kind == OutputKind::kProgress);
        if (parsed && output.kind == OutputKind::kState &&
            IsFinished(static_cast<JobState>(response.job().state()))) {
          cursor.ended = true;
        }
      }
      if (!parsed) {
        return absl::DataLossError(
            absl::StrCat("job ", cursor.job_id, ": stored output ", output.seq, " is unreadable"));
      }
      buffered_.push_back(std::move(response));
    }
  }
  return absl::OkStatus();
}

void ReconnectReactor::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void ReconnectReactor::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) return FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the stream broke"));
  PumpLocked();
}

void ReconnectReactor::OnCancel() {
  absl::MutexLock lock(&mu_);
  FinishLocked(grpc::Status::CANCELLED);
}

void ReconnectReactor::OnDone() {
  jobs_->RemoveWatcher(watcher_);
  delete this;
}

}  // namespace pprocd
