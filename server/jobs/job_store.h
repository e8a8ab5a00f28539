// JobStore: the durable store of background jobs and their numbered outputs,
// kept in one SQLite database file (WAL journal).
//
// A job is a row (JobRecord) plus the outputs it produced, numbered 1, 2, 3, ...
// (JobOutput::seq). An output counts as delivered once AppendOutputs() has
// returned: it is then committed and any number of watchers may replay it with
// ReadOutputs(after_seq) and follow the newer ones.
//
// Durability: every write method commits one transaction before it returns.
// With Durability::kProcessCrash (synchronous=NORMAL) a commit is in the
// operating system's hands when the call returns: it survives the server being
// killed (kill -9) at any moment, but the last commits may be lost if the
// machine loses power (the database itself stays consistent). With
// Durability::kPowerLoss (synchronous=FULL) every commit is also fsync()ed,
// which costs about one disk flush per write call.
//
// Threads: every method is thread-safe. Writes run one at a time on one writer
// connection under a mutex (in the server, one scheduler-side thread makes
// them). Reads take a connection of their own from a pool, so they never wait
// for a write and may run on any number of threads at once; each read sees the
// store as of the last commit before it began.
//
// A large request, and large outputs, are kept in files beside the database
// (see JobStoreOptions::request_file_min_bytes), with the same durability.
//
// One process at a time may open a given file.
#ifndef PPROCD_SERVER_JOBS_JOB_STORE_H_
#define PPROCD_SERVER_JOBS_JOB_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/jobs/job_files.h"
#include "server/jobs/job_record.h"
#include "server/jobs/sqlite.h"
#include "server/jobs/sqlite_pool.h"
#include "server/jobs/wal_checkpointer.h"

namespace pprocd {

enum class Durability {
  kProcessCrash,  // synchronous=NORMAL: survives kill -9 of the server
  kPowerLoss,     // synchronous=FULL: also survives a power loss or kernel crash
};

struct JobStoreOptions {
  // The database file; created if missing, with mode 0600 (its directory must
  // exist). SQLite keeps two more files beside it: PATH-wal and PATH-shm.
  std::string path;
  // Cap on the bytes in use (pages holding data, times the page size, and
  // the files of JobFiles); 0 = none. An empty store takes about 50 KiB. Not
  // counted: the -wal file, which holds the commits since the last
  // checkpoint (about 16 MiB, at most 256 MiB).
  uint64_t max_bytes = 0;
  // A job's request of at least this many bytes is kept in a file of its own
  // in the directory PATH-files (see JobFiles: written once, instead of to
  // the WAL and again by a checkpoint); smaller ones in the database.
  // 0 = every request in a file.
  uint64_t request_file_min_bytes = 64 << 10;
  // Likewise, an output whose payload has at least this many bytes goes to
  // the job's outputs file there (a payload of a few KiB would take pages
  // of its own in the database anyway). 0 = every output.
  uint64_t output_file_min_bytes = 4 << 10;
  // PruneFinished() deletes jobs that ended longer ago than this.
  absl::Duration keep_finished = absl::Hours(24 * 7);
  Durability durability = Durability::kProcessCrash;
  // How long a statement waits for a lock held by another connection.
  absl::Duration busy_timeout = absl::Seconds(5);
  // Fault injection, for tests: when set, every write method calls it first
  // with its own name ("CreateJob", "AppendOutputs", "UpdateJob",
  // "UpdateJobWithOutput", "UpdateJobWithOutputs", "WriteRequestFile",
  // "DeleteJob", "PruneFinished") and the job's id
  // (empty for CreateJob and PruneFinished); an error it returns is the
  // write's result, and nothing is written. Called under the writer's lock.
  std::function<absl::Status(absl::string_view method, absl::string_view job_id)> write_fault;
};

// The largest payload AppendOutputs() accepts.
inline constexpr uint64_t kMaxOutputBytes = 16 << 20;
// The most seqs one output may take (NewOutput::count).
inline constexpr int64_t kMaxOutputCount = int64_t{1} << 32;

class JobStore {
 public:
  struct Created {
    JobRecord job;
    // True when the owner's idempotency key named a job that already existed:
    // `job` is that job, and nothing was created.
    bool existing = false;
    // CreateJob(..., RequestFileWrite::kAfterCommit) of a request that goes
    // to a file: the job is stored but its request file is not written yet,
    // and `job` keeps its `request` and `request_tail` for
    // WriteRequestFile().
    bool request_file_pending = false;
  };
  // When CreateJob() writes a request that goes to a file (see
  // JobStoreOptions::request_file_min_bytes).
  enum class RequestFileWrite {
    // Before the job's rows commit: a stored job always has its request.
    kBeforeCommit,
    // After: the caller starts the job, then calls WriteRequestFile(), and
    // answers its Submit only when that succeeded (or deletes the job). A
    // store opened with a job whose file was never written removes it: its
    // Submit was never answered.
    kAfterCommit,
  };
  struct Page {
    std::vector<JobRecord> jobs;  // newest first
    // Pass to the next ListJobs() call; empty when this was the last page.
    std::string next_page_token;
  };

  // Opens the store at options.path, creating the file and its schema if
  // missing, or migrating an older schema. A file that is not a job store, is
  // corrupt, or comes from a newer pprocd is an error naming the path.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(JobStoreOptions options);
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;
  ~JobStore();

  // Writes.

  // Stores a new job from `job`'s owner_uid, name, idempotency_key, state,
  // progress, attempts, max_retries, times and request (create_micros 0 means
  // now), and returns it with its new id and last_seq 0. If the owner already
  // has a job with this idempotency key, returns that job with `existing` set.
  // ALREADY_EXISTS if the owner has another job with this name;
  // RESOURCE_EXHAUSTED if it would take the store over max_bytes.
  // The job returned has no `request` (the caller had it). A new job keeps
  // `job`'s digests; an existing one comes with the digests it was created
  // with (empty if none), for the caller to compare.
  absl::StatusOr<Created> CreateJob(JobRecord job,
                                    RequestFileWrite when = RequestFileWrite::kBeforeCommit)
      ABSL_LOCKS_EXCLUDED(writer_mu_);
  // Writes the request file of `job`, returned by CreateJob() with
  // request_file_pending (its `request`, then its `request_tail`, which must
  // still be alive), and marks it written. On an error the job keeps no
  // file and stays pending: the caller deletes it. NOT_FOUND if the job is
  // gone; FAILED_PRECONDITION if its file is not pending.
  absl::Status WriteRequestFile(const JobRecord& job) ABSL_LOCKS_EXCLUDED(writer_mu_);

  // Stores `outputs` in one transaction with the job's next seqs, in order
  // (each takes `count` of them), and advances its last_seq; returns the
  // first seq given (0 for no outputs). NOT_FOUND for an unknown job;
  // INVALID_ARGUMENT for a payload over kMaxOutputBytes or a count outside
  // [1, kMaxOutputCount]; RESOURCE_EXHAUSTED (and nothing stored) if the outputs
  // would take the store over max_bytes, except for a batch of only kState
  // outputs of at most 64 KiB in all, which is never refused for size so that
  // a job's end can always be recorded.
  absl::StatusOr<int64_t> AppendOutputs(absl::string_view job_id,
                                        const std::vector<NewOutput>& outputs)
      ABSL_LOCKS_EXCLUDED(writer_mu_);

  // Overwrites the mutable fields of the job `job.id`: state, done, total,
  // attempts, max_retries, start/end times and error (the others are ignored).
  // Never refused for size. NOT_FOUND for an unknown job. The store does not
  // check state transitions: that is the caller's state machine.
  absl::Status UpdateJob(const JobRecord& job) ABSL_LOCKS_EXCLUDED(writer_mu_);

  // UpdateJob(job) and AppendOutputs(job.id, outputs) in one transaction:
  // a job's row (its state, its progress) and the outputs it counts are
  // stored together or not at all. Returns the first output's seq (0 for no
  // outputs: then only the row is written). Refused for size as
  // AppendOutputs() would refuse the outputs.
  absl::StatusOr<int64_t> UpdateJobWithOutputs(const JobRecord& job,
                                               const std::vector<NewOutput>& outputs);
  // UpdateJobWithOutputs(job, {output}): a job's change of state and the
  // output that reports it. Returns the output's seq.
  absl::StatusOr<int64_t> UpdateJobWithOutput(const JobRecord& job, const NewOutput& output);

  // Deletes the job and all its outputs (its name and key become free).
  // NOT_FOUND for an unknown job.
  absl::Status DeleteJob(absl::string_view job_id) ABSL_LOCKS_EXCLUDED(writer_mu_);

  // Deletes the finished jobs (see IsFinished) that ended before
  // now - keep_finished, with their outputs; returns their ids. Their space is
  // reused by later writes (the file does not shrink).
  absl::StatusOr<std::vector<std::string>> PruneFinished(absl::Time now)
      ABSL_LOCKS_EXCLUDED(writer_mu_);

  // Reads.

  // NOT_FOUND for an unknown job. Without `with_request`, its request (which
  // may be large) is not read. A request that was stored but cannot be read
  // back comes empty, with request_unreadable set.
  absl::StatusOr<JobRecord> GetJob(absl::string_view job_id, bool with_request = true);
  // The owner's job named `name`; NOT_FOUND if none.
  absl::StatusOr<JobRecord> FindJobByName(int64_t owner_uid, absl::string_view name,
                                          bool with_request = true);

  // The jobs matching `filter` (without their `request`), newest first, at most `page_size` (0
  // means 100; capped at 1000). `page_token` is "" for the first page or a previous
  // Page::next_page_token: pages neither skip nor repeat a job when jobs are
  // created meanwhile (new ones are not on later pages). INVALID_ARGUMENT for
  // a token this store did not make.
  absl::StatusOr<Page> ListJobs(const JobFilter& filter, int page_size,
                                absl::string_view page_token);

  // The job's outputs that take a seq > after_seq, in seq order: at most
  // `max_count`, and no more once their payloads reach `max_bytes` in all
  // (the first is always returned). The first may begin at or before
  // after_seq (an output of several seqs that holds after_seq + 1): the
  // caller skips what it has. Empty when the job has no newer output.
  // NOT_FOUND for an unknown job; INVALID_ARGUMENT if max_count < 1.
  absl::StatusOr<std::vector<JobOutput>> ReadOutputs(absl::string_view job_id, int64_t after_seq,
                                                     int max_count, uint64_t max_bytes = 64 << 20);

  // The number of results (kResult outputs, and the count of each kBlock)
  // of the job stored after its last kState output (all of them if it has
  // none), in one query. For a job whose row
  // says RUNNING these are the results of its current attempt: every change
  // of state stores a kState output with the row. NOT_FOUND for an unknown
  // job.
  absl::StatusOr<int64_t> CountResultsSinceLastState(absl::string_view job_id);

  // The jobs QUEUED or RUNNING, oldest first. At start-up, before any write,
  // these are the jobs the previous server left unfinished when it died; the
  // caller decides for each: INTERRUPTED, re-run, or re-queue (UpdateJob).
  absl::StatusOr<std::vector<JobRecord>> UnfinishedJobs();

  // The jobs that have a socket_path (without their request), oldest first.
  absl::StatusOr<std::vector<JobRecord>> JobsWithSockets();

  // How many jobs are in each state (states with none are left out).
  absl::StatusOr<std::map<JobState, uint64_t>> CountByState();

  // Bytes in use now (what max_bytes caps). Waits for the writer's lock.
  absl::StatusOr<uint64_t> UsedBytes() ABSL_LOCKS_EXCLUDED(writer_mu_);

  const JobStoreOptions& options() const { return options_; }

 private:
  JobStore(JobStoreOptions options, std::unique_ptr<SqliteDb> writer,
           std::unique_ptr<SqliteDb> checkpoints, JobFiles files, uint64_t file_bytes);

  // The jobs `sql` selects (PPROCD_JOB_COLUMNS, then the request if
  // `with_request`), read on a reader connection.
  absl::StatusOr<std::vector<JobRecord>> SelectJobs(const char* sql, bool with_request);
  // Adds the store's path to an error's message.
  absl::Status InContext(const absl::Status& status) const;
  // options_.write_fault's verdict on a write (OK without one).
  absl::Status Fault(absl::string_view method, absl::string_view job_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // RESOURCE_EXHAUSTED if the writer's open transaction, with `new_file_bytes`
  // more in files, leaves more than max_bytes in use.
  absl::Status CheckSize(absl::string_view what, uint64_t new_file_bytes = 0)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Bytes in use: the database's pages and the files.
  absl::StatusOr<uint64_t> UsedBytesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // The row just read by `row` (PPROCD_JOB_COLUMNS_AND_REQUEST with
  // `with_request`), its request read from its file if it has one.
  JobRecord ReadJobWithRequest(const SqliteStatement& row, bool with_request) const;
  absl::StatusOr<Created> CreateJobLocked(JobRecord job, RequestFileWrite when)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Whether `output`'s payload goes to the job's outputs file.
  bool InFile(const NewOutput& output) const;
  // With `update_job`: its row is updated in the same transaction.
  absl::StatusOr<int64_t> AppendOutputsLocked(absl::string_view job_id,
                                              const std::vector<NewOutput>& outputs,
                                              const JobRecord* update_job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  absl::Status UpdateJobRowLocked(const JobRecord& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // UpdateJobWithOutputs() as `method` (its name for options_.write_fault).
  absl::StatusOr<int64_t> UpdateJobWithOutputs(const JobRecord& job,
                                               const std::vector<NewOutput>& outputs,
                                               absl::string_view method)
      ABSL_LOCKS_EXCLUDED(writer_mu_);
  // Deletes the job numbered `num`, its request and outputs, inside the
  // writer's open transaction; `num` goes to *deleted, for
  // RemoveFilesLocked() once the transaction commits.
  absl::Status DeleteJobRowsLocked(int64_t num, std::vector<int64_t>* deleted)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);
  // Removes the files of the jobs numbered `nums`.
  void RemoveFilesLocked(const std::vector<int64_t>& nums)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_);

  const JobStoreOptions options_;
  absl::Mutex writer_mu_;
  const std::unique_ptr<SqliteDb> writer_ ABSL_GUARDED_BY(writer_mu_);
  absl::BitGen ids_ ABSL_GUARDED_BY(writer_mu_);
  const JobFiles files_;
  // The sizes of the files of the jobs that exist, in all.
  uint64_t file_bytes_ ABSL_GUARDED_BY(writer_mu_) = 0;
  SqlitePool readers_;
  // Declared last: it goes first, while the writer it hooks is still open.
  WalCheckpointer checkpointer_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_STORE_H_
