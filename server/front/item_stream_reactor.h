// ItemStreamReactor: one Map or Queue call on the gRPC side. It validates
// requests, passes inputs to the Scheduler when the scheduler asks for them
// (flow control: no read is started until the call has room), and writes
// the results the scheduler delivers, packed into responses.
#ifndef PPROCD_SERVER_FRONT_ITEM_STREAM_REACTOR_H_
#define PPROCD_SERVER_FRONT_ITEM_STREAM_REACTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "server/front/call_reactor.h"
#include "server/front/request_validation.h"
#include "worker/registry.h"

namespace pprocd {

// Results per response message, and its approximate size cap.
inline constexpr int kMaxResultsPerResponse = 4096;
inline constexpr size_t kMaxResponseBytes = 1 << 20;

template <typename Request, typename Response>
class ItemStreamReactor : public CallReactor<Request, Response> {
  using Base = CallReactor<Request, Response>;

 public:
  // `registry`: the callables current when the call started.
  ItemStreamReactor(Scheduler* scheduler, std::shared_ptr<const Registry> registry, CallOrder order)
      : Base(scheduler), registry_(std::move(registry)), order_(order) {
    absl::MutexLock lock(&this->sink_->mu);
    this->StartReadLocked();
  }

  void OnReadDone(bool ok) override {
    absl::MutexLock lock(&this->sink_->mu);
    if (this->finish_requested_) return;
    Request& request = this->request_;
    if (!ok) {  // Half-close: the input is complete.
      if (!this->opened_) {
        this->FailLocked(
            absl::InvalidArgumentError("callable: the first request must name a callable"));
        return;
      }
      this->scheduler_->EndInputs(this->call_id_);
      return;
    }
    if (!this->ParseRequestLocked()) return;
    absl::Status status = this->opened_ ? CheckLaterRequest() : CheckFirstRequest();
    if (status.ok() && !this->opened_) {
      absl::StatusOr<uint64_t> id =
          this->scheduler_->OpenCall(request.callable(), request.options(), order_, this->sink_);
      status = id.status();
      if (id.ok()) {
        this->opened_ = true;
        this->call_id_ = *id;
      }
    }
    if (status.ok() && !this->scheduler_->ReserveQueued(request.inputs_size())) {
      status = absl::ResourceExhaustedError(
          "inputs: the server's queue of pending items is full; retry later or send fewer "
          "inputs per request");
    }
    if (!status.ok()) return this->FailLocked(status);
    if (request.cancel_indices_size() > 0) {
      this->scheduler_->CancelItems(
          this->call_id_, {request.cancel_indices().begin(), request.cancel_indices().end()});
    }
    // The scheduler keeps inputs serialized: it only forwards them.
    std::vector<std::string> inputs(request.inputs_size());
    for (int i = 0; i < request.inputs_size(); ++i) {
      request.inputs(i).SerializeToString(&inputs[i]);
    }
    inputs_seen_ += inputs.size();
    this->scheduler_->AddInputs(this->call_id_, std::move(inputs));
  }

 private:
  absl::Status CheckFirstRequest() {
    const Request& request = this->request_;
    absl::StatusOr<const CallableDef*> def = FindCallable(*registry_, request.callable());
    if (!def.ok()) return def.status();
    def_ = *def;
    absl::Status options = ValidateOptions(request.options());
    if (!options.ok()) return options;
    if (request.cancel_indices_size() > 0) {
      return absl::InvalidArgumentError("cancel_indices: the first request has no earlier inputs");
    }
    return ValidateInputs(*def_, request.inputs(), 0);
  }

  absl::Status CheckLaterRequest() {
    const Request& request = this->request_;
    if (!request.callable().empty() && request.callable() != def_->name) {
      return absl::InvalidArgumentError("callable: only the first request may name the callable");
    }
    if (request.has_options()) {
      return absl::InvalidArgumentError("options: only the first request may carry options");
    }
    return ValidateInputs(*def_, request.inputs(), inputs_seen_);
  }

  void DeliverLocked(std::vector<ResultPtr> results) override {
    size_t bytes = kMaxResponseBytes;  // Forces a new response for the first result.
    std::pair<Response, uint64_t>* response = nullptr;
    for (ResultPtr& result : results) {
      const size_t size = ApproximateBytes(*result);
      if (bytes + size > kMaxResponseBytes ||
          response->first.results_size() >= kMaxResultsPerResponse) {
        this->Enqueue(0);
        response = this->PendingBack();
        bytes = 0;
      }
      bytes += size;
      ++response->second;
      response->first.mutable_results()->AddAllocated(result.release());
    }
  }

  // A cheap upper-bound-ish size of `result` for splitting responses: exact
  // sizing of every result costs more than the rest of the hop for tiny ones.
  static size_t ApproximateBytes(const v1::ItemResult& result) {
    constexpr size_t kFixedBytes = 96;  // index, stats, tags, a number value
    size_t logs = 0;
    for (const v1::LogRecord& log : result.logs()) logs += 16 + log.data().size();
    switch (result.outcome_case()) {
      case v1::ItemResult::kValue: {
        const google::protobuf::Value& value = result.value();
        if (value.has_string_value()) return kFixedBytes + logs + value.string_value().size();
        if (value.has_struct_value() || value.has_list_value()) {
          return kFixedBytes + logs + value.ByteSizeLong();
        }
        return kFixedBytes + logs;
      }
      case v1::ItemResult::kData:
        return kFixedBytes + logs + result.data().size();
      case v1::ItemResult::kError:
        return kFixedBytes + logs + result.error().message().size() +
               result.error().stderr_tail().size();
      default:
        return kFixedBytes + logs;
    }
  }

  const std::shared_ptr<const Registry> registry_;
  const CallOrder order_;
  const CallableDef* def_ = nullptr;
  uint64_t inputs_seen_ = 0;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_ITEM_STREAM_REACTOR_H_
