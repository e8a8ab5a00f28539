// ServerMetrics: the counters of one pprocd process (items by callable and
// outcome, item durations, worker respawns, RPCs) and its most recent item
// failures, for /metrics and the dashboard.
//
// One instance per process (Get()): the scheduler thread records items and
// respawns, gRPC threads record RPCs, the HTTP threads read. Every method
// is thread-safe and cheap (one short lock), so the scheduler thread may
// call it for every result.
#ifndef PPROCD_SERVER_METRICS_SERVER_METRICS_H_
#define PPROCD_SERVER_METRICS_SERVER_METRICS_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/metrics_registry.h"

namespace pprocd {

// One failed item, as the dashboard lists it.
struct ItemFailure {
  int64_t time_unix_ms = 0;
  std::string callable;
  uint64_t call_id = 0;
  uint64_t index = 0;
  // "raised", "crashed", "timed_out", ... (the item's ErrorKind, lower case).
  std::string kind;
  // The same as the number of its pprocd.v1.ErrorKind.
  int kind_number = 0;
  std::string message;
  std::string stderr_tail;
  int32_t worker_pid = 0;
};

class ServerMetrics {
 public:
  // Failures kept for RecentFailures().
  static constexpr size_t kRecentFailures = 20;

  // The process's instance.
  static ServerMetrics& Get();

  // `count` items of `callable` ended with `outcome` ("ok" or an ErrorKind
  // in lower case); each took `seconds_each` when known.
  void ItemsFinished(const std::string& callable, const std::string& outcome, uint64_t count,
                     std::optional<double> seconds_each);
  // `seconds.size()` items of `callable` succeeded, each taking the time
  // given (one lock per family for all).
  void ItemsSucceeded(const std::string& callable, const std::vector<double>& seconds);
  // A pooled worker was replaced; `reason`: "crashed", "timed_out",
  // "cancelled", "max_tasks".
  void WorkerRespawned(const std::string& reason);
  // An RPC ended: its full method name and its status code's name.
  void RpcFinished(const std::string& method, const std::string& code);
  void AddFailure(ItemFailure failure) ABSL_LOCKS_EXCLUDED(mu_);
  // The last kRecentFailures failures, newest first.
  std::vector<ItemFailure> RecentFailures() const ABSL_LOCKS_EXCLUDED(mu_);

  // Every counter and histogram in the text format.
  void Render(std::string* out) const { registry_.Render(out); }
  // Items of `callable` counted with `outcome` so far (for tests).
  double ItemCount(const std::string& callable, const std::string& outcome) const {
    return items_->Value({callable, outcome});
  }

  ServerMetrics();

 private:
  MetricsRegistry registry_;
  CounterFamily* items_;
  HistogramFamily* item_seconds_;
  CounterFamily* respawns_;
  CounterFamily* rpcs_;
  mutable absl::Mutex mu_;
  std::deque<ItemFailure> failures_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_METRICS_SERVER_METRICS_H_
