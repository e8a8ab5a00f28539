#include "server/jobs/recent_outputs.h"

#include <algorithm>
#include <utility>

namespace pprocd {

void RecentOutputs::Add(const std::string& job, int64_t first, std::vector<NewOutput> outputs) {
  if (outputs.empty()) return;
  absl::MutexLock lock(&mu_);
  Held& held = by_job_[job];
  if (!held.outputs.empty() && held.outputs.back().last_seq() + 1 != first) {
    held.outputs.clear();
    held.bytes = 0;
  }
  int64_t seq = first;
  for (NewOutput& output : outputs) {
    held.bytes += output.payload.size();
    held.outputs.push_back(JobOutput{seq, output.kind, std::move(output.payload), output.count});
    seq += output.count;
  }
  while (held.outputs.size() > 1 &&
         (held.outputs.size() > max_outputs_ || held.bytes > max_bytes_)) {
    held.bytes -= held.outputs.front().payload.size();
    held.outputs.pop_front();
  }
}

std::optional<std::vector<JobOutput>> RecentOutputs::Read(const std::string& job, int64_t after_seq,
                                                          int max_count, uint64_t max_bytes) const {
  absl::MutexLock lock(&mu_);
  auto found = by_job_.find(job);
  if (found == by_job_.end() || found->second.outputs.empty()) return std::nullopt;
  const std::deque<JobOutput>& held = found->second.outputs;
  const int64_t oldest = held.front().seq;
  const int64_t newest = held.back().last_seq();
  if (after_seq + 1 < oldest || after_seq >= newest) return std::nullopt;
  // The output holding after_seq + 1: the first that ends at or after it.
  const auto from = std::partition_point(held.begin(), held.end(), [after_seq](const JobOutput& o) {
    return o.last_seq() <= after_seq;
  });
  std::vector<JobOutput> outputs;
  uint64_t bytes = 0;
  for (size_t i = static_cast<size_t>(from - held.begin());
       i < held.size() && static_cast<int>(outputs.size()) < max_count &&
       (outputs.empty() || bytes < max_bytes);
       ++i) {
    bytes += held[i].payload.size();
    outputs.push_back(held[i]);
  }
  return outputs;
}

void RecentOutputs::Drop(const std::string& job) {
  absl::MutexLock lock(&mu_);
  by_job_.erase(job);
}

}  // namespace pprocd
