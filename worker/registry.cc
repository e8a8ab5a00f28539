#include "worker/registry.h"

#include <cmath>

#include "absl/strings/str_cat.h"

namespace pprocd {
namespace {

using google::protobuf::Value;

absl::string_view KindName(const Value& value) {
  switch (value.kind_case()) {
    case Value::kNullValue:
      return "null";
    case Value::kNumberValue:
      return "number";
    case Value::kStringValue:
      return "string";
    case Value::kBoolValue:
      return "boolean";
    case Value::kStructValue:
      return "struct";
    case Value::kListValue:
      return "list";
    default:
      return "nothing";
  }
}

absl::string_view TypeName(v1::ParameterType type) {
  switch (type) {
    case v1::PARAMETER_TYPE_INTEGER:
      return "an integer";
    case v1::PARAMETER_TYPE_NUMBER:
      return "a number";
    case v1::PARAMETER_TYPE_STRING:
      return "a string";
    case v1::PARAMETER_TYPE_BOOLEAN:
      return "a boolean";
    case v1::PARAMETER_TYPE_LIST:
      return "a list";
    case v1::PARAMETER_TYPE_STRUCT:
      return "a struct";
    default:
      return "any value";
  }
}

bool MatchesImpl(v1::ParameterType type, const Value& value) {
  switch (type) {
    case v1::PARAMETER_TYPE_INTEGER: {
      if (value.kind_case() != Value::kNumberValue) return false;
      const double number = value.number_value();
      return std::isfinite(number) && std::trunc(number) == number &&
             std::fabs(number) <= 9007199254740992.0;
    }
    case v1::PARAMETER_TYPE_NUMBER:
      return value.kind_case() == Value::kNumberValue;
    case v1::PARAMETER_TYPE_STRING:
      return value.kind_case() == Value::kStringValue;
    case v1::PARAMETER_TYPE_BOOLEAN:
      return value.kind_case() == Value::kBoolValue;
    case v1::PARAMETER_TYPE_LIST:
      return value.kind_case() == Value::kListValue;
    case v1::PARAMETER_TYPE_STRUCT:
      return value.kind_case() == Value::kStructValue;
    default:
      return value.kind_case() != Value::KIND_NOT_SET;
  }
}

absl::Status CheckArg(const CallableDef& def, const ParamSpec& param, const Value& value) {
  if (MatchesImpl(param.type, value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("parameter '", param.name, "' of ", def.name,
                                                 " must be ", TypeName(param.type), ", got ",
                                                 KindName(value)));
}

absl::Status FillDefaults(const CallableDef& def, size_t first, BoundArgs* args) {
  for (size_t i = first; i < def.params.size(); ++i) {
    if ((*args)[i] != nullptr) continue;
    const ParamSpec& param = def.params[i];
    if (!param.default_value.has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("parameter '", param.name, "' of ", def.name, " is required"));
    }
    (*args)[i] = &*param.default_value;
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Registry::Add(CallableDef def) {
  if (def.name.empty()) return absl::InvalidArgumentError("callable without a name");
  if (def.is_channel() ? !def.channel_body : !def.body) {
    return absl::InvalidArgumentError(absl::StrCat("callable ", def.name, " has no body"));
  }
  const std::string name = def.name;
  if (!callables_.emplace(name, std::move(def)).second) {
    return absl::AlreadyExistsError(absl::StrCat("callable ", name, " is registered twice"));
  }
  return absl::OkStatus();
}

bool ValueMatchesType(v1::ParameterType type, const Value& value) {
  return MatchesImpl(type, value);
}

absl::Status Registry::SetLimits(absl::string_view name, const v1::CallableLimits& limits) {
  auto it = callables_.find(name);
  if (it == callables_.end()) {
    return absl::NotFoundError(absl::StrCat("limits for ", name, ": no callable has that name"));
  }
  it->second.limits = limits;
  return absl::OkStatus();
}

const CallableDef* Registry::Find(absl::string_view name) const {
  auto it = callables_.find(name);
  return it == callables_.end() ? nullptr : &it->second;
}

std::vector<const CallableDef*> Registry::All() const {
  std::vector<const CallableDef*> all;
  all.reserve(callables_.size());
  for (const auto& [name, def] : callables_) all.push_back(&def);
  return all;
}

absl::Status BindArguments(const CallableDef& def, const Value& input, BoundArgs* args) {
  const size_t count = def.params.size();
  args->assign(count, nullptr);
  if (count == 0) return absl::OkStatus();
  if (count > 1 && input.kind_case() == Value::kListValue) {
    const auto& values = input.list_value().values();
    if (static_cast<size_t>(values.size()) > count) {
      return absl::InvalidArgumentError(
          absl::StrCat(def.name, " takes at most ", count, " arguments, got ", values.size()));
    }
    for (int i = 0; i < values.size(); ++i) {
      const absl::Status status = CheckArg(def, def.params[i], values[i]);
      if (!status.ok()) return status;
      (*args)[i] = &values[i];
    }
    return FillDefaults(def, values.size(), args);
  }
  if (count > 1 && input.kind_case() == Value::kStructValue) {
    const auto& fields = input.struct_value().fields();
    for (const auto& [key, value] : fields) {
      bool known = false;
      for (size_t i = 0; i < count; ++i) {
        if (def.params[i].name != key) continue;
        const absl::Status status = CheckArg(def, def.params[i], value);
        if (!status.ok()) return status;
        (*args)[i] = &value;
        known = true;
      }
      if (!known) {
        return absl::InvalidArgumentError(absl::StrCat(def.name, " has no parameter '", key, "'"));
      }
    }
    return FillDefaults(def, 0, args);
  }
  const absl::Status status = CheckArg(def, def.params[0], input);
  if (!status.ok()) return status;
  (*args)[0] = &input;
  return FillDefaults(def, 1, args);
}

v1::Callable Describe(const CallableDef& def) {
  v1::Callable out;
  out.set_name(def.name);
  out.set_kind(def.kind);
  out.set_description(def.description);
  out.set_origin(def.origin);
  for (const ParamSpec& param : def.params) {
    v1::Parameter* p = out.add_parameters();
    p->set_name(param.name);
    p->set_type(param.type);
    p->set_description(param.description);
    p->set_required(!param.default_value.has_value());
    if (param.default_value) *p->mutable_default_value() = *param.default_value;
  }
  *out.mutable_limits() = def.limits;
  return out;
}

Value NumberValue(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}

Value StringValue(absl::string_view text) {
  Value value;
  value.set_string_value(std::string(text));
  return value;
}

int64_t IntegerArg(const Value& value) { return static_cast<int64_t>(value.number_value()); }

}  // namespace pprocd
