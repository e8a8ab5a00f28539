// CallTable: the calls the scheduler serves, by id, with the calls that
// changed during one turn of its loop (flushed at the end of the turn), and
// the flow control of each call as pure decisions over its CallState.
// Scheduler thread only; the decisions are pure (any thread).
#ifndef PPROCD_SERVER_SCHEDULER_CALL_TABLE_H_
#define PPROCD_SERVER_SCHEDULER_CALL_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "server/scheduler/call_state.h"

namespace pprocd {

// A Start call's messages that the server holds for its invocation, at
// most, before it stops reading the client (plus what the worker's socket
// holds), and the bytes queued for the worker past which it stops too.
inline constexpr size_t kMaxChannelInbox = 64;
inline constexpr size_t kMaxChannelOutboxBytes = 1 << 20;

// Whether `call` should ask its client for more inputs now: its inputs have
// not ended, it has not asked already, and it holds fewer than `window`
// items (queued, running, waiting for their turn or to be written).
bool WantsInput(const CallState& call, uint64_t window);

// Whether a Start call should ask its client for more channel messages:
// its channel is open, it has not asked already, fewer than
// kMaxChannelInbox wait for a worker, and fewer than kMaxChannelOutboxBytes
// (`worker_outbox_bytes`) are queued for the invocation's worker.
bool WantsChannelMessages(const CallState& call, size_t worker_outbox_bytes);

// Whether a channel callable's worker should stop being read, so that the
// call's unsent results stay within `window`. `runs_head`: the worker runs
// the item whose results come next in input order; it waits only for the
// client (results not yet written), the others also for the head.
bool PausesWorker(const CallState& call, bool runs_head, uint64_t window);

class CallTable {
 public:
  using ById = std::map<uint64_t, CallState>;

  // A new call with `id` (not open already).
  CallState& Open(uint64_t id);
  // The open call with `id`, or nullptr.
  CallState* Find(uint64_t id);
  const CallState* Find(uint64_t id) const;
  void Erase(uint64_t id) { by_id_.erase(id); }

  // Marks the call as changed in this turn of the loop.
  void MarkDirty(uint64_t id) { dirty_.push_back(id); }
  // The calls marked since the last call, each once, in id order (some may
  // have ended since).
  std::vector<uint64_t> TakeDirty();

  // The open calls in id order (NextCallToServe walks them round robin).
  ById& by_id() { return by_id_; }
  ById::iterator begin() { return by_id_.begin(); }
  ById::iterator end() { return by_id_.end(); }
  ById::const_iterator begin() const { return by_id_.begin(); }
  ById::const_iterator end() const { return by_id_.end(); }
  bool empty() const { return by_id_.empty(); }
  size_t size() const { return by_id_.size(); }

 private:
  ById by_id_;
  std::vector<uint64_t> dirty_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_CALL_TABLE_H_
