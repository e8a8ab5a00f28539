#include "worker/result_batch.h"

#include <cstdlib>

#include "base/framing.h"
#include "base/json/json.h"

namespace pprocd {
namespace {

// Bytes an ItemStats of a block takes on the wire, about: enough for the
// flush threshold, without serializing to find out.
constexpr size_t kItemStatsBytes = 24;

uint64_t CpuUs(const rusage& usage) {
  auto us = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);
  };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

}  // namespace

ResultBatch::ResultBatch(int fd, pid_t pid) : fd_(fd), pid_(pid) {}

void ResultBatch::StartTask(uint64_t task_id, bool packed_results, v1::ItemStatsMode item_stats) {
  frame_.set_task_id(task_id);
  packed_ = packed_results;
  item_stats_ = item_stats == v1::ITEM_STATS_UNSPECIFIED ? v1::ITEM_STATS_PER_ITEM : item_stats;
  getrusage(RUSAGE_SELF, &last_usage_);
}

void ResultBatch::AddValue(uint64_t index, const google::protobuf::Value& value,
                           const ItemTiming& timing) {
  std::string* values;
  if (block_ == nullptr) {
    block_ = frame_.add_blocks();
    block_->set_first_index(index);
    values = block_->mutable_values();
    values->push_back('[');
    block_wall_us_.push_back(0);
    if (item_stats_ == v1::ITEM_STATS_PER_CHUNK) {
      v1::ItemStats* stats = block_->mutable_stats();
      stats->set_start_unix_us(timing.start_unix_us);
      stats->set_worker_pid(pid_);
    }
  } else {
    values = block_->mutable_values();
    values->push_back(',');
  }
  const size_t before = values->size();
  AppendJson(value, values);
  pending_bytes_ += values->size() - before + 1;
  block_->set_count(block_->count() + 1);
  block_wall_us_.back() += timing.wall_us;
  wall_total_us_ += timing.wall_us;
  ++item_count_;
  if (item_stats_ == v1::ITEM_STATS_PER_ITEM) {
    v1::ItemStats* stats = block_->add_item_stats();
    stats->set_start_unix_us(timing.start_unix_us);
    stats->set_wall_us(timing.wall_us);
    stats->set_worker_pid(pid_);
    pending_bytes_ += kItemStatsBytes;
  }
}

v1::ItemResult* ResultBatch::AddResult(uint64_t index) {
  CloseBlock();
  v1::ItemResult* result = frame_.add_results();
  result->set_index(index);
  return result;
}

void ResultBatch::SetStats(v1::ItemResult* result, const ItemTiming& timing) {
  wall_total_us_ += timing.wall_us;
  ++item_count_;
  if (!result->has_error() && item_stats_ == v1::ITEM_STATS_NONE) {
    pending_bytes_ += result->ByteSizeLong();
    return;
  }
  v1::ItemStats* stats = result->mutable_stats();
  stats->set_start_unix_us(timing.start_unix_us);
  stats->set_wall_us(timing.wall_us);
  stats->set_worker_pid(pid_);
  pending_bytes_ += result->ByteSizeLong();
}

void ResultBatch::CloseBlock() {
  if (block_ == nullptr) return;
  block_->mutable_values()->push_back(']');
  if (item_stats_ == v1::ITEM_STATS_PER_CHUNK) {
    block_->mutable_stats()->set_wall_us(block_wall_us_.back());
  }
  block_ = nullptr;
}

void ResultBatch::ApplyUsage(uint64_t cpu_us, uint64_t max_rss_kib) {
  const auto share = [&](uint64_t wall_us, uint64_t items) {
    return wall_total_us_ > 0 ? cpu_us * wall_us / wall_total_us_ : cpu_us * items / item_count_;
  };
  const auto apply = [&](v1::ItemStats* stats, uint64_t items) {
    stats->set_cpu_us(share(stats->wall_us(), items));
    stats->set_max_rss_kib(max_rss_kib);
  };
  for (v1::ItemResult& result : *frame_.mutable_results()) {
    if (result.has_stats()) apply(result.mutable_stats(), 1);
  }
  for (v1::ResultBlock& block : *frame_.mutable_blocks()) {
    if (block.has_stats()) apply(block.mutable_stats(), block.count());
    for (v1::ItemStats& stats : *block.mutable_item_stats()) apply(&stats, 1);
  }
}

void ResultBatch::Flush() {
  CloseBlock();
  if (item_count_ == 0) return;
  rusage now;
  getrusage(RUSAGE_SELF, &now);
  ApplyUsage(CpuUs(now) - CpuUs(last_usage_), static_cast<uint64_t>(now.ru_maxrss));
  last_usage_ = now;
  out_.clear();
  AppendFrame(frame_, &out_);
  if (!WriteAll(fd_, out_).ok()) std::_Exit(0);  // The server is gone.
  // Cleared, not freed: the next flush reuses the messages.
  frame_.clear_results();
  frame_.clear_blocks();
  block_wall_us_.clear();
  wall_total_us_ = 0;
  item_count_ = 0;
  pending_bytes_ = 0;
}

}  // namespace pprocd
