// Checks of Map/Queue requests that happen before any work starts: the
// callable exists, the options are in range, and every input binds to the
// callable's parameters. Pure functions over a read-only Registry; any thread.
#ifndef PPROCD_SERVER_FRONT_REQUEST_VALIDATION_H_
#define PPROCD_SERVER_FRONT_REQUEST_VALIDATION_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/v1/item.pb.h"
#include "server/scheduler/input_block.h"
#include "worker/registry.h"

namespace pprocd {

inline constexpr uint32_t kMaxChunkSize = 100000;
inline constexpr uint32_t kMaxTimeoutMs = 7 * 24 * 3600 * 1000u;

// The callable named `name`: NotFound when there is none, InvalidArgument
// when the name is empty.
absl::StatusOr<const CallableDef*> FindCallable(const Registry& registry, const std::string& name);

// InvalidArgument naming the first option out of range; Unimplemented for
// options a later version will support.
absl::Status ValidateOptions(const v1::CallOptions& options);

// InvalidArgument "inputs[N]: ..." for the first input that does not bind;
// `first_index` is the call-wide index of inputs[0].
absl::Status ValidateInputs(
    const CallableDef& def,
    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& inputs,
    uint64_t first_index);

// The same check over the packed form's inputs (a split JSON array):
// InvalidArgument "inputs[N]: ..." naming the call-wide index. Callables
// that take any value (no parameters, or one of type ANY) need no look at
// the items; others have each item parsed once.
absl::Status ValidateJsonInputs(const CallableDef& def, const InputBlock& inputs,
                                uint64_t first_index);

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_REQUEST_VALIDATION_H_
