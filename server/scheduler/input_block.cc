#include "server/scheduler/input_block.h"

#include <limits>
#include <utility>

namespace pprocd {

std::shared_ptr<const InputBlock> SingleInputBlock(absl::string_view json) {
  auto block = std::make_shared<InputBlock>();
  block->json.reserve(json.size() + 2);
  block->json.push_back('[');
  block->json.append(json.data(), json.size());
  block->json.push_back(']');
  block->elements.push_back({1, static_cast<uint32_t>(block->json.size() - 1)});
  return block;
}

std::shared_ptr<const InputBlock> EmptyInputBlock() {
  static const auto* const kEmpty = new std::shared_ptr<const InputBlock>(
      std::make_shared<InputBlock>(InputBlock{"[]", {}}));
  return *kEmpty;
}

absl::StatusOr<std::shared_ptr<const InputBlock>> PackedInputBlock(std::string json) {
  auto block = std::make_shared<InputBlock>();
  block->json = std::move(json);
  absl::Status split = SplitJsonArray(block->json, &block->elements);
  if (!split.ok()) return split;
  return block;
}

std::shared_ptr<const InputBlock> ValueInputBlock(
    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values) {
  return ValueInputBlock(values, 0, values.size());
}

std::shared_ptr<const InputBlock> ValueInputBlock(
    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values, int begin, int end) {
  auto block = std::make_shared<InputBlock>();
  block->elements.reserve(static_cast<size_t>(end - begin));
  block->json.push_back('[');
  for (int i = begin; i < end; ++i) {
    if (i > begin) block->json.push_back(',');
    const uint32_t begin = static_cast<uint32_t>(block->json.size());
    AppendJson(values[i], &block->json);
    block->elements.push_back({begin, static_cast<uint32_t>(block->json.size())});
  }
  block->json.push_back(']');
  return block;
}

}  // namespace pprocd
