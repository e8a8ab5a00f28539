// OrderingBuffer: turns results that arrive in any order into the input-order
// stream Map promises. Holds a result until every earlier index has arrived.
// Not thread-safe: owned by the scheduler thread.
#ifndef PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_
#define PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <vector>

#include "server/scheduler/call_sink.h"

namespace pprocd {

class OrderingBuffer {
 public:
  // Stores `result`. Its index is >= next_index(), and a result with
  // last() set comes at most once per index, after the others of that
  // index (messages of a channel callable, in seq order). Results far ahead
  // are fine: memory grows with the gap, which the caller bounds.
  void Add(ResultPtr result) {
    ++held_;
    if (!result->last()) {
      messages_[result->index()].push_back(std::move(result));
      return;
    }
    const uint64_t offset = result->index() - next_index_;
    if (slots_.size() <= offset) slots_.resize(offset + 1);
    slots_[offset] = std::move(result);
  }
  // Moves every result that completes the in-order prefix to `out`: all of
  // the head input's messages so far, and its final result once there.
  void PopReady(std::vector<ResultPtr>* out) {
    while (true) {
      if (!messages_.empty() && messages_.begin()->first == next_index_) {
        auto head = messages_.begin();
        held_ -= head->second.size();
        for (ResultPtr& message : head->second) out->push_back(std::move(message));
        messages_.erase(head);
      }
      if (slots_.empty() || slots_.front() == nullptr) return;
      out->push_back(std::move(slots_.front()));
      slots_.pop_front();
      ++next_index_;
      --held_;
    }
  }
  // The index the next released result will have.
  uint64_t next_index() const { return next_index_; }
  // Results stored and not yet released.
  size_t held() const { return held_; }

 private:
  uint64_t next_index_ = 0;
  size_t held_ = 0;
  std::deque<ResultPtr> slots_;  // Final results; nullptr: not arrived yet.
  // Messages (last() unset) by input index.
  std::map<uint64_t, std::vector<ResultPtr>> messages_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_
