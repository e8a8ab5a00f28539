// RecentOutputs: the outputs each job stored last, kept in memory so that the
// watchers following a job live (Reconnect) take them from here instead of
// reading back from the store what was just written to it.
//
// Only a cache: it holds, per job, a run of consecutive seqs that are already
// stored, ending with the newest one; a read it cannot answer whole goes to
// the store. Bounded per job (oldest outputs leave first). Thread-safe.
#ifndef PPROCD_SERVER_JOBS_RECENT_OUTPUTS_H_
#define PPROCD_SERVER_JOBS_RECENT_OUTPUTS_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/jobs/job_record.h"

namespace pprocd {

class RecentOutputs {
 public:
  RecentOutputs(size_t max_outputs_per_job, uint64_t max_bytes_per_job)
      : max_outputs_(max_outputs_per_job), max_bytes_(max_bytes_per_job) {}

  // `outputs` of `job` were stored from seq `first` on, each taking its
  // count of seqs. Outputs that do not follow the held ones replace them.
  void Add(const std::string& job, int64_t first, std::vector<NewOutput> outputs)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The outputs of `job` that take a seq > after_seq, in order (the first
  // may begin before: as JobStore::ReadOutputs), at most `max_count` and no
  // more once their payloads reach `max_bytes` (the first always comes), if
  // it holds seq after_seq + 1; nullopt otherwise (ask the store, which
  // alone can tell that nothing newer exists).
  std::optional<std::vector<JobOutput>> Read(const std::string& job, int64_t after_seq,
                                             int max_count, uint64_t max_bytes) const
      ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets what is held for `job`.
  void Drop(const std::string& job) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Held {
    std::deque<JobOutput> outputs;  // each starts where the previous ends
    uint64_t bytes = 0;
  };

  const size_t max_outputs_;
  const uint64_t max_bytes_;
  mutable absl::Mutex mu_;
  std::map<std::string, Held> by_job_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_RECENT_OUTPUTS_H_
