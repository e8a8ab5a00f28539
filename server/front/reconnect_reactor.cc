#include "server/front/reconnect_reactor.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/front/raw_message.h"
#include "server/front/status_convert.h"
#include "server/jobs/job_blocks.h"
#include "server/jobs/result_size.h"

namespace pprocd {
namespace {

// Outputs read per job per turn, so that several jobs interleave, and
// their bytes: a turn that reads little starts writing soon (a block
// holds many results).
constexpr int kOutputsPerRead = 256;
constexpr uint64_t kBytesPerRead = 256 << 10;
// Results of blocks buffered per job per turn when each goes out as one
// `result`: a turn stops inside a block past this, and the next one reads
// the block again from there.
constexpr uint64_t kItemsPerRead = 4096;
// A packed message takes no further output once it is this large.
constexpr size_t kPackedBytes = 1 << 20;
// What an output costs in `more` beyond its own size: field tag and length.
constexpr size_t kPackedEntryOverhead = 16;

}  // namespace

ReconnectReactor::ReconnectReactor(JobManager* jobs, uint32_t max_outputs_per_message, bool packed)
    : jobs_(jobs),
      max_outputs_per_message_(std::max<uint32_t>(1, max_outputs_per_message)),
      packed_(packed) {}

void ReconnectReactor::Begin(absl::StatusOr<std::vector<Cursor>> cursors) {
  absl::ReleasableMutexLock lock(&mu_);
  begun_ = true;
  if (done_) {
    // The call ended while its jobs were looked up: OnDone left it to us.
    lock.Release();
    delete this;
    return;
  }
  if (finished_) return;  // Cancelled meanwhile; OnDone follows.
  if (!cursors.ok()) return FinishLocked(ToGrpcStatus(cursors.status()));
  cursors_ = *std::move(cursors);
  // Registered before the first read: an output stored after that read
  // wakes the stream.
  watcher_ = jobs_->AddWatcher([this] {
    absl::MutexLock lock(&mu_);
    PumpLocked();
  });
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
  // A packed message never exceeds what the server may send: an output
  // joins it only if the whole still fits (each output alone does: the
  // job manager stores none larger).
  const size_t limit = std::min<size_t>(kPackedBytes, jobs_->max_message_bytes());
  size_t bytes = max_outputs_per_message_ > 1 ? writing_response_.ByteSizeLong() : 0;
  while (!buffered_.empty() &&
         static_cast<uint32_t>(writing_response_.more_size()) + 1 < max_outputs_per_message_) {
    const size_t next = buffered_.front().ByteSizeLong() + kPackedEntryOverhead;
    if (bytes + next > limit) break;
    bytes += next;
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
        jobs_->ReadOutputs(cursor.job_id, cursor.after, kOutputsPerRead, kBytesPerRead);
    if (!outputs.ok()) return outputs.status();
    if (outputs->empty()) {
      // Nothing newer: the job has ended if its last output is behind us
      // (after_seq may skip its final state).
      absl::StatusOr<JobRecord> job = jobs_->store().GetJob(cursor.job_id, /*with_request=*/false);
      if (!job.ok()) return job.status();
      if (IsFinished(job->state) && job->last_seq <= cursor.after) cursor.ended = true;
      continue;
    }
    uint64_t budget = kItemsPerRead;
    for (JobOutput& output : *outputs) {
      if (output.kind == OutputKind::kBlock) {
        absl::StatusOr<uint64_t> items = BufferBlockLocked(cursor, output, budget);
        if (!items.ok()) return items.status();
        budget -= std::min(budget, *items);
        if (budget == 0) break;  // The rest next turn.
        continue;
      }
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

absl::StatusOr<uint64_t> ReconnectReactor::BufferBlockLocked(Cursor& cursor,
                                                             const JobOutput& output,
                                                             uint64_t budget) {
  v1::ResultBlock block;
  if (!block.ParseFromString(output.payload) ||
      static_cast<int64_t>(block.count()) != output.count) {
    return absl::DataLossError(
        absl::StrCat("job ", cursor.job_id, ": stored output ", output.seq, " is unreadable"));
  }
  // Items of the block already sent (or skipped by after_seq).
  const uint32_t skip =
      static_cast<uint32_t>(std::clamp<int64_t>(cursor.after + 1 - output.seq, 0, output.count));
  if (skip == output.count) return 0;
  // A block stored under a larger --max-message-bytes than this server's
  // goes out item by item, each failing if it alone is too large.
  if (packed_ && output.payload.size() <= MaxSendableResultBytes(jobs_->max_message_bytes())) {
    v1::ReconnectResponse& response = buffered_.emplace_back();
    response.set_job_id(cursor.job_id);
    response.set_seq(static_cast<uint64_t>(output.seq + skip));
    if (skip == 0) {
      *response.mutable_block() = std::move(block);
    } else {
      absl::StatusOr<v1::ResultBlock> tail = BlockTail(block, skip);
      if (!tail.ok()) {
        buffered_.pop_back();
        return absl::Status(tail.status().code(),
                            absl::StrCat("job ", cursor.job_id, ": ", tail.status().message()));
      }
      *response.mutable_block() = *std::move(tail);
    }
    cursor.after = output.last_seq();
    return 0;
  }
  std::vector<v1::ItemResult> results;
  const absl::Status expanded =
      AppendBlockItems(block, skip, static_cast<uint32_t>(std::min<uint64_t>(budget, UINT32_MAX)),
                       jobs_->max_message_bytes(), &results);
  if (!expanded.ok()) {
    return absl::Status(expanded.code(),
                        absl::StrCat("job ", cursor.job_id, ": ", expanded.message()));
  }
  int64_t seq = output.seq + skip;
  for (v1::ItemResult& result : results) {
    v1::ReconnectResponse& response = buffered_.emplace_back();
    response.set_job_id(cursor.job_id);
    response.set_seq(static_cast<uint64_t>(seq++));
    *response.mutable_result() = std::move(result);
  }
  cursor.after = seq - 1;
  return results.size();
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
  uint64_t watcher = 0;
  {
    absl::MutexLock lock(&mu_);
    done_ = true;
    if (!begun_) return;  // Begin() deletes it.
    watcher = watcher_;
  }
  if (watcher != 0) jobs_->RemoveWatcher(watcher);
  delete this;
}

}  // namespace pprocd
