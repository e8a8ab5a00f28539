#include "server/jobs/sqlite_pool.h"

namespace pprocd {

absl::StatusOr<SqlitePool::Lease> SqlitePool::Acquire() {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<SqliteDb> db = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(db));
    }
  }
  // Opening outside the lock: it touches the file system.
  absl::StatusOr<std::unique_ptr<SqliteDb>> db = open_();
  if (!db.ok()) return db.status();
  return Lease(this, *std::move(db));
}

void SqlitePool::GiveBack(std::unique_ptr<SqliteDb> db) {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(db));
  // Otherwise `db` closes here, under the lock; rare (a burst of readers).
}

}  // namespace pprocd
