// The pprocd C++ SDK: write callables in a plugin (a shared library) that
// pprocd loads at start with --plugin PATH.
//
//   #include "pprocd/callable.h"
//
//   PPROCD_PLUGIN(registrar) {
//     registrar.AddFunction(
//         "add", "Returns a + b.",
//         {pprocd::Required("a", pprocd::ParamType::kNumber, "first"),
//          pprocd::Optional("b", pprocd::ParamType::kNumber, pprocd::Number(1), "second")},
//         [](const pprocd::Arguments& args) -> absl::StatusOr<pprocd::Value> {
//           return pprocd::Number(args.Number(0) + args.Number(1));
//         });
//   }
//
// Contracts:
// - The registration function runs once, in the server before it forks its
//   worker template; the callables then run in worker processes, each
//   invocation on one thread. Global state of a plugin is per worker
//   process (shared copy-on-write at start).
// - Arguments are checked against the declared parameters before a body
//   runs: a body sees exactly one value per parameter, of the declared type
//   (defaults filled in).
// - A body reports failure by returning an error status: the item fails
//   with ERROR_KIND_RAISED and the status message. A crash fails only the
//   item that was running.
// - What a body writes to stdout/stderr is returned with its result.
//
// Header-only: a plugin links protobuf and abseil, not pprocd.
#ifndef PPROCD_CALLABLE_H_
#define PPROCD_CALLABLE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"

namespace pprocd {

// Every argument and result is a JSON-like value.
using Value = google::protobuf::Value;

enum class ParamType { kAny, kInteger, kNumber, kString, kBoolean, kList, kStruct };

// One declared parameter.
struct Param {
  std::string name;
  ParamType type = ParamType::kAny;
  // Absent for a required parameter.
  std::optional<Value> default_value;
  std::string description;
};

inline Param Required(std::string name, ParamType type, std::string description) {
  return Param{std::move(name), type, std::nullopt, std::move(description)};
}

inline Param Optional(std::string name, ParamType type, Value default_value,
                      std::string description) {
  return Param{std::move(name), type, std::move(default_value), std::move(description)};
}

// Value builders.
inline Value Number(double number) {
  Value value;
  value.set_number_value(number);
  return value;
}
inline Value String(std::string text) {
  Value value;
  value.set_string_value(std::move(text));
  return value;
}
inline Value Bool(bool flag) {
  Value value;
  value.set_bool_value(flag);
  return value;
}
inline Value Null() {
  Value value;
  value.set_null_value(google::protobuf::NULL_VALUE);
  return value;
}
inline Value List(std::vector<Value> items) {
  Value value;
  for (Value& item : items) *value.mutable_list_value()->add_values() = std::move(item);
  return value;
}
inline Value Struct(std::vector<std::pair<std::string, Value>> fields) {
  Value value;
  auto& map = *value.mutable_struct_value()->mutable_fields();
  for (auto& [key, field] : fields) map[key] = std::move(field);
  return value;
}

// The arguments of one invocation, one per declared parameter, in order.
class Arguments {
 public:
  explicit Arguments(const std::vector<const Value*>& bound) : bound_(bound) {}
  size_t size() const { return bound_.size(); }
  const Value& operator[](size_t i) const { return *bound_[i]; }
  // Typed reads of parameters declared with that type.
  int64_t Integer(size_t i) const { return static_cast<int64_t>(bound_[i]->number_value()); }
  double Number(size_t i) const { return bound_[i]->number_value(); }
  const std::string& String(size_t i) const { return bound_[i]->string_value(); }
  bool Boolean(size_t i) const { return bound_[i]->bool_value(); }

 private:
  const std::vector<const Value*>& bound_;
};

// The two-way channel of a channel callable's invocation (pprocess's
// channel). Values sent reach the caller at once, in order. Received values
// come from the caller of Start; in Map and Queue there are none.
class Channel {
 public:
  virtual ~Channel() = default;
  // Sends one value to the caller. An error means the caller is gone; the
  // callable should return.
  virtual absl::Status Send(Value value) = 0;
  // Blocks for the caller's next value; nullopt once the caller has ended
  // its input (at once in Map and Queue).
  virtual absl::StatusOr<std::optional<Value>> Receive() = 0;
};

// A function callable: one value per invocation (pprocess MakeParallel).
using Function = std::function<absl::StatusOr<Value>(const Arguments&)>;
// A channel callable: may send many values and receive messages; returns
// its final value (Null() for none).
using ChannelFunction = std::function<absl::StatusOr<Value>(const Arguments&, Channel&)>;

// What a function promises, letting the worker do less per item.
struct FunctionTraits {
  // The body never writes to stdout or stderr, nor does code it calls.
  // The worker then looks for output only where it sends results and after
  // a failure, not after every item (two system calls less per item).
  // Output written anyway is not lost: it goes to the logs of the last
  // item before that point rather than of the item that wrote it.
  bool writes_no_output = false;
};

// What a plugin's registration function is given.
class Registrar {
 public:
  virtual ~Registrar() = default;
  virtual void AddFunction(std::string name, std::string description, std::vector<Param> params,
                           Function body) = 0;
  virtual void AddChannel(std::string name, std::string description, std::vector<Param> params,
                          ChannelFunction body) = 0;
  // AddFunction with traits (last in the table of virtual functions, so
  // that plugins built before it was added still load).
  virtual void AddFunction(std::string name, std::string description, std::vector<Param> params,
                           Function body, FunctionTraits traits) = 0;
};

}  // namespace pprocd

// The symbol pprocd looks up in a plugin.
#define PPROCD_PLUGIN_SYMBOL "pprocd_plugin_register_v1"

// Defines a plugin's registration function:
//   PPROCD_PLUGIN(registrar) { registrar.AddFunction(...); }
#define PPROCD_PLUGIN(registrar) \
  extern "C" void pprocd_plugin_register_v1(::pprocd::Registrar& registrar)

#endif  // PPROCD_CALLABLE_H_
