// AttributeDeath: what becomes of the items a worker had not reported when
// it died. A pure function of the facts the scheduler holds at that moment
// (why the worker was killed, if it was; how it ended; which of its items
// were cancelled one by one), so that each rule is tested by table without
// a process (tests/server/scheduler/crash_attribution_test.cc);
// SchedulerLoop::AttributeUnreported carries the decision out.
#ifndef PPROCD_SERVER_SCHEDULER_CRASH_ATTRIBUTION_H_
#define PPROCD_SERVER_SCHEDULER_CRASH_ATTRIBUTION_H_

#include <utility>
#include <vector>

#include "server/scheduler/worker_slot.h"

namespace pprocd {

// A dead worker's task as the scheduler saw it. Offsets count items in the
// task: [first, items) are the ones not reported.
struct DeadWorkerFacts {
  KillReason kill_reason = KillReason::kNone;
  // The task reported each item as it ended (a timeout, a solo or channel
  // item): the first unreported item is the one that was running.
  bool report_each = false;
  // How the process ended: a signal (non-zero), else its exit code.
  int signal_number = 0;
  int exit_code = 0;
  int first = 0;
  int items = 0;
  // KillReason::kCancelItems only: per offset in [first, items), whether
  // that item was cancelled.
  std::vector<bool> cancelled;
};

enum class Verdict {
  // The whole call was cancelled: its items end with it.
  kNothing,
  // The items cancelled one by one end CANCELLED; the others run again.
  kCancelItems,
  // The culprit is unknown (results of finished items may have died unsent
  // with the worker): every unreported item runs again, each alone.
  kRunEachAlone,
  // The first unreported item ran when the worker died: it fails, the rest
  // run again.
  kBlameFirst,
};

// The failure of a blamed item.
enum class Blame {
  kTimedOut,  // killed for its timeout
  kCpuLimit,  // SIGXCPU: only the callable's CPU limit sends it
  kSignal,    // killed by another signal
  kExitCode,  // exited
};

struct Attribution {
  Verdict verdict = Verdict::kNothing;
  Blame blame = Blame::kExitCode;  // kBlameFirst only
  // kCancelItems: the offsets that end CANCELLED, in order.
  std::vector<int> cancelled;
  // kCancelItems and kBlameFirst: the ranges [from, to) of offsets that
  // run again, in order, none empty.
  std::vector<std::pair<int, int>> again;
};

Attribution AttributeDeath(const DeadWorkerFacts& facts);

}  // namespace pprocd

#endif  // PPROCD_SERVER_SCHEDULER_CRASH_ATTRIBUTION_H_
