#include "server/scheduler/crash_attribution.h"

#include <gtest/gtest.h>

#include <csignal>
#include <string>
#include <utility>
#include <vector>

namespace pprocd {
namespace {

using Ranges = std::vector<std::pair<int, int>>;

DeadWorkerFacts Facts(KillReason reason, int first, int items, bool report_each = false,
                      int signal_number = 0, int exit_code = 0) {
  DeadWorkerFacts facts;
  facts.kill_reason = reason;
  facts.first = first;
  facts.items = items;
  facts.report_each = report_each;
  facts.signal_number = signal_number;
  facts.exit_code = exit_code;
  return facts;
}

// One row: the facts, and the decision a reader of the rules expects.
struct Row {
  std::string what;
  DeadWorkerFacts facts;
  Verdict verdict;
  Blame blame;  // compared for kBlameFirst only
  std::vector<int> cancelled;
  Ranges again;
};

TEST(CrashAttributionTest, EachRuleByTable) {
  DeadWorkerFacts two_of_five_cancelled = Facts(KillReason::kCancelItems, 0, 5);
  two_of_five_cancelled.cancelled = {false, true, false, true, false};
  DeadWorkerFacts cancelled_at_both_ends = Facts(KillReason::kCancelItems, 2, 6);
  cancelled_at_both_ends.cancelled = {true, false, false, true};
  DeadWorkerFacts all_cancelled = Facts(KillReason::kCancelItems, 1, 3);
  all_cancelled.cancelled = {true, true};
  const std::vector<Row> rows = {
      {"the whole call was cancelled: nothing is blamed, nothing runs again",
       Facts(KillReason::kCancel, 0, 4, false, SIGKILL),
       Verdict::kNothing,
       Blame::kExitCode,
       {},
       {}},
      {"items cancelled one by one end CANCELLED; the runs between them run again",
       two_of_five_cancelled,
       Verdict::kCancelItems,
       Blame::kExitCode,
       {1, 3},
       {{0, 1}, {2, 3}, {4, 5}}},
      {"cancelled items at both ends, after two reported ones",
       cancelled_at_both_ends,
       Verdict::kCancelItems,
       Blame::kExitCode,
       {2, 5},
       {{3, 5}}},
      {"every unreported item cancelled: none runs again",
       all_cancelled,
       Verdict::kCancelItems,
       Blame::kExitCode,
       {1, 2},
       {}},
      {"a crash with several items unreported: the culprit is unknown, each runs alone",
       Facts(KillReason::kNone, 1, 4, false, SIGSEGV),
       Verdict::kRunEachAlone,
       Blame::kExitCode,
       {},
       {}},
      {"a crash with one item unreported blames it: the signal",
       Facts(KillReason::kNone, 3, 4, false, SIGSEGV),
       Verdict::kBlameFirst,
       Blame::kSignal,
       {},
       {}},
      {"an exit with one item unreported blames it: the exit code",
       Facts(KillReason::kNone, 0, 1, false, 0, 3),
       Verdict::kBlameFirst,
       Blame::kExitCode,
       {},
       {}},
      {"SIGXCPU is the callable's CPU limit",
       Facts(KillReason::kNone, 0, 1, false, SIGXCPU),
       Verdict::kBlameFirst,
       Blame::kCpuLimit,
       {},
       {}},
      {"a task that reports each item blames the running one; the rest run again",
       Facts(KillReason::kNone, 2, 5, true, SIGKILL),
       Verdict::kBlameFirst,
       Blame::kSignal,
       {},
       {{3, 5}}},
      {"a timeout blames the running item whatever the signal; the rest run again",
       Facts(KillReason::kTimeout, 0, 3, false, SIGKILL),
       Verdict::kBlameFirst,
       Blame::kTimedOut,
       {},
       {{1, 3}}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    const Attribution decision = AttributeDeath(row.facts);
    EXPECT_EQ(decision.verdict, row.verdict);
    if (row.verdict == Verdict::kBlameFirst) {
      EXPECT_EQ(decision.blame, row.blame);
    }
    EXPECT_EQ(decision.cancelled, row.cancelled);
    EXPECT_EQ(decision.again, row.again);
  }
}

}  // namespace
}  // namespace pprocd
