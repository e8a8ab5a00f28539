// OrderingBuffer: turns results that arrive in any order into the input-order
// stream Map promises. Holds a result until every earlier index has arrived.
// Not thread-safe: owned by the scheduler thread.
#ifndef PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_
#define PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "server/scheduler/call_sink.h"

namespace pprocd {

class OrderingBuffer {
 public:
  // Stores `result` (index >= next_index(), not stored before). Results far
  // ahead are fine: memory grows with the gap, which the caller bounds.
  void Add(ResultPtr result) {
    const uint64_t offset = result->index() - next_index_;
    if (slots_.size() <= offset) slots_.resize(offset + 1);
    slots_[offset] = std::move(result);
    ++held_;
  }

  // Moves every result that completes the in-order prefix to `out`.
  void PopReady(std::vector<ResultPtr>* out) {
    while (!slots_.empty() && slots_.front() != nullptr) {
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
  std::deque<ResultPtr> slots_;  // nullptr: not arrived yet
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_
