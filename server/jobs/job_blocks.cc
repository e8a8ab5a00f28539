#include "server/jobs/job_blocks.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/json/json.h"
#include "server/jobs/result_size.h"

namespace pprocd {
namespace {

// What a ResultBlock adds around its values and stats, at most:
// first_index and count (tags and varints), the tag and length of
// `values`, its brackets, the tag and length of `stats`. Rounded up.
constexpr uint64_t kBlockOverhead = 48;
// What one entry of item_stats adds beyond its own size: tag and length.
constexpr uint64_t kItemStatsOverhead = 4;

// The ranges of the block's values; false unless they are a JSON array of
// block.count() values (and item_stats, if any, one per item).
bool SplitBlock(const v1::ResultBlock& block, std::vector<JsonElement>* elements) {
  if (!SplitJsonArray(block.values(), elements).ok()) return false;
  const size_t count = block.count();
  return elements->size() == count &&
         (block.item_stats_size() == 0 || static_cast<size_t>(block.item_stats_size()) == count);
}

bool HasItemStats(const v1::ResultBlock& block) {
  return block.item_stats_size() > 0 &&
         static_cast<uint32_t>(block.item_stats_size()) == block.count();
}

// Items [from, to) of `block`, whose value ranges are `elements`.
v1::ResultBlock Slice(const v1::ResultBlock& block, const std::vector<JsonElement>& elements,
                      uint32_t from, uint32_t to) {
  v1::ResultBlock part;
  part.set_first_index(block.first_index() + from);
  part.set_count(to - from);
  std::string* values = part.mutable_values();
  const uint32_t begin = elements[from].begin;
  const uint32_t end = elements[to - 1].end;
  values->reserve(end - begin + 2);
  values->push_back('[');
  values->append(block.values(), begin, end - begin);
  values->push_back(']');
  if (HasItemStats(block)) {
    part.mutable_item_stats()->Reserve(static_cast<int>(to - from));
    for (uint32_t i = from; i < to; ++i)
      *part.add_item_stats() = block.item_stats(static_cast<int>(i));
  }
  if (from == 0 && block.has_stats()) *part.mutable_stats() = block.stats();
  return part;
}

// Item `i` of `block` as a result without its outcome.
v1::ItemResult ItemOf(const v1::ResultBlock& block, uint32_t i) {
  v1::ItemResult result;
  result.set_index(block.first_index() + i);
  result.set_last(true);
  if (HasItemStats(block)) *result.mutable_stats() = block.item_stats(static_cast<int>(i));
  return result;
}

NewOutput ResultOutput(const v1::ItemResult& result) {
  NewOutput output;
  output.kind = OutputKind::kResult;
  result.SerializeToString(&output.payload);
  return output;
}

absl::Status Unreadable(const v1::ResultBlock& block) {
  return absl::DataLossError(absl::StrCat("the stored block of items ", block.first_index(), " to ",
                                          block.first_index() + block.count(), " is unreadable"));
}

}  // namespace

uint64_t AppendBlockOutputs(v1::ResultBlock block, uint64_t max_message_bytes,
                            std::vector<NewOutput>* outputs) {
  const uint32_t count = block.count();
  if (count == 0) return 0;
  std::vector<JsonElement> elements;
  if (!SplitBlock(block, &elements)) {
    // Its items are not lost: each is stored as a failure.
    for (uint32_t i = 0; i < count; ++i) {
      v1::ItemResult result = ItemOf(block, i);
      result.mutable_error()->set_kind(v1::ERROR_KIND_CRASHED);
      result.mutable_error()->set_message("the worker sent a malformed block of results");
      outputs->push_back(ResultOutput(result));
    }
    return count;
  }
  const uint64_t limit = MaxSendableResultBytes(max_message_bytes);
  if (block.ByteSizeLong() <= limit) {
    NewOutput output;
    output.kind = OutputKind::kBlock;
    output.count = count;
    block.SerializeToString(&output.payload);
    outputs->push_back(std::move(output));
    return 0;
  }
  // Cut into parts that fit, by an estimate of their size that is never
  // below it.
  const bool item_stats = HasItemStats(block);
  uint64_t failed = 0;
  uint32_t from = 0;
  while (from < count) {
    uint64_t bytes = kBlockOverhead + (from == 0 ? block.stats().ByteSizeLong() : 0);
    uint32_t to = from;
    uint64_t item = 0;
    while (to < count) {
      item = elements[to].end - elements[to].begin + 1;
      if (item_stats) {
        item += block.item_stats(static_cast<int>(to)).ByteSizeLong() + kItemStatsOverhead;
      }
      if (bytes + item > limit) break;
      bytes += item;
      ++to;
    }
    if (to == from) {
      // Too large alone: it fails, and the items after it go on.
      outputs->push_back(
          ResultOutput(TooLargeResult(ItemOf(block, from), bytes + item, max_message_bytes)));
      ++failed;
      ++from;
      continue;
    }
    NewOutput output;
    output.kind = OutputKind::kBlock;
    output.count = to - from;
    Slice(block, elements, from, to).SerializeToString(&output.payload);
    outputs->push_back(std::move(output));
    from = to;
  }
  return failed;
}

absl::StatusOr<v1::ResultBlock> BlockTail(const v1::ResultBlock& block, uint32_t skip) {
  if (skip >= block.count()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot skip ", skip, " items of a block of ", block.count()));
  }
  if (skip == 0) return block;
  std::vector<JsonElement> elements;
  if (!SplitBlock(block, &elements)) return Unreadable(block);
  return Slice(block, elements, skip, block.count());
}

absl::Status AppendBlockItems(const v1::ResultBlock& block, uint32_t skip, uint32_t max_items,
                              uint64_t max_message_bytes, std::vector<v1::ItemResult>* results) {
  std::vector<JsonElement> elements;
  if (!SplitBlock(block, &elements)) return Unreadable(block);
  const uint64_t limit = MaxSendableResultBytes(max_message_bytes);
  const uint32_t end =
      static_cast<uint32_t>(std::min<uint64_t>(block.count(), uint64_t{skip} + max_items));
  const absl::string_view values = block.values();
  for (uint32_t i = skip; i < end; ++i) {
    absl::StatusOr<google::protobuf::Value> value =
        ParseJson(values.substr(elements[i].begin, elements[i].end - elements[i].begin));
    if (!value.ok()) return Unreadable(block);
    v1::ItemResult result = ItemOf(block, i);
    *result.mutable_value() = *std::move(value);
    const uint64_t size = result.ByteSizeLong();
    if (size > limit) result = TooLargeResult(result, size, max_message_bytes);
    results->push_back(std::move(result));
  }
  return absl::OkStatus();
}

}  // namespace pprocd
