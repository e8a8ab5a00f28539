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
#include "server/front/python_function.h"
#include "server/front/request_validation.h"
#include "server/peer/caller_identity.h"
#include "worker/registry.h"

namespace pprocd {

// Results per response message, and its approximate size cap.
inline constexpr int kMaxResultsPerResponse = 4096;
inline constexpr size_t kMaxResponseBytes = 1 << 20;

template <typename Request, typename Response>
class ItemStreamReactor : public CallReactor<Request, Response> {
  using Base = CallReactor<Request, Response>;

 public:
  // `registry`: the callables current when the call started; `caller`: who
  // made the call (for Python function references).
  ItemStreamReactor(Scheduler* scheduler, std::shared_ptr<const Registry> registry, CallOrder order,
                    CallerIdentity caller)
      : Base(scheduler), registry_(std::move(registry)), order_(order), caller_(std::move(caller)) {
    absl::MutexLock lock(&this->sink_->mu);
    this->StartReadLocked();
  }

  void OnReadDone(bool ok) ABSL_LOCKS_EXCLUDED(this->sink_->mu) override {
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
    std::shared_ptr<const InputBlock> inputs;
    if (status.ok()) {
      absl::StatusOr<std::shared_ptr<const InputBlock>> block = RequestInputs();
      status = block.status();
      if (block.ok()) inputs = *std::move(block);
    }
    if (status.ok() && !this->opened_) {
      absl::StatusOr<uint64_t> id = this->scheduler_->OpenCall(
          def_->name, ResolvedOptions(request.options()), order_, this->sink_, python_);
      status = id.status();
      if (id.ok()) {
        this->opened_ = true;
        this->call_id_ = *id;
      }
    }
    if (status.ok() && !this->scheduler_->ReserveQueued(inputs->elements.size())) {
      status = absl::ResourceExhaustedError(
          "inputs: the server's queue of pending items is full; retry later or send fewer "
          "inputs per request");
    }
    if (!status.ok()) return this->FailLocked(status);
    if (request.cancel_indices_size() > 0) {
      this->scheduler_->CancelItems(
          this->call_id_, {request.cancel_indices().begin(), request.cancel_indices().end()});
    }
    inputs_seen_ += inputs->elements.size();
    if (this->requests_read_ == 1) {
      // Reads on at once: a client that half-closes with its first request
      // (a one-item call) is then known to be done before its result comes
      // back, and the result goes out with the status in one write.
      this->scheduler_->AddInputsReadingOn(this->call_id_, std::move(inputs));
      this->StartReadLocked();
      return;
    }
    this->scheduler_->AddInputs(this->call_id_, std::move(inputs));
  }

 private:
  // The request's inputs as the scheduler keeps them: the packed form's
  // JSON array as it came (split, and checked against the callable's
  // parameters), or the Value form's inputs printed as JSON once.
  absl::StatusOr<std::shared_ptr<const InputBlock>> RequestInputs()
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->sink_->mu) {
    Request& request = this->request_;
    if (!packed_) {
      if (!request.packed_inputs().empty()) {
        return absl::InvalidArgumentError(
            "packed_inputs: this call uses the Value form (`inputs`); set options.packed in the "
            "first request to send packed inputs");
      }
      return ValueInputBlock(request.inputs());
    }
    if (request.inputs_size() > 0) {
      return absl::InvalidArgumentError(
          "inputs: this call uses the packed form (options.packed); send its inputs as one JSON "
          "array in packed_inputs");
    }
    if (request.packed_inputs().empty()) return EmptyInputBlock();
    absl::StatusOr<std::shared_ptr<const InputBlock>> block =
        PackedInputBlock(std::move(*request.mutable_packed_inputs()));
    if (!block.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "packed_inputs of request ", this->requests_read_, ": ", block.status().message()));
    }
    absl::Status valid = ValidateJsonInputs(*def_, **block, inputs_seen_);
    if (!valid.ok()) return valid;
    return block;
  }

  // The options the call runs with: the form's default stats made explicit.
  v1::CallOptions ResolvedOptions(const v1::CallOptions& options) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->sink_->mu) {
    v1::CallOptions resolved = options;
    if (resolved.item_stats() == v1::ITEM_STATS_UNSPECIFIED) {
      resolved.set_item_stats(packed_ ? v1::ITEM_STATS_PER_CHUNK : v1::ITEM_STATS_PER_ITEM);
    }
    return resolved;
  }

  absl::Status CheckFirstRequest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->sink_->mu) {
    const Request& request = this->request_;
    absl::StatusOr<CallTarget> target = CallTarget::Resolve(
        request.callable(), request.has_function() ? &request.function() : nullptr, *registry_,
        caller_);
    if (!target.ok()) return target.status();
    target_ = *std::move(target);
    def_ = &target_.def();
    python_ = target_.python();
    absl::Status options = ValidateOptions(request.options());
    if (!options.ok()) return options;
    packed_ = request.options().packed();
    if (request.cancel_indices_size() > 0) {
      return absl::InvalidArgumentError("cancel_indices: the first request has no earlier inputs");
    }
    return packed_ ? absl::OkStatus() : ValidateInputs(*def_, request.inputs(), 0);
  }

  absl::Status CheckLaterRequest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->sink_->mu) {
    const Request& request = this->request_;
    if (!request.callable().empty() && request.callable() != def_->name) {
      return absl::InvalidArgumentError("callable: only the first request may name the callable");
    }
    if (request.has_function()) {
      return absl::InvalidArgumentError("function: only the first request may name the function");
    }
    if (request.has_options()) {
      return absl::InvalidArgumentError("options: only the first request may carry options");
    }
    return packed_ ? absl::OkStatus() : ValidateInputs(*def_, request.inputs(), inputs_seen_);
  }

  void DeliverLocked(std::vector<ResultPiece> results)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(this->sink_->mu) override {
    size_t bytes = kMaxResponseBytes;  // Forces a new response for the first result.
    std::pair<Response, uint64_t>* response = nullptr;
    for (ResultPiece& piece : results) {
      const size_t size = piece.block ? 64 + piece.block->values().size() +
                                            32 * static_cast<size_t>(piece.block->item_stats_size())
                                      : ApproximateBytes(*piece.result);
      if (bytes + size > kMaxResponseBytes ||
          response->first.results_size() + response->first.blocks_size() >=
              kMaxResultsPerResponse) {
        this->Enqueue(0);
        response = this->PendingBack();
        bytes = 0;
      }
      bytes += size;
      response->second += piece.weight();
      if (piece.block) {
        response->first.mutable_blocks()->AddAllocated(piece.block.release());
      } else {
        response->first.mutable_results()->AddAllocated(piece.result.release());
      }
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
  const CallerIdentity caller_;
  // The call's callable, set by its first request.
  const CallableDef* def_ ABSL_GUARDED_BY(this->sink_->mu) = nullptr;
  // A Python function's call: what it runs, and its stand-in definition.
  std::shared_ptr<const PythonTarget> python_ ABSL_GUARDED_BY(this->sink_->mu);
  CallTarget target_ ABSL_GUARDED_BY(this->sink_->mu);
  uint64_t inputs_seen_ ABSL_GUARDED_BY(this->sink_->mu) = 0;
  // The call's form (CallOptions.packed of its first request).
  bool packed_ ABSL_GUARDED_BY(this->sink_->mu) = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_ITEM_STREAM_REACTOR_H_
