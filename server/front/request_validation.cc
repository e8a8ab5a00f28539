#include "server/front/request_validation.h"

#include "absl/strings/str_cat.h"
#include "server/front/status_convert.h"

namespace pprocd {

absl::StatusOr<const CallableDef*> FindCallable(const Registry& registry, const std::string& name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("callable: the first request must name a callable");
  }
  const CallableDef* def = registry.Find(name);
  if (def == nullptr) {
    return absl::NotFoundError(absl::StrCat("callable ", QuoteForStatus(name),
                                            " is not registered (ListCallables shows them)"));
  }
  return def;
}

absl::Status ValidateOptions(const v1::CallOptions& options) {
  if (options.chunksize() > kMaxChunkSize) {
    return absl::InvalidArgumentError(absl::StrCat("options.chunksize: must be at most ",
                                                   kMaxChunkSize, ", got ", options.chunksize()));
  }
  if (options.timeout_ms() > kMaxTimeoutMs) {
    return absl::InvalidArgumentError(absl::StrCat("options.timeout_ms: must be at most ",
                                                   kMaxTimeoutMs, ", got ", options.timeout_ms()));
  }
  switch (options.isolation()) {
    case v1::ISOLATION_UNSPECIFIED:
    case v1::ISOLATION_POOLED:
    case v1::ISOLATION_FRESH:
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("options.isolation: unknown value ", options.isolation()));
  }
  return absl::OkStatus();
}

absl::Status ValidateInputs(
    const CallableDef& def,
    const google::protobuf::RepeatedPtrField<google::protobuf::Value>& inputs,
    uint64_t first_index) {
  BoundArgs args;
  for (int i = 0; i < inputs.size(); ++i) {
    const absl::Status bound = BindArguments(def, inputs[i], &args);
    if (!bound.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("inputs[", first_index + static_cast<uint64_t>(i), "]: ", bound.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateJsonInputs(const CallableDef& def, const InputBlock& inputs,
                                uint64_t first_index) {
  if (def.params.empty() ||
      (def.params.size() == 1 && def.params[0].type == v1::PARAMETER_TYPE_ANY)) {
    return absl::OkStatus();
  }
  BoundArgs args;
  for (size_t i = 0; i < inputs.elements.size(); ++i) {
    const JsonElement& element = inputs.elements[i];
    absl::StatusOr<google::protobuf::Value> value = ParseJson(
        absl::string_view(inputs.json).substr(element.begin, element.end - element.begin));
    absl::Status bound = value.status();
    if (value.ok()) bound = BindArguments(def, *value, &args);
    if (!bound.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("inputs[", first_index + i, "]: ", bound.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace pprocd
