// The job manager's frame: opening, the job thread and its queue, the
// public calls' entry points, watchers and reads. The job thread's work is
// in job_calls.cc (the public calls) and job_runs.cc (running jobs).
#include "server/jobs/job_manager.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "google/protobuf/util/time_util.h"
#include "server/jobs/job_manager_internal.h"
#include "server/jobs/request_digest.h"
#include "server/jobs/result_size.h"

namespace pprocd {
namespace {

// What RecentOutputs holds per job: enough for watchers that keep up.
constexpr size_t kRecentOutputs = 2048;
constexpr uint64_t kRecentBytes = 1 << 20;

absl::Status Stopping() { return absl::UnavailableError("the server is shutting down"); }

// Replaces a stored result too large to send with TooLargeResult().
void FitResult(JobOutput& output, uint64_t max_result_bytes, uint64_t max_message_bytes) {
  if (output.kind != OutputKind::kResult || output.payload.size() <= max_result_bytes) return;
  v1::ItemResult result;
  (void)result.ParseFromString(output.payload);  // What parses is kept.
  output.payload =
      TooLargeResult(result, output.payload.size(), max_message_bytes).SerializeAsString();
}

// A stored time as a Timestamp. Our own writes are always in range; a
// damaged store or a wrong clock may hold a time past the year 9999, which
// protobuf's conversion refuses by ending the process: such a time is shown
// as the latest one a Timestamp can hold.
google::protobuf::Timestamp Stamp(int64_t micros) {
  constexpr int64_t kMaxTimestampMicros = int64_t{253402300799} * 1000000 + 999999;
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
      std::clamp<int64_t>(micros, 0, kMaxTimestampMicros));
}

}  // namespace

struct JobManager::Watcher {
  std::function<void()> wake;
  // Calls of `wake` in progress, and whether it was removed.
  int calling = 0;
  bool removed = false;
};

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Open(JobManagerOptions options,
                                                             Scheduler* scheduler,
                                                             const CurrentRegistry* registry) {
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(options.store);
  if (!store.ok()) return store.status();
  std::unique_ptr<JobManager> manager(
      new JobManager(std::move(options), *std::move(store), scheduler, registry));
  if (absl::Status ready = manager->events_.Init(); !ready.ok()) return ready;
  return manager;
}

JobManager::JobManager(JobManagerOptions options, std::unique_ptr<JobStore> store,
                       Scheduler* scheduler, const CurrentRegistry* registry)
    : options_(std::move(options)),
      store_(std::move(store)),
      scheduler_(scheduler),
      registry_(registry),
      max_result_bytes_(MaxSendableResultBytes(options_.max_message_bytes)),
      events_(*options_.clock),
      recent_(kRecentOutputs, kRecentBytes) {}

JobManager::~JobManager() { Stop(); }

void JobManager::Stop() {
  // The job thread closes the loop itself when its wait fails: it is
  // joined all the same.
  const bool closed_here = events_.Close();
  if (thread_.joinable()) {
    thread_.join();
    return;
  }
  if (!closed_here) return;  // Stopped before.
  // Never started: answer what was posted here.
  draining_ = true;
  events_.RunPosted();
}

bool JobManager::Post(std::function<void()> command) { return events_.Post(std::move(command)); }

void JobManager::PostCall(std::function<void()> run, std::function<void()> refuse) {
  if (!Post(std::move(run))) refuse();
}

void JobManager::After(absl::Duration delay, std::function<void()> command) {
  events_.After(delay, std::move(command));
}

void JobManager::Loop() {
  // The job thread watches no descriptor: posted commands and timers.
  const auto no_descriptors = [](uint64_t, uint32_t) {};
  while (!events_.closed()) {
    if (absl::Status waited = events_.RunOnce(-1, no_descriptors); !waited.ok()) {
      LogError("the job thread stops", {{"error", waited.ToString()}});
      events_.Close();
      break;
    }
    FlushOutputs();
    WakeWatchers();
  }
  // Results already here are stored; the jobs stay RUNNING for the next
  // start to take up, and their running items are killed.
  FlushOutputs();
  WakeWatchers();
  for (auto& [id, run] : runs_) scheduler_->CancelCall(run->call_id);
  runs_.clear();
  // Nothing is posted any more: what was, is answered.
  draining_ = true;
  events_.RunPosted();
}

// --- Asynchronous calls ---------------------------------------------------

void JobManager::SubmitAsync(const Caller& caller, const v1::SubmitRequest& request,
                             Done<absl::StatusOr<Submitted>> done,
                             std::shared_ptr<const InputBlock> packed_inputs) {
  // The request's copies and digests are made here, on the caller's thread.
  JobRecord record;
  record.owner_uid = caller.uid;
  record.name = request.name();
  record.idempotency_key = request.idempotency_key();
  record.callable = request.has_function() ? absl::StrCat(request.function().module(), ":",
                                                          request.function().qualname())
                                           : request.callable();
  record.state = JobState::kQueued;
  record.total = request.inputs_size();
  // The run works from the split block: its copy of the request goes
  // without packed_inputs (the stored copy has them).
  std::shared_ptr<v1::SubmitRequest> copy;
  if (request.options().packed()) {
    if (packed_inputs == nullptr) {
      // Checked by the front: a JSON array.
      absl::StatusOr<std::shared_ptr<const InputBlock>> split =
          PackedInputBlock(request.packed_inputs());
      packed_inputs = split.ok() ? *std::move(split) : EmptyInputBlock();
    }
    record.total = static_cast<int64_t>(packed_inputs->elements.size());
    if (request.packed_inputs().empty()) {
      copy = std::make_shared<v1::SubmitRequest>(request);
    } else {
      copy = std::make_shared<v1::SubmitRequest>();
      *copy = request;
      copy->clear_packed_inputs();
    }
    // The inputs are stored from the block, not copied after the rest.
    record.request = SerializeWithPackedInputsHead(*copy, packed_inputs->json.size());
    record.request_tail = packed_inputs->json;
  } else {
    copy = std::make_shared<v1::SubmitRequest>(request);
    record.request = SerializeDeterministic(request);
  }
  record.max_retries = request.retries();
  record.socket_path = request.socket_path();
  if (!record.idempotency_key.empty()) {
    RequestDigest digest =
        record.request_tail.empty()
            ? DigestRequest(record.request)
            : DigestRequest(absl::StrCat(
                  record.request,
                  absl::string_view(record.request_tail.data(), record.request_tail.size())));
    record.inputs_digest = std::move(digest.inputs);
    record.settings_digest = std::move(digest.settings);
  }
  auto shared_done = std::make_shared<Done<absl::StatusOr<Submitted>>>(std::move(done));
  auto shared_record = std::make_shared<JobRecord>(std::move(record));
  PostCall(
      [this, shared_record, copy, shared_done, packed_inputs] {
        if (draining_) return (*shared_done)(Stopping());
        (*shared_done)(DoSubmit(std::move(*shared_record), copy, packed_inputs));
      },
      [shared_done] { (*shared_done)(Stopping()); });
}

void JobManager::FindAsync(const Caller& caller, std::string id_or_name, bool with_request,
                           Done<absl::StatusOr<JobRecord>> done) {
  auto shared_done = std::make_shared<Done<absl::StatusOr<JobRecord>>>(std::move(done));
  PostCall(
      [this, caller, id_or_name = std::move(id_or_name), with_request, shared_done] {
        if (draining_) return (*shared_done)(Stopping());
        (*shared_done)(DoFind(caller, id_or_name, with_request));
      },
      [shared_done] { (*shared_done)(Stopping()); });
}

void JobManager::ListAsync(const Caller& caller, v1::ListJobsRequest request,
                           Done<absl::StatusOr<v1::ListJobsResponse>> done) {
  auto shared_done = std::make_shared<Done<absl::StatusOr<v1::ListJobsResponse>>>(std::move(done));
  PostCall(
      [this, caller, request = std::move(request), shared_done] {
        if (draining_) return (*shared_done)(Stopping());
        (*shared_done)(DoList(caller, request));
      },
      [shared_done] { (*shared_done)(Stopping()); });
}

void JobManager::CancelAsync(const Caller& caller, std::string id_or_name,
                             Done<absl::StatusOr<v1::Job>> done) {
  auto shared_done = std::make_shared<Done<absl::StatusOr<v1::Job>>>(std::move(done));
  PostCall(
      [this, caller, id_or_name = std::move(id_or_name), shared_done] {
        if (draining_) return (*shared_done)(Stopping());
        (*shared_done)(DoCancel(caller, id_or_name));
      },
      [shared_done] { (*shared_done)(Stopping()); });
}

void JobManager::DeleteAsync(const Caller& caller, std::string id_or_name,
                             Done<absl::Status> done) {
  auto shared_done = std::make_shared<Done<absl::Status>>(std::move(done));
  PostCall(
      [this, caller, id_or_name = std::move(id_or_name), shared_done] {
        if (draining_) return (*shared_done)(Stopping());
        (*shared_done)(DoDelete(caller, id_or_name));
      },
      [shared_done] { (*shared_done)(Stopping()); });
}

// --- Watchers and reads (any thread) --------------------------------------

uint64_t JobManager::AddWatcher(std::function<void()> wake) {
  auto watcher = std::make_shared<Watcher>();
  watcher->wake = std::move(wake);
  absl::MutexLock lock(&watchers_mu_);
  const uint64_t handle = next_watcher_++;
  watchers_[handle] = std::move(watcher);
  return handle;
}

void JobManager::RemoveWatcher(uint64_t handle) {
  absl::MutexLock lock(&watchers_mu_);
  auto found = watchers_.find(handle);
  if (found == watchers_.end()) return;
  std::shared_ptr<Watcher> watcher = std::move(found->second);
  watchers_.erase(found);
  watcher->removed = true;
  // A wake that removes its own watcher does not wait for itself.
  if (events_.OnLoopThread()) return;
  const auto idle = [&watcher]() { return watcher->calling == 0; };
  watchers_mu_.Await(absl::Condition(&idle));
}

void JobManager::WakeWatchers() {
  if (!outputs_stored_) return;
  outputs_stored_ = false;
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&watchers_mu_);
    watchers.reserve(watchers_.size());
    for (auto& [handle, watcher] : watchers_) watchers.push_back(watcher);
  }
  // Each is called with no lock held; `calling` keeps RemoveWatcher from
  // returning while its wake runs.
  for (const std::shared_ptr<Watcher>& watcher : watchers) {
    {
      absl::MutexLock lock(&watchers_mu_);
      if (watcher->removed) continue;
      ++watcher->calling;
    }
    watcher->wake();
    absl::MutexLock lock(&watchers_mu_);
    --watcher->calling;
  }
}

absl::StatusOr<std::vector<JobOutput>> JobManager::ReadOutputs(const std::string& job_id,
                                                               int64_t after_seq, int max_count,
                                                               uint64_t max_bytes) {
  if (max_count < 1) return store_->ReadOutputs(job_id, after_seq, max_count);
  std::optional<std::vector<JobOutput>> held =
      recent_.Read(job_id, after_seq, max_count, max_bytes);
  absl::StatusOr<std::vector<JobOutput>> outputs =
      held.has_value() ? *std::move(held)
                       : store_->ReadOutputs(job_id, after_seq, max_count, max_bytes);
  if (!outputs.ok()) return outputs;
  for (JobOutput& output : *outputs) {
    FitResult(output, max_result_bytes_, options_.max_message_bytes);
  }
  // A state not stored yet follows the last stored output.
  absl::MutexLock lock(&unsaved_mu_);
  auto unsaved = unsaved_.find(job_id);
  if (unsaved == unsaved_.end()) return outputs;
  const int64_t seq = unsaved->second.record.last_seq + 1;
  const int64_t last = outputs->empty() ? after_seq : outputs->back().last_seq();
  if (last == seq - 1 && static_cast<int>(outputs->size()) < max_count) {
    outputs->push_back(JobOutput{seq, unsaved->second.output.kind, unsaved->second.output.payload});
  }
  return outputs;
}

v1::Job JobManager::ToProto(const JobRecord& record) {
  v1::Job job;
  job.set_id(record.id);
  job.set_name(record.name);
  job.set_state(static_cast<v1::JobState>(record.state));
  job.set_items_done(static_cast<uint64_t>(record.done));
  job.set_items_total(static_cast<uint64_t>(record.total));
  if (record.create_micros > 0) *job.mutable_create_time() = Stamp(record.create_micros);
  if (record.start_micros > 0) *job.mutable_start_time() = Stamp(record.start_micros);
  if (record.end_micros > 0) *job.mutable_end_time() = Stamp(record.end_micros);
  job.set_callable(record.callable);
  job.set_error(record.error);
  job.set_attempts(static_cast<uint32_t>(record.attempts));
  job.set_max_retries(static_cast<uint32_t>(record.max_retries));
  job.set_last_seq(static_cast<uint64_t>(record.last_seq));
  job.set_owner_uid(record.owner_uid);
  job.set_socket_path(record.socket_path);
  return job;
}

}  // namespace pprocd
