// FakeFarm: an in-process ProcessFarmService for client tests, served on a
// UNIX socket in a fresh temporary directory. Map and Queue echo each input
// back as the value of its result, with stats {wall_us: index + 1,
// worker_pid: 42}; an input equal to "fail" yields a RAISED error instead,
// one equal to "log" its value with "log\n" written to stdout; callable
// "missing" fails the RPC with NOT_FOUND; callable "hang" reads inputs but
// never answers; callable "badblock" answers a packed call with a block
// whose values do not match its count.
//
// Both forms of items: a call whose first request sets options.packed gets
// successes as ResultBlocks (stats per CallOptions.item_stats: per chunk by
// default, the totals' wall_us being the sum) and failures and items with
// logs as ItemResults; its inputs must come as packed_inputs (`inputs` is
// INVALID_ARGUMENT, as is packed_inputs in a Value-form call).
//
// Start: echoes every channel message back, then ends with the arguments as
// the result's value; "missing" is NOT_FOUND. The packed form (arguments
// and messages as JSON) answers each request's messages with one response.
//
// Jobs: Submit runs a job at once the same way (each input echoed, "fail"
// fails its item and the job) and stores its outputs: a RUNNING snapshot,
// the results, the final snapshot. A packed Reconnect sends runs of
// successful results as blocks (with the items' stats). A job of callable "hang" stays RUNNING
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
#include "pprocd/client/json.h"
#include "pprocd/v1/service.grpc.pb.h"
#include "tests/util/temp_dir.h"

namespace pprocd::client::testing {

class FakeFarm final : public v1::ProcessFarmService::Service {
 public:
  FakeFarm() {
    target_ = "unix:" + dir_.Path("s.sock");
    grpc::ServerBuilder builder;
    builder.AddListeningPort(target_, grpc::InsecureServerCredentials());
    builder.RegisterService(this);
    server_ = builder.BuildAndStart();
  }
  ~FakeFarm() override {
    server_->Shutdown();
    server_->Wait();
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
  // The packed_inputs of every request of the last Map/Queue call that had
  // some, in order.
  std::vector<std::string> packed_inputs() const {
    absl::MutexLock lock(&mu_);
    return packed_inputs_;
  }
  // The requests of the last Start call.
  std::vector<v1::StartRequest> start_requests() const {
    absl::MutexLock lock(&mu_);
    return start_requests_;
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
    google::protobuf::RepeatedPtrField<google::protobuf::Value> inputs = request->inputs();
    if (request->options().packed()) {
      if (request->inputs_size() > 0) return MixedForms();
      grpc::Status parsed = ParseInputs(request->packed_inputs(), &inputs);
      if (!parsed.ok()) return parsed;
    } else if (!request->packed_inputs().empty()) {
      return MixedForms();
    }
    absl::MutexLock lock(&mu_);
    last_submit_ = *request;
    StoredJob& stored = jobs_[++jobs_created_];
    v1::Job& job = stored.job;
    job.set_id("job-" + std::to_string(jobs_created_));
    job.set_name(request->name());
    job.set_callable(request->callable());
    job.set_items_total(inputs.size());
    job.mutable_create_time()->set_seconds(1700000000 + jobs_created_);
    job.set_state(v1::JOB_STATE_RUNNING);
    *response->mutable_job() = job;
    response->mutable_job()->set_state(v1::JOB_STATE_QUEUED);
    AddOutput(stored)->mutable_job()->CopyFrom(job);
    if (request->callable() == "hang") return grpc::Status::OK;
    bool failed = false;
    for (int i = 0; i < inputs.size(); ++i) {
      v1::ItemResult* result = AddOutput(stored)->mutable_result();
      *result = Run(i, inputs.Get(i));
      if (result->has_error()) failed = true;
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
        if (request->packed()) outputs = PackOutputs(std::move(outputs));
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

  grpc::Status Start(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<v1::StartResponse, v1::StartRequest>* stream) override {
    v1::StartRequest request;
    bool first = true;
    bool packed = false;
    google::protobuf::Value arguments;
    while (stream->Read(&request)) {
      {
        absl::MutexLock lock(&mu_);
        if (first) start_requests_.clear();
        start_requests_.push_back(request);
      }
      if (first) {
        first = false;
        if (request.callable() == "missing") {
          return grpc::Status(grpc::StatusCode::NOT_FOUND, "no callable named 'missing'");
        }
        packed = request.options().packed();
        if (packed) {
          absl::StatusOr<google::protobuf::Value> parsed =
              ParseJsonValue(request.packed_arguments());
          if (!parsed.ok()) {
            return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                std::string(parsed.status().message()));
          }
          arguments = *parsed;
        } else {
          arguments = request.arguments();
        }
        continue;
      }
      if (packed != !request.packed_messages().empty() || packed == request.has_message()) {
        return MixedForms();
      }
      v1::StartResponse response;
      if (packed) {
        // Echoed as they came: one JSON array of every message.
        response.set_packed_messages(request.packed_messages());
      } else {
        *response.mutable_message() = request.message();
      }
      if (!stream->Write(response)) return grpc::Status::CANCELLED;
    }
    v1::StartResponse last;
    v1::ItemResult* result = last.mutable_result();
    result->set_last(true);
    *result->mutable_value() = arguments;
    stream->Write(last);
    return grpc::Status::OK;
  }

 private:
  static grpc::Status MixedForms() {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "a call uses one form of items: packed or Value");
  }
  static grpc::Status ParseInputs(
      const std::string& json, google::protobuf::RepeatedPtrField<google::protobuf::Value>* out) {
    absl::StatusOr<google::protobuf::Value> parsed = ParseJsonValue(json);
    if (!parsed.ok() || !parsed->has_list_value()) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "packed_inputs: not a JSON array");
    }
    for (const google::protobuf::Value& value : parsed->list_value().values()) *out->Add() = value;
    return grpc::Status::OK;
  }
  // The result of input `index`.
  static v1::ItemResult Run(uint64_t index, const google::protobuf::Value& input) {
    v1::ItemResult result;
    result.set_index(index);
    result.set_last(true);
    if (input.string_value() == "fail") {
      result.mutable_error()->set_kind(v1::ERROR_KIND_RAISED);
      result.mutable_error()->set_message("asked to fail");
    } else {
      *result.mutable_value() = input;
    }
    if (input.string_value() == "log") {
      v1::LogRecord* log = result.add_logs();
      log->set_stream(v1::LOG_STREAM_STDOUT);
      log->set_data("log\n");
    }
    result.mutable_stats()->set_wall_us(index + 1);
    result.mutable_stats()->set_worker_pid(42);
    return result;
  }
  // Packs `results` (of one response) as the packed form does: runs of
  // successes without logs become blocks, with stats as `mode` says.
  static void Pack(std::vector<v1::ItemResult> results, v1::ItemStatsMode mode,
                   google::protobuf::RepeatedPtrField<v1::ItemResult>* kept,
                   google::protobuf::RepeatedPtrField<v1::ResultBlock>* blocks) {
    v1::ResultBlock* block = nullptr;
    std::string values;
    const auto finish = [&] {
      if (block == nullptr) return;
      block->set_values(values + "]");
      block = nullptr;
    };
    for (v1::ItemResult& result : results) {
      if (!result.has_value() || result.logs_size() > 0) {
        finish();
        *kept->Add() = std::move(result);
        continue;
      }
      if (block == nullptr) {
        block = blocks->Add();
        block->set_first_index(result.index());
        values = "[";
      } else {
        values += ",";
      }
      block->set_count(block->count() + 1);
      values += ValueToJson(result.value());
      if (mode == v1::ITEM_STATS_PER_ITEM) {
        *block->add_item_stats() = result.stats();
      } else if (mode == v1::ITEM_STATS_PER_CHUNK || mode == v1::ITEM_STATS_UNSPECIFIED) {
        v1::ItemStats* total = block->mutable_stats();
        if (block->count() == 1) total->set_worker_pid(result.stats().worker_pid());
        total->set_wall_us(total->wall_us() + result.stats().wall_us());
      }
    }
    finish();
  }
  // Packs a job's outputs for a packed Reconnect: runs of successes (with
  // their own stats) become one block output each.
  static std::vector<v1::ReconnectResponse> PackOutputs(
      std::vector<v1::ReconnectResponse> outputs) {
    std::vector<v1::ReconnectResponse> packed;
    std::vector<v1::ItemResult> run;
    uint64_t run_seq = 0;
    std::string job_id;
    const auto flush = [&] {
      if (run.empty()) return;
      google::protobuf::RepeatedPtrField<v1::ItemResult> none;
      google::protobuf::RepeatedPtrField<v1::ResultBlock> blocks;
      Pack(std::move(run), v1::ITEM_STATS_PER_ITEM, &none, &blocks);
      run.clear();
      v1::ReconnectResponse& output = packed.emplace_back();
      output.set_job_id(job_id);
      output.set_seq(run_seq);
      *output.mutable_block() = blocks.Get(0);
    };
    for (v1::ReconnectResponse& output : outputs) {
      if (output.has_result() && output.result().has_value() && output.result().logs_size() == 0) {
        if (run.empty()) run_seq = output.seq();
        job_id = output.job_id();
        run.push_back(output.result());
        continue;
      }
      flush();
      packed.push_back(std::move(output));
    }
    flush();
    return packed;
  }

  template <typename Response, typename Request>
  grpc::Status Serve(grpc::ServerContext* context,
                     grpc::ServerReaderWriter<Response, Request>* stream) {
    Request request;
    uint64_t index = 0;
    bool first = true;
    std::string callable;
    v1::CallOptions options;
    while (stream->Read(&request)) {
      google::protobuf::RepeatedPtrField<google::protobuf::Value> inputs = request.inputs();
      if (first) options = request.options();
      if (options.packed()) {
        if (request.inputs_size() > 0) return MixedForms();
        if (!request.packed_inputs().empty()) {
          grpc::Status parsed = ParseInputs(request.packed_inputs(), &inputs);
          if (!parsed.ok()) return parsed;
        }
      } else if (!request.packed_inputs().empty()) {
        return MixedForms();
      }
      {
        absl::MutexLock lock(&mu_);
        if (first) {
          callable_ = callable = request.callable();
          options_ = request.options();
          first_request_had_inputs_ = inputs.size() > 0;
          inputs_received_ = 0;
          requests_received_ = 0;
          packed_inputs_.clear();
          first = false;
        }
        ++requests_received_;
        inputs_received_ += inputs.size();
        if (!request.packed_inputs().empty()) packed_inputs_.push_back(request.packed_inputs());
      }
      if (callable == "missing") {
        return grpc::Status(grpc::StatusCode::NOT_FOUND, "no callable named 'missing'");
      }
      if (callable == "hang") continue;
      Response response;
      std::vector<v1::ItemResult> results;
      for (const google::protobuf::Value& input : inputs) results.push_back(Run(index++, input));
      if (!options.packed()) {
        for (v1::ItemResult& result : results) *response.add_results() = std::move(result);
      } else {
        const bool bad = callable == "badblock" && !results.empty();
        Pack(std::move(results), options.item_stats(), response.mutable_results(),
             response.mutable_blocks());
        if (bad && response.blocks_size() > 0) {
          response.mutable_blocks(0)->set_count(response.blocks(0).count() + 1);
        }
      }
      if ((response.results_size() > 0 || response.blocks_size() > 0) && !stream->Write(response)) {
        break;
      }
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

  // Holds the server's socket; removed after the server stops.
  const ::pprocd::testing::TempDir dir_{"pproc-client-test"};
  std::string target_;
  std::unique_ptr<grpc::Server> server_;
  mutable absl::Mutex mu_;
  std::string callable_ ABSL_GUARDED_BY(mu_);
  v1::CallOptions options_ ABSL_GUARDED_BY(mu_);
  uint64_t inputs_received_ ABSL_GUARDED_BY(mu_) = 0;
  int requests_received_ ABSL_GUARDED_BY(mu_) = 0;
  bool first_request_had_inputs_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::string> packed_inputs_ ABSL_GUARDED_BY(mu_);
  std::vector<v1::StartRequest> start_requests_ ABSL_GUARDED_BY(mu_);
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
