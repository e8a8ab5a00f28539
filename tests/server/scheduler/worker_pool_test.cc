// The worker pool without a process: the test plays each template's side of
// its control socket, so it sees every spawn and kill request the pool
// sends, and the spawn backoff is checked on the times it is given.
#include "server/scheduler/worker_pool.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <utility>
#include <vector>

#include "pprocd/wire/v1/wire.pb.h"

namespace pprocd {
namespace {

// A template handle whose other end the test reads.
struct FakeTemplate {
  std::unique_ptr<TemplateProcess> handle;
  UniqueFd far_end;
};

FakeTemplate MakeTemplate() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds), 0);
  return {std::make_unique<TemplateProcess>(TemplateProcess::Adopt(UniqueFd(fds[0]))),
          UniqueFd(fds[1])};
}

// Every request the pool has sent to the template so far.
std::vector<wire::v1::TemplateRequest> Requests(const UniqueFd& far_end) {
  std::vector<wire::v1::TemplateRequest> requests;
  char buffer[4096];
  while (true) {
    const ssize_t got = ::recv(far_end.get(), buffer, sizeof(buffer), 0);
    if (got <= 0) break;
    wire::v1::TemplateRequest request;
    EXPECT_TRUE(request.ParseFromArray(buffer, static_cast<int>(got)));
    requests.push_back(std::move(request));
  }
  return requests;
}

// A pool over one template of registered callables (id 1), whose requests
// first_.far_end receives.
class WorkerPoolTest : public testing::Test {
 protected:
  WorkerPoolTest() : first_(MakeTemplate()), pool_(std::move(first_.handle)) {}

  // Adds a template that is not a generation (as a Python pool's is).
  uint64_t AddPythonTemplate() {
    python_ = MakeTemplate();
    return pool_.AddTemplate(std::move(python_.handle));
  }

  FakeTemplate first_;
  FakeTemplate python_;
  WorkerPool pool_;
};

TEST_F(WorkerPoolTest, ASpawnAsksTheTemplateForAWorkerOfThatId) {
  WorkerSlot* pooled = pool_.Spawn(pool_.generation());
  WorkerSlot* fresh = pool_.Spawn(pool_.generation(), /*fresh=*/true, /*fresh_call=*/7, "square");
  ASSERT_NE(pooled, nullptr);
  ASSERT_NE(fresh, nullptr);
  EXPECT_NE(pooled->id, fresh->id);
  EXPECT_EQ(pooled->state, WorkerState::kStarting);
  EXPECT_EQ(fresh->fresh_call, 7u);
  EXPECT_EQ(pool_.fresh_alive(), 1u);

  const std::vector<wire::v1::TemplateRequest> requests = Requests(first_.far_end);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].spawn().worker_id(), pooled->id);
  EXPECT_EQ(requests[0].spawn().callable(), "");
  EXPECT_EQ(requests[1].spawn().worker_id(), fresh->id);
  EXPECT_EQ(requests[1].spawn().callable(), "square");
}

TEST_F(WorkerPoolTest, NoSlotIsMadeWhenTheTemplateIsGoneOrCannotBeAsked) {
  EXPECT_EQ(pool_.Spawn(/*template_id=*/99), nullptr);
  first_.far_end.Reset();  // The template went away: the request fails.
  EXPECT_EQ(pool_.Spawn(pool_.generation(), /*fresh=*/true, 1, "echo"), nullptr);
  EXPECT_TRUE(pool_.workers().empty());
  EXPECT_EQ(pool_.fresh_alive(), 0u);
}

TEST_F(WorkerPoolTest, AKillIsAskedOfTheReapingTemplateOnceAndTheFirstReasonStays) {
  FakeTemplate second = MakeTemplate();
  const uint64_t next = pool_.AddGeneration(std::move(second.handle));
  WorkerSlot* old_worker = pool_.Spawn(1);
  WorkerSlot* new_worker = pool_.Spawn(next);
  Requests(first_.far_end);
  Requests(second.far_end);

  pool_.Kill(*old_worker, KillReason::kTimeout);
  pool_.Kill(*old_worker, KillReason::kCancel);
  EXPECT_EQ(old_worker->kill_reason, KillReason::kTimeout);
  const std::vector<wire::v1::TemplateRequest> to_first = Requests(first_.far_end);
  ASSERT_EQ(to_first.size(), 1u);
  EXPECT_EQ(to_first[0].kill().worker_id(), old_worker->id);
  EXPECT_TRUE(Requests(second.far_end).empty());

  // A worker whose template is gone died with it: nothing is sent.
  pool_.RemoveTemplate(next);
  pool_.Kill(*new_worker, KillReason::kCancel);
  EXPECT_EQ(new_worker->kill_reason, KillReason::kCancel);
  EXPECT_TRUE(Requests(second.far_end).empty());
}

TEST_F(WorkerPoolTest, IdleWorkersAreTakenLatestFirstAndOnlyFromTheirTemplate) {
  const uint64_t python_id = AddPythonTemplate();
  EXPECT_EQ(pool_.generation(), 1u);  // Not a generation of callables.
  std::vector<WorkerSlot*> workers = {pool_.Spawn(1), pool_.Spawn(1), pool_.Spawn(python_id)};
  for (WorkerSlot* worker : workers) {
    ASSERT_NE(worker, nullptr);
    pool_.MoveWorker(*worker, WorkerState::kIdle);
    pool_.MarkIdle(*worker, /*now_us=*/100);
  }
  EXPECT_TRUE(pool_.HasIdle(1));
  EXPECT_TRUE(pool_.HasIdle(python_id));
  EXPECT_EQ(pool_.IdleNotOf(1), workers[2]);
  EXPECT_EQ(pool_.IdleNotOf(python_id), workers[0]);

  EXPECT_EQ(pool_.TakeIdle(1), workers[1]);
  EXPECT_EQ(pool_.TakeIdle(1), workers[0]);
  EXPECT_EQ(pool_.TakeIdle(1), nullptr);
  EXPECT_FALSE(pool_.HasIdle(1));
  EXPECT_EQ(pool_.Idle(), std::vector<WorkerSlot*>{workers[2]});

  // A worker that stopped being idle without leaving the list is skipped.
  pool_.MoveWorker(*workers[2], WorkerState::kExiting);
  EXPECT_FALSE(pool_.HasIdle(python_id));
  EXPECT_EQ(pool_.TakeIdle(python_id), nullptr);
  EXPECT_FALSE(pool_.any_idle());
}

TEST_F(WorkerPoolTest, ARetiredWorkerLeavesTheIdleOnesTheFreshCountAndItsSocket) {
  WorkerSlot* fresh = pool_.Spawn(1, /*fresh=*/true, 3, "echo");
  WorkerSlot* pooled = pool_.Spawn(1);
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  UniqueFd worker_side(fds[1]);
  pooled->task_fd = UniqueFd(fds[0]);
  pool_.MoveWorker(*pooled, WorkerState::kIdle);
  pool_.MarkIdle(*pooled, 0);
  pool_.MoveWorker(*fresh, WorkerState::kIdle);

  pool_.Retire(*pooled);
  EXPECT_TRUE(pooled->retiring());
  EXPECT_FALSE(pooled->task_fd.valid());
  char byte;
  EXPECT_EQ(::read(worker_side.get(), &byte, 1), 0);  // The worker reads the end.
  EXPECT_FALSE(pool_.any_idle());

  EXPECT_EQ(pool_.fresh_alive(), 1u);
  pool_.Retire(*fresh);
  pool_.ReleaseFreshSlot(*fresh);  // Counted down once only.
  EXPECT_EQ(pool_.fresh_alive(), 0u);
  EXPECT_EQ(pool_.LivePooled(), 0u);
}

TEST_F(WorkerPoolTest, PooledWorkersCountForTheBudgetAndStartsPerTemplate) {
  const uint64_t python_id = AddPythonTemplate();
  WorkerSlot* idle = pool_.Spawn(1);
  pool_.Spawn(1);
  pool_.Spawn(python_id);
  pool_.Spawn(1, /*fresh=*/true, 5, "echo");  // FRESH workers are not pooled.
  pool_.MoveWorker(*idle, WorkerState::kIdle);
  EXPECT_EQ(pool_.LivePooled(), 3u);
  EXPECT_EQ(pool_.StartingOf(1), 1u);
  EXPECT_EQ(pool_.StartingOf(python_id), 1u);
  EXPECT_EQ(pool_.WorkersOf(python_id).size(), 1u);
  EXPECT_TRUE(pool_.HasWorkersOf(python_id));

  const std::unique_ptr<WorkerSlot> removed = pool_.Remove(pool_.WorkersOf(python_id)[0]);
  ASSERT_NE(removed, nullptr);
  EXPECT_FALSE(pool_.HasWorkersOf(python_id));
  EXPECT_EQ(pool_.Remove(removed->id), nullptr);
}

TEST(SpawnBackoffTest, TheWaitDoublesFromTwentyMillisecondsUpTo640) {
  const std::vector<std::pair<uint64_t, int64_t>> cases = {
      {1, 20}, {2, 40}, {3, 80}, {4, 160}, {5, 320}, {6, 640}, {7, 640}, {100, 640}};
  for (const auto& [failures, millis] : cases) {
    EXPECT_EQ(SpawnRetryDelay(failures), absl::Milliseconds(millis)) << failures << " failures";
  }
}

TEST(SpawnBackoffTest, FailuresOweWorkersUntilTheWaitEndsAndAStartEndsTheRun) {
  const absl::Time start = absl::FromUnixSeconds(1000);
  SpawnBackoff backoff;
  EXPECT_FALSE(backoff.waiting());
  EXPECT_TRUE(backoff.Failed(start, /*owe_pooled=*/true));  // The first: logged.
  EXPECT_FALSE(backoff.Failed(start, /*owe_pooled=*/false));
  EXPECT_FALSE(backoff.Failed(start, /*owe_pooled=*/true));
  EXPECT_TRUE(backoff.waiting());
  EXPECT_EQ(backoff.retry_at(), start + absl::Milliseconds(80));

  EXPECT_EQ(backoff.TakeOwedIfDue(start + absl::Milliseconds(79)), 0u);
  EXPECT_TRUE(backoff.waiting());
  EXPECT_EQ(backoff.TakeOwedIfDue(start + absl::Milliseconds(80)), 2u);
  EXPECT_FALSE(backoff.waiting());
  EXPECT_EQ(backoff.TakeOwedIfDue(start + absl::Seconds(10)), 0u);

  EXPECT_EQ(backoff.Started(), 3u);
  EXPECT_EQ(backoff.Started(), 0u);
  EXPECT_TRUE(backoff.Failed(start, /*owe_pooled=*/false));  // A new run.
  EXPECT_EQ(backoff.retry_at(), start + absl::Milliseconds(20));
}

}  // namespace
}  // namespace pprocd
