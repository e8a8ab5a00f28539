#include "server/front/start_reactor.h"

#include <string>
#include <utility>

#include "server/front/request_validation.h"

namespace pprocd {

StartReactor::StartReactor(grpc::CallbackServerContext* context, Scheduler* scheduler,
                           std::shared_ptr<const Registry> registry)
    : CallReactor(scheduler), context_(context), registry_(std::move(registry)) {
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
  scheduler_->SendChannel(call_id_, request_.message().SerializeAsString());
}

absl::Status StartReactor::Open() {
  absl::StatusOr<const CallableDef*> def = FindCallable(*registry_, request_.callable());
  if (!def.ok()) return def.status();
  absl::Status status = ValidateOptions(request_.options());
  if (!status.ok()) return status;
  if (request_.has_message()) {
    return absl::InvalidArgumentError(
        "message: the first request starts the callable; send channel input after it");
  }
  // A missing `arguments` is a null value: fine for callables without
  // required parameters.
  google::protobuf::RepeatedPtrField<google::protobuf::Value> arguments;
  *arguments.Add() = request_.arguments();
  status = ValidateInputs(**def, arguments, 0);
  if (!status.ok()) {
    // "inputs[0]: ..." reads better as the field the client set.
    std::string message(status.message());
    const std::string prefix = "inputs[0]";
    if (message.compare(0, prefix.size(), prefix) == 0)
      message.replace(0, prefix.size(), "arguments");
    return absl::InvalidArgumentError(message);
  }
  absl::StatusOr<uint64_t> id = scheduler_->OpenChannelCall(
      request_.callable(), request_.options(), request_.arguments().SerializeAsString(), sink_);
  if (!id.ok()) return id.status();
  opened_ = true;
  call_id_ = *id;
  return absl::OkStatus();
}

absl::Status StartReactor::CheckLaterRequest() const {
  if (!request_.callable().empty()) {
    return absl::InvalidArgumentError("callable: only the first request may name the callable");
  }
  if (request_.has_arguments()) {
    return absl::InvalidArgumentError("arguments: only the first request may carry arguments");
  }
  if (request_.has_options()) {
    return absl::InvalidArgumentError("options: only the first request may carry options");
  }
  if (!request_.has_message()) {
    return absl::InvalidArgumentError("message: a later request must carry a message");
  }
  return absl::OkStatus();
}

void StartReactor::DeliverLocked(std::vector<ResultPtr> results) {
  for (ResultPtr& result : results) {
    v1::StartResponse& response = Enqueue(1);
    response.mutable_logs()->Swap(result->mutable_logs());
    if (result->last()) {
      response.set_allocated_result(result.release());
    } else {
      response.set_allocated_message(result->release_value());
    }
  }
}

}  // namespace pprocd
