#include "src/packed.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "pprocd/client/json.h"

namespace pprocd::client::internal {

using google::protobuf::ListValue;
using google::protobuf::RepeatedPtrField;
using google::protobuf::Value;

void PackedInputs::Reset() {
  text_.assign("[");
  last_start_ = 1;
  count_ = 0;
}

void PackedInputs::Add(const Value& value) {
  if (count_ > 0) text_.push_back(',');
  last_start_ = text_.size();
  AppendValueJson(value, &text_);
  ++count_;
}

void PackedInputs::AddJson(absl::string_view json) {
  if (count_ > 0) text_.push_back(',');
  last_start_ = text_.size();
  text_.append(json.data(), json.size());
  ++count_;
}

std::string PackedInputs::TakeLast() {
  std::string last = text_.substr(last_start_);
  // Drop the element and the comma before it (none before the first).
  text_.resize(count_ > 1 ? last_start_ - 1 : last_start_);
  --count_;
  // Only one element can be taken back: the one before it is not tracked.
  last_start_ = text_.size();
  return last;
}

std::string PackedInputs::Take() {
  text_.push_back(']');
  const size_t capacity = text_.capacity();
  std::string array = std::move(text_);
  Reset();
  // The next batch is likely as large: grow once, not by doubling.
  text_.reserve(capacity);
  return array;
}

std::string ToJsonArray(const RepeatedPtrField<Value>& values) {
  std::string out = "[";
  for (int i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendValueJson(values.Get(i), &out);
  }
  out.push_back(']');
  return out;
}

absl::StatusOr<ListValue> ParsePackedValues(absl::string_view json, absl::string_view what) {
  absl::StatusOr<Value> parsed = ParseJsonValue(json);
  if (!parsed.ok()) {
    return absl::InternalError(
        absl::StrCat("the server sent malformed ", what, ": ", parsed.status().message()));
  }
  if (!parsed->has_list_value()) {
    return absl::InternalError(
        absl::StrCat("the server sent malformed ", what, ": not a JSON array"));
  }
  return std::move(*parsed->mutable_list_value());
}

absl::Status ForEachBlockItem(const v1::ResultBlock& block,
                              const std::function<absl::Status(v1::ItemResult&)>& emit) {
  absl::StatusOr<ListValue> values = ParsePackedValues(block.values(), "result values");
  if (!values.ok()) return values.status();
  const int count = static_cast<int>(block.count());
  if (values->values_size() != count ||
      (block.item_stats_size() != 0 && block.item_stats_size() != count)) {
    return absl::InternalError(absl::StrCat("the server sent a malformed result block: ", count,
                                            " items from index ", block.first_index(), ", but ",
                                            values->values_size(), " values and ",
                                            block.item_stats_size(), " item stats"));
  }
  v1::ItemResult result;
  for (int i = 0; i < count; ++i) {
    // Every field is set anew (`emit` may have swapped in another result),
    // without Clear(), which would free the value only to allocate it again.
    result.set_index(block.first_index() + static_cast<uint64_t>(i));
    result.set_seq(0);
    result.set_last(true);
    result.mutable_value()->Swap(values->mutable_values(i));
    if (block.item_stats_size() != 0) {
      *result.mutable_stats() = block.item_stats(i);
    } else {
      result.clear_stats();
    }
    result.clear_logs();
    if (absl::Status emitted = emit(result); !emitted.ok()) return emitted;
  }
  return absl::OkStatus();
}

absl::Status ForEachResult(const RepeatedPtrField<v1::ItemResult>& results,
                           const RepeatedPtrField<v1::ResultBlock>& blocks,
                           const ChunkStatsSink& chunk_stats, const ResultSink& sink) {
  const std::function<absl::Status(v1::ItemResult&)> emit = [&sink](v1::ItemResult& result) {
    return sink(result);
  };
  int r = 0;
  for (const v1::ResultBlock& block : blocks) {
    // Every result before the block comes first.
    for (; r < results.size() && results.Get(r).index() < block.first_index(); ++r) {
      if (absl::Status sunk = sink(results.Get(r)); !sunk.ok()) return sunk;
    }
    if (chunk_stats && block.has_stats()) {
      chunk_stats(block.first_index(), block.count(), block.stats());
    }
    if (absl::Status expanded = ForEachBlockItem(block, emit); !expanded.ok()) return expanded;
  }
  for (; r < results.size(); ++r) {
    if (absl::Status sunk = sink(results.Get(r)); !sunk.ok()) return sunk;
  }
  return absl::OkStatus();
}

}  // namespace pprocd::client::internal
