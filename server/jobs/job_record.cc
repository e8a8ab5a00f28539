#include "server/jobs/job_record.h"

namespace pprocd {

bool IsFinished(JobState state) {
  switch (state) {
    case JobState::kSucceeded:
    case JobState::kFailed:
    case JobState::kCancelled:
    case JobState::kInterrupted:
      return true;
    case JobState::kQueued:
    case JobState::kRunning:
      return false;
  }
  return false;
}

bool IsJobTransition(JobState from, JobState to) {
  switch (from) {
    case JobState::kQueued:
      return to == JobState::kRunning || to == JobState::kFailed || to == JobState::kCancelled;
    case JobState::kRunning:
      return to == JobState::kSucceeded || to == JobState::kFailed || to == JobState::kQueued ||
             to == JobState::kCancelled || to == JobState::kInterrupted;
    case JobState::kSucceeded:
    case JobState::kFailed:
    case JobState::kCancelled:
    case JobState::kInterrupted:
      return false;
  }
  return false;
}

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "QUEUED";
    case JobState::kRunning:
      return "RUNNING";
    case JobState::kSucceeded:
      return "SUCCEEDED";
    case JobState::kFailed:
      return "FAILED";
    case JobState::kCancelled:
      return "CANCELLED";
    case JobState::kInterrupted:
      return "INTERRUPTED";
  }
  return "UNKNOWN";
}

}  // namespace pprocd
