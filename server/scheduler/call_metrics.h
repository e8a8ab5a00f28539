// What the scheduler tells ServerMetrics (server/metrics): each result as a
// call receives it, and each replaced worker. Scheduler thread only.
#ifndef PPROCD_SERVER_SCHEDULER_CALL_METRICS_H_
#define PPROCD_SERVER_SCHEDULER_CALL_METRICS_H_

#include <cstdint>
#include <string>

#include "server/scheduler/call_sink.h"

namespace pprocd {

enum class KillReason;

// A call's items that have ended so far (for GetStatus).
struct CallCounts {
  uint64_t items_done = 0;
  uint64_t items_failed = 0;
};

// Counts `piece`, a result or block the call `call_id` of `callable`
// receives: its items by outcome and duration, a failure among the recent
// ones (and in the log, server/scheduler/event_log.h), and the call's own
// `counts`. Channel messages count nothing.
void ObserveResult(const std::string& callable, uint64_t call_id, const ResultPiece& piece,
                   CallCounts* counts);
// Counts (and logs) the replacement of pooled worker `pid` that exited
// after a kill for `reason` (kNone: it died by itself) with `exit_code` or
// by `signal_number`, or that ran its --max-tasks-per-worker items
// (`recycled`).
void ObserveRespawn(KillReason reason, bool recycled, int32_t pid, int exit_code = 0,
                    int signal_number = 0);

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_CALL_METRICS_H_
