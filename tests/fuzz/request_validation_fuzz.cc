// libFuzzer target: the checks every RPC's request goes through before work
// starts (server/front/request_validation.* and the argument binding of
// worker/registry.*), against the built-in callables.
//
// The input is parsed as the request message of every RPC, as the front
// parses the bytes gRPC hands it (server/front/raw_message.*, from one
// slice or several). Each one that parses is checked as the front checks
// it: Map and Queue as a first request (callable, options, inputs) and as a
// later one (inputs bound to each built-in callable, numbered after earlier
// ones), Start's first request (callable, options, arguments) and Submit
// (callable, options, inputs). The requests of the job RPCs (Reconnect,
// GetJob, ListJobs, CancelJob, DeleteJob) are only parsed here: the job
// store's handling of their ids, names, page tokens and sequence numbers is
// fuzz_job_store's.
// Checked:
// - a request parses from one slice or several alike, exactly when
//   protobuf's own parser accepts it; a refusal is InvalidArgument;
// - each check fails only with the codes its contract names;
// - options it accepts are in range; inputs it accepts bind every
//   parameter to a value of the parameter's type (and an integer argument
//   converts to int64_t without overflow);
// - an error reaches a client: as ToGrpcStatus() sends it, its message is
//   short enough (gRPC sends it percent-encoded in a header, and clients
//   refuse more than 8 KiB of headers by default, so a message that echoes
//   a huge callable name or key must be cut short), keeps its code, and
//   stays valid UTF-8 when it was.
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/slice.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "base/utf8.h"
#include "google/protobuf/util/field_comparator.h"
#include "google/protobuf/util/message_differencer.h"
#include "pprocd/v1/service.pb.h"
#include "server/front/raw_message.h"
#include "server/front/request_validation.h"
#include "server/front/status_convert.h"
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

bool IsValidUtf8(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// What a client receives for `status` (every status the front sends passes
// through ToGrpcStatus) must be short enough to reach it, keep the code,
// and stay valid UTF-8 when the message was.
void CheckError(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  FUZZ_CHECK(!status.message().empty(), "a status message that says why");
  const grpc::Status sent = ToGrpcStatus(status);
  const std::string& message = sent.error_message();
  if (PercentEncodedSize(message) > kMaxEncodedMessageBytes) {
    std::fprintf(stderr, "%s: a status message of %zu bytes: %.200s...\n", what, message.size(),
                 message.c_str());
  }
  FUZZ_CHECK(PercentEncodedSize(message) <= kMaxEncodedMessageBytes,
             "a status message short enough to send");
  FUZZ_CHECK(static_cast<int>(sent.error_code()) == static_cast<int>(status.code()),
             "the status code sent");
  FUZZ_CHECK(!message.empty(), "a sent message that says why");
  if (IsValidUtf8(status.message())) FUZZ_CHECK(IsValidUtf8(message), "a sent message in UTF-8");
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

// Whether `a` and `b` hold the same values (a NaN equals a NaN; maps in
// any order).
bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  return differencer.Compare(a, b);
}

// `bytes` as gRPC may hold them: one slice, or three at cuts the bytes
// choose.
grpc::ByteBuffer OneSlice(absl::string_view bytes) {
  grpc::Slice slice(bytes.data(), bytes.size());
  return grpc::ByteBuffer(&slice, 1);
}

grpc::ByteBuffer ThreeSlices(absl::string_view bytes) {
  const size_t first =
      bytes.empty() ? 0 : static_cast<unsigned char>(bytes[0]) % (bytes.size() + 1);
  const size_t second = first + (bytes.size() > first ? static_cast<unsigned char>(bytes.back()) %
                                                            (bytes.size() - first + 1)
                                                      : 0);
  grpc::Slice slices[] = {grpc::Slice(bytes.data(), first),
                          grpc::Slice(bytes.data() + first, second - first),
                          grpc::Slice(bytes.data() + second, bytes.size() - second)};
  return grpc::ByteBuffer(slices, 3);
}

// Parses `bytes` as the front parses the request of RPC `rpc` (a stream's
// `number`th request when `number` is not 0). Checked: the same outcome
// from one slice or several, the outcome protobuf's own parser gives, and
// a refusal that is InvalidArgument and reaches the client. True when it
// parsed.
template <typename Request>
bool ParseAsTheFront(absl::string_view rpc, uint64_t number, absl::string_view bytes,
                     Request* request) {
  const auto parse = [&](const grpc::ByteBuffer& buffer, Request* into) {
    return number == 0 ? ParseOnlyRequest(rpc, buffer, into)
                       : ParseStreamRequest(number, buffer, into);
  };
  const absl::Status parsed = parse(OneSlice(bytes), request);
  Request again;
  const absl::Status parsed_again = parse(ThreeSlices(bytes), &again);
  FUZZ_CHECK(parsed.ok() == parsed_again.ok(), "the same outcome from one slice or three");
  Request plain;
  const bool plain_ok = plain.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
  FUZZ_CHECK(parsed.ok() == plain_ok, "the outcome of protobuf's parser");
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.code() == absl::StatusCode::kInvalidArgument, "a refusal's code");
    // The reason may differ: protobuf meets a request's faults in another
    // order when its bytes come in pieces.
    CheckError(parsed, "ParseRequest");
    CheckError(parsed_again, "ParseRequest");
    return false;
  }
  FUZZ_CHECK(SameMessage(*request, again), "the same request from one slice or three");
  return true;
}

}  // namespace
}  // namespace pprocd

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // As FarmService does: protobuf's reasons become the statuses.
  pprocd::CaptureParseLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pprocd;
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  // A later request's inputs are numbered after the earlier ones.
  const uint64_t earlier_inputs = size > 0 && data[0] % 2 == 1 ? UINT64_MAX - 1 : size;
  if (v1::MapRequest map; ParseAsTheFront("Map", 1, bytes, &map)) {
    CheckItemStream(map, earlier_inputs);
  }
  if (v1::QueueRequest queue; ParseAsTheFront("Queue", 2, bytes, &queue)) {
    CheckItemStream(queue, earlier_inputs);
  }
  if (v1::StartRequest start; ParseAsTheFront("Start", 1, bytes, &start)) CheckStart(start);
  if (v1::SubmitRequest submit; ParseAsTheFront("Submit", 0, bytes, &submit)) CheckSubmit(submit);
  // Parsed only (see the file comment).
  v1::ReconnectRequest reconnect;
  (void)ParseAsTheFront("Reconnect", 0, bytes, &reconnect);
  v1::GetJobRequest get_job;
  (void)ParseAsTheFront("GetJob", 0, bytes, &get_job);
  v1::ListJobsRequest list_jobs;
  (void)ParseAsTheFront("ListJobs", 0, bytes, &list_jobs);
  v1::CancelJobRequest cancel_job;
  (void)ParseAsTheFront("CancelJob", 0, bytes, &cancel_job);
  v1::DeleteJobRequest delete_job;
  (void)ParseAsTheFront("DeleteJob", 0, bytes, &delete_job);
  v1::EchoRequest echo;
  (void)ParseAsTheFront("Echo", 0, bytes, &echo);
  return 0;
}
