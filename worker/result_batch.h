// The results of a worker's running task on their way to the server. A
// ResultBatch collects item outcomes in the form the task asked for and
// writes them as ResultFrames:
// - Value form (TaskFrame.packed_results false): one ItemResult per item;
// - packed form: runs of successful values in ResultBlocks (one JSON array
//   each, printed in one pass as they arrive), and beside them, by index,
//   the ItemResults the caller chooses to send as such (failures, results
//   with logs, bytes results, channel messages).
// Items are added in index order; a frame's results and blocks, merged by
// index, are consecutive.
//
// Stats follow TaskFrame.item_stats: per item (ITEM_STATS_UNSPECIFIED too),
// per block (PER_CHUNK; ItemResults keep their own), or none (NONE). Failed
// items always carry their stats. CPU time and peak RSS are measured per
// flush (getrusage costs about a microsecond, more than a whole echo item)
// and shared out to the flush's items in proportion to their wall time.
//
// Belongs to the worker process's one thread.
#ifndef PPROCD_WORKER_RESULT_BATCH_H_
#define PPROCD_WORKER_RESULT_BATCH_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"
#include "pprocd/v1/item.pb.h"
#include "pprocd/wire/v1/wire.pb.h"

namespace pprocd {

// When and for how long one item ran.
struct ItemTiming {
  uint64_t start_unix_us = 0;
  uint64_t wall_us = 0;
};

class ResultBatch {
 public:
  // Writes frames to `fd` (blocking); `pid` goes in every stats' worker_pid.
  ResultBatch(int fd, pid_t pid);
  ResultBatch(const ResultBatch&) = delete;
  ResultBatch& operator=(const ResultBatch&) = delete;

  // Starts collecting the results of a task. The previous task's results
  // must have been flushed. CPU time counts from now: time idle before the
  // task is nobody's.
  void StartTask(uint64_t task_id, bool packed_results, v1::ItemStatsMode item_stats);

  // Whether successful values may go in blocks (AddValue).
  bool packed() const { return packed_; }

  // Appends the successful value of item `index` to the open block (opening
  // one). Only when packed().
  void AddValue(uint64_t index, const google::protobuf::Value& value, const ItemTiming& timing);

  // Appends an empty ItemResult for item `index`, closing the open block.
  // The caller fills it in, then calls SetStats on it. The pointer is
  // valid until the next Flush.
  v1::ItemResult* AddResult(uint64_t index);

  // Sets the stats of `result` (added by AddResult) from `timing`, unless
  // the item succeeded and the task wants no stats. Always call it: the
  // item's wall time counts in the sharing out of CPU time.
  void SetStats(v1::ItemResult* result, const ItemTiming& timing);

  // About how many bytes the results added since the last flush take.
  size_t pending_bytes() const { return pending_bytes_; }

  // Fills in CPU time and peak RSS, writes what was added since the last
  // flush as one frame, and empties the batch (keeping its memory for the
  // next). Does nothing when empty. Exits the process with status 0 when
  // the server is gone.
  void Flush();

 private:
  void CloseBlock();
  // Shares `cpu_us` out and sets `max_rss_kib` on every stats written.
  void ApplyUsage(uint64_t cpu_us, uint64_t max_rss_kib);

  const int fd_;
  const pid_t pid_;
  bool packed_ = false;
  v1::ItemStatsMode item_stats_ = v1::ITEM_STATS_PER_ITEM;
  wire::v1::ResultFrame frame_;
  // The block being filled, or null; its `values` lack the closing bracket.
  v1::ResultBlock* block_ = nullptr;
  // The wall time of each block of frame_, in order (whatever the stats
  // mode), and of all its items.
  std::vector<uint64_t> block_wall_us_;
  uint64_t wall_total_us_ = 0;
  uint64_t item_count_ = 0;
  size_t pending_bytes_ = 0;
  rusage last_usage_{};
  std::string out_;
};

}  // namespace pprocd

#endif  // PPROCD_WORKER_RESULT_BATCH_H_
