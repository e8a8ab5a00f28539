#include "server/scheduler/call_table.h"

#include <algorithm>

namespace pprocd {

bool WantsInput(const CallState& call, uint64_t window) {
  return !call.input_ended && !call.input_requested && call.held() < window;
}

bool WantsChannelMessages(const CallState& call, size_t worker_outbox_bytes) {
  return call.channel_input && !call.channel_end && !call.channel_requested &&
         call.channel_inbox.size() < kMaxChannelInbox &&
         worker_outbox_bytes < kMaxChannelOutboxBytes;
}

bool PausesWorker(const CallState& call, bool runs_head, uint64_t window) {
  if (runs_head) return call.results_out() >= window;
  return call.ordering.held() + call.results_out() >= window;
}

CallState& CallTable::Open(uint64_t id) {
  CallState& call = by_id_[id];
  call.id = id;
  return call;
}

CallState* CallTable::Find(uint64_t id) {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

const CallState* CallTable::Find(uint64_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &it->second;
}

std::vector<uint64_t> CallTable::TakeDirty() {
  std::vector<uint64_t> dirty;
  dirty.swap(dirty_);
  std::sort(dirty.begin(), dirty.end());
  dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
  return dirty;
}

}  // namespace pprocd
