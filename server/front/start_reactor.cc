#include "server/front/start_reactor.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/json/json.h"
#include "server/front/python_function.h"
#include "server/front/request_validation.h"

namespace pprocd {

StartReactor::StartReactor(grpc::CallbackServerContext* context, Scheduler* scheduler,
                           std::shared_ptr<const Registry> registry, CallerIdentity caller)
    : CallReactor(scheduler),
      context_(context),
      registry_(std::move(registry)),
      caller_(std::move(caller)) {
  absl::MutexLock lock(&sink_->mu);
  StartReadLocked();
}

void StartReactor::OnReadDone(bool ok) {
  absl::MutexLock lock(&sink_->mu);
  if (finish_requested_) return;
  if (!ok) {  // Half-close: the end of the channel's input.
    // A cancelled call's read fails too: OnCancel kills the invocation,
    // which must not see a clean end of input first.
    if (context_->IsCancelled()) return;
    if (!opened_) {
      FailLocked(absl::InvalidArgumentError("callable: the first request must name a callable"));
      return;
    }
    scheduler_->EndChannel(call_id_);
    return;
  }
  if (!ParseRequestLocked()) return;
  if (!opened_) {
    const absl::Status opened = Open();
    if (!opened.ok()) FailLocked(opened);
    return;
  }
  const absl::Status checked = CheckLaterRequest();
  if (!checked.ok()) return FailLocked(checked);
  absl::StatusOr<std::vector<std::string>> messages = LaterMessages();
  if (!messages.ok()) return FailLocked(messages.status());
  // One batch answers the scheduler's one request for input (an empty
  // packed array too).
  scheduler_->SendChannel(call_id_, *std::move(messages));
}

absl::StatusOr<std::vector<std::string>> StartReactor::LaterMessages() {
  if (!packed_) return std::vector<std::string>{request_.message().SerializeAsString()};
  absl::StatusOr<google::protobuf::Value> array = ParseJson(request_.packed_messages());
  if (!array.ok() || !array->has_list_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("packed_messages of request ", requests_read_, ": ",
                     array.ok() ? absl::string_view("byte 0: expected a JSON array")
                                : array.status().message()));
  }
  std::vector<std::string> messages;
  for (const google::protobuf::Value& value : array->list_value().values()) {
    messages.push_back(value.SerializeAsString());
  }
  return messages;
}

absl::Status StartReactor::Open() {
  absl::StatusOr<CallTarget> target = CallTarget::Resolve(
      request_.callable(), request_.has_function() ? &request_.function() : nullptr, *registry_,
      caller_);
  if (!target.ok()) return target.status();
  const CallableDef* def = &target->def();
  std::shared_ptr<const PythonTarget> python = target->python();
  absl::Status status = ValidateOptions(request_.options());
  if (!status.ok()) return status;
  if (request_.has_message() || !request_.packed_messages().empty()) {
    return absl::InvalidArgumentError(
        "message: the first request starts the callable; send channel input after it");
  }
  packed_ = request_.options().packed();
  if (packed_ && request_.has_arguments()) {
    return absl::InvalidArgumentError(
        "arguments: this call uses the packed form (options.packed); send packed_arguments");
  }
  if (!packed_ && !request_.packed_arguments().empty()) {
    return absl::InvalidArgumentError(
        "packed_arguments: set options.packed in the first request to send packed arguments");
  }
  // A missing `arguments` is a null value: fine for callables without
  // required parameters.
  google::protobuf::RepeatedPtrField<google::protobuf::Value> arguments;
  if (packed_ && !request_.packed_arguments().empty()) {
    absl::StatusOr<google::protobuf::Value> parsed = ParseJson(request_.packed_arguments());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("packed_arguments: ", parsed.status().message()));
    }
    *arguments.Add() = *std::move(parsed);
  } else {
    *arguments.Add() = request_.arguments();
  }
  status = ValidateInputs(*def, arguments, 0);
  if (!status.ok()) {
    // "inputs[0]: ..." reads better as the field the client set.
    std::string message(status.message());
    const std::string prefix = "inputs[0]";
    if (message.compare(0, prefix.size(), prefix) == 0)
      message.replace(0, prefix.size(), "arguments");
    return absl::InvalidArgumentError(message);
  }
  // The invocation's results come back one by one (Start has no blocks);
  // the packed form applies to its channel messages here.
  v1::CallOptions options = request_.options();
  options.set_packed(false);
  if (options.item_stats() == v1::ITEM_STATS_UNSPECIFIED) {
    options.set_item_stats(v1::ITEM_STATS_PER_ITEM);
  }
  std::string json;
  AppendJson(arguments[0], &json);
  absl::StatusOr<uint64_t> id =
      scheduler_->OpenChannelCall(def->name, options, std::move(json), sink_, python);
  if (!id.ok()) return id.status();
  opened_ = true;
  call_id_ = *id;
  return absl::OkStatus();
}

absl::Status StartReactor::CheckLaterRequest() const {
  if (!request_.callable().empty()) {
    return absl::InvalidArgumentError("callable: only the first request may name the callable");
  }
  if (request_.has_function()) {
    return absl::InvalidArgumentError("function: only the first request may name the function");
  }
  if (request_.has_arguments()) {
    return absl::InvalidArgumentError("arguments: only the first request may carry arguments");
  }
  if (request_.has_options()) {
    return absl::InvalidArgumentError("options: only the first request may carry options");
  }
  if (!packed_ && !request_.packed_messages().empty()) {
    return absl::InvalidArgumentError(
        "packed_messages: this call uses the Value form; send `message`");
  }
  if (packed_ && request_.has_message()) {
    return absl::InvalidArgumentError(
        "message: this call uses the packed form (options.packed); send packed_messages");
  }
  if (!packed_ && !request_.has_message()) {
    return absl::InvalidArgumentError("message: a later request must carry a message");
  }
  return absl::OkStatus();
}

void StartReactor::DeliverLocked(std::vector<ResultPiece> results) {
  // Packed: the messages of one delivery go out together, as one array.
  v1::StartResponse* packing = nullptr;
  for (ResultPiece& piece : results) {
    ResultPtr& result = piece.result;
    if (result == nullptr) continue;  // Start calls are not packed.
    if (packed_ && !result->last()) {
      if (packing == nullptr || result->logs_size() > 0) {
        if (packing != nullptr) packing->mutable_packed_messages()->push_back(']');
        packing = &Enqueue(1);
        packing->mutable_packed_messages()->push_back('[');
      } else {
        packing->mutable_packed_messages()->push_back(',');
        ++PendingBack()->second;
      }
      packing->mutable_logs()->Swap(result->mutable_logs());
      AppendJson(result->value(), packing->mutable_packed_messages());
      continue;
    }
    if (packing != nullptr) packing->mutable_packed_messages()->push_back(']');
    packing = nullptr;
    v1::StartResponse& response = Enqueue(1);
    response.mutable_logs()->Swap(result->mutable_logs());
    if (result->last()) {
      response.set_allocated_result(result.release());
    } else {
      response.set_allocated_message(result->release_value());
    }
  }
  if (packing != nullptr) packing->mutable_packed_messages()->push_back(']');
}

}  // namespace pprocd
