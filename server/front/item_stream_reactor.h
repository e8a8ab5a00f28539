// ItemStreamReactor: one Map or Queue call on the gRPC side. It validates
// requests, passes inputs to the Scheduler when the scheduler asks for them
// (flow control: no read is started until the call has room), and writes
// the results the scheduler delivers, one response at a time.
//
// gRPC invokes the reactions on its threads; the scheduler invokes the
// CallSink methods on its thread. Both take `mu_`. The reactor deletes
// itself in OnDone(); the sink outlives it and then ignores the scheduler.
#ifndef PPROCD_SERVER_FRONT_ITEM_STREAM_REACTOR_H_
#define PPROCD_SERVER_FRONT_ITEM_STREAM_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/front/request_validation.h"
#include "server/front/status_convert.h"
#include "server/scheduler/call_sink.h"
#include "server/scheduler/scheduler.h"
#include "worker/registry.h"

namespace pprocd {

// Results per response message, and its approximate size cap.
inline constexpr int kMaxResultsPerResponse = 4096;
inline constexpr size_t kMaxResponseBytes = 1 << 20;

template <typename Request, typename Response>
class ItemStreamReactor : public grpc::ServerBidiReactor<Request, Response> {
 public:
  ItemStreamReactor(Scheduler* scheduler, const Registry* registry, CallOrder order)
      : scheduler_(scheduler), registry_(registry), order_(order) {
    sink_ = std::make_shared<Sink>(this);
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&sink_->mu);
    if (finish_requested_) return;
    if (!ok) {  // Half-close: the input is complete.
      if (!opened_) {
        FinishLocked(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "callable: the first request must name a callable"));
        return;
      }
      scheduler_->EndInputs(call_id_);
      return;
    }
    absl::Status status = opened_ ? CheckLaterRequest() : CheckFirstRequest();
    if (status.ok() && !opened_) {
      absl::StatusOr<uint64_t> id =
          scheduler_->OpenCall(request_.callable(), request_.options(), order_, sink_);
      status = id.status();
      if (id.ok()) {
        opened_ = true;
        call_id_ = *id;
      }
    }
    if (status.ok() && !scheduler_->ReserveQueued(request_.inputs_size())) {
      status = absl::ResourceExhaustedError(
          "inputs: the server's queue of pending items is full; retry later or send fewer "
          "inputs per request");
    }
    if (!status.ok()) {
      if (opened_) scheduler_->CancelCall(call_id_);
      FinishLocked(ToGrpcStatus(status));
      return;
    }
    // The scheduler keeps inputs serialized: it only forwards them.
    std::vector<std::string> inputs(request_.inputs_size());
    for (int i = 0; i < request_.inputs_size(); ++i) {
      request_.inputs(i).SerializeToString(&inputs[i]);
    }
    inputs_seen_ += inputs.size();
    scheduler_->AddInputs(call_id_, std::move(inputs));
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&sink_->mu);
    writing_ = false;
    const int sent = outbox_.front().results_size();
    outbox_.pop_front();
    if (ok) scheduler_->ResultsSent(call_id_, static_cast<uint64_t>(sent));
    if (!ok) outbox_.clear();
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&sink_->mu);
    if (opened_) scheduler_->CancelCall(call_id_);
    outbox_.clear();
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the call"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&sink_->mu);
      sink_->reactor = nullptr;
    }
    delete this;
  }

 private:
  // Forwards the scheduler's calls while the reactor lives.
  struct Sink : CallSink {
    explicit Sink(ItemStreamReactor* owner) : reactor(owner) {}
    void Deliver(std::vector<ResultPtr> results) override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr) reactor->DeliverLocked(std::move(results));
    }
    void WantInput() override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr && !reactor->finish_requested_) reactor->StartRead(&reactor->request_);
    }
    void Finish(absl::Status status) override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr) reactor->FinishLocked(ToGrpcStatus(status));
    }
    absl::Mutex mu;
    ItemStreamReactor* reactor ABSL_GUARDED_BY(mu);
  };

  absl::Status CheckFirstRequest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    absl::StatusOr<const CallableDef*> def = FindCallable(*registry_, request_.callable());
    if (!def.ok()) return def.status();
    def_ = *def;
    absl::Status options = ValidateOptions(request_.options());
    if (!options.ok()) return options;
    return ValidateInputs(*def_, request_.inputs(), 0);
  }

  absl::Status CheckLaterRequest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (!request_.callable().empty() && request_.callable() != def_->name) {
      return absl::InvalidArgumentError("callable: only the first request may name the callable");
    }
    if (request_.has_options()) {
      return absl::InvalidArgumentError("options: only the first request may carry options");
    }
    return ValidateInputs(*def_, request_.inputs(), inputs_seen_);
  }

  void DeliverLocked(std::vector<ResultPtr> results) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (finish_requested_) return;
    size_t bytes = kMaxResponseBytes;  // Forces a new response for the first result.
    for (ResultPtr& result : results) {
      const size_t size = ApproximateBytes(*result);
      if (bytes + size > kMaxResponseBytes ||
          outbox_.back().results_size() >= kMaxResultsPerResponse) {
        outbox_.emplace_back();
        bytes = 0;
      }
      bytes += size;
      outbox_.back().mutable_results()->AddAllocated(result.release());
    }
    WriteNextLocked();
  }

  // A cheap upper-bound-ish size of `result` for splitting responses: exact
  // sizing of every result costs more than the rest of the hop for tiny ones.
  static size_t ApproximateBytes(const v1::ItemResult& result) {
    constexpr size_t kFixedBytes = 96;  // index, stats, tags, a number value
    switch (result.outcome_case()) {
      case v1::ItemResult::kValue: {
        const google::protobuf::Value& value = result.value();
        if (value.has_string_value()) return kFixedBytes + value.string_value().size();
        if (value.has_struct_value() || value.has_list_value()) {
          return kFixedBytes + value.ByteSizeLong();
        }
        return kFixedBytes;
      }
      case v1::ItemResult::kData:
        return kFixedBytes + result.data().size();
      case v1::ItemResult::kError:
        return kFixedBytes + result.error().message().size() + result.error().stderr_tail().size();
      default:
        return kFixedBytes;
    }
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (writing_) return;
    if (!outbox_.empty()) {
      writing_ = true;
      this->StartWrite(&outbox_.front());
      return;
    }
    if (finish_requested_ && !finished_) {
      finished_ = true;
      this->Finish(final_status_);
    }
  }

  // Finishes once, after the responses already queued (all of them on
  // success; none that have not started on failure).
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (finish_requested_) return;
    finish_requested_ = true;
    final_status_ = std::move(status);
    if (!final_status_.ok()) {
      while (outbox_.size() > (writing_ ? 1u : 0u)) outbox_.pop_back();
    }
    WriteNextLocked();
  }

  Scheduler* const scheduler_;
  const Registry* const registry_;
  const CallOrder order_;
  std::shared_ptr<Sink> sink_;

  Request request_;
  const CallableDef* def_ = nullptr;
  bool opened_ = false;
  uint64_t call_id_ = 0;
  uint64_t inputs_seen_ = 0;
  std::deque<Response> outbox_;
  bool writing_ = false;
  bool finish_requested_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_ITEM_STREAM_REACTOR_H_
