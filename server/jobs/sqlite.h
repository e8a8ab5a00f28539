// Small RAII wrappers over the SQLite C API, for the job store.
//
// SqliteDb owns one connection; SqliteStatement owns one prepared statement of
// a connection that must outlive it; SqliteTransaction rolls back unless
// committed. None is thread-safe: a connection and its statements belong to
// one thread at a time (connections are opened with SQLITE_OPEN_NOMUTEX, so
// the caller provides that exclusion, e.g. with a mutex).
//
// Every failure becomes an absl::Status whose message carries SQLite's own
// message (see SqliteStatus for the code mapping).
#ifndef PPROCD_SERVER_JOBS_SQLITE_H_
#define PPROCD_SERVER_JOBS_SQLITE_H_

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pprocd {

// Maps a SQLite result code to a status: FULL -> RESOURCE_EXHAUSTED, CORRUPT and
// NOTADB -> DATA_LOSS, BUSY/LOCKED/IOERR -> UNAVAILABLE, CANTOPEN/PERM/READONLY
// -> FAILED_PRECONDITION, CONSTRAINT -> ALREADY_EXISTS, TOOBIG -> INVALID_ARGUMENT,
// anything else -> INTERNAL. `db` (may be null) supplies the detailed message.
absl::Status SqliteStatus(int code, sqlite3* db, absl::string_view what);

class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Binders take 1-based parameter indices (?1, ?2, ...). A failed bind is
  // remembered and returned by the next Step(). Text and blobs are NOT copied:
  // the bytes must stay valid until the statement is reset or has run.
  void BindInt(int index, int64_t value);
  void BindText(int index, absl::string_view text);
  void BindBlob(int index, absl::string_view bytes);
  void BindNull(int index);

  // Advances: true when a row is ready to read, false when the statement has
  // run to completion.
  absl::StatusOr<bool> Step();
  // Steps to completion, ignoring any rows.
  absl::Status Run();
  // Makes the statement ready to run again with new bindings.
  void Reset();

  // Column readers for the current row; columns are 0-based.
  int64_t ColumnInt(int column) const;
  bool ColumnIsNull(int column) const;
  // TEXT or BLOB column as bytes (empty for NULL).
  std::string ColumnBytes(int column) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

class SqliteDb {
 public:
  // Opens (with `flags`, SQLITE_OPEN_NOMUTEX added) the file at `path`. SQLite
  // opens lazily: a file that is not a database fails at the first statement.
  static absl::StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, int flags);
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  // Finalizes the cached statements, then closes the connection.
  ~SqliteDb();

  // Runs one or more ';'-separated statements that return no rows of interest.
  absl::Status Exec(const char* sql);
  // Runs a statement returning one integer (e.g. "PRAGMA page_count").
  absl::StatusOr<int64_t> QueryInt(const char* sql);
  absl::StatusOr<SqliteStatement> Prepare(absl::string_view sql);
  // A statement prepared once per connection and kept for reuse. The lease
  // resets it when dropped, which ends its read snapshot; the caller must drop
  // it before asking for the same `sql` again, and before this SqliteDb dies.
  class Lease;
  absl::StatusOr<Lease> Cached(const char* sql);

  sqlite3* get() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  sqlite3* db_;
  std::map<std::string, SqliteStatement> cache_;
};

class SqliteDb::Lease {
 public:
  explicit Lease(SqliteStatement* statement) : statement_(statement) {}
  Lease(Lease&& other) noexcept : statement_(std::exchange(other.statement_, nullptr)) {}
  Lease& operator=(Lease&&) = delete;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() {
    if (statement_ != nullptr) statement_->Reset();
  }
  SqliteStatement* operator->() const { return statement_; }
  SqliteStatement& operator*() const { return *statement_; }

 private:
  SqliteStatement* statement_;
};

// An open transaction on a connection: BEGIN IMMEDIATE (takes the write lock
// at once) or BEGIN (deferred, for a consistent read snapshot). Rolled back on
// destruction unless Commit() succeeded. The SqliteDb must outlive it.
class SqliteTransaction {
 public:
  static absl::StatusOr<SqliteTransaction> Begin(SqliteDb& db, bool immediate);
  SqliteTransaction(SqliteTransaction&& other) noexcept;
  SqliteTransaction& operator=(SqliteTransaction&&) = delete;
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  ~SqliteTransaction();

  absl::Status Commit();

 private:
  explicit SqliteTransaction(SqliteDb* db) : db_(db) {}

  SqliteDb* db_;  // null once committed or rolled back
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_SQLITE_H_
