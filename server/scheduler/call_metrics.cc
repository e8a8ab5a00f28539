#include "server/scheduler/call_metrics.h"

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "server/metrics/server_metrics.h"
#include "server/scheduler/event_log.h"
#include "server/scheduler/worker_slot.h"

namespace pprocd {
namespace {

// "raised" for ERROR_KIND_RAISED, and so on.
std::string OutcomeName(v1::ErrorKind kind) {
  std::string name = v1::ErrorKind_Name(kind);
  constexpr absl::string_view kPrefix = "ERROR_KIND_";
  if (absl::StartsWith(name, kPrefix)) name = name.substr(kPrefix.size());
  return absl::AsciiStrToLower(name);
}

void ObserveBlock(const std::string& callable, const v1::ResultBlock& block) {
  ServerMetrics& metrics = ServerMetrics::Get();
  const uint64_t count = block.count();
  if (block.item_stats_size() == static_cast<int>(count)) {
    std::vector<double> seconds;
    seconds.reserve(count);
    for (const v1::ItemStats& stats : block.item_stats()) seconds.push_back(stats.wall_us() / 1e6);
    metrics.ItemsSucceeded(callable, seconds);
    return;
  }
  std::optional<double> each;
  // ITEM_STATS_PER_CHUNK: the block's total time, shared evenly.
  if (block.has_stats() && count > 0) each = block.stats().wall_us() / 1e6 / count;
  metrics.ItemsFinished(callable, "ok", count, each);
}

}  // namespace

void ObserveResult(const std::string& callable, uint64_t call_id, const ResultPiece& piece,
                   CallCounts* counts) {
  if (piece.block != nullptr) {
    counts->items_done += piece.block->count();
    ObserveBlock(callable, *piece.block);
    return;
  }
  const v1::ItemResult& result = *piece.result;
  if (!result.last()) return;
  ++counts->items_done;
  std::optional<double> seconds;
  if (result.has_stats()) seconds = result.stats().wall_us() / 1e6;
  if (!result.has_error()) {
    ServerMetrics::Get().ItemsFinished(callable, "ok", 1, seconds);
    return;
  }
  ++counts->items_failed;
  const std::string kind = OutcomeName(result.error().kind());
  ServerMetrics::Get().ItemsFinished(callable, kind, 1, seconds);
  LogItemFailure(callable, call_id, result, kind);
  ItemFailure failure;
  failure.time_unix_ms = absl::ToUnixMillis(absl::Now());
  failure.callable = callable;
  failure.call_id = call_id;
  failure.index = result.index();
  failure.kind = kind;
  failure.kind_number = result.error().kind();
  failure.message = result.error().message();
  failure.stderr_tail = result.error().stderr_tail();
  failure.worker_pid = result.stats().worker_pid();
  ServerMetrics::Get().AddFailure(std::move(failure));
}

void ObserveRespawn(KillReason reason, bool recycled, int32_t pid, int exit_code,
                    int signal_number) {
  const char* name = "crashed";
  if (recycled) {
    name = "max_tasks";
  } else if (reason == KillReason::kTimeout) {
    name = "timed_out";
  } else if (reason == KillReason::kCancel || reason == KillReason::kCancelItems) {
    name = "cancelled";
  }
  ServerMetrics::Get().WorkerRespawned(name);
  LogRespawn(name, pid, exit_code, signal_number);
}

}  // namespace pprocd
