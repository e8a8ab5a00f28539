#include "server/front/farm_service.h"

#include <string>

#include "server/front/item_stream_reactor.h"
#include "server/front/start_reactor.h"

namespace pprocd {
namespace {

// The answer of an RPC that a later version implements.
grpc::Status NotYet(const std::string& what) {
  return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                      what + " is not implemented yet in this pprocd version");
}

grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, grpc::Status status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// A streaming reactor that finishes at once with `status`.
template <typename Base>
class FinishedReactor : public Base {
 public:
  explicit FinishedReactor(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerBidiReactor<v1::MapRequest, v1::MapResponse>* FarmService::Map(
    grpc::CallbackServerContext* /*context*/) {
  return new ItemStreamReactor<v1::MapRequest, v1::MapResponse>(scheduler_, registry_->Current(),
                                                                CallOrder::kInputOrder);
}

grpc::ServerBidiReactor<v1::QueueRequest, v1::QueueResponse>* FarmService::Queue(
    grpc::CallbackServerContext* /*context*/) {
  return new ItemStreamReactor<v1::QueueRequest, v1::QueueResponse>(
      scheduler_, registry_->Current(), CallOrder::kCompletionOrder);
}

grpc::ServerBidiReactor<v1::StartRequest, v1::StartResponse>* FarmService::Start(
    grpc::CallbackServerContext* context) {
  return new StartReactor(context, scheduler_, registry_->Current());
}

grpc::ServerUnaryReactor* FarmService::Submit(grpc::CallbackServerContext* context,
                                              const v1::SubmitRequest* /*request*/,
                                              v1::SubmitResponse* /*response*/) {
  return Answer(context, NotYet("Submit (background jobs)"));
}

grpc::ServerWriteReactor<v1::ReconnectResponse>* FarmService::Reconnect(
    grpc::CallbackServerContext* /*context*/, const v1::ReconnectRequest* /*request*/) {
  return new FinishedReactor<grpc::ServerWriteReactor<v1::ReconnectResponse>>(
      NotYet("Reconnect (background jobs)"));
}

grpc::ServerUnaryReactor* FarmService::GetJob(grpc::CallbackServerContext* context,
                                              const v1::GetJobRequest* /*request*/,
                                              v1::GetJobResponse* /*response*/) {
  return Answer(context, NotYet("GetJob (background jobs)"));
}

grpc::ServerUnaryReactor* FarmService::ListJobs(grpc::CallbackServerContext* context,
                                                const v1::ListJobsRequest* /*request*/,
                                                v1::ListJobsResponse* /*response*/) {
  return Answer(context, NotYet("ListJobs (background jobs)"));
}

grpc::ServerUnaryReactor* FarmService::CancelJob(grpc::CallbackServerContext* context,
                                                 const v1::CancelJobRequest* /*request*/,
                                                 v1::CancelJobResponse* /*response*/) {
  return Answer(context, NotYet("CancelJob (background jobs)"));
}

grpc::ServerUnaryReactor* FarmService::DeleteJob(grpc::CallbackServerContext* context,
                                                 const v1::DeleteJobRequest* /*request*/,
                                                 v1::DeleteJobResponse* /*response*/) {
  return Answer(context, NotYet("DeleteJob (background jobs)"));
}

grpc::ServerUnaryReactor* FarmService::ListCallables(grpc::CallbackServerContext* context,
                                                     const v1::ListCallablesRequest* /*request*/,
                                                     v1::ListCallablesResponse* response) {
  const std::shared_ptr<const Registry> registry = registry_->Current();
  for (const CallableDef* def : registry->All()) *response->add_callables() = Describe(*def);
  return Answer(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* FarmService::GetStatus(grpc::CallbackServerContext* context,
                                                 const v1::GetStatusRequest* /*request*/,
                                                 v1::GetStatusResponse* response) {
  *response = scheduler_->GetStatus();
  return Answer(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* FarmService::Echo(grpc::CallbackServerContext* context,
                                            const v1::EchoRequest* request,
                                            v1::EchoResponse* response) {
  *response->mutable_value() = request->value();
  return Answer(context, grpc::Status::OK);
}

}  // namespace pprocd
