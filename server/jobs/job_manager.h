// JobManager: background jobs (Submit) run through the scheduler, with
// every output stored in the JobStore before it counts as delivered.
//
// One thread of its own (the job thread) owns every running job: the
// scheduler's CallSinks post results to it, it stores them in batches (one
// transaction per batch and job), acknowledges them to the scheduler once
// stored (so a job's window holds only stored results), and wakes the
// watchers (Reconnect streams), which read the store themselves.
//
// Each job's stream of outputs: a Job snapshot at every change of state
// (RUNNING at each attempt, QUEUED before a retry, the final state), the
// results in the order they were produced, and a progress snapshot about
// once a second while results come. The last output of a job that has
// ended is its final state.
//
// Restarts: at Start(), jobs the previous server left RUNNING come back
// INTERRUPTED, or are run again (every item) while they have retries left;
// QUEUED ones start again. Sequence numbers continue.
//
// Public methods are thread-safe.
#ifndef PPROCD_SERVER_JOBS_JOB_MANAGER_H_
#define PPROCD_SERVER_JOBS_JOB_MANAGER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pprocd/v1/service.pb.h"
#include "server/jobs/job_store.h"
#include "server/jobs/recent_outputs.h"
#include "server/scheduler/scheduler.h"
#include "worker/registry.h"

namespace pprocd {

// Who makes a request: from the kernel's peer credentials on a UNIX socket;
// TCP callers are one anonymous owner.
struct Caller {
  int64_t uid = kAnonymousOwner;
  // Root or the configured admin group: may see and act on every job.
  bool admin = false;
};

struct JobManagerOptions {
  JobStoreOptions store;
  // How often finished jobs older than store.keep_finished are pruned.
  absl::Duration prune_every = absl::Minutes(1);
  // Called (on any thread) once a job was deleted or pruned; optional.
  std::function<void(const std::string& job_id)> on_removed;
};

class JobManager {
 public:
  // Opens the store. The scheduler and the registry must outlive the
  // manager.
  static absl::StatusOr<std::unique_ptr<JobManager>> Open(JobManagerOptions options,
                                                          Scheduler* scheduler,
                                                          const CurrentRegistry* registry);
  ~JobManager();

  // Takes up the jobs the previous server left unfinished, then starts the
  // job thread.
  absl::Status Start();
  // Stores what is pending and stops the job thread; running jobs stay
  // RUNNING in the store (the next start takes them up). Call before the
  // scheduler stops. Idempotent.
  void Stop();

  // A new job from a request the front has validated (callable, options,
  // inputs). With an idempotency key the caller used before: that job.
  // ALREADY_EXISTS for a name the caller's other job has;
  // RESOURCE_EXHAUSTED when the store is full.
  // `*existing` (if given) tells whether the key named an existing job.
  absl::StatusOr<v1::Job> Submit(const Caller& caller, const v1::SubmitRequest& request,
                                 bool* existing = nullptr);
  // The job with this id, or the caller's job with this name. NOT_FOUND;
  // PERMISSION_DENIED for another owner's job (unless admin).
  // Without `with_request` the job's (possibly large) request is not read.
  absl::StatusOr<JobRecord> Find(const Caller& caller, const std::string& id_or_name,
                                 bool with_request = false);
  absl::StatusOr<v1::ListJobsResponse> List(const Caller& caller,
                                            const v1::ListJobsRequest& request);
  // Cancels a queued or running job; an ended one is returned as it is.
  absl::StatusOr<v1::Job> Cancel(const Caller& caller, const std::string& id_or_name);
  // FAILED_PRECONDITION while the job is queued or running.
  absl::Status Delete(const Caller& caller, const std::string& id_or_name);

  // Watchers: `wake` is called (on the job thread; it must not block) each
  // time outputs of any job have been stored. Returns a handle for
  // RemoveWatcher, after which `wake` is no longer called.
  uint64_t AddWatcher(std::function<void()> wake);
  void RemoveWatcher(uint64_t handle);

  JobStore& store() { return *store_; }
  // JobStore::ReadOutputs(), answered from memory when the outputs asked
  // for are among those the job stored last (what live watchers ask for).
  absl::StatusOr<std::vector<JobOutput>> ReadOutputs(const std::string& job_id, int64_t after_seq,
                                                     int max_count);

  // The public view of a stored job.
  static v1::Job ToProto(const JobRecord& record);

 private:
  struct Run;
  class Sink;

  JobManager(JobManagerOptions options, std::unique_ptr<JobStore> store, Scheduler* scheduler,
             const CurrentRegistry* registry);

  // Queues `command` for the job thread.
  void Post(std::function<void()> command);
  void Loop();
  // Job-thread steps.
  // `request`: the job's request when the caller has it (a new job), so
  // that the stored copy need not be read back; null reads it.
  void StartAttempt(const std::string& job_id,
                    std::shared_ptr<v1::SubmitRequest> request = nullptr);
  void FeedInputs(Run& run);
  void Delivered(const std::string& job_id, std::vector<std::unique_ptr<v1::ItemResult>> results);
  void CallFinished(const std::string& job_id, absl::Status status);
  void CancelRun(const std::string& job_id);
  void FlushOutputs();
  void WakeWatchers();
  // Stores a snapshot of the job as its next output, and its row.
  absl::Status RecordState(JobRecord& record, OutputKind kind);
  void After(absl::Duration delay, std::function<void()> command);
  // What follows a job's deletion from the store (any thread): its recent
  // outputs go, and options_.on_removed is told.
  void Removed(const std::string& job_id);
  // Deletes the jobs that ended longer ago than the store keeps them, now
  // and every prune_every.
  void PruneNowAndLater();

  const JobManagerOptions options_;
  const std::unique_ptr<JobStore> store_;
  Scheduler* const scheduler_;
  const CurrentRegistry* const registry_;

  absl::Mutex mu_;
  std::vector<std::function<void()>> posted_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, std::function<void()>> watchers_ ABSL_GUARDED_BY(mu_);
  uint64_t next_watcher_ ABSL_GUARDED_BY(mu_) = 1;
  std::thread thread_;
  RecentOutputs recent_;

  // Job thread only.
  std::map<std::string, std::unique_ptr<Run>> runs_;
  std::multimap<absl::Time, std::function<void()>> timers_;
  bool outputs_stored_ = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_MANAGER_H_
