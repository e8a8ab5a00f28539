// libFuzzer target: the checks every RPC's request goes through before work
// starts (server/front/request_validation.* and the argument binding of
// worker/registry.*), against the built-in callables.
//
// The input is parsed as the request message of every RPC. Each one that
// parses is checked as the front checks it: Map and Queue as a first
// request (callable, options, inputs) and as a later one (inputs bound to
// each built-in callable, numbered after earlier ones), Start's first
// request (callable, options, arguments) and Submit (callable, options,
// inputs). The requests of the job RPCs (Reconnect, GetJob, ListJobs,
// CancelJob, DeleteJob) are only parsed here: the job store's handling of
// their ids, names, page tokens and sequence numbers is fuzz_job_store's.
// Checked:
// - each check fails only with the codes its contract names;
// - options it accepts are in range; inputs it accepts bind every
//   parameter to a value of the parameter's type (and an integer argument
//   converts to int64_t without overflow);
// - an error message stays short enough for a client to receive it: gRPC
//   sends it percent-encoded in a header, and clients refuse more than
//   8 KiB of headers by default (a message that echoes a huge callable
//   name or key must cut it short).
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "pprocd/v1/service.pb.h"
#include "server/front/request_validation.h"
#include "tests/fuzz/fuzz_check.h"
#include "worker/builtins.h"
#include "worker/registry.h"

namespace pprocd {
namespace {

using google::protobuf::RepeatedPtrField;
using google::protobuf::Value;

// The most bytes a status message may take once percent-encoded.
constexpr size_t kMaxEncodedMessageBytes = 4096;

const Registry& Builtins() {
  static const Registry* const registry = [] {
    auto* built = new Registry;
    FUZZ_CHECK(RegisterBuiltins(built).ok(), "built-in callables");
    return built;
  }();
  return *registry;
}

// The size of `message` as gRPC sends it in the grpc-message header.
size_t PercentEncodedSize(absl::string_view message) {
  size_t size = 0;
  for (const char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    size += (byte < 0x20 || byte > 0x7e || byte == '%') ? 3 : 1;
  }
  return size;
}

// Known defect (see known/request_validation/): FindCallable() and
// BindArguments() echo a callable's name or an input's key whole. While
// fuzzing with PPROCD_FUZZ_SKIP_KNOWN set, a message too long is not
// reported; replays of the reproducer still report it. Delete with the fix.
bool SkipKnownLongMessage() {
  static const bool skip = std::getenv("PPROCD_FUZZ_SKIP_KNOWN") != nullptr;
  return skip;
}

void CheckError(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  if (PercentEncodedSize(status.message()) > kMaxEncodedMessageBytes) {
    if (SkipKnownLongMessage()) return;
    std::fprintf(stderr, "%s: a status message of %zu bytes: %.200s...\n", what,
                 status.message().size(), std::string(status.message()).c_str());
  }
  FUZZ_CHECK(PercentEncodedSize(status.message()) <= kMaxEncodedMessageBytes,
             "a status message short enough to send");
  FUZZ_CHECK(!status.message().empty(), "a status message that says why");
}

const CallableDef* CheckFindCallable(const std::string& name) {
  absl::StatusOr<const CallableDef*> def = FindCallable(Builtins(), name);
  CheckError(def.status(), "FindCallable");
  if (!def.ok()) {
    FUZZ_CHECK(def.status().code() == (name.empty() ? absl::StatusCode::kInvalidArgument
                                                    : absl::StatusCode::kNotFound),
               "FindCallable's code");
    return nullptr;
  }
  FUZZ_CHECK(*def != nullptr && (*def)->name == name, "FindCallable's callable");
  return *def;
}

bool CheckOptions(const v1::CallOptions& options) {
  const absl::Status status = ValidateOptions(options);
  CheckError(status, "ValidateOptions");
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument ||
                   status.code() == absl::StatusCode::kUnimplemented,
               "ValidateOptions' code");
    return false;
  }
  FUZZ_CHECK(options.chunksize() <= kMaxChunkSize, "accepted chunksize");
  FUZZ_CHECK(options.timeout_ms() <= kMaxTimeoutMs, "accepted timeout_ms");
  FUZZ_CHECK(v1::Isolation_IsValid(options.isolation()), "accepted isolation");
  return true;
}

// What a worker relies on for inputs the front accepted.
void CheckBound(const CallableDef& def, const Value& input) {
  BoundArgs args;
  FUZZ_CHECK(BindArguments(def, input, &args).ok(), "an accepted input binds");
  FUZZ_CHECK(args.size() == def.params.size(), "one argument per parameter");
  for (size_t i = 0; i < args.size(); ++i) {
    FUZZ_CHECK(args[i] != nullptr, "every parameter bound");
    FUZZ_CHECK(ValueMatchesType(def.params[i].type, *args[i]), "an argument of its type");
    if (def.params[i].type == v1::PARAMETER_TYPE_INTEGER) {
      // UBSan reports a conversion out of int64_t's range.
      volatile int64_t integer = IntegerArg(*args[i]);
      (void)integer;
    }
  }
}

bool CheckInputs(const CallableDef& def, const RepeatedPtrField<Value>& inputs,
                 uint64_t first_index) {
  const absl::Status status = ValidateInputs(def, inputs, first_index);
  CheckError(status, "ValidateInputs");
  if (!status.ok()) {
    FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument, "ValidateInputs' code");
    FUZZ_CHECK(absl::StartsWith(status.message(), "inputs["), "the input at fault named");
    return false;
  }
  for (const Value& input : inputs) CheckBound(def, input);
  return true;
}

// Map and Queue: the first request of a call, then the same request as a
// later one of a call of each built-in callable.
template <typename Request>
void CheckItemStream(const Request& request, uint64_t earlier_inputs) {
  if (const CallableDef* def = CheckFindCallable(request.callable())) {
    if (CheckOptions(request.options())) CheckInputs(*def, request.inputs(), 0);
  }
  for (const CallableDef* def : Builtins().All()) {
    CheckInputs(*def, request.inputs(), earlier_inputs);
  }
}

void CheckStart(const v1::StartRequest& request) {
  const CallableDef* def = CheckFindCallable(request.callable());
  if (def == nullptr || !CheckOptions(request.options())) return;
  // A missing `arguments` is a null value, as the front binds it.
  RepeatedPtrField<Value> arguments;
  *arguments.Add() = request.arguments();
  CheckInputs(*def, arguments, 0);
}

void CheckSubmit(const v1::SubmitRequest& request) {
  const CallableDef* def = CheckFindCallable(request.callable());
  if (def == nullptr || !CheckOptions(request.options())) return;
  CheckInputs(*def, request.inputs(), 0);
}

template <typename Request>
bool Parse(absl::string_view bytes, Request* request) {
  return request->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace
}  // namespace pprocd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pprocd;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A later request's inputs are numbered after the earlier ones.
  const uint64_t earlier_inputs = size > 0 && data[0] % 2 == 1 ? UINT64_MAX - 1 : size;
  if (v1::MapRequest map; Parse(bytes, &map)) CheckItemStream(map, earlier_inputs);
  if (v1::QueueRequest queue; Parse(bytes, &queue)) CheckItemStream(queue, earlier_inputs);
  if (v1::StartRequest start; Parse(bytes, &start)) CheckStart(start);
  if (v1::SubmitRequest submit; Parse(bytes, &submit)) CheckSubmit(submit);
  // Parsed only (see the file comment).
  v1::ReconnectRequest reconnect;
  (void)Parse(bytes, &reconnect);
  v1::GetJobRequest get_job;
  (void)Parse(bytes, &get_job);
  v1::ListJobsRequest list_jobs;
  (void)Parse(bytes, &list_jobs);
  v1::CancelJobRequest cancel_job;
  (void)Parse(bytes, &cancel_job);
  v1::DeleteJobRequest delete_job;
  (void)Parse(bytes, &delete_job);
  v1::EchoRequest echo;
  (void)Parse(bytes, &echo);
  return 0;
}
