#include "server/scheduler/ordering_buffer.h"

#include <gtest/gtest.h>

#include "server/scheduler/chunking.h"

namespace pprocd {
namespace {

ResultPiece Result(uint64_t index, uint64_t seq = 0, bool last = true) {
  auto result = std::make_unique<v1::ItemResult>();
  result->set_index(index);
  result->set_seq(seq);
  result->set_last(last);
  return ResultPiece(std::move(result));
}

ResultPiece Block(uint64_t first_index, uint32_t count) {
  auto block = std::make_unique<v1::ResultBlock>();
  block->set_first_index(first_index);
  block->set_count(count);
  return ResultPiece(std::move(block));
}

std::vector<std::pair<uint64_t, uint64_t>> IndexSeqs(const std::vector<ResultPiece>& results) {
  std::vector<std::pair<uint64_t, uint64_t>> pairs;
  for (const auto& piece : results) pairs.emplace_back(piece.index(), piece.result->seq());
  return pairs;
}

std::vector<uint64_t> Indices(const std::vector<ResultPiece>& results) {
  std::vector<uint64_t> indices;
  for (const auto& piece : results) indices.push_back(piece.index());
  return indices;
}

TEST(OrderingBufferTest, ReleasesOnlyCompletePrefixes) {
  OrderingBuffer buffer;
  std::vector<ResultPiece> out;
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
  std::vector<ResultPiece> out;
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

TEST(OrderingBufferTest, OrdersBlocksAsWholesBesideSingleResults) {
  OrderingBuffer buffer;
  std::vector<ResultPiece> out;
  buffer.Add(Block(5, 3));  // 5, 6, 7
  buffer.Add(Result(4));    // a failure between blocks
  buffer.Add(Block(8, 2));  // 8, 9
  EXPECT_EQ(buffer.held(), 6u);
  buffer.PopReady(&out);
  EXPECT_TRUE(out.empty());
  buffer.Add(Block(0, 4));  // 0..3
  buffer.PopReady(&out);
  EXPECT_EQ(Indices(out), (std::vector<uint64_t>{0, 4, 5, 8}));
  EXPECT_EQ(buffer.next_index(), 10u);
  EXPECT_EQ(buffer.held(), 0u);
}

TEST(ChunkingTest, AutomaticSizeFollowsPoolMapRuleWithinBounds) {
  EXPECT_EQ(AutoChunkSize(1000, 0, 2), 125u);  // ceil(1000 / 8)
  EXPECT_EQ(AutoChunkSize(1001, 0, 2), 126u);
  EXPECT_EQ(AutoChunkSize(3, 0, 4), 1u);
  EXPECT_EQ(AutoChunkSize(10000000, 0, 2), kMaxAutoChunk);
  EXPECT_EQ(AutoChunkSize(0, 80, 2), 10u);  // unknown total: from what is pending
  EXPECT_EQ(AutoChunkSize(0, 0, 0), 1u);
}

TEST(ChunkingTest, ChunksShrinkTowardTheEndOfAKnownTotal) {
  // 10000 items on 2 workers: 1250 while 5000 or more are left, then half
  // of each worker's share of what is left.
  EXPECT_EQ(AutoChunkSize(10000, 10000, 2), 1250u);
  EXPECT_EQ(AutoChunkSize(10000, 5000, 2), 1250u);
  EXPECT_EQ(AutoChunkSize(10000, 3750, 2), 938u);  // ceil(3750 / 4)
  EXPECT_EQ(AutoChunkSize(10000, 3, 2), 1u);
  EXPECT_EQ(AutoChunkSize(64, 24, 2), 6u);
  // Without a known total, what is pending sets the size as before.
  EXPECT_EQ(AutoChunkSize(0, 3750, 2), 469u);
}

TEST(ChunkingTest, ChunkRespectsPendingAndLimit) {
  EXPECT_EQ(ChunkToSend(100, 30, 0, 0), 30u);
  EXPECT_EQ(ChunkToSend(100, 300, 5, 2), 3u);
  EXPECT_EQ(ChunkToSend(100, 300, 5, 5), 0u);
  EXPECT_EQ(ChunkToSend(0, 300, 0, 0), 1u);
}

}  // namespace
}  // namespace pprocd
