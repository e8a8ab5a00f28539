#include "server/front/farm_service.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "server/front/item_stream_reactor.h"
#include "server/front/reconnect_reactor.h"
#include "server/front/request_validation.h"
#include "server/front/start_reactor.h"
#include "server/front/status_convert.h"

namespace pprocd {
namespace {

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

// Whether the caller's user has `gid` as its primary group (from the
// kernel) or as a supplementary one (from the group database).
bool IsInGroup(const CallerIdentity& identity, gid_t gid) {
  if (identity.gid == gid) return true;
  passwd entry;
  passwd* user = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(identity.uid, &entry, buffer.data(), buffer.size(), &user) != 0 ||
      user == nullptr) {
    return false;
  }
  std::vector<gid_t> groups(64);
  int count = static_cast<int>(groups.size());
  if (getgrouplist(user->pw_name, identity.gid, groups.data(), &count) < 0) {
    groups.resize(static_cast<size_t>(count));
    if (getgrouplist(user->pw_name, identity.gid, groups.data(), &count) < 0) return false;
  }
  return std::find(groups.begin(), groups.begin() + count, gid) != groups.begin() + count;
}

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

pprocd::Caller FarmService::JobCaller(const grpc::ServerContextBase& context) const {
  return JobCaller(Caller(context));
}

pprocd::Caller FarmService::JobCaller(const CallerIdentity& identity) const {
  pprocd::Caller caller;
  if (!identity.known) return caller;  // TCP: the anonymous owner.
  caller.uid = identity.uid;
  caller.admin = identity.uid == 0 || (admin_gid_.has_value() && IsInGroup(identity, *admin_gid_));
  return caller;
}

grpc::ServerUnaryReactor* FarmService::Submit(grpc::CallbackServerContext* context,
                                              const v1::SubmitRequest* request,
                                              v1::SubmitResponse* response) {
  const std::shared_ptr<const Registry> registry = registry_->Current();
  absl::StatusOr<const CallableDef*> def = FindCallable(*registry, request->callable());
  absl::Status valid = def.ok() ? ValidateOptions(request->options()) : def.status();
  if (valid.ok()) valid = ValidateInputs(**def, request->inputs(), 0);
  if (valid.ok() && request->inputs_size() == 0) {
    valid = absl::InvalidArgumentError("inputs: a job needs at least one input");
  }
  if (valid.ok() && request->retries() > 100) {
    valid = absl::InvalidArgumentError("retries: at most 100");
  }
  const CallerIdentity identity = Caller(*context);
  const std::string& socket_path = request->socket_path();
  if (valid.ok() && !socket_path.empty() && job_sockets_ == nullptr) {
    valid = absl::UnimplementedError("socket_path: this server makes no job sockets");
  }
  if (valid.ok() && !socket_path.empty() && request->idempotency_key().empty()) {
    valid = JobSockets::Check(socket_path, identity);
  }
  if (!valid.ok()) return Answer(context, ToGrpcStatus(valid));
  bool existing = false;
  absl::StatusOr<v1::Job> job = jobs_->Submit(JobCaller(identity), *request, &existing);
  if (!job.ok()) return Answer(context, ToGrpcStatus(job.status()));
  if (!socket_path.empty() && !existing) {
    absl::Status opened = JobSockets::Check(socket_path, identity);
    if (opened.ok()) opened = job_sockets_->Open(job->id(), socket_path, identity);
    if (!opened.ok()) {
      // No job without the socket it asked for.
      const pprocd::Caller admin{kAnonymousOwner, /*admin=*/true};
      (void)jobs_->Cancel(admin, job->id());
      (void)jobs_->Delete(admin, job->id());
      return Answer(context, ToGrpcStatus(opened));
    }
  }
  *response->mutable_job() = *std::move(job);
  return Answer(context, grpc::Status::OK);
}

grpc::ServerWriteReactor<v1::ReconnectResponse>* FarmService::Reconnect(
    grpc::CallbackServerContext* context, const v1::ReconnectRequest* request) {
  using Finished = FinishedReactor<grpc::ServerWriteReactor<v1::ReconnectResponse>>;
  const CallerIdentity identity = Caller(*context);
  std::vector<std::string> named_jobs(request->jobs().begin(), request->jobs().end());
  // On a job's own socket, no job named means that job.
  if (named_jobs.empty() && !identity.job.empty()) named_jobs.push_back(identity.job);
  if (named_jobs.empty()) {
    return new Finished(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "jobs: name at least one job (by id or name)"));
  }
  const pprocd::Caller caller = JobCaller(identity);
  std::vector<ReconnectReactor::Cursor> cursors;
  for (const std::string& named : named_jobs) {
    absl::StatusOr<JobRecord> job = jobs_->Find(caller, named);
    if (!job.ok()) return new Finished(ToGrpcStatus(job.status()));
    ReconnectReactor::Cursor cursor;
    cursor.job_id = job->id;
    auto by_job = request->after_seq_by_job().find(named);
    const uint64_t after =
        by_job != request->after_seq_by_job().end() ? by_job->second : request->after_seq();
    cursor.after = static_cast<int64_t>(after);
    cursors.push_back(std::move(cursor));
  }
  return new ReconnectReactor(jobs_, std::move(cursors), request->max_outputs_per_message());
}

grpc::ServerUnaryReactor* FarmService::GetJob(grpc::CallbackServerContext* context,
                                              const v1::GetJobRequest* request,
                                              v1::GetJobResponse* response) {
  absl::StatusOr<JobRecord> job =
      jobs_->Find(JobCaller(*context), request->job(), /*with_request=*/true);
  if (!job.ok()) return Answer(context, ToGrpcStatus(job.status()));
  *response->mutable_job() = JobManager::ToProto(*job);
  return Answer(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* FarmService::ListJobs(grpc::CallbackServerContext* context,
                                                const v1::ListJobsRequest* request,
                                                v1::ListJobsResponse* response) {
  absl::StatusOr<v1::ListJobsResponse> page = jobs_->List(JobCaller(*context), *request);
  if (!page.ok()) return Answer(context, ToGrpcStatus(page.status()));
  *response = *std::move(page);
  return Answer(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* FarmService::CancelJob(grpc::CallbackServerContext* context,
                                                 const v1::CancelJobRequest* request,
                                                 v1::CancelJobResponse* response) {
  absl::StatusOr<v1::Job> job = jobs_->Cancel(JobCaller(*context), request->job());
  if (!job.ok()) return Answer(context, ToGrpcStatus(job.status()));
  *response->mutable_job() = *std::move(job);
  return Answer(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* FarmService::DeleteJob(grpc::CallbackServerContext* context,
                                                 const v1::DeleteJobRequest* request,
                                                 v1::DeleteJobResponse* /*response*/) {
  const pprocd::Caller caller = JobCaller(*context);
  absl::StatusOr<JobRecord> job = jobs_->Find(caller, request->job());
  if (!job.ok()) return Answer(context, ToGrpcStatus(job.status()));
  // Its socket (if any) goes with it (JobManagerOptions::on_removed).
  return Answer(context, ToGrpcStatus(jobs_->Delete(caller, job->id)));
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
