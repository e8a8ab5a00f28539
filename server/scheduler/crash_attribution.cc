#include "server/scheduler/crash_attribution.h"

#include <csignal>

namespace pprocd {

Attribution AttributeDeath(const DeadWorkerFacts& facts) {
  Attribution decision;
  if (facts.kill_reason == KillReason::kCancel) return decision;
  if (facts.kill_reason == KillReason::kCancelItems) {
    decision.verdict = Verdict::kCancelItems;
    int again_from = facts.first;
    for (int i = facts.first; i < facts.items; ++i) {
      const size_t at = static_cast<size_t>(i - facts.first);
      if (at >= facts.cancelled.size() || !facts.cancelled[at]) continue;
      if (again_from < i) decision.again.emplace_back(again_from, i);
      decision.cancelled.push_back(i);
      again_from = i + 1;
    }
    if (again_from < facts.items) decision.again.emplace_back(again_from, facts.items);
    return decision;
  }
  const bool attributable = facts.kill_reason == KillReason::kTimeout ||
                            facts.items - facts.first == 1 || facts.report_each;
  if (!attributable) {
    decision.verdict = Verdict::kRunEachAlone;
    return decision;
  }
  decision.verdict = Verdict::kBlameFirst;
  if (facts.kill_reason == KillReason::kTimeout) {
    decision.blame = Blame::kTimedOut;
  } else if (facts.signal_number == SIGXCPU) {
    decision.blame = Blame::kCpuLimit;
  } else if (facts.signal_number != 0) {
    decision.blame = Blame::kSignal;
  } else {
    decision.blame = Blame::kExitCode;
  }
  if (facts.first + 1 < facts.items) decision.again.emplace_back(facts.first + 1, facts.items);
  return decision;
}

}  // namespace pprocd
