#include "server/metrics/server_metrics.h"

#include <utility>

namespace pprocd {

ServerMetrics& ServerMetrics::Get() {
  static ServerMetrics* const metrics = new ServerMetrics();
  return *metrics;
}

ServerMetrics::ServerMetrics() {
  items_ = registry_.AddCounter("pprocd_items_total",
                                "Items that ended, by callable and outcome (ok or the error kind)",
                                {"callable", "outcome"});
  item_seconds_ = registry_.AddHistogram(
      "pprocd_item_duration_seconds",
      "Wall-clock time of items in their worker, by callable (items whose time is known)",
      {"callable"}, {0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300});
  respawns_ = registry_.AddCounter("pprocd_worker_respawns_total",
                                   "Pooled workers started to replace one, by reason", {"reason"});
  rpcs_ = registry_.AddCounter("pprocd_rpcs_total", "RPCs that ended, by method and status code",
                               {"method", "code"});
}

void ServerMetrics::ItemsFinished(const std::string& callable, const std::string& outcome,
                                  uint64_t count, std::optional<double> seconds_each) {
  if (count == 0) return;
  items_->Add({callable, outcome}, static_cast<double>(count));
  if (seconds_each.has_value()) item_seconds_->Observe({callable}, *seconds_each, count);
}

void ServerMetrics::ItemsSucceeded(const std::string& callable,
                                   const std::vector<double>& seconds) {
  if (seconds.empty()) return;
  items_->Add({callable, "ok"}, static_cast<double>(seconds.size()));
  item_seconds_->ObserveEach({callable}, seconds);
}

void ServerMetrics::WorkerRespawned(const std::string& reason) { respawns_->Add({reason}); }

void ServerMetrics::RpcFinished(const std::string& method, const std::string& code) {
  rpcs_->Add({method, code});
}

void ServerMetrics::AddFailure(ItemFailure failure) {
  absl::MutexLock lock(&mu_);
  failures_.push_front(std::move(failure));
  if (failures_.size() > kRecentFailures) failures_.pop_back();
}

std::vector<ItemFailure> ServerMetrics::RecentFailures() const {
  absl::MutexLock lock(&mu_);
  return std::vector<ItemFailure>(failures_.begin(), failures_.end());
}

}  // namespace pprocd
