#include "server/scheduler/worker_slot.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

std::shared_ptr<const InputBlock> Block(const std::string& json) {
  absl::StatusOr<std::shared_ptr<const InputBlock>> block = PackedInputBlock(json);
  EXPECT_OK(block);
  return *block;
}

InputRun MakeRun(std::shared_ptr<const InputBlock> block, uint32_t begin, uint32_t end,
                 uint64_t first_index) {
  InputRun run;
  run.block = std::move(block);
  run.begin = begin;
  run.end = end;
  run.first_index = first_index;
  return run;
}

TEST(WorkerSlotTest, TaskFrameJoinsTheRunsIntoOneJsonArray) {
  WorkerSlot worker;
  worker.task.id = 77;
  worker.task.report_each = true;
  worker.task.packed_results = true;
  worker.task.item_stats = v1::ITEM_STATS_NONE;
  const auto first = Block(R"([0, "s", {"a": [1, 2]} , 3])");
  const auto second = Block(R"(["x","y"])");
  worker.task.runs.push_back(MakeRun(first, 1, 4, 1));
  worker.task.runs.push_back(MakeRun(second, 0, 1, 9));
  worker.QueueTaskFrame("echo");
  FrameReader reader;
  reader.Append(worker.outbox);
  std::string_view payload;
  bool got = false;
  ASSERT_OK(reader.Next(&payload, &got));
  ASSERT_TRUE(got);
  EXPECT_EQ(reader.pending_bytes(), 0u);
  wire::v1::TaskFrame task;
  ASSERT_TRUE(task.ParseFromArray(payload.data(), static_cast<int>(payload.size())));
  EXPECT_EQ(task.task_id(), 77u);
  EXPECT_EQ(task.callable(), "echo");
  EXPECT_TRUE(task.report_each());
  EXPECT_TRUE(task.packed_results());
  EXPECT_EQ(task.item_stats(), v1::ITEM_STATS_NONE);
  EXPECT_EQ(task.packed_inputs(), R"(["s", {"a": [1, 2]} , 3,"x"])");
}

TEST(WorkerSlotTest, RunsOfATaskRangeCutTheRunsItCovers) {
  WorkerSlot worker;
  const auto block = Block("[10,11,12,13,14]");
  worker.task.runs.push_back(MakeRun(block, 0, 2, 0));  // items 0, 1
  worker.task.runs.push_back(MakeRun(block, 3, 5, 3));  // items 3, 4 (2 was cancelled)
  const std::vector<InputRun> runs = worker.RunsOf(1, 3);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].first_index, 1u);
  EXPECT_EQ(runs[0].Text(), "11");
  EXPECT_EQ(runs[1].first_index, 3u);
  EXPECT_EQ(runs[1].Text(), "13");
}

TEST(WorkerSlotTest, OutputTailKeepsTheLastLines) {
  OutputTail tail;
  for (int i = 0; i < 1000; ++i) tail.Append("line " + std::to_string(i) + "\n");
  EXPECT_EQ(tail.LastLines(2), "line 998\nline 999");
  tail.Append("partial");
  EXPECT_EQ(tail.LastLines(1), "partial");
}

TEST(WorkerSlotTest, SignalNamesAreSpelledLikeKill) {
  EXPECT_EQ(SignalName(11), "SIGSEGV");
  EXPECT_EQ(SignalName(9), "SIGKILL");
  EXPECT_EQ(SignalName(6), "SIGABRT");
}

TEST(WorkerStateTest, OnlyTheStepsOfAWorkersLifeAreAllowed) {
  using S = WorkerState;
  const std::vector<std::pair<S, S>> allowed = {
      {S::kStarting, S::kIdle}, {S::kIdle, S::kBusy}, {S::kIdle, S::kRetiring},
      {S::kIdle, S::kExiting},  {S::kBusy, S::kIdle},
  };
  const S all[] = {S::kStarting, S::kIdle, S::kBusy, S::kExiting, S::kRetiring};
  for (const S from : all) {
    for (const S to : all) {
      const bool expected =
          std::find(allowed.begin(), allowed.end(), std::make_pair(from, to)) != allowed.end();
      EXPECT_EQ(IsWorkerTransition(from, to), expected)
          << WorkerStateName(from) << " -> " << WorkerStateName(to);
    }
  }
}

TEST(WorkerStateTest, AStepRefusedLeavesTheStateAsItWas) {
  WorkerSlot worker;
  EXPECT_FALSE(worker.MoveTo(WorkerState::kBusy));  // not before it has started
  EXPECT_EQ(worker.state, WorkerState::kStarting);
  EXPECT_TRUE(worker.MoveTo(WorkerState::kIdle));
  EXPECT_TRUE(worker.MoveTo(WorkerState::kRetiring));
  EXPECT_TRUE(worker.retiring());
  EXPECT_FALSE(worker.MoveTo(WorkerState::kIdle));  // a retiring worker never comes back
  EXPECT_EQ(worker.state, WorkerState::kRetiring);
}

}  // namespace
}  // namespace pprocd
