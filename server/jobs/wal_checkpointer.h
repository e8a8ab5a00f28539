// WalCheckpointer: takes the WAL checkpoints of the job store's writer off
// the threads that commit.
//
// SQLite's automatic checkpoint runs inside the commit that crosses its
// threshold: that commit then copies megabytes from the -wal file into the
// database and waits for them to reach the disk, while a job's results or a
// Submit wait behind it. Installed on the writer (sqlite3_wal_hook, which
// replaces wal_autocheckpoint), this asks a thread of its own to checkpoint
// once a commit leaves `start_pages` or more in the WAL. The thread uses a
// connection of its own and PASSIVE checkpoints, which never block the writer
// or the readers. Should the WAL reach `inline_pages` all the same, the
// committing writer checkpoints itself, so the WAL stays bounded.
#ifndef PPROCD_SERVER_JOBS_WAL_CHECKPOINTER_H_
#define PPROCD_SERVER_JOBS_WAL_CHECKPOINTER_H_

#include <sqlite3.h>

#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "server/jobs/sqlite.h"

namespace pprocd {

class WalCheckpointer {
 public:
  // Installs the hook on `writer` (which must outlive this) and starts the
  // thread, which checkpoints through `own`, a connection to the same file.
  WalCheckpointer(SqliteDb* writer, std::unique_ptr<SqliteDb> own, int start_pages,
                  int inline_pages);
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  // Removes the hook and stops the thread (a checkpoint under way ends first).
  ~WalCheckpointer() ABSL_LOCKS_EXCLUDED(mu_);

  // Checkpoints done by the thread so far (for tests).
  int completed() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Loop();
  bool Woken() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return wanted_ || stopping_; }

  SqliteDb* const writer_;
  const std::unique_ptr<SqliteDb> own_;
  const int start_pages_;
  const int inline_pages_;
  mutable absl::Mutex mu_;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int completed_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_WAL_CHECKPOINTER_H_
