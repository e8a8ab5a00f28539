#include "server/front/farm_service.h"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "pprocd/version.h"
#include "server/front/item_stream_reactor.h"
#include "server/front/python_function.h"
#include "server/front/raw_message.h"
#include "server/front/reconnect_reactor.h"
#include "server/front/request_validation.h"
#include "server/front/start_reactor.h"
#include "server/front/status_convert.h"

namespace pprocd {
namespace {

// Reconnect.after_seq at or past this means after every output: no job
// gets this far, and the readers of outputs may add one to it.
constexpr int64_t kAfterEveryOutput = std::numeric_limits<int64_t>::max() - 1;

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

// Reconnect's lookup of the jobs it names: one after the other, on the job
// thread, then the reactor begins with their cursors (or the first error).
struct JobLookup {
  JobManager* jobs = nullptr;
  pprocd::Caller caller;
  v1::ReconnectRequest request;
  std::vector<std::string> names;
  std::vector<ReconnectReactor::Cursor> cursors;
  ReconnectReactor* reactor = nullptr;
};

void FindNextJob(std::shared_ptr<JobLookup> lookup) {
  if (lookup->cursors.size() == lookup->names.size()) {
    return lookup->reactor->Begin(std::move(lookup->cursors));
  }
  const std::string named = lookup->names[lookup->cursors.size()];
  JobManager* jobs = lookup->jobs;
  const pprocd::Caller caller = lookup->caller;
  jobs->FindAsync(caller, named, /*with_request=*/false,
                  [lookup = std::move(lookup), named](absl::StatusOr<JobRecord> job) mutable {
                    if (!job.ok()) return lookup->reactor->Begin(job.status());
                    ReconnectReactor::Cursor cursor;
                    cursor.job_id = job->id;
                    const auto& by_job = lookup->request.after_seq_by_job();
                    auto found = by_job.find(named);
                    const uint64_t after =
                        found != by_job.end() ? found->second : lookup->request.after_seq();
                    cursor.after = after >= static_cast<uint64_t>(kAfterEveryOutput)
                                       ? kAfterEveryOutput
                                       : static_cast<int64_t>(after);
                    lookup->cursors.push_back(std::move(cursor));
                    FindNextJob(std::move(lookup));
                  });
}

}  // namespace

FarmService::RawBidiReactor* FarmService::Map(grpc::CallbackServerContext* context) {
  return new ItemStreamReactor<v1::MapRequest, v1::MapResponse>(
      scheduler_, registry_->Current(), CallOrder::kInputOrder, Caller(*context));
}

FarmService::RawBidiReactor* FarmService::Queue(grpc::CallbackServerContext* context) {
  return new ItemStreamReactor<v1::QueueRequest, v1::QueueResponse>(
      scheduler_, registry_->Current(), CallOrder::kCompletionOrder, Caller(*context));
}

FarmService::RawBidiReactor* FarmService::Start(grpc::CallbackServerContext* context) {
  return new StartReactor(context, scheduler_, registry_->Current(), Caller(*context));
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
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) {
  return ServeUnary<v1::SubmitRequest, v1::SubmitResponse>(
      "Submit", context, request, response, [this](auto* call) { HandleSubmit(call); });
}

grpc::ServerUnaryReactor* FarmService::GetJob(grpc::CallbackServerContext* context,
                                              const grpc::ByteBuffer* request,
                                              grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetJobRequest, v1::GetJobResponse>(
      "GetJob", context, request, response, [this](auto* call) { HandleGetJob(call); });
}

grpc::ServerUnaryReactor* FarmService::ListJobs(grpc::CallbackServerContext* context,
                                                const grpc::ByteBuffer* request,
                                                grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListJobsRequest, v1::ListJobsResponse>(
      "ListJobs", context, request, response, [this](auto* call) { HandleListJobs(call); });
}

grpc::ServerUnaryReactor* FarmService::CancelJob(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request,
                                                 grpc::ByteBuffer* response) {
  return ServeUnary<v1::CancelJobRequest, v1::CancelJobResponse>(
      "CancelJob", context, request, response, [this](auto* call) { HandleCancelJob(call); });
}

grpc::ServerUnaryReactor* FarmService::DeleteJob(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request,
                                                 grpc::ByteBuffer* response) {
  return ServeUnary<v1::DeleteJobRequest, v1::DeleteJobResponse>(
      "DeleteJob", context, request, response, [this](auto* call) { HandleDeleteJob(call); });
}

grpc::ServerUnaryReactor* FarmService::ListCallables(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request,
                                                     grpc::ByteBuffer* response) {
  return ServeUnary<v1::ListCallablesRequest, v1::ListCallablesResponse>(
      "ListCallables", context, request, response,
      [this](auto* call) { HandleListCallables(call); });
}

grpc::ServerUnaryReactor* FarmService::GetStatus(grpc::CallbackServerContext* context,
                                                 const grpc::ByteBuffer* request,
                                                 grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetStatusRequest, v1::GetStatusResponse>(
      "GetStatus", context, request, response, [this](auto* call) { HandleGetStatus(call); });
}

grpc::ServerUnaryReactor* FarmService::Echo(grpc::CallbackServerContext* context,
                                            const grpc::ByteBuffer* request,
                                            grpc::ByteBuffer* response) {
  return ServeUnary<v1::EchoRequest, v1::EchoResponse>("Echo", context, request, response,
                                                       [this](auto* call) { HandleEcho(call); });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* FarmService::Reconnect(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  v1::ReconnectRequest parsed;
  if (absl::Status status = ParseOnlyRequest("Reconnect", *request, &parsed); !status.ok()) {
    return new FinishedReactor<grpc::ServerWriteReactor<grpc::ByteBuffer>>(ToGrpcStatus(status));
  }
  return HandleReconnect(context, parsed);
}

void FarmService::HandleSubmit(UnaryCall<v1::SubmitRequest, v1::SubmitResponse>* call) {
  const v1::SubmitRequest* request = &call->request();
  const std::shared_ptr<const Registry> registry = registry_->Current();
  const CallerIdentity identity = Caller(*call->context());
  // A job's runs stamp a registered Python callable's module when they
  // start.
  absl::StatusOr<CallTarget> target = CallTarget::Resolve(
      request->callable(), request->has_function() ? &request->function() : nullptr, *registry,
      identity, CallTarget::Stamp::kLater);
  const CallableDef* def = target.ok() ? &target->def() : nullptr;
  absl::Status valid = target.ok() ? ValidateOptions(request->options()) : target.status();
  size_t inputs = static_cast<size_t>(request->inputs_size());
  // The packed inputs, split once here for the job manager too.
  std::shared_ptr<const InputBlock> packed_inputs;
  if (valid.ok() && request->options().packed()) {
    if (request->inputs_size() > 0) {
      valid = absl::InvalidArgumentError(
          "inputs: this job uses the packed form (options.packed); send its inputs as one JSON "
          "array in packed_inputs");
    } else {
      // Its bytes move into the block: the job manager takes them from
      // there.
      absl::StatusOr<std::shared_ptr<const InputBlock>> block =
          PackedInputBlock(std::move(*call->mutable_request()->mutable_packed_inputs()));
      if (block.ok()) {
        inputs = (*block)->elements.size();
        valid = ValidateJsonInputs(*def, **block, 0);
        packed_inputs = *std::move(block);
      } else {
        valid =
            absl::InvalidArgumentError(absl::StrCat("packed_inputs: ", block.status().message()));
      }
    }
  } else if (valid.ok() && !request->packed_inputs().empty()) {
    valid = absl::InvalidArgumentError(
        "packed_inputs: set options.packed to send packed inputs; this job uses `inputs`");
  } else if (valid.ok()) {
    valid = ValidateInputs(*def, request->inputs(), 0);
  }
  if (valid.ok() && inputs == 0) {
    valid = absl::InvalidArgumentError("inputs: a job needs at least one input");
  }
  if (valid.ok() && request->retries() > 100) {
    valid = absl::InvalidArgumentError("retries: at most 100");
  }
  const std::string& socket_path = request->socket_path();
  if (valid.ok() && !socket_path.empty() && job_sockets_ == nullptr) {
    valid = absl::UnimplementedError("socket_path: this server makes no job sockets");
  }
  if (valid.ok() && !socket_path.empty() && request->idempotency_key().empty()) {
    valid = JobSockets::Check(socket_path, identity);
  }
  if (!valid.ok()) return call->Finish(valid);
  if (target->reference_to_registered()) {
    // The job runs the registered function, as a call by its name would.
    call->mutable_request()->clear_function();
    call->mutable_request()->set_callable(target->def().name);
  }
  jobs_->SubmitAsync(
      JobCaller(identity), *request,
      [this, call, identity](absl::StatusOr<JobManager::Submitted> submitted) {
        FinishSubmit(call, identity, std::move(submitted));
      },
      std::move(packed_inputs));
}

void FarmService::FinishSubmit(UnaryCall<v1::SubmitRequest, v1::SubmitResponse>* call,
                               const CallerIdentity& identity,
                               absl::StatusOr<JobManager::Submitted> submitted) {
  if (!submitted.ok()) return call->Finish(submitted.status());
  const std::string& socket_path = call->request().socket_path();
  if (!socket_path.empty() && !submitted->existing) {
    absl::Status opened = JobSockets::Check(socket_path, identity);
    if (opened.ok()) opened = job_sockets_->Open(submitted->job.id(), socket_path, identity);
    if (!opened.ok()) {
      // No job without the socket it asked for.
      const pprocd::Caller admin{kAnonymousOwner, /*admin=*/true};
      const std::string id = submitted->job.id();
      jobs_->CancelAsync(admin, id, [this, call, admin, id, opened](auto /*cancelled*/) {
        jobs_->DeleteAsync(admin, id, [call, opened](auto /*deleted*/) { call->Finish(opened); });
      });
      return;
    }
  }
  *call->response()->mutable_job() = std::move(submitted->job);
  call->Finish(absl::OkStatus());
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* FarmService::HandleReconnect(
    grpc::CallbackServerContext* context, const v1::ReconnectRequest& request) {
  using Finished = FinishedReactor<grpc::ServerWriteReactor<grpc::ByteBuffer>>;
  const CallerIdentity identity = Caller(*context);
  std::vector<std::string> named_jobs(request.jobs().begin(), request.jobs().end());
  // On a job's own socket, no job named means that job.
  if (named_jobs.empty() && !identity.job.empty()) named_jobs.push_back(identity.job);
  if (named_jobs.empty()) {
    return new Finished(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                     "jobs: name at least one job (by id or name)"));
  }
  auto* reactor = new ReconnectReactor(jobs_, request.max_outputs_per_message(), request.packed());
  auto lookup = std::make_shared<JobLookup>();
  lookup->jobs = jobs_;
  lookup->caller = JobCaller(identity);
  lookup->request = request;
  lookup->names = std::move(named_jobs);
  lookup->reactor = reactor;
  FindNextJob(std::move(lookup));
  return reactor;
}

void FarmService::HandleGetJob(UnaryCall<v1::GetJobRequest, v1::GetJobResponse>* call) {
  jobs_->FindAsync(JobCaller(*call->context()), call->request().job(), /*with_request=*/false,
                   [call](absl::StatusOr<JobRecord> job) {
                     if (!job.ok()) return call->Finish(job.status());
                     *call->response()->mutable_job() = JobManager::ToProto(*job);
                     call->Finish(absl::OkStatus());
                   });
}

void FarmService::HandleListJobs(UnaryCall<v1::ListJobsRequest, v1::ListJobsResponse>* call) {
  jobs_->ListAsync(JobCaller(*call->context()), call->request(),
                   [call](absl::StatusOr<v1::ListJobsResponse> page) {
                     if (!page.ok()) return call->Finish(page.status());
                     *call->response() = *std::move(page);
                     call->Finish(absl::OkStatus());
                   });
}

void FarmService::HandleCancelJob(UnaryCall<v1::CancelJobRequest, v1::CancelJobResponse>* call) {
  jobs_->CancelAsync(JobCaller(*call->context()), call->request().job(),
                     [call](absl::StatusOr<v1::Job> job) {
                       if (!job.ok()) return call->Finish(job.status());
                       *call->response()->mutable_job() = *std::move(job);
                       call->Finish(absl::OkStatus());
                     });
}

void FarmService::HandleDeleteJob(UnaryCall<v1::DeleteJobRequest, v1::DeleteJobResponse>* call) {
  // Its socket (if any) goes with it (JobManagerOptions::on_removed).
  jobs_->DeleteAsync(JobCaller(*call->context()), call->request().job(),
                     [call](absl::Status deleted) { call->Finish(deleted); });
}

void FarmService::HandleListCallables(
    UnaryCall<v1::ListCallablesRequest, v1::ListCallablesResponse>* call) {
  const std::shared_ptr<const Registry> registry = registry_->Current();
  for (const CallableDef* def : registry->All()) {
    *call->response()->add_callables() = Describe(*def);
  }
  call->Finish(absl::OkStatus());
}

void FarmService::HandleGetStatus(UnaryCall<v1::GetStatusRequest, v1::GetStatusResponse>* call) {
  // Answered from the scheduler's thread: no gRPC thread waits for it.
  scheduler_->GetStatus([call](absl::StatusOr<v1::GetStatusResponse> status) {
    if (!status.ok()) return call->Finish(status.status());
    *call->response() = *std::move(status);
    call->response()->set_version(kVersion);
    call->Finish(absl::OkStatus());
  });
}

void FarmService::HandleEcho(UnaryCall<v1::EchoRequest, v1::EchoResponse>* call) {
  *call->response()->mutable_value() = call->request().value();
  call->Finish(absl::OkStatus());
}

}  // namespace pprocd
