#include "server/jobs/job_blocks.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/jobs/result_size.h"
#include "tests/util/status_matchers.h"

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;

// A block of items first..first+count-1 whose values are "v<index>" strings
// of `size` bytes, with per-item stats (wall_us = index) if asked.
v1::ResultBlock Block(uint64_t first, uint32_t count, size_t size = 4, bool item_stats = false) {
  v1::ResultBlock block;
  block.set_first_index(first);
  block.set_count(count);
  std::string values = "[";
  for (uint32_t i = 0; i < count; ++i) {
    if (i > 0) values += ',';
    std::string text = absl::StrCat("v", first + i);
    text.resize(std::max(size, text.size()), 'x');
    absl::StrAppend(&values, "\"", text, "\"");
    if (item_stats) block.add_item_stats()->set_wall_us(first + i);
  }
  values += ']';
  block.set_values(values);
  block.mutable_stats()->set_wall_us(12345);
  return block;
}

v1::ResultBlock ParseBlock(const NewOutput& output) {
  EXPECT_EQ(output.kind, OutputKind::kBlock);
  v1::ResultBlock block;
  EXPECT_TRUE(block.ParseFromString(output.payload));
  EXPECT_EQ(static_cast<int64_t>(block.count()), output.count);
  return block;
}

// The values of `results`, as strings, in order.
std::vector<std::string> Values(const std::vector<v1::ItemResult>& results) {
  std::vector<std::string> values;
  for (const v1::ItemResult& result : results) values.push_back(result.value().string_value());
  return values;
}

TEST(JobBlocksTest, ABlockThatFitsIsStoredWhole) {
  std::vector<NewOutput> outputs;
  const v1::ResultBlock block = Block(10, 5);
  EXPECT_EQ(AppendBlockOutputs(block, 4 << 20, &outputs), 0u);
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_EQ(outputs[0].count, 5);
  EXPECT_EQ(ParseBlock(outputs[0]).SerializeAsString(), block.SerializeAsString());
}

// Cut into parts that fit one message; an item too large alone fails, and
// every item keeps its place.
TEST(JobBlocksTest, ABlockTooLargeIsCutAndAnItemTooLargeAloneFails) {
  const uint64_t max_message = 4096;
  v1::ResultBlock block = Block(100, 30, 300, /*item_stats=*/true);
  // Item 110 alone is larger than a message.
  std::string values = block.values();
  const std::string item = "\"v110xxx";
  const size_t at = values.find(item);
  ASSERT_NE(at, std::string::npos);
  values.insert(at + 1, std::string(5000, 'y'));
  block.set_values(values);
  std::vector<NewOutput> outputs;
  EXPECT_EQ(AppendBlockOutputs(block, max_message, &outputs), 1u);
  ASSERT_GT(outputs.size(), 3u);
  uint64_t next = 100;
  for (const NewOutput& output : outputs) {
    EXPECT_LE(output.payload.size(), MaxSendableResultBytes(max_message));
    if (output.kind == OutputKind::kResult) {
      v1::ItemResult failed;
      ASSERT_TRUE(failed.ParseFromString(output.payload));
      EXPECT_EQ(failed.index(), 110u);
      EXPECT_EQ(next, 110u);
      EXPECT_EQ(failed.error().kind(), v1::ERROR_KIND_RAISED);
      EXPECT_NE(failed.error().message().find("exceeds the largest message"), std::string::npos);
      EXPECT_EQ(failed.stats().wall_us(), 110u) << "its own stats";
      ++next;
      continue;
    }
    const v1::ResultBlock part = ParseBlock(output);
    EXPECT_EQ(part.first_index(), next);
    ASSERT_EQ(part.item_stats_size(), static_cast<int>(part.count()));
    EXPECT_EQ(part.item_stats(0).wall_us(), next);
    EXPECT_EQ(part.has_stats(), next == 100) << "the totals stay with the first item";
    std::vector<v1::ItemResult> items;
    ASSERT_OK(AppendBlockItems(part, 0, 1000, max_message, &items));
    ASSERT_EQ(items.size(), part.count());
    for (const v1::ItemResult& result : items) {
      EXPECT_EQ(result.index(), next);
      EXPECT_EQ(result.value().string_value().substr(0, 4), absl::StrCat("v", next));
      ++next;
    }
  }
  EXPECT_EQ(next, 130u);
}

TEST(JobBlocksTest, AMalformedBlockIsStoredAsOneFailurePerItem) {
  v1::ResultBlock block = Block(7, 3);
  block.set_values("[1,2");
  std::vector<NewOutput> outputs;
  EXPECT_EQ(AppendBlockOutputs(block, 4 << 20, &outputs), 3u);
  ASSERT_EQ(outputs.size(), 3u);
  for (size_t i = 0; i < outputs.size(); ++i) {
    EXPECT_EQ(outputs[i].kind, OutputKind::kResult);
    EXPECT_EQ(outputs[i].count, 1);
    v1::ItemResult failed;
    ASSERT_TRUE(failed.ParseFromString(outputs[i].payload));
    EXPECT_EQ(failed.index(), 7 + i);
    EXPECT_TRUE(failed.last());
    EXPECT_EQ(failed.error().kind(), v1::ERROR_KIND_CRASHED);
  }
  // One value short of its count: malformed too.
  block = Block(7, 3);
  block.set_count(4);
  outputs.clear();
  EXPECT_EQ(AppendBlockOutputs(block, 4 << 20, &outputs), 4u);
}

TEST(JobBlocksTest, ATailHoldsTheItemsAfterTheSkippedOnes) {
  const v1::ResultBlock block = Block(20, 5, 4, /*item_stats=*/true);
  ASSERT_OK_AND_ASSIGN(v1::ResultBlock whole, BlockTail(block, 0));
  EXPECT_EQ(whole.SerializeAsString(), block.SerializeAsString());
  ASSERT_OK_AND_ASSIGN(v1::ResultBlock tail, BlockTail(block, 3));
  EXPECT_EQ(tail.first_index(), 23u);
  EXPECT_EQ(tail.count(), 2u);
  EXPECT_EQ(tail.values(), "[\"v23x\",\"v24x\"]");
  ASSERT_EQ(tail.item_stats_size(), 2);
  EXPECT_EQ(tail.item_stats(1).wall_us(), 24u);
  EXPECT_FALSE(tail.has_stats());
  EXPECT_THAT(BlockTail(block, 5), StatusIs(absl::StatusCode::kInvalidArgument));
  v1::ResultBlock broken = block;
  broken.set_values("[oops]");
  EXPECT_THAT(BlockTail(broken, 1), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(JobBlocksTest, ItemsComeAsTheValueFormHasThem) {
  v1::ResultBlock block;
  block.set_first_index(4);
  block.set_count(4);
  block.set_values(R"([1.5, {"a": [true, null]}, "NaN", "s"])");
  for (int i = 0; i < 4; ++i) block.add_item_stats()->set_cpu_us(static_cast<uint64_t>(i + 1));
  std::vector<v1::ItemResult> items;
  ASSERT_OK(AppendBlockItems(block, 1, 2, 4 << 20, &items));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].index(), 5u);
  EXPECT_TRUE(items[0].last());
  EXPECT_EQ(items[0].seq(), 0u);
  EXPECT_EQ(items[0].stats().cpu_us(), 2u);
  ASSERT_TRUE(items[0].value().has_struct_value());
  EXPECT_TRUE(items[0].value().struct_value().fields().at("a").list_value().values(0).bool_value());
  EXPECT_EQ(items[1].value().string_value(), "NaN");
  // To the end, whatever the budget.
  items.clear();
  ASSERT_OK(AppendBlockItems(block, 2, 100, 4 << 20, &items));
  EXPECT_EQ(Values(items), (std::vector<std::string>{"NaN", "s"}));
  EXPECT_EQ(items[1].index(), 7u);

  // A value whose ItemResult would not fit in a message: a failed item.
  v1::ResultBlock numbers;
  numbers.set_first_index(0);
  numbers.set_count(1);
  std::string list = "[[";
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&list, i > 0 ? "," : "", 1);
  list += "]]";
  numbers.set_values(list);
  items.clear();
  ASSERT_OK(AppendBlockItems(numbers, 0, 1, 4096, &items));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].error().kind(), v1::ERROR_KIND_RAISED);
  EXPECT_LE(items[0].ByteSizeLong(), MaxSendableResultBytes(4096));
}

}  // namespace
}  // namespace pprocd
