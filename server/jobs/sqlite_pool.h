// SqlitePool: connections to one database for concurrent readers. Acquire()
// lends an idle connection, or opens a new one when all are lent; the lease
// gives it back when dropped. Thread-safe; the pool must outlive its leases.
#ifndef PPROCD_SERVER_JOBS_SQLITE_POOL_H_
#define PPROCD_SERVER_JOBS_SQLITE_POOL_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/jobs/sqlite.h"

namespace pprocd {

class SqlitePool {
 public:
  using Opener = std::function<absl::StatusOr<std::unique_ptr<SqliteDb>>()>;

  // `open` makes a new connection, ready to use. At most `max_idle` idle
  // connections are kept; more are closed when given back.
  SqlitePool(Opener open, size_t max_idle) : open_(std::move(open)), max_idle_(max_idle) {}

  class Lease {
   public:
    Lease(SqlitePool* pool, std::unique_ptr<SqliteDb> db) : pool_(pool), db_(std::move(db)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (db_ != nullptr) pool_->GiveBack(std::move(db_));
    }
    SqliteDb& operator*() const { return *db_; }
    SqliteDb* operator->() const { return db_.get(); }

   private:
    SqlitePool* pool_;
    std::unique_ptr<SqliteDb> db_;
  };

  absl::StatusOr<Lease> Acquire() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void GiveBack(std::unique_ptr<SqliteDb> db) ABSL_LOCKS_EXCLUDED(mu_);

  const Opener open_;
  const size_t max_idle_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<SqliteDb>> idle_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_SQLITE_POOL_H_
