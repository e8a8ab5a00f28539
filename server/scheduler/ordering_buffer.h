// OrderingBuffer: turns results that arrive in any order into the input-order
// stream Map promises. Holds a result (or a block of them) until every
// earlier index has arrived: ordering is by piece, not by item.
// Not thread-safe: owned by the scheduler thread.
#ifndef PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_
#define PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_

#include <cstdint>
#include <map>
#include <vector>

#include "server/scheduler/call_sink.h"

namespace pprocd {

class OrderingBuffer {
 public:
  // Stores `piece`. Its index is >= next_index(); a final piece covers its
  // indices at most once, after the messages (last() unset, channel
  // callables, in seq order) of its index. Pieces far ahead are fine:
  // memory grows with the gap, which the caller bounds.
  void Add(ResultPiece piece) {
    held_ += piece.weight();
    if (!piece.last()) {
      messages_[piece.index()].push_back(std::move(piece));
      return;
    }
    const uint64_t index = piece.index();
    finals_.emplace(index, std::move(piece));
  }
  // Moves every piece that completes the in-order prefix to `out`: all of
  // the head input's messages so far, and its final piece once there.
  void PopReady(std::vector<ResultPiece>* out) {
    while (true) {
      if (!messages_.empty() && messages_.begin()->first == next_index_) {
        auto head = messages_.begin();
        for (ResultPiece& message : head->second) {
          held_ -= message.weight();
          out->push_back(std::move(message));
        }
        messages_.erase(head);
      }
      if (finals_.empty() || finals_.begin()->first != next_index_) return;
      auto head = finals_.begin();
      next_index_ += head->second.items();
      held_ -= head->second.weight();
      out->push_back(std::move(head->second));
      finals_.erase(head);
    }
  }
  // The index the next released result will have.
  uint64_t next_index() const { return next_index_; }
  // Results stored and not yet released (a block counts its items).
  uint64_t held() const { return held_; }

 private:
  uint64_t next_index_ = 0;
  uint64_t held_ = 0;
  // Final pieces by their first index.
  std::map<uint64_t, ResultPiece> finals_;
  // Messages (last() unset) by input index.
  std::map<uint64_t, std::vector<ResultPiece>> messages_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_ORDERING_BUFFER_H_
