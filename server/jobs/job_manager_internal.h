// What the job manager's source files share: small helpers (any thread)
// and the state of a running attempt (job thread only). Internal to
// server/jobs.
#ifndef PPROCD_SERVER_JOBS_JOB_MANAGER_INTERNAL_H_
#define PPROCD_SERVER_JOBS_JOB_MANAGER_INTERNAL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "pprocd/v1/service.pb.h"
#include "server/jobs/job_manager.h"
#include "server/scheduler/call_sink.h"

namespace pprocd {

// One line of the server's log for the state `record` is now in (stored):
// the job's id, name, state, owner, callable and attempt, its progress and
// error. A job that failed or was interrupted is a warning.
void LogJobState(const JobRecord& record);

// Every change of a job's state goes through here: `record` moves to `next`
// when IsJobTransition allows it. Otherwise it stays, the refused step is
// logged as a defect, and false is returned (the caller does not act on
// the state it asked for).
bool MoveJob(JobRecord& record, JobState next);

// `text` in single quotes for a status message, cut to at most 64 bytes
// (on a UTF-8 character boundary, with "..." after the cut): messages
// never echo a caller's value whole.
inline std::string Quote(absl::string_view text) {
  constexpr size_t kMaxQuoted = 64;
  if (text.size() <= kMaxQuoted) return absl::StrCat("'", text, "'");
  size_t cut = kMaxQuoted - 3;
  // Back to the start of a character: continuation bytes are 10xxxxxx.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat("'", text.substr(0, cut), "...'");
}

// One attempt of a job, on the job thread.
struct JobManager::Run {
  JobRecord record;
  v1::SubmitRequest request;
  bool channel = false;
  uint64_t call_id = 0;
  int next_input = 0;
  // The packed form's inputs (SubmitRequest.packed_inputs), split once.
  std::shared_ptr<const InputBlock> packed_inputs;
  int total_inputs() const {
    return packed_inputs ? static_cast<int>(packed_inputs->elements.size()) : request.inputs_size();
  }
  bool inputs_ended = false;
  // CancelJob: the final state is stored; later results are dropped.
  bool cancelled = false;
  // The store refused the job's outputs (full): why.
  absl::Status store_error;
  // Items whose final result is an error, among those stored.
  uint64_t failed = 0;
  // Delivered, not yet stored: ItemResults and blocks, in order.
  std::vector<ResultPiece> pending;
  // When the attempt started or its progress was last stored.
  absl::Time last_progress;
  bool progress_failure_logged = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_MANAGER_INTERNAL_H_
