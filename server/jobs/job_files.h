// JobFiles: the job store's large bytes, in files of their own in a
// directory beside the database (PATH-files): a job's large request
// (NUM.request, NUM being the job's row number) and its large outputs,
// appended one after another to NUM.outputs.
//
// Bytes kept in the database are written twice (to the WAL, then by the
// checkpoint into the database file) and copied page by page on the way;
// bytes in a file are written once, and deleting their job deletes the file
// (often before the system wrote it to the disk at all). The database keeps
// where they are.
//
// The store writes bytes before the transaction that refers to them commits,
// and removes a job's files after the transaction that deletes the job
// commits: a file of no job (a crash between the two) is an orphan, removed
// when the store opens next; bytes appended by a transaction that did not
// commit are never referred to. With `sync`, what Write() and Append() wrote
// (and the directory entry naming a new file) reaches the disk before they
// return (Durability kPowerLoss); without, it is in the operating system's
// hands, which is enough to survive the server being killed.
//
// Thread-safe (no state beyond the directory's name). One writer at a time
// per job (the store's writer); readers may read what was written.
#ifndef PPROCD_SERVER_JOBS_JOB_FILES_H_
#define PPROCD_SERVER_JOBS_JOB_FILES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pprocd {

class JobFiles {
 public:
  enum class Kind { kRequest, kOutputs };

  // Uses `dir`, made (mode 0700) if missing.
  static absl::StatusOr<JobFiles> Open(std::string dir, bool sync);

  // Stores `pieces`, one after another, as the request of job `num`,
  // replacing any it had.
  absl::Status WriteRequest(int64_t num, const std::vector<absl::string_view>& pieces) const;
  absl::Status WriteRequest(int64_t num, absl::string_view bytes) const {
    return WriteRequest(num, std::vector<absl::string_view>{bytes});
  }
  // The request of job `num`, which must be `size` bytes long. NOT_FOUND
  // without a file; DATA_LOSS for a file of another size.
  absl::StatusOr<std::string> ReadRequest(int64_t num, uint64_t size) const;

  // Appends `pieces` to the outputs of job `num`, one after another, and
  // returns the offset of the first (the file's size before).
  absl::StatusOr<uint64_t> AppendOutputs(int64_t num,
                                         const std::vector<absl::string_view>& pieces) const;
  // Cuts the outputs file of job `num` back to `size` bytes (what an
  // append added, when its transaction did not commit). Errors are ignored:
  // bytes no row refers to are never read.
  void TruncateOutputs(int64_t num, uint64_t size) const;
  // Reads outputs of one job: open once, read any number of ranges.
  class OutputsReader {
   public:
    OutputsReader(const OutputsReader&) = delete;
    OutputsReader& operator=(const OutputsReader&) = delete;
    OutputsReader(OutputsReader&& other) noexcept
        : path_(std::move(other.path_)),
          fd_(std::exchange(other.fd_, -1)),
          known_size_(other.known_size_) {}
    ~OutputsReader();
    // `size` bytes at `offset`; DATA_LOSS if the file ends before. One
    // thread at a time.
    absl::StatusOr<std::string> Read(uint64_t offset, uint64_t size) const;

   private:
    friend class JobFiles;
    OutputsReader(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
    std::string path_;
    int fd_ = -1;
    // The file's size when last looked at (it only grows while read).
    mutable uint64_t known_size_ = 0;
  };
  // NOT_FOUND without a file.
  absl::StatusOr<OutputsReader> ReadOutputs(int64_t num) const;

  // Removes the files of job `num` and returns their size in all. Errors
  // are ignored: a file left behind is an orphan, removed by
  // RemoveOrphans().
  uint64_t Remove(int64_t num) const;

  // What RemoveOrphans() removed and kept.
  struct Stock {
    int removed = 0;
    uint64_t kept_bytes = 0;
  };
  // Removes every file whose job number `keep(num)` refuses, and anything
  // else in the directory that is not a file of this class (a write cut
  // short); returns how many it removed and the size of the others.
  template <typename Keep>
  absl::StatusOr<Stock> RemoveOrphans(Keep keep) const {
    absl::StatusOr<std::vector<std::string>> names = ListNames();
    if (!names.ok()) return names.status();
    Stock stock;
    for (const std::string& name : *names) {
      int64_t num = 0;
      if (ParseName(name, &num) && keep(num)) {
        stock.kept_bytes += SizeOfName(name);
        continue;
      }
      RemoveName(name);
      ++stock.removed;
    }
    return stock;
  }

  const std::string& dir() const { return dir_; }
  // The path of a file of job `num`.
  std::string PathOf(int64_t num, Kind kind) const;

 private:
  JobFiles(std::string dir, bool sync) : dir_(std::move(dir)), sync_(sync) {}
  absl::StatusOr<std::vector<std::string>> ListNames() const;
  static bool ParseName(absl::string_view name, int64_t* num);
  uint64_t SizeOfName(const std::string& name) const;
  void RemoveName(const std::string& name) const;
  // fdatasync() of `fd`, and of the directory when the file is new.
  absl::Status Sync(int fd, const std::string& path, bool created) const;

  std::string dir_;
  bool sync_ = false;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_JOBS_JOB_FILES_H_
