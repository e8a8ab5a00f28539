#include "server/jobs/wal_checkpointer.h"

#include <utility>

#include "base/log/log.h"

namespace pprocd {

WalCheckpointer::WalCheckpointer(SqliteDb* writer, std::unique_ptr<SqliteDb> own, int start_pages,
                                 int inline_pages)
    : writer_(writer),
      own_(std::move(own)),
      start_pages_(start_pages),
      inline_pages_(inline_pages) {
  thread_ = std::thread([this] { Loop(); });
  sqlite3_wal_hook(writer_->get(), &WalCheckpointer::OnCommit, this);
}

WalCheckpointer::~WalCheckpointer() {
  sqlite3_wal_hook(writer_->get(), nullptr, nullptr);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

int WalCheckpointer::completed() const {
  absl::MutexLock lock(&mu_);
  return completed_;
}

int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* name, int pages) {
  auto* checkpointer = static_cast<WalCheckpointer*>(self);
  if (pages >= checkpointer->inline_pages_) {
    // The thread has not kept up: this commit pays, as without it.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= checkpointer->start_pages_) {
    absl::MutexLock lock(&checkpointer->mu_);
    checkpointer->wanted_ = true;
  }
  return SQLITE_OK;
}

void WalCheckpointer::Loop() {
  // SQLite opens a file lazily, and checkpoints only a connection that has
  // found the database in WAL mode: read it once.
  if (absl::StatusOr<int64_t> read = own_->QueryInt("PRAGMA schema_version"); !read.ok()) {
    LogError("the job store cannot checkpoint", {{"error", read.status().ToString()}});
  }
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &WalCheckpointer::Woken));
      if (stopping_) return;
      wanted_ = false;
    }
    const int result = sqlite3_wal_checkpoint_v2(own_->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                                 nullptr, nullptr);
    if (result != SQLITE_OK && result != SQLITE_BUSY) {
      LogError("a job store checkpoint failed", {{"error", sqlite3_errstr(result)}});
    }
    absl::MutexLock lock(&mu_);
    ++completed_;
  }
}

}  // namespace pprocd
