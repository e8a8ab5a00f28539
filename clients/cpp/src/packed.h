// Internal: the client's side of the packed form of items
// (CallOptions.packed): inputs go out as one JSON array per request, and
// successful results come back as ResultBlocks (a JSON array of values
// each), which are expanded here into the one ItemResult per item the
// library hands its user, exactly as the Value form would give it.
//
// Thread-safety: PackedInputs is used by one thread at a time; the
// functions are pure.
#ifndef PPROCD_CLIENTS_CPP_SRC_PACKED_H_
#define PPROCD_CLIENTS_CPP_SRC_PACKED_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/client/client.h"
#include "pprocd/v1/item.pb.h"

namespace pprocd::client::internal {

// The JSON array of one request's inputs, built one input at a time: each
// input is printed once, straight into the array's text.
class PackedInputs {
 public:
  PackedInputs() { Reset(); }

  // Appends `value` as the array's next element.
  void Add(const google::protobuf::Value& value);
  // Appends an element already printed as JSON (from TakeLast()).
  void AddJson(absl::string_view json);
  // Removes the last element and returns its JSON text. count() > 0.
  std::string TakeLast();
  // Returns the finished array ("[a,b,...]") and starts an empty one.
  std::string Take();

  int count() const { return count_; }
  // The size of the array's text once finished.
  size_t bytes() const { return text_.size() + 1; }

 private:
  void Reset();

  std::string text_;       // "[" and the elements so far, comma-separated.
  size_t last_start_ = 0;  // Where the last element's text begins.
  int count_ = 0;
};

// Returns `values` as one JSON array ("[]" when empty).
std::string ToJsonArray(const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values);

// Parses `json`, a JSON array the server sent (ResultBlock.values,
// StartResponse.packed_messages), into its elements. INTERNAL naming `what`
// when it is not a JSON array.
absl::StatusOr<google::protobuf::ListValue> ParsePackedValues(absl::string_view json,
                                                              absl::string_view what);

// Calls `emit` once per item of `block`, in order, with the ItemResult the
// Value form would have carried: index first_index + i, seq 0, last, the
// item's value, and its own stats when the block has them
// (ITEM_STATS_PER_ITEM). The ItemResult is reused between calls: `emit` may
// take from it. Stops at emit's first error and returns it; INTERNAL when
// the block is malformed (values not a JSON array of `count` elements,
// item_stats neither empty nor `count` long).
absl::Status ForEachBlockItem(const v1::ResultBlock& block,
                              const std::function<absl::Status(v1::ItemResult&)>& emit);

// Passes every result of one Map or Queue response to `sink`: `results` and
// the items of `blocks` merged by index (each list is in index order in a
// Map response; in a Queue response the merge keeps each list's order).
// Before a block's items, `chunk_stats` (if set) gets the block's totals
// when it has them (ITEM_STATS_PER_CHUNK). Returns the sink's first error,
// or INTERNAL for a malformed block.
absl::Status ForEachResult(const google::protobuf::RepeatedPtrField<v1::ItemResult>& results,
                           const google::protobuf::RepeatedPtrField<v1::ResultBlock>& blocks,
                           const ChunkStatsSink& chunk_stats, const ResultSink& sink);

}  // namespace pprocd::client::internal

#endif  // PPROCD_CLIENTS_CPP_SRC_PACKED_H_
