#include "server/jobs/job_rows.h"

namespace pprocd {

JobRecord ReadJobRow(const SqliteStatement& row, bool with_request, int64_t* num) {
  if (num != nullptr) *num = row.ColumnInt(0);
  JobRecord job;
  job.id = row.ColumnBytes(1);
  job.owner_uid = row.ColumnInt(2);
  job.name = row.ColumnBytes(3);
  job.idempotency_key = row.ColumnBytes(4);
  job.state = static_cast<JobState>(row.ColumnInt(5));
  job.done = row.ColumnInt(6);
  job.total = row.ColumnInt(7);
  job.attempts = row.ColumnInt(8);
  job.max_retries = row.ColumnInt(9);
  job.create_micros = row.ColumnInt(10);
  job.start_micros = row.ColumnInt(11);
  job.end_micros = row.ColumnInt(12);
  job.error = row.ColumnBytes(13);
  job.last_seq = row.ColumnInt(14);
  job.callable = row.ColumnBytes(15);
  job.socket_path = row.ColumnBytes(16);
  if (with_request) job.request = row.ColumnBytes(kJobColumnCount);
  return job;
}

int64_t RequestFileBytes(const SqliteStatement& row) {
  if (row.ColumnIsNull(kJobColumnCount + 1)) return -1;
  return row.ColumnInt(kJobColumnCount + 1);
}

void BindTextOrNull(SqliteStatement& statement, int index, const std::string& text) {
  if (text.empty()) {
    statement.BindNull(index);
  } else {
    statement.BindText(index, text);
  }
}

void BindBlobOrNull(SqliteStatement& statement, int index, const std::string& bytes) {
  if (bytes.empty()) {
    statement.BindNull(index);
  } else {
    statement.BindBlob(index, bytes);
  }
}

}  // namespace pprocd
