// How many items go to a worker in one hop. Pure functions; any thread.
#ifndef PPROCD_SERVER_SCHEDULER_CHUNKING_H_
#define PPROCD_SERVER_SCHEDULER_CHUNKING_H_

#include <algorithm>
#include <cstdint>

namespace pprocd {

// The largest chunk chosen automatically: bigger chunks stop paying off and
// hurt latency and the flow-control window. A chunk costs the server a few
// wake-ups whatever its size: measured with the packed form, 512 items per
// chunk cost 0.25 us of server CPU per echo item, 4096 cost 0.14 us.
inline constexpr uint64_t kMaxAutoChunk = 4096;

// The automatic chunk size. With a known total, about total / (4 x workers)
// (as multiprocessing.Pool.map does), and toward the end at most half a
// worker's share of what is left (`pending`: the items not yet sent to a
// worker, those still to come included; 0 when not known), so that the
// workers finish together even when one of them runs slower. Otherwise
// about a quarter of what is pending per worker, so a fast stream still
// batches while a trickle goes out item by item. Always in
// [1, kMaxAutoChunk].
inline uint64_t AutoChunkSize(uint64_t known_total, uint64_t pending, uint64_t workers) {
  workers = std::max<uint64_t>(workers, 1);
  const uint64_t basis = known_total > 0 ? known_total : pending;
  uint64_t chunk = (basis + 4 * workers - 1) / (4 * workers);
  if (known_total > 0 && pending > 0) {
    chunk = std::min(chunk, (pending + 2 * workers - 1) / (2 * workers));
  }
  return std::clamp<uint64_t>(chunk, 1, kMaxAutoChunk);
}

// The chunk to send now: the requested (or automatic) size, cut to what is
// pending and to what the call's `limit` still allows (0 = unlimited).
inline uint64_t ChunkToSend(uint64_t wanted, uint64_t pending, uint32_t limit, uint64_t running) {
  uint64_t chunk = std::min(std::max<uint64_t>(wanted, 1), pending);
  if (limit > 0) chunk = std::min<uint64_t>(chunk, limit > running ? limit - running : 0);
  return chunk;
}

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_CHUNKING_H_
