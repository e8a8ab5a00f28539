// CallState: one Map, Queue or Start call as the scheduler sees it: inputs waiting
// for a worker, items running, results waiting to be sent, and the
// flow-control window over all of them. Owned by the scheduler thread.
#ifndef PPROCD_SERVER_SCHEDULER_CALL_STATE_H_
#define PPROCD_SERVER_SCHEDULER_CALL_STATE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/v1/item.pb.h"
#include "server/scheduler/call_metrics.h"
#include "server/scheduler/call_sink.h"
#include "server/scheduler/input_block.h"
#include "server/scheduler/ordering_buffer.h"
#include "server/scheduler/scheduler.h"
#include "worker/python_target.h"

namespace pprocd {

struct CallState {
  uint64_t id = 0;
  std::string callable;
  v1::CallOptions options;
  CallOrder order = CallOrder::kInputOrder;
  std::shared_ptr<CallSink> sink;

  // Inputs waiting for a worker, in dispatch order, and how many.
  std::deque<InputRun> pending;
  uint64_t pending_items = 0;
  uint64_t inputs_received = 0;
  bool input_ended = false;
  bool input_requested = false;
  uint64_t running = 0;
  // Results (by weight) delivered to the sink and not yet acknowledged as
  // written.
  uint64_t unsent = 0;
  OrderingBuffer ordering;
  // Results gathered during this turn of the loop, delivered at its end,
  // and their weight.
  std::vector<ResultPiece> outgoing;
  uint64_t outgoing_weight = 0;

  // Items ended so far, and when the call opened (GetStatus).
  CallCounts counts;
  absl::Time opened;

  // Everything the call holds: what the flow-control window bounds.
  uint64_t held() const {
    return pending_items + running + ordering.held() + unsent + outgoing_weight;
  }
  // FRESH isolation: every item in a new process.
  bool fresh() const { return options.isolation() == v1::ISOLATION_FRESH; }
  // FRESH workers asked for and not yet given an item.
  uint64_t fresh_starting = 0;
  // Since when its FRESH workers have failed to start, one after another
  // (InfiniteFuture: they start).
  absl::Time fresh_failing_since = absl::InfiniteFuture();

  // The callable is a channel callable: many results per input (continuous).
  bool channel_callable = false;
  // Start: the one invocation's channel takes input from the client.
  bool channel_input = false;
  // Channel input not yet passed to a worker (serialized Values).
  std::vector<std::string> channel_inbox;
  bool channel_end = false;
  bool channel_requested = false;
  // The worker running the invocation (0 = none yet, or finished).
  uint64_t channel_worker = 0;
  // Indices cancelled one by one while running (their worker was killed).
  std::unordered_set<uint64_t> cancelling;
  // The template whose workers run it: 0 for the current generation of
  // registered callables, else a Python function's pool template.
  uint64_t template_id = 0;
  // A Python function's call waiting for its pool's template to start.
  bool awaiting_template = false;
  std::shared_ptr<const PythonTarget> python;
  // What its workers' TaskFrame.callable names.
  std::string task_callable;
  // A registered Python function's limits, which its pool's workers apply
  // themselves (TaskFrame.limits); null when none.
  std::shared_ptr<const v1::CallableLimits> python_limits;
  // CallableLimits.max_concurrent of its callable (0 = none).
  uint32_t max_concurrent = 0;
  // Results delivered or ready to deliver, not yet written.
  uint64_t results_out() const { return unsent + outgoing_weight; }
  bool runnable() const {
    return !pending.empty() && !awaiting_template &&
           (options.limit() == 0 || running < options.limit());
  }
  bool done() const {
    return input_ended && pending.empty() && running == 0 && ordering.held() == 0 &&
           outgoing.empty();
  }
  // Routes one finished result or block: into the ordering buffer (Map) or
  // straight out.
  void AddResult(ResultPiece piece) {
    ObserveResult(callable, id, piece, &counts);
    if (order == CallOrder::kInputOrder) {
      ordering.Add(std::move(piece));
    } else {
      outgoing_weight += piece.weight();
      outgoing.push_back(std::move(piece));
    }
  }
  void AddResult(ResultPtr result) { AddResult(ResultPiece(std::move(result))); }
  // Queues runs at the back, or (requeued ones) at the front, in order.
  void PushPending(InputRun run) {
    pending_items += run.size();
    pending.push_back(std::move(run));
  }
  void PushPendingFront(std::vector<InputRun> runs) {
    for (auto it = runs.rbegin(); it != runs.rend(); ++it) {
      pending_items += it->size();
      pending.push_front(std::move(*it));
    }
  }
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_CALL_STATE_H_
