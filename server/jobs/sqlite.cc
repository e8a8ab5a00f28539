#include "server/jobs/sqlite.h"

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pprocd {

absl::Status SqliteStatus(int code, sqlite3* db, absl::string_view what) {
  std::string detail = sqlite3_errstr(code);
  if (db != nullptr && sqlite3_errcode(db) == code) {
    detail = sqlite3_errmsg(db);
    const int os_error = sqlite3_system_errno(db);
    const int primary = code & 0xff;
    if (os_error != 0 && (primary == SQLITE_IOERR || primary == SQLITE_CANTOPEN)) {
      absl::StrAppend(&detail, " (", std::strerror(os_error), ")");
    }
  }
  std::string message = absl::StrCat(what, ": ", detail);
  switch (code & 0xff) {
    case SQLITE_FULL:
      return absl::ResourceExhaustedError(message);
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::DataLossError(message);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
      return absl::UnavailableError(message);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::FailedPreconditionError(message);
    case SQLITE_CONSTRAINT:
      return absl::AlreadyExistsError(message);
    case SQLITE_TOOBIG:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

// SqliteStatement

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), bind_error_(other.bind_error_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { sqlite3_finalize(stmt_); }

void SqliteStatement::BindInt(int index, int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void SqliteStatement::BindText(int index, absl::string_view text) {
  const int rc =
      sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void SqliteStatement::BindBlob(int index, absl::string_view bytes) {
  // A null pointer would bind NULL; an empty blob must stay a blob.
  const int rc = sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                                     SQLITE_STATIC);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void SqliteStatement::BindNull(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (bind_error_ == SQLITE_OK) bind_error_ = rc;
}

absl::StatusOr<bool> SqliteStatement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return SqliteStatus(bind_error_, db_, absl::StrCat("bind for '", sqlite3_sql(stmt_), "'"));
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, db_, absl::StrCat("'", sqlite3_sql(stmt_), "'"));
}

absl::Status SqliteStatement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

void SqliteStatement::Reset() {
  // sqlite3_reset repeats the last step's error, which Step() already reported.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
}

int64_t SqliteStatement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

bool SqliteStatement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string SqliteStatement::ColumnBytes(int column) const {
  // sqlite3_column_blob before sqlite3_column_bytes: the documented safe order.
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return std::string();
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

// SqliteDb

absl::StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  // Even a failed open may allocate a handle, which must be closed.
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) return SqliteStatus(rc, raw, absl::StrCat("open ", path));
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

SqliteDb::~SqliteDb() {
  cache_.clear();
  sqlite3_close(db_);
}

absl::Status SqliteDb::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(rc, db_, absl::StrCat("'", sql, "'"));
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteDb::QueryInt(const char* sql) {
  absl::StatusOr<SqliteStatement> statement = Prepare(sql);
  if (!statement.ok()) return statement.status();
  absl::StatusOr<bool> row = statement->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError(absl::StrCat("'", sql, "' returned no row"));
  return statement->ColumnInt(0);
}

absl::StatusOr<SqliteStatement> SqliteDb::Prepare(absl::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(rc, db_, absl::StrCat("prepare '", sql, "'"));
  }
  return SqliteStatement(db_, stmt);
}

absl::StatusOr<SqliteDb::Lease> SqliteDb::Cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    absl::StatusOr<SqliteStatement> statement = Prepare(sql);
    if (!statement.ok()) return statement.status();
    it = cache_.emplace(sql, *std::move(statement)).first;
  }
  return Lease(&it->second);
}

// SqliteTransaction

absl::StatusOr<SqliteTransaction> SqliteTransaction::Begin(SqliteDb& db, bool immediate) {
  absl::Status begun = db.Exec(immediate ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!begun.ok()) return begun;
  return SqliteTransaction(&db);
}

SqliteTransaction::SqliteTransaction(SqliteTransaction&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)) {}

SqliteTransaction::~SqliteTransaction() {
  // After some errors (e.g. SQLITE_FULL) SQLite has already rolled back; then
  // there is no transaction left and this is a harmless no-op.
  if (db_ != nullptr && !sqlite3_get_autocommit(db_->get())) {
    sqlite3_exec(db_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

absl::Status SqliteTransaction::Commit() {
  absl::Status committed = db_->Exec("COMMIT");
  if (committed.ok()) db_ = nullptr;
  return committed;
}

}  // namespace pprocd
