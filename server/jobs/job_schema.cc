#include "server/jobs/job_schema.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "base/status_macros.h"

namespace pprocd {
namespace {

// "pprd": marks the file as a job store (PRAGMA application_id).
constexpr int64_t kApplicationId = 0x70707264;

// Version 1. Jobs are numbered by `num` (never reused, in creation order):
// outputs and requests refer to that number, and page tokens are one. The
// request lives in its own table so that the frequent updates of a job's row
// (last_seq, progress) never rewrite a large request. An output row is found
// by its primary key (job, seq), so a replay starts with one index seek.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE jobs (
  num INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  owner_uid INTEGER NOT NULL,
  name TEXT,
  idempotency_key TEXT,
  state INTEGER NOT NULL,
  done INTEGER NOT NULL,
  total INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  max_retries INTEGER NOT NULL,
  create_micros INTEGER NOT NULL,
  start_micros INTEGER NOT NULL,
  end_micros INTEGER NOT NULL,
  error TEXT NOT NULL,
  last_seq INTEGER NOT NULL,
  callable TEXT NOT NULL
);
CREATE UNIQUE INDEX jobs_by_owner_name ON jobs (owner_uid, name) WHERE name IS NOT NULL;
CREATE UNIQUE INDEX jobs_by_owner_key ON jobs (owner_uid, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX jobs_by_state ON jobs (state);
CREATE TABLE job_requests (
  job INTEGER PRIMARY KEY,
  request BLOB NOT NULL
);
CREATE TABLE outputs (
  job INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  payload BLOB NOT NULL,
  PRIMARY KEY (job, seq)
);
)sql";

// Version 2: the job's own socket file, so that a restarted server can make
// it again without reading every job's request.
constexpr char kSchemaV2[] = R"sql(
ALTER TABLE jobs ADD COLUMN socket_path TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: digests of the request that created a job, to tell a repeated
// Submit (same idempotency key) from another request under the same key
// without reading the stored request back. NULL for older jobs.
constexpr char kSchemaV3[] = R"sql(
ALTER TABLE jobs ADD COLUMN inputs_digest BLOB;
ALTER TABLE jobs ADD COLUMN settings_digest BLOB;
)sql";

// Version 4: an output row may cover several seqs (a block of results,
// OutputKind::kBlock): `count` of them, from `seq`. Older rows take one.
// Adding a column with a default rewrites no row.
constexpr char kSchemaV4[] = R"sql(
ALTER TABLE outputs ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
)sql";

// Version 5: large requests and outputs may live in files of their own
// (JobFiles). A request: `file_bytes` is its size and `request` is empty.
// An output: its payload is `file_bytes` bytes at `file_offset` of the
// job's outputs file, and `payload` is empty. NULL: in the row, as in older
// versions.
constexpr char kSchemaV5[] = R"sql(
ALTER TABLE job_requests ADD COLUMN file_bytes INTEGER;
ALTER TABLE outputs ADD COLUMN file_offset INTEGER;
ALTER TABLE outputs ADD COLUMN file_bytes INTEGER;
)sql";

// Version 6: a job's request file may be written after its rows commit, so
// that the job runs while the file is written (JobStore::CreateJob with
// RequestFileWrite::kAfterCommit). `file_pending` is 1 until the file is
// written, and its Submit is answered only then: a store opened with such a
// row removes that job, which nobody was told of. NULL: written.
constexpr char kSchemaV6[] = R"sql(
ALTER TABLE job_requests ADD COLUMN file_pending INTEGER;
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteDb>> OpenJobConnection(const JobStoreOptions& options,
                                                            bool writer) {
  const int flags = writer ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READWRITE;
  PPROCD_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(options.path, flags));
  sqlite3_busy_timeout(db->get(),
                       static_cast<int>(absl::ToInt64Milliseconds(options.busy_timeout)));
  PPROCD_RETURN_IF_ERROR(db->Exec(options.durability == Durability::kPowerLoss
                                      ? "PRAGMA synchronous = FULL"
                                      : "PRAGMA synchronous = NORMAL"));
  if (!writer) PPROCD_RETURN_IF_ERROR(db->Exec("PRAGMA query_only = 1"));
  return db;
}

absl::Status PrepareJobSchema(SqliteDb& db) {
  // The first statement to read the file: a file that is not a database
  // fails here. WAL is persistent: later connections find it set.
  PPROCD_ASSIGN_OR_RETURN(SqliteStatement journal, db.Prepare("PRAGMA journal_mode = WAL"));
  PPROCD_ASSIGN_OR_RETURN(bool row, journal.Step());
  if (!row || journal.ColumnBytes(0) != "wal") {
    return absl::FailedPreconditionError("cannot switch the database to WAL mode");
  }
  PPROCD_RETURN_IF_ERROR(journal.Run());
  // After a checkpoint, keep at most this much of the WAL file on disk.
  PPROCD_RETURN_IF_ERROR(db.Exec("PRAGMA journal_size_limit = 67108864"));
  // Checkpoints: see WalCheckpointer (the store installs it on its writer).

  PPROCD_ASSIGN_OR_RETURN(SqliteTransaction transaction, SqliteTransaction::Begin(db, true));
  PPROCD_ASSIGN_OR_RETURN(int64_t application_id, db.QueryInt("PRAGMA application_id"));
  PPROCD_ASSIGN_OR_RETURN(int64_t version, db.QueryInt("PRAGMA user_version"));
  PPROCD_ASSIGN_OR_RETURN(int64_t tables, db.QueryInt("SELECT count(*) FROM sqlite_schema"));
  const bool empty = application_id == 0 && version == 0 && tables == 0;
  if (!empty && application_id != kApplicationId) {
    return absl::FailedPreconditionError(
        absl::StrCat("the file is an SQLite database but not a pprocd job store (application_id ",
                     application_id, ")"));
  }
  if (version > kJobSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat("the job store has schema version ", version,
                                                      ", newer than this pprocd knows (",
                                                      kJobSchemaVersion, ")"));
  }
  if (version == kJobSchemaVersion) return transaction.Commit();
  // Migrations: one step per version, each from the previous one.
  if (version < 1) {
    PPROCD_RETURN_IF_ERROR(db.Exec(kSchemaV1));
    PPROCD_RETURN_IF_ERROR(
        db.Exec(absl::StrCat("PRAGMA application_id = ", kApplicationId).c_str()));
  }
  if (version < 2) PPROCD_RETURN_IF_ERROR(db.Exec(kSchemaV2));
  if (version < 3) PPROCD_RETURN_IF_ERROR(db.Exec(kSchemaV3));
  if (version < 4) PPROCD_RETURN_IF_ERROR(db.Exec(kSchemaV4));
  if (version < 5) PPROCD_RETURN_IF_ERROR(db.Exec(kSchemaV5));
  if (version < 6) PPROCD_RETURN_IF_ERROR(db.Exec(kSchemaV6));
  PPROCD_RETURN_IF_ERROR(
      db.Exec(absl::StrCat("PRAGMA user_version = ", kJobSchemaVersion).c_str()));
  return transaction.Commit();
}

}  // namespace pprocd
