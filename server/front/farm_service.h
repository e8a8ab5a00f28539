// FarmService: the gRPC face of pprocd (pprocd.v1.ProcessFarmService on the
// callback API). Thin: it validates, converts, and hands work to the
// Scheduler. Thread-safe; gRPC calls it from its own threads.
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
#include "server/jobs/job_manager.h"
#include "server/peer/caller_identity.h"
#include "server/scheduler/scheduler.h"
#include "worker/registry.h"

namespace pprocd {

class FarmService final : public v1::ProcessFarmService::CallbackService {
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
        job_sockets_(job_sockets) {}

  // Who made the call of `context`: ask at the start of a handler (see
  // CallerIdentitySource) and keep the answer for the call.
  CallerIdentity Caller(const grpc::ServerContextBase& context) const {
    return callers_ != nullptr ? callers_->Identify(context) : CallerIdentity();
  }
  // The caller as an owner of jobs.
  pprocd::Caller JobCaller(const grpc::ServerContextBase& context) const;
  pprocd::Caller JobCaller(const CallerIdentity& identity) const;

  grpc::ServerBidiReactor<v1::MapRequest, v1::MapResponse>* Map(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::QueueRequest, v1::QueueResponse>* Queue(
      grpc::CallbackServerContext* context) override;
  grpc::ServerBidiReactor<v1::StartRequest, v1::StartResponse>* Start(
      grpc::CallbackServerContext* context) override;
  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context,
                                   const v1::SubmitRequest* request,
                                   v1::SubmitResponse* response) override;
  grpc::ServerWriteReactor<v1::ReconnectResponse>* Reconnect(
      grpc::CallbackServerContext* context, const v1::ReconnectRequest* request) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const v1::GetJobRequest* request,
                                   v1::GetJobResponse* response) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* context,
                                     const v1::ListJobsRequest* request,
                                     v1::ListJobsResponse* response) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* context,
                                      const v1::CancelJobRequest* request,
                                      v1::CancelJobResponse* response) override;
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* context,
                                      const v1::DeleteJobRequest* request,
                                      v1::DeleteJobResponse* response) override;
  grpc::ServerUnaryReactor* ListCallables(grpc::CallbackServerContext* context,
                                          const v1::ListCallablesRequest* request,
                                          v1::ListCallablesResponse* response) override;
  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::GetStatusRequest* request,
                                      v1::GetStatusResponse* response) override;
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const v1::EchoRequest* request,
                                 v1::EchoResponse* response) override;

 private:
  Scheduler* const scheduler_;
  const CurrentRegistry* const registry_;
  JobManager* const jobs_;
  const CallerIdentitySource* const callers_;
  const std::optional<gid_t> admin_gid_;
  JobSockets* const job_sockets_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_FARM_SERVICE_H_
