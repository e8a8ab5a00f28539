// The job store's connections and schema: how a connection is set up, and
// which tables a store file holds, by schema version (PRAGMA user_version).
// Internal to the job store. Called from the thread that owns the connection.
#ifndef PPROCD_SERVER_JOBS_JOB_SCHEMA_H_
#define PPROCD_SERVER_JOBS_JOB_SCHEMA_H_

#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/jobs/job_store.h"
#include "server/jobs/sqlite.h"

namespace pprocd {

// The schema version this build writes and reads.
inline constexpr int64_t kJobSchemaVersion = 6;

// Opens a connection to options.path with its busy timeout and durability set.
// A writer connection creates the file if missing; a reader connection
// refuses to write (PRAGMA query_only).
absl::StatusOr<std::unique_ptr<SqliteDb>> OpenJobConnection(const JobStoreOptions& options,
                                                            bool writer);

// On the writer connection, before any other use: switches the file to WAL,
// then creates the schema of a new file or migrates an older one to
// kJobSchemaVersion. FAILED_PRECONDITION for a database of another application
// or of a newer schema; DATA_LOSS for a file that is not a database.
absl::Status PrepareJobSchema(SqliteDb& db);

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_SCHEMA_H_
