// FarmService: the gRPC face of pprocd (pprocd.v1.ProcessFarmService on the
// callback API). Thin: it validates, converts, and hands work to the
// Scheduler. Thread-safe; gRPC calls it from its own threads.
//
// Every method is a raw one: requests arrive as bytes and are parsed here
// (server/front/raw_message.h), so that a request that does not parse gets
// INVALID_ARGUMENT saying which one and why (gRPC would answer a unary one
// UNIMPLEMENTED, and end a stream's input as if the client had half-closed).
// Unary methods go through ServeUnary() (server/front/unary_call.h) to a
// typed handler that answers with UnaryCall::Finish(), possibly later from
// another thread.
//
// A handler learns who its caller is with Caller(context): the kernel
// credentials of a UNIX-socket caller (server/peer), or an unknown
// (anonymous) caller for TCP. Background jobs belong to their caller.
#ifndef PPROCD_SERVER_FRONT_FARM_SERVICE_H_
#define PPROCD_SERVER_FRONT_FARM_SERVICE_H_

#include <sys/types.h>

#include <optional>

#include "pprocd/v1/service.grpc.pb.h"
#include "server/front/job_sockets.h"
#include "server/front/unary_call.h"
#include "server/jobs/job_manager.h"
#include "server/peer/caller_identity.h"
#include "server/scheduler/scheduler.h"
#include "worker/registry.h"

namespace pprocd {

// Each method of pprocd.v1.ProcessFarmService as a raw callback method. A
// method added to the service must be added here too (else it would be a
// synchronous one, answering UNIMPLEMENTED).
using RawFarmServiceBase = v1::ProcessFarmService::WithRawCallbackMethod_Start<
    v1::ProcessFarmService::WithRawCallbackMethod_Map<
        v1::ProcessFarmService::WithRawCallbackMethod_Queue<
            v1::ProcessFarmService::WithRawCallbackMethod_Submit<
                v1::ProcessFarmService::WithRawCallbackMethod_Reconnect<
                    v1::ProcessFarmService::WithRawCallbackMethod_GetJob<
                        v1::ProcessFarmService::WithRawCallbackMethod_ListJobs<
                            v1::ProcessFarmService::WithRawCallbackMethod_CancelJob<
                                v1::ProcessFarmService::WithRawCallbackMethod_DeleteJob<
                                    v1::ProcessFarmService::WithRawCallbackMethod_ListCallables<
                                        v1::ProcessFarmService::WithRawCallbackMethod_GetStatus<
                                            v1::ProcessFarmService::WithRawCallbackMethod_Echo<
                                                v1::ProcessFarmService::Service>>>>>>>>>>>>;

class FarmService final : public RawFarmServiceBase {
 public:
  // All must outlive the service. Each call uses the set of callables
  // current when it starts. Without `callers` every caller is unknown
  // (anonymous). Members of `admin_gid` (and root) may see and act on every
  // job.
  // `job_sockets` (optional) makes the sockets jobs ask for.
  FarmService(Scheduler* scheduler, const CurrentRegistry* registry, JobManager* jobs,
              const CallerIdentitySource* callers = nullptr,
              std::optional<gid_t> admin_gid = std::nullopt, JobSockets* job_sockets = nullptr)
      : scheduler_(scheduler),
        registry_(registry),
        jobs_(jobs),
        callers_(callers),
        admin_gid_(admin_gid),
        job_sockets_(job_sockets) {
    CaptureParseLogs();
  }

  // Who made the call of `context`: ask at the start of a handler (see
  // CallerIdentitySource) and keep the answer for the call.
  CallerIdentity Caller(const grpc::ServerContextBase& context) const {
    return callers_ != nullptr ? callers_->Identify(context) : CallerIdentity();
  }
  // The caller as an owner of jobs.
  pprocd::Caller JobCaller(const grpc::ServerContextBase& context) const;
  pprocd::Caller JobCaller(const CallerIdentity& identity) const;

  using RawBidiReactor = grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>;
  RawBidiReactor* Map(grpc::CallbackServerContext* context) override;
  RawBidiReactor* Queue(grpc::CallbackServerContext* context) override;
  RawBidiReactor* Start(grpc::CallbackServerContext* context) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* Reconnect(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListCallables(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* request,
                                          grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const grpc::ByteBuffer* request,
                                 grpc::ByteBuffer* response) override;

 private:
  // The typed handlers: each answers with call->Finish().
  void HandleSubmit(UnaryCall<v1::SubmitRequest, v1::SubmitResponse>* call);
  void HandleGetJob(UnaryCall<v1::GetJobRequest, v1::GetJobResponse>* call);
  void HandleListJobs(UnaryCall<v1::ListJobsRequest, v1::ListJobsResponse>* call);
  void HandleCancelJob(UnaryCall<v1::CancelJobRequest, v1::CancelJobResponse>* call);
  void HandleDeleteJob(UnaryCall<v1::DeleteJobRequest, v1::DeleteJobResponse>* call);
  void HandleListCallables(UnaryCall<v1::ListCallablesRequest, v1::ListCallablesResponse>* call);
  void HandleGetStatus(UnaryCall<v1::GetStatusRequest, v1::GetStatusResponse>* call);
  void HandleEcho(UnaryCall<v1::EchoRequest, v1::EchoResponse>* call);
  grpc::ServerWriteReactor<grpc::ByteBuffer>* HandleReconnect(grpc::CallbackServerContext* context,
                                                              const v1::ReconnectRequest& request);

  Scheduler* const scheduler_;
  const CurrentRegistry* const registry_;
  JobManager* const jobs_;
  const CallerIdentitySource* const callers_;
  const std::optional<gid_t> admin_gid_;
  JobSockets* const job_sockets_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_FARM_SERVICE_H_
