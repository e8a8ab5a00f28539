#include "server/scheduler/ordering_buffer.h"

#include <gtest/gtest.h>

#include "server/scheduler/chunking.h"

namespace pprocd {
namespace {

ResultPtr Result(uint64_t index, uint64_t seq = 0, bool last = true) {
  auto result = std::make_unique<v1::ItemResult>();
  result->set_index(index);
  result->set_seq(seq);
  result->set_last(last);
  return result;
}

std::vector<std::pair<uint64_t, uint64_t>> IndexSeqs(const std::vector<ResultPtr>& results) {
  std::vector<std::pair<uint64_t, uint64_t>> pairs;
  for (const auto& result : results) pairs.emplace_back(result->index(), result->seq());
  return pairs;
}

std::vector<uint64_t> Indices(const std::vector<ResultPtr>& results) {
  std::vector<uint64_t> indices;
  for (const auto& result : results) indices.push_back(result->index());
  return indices;
}

TEST(OrderingBufferTest, ReleasesOnlyCompletePrefixes) {
  OrderingBuffer buffer;
  std::vector<ResultPtr> out;
  buffer.Add(Result(2));
  buffer.Add(Result(1));
  buffer.PopReady(&out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(buffer.held(), 2u);
  buffer.Add(Result(0));
  buffer.PopReady(&out);
  EXPECT_EQ(Indices(out), (std::vector<uint64_t>{0, 1, 2}));
  EXPECT_EQ(buffer.next_index(), 3u);
  buffer.Add(Result(5));
  buffer.Add(Result(3));
  out.clear();
  buffer.PopReady(&out);
  EXPECT_EQ(Indices(out), (std::vector<uint64_t>{3}));
  EXPECT_EQ(buffer.held(), 1u);
}

TEST(OrderingBufferTest, StreamsTheHeadInputsMessagesAndHoldsLaterOnes) {
  OrderingBuffer buffer;
  std::vector<ResultPtr> out;
  buffer.Add(Result(1, 0, false));
  buffer.Add(Result(0, 0, false));
  buffer.PopReady(&out);
  // Input 0's message goes at once; input 1's waits for input 0 to end.
  EXPECT_EQ(IndexSeqs(out), (std::vector<std::pair<uint64_t, uint64_t>>{{0, 0}}));
  EXPECT_EQ(buffer.held(), 1u);
  buffer.Add(Result(1, 1, false));
  buffer.Add(Result(1, 2, true));
  buffer.Add(Result(0, 1, true));
  out.clear();
  buffer.PopReady(&out);
  EXPECT_EQ(IndexSeqs(out),
            (std::vector<std::pair<uint64_t, uint64_t>>{{0, 1}, {1, 0}, {1, 1}, {1, 2}}));
  EXPECT_EQ(buffer.held(), 0u);
  EXPECT_EQ(buffer.next_index(), 2u);
}

TEST(ChunkingTest, AutomaticSizeFollowsPoolMapRuleWithinBounds) {
  EXPECT_EQ(AutoChunkSize(1000, 0, 2), 125u);  // ceil(1000 / 8)
  EXPECT_EQ(AutoChunkSize(1001, 0, 2), 126u);
  EXPECT_EQ(AutoChunkSize(3, 0, 4), 1u);
  EXPECT_EQ(AutoChunkSize(10000000, 0, 2), kMaxAutoChunk);
  EXPECT_EQ(AutoChunkSize(0, 80, 2), 10u);  // unknown total: from what is pending
  EXPECT_EQ(AutoChunkSize(0, 0, 0), 1u);
}

TEST(ChunkingTest, ChunkRespectsPendingAndLimit) {
  EXPECT_EQ(ChunkToSend(100, 30, 0, 0), 30u);
  EXPECT_EQ(ChunkToSend(100, 300, 5, 2), 3u);
  EXPECT_EQ(ChunkToSend(100, 300, 5, 5), 0u);
  EXPECT_EQ(ChunkToSend(0, 300, 0, 0), 1u);
}

}  // namespace
}  // namespace pprocd
