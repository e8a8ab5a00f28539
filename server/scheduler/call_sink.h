// CallSink: where the scheduler sends one call's results. The gRPC front
// implements it. Every method is called on the scheduler thread, must not
// block, and must not call back into the Scheduler synchronously.
#ifndef PPROCD_SERVER_SCHEDULER_CALL_SINK_H_
#define PPROCD_SERVER_SCHEDULER_CALL_SINK_H_

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "pprocd/v1/item.pb.h"

namespace pprocd {

// Results travel by pointer from the worker's parsed frame to the response
// message, so that no result is copied or re-allocated on the way.
using ResultPtr = std::unique_ptr<v1::ItemResult>;
using BlockPtr = std::unique_ptr<v1::ResultBlock>;

// What the scheduler passes on: one ItemResult (a failure, a channel
// message, a Value-form result, a result with logs), or a block of
// consecutive successful results of a packed call.
struct ResultPiece {
  ResultPtr result;
  BlockPtr block;

  ResultPiece() = default;
  explicit ResultPiece(ResultPtr r) : result(std::move(r)) {}
  explicit ResultPiece(BlockPtr b) : block(std::move(b)) {}

  bool empty() const { return result == nullptr && block == nullptr; }
  uint64_t index() const { return block ? block->first_index() : result->index(); }
  // Whether it ends its input(s) (false for a channel callable's message).
  bool last() const { return block != nullptr || result->last(); }
  // Inputs it completes.
  uint64_t items() const { return block ? block->count() : (result->last() ? 1 : 0); }
  // Its weight in the call's flow-control window: results it holds.
  uint64_t weight() const { return block ? block->count() : 1; }
};

class CallSink {
 public:
  virtual ~CallSink() = default;
  // Results to send, in sending order. The front acknowledges each batch it
  // has written with Scheduler::ResultsSent(call, total weight written).
  virtual void Deliver(std::vector<ResultPiece> results) = 0;
  // The call has room for more input: the front reads one more request and
  // passes it on with Scheduler::AddInputs (or EndInputs at half-close).
  virtual void WantInput() = 0;
  // The call is over; called exactly once, after the last Deliver.
  virtual void Finish(absl::Status status) = 0;
  // The last results and the end of the call at once (instead of Deliver
  // then Finish), so that a front may send them in one write.
  virtual void DeliverLast(std::vector<ResultPiece> results, absl::Status status) {
    Deliver(std::move(results));
    Finish(std::move(status));
  }
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_CALL_SINK_H_
