#include "server/jobs/recent_outputs.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace pprocd {
namespace {

std::vector<NewOutput> OutputsOfSize(int count, size_t size = 4) {
  std::vector<NewOutput> outputs;
  for (int i = 0; i < count; ++i) outputs.push_back({OutputKind::kResult, std::string(size, 'x')});
  return outputs;
}

std::vector<int64_t> Seqs(const std::optional<std::vector<JobOutput>>& outputs) {
  std::vector<int64_t> seqs;
  if (outputs.has_value()) {
    for (const JobOutput& output : *outputs) seqs.push_back(output.seq);
  }
  return seqs;
}

TEST(RecentOutputsTest, AnswersOnlyReadsThatStartInsideWhatItHolds) {
  RecentOutputs tail(100, 1 << 20);
  tail.Add("a", 5, OutputsOfSize(3));  // seqs 5, 6, 7
  EXPECT_EQ(Seqs(tail.Read("a", 4, 10, 1 << 20)), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(Seqs(tail.Read("a", 5, 1, 1 << 20)), (std::vector<int64_t>{6}));
  EXPECT_FALSE(tail.Read("a", 3, 10, 1 << 20).has_value()) << "seq 4 is only in the store";
  EXPECT_FALSE(tail.Read("a", 7, 10, 1 << 20).has_value()) << "only the store knows what is newer";
  EXPECT_FALSE(tail.Read("b", 0, 10, 1 << 20).has_value());
  tail.Drop("a");
  EXPECT_FALSE(tail.Read("a", 4, 10, 1 << 20).has_value());
}

TEST(RecentOutputsTest, KeepsTheNewestWithinItsBoundsAndRestartsAtAGap) {
  RecentOutputs tail(4, 1 << 20);
  tail.Add("a", 1, OutputsOfSize(3));
  tail.Add("a", 4, OutputsOfSize(3));  // holds 3..6
  EXPECT_FALSE(tail.Read("a", 1, 10, 1 << 20).has_value());
  EXPECT_EQ(Seqs(tail.Read("a", 2, 10, 1 << 20)), (std::vector<int64_t>{3, 4, 5, 6}));
  tail.Add("a", 9, OutputsOfSize(1));  // not after 6: starts over
  EXPECT_FALSE(tail.Read("a", 6, 10, 1 << 20).has_value());
  EXPECT_EQ(Seqs(tail.Read("a", 8, 10, 1 << 20)), (std::vector<int64_t>{9}));

  RecentOutputs small(100, 10);
  small.Add("b", 1, OutputsOfSize(5, 4));  // 20 bytes: keeps the last 2
  EXPECT_EQ(Seqs(small.Read("b", 3, 10, 1 << 20)), (std::vector<int64_t>{4, 5}));
  EXPECT_FALSE(small.Read("b", 2, 10, 1 << 20).has_value());
}

TEST(RecentOutputsTest, AReadStopsOnceItsPayloadsReachMaxBytesButAlwaysGivesOne) {
  RecentOutputs tail(100, 1 << 20);
  tail.Add("a", 1, OutputsOfSize(5, 10));
  EXPECT_EQ(Seqs(tail.Read("a", 0, 10, 25)), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Seqs(tail.Read("a", 0, 10, 1)), (std::vector<int64_t>{1}));
  const std::optional<std::vector<JobOutput>> one = tail.Read("a", 4, 10, 1 << 20);
  ASSERT_TRUE(one.has_value());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ(one->front().payload, std::string(10, 'x'));
  EXPECT_EQ(one->front().kind, OutputKind::kResult);
}

TEST(RecentOutputsTest, ABlockTakesItsCountOfSeqsAndAReadInsideItStartsWithIt) {
  RecentOutputs tail(100, 1 << 20);
  // Seqs: 5, 6..9 (a block of 4), 10.
  tail.Add("a", 5,
           {{OutputKind::kState, "s"}, {OutputKind::kBlock, "b", 4}, {OutputKind::kResult, "r"}});
  EXPECT_EQ(Seqs(tail.Read("a", 4, 10, 1 << 20)), (std::vector<int64_t>{5, 6, 10}));
  EXPECT_EQ(Seqs(tail.Read("a", 5, 10, 1 << 20)), (std::vector<int64_t>{6, 10}));
  EXPECT_EQ(Seqs(tail.Read("a", 7, 10, 1 << 20)), (std::vector<int64_t>{6, 10}));
  EXPECT_EQ(Seqs(tail.Read("a", 8, 1, 1 << 20)), (std::vector<int64_t>{6}));
  EXPECT_EQ(Seqs(tail.Read("a", 9, 10, 1 << 20)), (std::vector<int64_t>{10}));
  EXPECT_FALSE(tail.Read("a", 10, 10, 1 << 20).has_value());
  const std::optional<std::vector<JobOutput>> block = tail.Read("a", 6, 1, 1 << 20);
  ASSERT_TRUE(block.has_value());
  EXPECT_EQ(block->front().count, 4);
  EXPECT_EQ(block->front().last_seq(), 9);
  // The next outputs follow the block's last seq.
  tail.Add("a", 11, OutputsOfSize(1));
  EXPECT_EQ(Seqs(tail.Read("a", 9, 10, 1 << 20)), (std::vector<int64_t>{10, 11}));
  tail.Add("a", 13, OutputsOfSize(1));  // not after 11: starts over
  EXPECT_FALSE(tail.Read("a", 9, 10, 1 << 20).has_value());
}

}  // namespace
}  // namespace pprocd
