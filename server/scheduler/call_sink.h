// CallSink: where the scheduler sends one call's results. The gRPC front
// implements it. Every method is called on the scheduler thread, must not
// block, and must not call back into the Scheduler synchronously.
#ifndef PPROCD_SERVER_SCHEDULER_CALL_SINK_H_
#define PPROCD_SERVER_SCHEDULER_CALL_SINK_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "pprocd/v1/item.pb.h"

namespace pprocd {

// Results travel by pointer from the worker's parsed frame to the response
// message, so that no result is copied or re-allocated on the way.
using ResultPtr = std::unique_ptr<v1::ItemResult>;

class CallSink {
 public:
  virtual ~CallSink() = default;
  // Results to send, in sending order. The front acknowledges each batch it
  // has written with Scheduler::ResultsSent(call, results.size()).
  virtual void Deliver(std::vector<ResultPtr> results) = 0;
  // The call has room for more input: the front reads one more request and
  // passes it on with Scheduler::AddInputs (or EndInputs at half-close).
  virtual void WantInput() = 0;
  // The call is over; called exactly once, after the last Deliver.
  virtual void Finish(absl::Status status) = 0;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_CALL_SINK_H_
