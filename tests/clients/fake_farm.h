// FakeFarm: an in-process ProcessFarmService for client tests, served on a
// UNIX socket in a fresh temporary directory. Map and Queue echo each input
// back as the value of its result; an input equal to "fail" yields a
// RAISED error instead; callable "missing" fails the RPC with NOT_FOUND;
// callable "hang" reads inputs but never answers.
//
// Jobs: Submit runs a job at once the same way (each input echoed, "fail"
// fails its item and the job) and stores its outputs: a RUNNING snapshot,
// the results, the final snapshot. A job of callable "hang" stays RUNNING
// (Reconnect follows it until CancelJob or the client cancels); "missing"
// is NOT_FOUND. Ids are "job-1", "job-2", ...; ListJobs pages by offset.
//
// Thread-safety: the service runs on gRPC's threads; the recorded fields
// are guarded by mu_ and read through accessors.
#ifndef PPROCD_TESTS_CLIENTS_FAKE_FARM_H_
#define PPROCD_TESTS_CLIENTS_FAKE_FARM_H_

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "pprocd/v1/service.grpc.pb.h"

namespace pprocd::client::testing {

class FakeFarm final : public v1::ProcessFarmService::Service {
 public:
  FakeFarm() {
    char dir[] = "/tmp/pproc_client_test.XXXXXX";
    dir_ = ::mkdtemp(dir);
    target_ = "unix:" + dir_ + "/s.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort(target_, grpc::InsecureServerCredentials());
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeFarm() override {
    server_->Shutdown();
    server_->Wait();
    ::unlink((dir_ + "/s.sock").c_str());
    ::rmdir(dir_.c_str());
  }

  const std::string& target() const { return target_; }

  // What the last Map/Queue call received.
  std::string callable() const {
    absl::MutexLock lock(&mu_);
    return callable_;
  }
  v1::CallOptions options() const {
    absl::MutexLock lock(&mu_);
    return options_;
  }
  uint64_t inputs_received() const {
    absl::MutexLock lock(&mu_);
    return inputs_received_;
  }
  int requests_received() const {
    absl::MutexLock lock(&mu_);
    return requests_received_;
  }
  bool first_request_had_inputs() const {
    absl::MutexLock lock(&mu_);
    return first_request_had_inputs_;
  }
  // Waits until a Map/Queue call ended by the client's cancellation.
  bool WaitForCancellation(absl::Duration timeout) const {
    return cancelled_.WaitForNotificationWithTimeout(timeout);
  }

  grpc::Status Map(grpc::ServerContext* context,
                   grpc::ServerReaderWriter<v1::MapResponse, v1::MapRequest>* stream) override {
    return Serve(context, stream);
  }
  grpc::Status Queue(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::QueueResponse, v1::QueueRequest>* stream) override {
    return Serve(context, stream);
  }
  // The last SubmitRequest and how many ListJobs calls came.
  v1::SubmitRequest last_submit() const {
    absl::MutexLock lock(&mu_);
    return last_submit_;
  }
  int list_jobs_calls() const {
    absl::MutexLock lock(&mu_);
    return list_jobs_calls_;
  }

  grpc::Status Submit(grpc::ServerContext*, const v1::SubmitRequest* request,
                      v1::SubmitResponse* response) override {
    if (request->callable() == "missing") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no callable named 'missing'");
    }
    absl::MutexLock lock(&mu_);
    last_submit_ = *request;
    StoredJob& stored = jobs_[++jobs_created_];
    v1::Job& job = stored.job;
    job.set_id("job-" + std::to_string(jobs_created_));
    job.set_name(request->name());
    job.set_callable(request->callable());
    job.set_items_total(request->inputs_size());
    job.mutable_create_time()->set_seconds(1700000000 + jobs_created_);
    job.set_state(v1::JOB_STATE_RUNNING);
    *response->mutable_job() = job;
    response->mutable_job()->set_state(v1::JOB_STATE_QUEUED);
    AddOutput(stored)->mutable_job()->CopyFrom(job);
    if (request->callable() == "hang") return grpc::Status::OK;
    bool failed = false;
    for (int i = 0; i < request->inputs_size(); ++i) {
      v1::ItemResult* result = AddOutput(stored)->mutable_result();
      result->set_index(i);
      result->set_last(true);
      if (request->inputs(i).string_value() == "fail") {
        failed = true;
        result->mutable_error()->set_kind(v1::ERROR_KIND_RAISED);
        result->mutable_error()->set_message("asked to fail");
      } else {
        *result->mutable_value() = request->inputs(i);
      }
      job.set_items_done(i + 1);
    }
    End(stored, failed ? v1::JOB_STATE_FAILED : v1::JOB_STATE_SUCCEEDED,
        failed ? "an item failed" : "");
    return grpc::Status::OK;
  }
  grpc::Status Reconnect(grpc::ServerContext* context, const v1::ReconnectRequest* request,
                         grpc::ServerWriter<v1::ReconnectResponse>* writer) override {
    std::vector<uint64_t> keys;
    {
      absl::MutexLock lock(&mu_);
      for (const std::string& job : request->jobs()) {
        const uint64_t key = Find(job);
        if (key == 0) return JobNotFound(job);
        keys.push_back(key);
      }
    }
    // One job after the other: enough for a fake.
    for (const uint64_t key : keys) {
      size_t sent = 0;
      while (true) {
        std::vector<v1::ReconnectResponse> outputs;
        bool ended = false;
        {
          absl::MutexLock lock(&mu_);
          const StoredJob& stored = jobs_[key];
          for (; sent < stored.outputs.size(); ++sent) {
            if (stored.outputs[sent].seq() > request->after_seq()) {
              outputs.push_back(stored.outputs[sent]);
            }
          }
          ended = stored.job.has_end_time();
          if (!ended) {
            Since since{this, version_};
            mu_.AwaitWithTimeout(absl::Condition(&Changed, &since), absl::Milliseconds(50));
          }
        }
        for (const v1::ReconnectResponse& output : outputs) {
          if (!writer->Write(output)) return grpc::Status::CANCELLED;
        }
        if (ended) break;
        if (context->IsCancelled()) return grpc::Status::CANCELLED;
      }
    }
    return grpc::Status::OK;
  }
  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest* request,
                      v1::GetJobResponse* response) override {
    absl::MutexLock lock(&mu_);
    const uint64_t key = Find(request->job());
    if (key == 0) return JobNotFound(request->job());
    *response->mutable_job() = jobs_[key].job;
    return grpc::Status::OK;
  }
  grpc::Status ListJobs(grpc::ServerContext*, const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++list_jobs_calls_;
    const size_t page_size = request->page_size() == 0 ? 100 : request->page_size();
    const size_t offset = request->page_token().empty() ? 0 : std::stoul(request->page_token());
    std::vector<const v1::Job*> matching;  // Newest first.
    for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it) {
      const v1::Job& job = it->second.job;
      if (request->state() != v1::JOB_STATE_UNSPECIFIED && job.state() != request->state()) {
        continue;
      }
      if (!request->name().empty() && job.name() != request->name()) continue;
      matching.push_back(&job);
    }
    for (size_t i = offset; i < matching.size() && i < offset + page_size; ++i) {
      *response->add_jobs() = *matching[i];
    }
    if (offset + page_size < matching.size()) {
      response->set_next_page_token(std::to_string(offset + page_size));
    }
    return grpc::Status::OK;
  }
  grpc::Status CancelJob(grpc::ServerContext*, const v1::CancelJobRequest* request,
                         v1::CancelJobResponse* response) override {
    absl::MutexLock lock(&mu_);
    const uint64_t key = Find(request->job());
    if (key == 0) return JobNotFound(request->job());
    StoredJob& stored = jobs_[key];
    if (!stored.job.has_end_time()) End(stored, v1::JOB_STATE_CANCELLED, "cancelled");
    *response->mutable_job() = stored.job;
    return grpc::Status::OK;
  }
  grpc::Status DeleteJob(grpc::ServerContext*, const v1::DeleteJobRequest* request,
                         v1::DeleteJobResponse*) override {
    absl::MutexLock lock(&mu_);
    const uint64_t key = Find(request->job());
    if (key == 0) return JobNotFound(request->job());
    if (!jobs_[key].job.has_end_time()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "job " + request->job() + " is RUNNING: cancel it before deleting it");
    }
    jobs_.erase(key);
    return grpc::Status::OK;
  }

  grpc::Status ListCallables(grpc::ServerContext*, const v1::ListCallablesRequest*,
                             v1::ListCallablesResponse* response) override {
    response->add_callables()->set_name("echo");
    return grpc::Status::OK;
  }
  grpc::Status GetStatus(grpc::ServerContext*, const v1::GetStatusRequest*,
                         v1::GetStatusResponse* response) override {
    response->set_workers_configured(4);
    return grpc::Status::OK;
  }

 private:
  template <typename Response, typename Request>
  grpc::Status Serve(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<Response, Request>* stream) {
    Request request;
    uint64_t index = 0;
    bool first = true;
    std::string callable;
    while (stream->Read(&request)) {
      {
        absl::MutexLock lock(&mu_);
        if (first) {
          callable_ = callable = request.callable();
          options_ = request.options();
          first_request_had_inputs_ = request.inputs_size() > 0;
          inputs_received_ = 0;
          requests_received_ = 0;
          first = false;
        }
        ++requests_received_;
        inputs_received_ += request.inputs_size();
      }
      if (callable == "missing") {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "no callable named 'missing'");
      }
      if (callable == "hang") continue;
      Response response;
      for (const google::protobuf::Value& input : request.inputs()) {
        v1::ItemResult* result = response.add_results();
        result->set_index(index++);
        if (input.string_value() == "fail") {
          result->mutable_error()->set_kind(v1::ERROR_KIND_RAISED);
          result->mutable_error()->set_message("asked to fail");
        } else {
          *result->mutable_value() = input;
        }
      }
      if (response.results_size() > 0 && !stream->Write(response)) break;
    }
    if (context->IsCancelled()) {
      if (!cancelled_.HasBeenNotified()) cancelled_.Notify();
      return grpc::Status::CANCELLED;
    }
    return grpc::Status::OK;
  }

  struct StoredJob {
    v1::Job job;
    std::vector<v1::ReconnectResponse> outputs;
  };
  struct Since {
    const FakeFarm* farm;
    uint64_t version;
  };
  static bool Changed(Since* since) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    return since->farm->version_ != since->version;
  }

  // The key in jobs_ of the job with this id or name; 0 if none.
  uint64_t Find(const std::string& id_or_name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const auto& [key, stored] : jobs_) {
      if (stored.job.id() == id_or_name || stored.job.name() == id_or_name) return key;
    }
    return 0;
  }
  static grpc::Status JobNotFound(const std::string& job) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no job '" + job + "'");
  }
  v1::ReconnectResponse* AddOutput(StoredJob& stored) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    v1::ReconnectResponse* output = &stored.outputs.emplace_back();
    output->set_job_id(stored.job.id());
    output->set_seq(stored.outputs.size());
    stored.job.set_last_seq(stored.outputs.size());
    ++version_;
    return output;
  }
  void End(StoredJob& stored, v1::JobState state, const std::string& error)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    stored.job.set_state(state);
    stored.job.set_error(error);
    stored.job.mutable_end_time()->set_seconds(1700000100);
    v1::ReconnectResponse* output = AddOutput(stored);
    *output->mutable_job() = stored.job;
  }

  std::string dir_;
  std::string target_;
  std::unique_ptr<grpc::Server> server_;
  mutable absl::Mutex mu_;
  std::string callable_ ABSL_GUARDED_BY(mu_);
  v1::CallOptions options_ ABSL_GUARDED_BY(mu_);
  uint64_t inputs_received_ ABSL_GUARDED_BY(mu_) = 0;
  int requests_received_ ABSL_GUARDED_BY(mu_) = 0;
  bool first_request_had_inputs_ ABSL_GUARDED_BY(mu_) = false;
  absl::Notification cancelled_;
  // Jobs in creation order, from 1.
  std::map<uint64_t, StoredJob> jobs_ ABSL_GUARDED_BY(mu_);
  uint64_t jobs_created_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
  v1::SubmitRequest last_submit_ ABSL_GUARDED_BY(mu_);
  int list_jobs_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pprocd::client::testing

#endif  // PPROCD_TESTS_CLIENTS_FAKE_FARM_H_
