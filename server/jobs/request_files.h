// RequestFiles: the job store's large requests, one file each, in a
// directory of their own beside the database (PATH-requests/NUM, NUM being
// the job's row number).
//
// A request kept in the database is written twice (to the WAL, then by the
// checkpoint into the database file) and copied page by page on the way; a
// request in a file of its own is written once, and deleting its job deletes
// the file (often before the system wrote it to the disk at all).
//
// The store writes a job's file before the transaction that refers to it
// commits, and removes it after the transaction that deletes the job
// commits: a file no job refers to (a crash between the two) is an orphan,
// removed when the store opens next. With `sync`, a file and the directory
// entry naming it reach the disk before Write() returns (Durability
// kPowerLoss); without, they are in the operating system's hands, which is
// enough to survive the server being killed.
//
// Thread-safe (no state beyond the directory's name).
#ifndef PPROCD_SERVER_JOBS_REQUEST_FILES_H_
#define PPROCD_SERVER_JOBS_REQUEST_FILES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pprocd {

class RequestFiles {
 public:
  // Uses `dir`, made (mode 0700) if missing.
  static absl::StatusOr<RequestFiles> Open(std::string dir, bool sync);

  // Stores `bytes` as the request of job `num`, replacing any file it had.
  absl::Status Write(int64_t num, absl::string_view bytes) const;
  // The request of job `num`, which must be `size` bytes long. NOT_FOUND
  // without a file; DATA_LOSS for a file of another size.
  absl::StatusOr<std::string> Read(int64_t num, uint64_t size) const;
  // Removes the file of job `num`, if any. Errors are ignored: a file left
  // behind is an orphan, removed by RemoveOrphans().
  void Remove(int64_t num) const;
  // Removes every file whose job number `keep(num)` refuses, and anything
  // else in the directory that is not a request file of this class (a
  // write cut short). Returns how many files were removed.
  template <typename Keep>
  absl::StatusOr<int> RemoveOrphans(Keep keep) const {
    absl::StatusOr<std::vector<std::string>> names = ListNames();
    if (!names.ok()) return names.status();
    int removed = 0;
    for (const std::string& name : *names) {
      int64_t num = 0;
      if (ParseName(name, &num) && keep(num)) continue;
      RemoveName(name);
      ++removed;
    }
    return removed;
  }

  const std::string& dir() const { return dir_; }
  // The path of job `num`'s file.
  std::string PathOf(int64_t num) const;

 private:
  RequestFiles(std::string dir, bool sync) : dir_(std::move(dir)), sync_(sync) {}
  absl::StatusOr<std::vector<std::string>> ListNames() const;
  static bool ParseName(absl::string_view name, int64_t* num);
  void RemoveName(const std::string& name) const;

  std::string dir_;
  bool sync_ = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_REQUEST_FILES_H_
