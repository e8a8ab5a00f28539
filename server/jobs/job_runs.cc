// The job manager's running jobs: taking up jobs at start, attempts through
// the scheduler, storing their results and states. Job thread only, except
// Start(), which runs before the job thread exists.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "server/jobs/job_blocks.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_manager_internal.h"
#include "server/jobs/result_size.h"
#include "server/scheduler/call_sink.h"

namespace pprocd {
namespace {

// Inputs handed to the scheduler per WantInput.
constexpr int kInputsPerFeed = 1024;
// Inputs a new run gets before its request file is written (FeedInputsAhead).
constexpr int kInputsAhead = 16 * kInputsPerFeed;
// A progress snapshot is stored at most this often per job.
constexpr absl::Duration kProgressEvery = absl::Seconds(1);
constexpr uint32_t kDefaultBackoffMs = 1000;
// How long the recent outputs of an ended job stay for the watchers finishing it.
constexpr absl::Duration kRecentKeptAfterEnd = absl::Seconds(10);
// How often states that could not be stored are tried again, and a job
// whose row could not be read is tried again.
constexpr absl::Duration kRetryEvery = absl::Seconds(1);

}  // namespace

// The scheduler's view of a job's call: every event goes to the job thread.
class JobManager::Sink : public CallSink {
 public:
  Sink(JobManager* manager, std::string job_id) : manager_(manager), job_id_(std::move(job_id)) {}

  void Deliver(std::vector<ResultPiece> pieces) override {
    auto moved = std::make_shared<std::vector<ResultPiece>>(std::move(pieces));
    manager_->Post(
        [manager = manager_, id = job_id_, moved] { manager->Delivered(id, std::move(*moved)); });
  }
  void WantInput() override {
    manager_->Post([manager = manager_, id = job_id_] {
      auto run = manager->runs_.find(id);
      if (run != manager->runs_.end()) manager->FeedInputs(*run->second);
    });
  }
  void Finish(absl::Status status) override {
    manager_->Post(
        [manager = manager_, id = job_id_, status] { manager->CallFinished(id, status); });
  }

 private:
  JobManager* const manager_;
  const std::string job_id_;
};

bool MoveJob(JobRecord& record, JobState next) {
  if (!IsJobTransition(record.state, next)) {
    LogError(
        "defect: a job's state step was refused",
        {{"job", record.id}, {"from", JobStateName(record.state)}, {"to", JobStateName(next)}});
    return false;
  }
  record.state = next;
  return true;
}

void LogJobState(const JobRecord& record) {
  const bool bad = record.state == JobState::kFailed || record.state == JobState::kInterrupted;
  Log(bad ? LogLevel::kWarn : LogLevel::kInfo, "job state",
      {{"job", record.id},
       {"name", record.name},
       {"state", JobStateName(record.state)},
       {"owner", record.owner_uid},
       {"callable", record.callable},
       {"attempt", record.attempts},
       {"done", record.done},
       {"total", record.total},
       {"error", record.error}});
}

absl::Status JobManager::Start() {
  absl::StatusOr<std::vector<JobRecord>> unfinished = store_->UnfinishedJobs();
  if (!unfinished.ok()) return unfinished.status();
  const std::shared_ptr<const Registry> registry = registry_->Current();
  for (JobRecord& record : *unfinished) {
    if (record.state == JobState::kRunning) {
      // Its progress is what the store kept of the attempt (a block counts
      // its items). A channel callable's messages are stored as results
      // too: for those, the row.
      const CallableDef* def = registry->Find(record.callable);
      if (def != nullptr && !def->is_channel()) {
        absl::StatusOr<int64_t> stored = store_->CountResultsSinceLastState(record.id);
        if (!stored.ok()) return stored.status();
        record.done = *stored;
      }
      if (record.attempts <= record.max_retries) {
        MoveJob(record, JobState::kQueued);
        record.error = "the server stopped while it ran; running it again";
      } else {
        MoveJob(record, JobState::kInterrupted);
        record.error = "the server stopped while it ran";
        record.end_micros = NowMicros();
      }
      if (absl::Status stored = StoreState(record, OutputKind::kState); !stored.ok()) {
        return stored;
      }
    }
    if (record.state == JobState::kQueued) {
      Post([this, id = record.id] { StartAttempt(id); });
    }
  }
  PruneNowAndLater();
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

absl::Status JobManager::StoreState(JobRecord& record, OutputKind kind) {
  v1::Job snapshot = ToProto(record);
  snapshot.set_last_seq(static_cast<uint64_t>(record.last_seq + 1));
  NewOutput output{kind, snapshot.SerializeAsString()};
  absl::StatusOr<int64_t> seq = store_->UpdateJobWithOutput(record, output);
  if (!seq.ok()) return seq.status();
  record.last_seq = *seq;
  outputs_stored_ = true;
  std::vector<NewOutput> stored;
  stored.push_back(std::move(output));
  recent_.Add(record.id, *seq, std::move(stored));
  bool was_unsaved = false;
  {
    absl::MutexLock lock(&unsaved_mu_);
    was_unsaved = unsaved_.erase(record.id) > 0;
  }
  if (was_unsaved) LogInfo("a job's state is stored again", {{"job", record.id}});
  if (kind == OutputKind::kState) LogJobState(record);
  if (kind == OutputKind::kState && IsFinished(record.state)) {
    // Watchers still following it get its last outputs from memory a while.
    After(kRecentKeptAfterEnd, [this, id = record.id] { recent_.Drop(id); });
  }
  return absl::OkStatus();
}

bool JobManager::RecordState(JobRecord& record) {
  const absl::Status stored = StoreState(record, OutputKind::kState);
  if (stored.ok()) return true;
  if (!IsFinished(record.state)) {
    // Not run while the store says otherwise.
    MoveJob(record, JobState::kFailed);
    record.error = absl::StrCat("its state could not be stored: ", stored.message());
    record.end_micros = NowMicros();
  }
  v1::Job snapshot = ToProto(record);
  snapshot.set_last_seq(static_cast<uint64_t>(record.last_seq + 1));
  Unsaved unsaved{record, NewOutput{OutputKind::kState, snapshot.SerializeAsString()}};
  unsaved.record.request.clear();
  bool first = false;
  {
    absl::MutexLock lock(&unsaved_mu_);
    first = unsaved_.count(record.id) == 0;
    unsaved_[record.id] = std::move(unsaved);
  }
  if (first) {
    LogError(
        "a job's state could not be stored; trying again every second",
        {{"job", record.id}, {"state", JobStateName(record.state)}, {"error", stored.ToString()}});
  }
  outputs_stored_ = true;  // Its watchers get it from ReadOutputs.
  if (!retry_scheduled_) {
    retry_scheduled_ = true;
    After(kRetryEvery, [this] { RetryUnsaved(); });
  }
  return false;
}

void JobManager::RetryUnsaved() {
  retry_scheduled_ = false;
  std::vector<JobRecord> pending;
  {
    absl::MutexLock lock(&unsaved_mu_);
    for (const auto& [id, unsaved] : unsaved_) pending.push_back(unsaved.record);
  }
  for (JobRecord& record : pending) {
    const absl::Status stored = StoreState(record, OutputKind::kState);
    if (absl::IsNotFound(stored)) {
      absl::MutexLock lock(&unsaved_mu_);
      unsaved_.erase(record.id);  // Deleted meanwhile.
    }
  }
  absl::MutexLock lock(&unsaved_mu_);
  if (!unsaved_.empty()) {
    retry_scheduled_ = true;
    After(kRetryEvery, [this] { RetryUnsaved(); });
  }
}

void JobManager::StartAttempt(const std::string& job_id, std::shared_ptr<v1::SubmitRequest> request,
                              std::shared_ptr<const InputBlock> packed_inputs) {
  if (draining_ || runs_.count(job_id) > 0) return;
  absl::StatusOr<JobRecord> record = store_->GetJob(job_id, /*with_request=*/request == nullptr);
  if (!record.ok()) {
    if (absl::IsNotFound(record.status())) return;  // Deleted meanwhile.
    LogError("a job cannot start now; trying again",
             {{"job", job_id}, {"error", record.status().ToString()}});
    After(kRetryEvery,
          [this, job_id, request, packed_inputs] { StartAttempt(job_id, request, packed_inputs); });
    return;
  }
  Overlay(*record);
  if (IsFinished(record->state)) return;  // Cancelled meanwhile.
  auto run = std::make_unique<Run>();
  run->record = *std::move(record);
  run->last_progress = options_.clock->Now();
  JobRecord& job = run->record;
  const std::shared_ptr<const Registry> registry = registry_->Current();
  const CallableDef* def = nullptr;
  std::shared_ptr<const PythonTarget> python;
  if (request != nullptr) run->request.Swap(request.get());
  const bool readable =
      request != nullptr || (!job.request_unreadable && run->request.ParseFromString(job.request));
  job.request.clear();  // The run works from the parsed copy.
  if (!readable) {
    job.error = "its stored request cannot be read";
  } else if (run->request.has_function()) {
    // The module as it is on disk now: a restart may run a newer one.
    absl::StatusOr<std::shared_ptr<const PythonTarget>> target =
        PythonTargetFrom(run->request.function());
    if (target.ok()) {
      python = *std::move(target);
    } else {
      job.error = absl::StrCat("its Python function cannot run: ", target.status().message());
    }
  } else if ((def = registry->Find(run->request.callable())) == nullptr) {
    job.error =
        absl::StrCat("callable ", Quote(run->request.callable()), " is no longer registered");
  }
  if (def != nullptr && def->python != nullptr) {
    absl::StatusOr<std::shared_ptr<const PythonTarget>> target = StampedNow(*def->python);
    if (target.ok()) {
      python = *std::move(target);
    } else {
      job.error = std::string(target.status().message());
      def = nullptr;
    }
  }
  if (def == nullptr && python == nullptr) {
    if (!MoveJob(job, JobState::kFailed)) return;
    job.end_micros = NowMicros();
    RecordState(job);  // If not stored: kept, and tried again.
    return;
  }
  run->channel = python != nullptr ? python->channel : def->is_channel();
  if (!MoveJob(job, JobState::kRunning)) return;
  job.attempts += 1;
  job.start_micros = NowMicros();
  job.done = 0;
  if (!RecordState(job)) return;  // It ended FAILED.
  v1::CallOptions options = run->request.options();
  if (packed_inputs != nullptr) {
    run->packed_inputs = std::move(packed_inputs);
  } else if (run->request.options().packed()) {
    absl::StatusOr<std::shared_ptr<const InputBlock>> block =
        PackedInputBlock(std::move(*run->request.mutable_packed_inputs()));
    // Checked at Submit; a stored request that no longer splits runs none.
    run->packed_inputs = block.ok() ? *block : EmptyInputBlock();
  }
  run->request.clear_packed_inputs();  // The run works from the split block.
  options.set_expected_inputs(static_cast<uint64_t>(run->total_inputs()));
  // Whatever the form of its request, the job's call is packed: its
  // successful results come, and are stored, as blocks. A job of the Value
  // form keeps the stats its readers get today: per item.
  if (!options.packed() && options.item_stats() == v1::ITEM_STATS_UNSPECIFIED) {
    options.set_item_stats(v1::ITEM_STATS_PER_ITEM);
  }
  options.set_packed(true);
  absl::StatusOr<uint64_t> call = scheduler_->OpenCall(
      run->request.has_function() ? python->DisplayName() : run->request.callable(), options,
      run->request.ordered() ? CallOrder::kInputOrder : CallOrder::kCompletionOrder,
      std::make_shared<Sink>(this, job_id), python);
  if (!call.ok()) return;  // Stopping: the job stays RUNNING for the next start.
  run->call_id = *call;
  Run& started = *run;
  runs_[job_id] = std::move(run);
  FeedInputs(started);
}

void JobManager::FeedInputsAhead(const std::string& job_id) {
  auto found = runs_.find(job_id);
  if (found == runs_.end()) return;
  Run& run = *found->second;
  while (!run.inputs_ended && !run.cancelled && run.next_input < kInputsAhead) {
    const int before = run.next_input;
    FeedInputs(run);
    if (run.next_input == before) return;  // The server's queue is full.
  }
}

void JobManager::FeedInputs(Run& run) {
  if (run.inputs_ended || run.cancelled) return;
  const int total = run.total_inputs();
  const int count = std::min(kInputsPerFeed, total - run.next_input);
  if (count > 0 && !scheduler_->ReserveQueued(static_cast<uint64_t>(count))) {
    // The server's queue is full: offer them again shortly.
    After(absl::Milliseconds(50), [this, id = run.record.id] {
      auto found = runs_.find(id);
      if (found != runs_.end()) FeedInputs(*found->second);
    });
    return;
  }
  if (run.packed_inputs != nullptr) {
    scheduler_->AddInputs(run.call_id, run.packed_inputs, static_cast<uint32_t>(run.next_input),
                          static_cast<uint32_t>(run.next_input + count));
  } else {
    scheduler_->AddInputs(
        run.call_id, ValueInputBlock(run.request.inputs(), run.next_input, run.next_input + count));
  }
  run.next_input += count;
  if (run.next_input == total) {
    run.inputs_ended = true;
    scheduler_->EndInputs(run.call_id);
  }
}

void JobManager::Delivered(const std::string& job_id, std::vector<ResultPiece> pieces) {
  auto found = runs_.find(job_id);
  if (found == runs_.end()) return;
  Run& run = *found->second;
  if (run.cancelled || !run.store_error.ok()) return;
  if (run.pending.empty()) {
    run.pending = std::move(pieces);
    return;
  }
  for (ResultPiece& piece : pieces) run.pending.push_back(std::move(piece));
}

void JobManager::FlushOutputs() {
  for (auto& [id, run_ptr] : runs_) {
    Run& run = *run_ptr;
    if (run.pending.empty()) continue;
    // The row's progress goes with the results it counts.
    const int64_t done_before = run.record.done;
    uint64_t failed = 0;
    // The weight of the pieces stored, for the call's window.
    uint64_t weight = 0;
    std::vector<NewOutput> outputs;
    outputs.reserve(run.pending.size());
    for (ResultPiece& piece : run.pending) {
      weight += piece.weight();
      if (piece.block != nullptr) {
        run.record.done += piece.block->count();
        failed += AppendBlockOutputs(std::move(*piece.block), options_.max_message_bytes, &outputs);
        continue;
      }
      const v1::ItemResult& result = *piece.result;
      NewOutput& output = outputs.emplace_back();
      output.kind = OutputKind::kResult;
      result.SerializeToString(&output.payload);
      bool item_failed = result.has_error();
      if (output.payload.size() > max_result_bytes_) {
        output.payload = TooLargeResult(result, output.payload.size(), options_.max_message_bytes)
                             .SerializeAsString();
        item_failed = true;
      }
      if (!run.channel || result.last()) {
        ++run.record.done;
        if (item_failed) ++failed;
      }
    }
    run.pending.clear();
    int64_t seqs = 0;
    for (const NewOutput& output : outputs) seqs += output.count;
    absl::StatusOr<int64_t> first = store_->UpdateJobWithOutputs(run.record, outputs);
    if (!first.ok()) {
      // Full (or failing) store: the job fails; its call is cancelled.
      run.record.done = done_before;
      run.store_error = first.status();
      scheduler_->CancelCall(run.call_id);
      continue;
    }
    run.failed += failed;
    run.record.last_seq = *first + seqs - 1;
    recent_.Add(id, *first, std::move(outputs));
    scheduler_->ResultsSent(run.call_id, weight);
    outputs_stored_ = true;
    if (const absl::Time now = options_.clock->Now(); now - run.last_progress >= kProgressEvery) {
      run.last_progress = now;
      const absl::Status progress = StoreState(run.record, OutputKind::kProgress);
      if (!progress.ok() && !run.progress_failure_logged) {
        // Skipped: the row and the results were stored together.
        run.progress_failure_logged = true;
        LogWarn("a job's progress snapshot could not be stored",
                {{"job", id}, {"error", progress.ToString()}});
      }
    }
  }
}

void JobManager::CallFinished(const std::string& job_id, absl::Status status) {
  FlushOutputs();
  auto found = runs_.find(job_id);
  if (found == runs_.end()) return;
  std::unique_ptr<Run> run = std::move(found->second);
  runs_.erase(found);
  if (run->cancelled) return;  // CancelRun recorded the final state.
  // The scheduler stopped under the job: it stays RUNNING, and the next
  // start takes it up.
  if (absl::IsUnavailable(status) && run->store_error.ok()) return;
  JobRecord& job = run->record;
  std::string attempt_error;
  if (!run->store_error.ok()) {
    MoveJob(job, JobState::kFailed);
    job.error = absl::StrCat("its outputs could not be stored: ", run->store_error.message());
  } else if (!status.ok()) {
    attempt_error = std::string(status.message());
  } else if (run->failed > 0) {
    attempt_error = absl::StrCat(run->failed, " of ", job.total, " items failed");
  }
  if (!attempt_error.empty() && job.attempts <= job.max_retries) {
    const uint32_t base =
        run->request.retry_backoff_ms() > 0 ? run->request.retry_backoff_ms() : kDefaultBackoffMs;
    const absl::Duration delay =
        absl::Milliseconds(base) * (int64_t{1} << std::min<int64_t>(job.attempts - 1, 20));
    MoveJob(job, JobState::kQueued);
    job.error = absl::StrCat(attempt_error, "; running it again in ", absl::FormatDuration(delay));
    // Not stored: it ended FAILED instead, and does not run again.
    if (RecordState(job)) After(delay, [this, job_id] { StartAttempt(job_id); });
    return;
  }
  if (!attempt_error.empty()) {
    MoveJob(job, JobState::kFailed);
    job.error = attempt_error;
  } else if (run->store_error.ok()) {
    MoveJob(job, JobState::kSucceeded);
    job.error.clear();
  }
  job.end_micros = NowMicros();
  RecordState(job);  // If not stored: kept, and tried again.
}

void JobManager::CancelRun(const std::string& job_id) {
  auto found = runs_.find(job_id);
  JobRecord record;
  if (found != runs_.end()) {
    Run& run = *found->second;
    FlushOutputs();
    run.cancelled = true;
    scheduler_->CancelCall(run.call_id);
    record = run.record;
  } else {
    absl::StatusOr<JobRecord> stored = store_->GetJob(job_id, /*with_request=*/false);
    if (!stored.ok()) return;
    Overlay(*stored);
    if (IsFinished(stored->state)) return;
    record = *std::move(stored);
  }
  if (!MoveJob(record, JobState::kCancelled)) return;
  record.error = "cancelled";
  record.end_micros = NowMicros();
  RecordState(record);  // If not stored: kept, and tried again.
}

}  // namespace pprocd
