// FakeFarm: an in-process ProcessFarmService for client tests, served on a
// UNIX socket in a fresh temporary directory. Map and Queue echo each input
// back as the value of its result; an input equal to "fail" yields a
// RAISED error instead; callable "missing" fails the RPC with NOT_FOUND;
// callable "hang" reads inputs but never answers.
//
// Thread-safety: the service runs on gRPC's threads; the recorded fields
// are guarded by mu_ and read through accessors.
#ifndef PPROCD_TESTS_CLIENTS_FAKE_FARM_H_
#define PPROCD_TESTS_CLIENTS_FAKE_FARM_H_

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

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
};

}  // namespace pprocd::client::testing

#endif  // PPROCD_TESTS_CLIENTS_FAKE_FARM_H_
