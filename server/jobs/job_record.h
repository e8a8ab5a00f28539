// The plain values the job store keeps: a job's row (JobRecord) and one of its
// numbered outputs (JobOutput). Copyable values, no behaviour beyond names.
//
// The store does not interpret a job's request or its outputs' payloads: they
// are opaque bytes (in the server, serialized protobuf messages). An output
// may cover several consecutive seqs (its `count`): a block of results
// stored as one row.
#ifndef PPROCD_SERVER_JOBS_JOB_RECORD_H_
#define PPROCD_SERVER_JOBS_JOB_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pprocd {

// Stored as these integers: never renumber, only add.
enum class JobState : int {
  kQueued = 1,
  kRunning = 2,
  kSucceeded = 3,
  kFailed = 4,
  kCancelled = 5,
  // The server died while the job was queued or running.
  kInterrupted = 6,
};

// True for the states a job does not leave on its own (it may still be re-run).
bool IsFinished(JobState state);
// "QUEUED", "RUNNING", ...; "UNKNOWN" for a value outside the enum.
const char* JobStateName(JobState state);
// The one table of a job's lifecycle: true when a job may go from `from` to
// `to`. QUEUED goes to RUNNING (an attempt starts), FAILED (it cannot start,
// or its state cannot be stored) or CANCELLED. RUNNING goes to SUCCEEDED,
// FAILED, QUEUED (an attempt failed with retries left, or the server
// stopped under it), CANCELLED or INTERRUPTED (the server stopped under it,
// no retries left). A finished state is never left. A state does not "go"
// to itself.
bool IsJobTransition(JobState from, JobState to);

// The owner_uid of jobs submitted by callers without kernel credentials (TCP).
inline constexpr int64_t kAnonymousOwner = -1;

struct JobRecord {
  // 16 lowercase hex characters, made by the store on creation; unique.
  std::string id;
  int64_t owner_uid = kAnonymousOwner;
  // Unique per owner among the jobs that exist; empty = none.
  std::string name;
  // Unique per owner among the jobs that exist; empty = none.
  std::string idempotency_key;
  JobState state = JobState::kQueued;
  int64_t done = 0;   // progress: items done ...
  int64_t total = 0;  // ... of this many (0 = unknown)
  int64_t attempts = 0;
  int64_t max_retries = 0;
  // Unix microseconds; 0 = not yet.
  int64_t create_micros = 0;
  int64_t start_micros = 0;
  int64_t end_micros = 0;
  // The callable it runs (set at creation).
  std::string callable;
  // Why the job failed or was interrupted; empty otherwise.
  std::string error;
  // The serialized submit request, kept to re-run the job.
  std::string request;
  // For CreateJob() only: bytes of the request that follow `request`, given
  // apart so that a large block of them is stored without being copied
  // first. They must outlive the call. Never read back (`request` then
  // holds the whole request).
  std::string_view request_tail;
  // Read with its request, which was stored but cannot be read back (its
  // file is missing or damaged): `request` is empty. Never stored.
  bool request_unreadable = false;
  // The seq of the job's last stored output; 0 = none yet.
  int64_t last_seq = 0;
  // The socket file made for this job alone (SubmitRequest.socket_path);
  // empty = none. Set at creation.
  std::string socket_path;
  // Digests of the request that created the job, set at creation and read
  // back only by CreateJob() for an idempotency key used before: of its
  // inputs, and of everything else that defines the job. Opaque to the
  // store; empty = none (jobs created before the store kept them).
  std::string inputs_digest;
  std::string settings_digest;
};

// What an output is, for the server's own use; stored as these integers.
enum class OutputKind : int {
  kResult = 1,
  kMessage = 2,
  kProgress = 3,
  kLog = 4,
  kState = 5,
  // A serialized v1::ResultBlock: `count` consecutive successful results,
  // one seq each.
  kBlock = 6,
};

// One output to append (its seqs are assigned by the store).
struct NewOutput {
  OutputKind kind = OutputKind::kResult;
  std::string payload;
  // How many seqs it takes (at least 1): the results of a kBlock.
  int64_t count = 1;
};

// One stored output. A job's seqs run 1, 2, 3, ... with no gap: an output
// takes seqs seq, seq + 1, ..., seq + count - 1, and the next output starts
// right after them.
struct JobOutput {
  int64_t seq = 0;
  OutputKind kind = OutputKind::kResult;
  std::string payload;
  int64_t count = 1;

  // The last seq it takes.
  int64_t last_seq() const { return seq + count - 1; }
};

// ListJobs() filter: every set field must match.
struct JobFilter {
  std::optional<int64_t> owner_uid;
  std::optional<JobState> state;
  std::optional<std::string> name;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_RECORD_H_
