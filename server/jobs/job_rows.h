// How a JobRecord maps to a row of the jobs table, shared by the job store's
// reads and writes. Internal to the job store.
#ifndef PPROCD_SERVER_JOBS_JOB_ROWS_H_
#define PPROCD_SERVER_JOBS_JOB_ROWS_H_

#include "server/jobs/job_record.h"
#include "server/jobs/sqlite.h"

// The columns ReadJobRow() reads, in its order, for "SELECT ... FROM jobs j".
// A macro so that statements stay compile-time literals.
#define PPROCD_JOB_COLUMNS                                                              \
  "j.num, j.id, j.owner_uid, j.name, j.idempotency_key, j.state, j.done, j.total, "     \
  "j.attempts, j.max_retries, j.create_micros, j.start_micros, j.end_micros, j.error, " \
  "j.last_seq, j.callable, j.socket_path"
// PPROCD_JOB_COLUMNS and the job's request, for ReadJobRow(..., true), then
// the size of its request file (NULL if none), for RequestFileBytes().
#define PPROCD_JOB_COLUMNS_AND_REQUEST                      \
  PPROCD_JOB_COLUMNS                                        \
  ", (SELECT request FROM job_requests WHERE job = j.num)," \
  " (SELECT file_bytes FROM job_requests WHERE job = j.num)"

namespace pprocd {

// How many columns PPROCD_JOB_COLUMNS names: a statement's own columns after
// them start at this index.
inline constexpr int kJobColumnCount = 17;

// The current row of a statement selecting PPROCD_JOB_COLUMNS (then the
// request, if `with_request`). Its `num` (the job's row number) goes to *num
// when not null.
JobRecord ReadJobRow(const SqliteStatement& row, bool with_request, int64_t* num = nullptr);

// For a row of PPROCD_JOB_COLUMNS_AND_REQUEST: the size of the job's request
// file, or -1 when its request is in the row (ReadJobRow read it).
int64_t RequestFileBytes(const SqliteStatement& row);

// Binds `text` at `index`, or NULL for an empty string (name and
// idempotency_key: NULL means none, and is never a duplicate).
void BindTextOrNull(SqliteStatement& statement, int index, const std::string& text);
// Binds `bytes` as a BLOB at `index`, or NULL when empty.
void BindBlobOrNull(SqliteStatement& statement, int index, const std::string& bytes);

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_ROWS_H_
