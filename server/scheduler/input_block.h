// Inputs as the scheduler holds them: blocks of JSON text (the packed form,
// or Value-form inputs printed once by the front), split into elements by
// byte range, and runs of consecutive elements waiting for a worker. Items
// are never copied or parsed one by one here: a chunk for a worker is one
// contiguous byte range of a block (or a few, after a re-run or a cancel).
#ifndef PPROCD_SERVER_SCHEDULER_INPUT_BLOCK_H_
#define PPROCD_SERVER_SCHEDULER_INPUT_BLOCK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/json/json.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"

namespace pprocd {

// One request's inputs: a JSON array and the byte range of each element.
// Immutable once shared.
struct InputBlock {
  std::string json;
  std::vector<JsonElement> elements;
};

// Elements [begin, end) of a block: the inputs numbered first_index,
// first_index + 1, ... of their call.
struct InputRun {
  std::shared_ptr<const InputBlock> block;
  uint32_t begin = 0;
  uint32_t end = 0;
  uint64_t first_index = 0;
  // Runs alone, reporting at once: set when the item was in a chunk whose
  // worker died, to find out which item killed it (a solo run has one item).
  bool solo = false;

  uint64_t size() const { return end - begin; }
  // The first `count` items, and the run without them.
  InputRun Take(uint64_t count) const {
    InputRun head = *this;
    head.end = begin + static_cast<uint32_t>(count);
    return head;
  }
  void Drop(uint64_t count) {
    begin += static_cast<uint32_t>(count);
    first_index += count;
  }
  // The JSON text of elements [begin, end), separators included.
  absl::string_view Text() const {
    if (begin == end) return {};
    const uint32_t from = block->elements[begin].begin;
    const uint32_t to = block->elements[end - 1].end;
    return absl::string_view(block->json).substr(from, to - from);
  }
};

// A block of one element (a Start call's arguments): `json` is one JSON
// value, already checked.
std::shared_ptr<const InputBlock> SingleInputBlock(absl::string_view json);

// A block of no inputs (shared).
std::shared_ptr<const InputBlock> EmptyInputBlock();

// The packed form's inputs: `json` must be a JSON array; InvalidArgument
// "byte N: <reason>" otherwise.
absl::StatusOr<std::shared_ptr<const InputBlock>> PackedInputBlock(std::string json);

// The Value form's inputs, printed as JSON once.
std::shared_ptr<const InputBlock> ValueInputBlock(
    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values);
// Values [begin, end) only.
std::shared_ptr<const InputBlock> ValueInputBlock(
    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values, int begin, int end);

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_INPUT_BLOCK_H_
