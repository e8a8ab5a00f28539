#include "server/scheduler/worker_slot.h"

#include <gtest/gtest.h>

#include "google/protobuf/struct.pb.h"

namespace pprocd {
namespace {

TEST(WorkerSlotTest, SplicedTaskFrameParsesAsTheSameTaskFrame) {
  WorkerSlot worker;
  worker.task_id = 77;
  worker.report_each = true;
  for (int i = 0; i < 300; ++i) {
    google::protobuf::Value value;
    if (i % 2 == 0) {
      value.set_number_value(i);
    } else {
      value.set_string_value(std::string(static_cast<size_t>(i), 's'));
    }
    worker.inputs.push_back(value.SerializeAsString());
  }
  worker.QueueTaskFrame("echo");
  FrameReader reader;
  reader.Append(worker.outbox);
  std::string_view payload;
  bool got = false;
  ASSERT_TRUE(reader.Next(&payload, &got).ok());
  ASSERT_TRUE(got);
  EXPECT_EQ(reader.pending_bytes(), 0u);
  wire::v1::TaskFrame task;
  ASSERT_TRUE(task.ParseFromArray(payload.data(), static_cast<int>(payload.size())));
  EXPECT_EQ(task.task_id(), 77u);
  EXPECT_EQ(task.callable(), "echo");
  EXPECT_TRUE(task.report_each());
  ASSERT_EQ(task.inputs_size(), 300);
  EXPECT_EQ(task.inputs(200).number_value(), 200);
  EXPECT_EQ(task.inputs(201).string_value(), std::string(201, 's'));
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

}  // namespace
}  // namespace pprocd
