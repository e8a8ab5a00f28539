// The scheduler's events in the server's log (base/log/log.h): each failed
// item and each replaced worker, one line each, at most kEventLinesPerSecond
// of each kind per second. Past that, events are counted and one
// "suppressed" line gives their number once the second is over, so that a
// burst of crashes cannot flood the log.
//
// Thread-safe (one short lock per failure or respawn). Nothing here runs
// for an item that succeeds.
#ifndef PPROCD_SERVER_SCHEDULER_EVENT_LOG_H_
#define PPROCD_SERVER_SCHEDULER_EVENT_LOG_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "pprocd/v1/item.pb.h"

namespace pprocd {

inline constexpr uint32_t kEventLinesPerSecond = 20;

// An item of call `call_id` of `callable` ended with `result`'s error,
// whose kind is `kind` ("crashed", "raised", ...). Cancelled items are
// logged at debug level, the others as warnings.
void LogItemFailure(const std::string& callable, uint64_t call_id, const v1::ItemResult& result,
                    const std::string& kind);
// Pooled worker `pid` is replaced, for `reason` ("crashed", "timed_out",
// "cancelled", "max_tasks"), having exited with `exit_code` or been killed
// by `signal_number` (0: not by a signal). Replacements after max_tasks
// or a cancel are routine and logged at debug level.
void LogRespawn(const std::string& reason, pid_t pid, int exit_code, int signal_number);

// Logs the counts of events suppressed in a second that has ended by
// `now_us` (CLOCK_MONOTONIC, microseconds). Cheap when there are none.
void FlushSuppressedEvents(uint64_t now_us);
// When FlushSuppressedEvents() next has a line to write (UINT64_MAX: none).
uint64_t SuppressedEventsDueUs();

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_EVENT_LOG_H_
