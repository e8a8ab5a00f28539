// A job's lifecycle table (IsJobTransition) and the one way its state
// changes (MoveJob): a refused step leaves the record as it was.
#include <gtest/gtest.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "server/jobs/job_manager_internal.h"
#include "server/jobs/job_record.h"

namespace pprocd {
namespace {

using S = JobState;
const S kAll[] = {S::kQueued, S::kRunning,   S::kSucceeded,
                  S::kFailed, S::kCancelled, S::kInterrupted};

TEST(JobStateTest, OnlyTheStepsOfAJobsLifeAreAllowed) {
  const std::vector<std::pair<S, S>> allowed = {
      {S::kQueued, S::kRunning},    {S::kQueued, S::kFailed},       {S::kQueued, S::kCancelled},
      {S::kRunning, S::kSucceeded}, {S::kRunning, S::kFailed},      {S::kRunning, S::kQueued},
      {S::kRunning, S::kCancelled}, {S::kRunning, S::kInterrupted},
  };
  for (const S from : kAll) {
    for (const S to : kAll) {
      const bool expected =
          std::find(allowed.begin(), allowed.end(), std::make_pair(from, to)) != allowed.end();
      EXPECT_EQ(IsJobTransition(from, to), expected)
          << JobStateName(from) << " -> " << JobStateName(to);
    }
  }
}

TEST(JobStateTest, AFinishedStateIsNeverLeft) {
  for (const S from : kAll) {
    if (!IsFinished(from)) continue;
    for (const S to : kAll) EXPECT_FALSE(IsJobTransition(from, to)) << JobStateName(from);
  }
}

TEST(JobStateTest, AStepRefusedLeavesTheRecordAsItWas) {
  JobRecord record;
  record.id = "0123456789abcdef";
  EXPECT_FALSE(MoveJob(record, S::kSucceeded));  // not before it has run
  EXPECT_EQ(record.state, S::kQueued);
  EXPECT_TRUE(MoveJob(record, S::kRunning));
  EXPECT_TRUE(MoveJob(record, S::kCancelled));
  EXPECT_FALSE(MoveJob(record, S::kRunning));  // a cancelled job does not run on
  EXPECT_EQ(record.state, S::kCancelled);
}

}  // namespace
}  // namespace pprocd
