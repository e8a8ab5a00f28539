// The callables a pprocd installation can run: their declared parameters,
// how an input value binds to them, and the code that runs them.
//
// A Registry is filled once, before the template process forks, and is
// read-only afterwards; reads from any thread are then safe.
#ifndef PPROCD_WORKER_REGISTRY_H_
#define PPROCD_WORKER_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/callable.h"
#include "pprocd/v1/callable.pb.h"
#include "worker/python_target.h"

namespace pprocd {

struct ParamSpec {
  std::string name;
  v1::ParameterType type = v1::PARAMETER_TYPE_ANY;
  // Absent for a required parameter.
  std::optional<google::protobuf::Value> default_value;
  std::string description;
};

// Arguments bound to a callable's parameters, in declaration order. The
// pointers refer into the input value or into the ParamSpec defaults; they
// are valid while both live.
using BoundArgs = std::vector<const google::protobuf::Value*>;

// Runs one invocation. An error status is the item's RAISED failure.
using FunctionBody = std::function<absl::StatusOr<google::protobuf::Value>(const BoundArgs&)>;

// Runs consecutive invocations of a function callable together (optional;
// persistent commands have one). Returns the outcomes of the first k of
// `batch`, in order, 1 <= k <= batch.size(): the rest did not run and may
// be offered again. Returns none when the batch was lost as a whole (the
// process running it died): its items must then run one at a time.
using BatchBody = std::function<std::vector<absl::StatusOr<google::protobuf::Value>>(
    absl::Span<const BoundArgs>)>;

// Channel (the two-way channel of a channel callable) is in the SDK header.

// Runs one invocation of a channel callable. The returned value (null for
// none) ends the invocation; an error status is its RAISED failure.
using ChannelBody =
    std::function<absl::StatusOr<google::protobuf::Value>(const BoundArgs&, Channel&)>;

struct CallableDef {
  std::string name;
  std::string description;
  v1::CallableKind kind = v1::CALLABLE_KIND_FUNCTION;
  std::vector<ParamSpec> params;
  // Set for kind CALLABLE_KIND_FUNCTION.
  FunctionBody body;
  std::string origin = "builtin";
  // Set for kind CALLABLE_KIND_CHANNEL.
  ChannelBody channel_body = nullptr;
  // The body's string result is binary: it becomes ItemResult.data.
  bool bytes_result = false;
  // False when the body never writes to stdout or stderr itself (a pure
  // built-in). The worker then looks for output only where it sends
  // results and after a failure, not after every item: two system calls
  // less per item; output that appears anyway goes to the logs of the
  // last item before that point.
  bool writes_output = true;
  // Resource limits (all zero: none).
  v1::CallableLimits limits = {};
  // May be set for kind CALLABLE_KIND_FUNCTION, beside `body`.
  BatchBody batch_body = nullptr;
  // A Python function run in a forked Python pool: calls of this callable
  // go to that pool's workers, never to a body here (its body only says
  // so). Its file_stamp is empty: each call stamps it (StampedNow).
  std::shared_ptr<const PythonTarget> python = nullptr;

  bool is_channel() const { return kind == v1::CALLABLE_KIND_CHANNEL; }
};

class Registry {
 public:
  // Adds a callable. AlreadyExists for a duplicate name; InvalidArgument for
  // an empty name or a missing body of its kind.
  absl::Status Add(CallableDef def);
  // nullptr when no callable has that name.
  const CallableDef* Find(absl::string_view name) const;
  // Sets the limits of a registered callable; NotFound naming it otherwise.
  absl::Status SetLimits(absl::string_view name, const v1::CallableLimits& limits);
  // Every callable, sorted by name.
  std::vector<const CallableDef*> All() const;

 private:
  std::map<std::string, CallableDef, std::less<>> callables_;
};

// The server's current set of callables, replaced as a whole when they are
// reloaded. Thread-safe. A snapshot taken with Current() stays valid (and
// unchanged) for as long as its holder keeps it.
class CurrentRegistry {
 public:
  explicit CurrentRegistry(std::shared_ptr<const Registry> registry)
      : registry_(std::move(registry)) {}

  std::shared_ptr<const Registry> Current() const {
    absl::MutexLock lock(&mu_);
    return registry_;
  }
  void Replace(std::shared_ptr<const Registry> registry) {
    absl::MutexLock lock(&mu_);
    registry_ = std::move(registry);
  }

 private:
  mutable absl::Mutex mu_;
  std::shared_ptr<const Registry> registry_ ABSL_GUARDED_BY(mu_);
};

// Binds one input value to `def`'s parameters (see the service comment in
// service.proto for the rule) and checks each argument's type.
// InvalidArgument names the parameter at fault.
absl::Status BindArguments(const CallableDef& def, const google::protobuf::Value& input,
                           BoundArgs* args);

// Whether `value` is of `type`: the rule BindArguments applies to every
// argument (and a config file to every default).
bool ValueMatchesType(v1::ParameterType type, const google::protobuf::Value& value);

// The ListCallables description of `def`.
v1::Callable Describe(const CallableDef& def);

// Value helpers for callable bodies.
google::protobuf::Value NumberValue(double number);
google::protobuf::Value StringValue(absl::string_view text);
// The integer an INTEGER-typed bound argument holds.
int64_t IntegerArg(const google::protobuf::Value& value);

}  // namespace pprocd

#endif  // PPROCD_WORKER_REGISTRY_H_
