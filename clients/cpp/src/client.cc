#include "pprocd/client/client.h"

#include <chrono>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "grpcpp/support/sync_stream.h"
#include "pprocd/client/json.h"
#include "src/grpc_status.h"
#include "src/item_stream.h"
#include "src/packed.h"

namespace pprocd::client {
namespace {

// Outputs the server may pack into one Reconnect message (unpacked here).
constexpr uint32_t kOutputsPerMessage = 256;

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target,
                                           const ClientOptions& options) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(options.max_message_bytes);
  arguments.SetMaxSendMessageSize(options.max_message_bytes);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), arguments);
}

// Passes one Reconnect output to `sink`; a block (packed form) as one
// output per result, with seq, seq + 1, ...
absl::Status SinkOutput(const v1::ReconnectResponse& output, const JobOutputSink& sink) {
  if (!output.has_block()) return sink(output);
  v1::ReconnectResponse item;
  item.set_job_id(output.job_id());
  uint64_t seq = output.seq();
  return internal::ForEachBlockItem(output.block(), [&](v1::ItemResult& result) {
    item.set_seq(seq++);
    item.mutable_result()->Swap(&result);
    return sink(item);
  });
}

// A call fails fast when the server is unreachable instead of waiting for it.
void PrepareContext(grpc::ClientContext* context) { context->set_wait_for_ready(false); }

constexpr char kStartHint[] =
    "is pprocd running? start one with `pprocd` or scripts/run, or point the address or "
    "$PPROCD_ADDRESS at it";

}  // namespace

void CallCanceller::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool CallCanceller::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

void CallCanceller::Attach(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  context_ = context;
  if (cancelled_) context_->TryCancel();
}

void CallCanceller::Detach() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

Client::Client(std::string target, ClientOptions options)
    : target_(std::move(target)),
      options_(options),
      channel_(MakeChannel(target_, options_)),
      stub_(v1::ProcessFarmService::NewStub(channel_)) {}

absl::string_view Client::NoServerHint() const {
  if (options_.no_server_hint.empty()) return kStartHint;
  return options_.no_server_hint;
}

absl::Status Client::AwaitConnection() const {
  const std::chrono::system_clock::time_point deadline =
      absl::ToChronoTime(absl::Now() + options_.connect_timeout);
  grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
  while (state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE &&
         state != GRPC_CHANNEL_SHUTDOWN) {
    if (!channel_->WaitForStateChange(state, deadline)) {
      return absl::UnavailableError(absl::StrCat("no pprocd answered at ", target_, " within ",
                                                 absl::FormatDuration(options_.connect_timeout),
                                                 "; ", NoServerHint()));
    }
    state = channel_->GetState(/*try_to_connect=*/true);
  }
  return absl::OkStatus();
}

absl::Status Client::CallStatus(const grpc::Status& status, bool received_response) const {
  absl::Status converted = internal::FromGrpcStatus(status);
  if (converted.code() != absl::StatusCode::kUnavailable) return converted;
  if (received_response) {
    return absl::UnavailableError(
        absl::StrCat("lost the connection to pprocd at ", target_, ": ", converted.message()));
  }
  return absl::UnavailableError(absl::StrCat("cannot reach pprocd at ", target_, ": ",
                                             converted.message(), "; ", NoServerHint()));
}

template <typename Request, typename Response>
absl::StatusOr<Response> Client::CallUnary(grpc::Status (v1::ProcessFarmService::Stub::*method)(
                                               grpc::ClientContext*, const Request&, Response*),
                                           const Request& request) const {
  absl::Status connected = AwaitConnection();
  if (!connected.ok()) return connected;
  grpc::ClientContext context;
  PrepareContext(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.unary_timeout));
  Response response;
  grpc::Status status = (stub_.get()->*method)(&context, request, &response);
  if (!status.ok()) return CallStatus(status, /*received_response=*/false);
  return response;
}

absl::StatusOr<v1::ListCallablesResponse> Client::ListCallables() const {
  return CallUnary(&v1::ProcessFarmService::Stub::ListCallables, v1::ListCallablesRequest());
}

absl::StatusOr<v1::GetStatusResponse> Client::GetStatus() const {
  return CallUnary(&v1::ProcessFarmService::Stub::GetStatus, v1::GetStatusRequest());
}

absl::StatusOr<google::protobuf::Value> Client::Echo(const google::protobuf::Value& value) const {
  v1::EchoRequest request;
  *request.mutable_value() = value;
  absl::StatusOr<v1::EchoResponse> response =
      CallUnary(&v1::ProcessFarmService::Stub::Echo, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_value());
}

absl::StatusOr<std::unique_ptr<StartCall>> Client::Start(absl::string_view callable,
                                                         const google::protobuf::Value& arguments,
                                                         const v1::CallOptions& options) const {
  absl::Status connected = AwaitConnection();
  if (!connected.ok()) return connected;
  std::unique_ptr<StartCall> call(new StartCall());
  PrepareContext(&call->context_);
  call->stream_ = stub_->Start(&call->context_);
  call->packed_ = options_.packed || options.packed();
  v1::StartRequest first;
  first.set_callable(std::string(callable));
  *first.mutable_options() = options;
  if (call->packed_) {
    first.mutable_options()->set_packed(true);
    first.set_packed_arguments(ValueToJson(arguments));
  } else {
    *first.mutable_arguments() = arguments;
  }
  // A failed write means the call already ended; Receive() reports why.
  call->stream_->Write(first);
  return call;
}

StartCall::~StartCall() {
  if (finished_) return;
  context_.TryCancel();
  stream_->Finish().ok();
}

bool StartCall::Send(const google::protobuf::Value& message) {
  if (finished_ || closed_) return false;
  v1::StartRequest request;
  if (packed_) {
    std::string json = "[";
    AppendValueJson(message, &json);
    json.push_back(']');
    request.set_packed_messages(std::move(json));
  } else {
    *request.mutable_message() = message;
  }
  return stream_->Write(request);
}

void StartCall::CloseSend() {
  if (finished_ || closed_) return;
  closed_ = true;
  stream_->WritesDone();
}

void StartCall::Cancel() { context_.TryCancel(); }

absl::StatusOr<std::optional<google::protobuf::Value>> StartCall::Receive() {
  v1::StartResponse response;
  while (true) {
    if (next_message_ < messages_.values_size()) {
      return std::move(*messages_.mutable_values(next_message_++));
    }
    if (finished_) break;
    if (!stream_->Read(&response)) {
      finished_ = true;
      status_ = internal::FromGrpcStatus(stream_->Finish());
      if (status_.ok() && result_.outcome_case() == v1::ItemResult::OUTCOME_NOT_SET) {
        status_ = absl::InternalError("the Start call ended without a result");
      }
      break;
    }
    if (!response.packed_messages().empty()) {
      absl::StatusOr<google::protobuf::ListValue> messages =
          internal::ParsePackedValues(response.packed_messages(), "channel messages");
      if (!messages.ok()) {
        context_.TryCancel();
        stream_->Finish().ok();
        finished_ = true;
        status_ = messages.status();
        break;
      }
      messages_ = *std::move(messages);
      next_message_ = 0;
    }
    if (response.has_message()) return std::move(*response.mutable_message());
    if (response.has_result()) result_ = std::move(*response.mutable_result());
  }
  if (!status_.ok()) return status_;
  return std::nullopt;
}

absl::Status Client::RunItems(CallKind kind, absl::string_view callable,
                              const v1::CallOptions& options, InputSource& inputs,
                              const ResultSink& sink, CallCanceller* canceller,
                              const ChunkStatsSink& chunk_stats) const {
  if (canceller != nullptr && canceller->cancelled()) {
    return absl::CancelledError("call cancelled by the client");
  }
  absl::Status connected = AwaitConnection();
  if (!connected.ok()) return connected;

  grpc::ClientContext context;
  PrepareContext(&context);
  if (canceller != nullptr) canceller->Attach(&context);
  const bool packed = options_.packed || options.packed();
  const internal::BatchLimits limits{options_.max_inputs_per_request, options_.max_request_bytes,
                                     packed};
  internal::StreamOutcome outcome;
  if (kind == CallKind::kMap) {
    v1::MapRequest header;
    header.set_callable(std::string(callable));
    *header.mutable_options() = options;
    header.mutable_options()->set_packed(packed);
    auto stream = stub_->Map(&context);
    outcome = internal::ItemStream<v1::MapRequest, v1::MapResponse>(&context, stream.get(), limits)
                  .Run(header, inputs, sink, chunk_stats);
  } else {
    v1::QueueRequest header;
    header.set_callable(std::string(callable));
    *header.mutable_options() = options;
    header.mutable_options()->set_packed(packed);
    auto stream = stub_->Queue(&context);
    outcome =
        internal::ItemStream<v1::QueueRequest, v1::QueueResponse>(&context, stream.get(), limits)
            .Run(header, inputs, sink, chunk_stats);
  }
  if (canceller != nullptr) canceller->Detach();

  if (!outcome.local_error.ok()) return outcome.local_error;
  if (canceller != nullptr && canceller->cancelled() &&
      outcome.rpc_status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::CancelledError("call cancelled by the client");
  }
  return CallStatus(outcome.rpc_status, outcome.received_response);
}

absl::StatusOr<v1::Job> Client::Submit(v1::SubmitRequest request) const {
  if (options_.packed || request.options().packed()) {
    request.mutable_options()->set_packed(true);
    // Inputs already packed by the caller go as they are.
    if (request.packed_inputs().empty()) {
      request.set_packed_inputs(internal::ToJsonArray(request.inputs()));
      request.clear_inputs();
    }
  }
  absl::StatusOr<v1::SubmitResponse> response =
      CallUnary(&v1::ProcessFarmService::Stub::Submit, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_job());
}

absl::Status Client::Reconnect(const v1::ReconnectRequest& request, const JobOutputSink& sink,
                               CallCanceller* canceller) const {
  if (canceller != nullptr && canceller->cancelled()) {
    return absl::CancelledError("call cancelled by the client");
  }
  absl::Status connected = AwaitConnection();
  if (!connected.ok()) return connected;

  grpc::ClientContext context;
  PrepareContext(&context);
  if (canceller != nullptr) canceller->Attach(&context);
  v1::ReconnectRequest sent = request;
  if (sent.max_outputs_per_message() == 0) {
    sent.set_max_outputs_per_message(kOutputsPerMessage);
  }
  if (options_.packed) sent.set_packed(true);
  std::unique_ptr<grpc::ClientReader<v1::ReconnectResponse>> reader =
      stub_->Reconnect(&context, sent);
  absl::Status sink_error;
  bool received_response = false;
  v1::ReconnectResponse message;
  while (sink_error.ok() && reader->Read(&message)) {
    received_response = true;
    // The sink sees one output at a time: the message's own, then the others
    // it carries; a block's results one by one.
    google::protobuf::RepeatedPtrField<v1::ReconnectResponse> more;
    more.Swap(message.mutable_more());
    sink_error = SinkOutput(message, sink);
    for (int i = 0; sink_error.ok() && i < more.size(); ++i) {
      sink_error = SinkOutput(more.Get(i), sink);
    }
  }
  if (!sink_error.ok()) context.TryCancel();
  const grpc::Status status = reader->Finish();
  if (canceller != nullptr) canceller->Detach();

  if (!sink_error.ok()) return sink_error;
  if (canceller != nullptr && canceller->cancelled() &&
      status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::CancelledError("call cancelled by the client");
  }
  return CallStatus(status, received_response);
}

absl::StatusOr<v1::Job> Client::GetJob(absl::string_view job) const {
  v1::GetJobRequest request;
  request.set_job(std::string(job));
  absl::StatusOr<v1::GetJobResponse> response =
      CallUnary(&v1::ProcessFarmService::Stub::GetJob, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_job());
}

absl::StatusOr<v1::ListJobsResponse> Client::ListJobs(const v1::ListJobsRequest& request) const {
  return CallUnary(&v1::ProcessFarmService::Stub::ListJobs, request);
}

absl::Status Client::ForEachJob(v1::ListJobsRequest request, const JobVisitor& visit) const {
  while (true) {
    absl::StatusOr<v1::ListJobsResponse> page = ListJobs(request);
    if (!page.ok()) return page.status();
    for (const v1::Job& job : page->jobs()) {
      if (absl::Status visited = visit(job); !visited.ok()) return visited;
    }
    // A token that does not move would loop for ever: stop instead.
    if (page->next_page_token().empty() || page->next_page_token() == request.page_token()) {
      return absl::OkStatus();
    }
    request.set_page_token(page->next_page_token());
  }
}

absl::StatusOr<v1::Job> Client::CancelJob(absl::string_view job) const {
  v1::CancelJobRequest request;
  request.set_job(std::string(job));
  absl::StatusOr<v1::CancelJobResponse> response =
      CallUnary(&v1::ProcessFarmService::Stub::CancelJob, request);
  if (!response.ok()) return response.status();
  return std::move(*response->mutable_job());
}

absl::Status Client::DeleteJob(absl::string_view job) const {
  v1::DeleteJobRequest request;
  request.set_job(std::string(job));
  return CallUnary(&v1::ProcessFarmService::Stub::DeleteJob, request).status();
}

}  // namespace pprocd::client
