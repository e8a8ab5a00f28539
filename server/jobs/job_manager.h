// JobManager: background jobs (Submit) run through the scheduler, with
// every output stored in the JobStore before it counts as delivered.
//
// An actor, like the scheduler: one thread of its own (the job thread) owns
// every job and makes every write to the store. Public calls post a command
// to it and get their answer through a completion callback called on the
// job thread; nothing a caller's thread does waits for SQLite. The
// scheduler's CallSinks post results to it; it stores them in batches (one
// transaction per batch and job, with the job's row), acknowledges them to
// the scheduler once stored (so a job's window holds only stored results),
// and wakes the watchers (Reconnect streams), which read the store
// themselves.
//
// Each job's stream of outputs: a Job snapshot at every change of state
// (RUNNING at each attempt, QUEUED before a retry, the final state), the
// results in the order they were produced, and a progress snapshot about
// once a second while results come. A job's call runs in the packed form
// (whatever the form of its Submit): its successful results come as blocks
// and each block is stored as one output that takes one seq per item
// (OutputKind::kBlock; see job_blocks.h); failures, channel messages and
// results with logs are ItemResults, one output each. The last output of a job that has
// ended is its final state. A job's items_done always counts the final
// results it stored in its current attempt: the row and the results are
// written in one transaction.
//
// Results too large to send (see result_size.h): a result whose Reconnect
// message would exceed options.max_message_bytes is stored as a failed
// result of the same item, so it never blocks the outputs after it; a
// block too large is cut into blocks that fit (AppendBlockOutputs).
//
// Store failures (the disk is full or failing; the store is over its
// max_bytes):
// - A batch of results that cannot be stored fails the job: its call is
//   cancelled and it ends FAILED ("its outputs could not be stored: ...").
// - A progress snapshot that cannot be stored is skipped: the results and
//   the row went together, so nothing is lost.
// - A change of state that cannot be stored takes effect in memory all the
//   same. A job that was to start (RUNNING) or to run again (QUEUED) ends
//   FAILED instead ("its state could not be stored: ..."): it never runs
//   while the store says otherwise. The failure is logged once per job; the
//   state is written again every second until it is stored (or the job is
//   deleted; if the server stops first, the next start finds the job as
//   stored, RUNNING, and takes it up). Meanwhile the calls here answer with
//   the state in memory, and Reconnect (through ReadOutputs) gets it as the
//   job's next output, with the seq it will be stored with; the job's
//   watchers are woken for it, so they end as for a stored final state.
// - At Start(), a store that cannot record the state of the jobs it takes
//   up is an error: the server does not start on a store it cannot write.
//
// Restarts: at Start(), jobs the previous server left RUNNING come back
// INTERRUPTED, or are run again (every item) while they have retries left;
// QUEUED ones start again. Their items_done is counted again from the
// results stored (a block counts its items; for function callables only: a
// channel callable's messages are not told apart from its final results in
// the store). Sequence numbers continue.
//
// Threads: every public method may be called from any thread. There are no
// synchronous forms: a caller that can wait waits for its callback.
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
#include "base/clock.h"
#include "base/event_loop/event_loop.h"
#include "pprocd/v1/service.pb.h"
#include "server/jobs/job_store.h"
#include "server/jobs/recent_outputs.h"
#include "server/scheduler/call_sink.h"
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
  // The largest message the server sends (its gRPC max send message size):
  // no stored result is larger than one Reconnect message can carry.
  uint64_t max_message_bytes = 4 << 20;
  // Called on the job thread once a job was deleted or pruned; optional.
  std::function<void(const std::string& job_id)> on_removed;
  // The jobs' times (start, end, what pruning compares) and the job
  // thread's timers (retries, pruning) read this clock. Must outlive the
  // manager.
  const Clock* clock = &RealClock();
};

class JobManager {
 public:
  struct Submitted {
    v1::Job job;
    // The idempotency key named a job that already existed: `job` is that one.
    bool existing = false;
  };
  // A completion callback. Called exactly once, on the job thread (it must
  // not block: finish a gRPC reactor, post elsewhere), or, once Stop() has
  // begun, with UNAVAILABLE, possibly on the calling thread before the call
  // that takes it returns.
  template <typename T>
  using Done = std::function<void(T)>;

  // Opens the store. The scheduler and the registry must outlive the
  // manager.
  static absl::StatusOr<std::unique_ptr<JobManager>> Open(JobManagerOptions options,
                                                          Scheduler* scheduler,
                                                          const CurrentRegistry* registry);
  ~JobManager();

  // Takes up the jobs the previous server left unfinished, then starts the
  // job thread.
  absl::Status Start();
  // Stores what is pending, answers every call still posted with
  // UNAVAILABLE, and stops the job thread; running jobs stay RUNNING in the
  // store (the next start takes them up). Call before the scheduler stops.
  // Idempotent.
  void Stop();

  // Asynchronous calls.

  // A new job from a request the front has validated (callable, options,
  // inputs). With an idempotency key the caller used before: that job, if
  // this request is the same one (see request_digest.h), else
  // FAILED_PRECONDITION naming the difference. ALREADY_EXISTS for a name
  // the caller's other job has; RESOURCE_EXHAUSTED when the store is full.
  // `request` is copied before the call returns. `packed_inputs`: its
  // packed_inputs as the front split them (PackedInputBlock), so that they
  // are neither split nor copied again: then request.packed_inputs() is
  // not read (the front moves its bytes into the block). Null splits
  // request.packed_inputs() here.
  void SubmitAsync(const Caller& caller, const v1::SubmitRequest& request,
                   Done<absl::StatusOr<Submitted>> done,
                   std::shared_ptr<const InputBlock> packed_inputs = nullptr);
  // The job with this id, or the caller's job with this name. NOT_FOUND;
  // PERMISSION_DENIED for another owner's job (unless admin).
  // Without `with_request` the job's (possibly large) request is not read.
  void FindAsync(const Caller& caller, std::string id_or_name, bool with_request,
                 Done<absl::StatusOr<JobRecord>> done);
  void ListAsync(const Caller& caller, v1::ListJobsRequest request,
                 Done<absl::StatusOr<v1::ListJobsResponse>> done);
  // Cancels a queued or running job; an ended one is returned as it is.
  void CancelAsync(const Caller& caller, std::string id_or_name,
                   Done<absl::StatusOr<v1::Job>> done);
  // FAILED_PRECONDITION while the job is queued or running.
  void DeleteAsync(const Caller& caller, std::string id_or_name, Done<absl::Status> done);

  // Watchers: `wake` is called on the job thread, outside any lock of the
  // manager, each time outputs of any job have been stored (it should be
  // quick: it holds up the job thread, though never the scheduler). Returns
  // a handle for RemoveWatcher, after which `wake` is no longer called; off
  // the job thread, RemoveWatcher waits for a call of `wake` in progress.
  uint64_t AddWatcher(std::function<void()> wake) ABSL_LOCKS_EXCLUDED(watchers_mu_);
  void RemoveWatcher(uint64_t handle) ABSL_LOCKS_EXCLUDED(watchers_mu_);

  // For reads only (any thread): writes belong to the job thread.
  JobStore& store() { return *store_; }
  // JobStore::ReadOutputs(), answered from memory when the outputs asked
  // for are among those the job stored last (what live watchers ask for).
  // As there, the first output may be a block that begins at or before
  // after_seq. A stored result too large to send (left by an older server)
  // comes as TooLargeResult(); a job's state not yet stored (see "Store
  // failures") comes after its stored outputs. Any thread.
  // No more outputs once their payloads reach `max_bytes` (the first
  // always comes).
  absl::StatusOr<std::vector<JobOutput>> ReadOutputs(const std::string& job_id, int64_t after_seq,
                                                     int max_count, uint64_t max_bytes = 64 << 20)
      ABSL_LOCKS_EXCLUDED(unsaved_mu_);

  // options.max_message_bytes: what a Reconnect message may not exceed.
  uint64_t max_message_bytes() const { return options_.max_message_bytes; }

  // The public view of a stored job.
  static v1::Job ToProto(const JobRecord& record);

 private:
  struct Run;
  class Sink;
  struct Watcher;
  // A change of state not yet stored (see "Store failures").
  struct Unsaved {
    JobRecord record;  // the job as it is in memory; last_seq as stored
    NewOutput output;  // the state output to store, seq record.last_seq + 1
  };

  JobManager(JobManagerOptions options, std::unique_ptr<JobStore> store, Scheduler* scheduler,
             const CurrentRegistry* registry);

  // Queues `command` for the job thread; false (and not queued) once
  // stopping.
  bool Post(std::function<void()> command);
  // Posts a public call: `run` on the job thread, or `refuse` (on this
  // thread) once stopping. `run` must answer UNAVAILABLE when it finds
  // draining_ set.
  void PostCall(std::function<void()> run, std::function<void()> refuse);
  void Loop();
  // The clock's wall time, in µs since the Unix epoch.
  int64_t NowMicros() const { return absl::ToUnixMicros(options_.clock->Now()); }
  void After(absl::Duration delay, std::function<void()> command);

  // Job-thread handlers of the public calls (job_calls.cc).
  // `record`: the new job, with its owner, request and digests.
  absl::StatusOr<Submitted> DoSubmit(JobRecord record, std::shared_ptr<v1::SubmitRequest> request,
                                     std::shared_ptr<const InputBlock> packed_inputs);
  absl::StatusOr<JobRecord> DoFind(const Caller& caller, const std::string& id_or_name,
                                   bool with_request);
  absl::StatusOr<v1::ListJobsResponse> DoList(const Caller& caller,
                                              const v1::ListJobsRequest& request);
  absl::StatusOr<v1::Job> DoCancel(const Caller& caller, const std::string& id_or_name);
  absl::Status DoDelete(const Caller& caller, const std::string& id_or_name);
  // Replaces what `record` says with the state in memory, if that is not
  // stored yet.
  void Overlay(JobRecord& record) ABSL_LOCKS_EXCLUDED(unsaved_mu_);

  // Job-thread steps of running jobs (job_runs.cc).
  // `request`: the job's request when the caller has it (a new job), so
  // that the stored copy need not be read back; null reads it.
  // `packed_inputs`: its packed inputs already split, or null.
  void StartAttempt(const std::string& job_id, std::shared_ptr<v1::SubmitRequest> request = nullptr,
                    std::shared_ptr<const InputBlock> packed_inputs = nullptr);
  void FeedInputs(Run& run);
  // Gives the job's new run up to kInputsAhead inputs at once: enough work
  // for the workers while this thread writes its request file, when it
  // could not answer their asks for more.
  void FeedInputsAhead(const std::string& job_id);
  void Delivered(const std::string& job_id, std::vector<ResultPiece> pieces);
  void CallFinished(const std::string& job_id, absl::Status status);
  void CancelRun(const std::string& job_id);
  void FlushOutputs();
  void WakeWatchers();
  // Stores a snapshot of the job as its next output, with its row; on
  // success forgets an earlier unsaved state of the job.
  absl::Status StoreState(JobRecord& record, OutputKind kind);
  // Stores the job's change of state (a kState output) under the policy of
  // "Store failures": true when stored. One not stored is kept in unsaved_
  // (a non-final one is first turned into FAILED, in `record` too).
  bool RecordState(JobRecord& record);
  // Tries again to store the unsaved states; again in a second while any
  // is left.
  void RetryUnsaved() ABSL_LOCKS_EXCLUDED(unsaved_mu_);
  // What follows a job's deletion from the store: its recent outputs and
  // unsaved state go, and options_.on_removed is told.
  void Removed(const std::string& job_id);
  // Deletes the jobs that ended longer ago than the store keeps them, now
  // and every prune_every.
  void PruneNowAndLater();

  const JobManagerOptions options_;
  const std::unique_ptr<JobStore> store_;
  Scheduler* const scheduler_;
  const CurrentRegistry* const registry_;
  // MaxSendableResultBytes(options_.max_message_bytes).
  const uint64_t max_result_bytes_;

  // The job thread's loop: posted commands and timers. Closed by Stop().
  EventLoop events_;
  std::thread thread_;

  absl::Mutex watchers_mu_;
  std::map<uint64_t, std::shared_ptr<Watcher>> watchers_ ABSL_GUARDED_BY(watchers_mu_);
  uint64_t next_watcher_ ABSL_GUARDED_BY(watchers_mu_) = 1;

  RecentOutputs recent_;
  // Written on the job thread, read by ReadOutputs on any thread.
  absl::Mutex unsaved_mu_;
  std::map<std::string, Unsaved> unsaved_ ABSL_GUARDED_BY(unsaved_mu_);

  // Job thread only.
  std::map<std::string, std::unique_ptr<Run>> runs_;
  bool outputs_stored_ = false;
  bool retry_scheduled_ = false;
  // Set once the job thread has stopped taking calls: the calls still
  // posted answer UNAVAILABLE, and no attempt starts.
  bool draining_ = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_MANAGER_H_
