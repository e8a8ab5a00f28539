// The scheduler with a real template and real workers, driven directly
// through its posting API (no gRPC), with a recording sink.
#include "server/scheduler/scheduler.h"

#include <gtest/gtest.h>
#include <signal.h>

#include "absl/synchronization/mutex.h"
#include "worker/builtins.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

class RecordingSink : public CallSink {
 public:
  void Deliver(std::vector<ResultPtr> results) override {
    absl::MutexLock lock(&mu_);
    for (auto& result : results) results_.push_back(std::move(*result));
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

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(RegisterBuiltins(&registry_).ok());
    absl::StatusOr<TemplateProcess> zygote = TemplateProcess::Start(registry_);
    ASSERT_TRUE(zygote.ok()) << zygote.status();
    template_pid_ = zygote->pid();
    SchedulerOptions options;
    options.workers = 2;
    options.max_queued_items = 1000;
    current_ = std::make_unique<CurrentRegistry>(
        std::shared_ptr<const Registry>(&registry_, [](const Registry*) {}));
    scheduler_ = std::make_unique<Scheduler>(options, std::move(*zygote), current_.get());
    ASSERT_TRUE(scheduler_->Start().ok());
  }
  void TearDown() override { scheduler_->Stop(); }

  uint64_t Open(std::shared_ptr<RecordingSink> sink, CallOrder order, v1::CallOptions options = {},
                const std::string& callable = "square") {
    absl::StatusOr<uint64_t> id = scheduler_->OpenCall(callable, options, order, sink);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(0);
  }
  void Add(uint64_t call, const std::vector<Value>& inputs) {
    ASSERT_TRUE(scheduler_->ReserveQueued(inputs.size()));
    std::vector<std::string> serialized;
    for (const Value& value : inputs) serialized.push_back(value.SerializeAsString());
    scheduler_->AddInputs(call, std::move(serialized));
  }

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
  EXPECT_TRUE(sink->status_.ok());
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
  absl::SleepFor(absl::Milliseconds(100));
  scheduler_->CancelCall(call);
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
  {
    absl::MutexLock lock(&sink->mu_);
    EXPECT_EQ(sink->status_.code(), absl::StatusCode::kCancelled);
    EXPECT_TRUE(sink->results_.empty());
  }
  v1::GetStatusResponse status = scheduler_->GetStatus();
  EXPECT_EQ(status.items_queued(), 0u);
  EXPECT_EQ(status.calls_active(), 0u);
  // The killed workers come back.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (status.workers_idle() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
    status = scheduler_->GetStatus();
  }
  EXPECT_EQ(status.workers_idle(), 2u);
  EXPECT_EQ(status.workers_respawned(), 2u);
}

TEST_F(SchedulerTest, QueueCapRefusesReservationsBeyondIt) {
  EXPECT_TRUE(scheduler_->ReserveQueued(600));
  EXPECT_FALSE(scheduler_->ReserveQueued(401));
  EXPECT_TRUE(scheduler_->ReserveQueued(400));
  EXPECT_EQ(scheduler_->GetStatus().items_queued(), 1000u);
}

TEST_F(SchedulerTest, StopFailsOpenCallsAsUnavailable) {
  auto sink = std::make_shared<RecordingSink>();
  const uint64_t call = Open(sink, CallOrder::kInputOrder, {}, "sleep_ms");
  Add(call, {NumberValue(10000)});
  absl::SleepFor(absl::Milliseconds(100));
  scheduler_->Stop();
  ASSERT_TRUE(sink->AwaitFinish(absl::Seconds(10)));
  absl::MutexLock lock(&sink->mu_);
  EXPECT_EQ(sink->status_.code(), absl::StatusCode::kUnavailable);
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
    EXPECT_EQ(sink->status_.code(), absl::StatusCode::kUnavailable);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (scheduler_->running() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  EXPECT_FALSE(scheduler_->running());
  auto late = std::make_shared<RecordingSink>();
  absl::StatusOr<uint64_t> refused =
      scheduler_->OpenCall("square", {}, CallOrder::kInputOrder, late);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pprocd
