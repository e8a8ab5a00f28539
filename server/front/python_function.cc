#include "server/front/python_function.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "server/front/request_validation.h"

namespace pprocd {

bool RunsAsServerUser(const CallerIdentity& caller) {
  return caller.known && caller.uid == ::geteuid();
}

const CallableDef* RegisteredPythonFunction(const Registry& registry,
                                            const v1::PythonFunction& function) {
  for (const CallableDef* def : registry.All()) {
    const PythonTarget* python = def->python.get();
    if (python != nullptr && python->module == function.module() &&
        python->qualname == function.qualname() && python->channel == function.channel()) {
      return def;
    }
  }
  return nullptr;
}

absl::StatusOr<CallTarget> CallTarget::Resolve(const std::string& callable,
                                               const v1::PythonFunction* function,
                                               const Registry& registry,
                                               const CallerIdentity& caller, Stamp stamp) {
  CallTarget target;
  if (function != nullptr) {
    if (!callable.empty()) {
      return absl::InvalidArgumentError(
          "callable: name either a registered callable or a Python function, not both");
    }
    if (RunsAsServerUser(caller)) {
      absl::StatusOr<std::shared_ptr<const PythonTarget>> python = PythonTargetFrom(*function);
      if (!python.ok()) return python.status();
      target.python_ = *std::move(python);
      target.stand_in_ = std::make_unique<CallableDef>(PythonFunctionDef(*target.python_));
      return target;
    }
    target.registered_ = RegisteredPythonFunction(registry, *function);
    if (target.registered_ == nullptr) {
      return absl::PermissionDeniedError(absl::StrCat(
          "function: a Python function reference runs code as the server's user, so only a "
          "caller on the server's UNIX socket with its uid (",
          ::geteuid(), ") may pass one; this caller is ",
          caller.known ? absl::StrCat("uid ", caller.uid) : std::string("not identified (TCP)"),
          ". Functions registered in the server's config may be referenced by anyone; ",
          function->module(), ":", function->qualname(), " is not one of them"));
    }
    target.reference_to_registered_ = true;
  } else {
    absl::StatusOr<const CallableDef*> def = FindCallable(registry, callable);
    if (!def.ok()) return def.status();
    target.registered_ = *def;
  }
  if (target.registered_->python != nullptr && stamp == Stamp::kNow) {
    // A registered Python function: its module as it is now.
    absl::StatusOr<std::shared_ptr<const PythonTarget>> python =
        StampedNow(*target.registered_->python);
    if (!python.ok()) return python.status();
    target.python_ = *std::move(python);
  }
  return target;
}

CallableDef PythonFunctionDef(const PythonTarget& target) {
  CallableDef def;
  def.name = target.DisplayName();
  def.kind = target.channel ? v1::CALLABLE_KIND_CHANNEL : v1::CALLABLE_KIND_FUNCTION;
  def.origin = absl::StrCat("python:", target.module_file);
  ParamSpec any;
  any.name = "arguments";
  any.type = v1::PARAMETER_TYPE_ANY;
  def.params.push_back(std::move(any));
  return def;
}

}  // namespace pprocd
