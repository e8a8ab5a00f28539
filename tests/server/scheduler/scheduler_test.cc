// The scheduler with a real template and real workers, driven directly
// through its posting API (no gRPC), with a recording sink.
#include "server/scheduler/scheduler.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "tests/util/fake_clock.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"
#include "worker/builtins.h"

namespace pprocd {
namespace {

using google::protobuf::Value;
using ::pprocd::testing::StatusIs;

class RecordingSink : public CallSink {
 public:
  void Deliver(std::vector<ResultPiece> results) override { Record(std::move(results)); }
  void Record(std::vector<ResultPiece> results) {
    absl::MutexLock lock(&mu_);
    for (auto& piece : results) {
      ASSERT_NE(piece.result, nullptr) << "a Value-form call got a block";
      results_.push_back(std::move(*piece.result));
    }
    ++deliveries_;
  }
  void WantInput() override {
    absl::MutexLock lock(&mu_);
    ++want_input_;
  }
  void Finish(absl::Status status) override {
    absl::MutexLock lock(&mu_);
    ++finishes_;
    status_ = status;
  }
  // Waits until Finish; false on timeout.
  bool AwaitFinish(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](int* finishes) { return *finishes > 0; }, &finishes_),
                                timeout);
  }
  bool AwaitWantInput(int count, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    struct Args {
      int* have;
      int want;
    } args{&want_input_, count};
    return mu_.AwaitWithTimeout(absl::Condition(
                                    +[](Args* a) { return *a->have >= a->want; }, &args),
                                timeout);
  }

  absl::Mutex mu_;
  std::vector<v1::ItemResult> results_ ABSL_GUARDED_BY(mu_);
  int deliveries_ ABSL_GUARDED_BY(mu_) = 0;
  int want_input_ ABSL_GUARDED_BY(mu_) = 0;
  int finishes_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

struct StatusAnswer {
  absl::Notification answered;
  absl::StatusOr<v1::GetStatusResponse> status;
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK(RegisterBuiltins(&registry_));
    absl::StatusOr<TemplateProcess> zygote = TemplateProcess::Start(registry_);
    ASSERT_OK(zygote);
    template_pid_ = zygote->pid();
    SchedulerOptions options;
    options.workers = workers_;
    options.max_queued_items = 1000;
    options.clock = clock_;
    current_ = std::make_unique<CurrentRegistry>(
        std::shared_ptr<const Registry>(&registry_, [](const Registry*) {}));
    scheduler_ = std::make_unique<Scheduler>(options, std::move(*zygote), current_.get());
    ASSERT_OK(scheduler_->Start());
  }
  void TearDown() override { scheduler_->Stop(); }

  uint64_t Open(std::shared_ptr<RecordingSink> sink, CallOrder order, v1::CallOptions options = {},
                const std::string& callable = "square") {
    absl::StatusOr<uint64_t> id = scheduler_->OpenCall(callable, options, order, sink);
    EXPECT_OK(id);
    return id.value_or(0);
  }
  // The scheduler's status, waited for.
  v1::GetStatusResponse Status() {
    auto answer = AskStatus();
    if (!answer->answered.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      ADD_FAILURE() << "no status within 10 s";
      return {};
    }
    EXPECT_OK(answer->status);
    return answer->status.value_or(v1::GetStatusResponse());
  }
  // Asks for the scheduler's status; the answer lands in the result.
  std::shared_ptr<StatusAnswer> AskStatus() {
    auto answer = std::make_shared<StatusAnswer>();
    scheduler_->GetStatus([answer](absl::StatusOr<v1::GetStatusResponse> status) {
      answer->status = std::move(status);
      answer->answered.Notify();
    });
    return answer;
  }
  void Add(uint64_t call, const std::vector<Value>& inputs) {
    ASSERT_TRUE(scheduler_->ReserveQueued(inputs.size()));
    google::protobuf::RepeatedPtrField<Value> serialized;
    for (const Value& value : inputs) *serialized.Add() = value;
    scheduler_->AddInputs(call, ValueInputBlock(serialized));
  }

  uint32_t workers_ = 2;
  const Clock* clock_ = &RealClock();
  Registry registry_;
  std::unique_ptr<CurrentRegistry> current_;
  pid_t template_pid_ = -1;
  std::unique_ptr<Scheduler> scheduler_;
};

std::vector<Value> Numbers(int count) {
  std::vector<Value> values;
  for (int i = 0; i < count; ++i) values.push_back(NumberValue(i));
  return values;
}

TEST_F(SchedulerTest, InputOrderCallDeliversEveryResultInOrder) {
  auto sink = std::make_shared<RecordingSink>();
  const uint64_t call = Open(sink, CallOrder::kInputOrder);
  Add(call, Numbers(500));
  ASSERT_TRUE(sink->AwaitWantInput(1, absl::Seconds(10)));
  Add(call, Numbers(500));
  ASSERT_TRUE(sink->AwaitWantInput(2, absl::Seconds(10)));
  scheduler_->EndInputs(call);
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(30)));
  absl::MutexLock lock(&sink->mu_);
  EXPECT_OK(sink->status_);
  ASSERT_EQ(sink->results_.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(sink->results_[i].index(), static_cast<uint64_t>(i));
    const double x = i % 500;
    EXPECT_EQ(sink->results_[i].value().number_value(), x * x);
  }
  EXPECT_EQ(sink->finishes_, 1);
}

TEST_F(SchedulerTest, AsksForInputOnlyOncePerAnswer) {
  auto sink = std::make_shared<RecordingSink>();
  const uint64_t call = Open(sink, CallOrder::kCompletionOrder);
  Add(call, Numbers(10));
  ASSERT_TRUE(sink->AwaitWantInput(1, absl::Seconds(10)));
  absl::SleepFor(absl::Milliseconds(200));  // Results arrive; no new request must follow.
  {
    absl::MutexLock lock(&sink->mu_);
    EXPECT_EQ(sink->want_input_, 1);
  }
  scheduler_->EndInputs(call);
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
}

TEST_F(SchedulerTest, CancelFinishesTheCallAsCancelledAndReleasesItsQueue) {
  auto sink = std::make_shared<RecordingSink>();
  v1::CallOptions options;
  options.set_chunksize(1);
  const uint64_t call = Open(sink, CallOrder::kCompletionOrder, options, "sleep_ms");
  std::vector<Value> sleeps(20, NumberValue(10000));
  Add(call, sleeps);
  ASSERT_TRUE(testing::WaitFor([&] { return Status().items_running() == 2; }, absl::Seconds(10)))
      << "both workers run an item";
  scheduler_->CancelCall(call);
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
  {
    absl::MutexLock lock(&sink->mu_);
    EXPECT_THAT(sink->status_, StatusIs(absl::StatusCode::kCancelled));
    EXPECT_TRUE(sink->results_.empty());
  }
  v1::GetStatusResponse status = Status();
  EXPECT_EQ(status.items_queued(), 0u);
  EXPECT_EQ(status.calls_active(), 0u);
  // The killed workers come back.
  testing::WaitFor(
      [&] {
        status = Status();
        return status.workers_idle() >= 2;
      },
      absl::Seconds(10));
  EXPECT_EQ(status.workers_idle(), 2u);
  EXPECT_EQ(status.workers_respawned(), 2u);
}

TEST_F(SchedulerTest, QueueCapRefusesReservationsBeyondIt) {
  EXPECT_TRUE(scheduler_->ReserveQueued(600));
  EXPECT_FALSE(scheduler_->ReserveQueued(401));
  EXPECT_TRUE(scheduler_->ReserveQueued(400));
  EXPECT_EQ(Status().items_queued(), 1000u);
}

TEST_F(SchedulerTest, StopFailsOpenCallsAsUnavailable) {
  auto sink = std::make_shared<RecordingSink>();
  const uint64_t call = Open(sink, CallOrder::kInputOrder, {}, "sleep_ms");
  Add(call, {NumberValue(10000)});
  ASSERT_TRUE(testing::WaitFor([&] { return Status().items_running() == 1; }, absl::Seconds(10)))
      << "the item runs";
  scheduler_->Stop();
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
  absl::MutexLock lock(&sink->mu_);
  EXPECT_THAT(sink->status_, StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(SchedulerTest, LosingTheTemplateStopsTheLoopAndFailsCalls) {
  auto sink = std::make_shared<RecordingSink>();
  const uint64_t call = Open(sink, CallOrder::kInputOrder, {}, "sleep_ms");
  Add(call, {NumberValue(10000)});
  ASSERT_GT(template_pid_, 0);
  kill(template_pid_, SIGKILL);
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
  {
    absl::MutexLock lock(&sink->mu_);
    EXPECT_THAT(sink->status_, StatusIs(absl::StatusCode::kUnavailable));
  }
  testing::WaitFor([&] { return !scheduler_->running(); }, absl::Seconds(10));
  EXPECT_FALSE(scheduler_->running());
  auto late = std::make_shared<RecordingSink>();
  absl::StatusOr<uint64_t> refused =
      scheduler_->OpenCall("square", {}, CallOrder::kInputOrder, late);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kUnavailable));
}

// Holds the scheduler thread inside its first Deliver until released: what
// the loop would do next waits, while the test changes the world.
class BlockingSink : public RecordingSink {
 public:
  void Deliver(std::vector<ResultPiece> results) override {
    Record(std::move(results));
    if (delivering_.HasBeenNotified()) return;
    delivering_.Notify();
    // Bounded, so that a test that fails before releasing it can stop.
    release_.WaitForNotificationWithTimeout(absl::Seconds(30));
  }
  absl::Notification delivering_;
  absl::Notification release_;
};

TEST_F(SchedulerTest, StatusIsAnsweredLaterWhileTheLoopIsBusyAndRefusedOnceStopped) {
  auto sink = std::make_shared<BlockingSink>();
  const uint64_t call = Open(sink, CallOrder::kCompletionOrder);
  Add(call, Numbers(1));
  ASSERT_TRUE(sink->delivering_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // The loop is busy: the request returns at once and is answered later.
  auto answer = AskStatus();
  EXPECT_FALSE(answer->answered.HasBeenNotified());
  sink->release_.Notify();
  ASSERT_TRUE(answer->answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_OK(answer->status);
  EXPECT_EQ(answer->status->items_completed(), 1u);
  EXPECT_EQ(answer->status->workers_configured(), 2u);

  scheduler_->Stop();
  bool refused = false;
  scheduler_->GetStatus([&](absl::StatusOr<v1::GetStatusResponse> answer) {
    refused = answer.status().code() == absl::StatusCode::kUnavailable;
  });
  EXPECT_TRUE(refused) << "answered at once, on the calling thread";
}

// The scheduler on a clock that moves only when the test says.
class FakeClockSchedulerTest : public SchedulerTest {
 protected:
  FakeClockSchedulerTest() { clock_ = &fake_clock_; }
  testing::FakeClock fake_clock_;
};

// An item's timeout is judged on the scheduler's clock, not the machine's:
// an hour-long timeout passes as soon as the clock says so.
TEST_F(FakeClockSchedulerTest, AnItemTimesOutWhenTheSchedulersClockPassesItsTimeout) {
  auto sink = std::make_shared<RecordingSink>();
  v1::CallOptions options;
  options.set_chunksize(1);
  options.set_timeout_ms(3600 * 1000);
  const uint64_t call = Open(sink, CallOrder::kCompletionOrder, options, "sleep_ms");
  Add(call, {NumberValue(600000)});
  scheduler_->EndInputs(call);
  ASSERT_TRUE(testing::WaitFor([&] { return Status().items_running() == 1; }, absl::Seconds(10)));
  {
    absl::MutexLock lock(&sink->mu_);
    EXPECT_TRUE(sink->results_.empty()) << "not timed out before the clock moved";
  }
  fake_clock_.Advance(absl::Hours(1) + absl::Seconds(1));
  // The loop reads the clock when it wakes: a status request wakes it.
  (void)Status();
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
  absl::MutexLock lock(&sink->mu_);
  EXPECT_OK(sink->status_);
  ASSERT_EQ(sink->results_.size(), 1u);
  EXPECT_EQ(sink->results_[0].error().kind(), v1::ERROR_KIND_TIMED_OUT);
  EXPECT_THAT(sink->results_[0].error().message(), ::testing::HasSubstr("3600000 ms"));
}

TEST_F(FakeClockSchedulerTest, UptimeAndCallAgesComeFromTheSchedulersClock) {
  auto sink = std::make_shared<RecordingSink>();
  v1::CallOptions options;
  options.set_chunksize(1);
  const uint64_t call = Open(sink, CallOrder::kCompletionOrder, options, "sleep_ms");
  Add(call, {NumberValue(600000)});
  ASSERT_TRUE(testing::WaitFor([&] { return Status().items_running() == 1; }, absl::Seconds(10)));
  fake_clock_.Advance(absl::Minutes(10));
  const v1::GetStatusResponse status = Status();
  EXPECT_GE(status.uptime_ms(), 600u * 1000);
  EXPECT_LT(status.uptime_ms(), 660u * 1000);
  ASSERT_EQ(status.workers_size(), 2);
  bool running_row = false;
  for (const v1::WorkerRow& row : status.workers()) {
    if (row.call_id() != call) continue;
    running_row = true;
    EXPECT_GE(row.item_age_ms(), 600u * 1000);
  }
  EXPECT_TRUE(running_row) << "a worker row shows the running item";
  ASSERT_EQ(status.calls_size(), 1);
  EXPECT_GE(status.calls(0).age_ms(), 600u * 1000);
  scheduler_->CancelCall(call);
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
}

// The processes whose parent is `pid`.
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::ifstream file(absl::StrCat("/proc/", pid, "/task/", pid, "/children"));
  std::vector<pid_t> children;
  for (pid_t child; file >> child;) children.push_back(child);
  return children;
}

// Starts a child of this process with exactly pid `pid` (clone3 with
// set_tid; needs CAP_SYS_ADMIN) that waits to be killed; -1 with errno set
// when it cannot.
pid_t StartProcessWithPid(pid_t pid) {
  struct {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
        set_tid_size;
  } args{};
  pid_t wanted[1] = {pid};
  args.exit_signal = SIGCHLD;
  args.set_tid = reinterpret_cast<uintptr_t>(wanted);
  args.set_tid_size = 1;
  const long started = syscall(SYS_clone3, &args, sizeof(args));
  if (started == 0) {
    // Only system calls here: this is a copy of a threaded process.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    while (true) pause();
  }
  return static_cast<pid_t>(started);
}

class OneWorkerSchedulerTest : public SchedulerTest {
 protected:
  OneWorkerSchedulerTest() { workers_ = 1; }
};

// The server kills a worker as the template reaps it: a kill decided after
// the reaping must not reach a process that was given the worker's pid (and
// so its process group id) meanwhile.
TEST_F(OneWorkerSchedulerTest, KillAfterTheWorkerWasReapedSparesTheProcessThatReusedItsPid) {
  auto sink = std::make_shared<BlockingSink>();
  v1::CallOptions options;
  options.set_chunksize(1);
  const uint64_t call = Open(sink, CallOrder::kCompletionOrder, options, "sleep_ms");
  // The first item's result holds the loop in Deliver while the worker
  // runs the second.
  Add(call, {NumberValue(0), NumberValue(60000)});
  ASSERT_TRUE(sink->delivering_.WaitForNotificationWithTimeout(absl::Seconds(10)));
  const std::vector<pid_t> workers = ChildrenOf(template_pid_);
  ASSERT_EQ(workers.size(), 1u);
  const pid_t worker = workers[0];
  // The cancel is read first when the loop goes on; it kills the worker...
  scheduler_->CancelCall(call);
  // ... which has already died and been reaped, its pid taken by another
  // process that leads its own process group.
  ASSERT_EQ(kill(worker, SIGKILL), 0);
  testing::WaitFor([&] { return access(absl::StrCat("/proc/", worker).c_str(), F_OK) != 0; },
                   absl::Seconds(10), absl::Milliseconds(1));
  const pid_t bystander = StartProcessWithPid(worker);
  const int clone_errno = errno;
  if (bystander < 0) sink->release_.Notify();
  if (bystander < 0 && (clone_errno == EPERM || clone_errno == ENOSYS || clone_errno == EEXIST)) {
    GTEST_SKIP() << "cannot start a process with a chosen pid: " << std::strerror(clone_errno);
  }
  ASSERT_EQ(bystander, worker) << std::strerror(clone_errno);
  ASSERT_EQ(setpgid(bystander, bystander), 0);
  sink->release_.Notify();
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
  // The replacement worker is asked of the template after the kill: once
  // it is up, the template has handled the kill.
  v1::GetStatusResponse status;
  testing::WaitFor(
      [&] {
        status = Status();
        return status.workers_respawned() >= 1 && status.workers_idle() >= 1;
      },
      absl::Seconds(10));
  EXPECT_EQ(status.workers_idle(), 1u);
  int wait_status = 0;
  EXPECT_EQ(waitpid(bystander, &wait_status, WNOHANG), 0)
      << "the process that reused the pid was killed (signal " << WTERMSIG(wait_status) << ")";
  kill(bystander, SIGKILL);
  waitpid(bystander, nullptr, 0);
}

}  // namespace
}  // namespace pprocd
