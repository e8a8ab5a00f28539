// The job manager with a real scheduler (template and workers) and a real
// store in a temporary directory, driven through its own API: its calls
// answer from the job thread, watchers run outside its locks, and a store
// that refuses a job's state (a fault injected through the store's
// write_fault seam) is handled as the header's policy says.
#include "server/jobs/job_manager.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <optional>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "server/jobs/result_size.h"
#include "tests/util/fake_clock.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"
#include "tests/util/wait_for.h"
#include "worker/builtins.h"

namespace pprocd {
namespace {

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;

constexpr absl::Duration kPatience = absl::Seconds(30);

Value Number(double x) {
  Value value;
  value.set_number_value(x);
  return value;
}

v1::SubmitRequest Job(const std::string& callable, const std::vector<double>& inputs) {
  v1::SubmitRequest request;
  request.set_callable(callable);
  for (double x : inputs) *request.add_inputs() = Number(x);
  request.set_ordered(true);
  return request;
}

// What a completion callback was given, and on which thread. The callback
// keeps what it writes to alive, should it come after the test gave up.
template <typename T>
class Answer {
 public:
  JobManager::Done<T> Callback() {
    return [state = state_](T given) {
      state->value.emplace(std::move(given));
      state->thread = std::this_thread::get_id();
      state->done.Notify();
    };
  }
  // Waits for the answer; false on timeout.
  bool Wait() { return state_->done.WaitForNotificationWithTimeout(kPatience); }

 private:
  struct State {
    absl::Notification done;
    std::optional<T> value;
    std::thread::id thread;
  };
  const std::shared_ptr<State> state_ = std::make_shared<State>();

 public:
  // Read once Wait() returned true.
  std::optional<T>& value = state_->value;
  std::thread::id& thread = state_->thread;
};

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.ok());
    ASSERT_OK(RegisterBuiltins(&registry_));
    ASSERT_OK_AND_ASSIGN(TemplateProcess zygote, TemplateProcess::Start(registry_));
    SchedulerOptions options;
    options.workers = 2;
    options.max_queued_items = 1000;
    current_ = std::make_unique<CurrentRegistry>(
        std::shared_ptr<const Registry>(&registry_, [](const Registry*) {}));
    scheduler_ = std::make_unique<Scheduler>(options, std::move(zygote), current_.get());
    ASSERT_OK(scheduler_->Start());
  }
  void TearDown() override {
    if (jobs_ != nullptr) jobs_->Stop();
    scheduler_->Stop();
    jobs_.reset();
  }

  JobManagerOptions Options() {
    JobManagerOptions options;
    options.store.path = dir_.Path("jobs.db");
    // States fail while fail_states_ is set.
    options.store.write_fault = [this](absl::string_view method, absl::string_view) {
      return (fail_states_ && method == "UpdateJobWithOutput") ||
                     (fail_request_files_ && method == "WriteRequestFile")
                 ? absl::ResourceExhaustedError("database or disk is full")
                 : absl::OkStatus();
    };
    return options;
  }
  void StartManager(JobManagerOptions options) {
    ASSERT_OK_AND_ASSIGN(jobs_,
                         JobManager::Open(std::move(options), scheduler_.get(), current_.get()));
    ASSERT_OK(jobs_->Start());
  }

  v1::Job SubmitOrDie(const v1::SubmitRequest& request) {
    Answer<absl::StatusOr<JobManager::Submitted>> submitted;
    jobs_->SubmitAsync(caller_, request, submitted.Callback());
    EXPECT_TRUE(submitted.Wait());
    EXPECT_TRUE(submitted.value.has_value() && submitted.value->ok());
    return submitted.value.has_value() && submitted.value->ok() ? (*submitted.value)->job
                                                                : v1::Job();
  }
  // The job as the manager answers for it.
  absl::StatusOr<JobRecord> Find(const std::string& id) {
    Answer<absl::StatusOr<JobRecord>> found;
    jobs_->FindAsync(caller_, id, /*with_request=*/false, found.Callback());
    if (!found.Wait()) return absl::DeadlineExceededError("no answer");
    return *std::move(found.value);
  }
  // Waits until the job, as the manager answers for it, is in `state`.
  bool AwaitState(const std::string& id, JobState state) {
    return testing::WaitFor(
        [&] {
          absl::StatusOr<JobRecord> job = Find(id);
          return job.ok() && job->state == state;
        },
        kPatience);
  }
  // Waits until the job's row in the store is in `state`.
  bool AwaitStored(const std::string& id, JobState state) {
    return testing::WaitFor(
        [&] {
          absl::StatusOr<JobRecord> job = jobs_->store().GetJob(id, /*with_request=*/false);
          return job.ok() && job->state == state;
        },
        kPatience);
  }

  // For a manager given it (JobManagerOptions::clock); outlives it.
  ::pprocd::testing::FakeClock clock_;
  ::pprocd::testing::TempDir dir_{"pprocd-job-manager-test"};
  Registry registry_;
  std::unique_ptr<CurrentRegistry> current_;
  std::unique_ptr<Scheduler> scheduler_;
  std::unique_ptr<JobManager> jobs_;
  std::atomic<bool> fail_states_{false};
  // Request files cannot be written while it is set.
  std::atomic<bool> fail_request_files_{false};
  const Caller caller_{1000, false};
};

// A request that goes to a file runs while the file is written: the job
// succeeds and its stored request reads back whole.
TEST_F(JobManagerTest, AJobWhoseRequestGoesToAFileRunsAndItsRequestReadsBack) {
  JobManagerOptions options = Options();
  options.store.request_file_min_bytes = 0;
  ASSERT_NO_FATAL_FAILURE(StartManager(std::move(options)));
  std::vector<double> inputs;
  for (int i = 0; i < 300; ++i) inputs.push_back(i);
  const v1::SubmitRequest request = Job("square", inputs);
  const std::string id = SubmitOrDie(request).id();
  ASSERT_TRUE(AwaitState(id, JobState::kSucceeded));
  EXPECT_EQ(Find(id)->done, 300);
  ASSERT_OK_AND_ASSIGN(JobRecord stored, jobs_->store().GetJob(id, /*with_request=*/true));
  EXPECT_FALSE(stored.request_unreadable);
  v1::SubmitRequest read_back;
  ASSERT_TRUE(read_back.ParseFromString(stored.request));
  EXPECT_EQ(read_back.inputs_size(), 300);
}

// When its request file cannot be written, the Submit fails with the
// store's error, no job is left (it ran meanwhile: it is cancelled), and the
// next Submit is served.
TEST_F(JobManagerTest, AJobWhoseRequestFileCannotBeWrittenIsRefusedAndLeavesNoJob) {
  JobManagerOptions options = Options();
  options.store.request_file_min_bytes = 0;
  ASSERT_NO_FATAL_FAILURE(StartManager(std::move(options)));
  fail_request_files_ = true;
  Answer<absl::StatusOr<JobManager::Submitted>> refused;
  jobs_->SubmitAsync(caller_, Job("sleep_ms", {200, 200, 200}), refused.Callback());
  ASSERT_TRUE(refused.Wait());
  EXPECT_THAT(refused.value->status(),
              StatusIs(absl::StatusCode::kResourceExhausted, ::testing::HasSubstr("disk is full")));
  Answer<absl::StatusOr<v1::ListJobsResponse>> listed;
  jobs_->ListAsync(caller_, {}, listed.Callback());
  ASSERT_TRUE(listed.Wait());
  ASSERT_TRUE(listed.value->ok());
  EXPECT_EQ((*listed.value)->jobs_size(), 0);

  fail_request_files_ = false;
  const std::string id = SubmitOrDie(Job("square", {4})).id();
  ASSERT_TRUE(AwaitState(id, JobState::kSucceeded));
  EXPECT_EQ(Find(id)->done, 1);
}

TEST_F(JobManagerTest, EveryCallAnswersFromTheJobThread) {
  ASSERT_NO_FATAL_FAILURE(StartManager(Options()));
  Answer<absl::StatusOr<JobManager::Submitted>> submitted;
  jobs_->SubmitAsync(caller_, Job("square", {1, 2, 3}), submitted.Callback());
  ASSERT_TRUE(submitted.Wait());
  ASSERT_TRUE(submitted.value->ok()) << submitted.value->status();
  EXPECT_NE(submitted.thread, std::this_thread::get_id());
  const std::string id = (*submitted.value)->job.id();
  ASSERT_TRUE(AwaitState(id, JobState::kSucceeded));

  Answer<absl::StatusOr<JobRecord>> found;
  jobs_->FindAsync(caller_, id, /*with_request=*/false, found.Callback());
  ASSERT_TRUE(found.Wait());
  ASSERT_TRUE(found.value->ok()) << found.value->status();
  EXPECT_EQ((*found.value)->done, 3);
  EXPECT_EQ(found.thread, submitted.thread);

  Answer<absl::StatusOr<v1::ListJobsResponse>> listed;
  jobs_->ListAsync(caller_, {}, listed.Callback());
  ASSERT_TRUE(listed.Wait());
  ASSERT_TRUE(listed.value->ok());
  ASSERT_EQ((*listed.value)->jobs_size(), 1);
  EXPECT_EQ(listed.thread, submitted.thread);

  Answer<absl::StatusOr<v1::Job>> cancelled;
  jobs_->CancelAsync(caller_, id, cancelled.Callback());
  ASSERT_TRUE(cancelled.Wait());
  ASSERT_TRUE(cancelled.value->ok());
  EXPECT_EQ((*cancelled.value)->state(), v1::JOB_STATE_SUCCEEDED) << "an ended job stays";

  Answer<absl::Status> deleted;
  jobs_->DeleteAsync(caller_, id, deleted.Callback());
  ASSERT_TRUE(deleted.Wait());
  EXPECT_TRUE(deleted.value->ok()) << *deleted.value;
  EXPECT_EQ(deleted.thread, submitted.thread);
  EXPECT_THAT(Find(id), StatusIs(absl::StatusCode::kNotFound));

  // Once stopped, calls are answered UNAVAILABLE.
  jobs_->Stop();
  Answer<absl::StatusOr<JobRecord>> late;
  jobs_->FindAsync(caller_, id, /*with_request=*/false, late.Callback());
  ASSERT_TRUE(late.Wait());
  EXPECT_THAT(late.value->status(), StatusIs(absl::StatusCode::kUnavailable));
}

// The manager reads time from the clock it is given: a job's times, and
// when ended jobs are pruned. Hours pass on a fake clock in no time.
TEST_F(JobManagerTest, EndedJobsArePrunedWhenTheManagersClockSaysSo) {
  JobManagerOptions options = Options();
  options.clock = &clock_;
  options.store.keep_finished = absl::Hours(1);
  options.prune_every = absl::Minutes(10);
  ASSERT_NO_FATAL_FAILURE(StartManager(options));
  const absl::Time started = clock_.Now();
  const std::string id = SubmitOrDie(Job("square", {1, 2, 3})).id();
  ASSERT_TRUE(AwaitState(id, JobState::kSucceeded));
  ASSERT_OK_AND_ASSIGN(JobRecord ended, Find(id));
  EXPECT_EQ(ended.create_micros, absl::ToUnixMicros(started));
  EXPECT_EQ(ended.start_micros, absl::ToUnixMicros(started));
  EXPECT_EQ(ended.end_micros, absl::ToUnixMicros(started));

  // Not yet kept an hour: a prune (due every 10 minutes) leaves it.
  clock_.Advance(absl::Minutes(50));
  ASSERT_OK(Find(id).status());  // wakes the job thread, which prunes
  EXPECT_OK(Find(id).status());
  // Past the hour: the next prune deletes it. Each Find wakes the job
  // thread, whose due timers run after the calls posted to it.
  clock_.Advance(absl::Minutes(20));
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Find(id).status().code() == absl::StatusCode::kNotFound; }, kPatience));
}

// A watcher's wake runs with no lock of the manager held: while one is
// blocked, other threads still post to the manager (as the scheduler does
// with results) and add or remove watchers.
TEST_F(JobManagerTest, ABlockedWatcherHoldsNoLockOthersNeed) {
  ASSERT_NO_FATAL_FAILURE(StartManager(Options()));
  absl::Notification entered;
  absl::Notification release;
  std::atomic<bool> first{true};
  const uint64_t blocking = jobs_->AddWatcher([&] {
    if (!first.exchange(false)) return;
    entered.Notify();
    release.WaitForNotification();
  });
  SubmitOrDie(Job("square", {1}));
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kPatience));

  absl::Notification others_done;
  Answer<absl::StatusOr<JobManager::Submitted>> posted;
  std::thread others([&] {
    const uint64_t handle = jobs_->AddWatcher([] {});
    jobs_->RemoveWatcher(handle);
    jobs_->SubmitAsync(caller_, Job("square", {2}), posted.Callback());
    others_done.Notify();
  });
  const bool unblocked = others_done.WaitForNotificationWithTimeout(absl::Seconds(10));
  release.Notify();
  others.join();
  EXPECT_TRUE(unblocked) << "a blocked watcher held up other threads";
  ASSERT_TRUE(posted.Wait());
  EXPECT_TRUE(posted.value->ok()) << posted.value->status();
  jobs_->RemoveWatcher(blocking);
}

// A final state the store refuses is the job's state all the same: the
// manager answers with it, Reconnect (ReadOutputs) gets it after the stored
// outputs and its watchers are woken for it, and it is stored once the store
// takes writes again, with the seq it was given.
TEST_F(JobManagerTest, AFinalStateTheStoreRefusesIsKeptToldAndStoredLater) {
  ASSERT_NO_FATAL_FAILURE(StartManager(Options()));
  const v1::Job job = SubmitOrDie(Job("sleep_ms", {500}));
  ASSERT_TRUE(AwaitStored(job.id(), JobState::kRunning));
  fail_states_ = true;
  // A watcher following the job as Reconnect does: woken, it reads on.
  absl::Notification saw_end;
  int64_t cursor = 0;  // Job thread only.
  const uint64_t watcher = jobs_->AddWatcher([&] {
    absl::StatusOr<std::vector<JobOutput>> outputs = jobs_->ReadOutputs(job.id(), cursor, 100);
    if (!outputs.ok()) return;
    for (const JobOutput& output : *outputs) {
      cursor = output.last_seq();
      v1::Job state;
      if (output.kind == OutputKind::kState && state.ParseFromString(output.payload) &&
          state.state() == v1::JOB_STATE_SUCCEEDED && !saw_end.HasBeenNotified()) {
        saw_end.Notify();
      }
    }
  });
  ASSERT_TRUE(saw_end.WaitForNotificationWithTimeout(kPatience)) << "the watcher was told";

  absl::StatusOr<JobRecord> stored = jobs_->store().GetJob(job.id(), /*with_request=*/false);
  ASSERT_OK(stored);
  EXPECT_EQ(stored->state, JobState::kRunning) << "not stored yet";
  ASSERT_OK_AND_ASSIGN(JobRecord answered, Find(job.id()));
  EXPECT_EQ(answered.state, JobState::kSucceeded);
  EXPECT_EQ(answered.last_seq, stored->last_seq + 1);
  EXPECT_EQ(answered.done, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> next,
                       jobs_->ReadOutputs(job.id(), stored->last_seq, 100));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next.front().seq, stored->last_seq + 1);
  EXPECT_EQ(next.front().kind, OutputKind::kState);

  fail_states_ = false;
  ASSERT_TRUE(AwaitStored(job.id(), JobState::kSucceeded));
  ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> kept,
                       jobs_->store().ReadOutputs(job.id(), stored->last_seq, 100));
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept.front().seq, next.front().seq);
  EXPECT_EQ(kept.front().payload, next.front().payload);
  jobs_->RemoveWatcher(watcher);
}

// A job whose start the store refuses does not run: it ends FAILED, saying
// why, and that state is stored once the store takes writes again.
TEST_F(JobManagerTest, AJobWhoseStartTheStoreRefusesEndsFailedWithoutRunning) {
  ASSERT_NO_FATAL_FAILURE(StartManager(Options()));
  fail_states_ = true;
  const v1::Job job = SubmitOrDie(Job("square", {4}));
  ASSERT_TRUE(AwaitState(job.id(), JobState::kFailed));
  ASSERT_OK_AND_ASSIGN(JobRecord answered, Find(job.id()));
  EXPECT_NE(answered.error.find("its state could not be stored"), std::string::npos)
      << answered.error;
  EXPECT_EQ(answered.done, 0);
  fail_states_ = false;
  ASSERT_TRUE(AwaitStored(job.id(), JobState::kFailed));
  ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> outputs,
                       jobs_->store().ReadOutputs(job.id(), 0, 100));
  ASSERT_EQ(outputs.size(), 1u) << "no RUNNING state, no result";
  EXPECT_EQ(outputs.front().kind, OutputKind::kState);
}

// A result stored by an older server that no message can carry is read as a
// failed result of its item, so that the outputs after it still come.
TEST_F(JobManagerTest, ReadOutputsReplacesAStoredResultTooLargeToSend) {
  constexpr uint64_t kMessageLimit = 4096;
  std::string id;
  std::string small_payload;
  {
    JobStoreOptions options;
    options.path = dir_.Path("jobs.db");
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<JobStore> store, JobStore::Open(options));
    JobRecord record;
    record.owner_uid = caller_.uid;
    record.state = JobState::kSucceeded;
    record.total = 2;
    record.done = 2;
    ASSERT_OK_AND_ASSIGN(JobStore::Created created, store->CreateJob(record));
    id = created.job.id;
    v1::ItemResult big;
    big.set_last(true);
    big.mutable_value()->set_string_value(std::string(3 * kMessageLimit, 'x'));
    v1::LogRecord* log = big.add_logs();
    log->set_stream(v1::LOG_STREAM_STDERR);
    log->set_data(std::string(2 * kMessageLimit, 'e'));
    v1::ItemResult small;
    small.set_index(1);
    small.set_last(true);
    small.mutable_value()->set_number_value(7);
    small_payload = small.SerializeAsString();
    ASSERT_OK(store->AppendOutputs(id, {{OutputKind::kResult, big.SerializeAsString()},
                                        {OutputKind::kResult, small_payload},
                                        {OutputKind::kState, "ended"}}));
  }
  JobManagerOptions options = Options();
  options.max_message_bytes = kMessageLimit;
  ASSERT_NO_FATAL_FAILURE(StartManager(options));
  ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> outputs, jobs_->ReadOutputs(id, 0, 100));
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_LE(outputs.at(0).payload.size(), MaxSendableResultBytes(kMessageLimit));
  v1::ItemResult replaced;
  ASSERT_TRUE(replaced.ParseFromString(outputs.at(0).payload));
  EXPECT_EQ(replaced.index(), 0u);
  EXPECT_TRUE(replaced.last());
  ASSERT_TRUE(replaced.has_error());
  EXPECT_NE(
      replaced.error().message().find("exceeds the largest message the server sends (4096 bytes)"),
      std::string::npos)
      << replaced.error().message();
  ASSERT_EQ(replaced.logs_size(), 1);
  EXPECT_GT(replaced.logs(0).dropped_bytes(), 0u) << "its log is kept, cut";
  EXPECT_EQ(outputs.at(1).payload, small_payload);
  EXPECT_EQ(outputs.at(2).payload, "ended");
}

}  // namespace
}  // namespace pprocd
