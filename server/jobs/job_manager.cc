#include "server/jobs/job_manager.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "google/protobuf/util/time_util.h"
#include "server/scheduler/call_sink.h"

namespace pprocd {
namespace {

// Inputs handed to the scheduler per WantInput.
constexpr int kInputsPerFeed = 1024;
// A progress snapshot is stored at most this often per job.
constexpr absl::Duration kProgressEvery = absl::Seconds(1);
constexpr uint32_t kDefaultBackoffMs = 1000;
// What RecentOutputs holds per job: enough for watchers that keep up.
constexpr size_t kRecentOutputs = 2048;
constexpr uint64_t kRecentBytes = 1 << 20;
// How long the recent outputs of an ended job stay for the watchers finishing it.
constexpr absl::Duration kRecentKeptAfterEnd = absl::Seconds(10);
// ReadOutputs() returns no more once the payloads reach this (the first
// output always comes).
constexpr uint64_t kReadBytes = 64 << 20;

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

google::protobuf::Timestamp Stamp(int64_t micros) {
  return google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(micros);
}

void LogLine(const std::string& line) { std::fprintf(stderr, "pprocd: %s\n", line.c_str()); }

}  // namespace

// One attempt of a job, on the job thread.
struct JobManager::Run {
  JobRecord record;
  v1::SubmitRequest request;
  bool channel = false;
  uint64_t call_id = 0;
  int next_input = 0;
  bool inputs_ended = false;
  // CancelJob: the final state is stored; later results are dropped.
  bool cancelled = false;
  // The store refused the job's outputs (full): why.
  absl::Status store_error;
  uint64_t failed = 0;
  std::vector<std::unique_ptr<v1::ItemResult>> pending;
  absl::Time last_progress = absl::Now();
};

// The scheduler's view of a job's call: every event goes to the job thread.
class JobManager::Sink : public CallSink {
 public:
  Sink(JobManager* manager, std::string job_id) : manager_(manager), job_id_(std::move(job_id)) {}

  void Deliver(std::vector<ResultPtr> results) override {
    auto moved = std::make_shared<std::vector<ResultPtr>>(std::move(results));
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

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Open(JobManagerOptions options,
                                                             Scheduler* scheduler,
                                                             const CurrentRegistry* registry) {
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(options.store);
  if (!store.ok()) return store.status();
  return std::unique_ptr<JobManager>(
      new JobManager(std::move(options), *std::move(store), scheduler, registry));
}

JobManager::JobManager(JobManagerOptions options, std::unique_ptr<JobStore> store,
                       Scheduler* scheduler, const CurrentRegistry* registry)
    : options_(std::move(options)),
      store_(std::move(store)),
      scheduler_(scheduler),
      registry_(registry),
      recent_(kRecentOutputs, kRecentBytes) {}

JobManager::~JobManager() { Stop(); }

absl::Status JobManager::Start() {
  absl::StatusOr<std::vector<JobRecord>> unfinished = store_->UnfinishedJobs();
  if (!unfinished.ok()) return unfinished.status();
  for (JobRecord& record : *unfinished) {
    if (record.state == JobState::kRunning) {
      if (record.attempts <= record.max_retries) {
        record.state = JobState::kQueued;
        record.error = "the server stopped while it ran; running it again";
      } else {
        record.state = JobState::kInterrupted;
        record.error = "the server stopped while it ran";
        record.end_micros = NowMicros();
      }
      if (absl::Status stored = RecordState(record, OutputKind::kState); !stored.ok()) {
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

void JobManager::PruneNowAndLater() {
  absl::StatusOr<std::vector<std::string>> pruned = store_->PruneFinished(absl::Now());
  if (!pruned.ok()) LogLine(absl::StrCat("pruning ended jobs: ", pruned.status().ToString()));
  if (pruned.ok()) {
    for (const std::string& id : *pruned) Removed(id);
  }
  After(options_.prune_every, [this] { PruneNowAndLater(); });
}

void JobManager::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void JobManager::Post(std::function<void()> command) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  posted_.push_back(std::move(command));
}

void JobManager::After(absl::Duration delay, std::function<void()> command) {
  timers_.emplace(absl::Now() + delay, std::move(command));
}

void JobManager::Loop() {
  while (true) {
    std::vector<std::function<void()>> commands;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time next = timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first;
      const auto ready = [this] { return !posted_.empty() || stopping_; };
      mu_.AwaitWithDeadline(absl::Condition(&ready), next);
      if (stopping_) break;
      commands.swap(posted_);
    }
    for (auto& command : commands) command();
    while (!timers_.empty() && timers_.begin()->first <= absl::Now()) {
      std::function<void()> due = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      due();
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
}

absl::Status JobManager::RecordState(JobRecord& record, OutputKind kind) {
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
  if (kind == OutputKind::kState && IsFinished(record.state)) {
    // Watchers still following it get its last outputs from memory a while.
    After(kRecentKeptAfterEnd, [this, id = record.id] { recent_.Drop(id); });
  }
  return absl::OkStatus();
}

// --- Job thread ----------------------------------------------------------

void JobManager::StartAttempt(const std::string& job_id,
                              std::shared_ptr<v1::SubmitRequest> request) {
  if (runs_.count(job_id) > 0) return;
  absl::StatusOr<JobRecord> record = store_->GetJob(job_id, /*with_request=*/request == nullptr);
  if (!record.ok() || IsFinished(record->state)) return;  // Deleted or cancelled meanwhile.
  auto run = std::make_unique<Run>();
  run->record = *std::move(record);
  JobRecord& job = run->record;
  const std::shared_ptr<const Registry> registry = registry_->Current();
  const CallableDef* def = nullptr;
  if (request != nullptr) run->request.Swap(request.get());
  const bool readable = request != nullptr || run->request.ParseFromString(job.request);
  job.request.clear();  // The run works from the parsed copy.
  if (!readable) {
    job.error = "its stored request cannot be read";
  } else if ((def = registry->Find(run->request.callable())) == nullptr) {
    job.error = absl::StrCat("callable ", run->request.callable(), " is no longer registered");
  }
  if (def == nullptr) {
    job.state = JobState::kFailed;
    job.end_micros = NowMicros();
    (void)RecordState(job, OutputKind::kState);
    return;
  }
  run->channel = def->is_channel();
  job.attempts += 1;
  job.state = JobState::kRunning;
  job.start_micros = NowMicros();
  job.done = 0;
  if (absl::Status stored = RecordState(job, OutputKind::kState); !stored.ok()) {
    LogLine(absl::StrCat("job ", job_id, ": ", stored.ToString()));
    return;
  }
  v1::CallOptions options = run->request.options();
  options.set_expected_inputs(static_cast<uint64_t>(run->request.inputs_size()));
  absl::StatusOr<uint64_t> call = scheduler_->OpenCall(
      run->request.callable(), options,
      run->request.ordered() ? CallOrder::kInputOrder : CallOrder::kCompletionOrder,
      std::make_shared<Sink>(this, job_id));
  if (!call.ok()) return;  // Stopping: the job stays RUNNING for the next start.
  run->call_id = *call;
  Run& started = *run;
  runs_[job_id] = std::move(run);
  FeedInputs(started);
}

void JobManager::FeedInputs(Run& run) {
  if (run.inputs_ended || run.cancelled) return;
  const int total = run.request.inputs_size();
  const int count = std::min(kInputsPerFeed, total - run.next_input);
  if (count > 0 && !scheduler_->ReserveQueued(static_cast<uint64_t>(count))) {
    // The server's queue is full: offer them again shortly.
    After(absl::Milliseconds(50), [this, id = run.record.id] {
      auto found = runs_.find(id);
      if (found != runs_.end()) FeedInputs(*found->second);
    });
    return;
  }
  std::vector<std::string> inputs(static_cast<size_t>(count));
  for (int i = 0; i < count; ++i) {
    run.request.inputs(run.next_input + i).SerializeToString(&inputs[static_cast<size_t>(i)]);
  }
  run.next_input += count;
  scheduler_->AddInputs(run.call_id, std::move(inputs));
  if (run.next_input == total) {
    run.inputs_ended = true;
    scheduler_->EndInputs(run.call_id);
  }
}

void JobManager::Delivered(const std::string& job_id,
                           std::vector<std::unique_ptr<v1::ItemResult>> results) {
  auto found = runs_.find(job_id);
  if (found == runs_.end()) return;
  Run& run = *found->second;
  if (run.cancelled || !run.store_error.ok()) return;
  for (auto& result : results) {
    if (!run.channel || result->last()) {
      ++run.record.done;
      if (result->has_error()) ++run.failed;
    }
    run.pending.push_back(std::move(result));
  }
}

void JobManager::FlushOutputs() {
  for (auto& [id, run_ptr] : runs_) {
    Run& run = *run_ptr;
    if (run.pending.empty()) continue;
    std::vector<NewOutput> outputs;
    outputs.reserve(run.pending.size());
    for (const auto& result : run.pending) {
      outputs.push_back(NewOutput{OutputKind::kResult, result->SerializeAsString()});
    }
    const uint64_t count = run.pending.size();
    run.pending.clear();
    absl::StatusOr<int64_t> first = store_->AppendOutputs(id, outputs);
    if (!first.ok()) {
      // Full (or failing) store: the job fails; its call is cancelled.
      run.store_error = first.status();
      scheduler_->CancelCall(run.call_id);
      continue;
    }
    run.record.last_seq = *first + static_cast<int64_t>(count) - 1;
    recent_.Add(id, *first, std::move(outputs));
    scheduler_->ResultsSent(run.call_id, count);
    outputs_stored_ = true;
    if (absl::Now() - run.last_progress >= kProgressEvery) {
      run.last_progress = absl::Now();
      (void)RecordState(run.record, OutputKind::kProgress);
    }
  }
}

void JobManager::CallFinished(const std::string& job_id, absl::Status status) {
  FlushOutputs();
  auto found = runs_.find(job_id);
  if (found == runs_.end()) return;
  std::unique_ptr<Run> run = std::move(found->second);
  runs_.erase(found);
  if (run->cancelled) return;  // CancelRun stored the final state.
  // The scheduler stopped under the job: it stays RUNNING, and the next
  // start takes it up.
  if (absl::IsUnavailable(status) && run->store_error.ok()) return;
  JobRecord& job = run->record;
  std::string attempt_error;
  if (!run->store_error.ok()) {
    job.state = JobState::kFailed;
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
    job.state = JobState::kQueued;
    job.error = absl::StrCat(attempt_error, "; running it again in ", absl::FormatDuration(delay));
    (void)RecordState(job, OutputKind::kState);
    After(delay, [this, job_id] { StartAttempt(job_id); });
    return;
  }
  if (!attempt_error.empty()) {
    job.state = JobState::kFailed;
    job.error = attempt_error;
  } else if (run->store_error.ok()) {
    job.state = JobState::kSucceeded;
    job.error.clear();
  }
  job.end_micros = NowMicros();
  (void)RecordState(job, OutputKind::kState);
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
    if (!stored.ok() || IsFinished(stored->state)) return;
    record = *std::move(stored);
  }
  record.state = JobState::kCancelled;
  record.error = "cancelled";
  record.end_micros = NowMicros();
  (void)RecordState(record, OutputKind::kState);
}

void JobManager::WakeWatchers() {
  if (!outputs_stored_) return;
  outputs_stored_ = false;
  absl::MutexLock lock(&mu_);
  for (auto& [handle, wake] : watchers_) wake();
}

// --- Any thread ----------------------------------------------------------

absl::StatusOr<v1::Job> JobManager::Submit(const Caller& caller, const v1::SubmitRequest& request,
                                           bool* existing) {
  JobRecord record;
  record.owner_uid = caller.uid;
  record.name = request.name();
  record.idempotency_key = request.idempotency_key();
  record.callable = request.callable();
  record.state = JobState::kQueued;
  record.total = request.inputs_size();
  record.max_retries = request.retries();
  record.socket_path = request.socket_path();
  record.request = request.SerializeAsString();
  absl::StatusOr<JobStore::Created> created = store_->CreateJob(std::move(record));
  if (!created.ok()) return created.status();
  if (existing != nullptr) *existing = created->existing;
  if (!created->existing) {
    auto copy = std::make_shared<v1::SubmitRequest>(request);
    Post([this, id = created->job.id, copy] { StartAttempt(id, copy); });
  }
  return ToProto(created->job);
}

absl::StatusOr<JobRecord> JobManager::Find(const Caller& caller, const std::string& id_or_name,
                                           bool with_request) {
  if (id_or_name.empty()) return absl::InvalidArgumentError("job: name a job by its id or name");
  absl::StatusOr<JobRecord> record = store_->FindJobByName(caller.uid, id_or_name, with_request);
  if (!record.ok() && absl::IsNotFound(record.status())) {
    record = store_->GetJob(id_or_name, with_request);
  }
  if (!record.ok()) {
    if (absl::IsNotFound(record.status())) {
      return absl::NotFoundError(absl::StrCat("no job '", id_or_name, "'"));
    }
    return record.status();
  }
  if (!caller.admin && record->owner_uid != caller.uid) {
    return absl::PermissionDeniedError(
        absl::StrCat("job ", id_or_name, " belongs to another user"));
  }
  return record;
}

absl::StatusOr<v1::ListJobsResponse> JobManager::List(const Caller& caller,
                                                      const v1::ListJobsRequest& request) {
  JobFilter filter;
  if (!caller.admin) filter.owner_uid = caller.uid;
  if (request.state() != v1::JOB_STATE_UNSPECIFIED) {
    filter.state = static_cast<JobState>(request.state());
  }
  if (!request.name().empty()) filter.name = request.name();
  if (request.page_size() > 1000) {
    return absl::InvalidArgumentError("page_size: at most 1000");
  }
  absl::StatusOr<JobStore::Page> page =
      store_->ListJobs(filter, static_cast<int>(request.page_size()), request.page_token());
  if (!page.ok()) return page.status();
  v1::ListJobsResponse response;
  for (const JobRecord& record : page->jobs) *response.add_jobs() = ToProto(record);
  response.set_next_page_token(page->next_page_token);
  return response;
}

absl::StatusOr<v1::Job> JobManager::Cancel(const Caller& caller, const std::string& id_or_name) {
  absl::StatusOr<JobRecord> record = Find(caller, id_or_name);
  if (!record.ok()) return record.status();
  if (!IsFinished(record->state)) {
    auto done = std::make_shared<absl::Notification>();
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::UnavailableError("the server is shutting down");
      posted_.push_back([this, id = record->id, done] {
        CancelRun(id);
        done->Notify();
      });
    }
    done->WaitForNotification();
    record = store_->GetJob(record->id, /*with_request=*/false);
    if (!record.ok()) return record.status();
  }
  return ToProto(*record);
}

absl::Status JobManager::Delete(const Caller& caller, const std::string& id_or_name) {
  absl::StatusOr<JobRecord> record = Find(caller, id_or_name);
  if (!record.ok()) return record.status();
  if (!IsFinished(record->state)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job ", id_or_name, " is ", JobStateName(record->state), ": cancel it before deleting it"));
  }
  absl::Status deleted = store_->DeleteJob(record->id);
  if (deleted.ok()) Removed(record->id);
  return deleted;
}

void JobManager::Removed(const std::string& job_id) {
  recent_.Drop(job_id);
  if (options_.on_removed) options_.on_removed(job_id);
}

absl::StatusOr<std::vector<JobOutput>> JobManager::ReadOutputs(const std::string& job_id,
                                                               int64_t after_seq, int max_count) {
  if (max_count < 1) return store_->ReadOutputs(job_id, after_seq, max_count);
  std::optional<std::vector<JobOutput>> held =
      recent_.Read(job_id, after_seq, max_count, kReadBytes);
  if (held.has_value()) return *std::move(held);
  return store_->ReadOutputs(job_id, after_seq, max_count, kReadBytes);
}

uint64_t JobManager::AddWatcher(std::function<void()> wake) {
  absl::MutexLock lock(&mu_);
  const uint64_t handle = next_watcher_++;
  watchers_[handle] = std::move(wake);
  return handle;
}

void JobManager::RemoveWatcher(uint64_t handle) {
  absl::MutexLock lock(&mu_);
  watchers_.erase(handle);
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
