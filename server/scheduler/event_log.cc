#include "server/scheduler/event_log.h"

#include <time.h>

#include <algorithm>
#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/log/log.h"
#include "base/log/log_rate_limit.h"
#include "server/scheduler/worker_slot.h"

namespace pprocd {
namespace {

// A failure's message is cut to this many bytes in the log (the whole
// message and the stderr tail are in the item's result and on /metrics).
constexpr size_t kMaxMessageBytes = 300;

uint64_t MonotonicUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// One kind of event, capped per second.
class CappedEvents {
 public:
  explicit CappedEvents(const char* suppressed_msg) : suppressed_msg_(suppressed_msg) {}

  // Whether the event at `now_us` is logged; logs the count of the last
  // second's suppressed events first.
  bool Allow(uint64_t now_us) {
    uint64_t ended = 0;
    bool allowed;
    {
      absl::MutexLock lock(&mu_);
      allowed = limit_.Allow(now_us, &ended);
      due_us_.store(limit_.FlushDueUs(), std::memory_order_relaxed);
    }
    if (ended > 0) LogSuppressed(ended);
    return allowed;
  }

  void Flush(uint64_t now_us) {
    if (now_us < due_us_.load(std::memory_order_relaxed)) return;
    uint64_t taken = 0;
    {
      absl::MutexLock lock(&mu_);
      taken = limit_.TakeSuppressed(now_us);
      due_us_.store(limit_.FlushDueUs(), std::memory_order_relaxed);
    }
    if (taken > 0) LogSuppressed(taken);
  }

  uint64_t due_us() const { return due_us_.load(std::memory_order_relaxed); }

 private:
  void LogSuppressed(uint64_t count) {
    LogWarn(suppressed_msg_, {{"suppressed", count}, {"per_second", kEventLinesPerSecond}});
  }

  const char* const suppressed_msg_;
  absl::Mutex mu_;
  LogRateLimit limit_ ABSL_GUARDED_BY(mu_){kEventLinesPerSecond};
  std::atomic<uint64_t> due_us_{UINT64_MAX};
};

CappedEvents& Failures() {
  static auto* events = new CappedEvents("suppressed failed items");
  return *events;
}

CappedEvents& Respawns() {
  static auto* events = new CappedEvents("suppressed worker respawns");
  return *events;
}

}  // namespace

void LogItemFailure(const std::string& callable, uint64_t call_id, const v1::ItemResult& result,
                    const std::string& kind) {
  const LogLevel level =
      result.error().kind() == v1::ERROR_KIND_CANCELLED ? LogLevel::kDebug : LogLevel::kWarn;
  if (!LogEnabled(level) || !Failures().Allow(MonotonicUs())) return;
  const v1::ItemError& error = result.error();
  absl::string_view message = error.message();
  if (message.size() > kMaxMessageBytes) message = message.substr(0, kMaxMessageBytes);
  absl::InlinedVector<LogField, 8> fields = {
      {"callable", callable}, {"call", call_id}, {"index", result.index()}, {"kind", kind}};
  // A crash names its signal or its exit status; a raised error neither.
  if (!error.signal().empty()) {
    fields.emplace_back("signal", error.signal());
  } else if (error.kind() == v1::ERROR_KIND_CRASHED) {
    fields.emplace_back("exit_code", error.exit_code());
  }
  fields.emplace_back("pid", result.stats().worker_pid());
  fields.emplace_back("error", message);
  LogFields(level, "item failed", fields);
}

void LogRespawn(const std::string& reason, pid_t pid, int exit_code, int signal_number) {
  // A worker replaced by design (its task budget spent, or killed because
  // its caller cancelled the item) is routine: debug, like cancelled items.
  const LogLevel level =
      reason == "max_tasks" || reason == "cancelled" ? LogLevel::kDebug : LogLevel::kInfo;
  if (!LogEnabled(level) || !Respawns().Allow(MonotonicUs())) return;
  if (signal_number != 0) {
    Log(level, "worker respawned",
        {{"reason", reason}, {"pid", pid}, {"signal", SignalName(signal_number)}});
  } else {
    Log(level, "worker respawned", {{"reason", reason}, {"pid", pid}, {"exit_code", exit_code}});
  }
}

void FlushSuppressedEvents(uint64_t now_us) {
  Failures().Flush(now_us);
  Respawns().Flush(now_us);
}

uint64_t SuppressedEventsDueUs() { return std::min(Failures().due_us(), Respawns().due_us()); }

}  // namespace pprocd
