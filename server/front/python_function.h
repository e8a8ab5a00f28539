// Python functions passed by reference (v1.PythonFunction): who may pass
// one, what a well-formed one is, and what the scheduler runs for it. Pure
// functions apart from stat() and access(); any thread.
#ifndef PPROCD_SERVER_FRONT_PYTHON_FUNCTION_H_
#define PPROCD_SERVER_FRONT_PYTHON_FUNCTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pprocd/v1/callable.pb.h"
#include "server/peer/caller_identity.h"
#include "worker/python_target.h"
#include "worker/registry.h"

namespace pprocd {

// Whether `caller` is known to run as the server's user (a UNIX-socket
// caller with its uid): only such a caller's references run as given.
bool RunsAsServerUser(const CallerIdentity& caller);

// The callable registered in the config (`python = "module:function"`)
// that `function` names by its module, qualname and kind; nullptr if none.
const CallableDef* RegisteredPythonFunction(const Registry& registry,
                                            const v1::PythonFunction& function);

// The CallableDef that stands for a Python function in request checks: one
// parameter of any type (its worker binds the function's own parameters).
CallableDef PythonFunctionDef(const PythonTarget& target);

// What a call's first request names: a registered callable by `callable`,
// or a Python function by `function` (never both).
class CallTarget {
 public:
  enum class Stamp {
    // A registered Python callable's target records its module file as it
    // is now (a call about to run).
    kNow,
    // It is left unresolved (a job: its runs stamp it when they start).
    kLater,
  };

  // Resolves the target of a request. INVALID_ARGUMENT when both or an
  // unknown callable are named. A function reference runs code as the
  // server's user: from a caller that runs as it (RunsAsServerUser), it is
  // checked and resolved by PythonTargetFrom(); from anyone else (TCP
  // callers, other users) it is accepted only when it names a function
  // registered in the config, and then runs as registered (the config's
  // interpreter, file and path: the same as calling it by name), else
  // PERMISSION_DENIED.
  static absl::StatusOr<CallTarget> Resolve(const std::string& callable,
                                            const v1::PythonFunction* function,
                                            const Registry& registry, const CallerIdentity& caller,
                                            Stamp stamp = Stamp::kNow);

  CallTarget() = default;
  CallTarget(CallTarget&&) = default;
  CallTarget& operator=(CallTarget&&) = default;
  CallTarget(const CallTarget&) = delete;
  CallTarget& operator=(const CallTarget&) = delete;

  // The definition requests are checked against: the registry's, or the
  // stand-in of a function reference. Valid while this object (or the one
  // it is moved to) is.
  const CallableDef& def() const { return stand_in_ != nullptr ? *stand_in_ : *registered_; }
  // What a Python call runs; null for any other callable (and for a
  // registered Python callable resolved with Stamp::kLater).
  const std::shared_ptr<const PythonTarget>& python() const { return python_; }
  // A function reference that stands for the registered callable def():
  // a request that keeps it (a job's) must name def() instead.
  bool reference_to_registered() const { return reference_to_registered_; }

 private:
  const CallableDef* registered_ = nullptr;
  std::unique_ptr<CallableDef> stand_in_;
  std::shared_ptr<const PythonTarget> python_;
  bool reference_to_registered_ = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_PYTHON_FUNCTION_H_
