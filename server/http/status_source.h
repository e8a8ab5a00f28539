// StatusSource: what the HTTP listener shows, gathered from the scheduler
// and the job manager without blocking either: each asks with their
// asynchronous calls and waits on the calling (HTTP) thread.
//
// Thread-safe; the scheduler and the job manager must outlive it.
#ifndef PPROCD_SERVER_HTTP_STATUS_SOURCE_H_
#define PPROCD_SERVER_HTTP_STATUS_SOURCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pprocd/v1/service.pb.h"
#include "server/jobs/job_manager.h"
#include "server/scheduler/scheduler.h"

namespace pprocd {

class StatusSource {
 public:
  // `job_store_path`: the job store's SQLite file (its size is reported).
  StatusSource(Scheduler* scheduler, JobManager* jobs, std::string job_store_path);

  // The scheduler's status; DEADLINE_EXCEEDED if it does not answer within
  // `timeout`, UNAVAILABLE once it has stopped.
  absl::StatusOr<v1::GetStatusResponse> Status(absl::Duration timeout) const;
  // The newest `count` jobs of every owner.
  absl::StatusOr<v1::ListJobsResponse> RecentJobs(uint32_t count, absl::Duration timeout) const;
  // /metrics: the text format (0.0.4).
  absl::StatusOr<std::string> MetricsText() const;
  // /api/status: {"status": GetStatusResponse, "jobs": [Job...]} in
  // protobuf's JSON mapping (64-bit integers as strings).
  absl::StatusOr<std::string> StatusJson() const;

 private:
  Scheduler* const scheduler_;
  JobManager* const jobs_;
  const std::string job_store_path_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_HTTP_STATUS_SOURCE_H_
