#include "server/jobs/job_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/unique_fd.h"

namespace pprocd {
namespace {

constexpr absl::string_view kRequestSuffix = ".request";
constexpr absl::string_view kOutputsSuffix = ".outputs";
// Larger offsets and sizes are no file's.
constexpr uint64_t kMaxOffset = uint64_t{1} << 62;

absl::Status ErrnoError(absl::string_view what, const std::string& path, int error) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
}

absl::Status SyncDir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("cannot open", path, errno);
  if (::fsync(fd.get()) != 0) return ErrnoError("cannot sync", path, errno);
  return absl::OkStatus();
}

std::string ParentOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// Writes every piece, in order, from `offset` on.
absl::Status WriteAllAt(int fd, const std::string& path, std::vector<absl::string_view> pieces,
                        uint64_t offset) {
  size_t next = 0;
  std::vector<iovec> vectors;
  while (next < pieces.size()) {
    vectors.clear();
    for (size_t i = next; i < pieces.size() && vectors.size() < IOV_MAX; ++i) {
      if (pieces[i].empty()) continue;
      vectors.push_back(iovec{const_cast<char*>(pieces[i].data()), pieces[i].size()});
    }
    if (vectors.empty()) break;
    const ssize_t written =
        ::pwritev(fd, vectors.data(), static_cast<int>(vectors.size()), static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write", path, errno);
    }
    offset += static_cast<uint64_t>(written);
    // Drop what was written.
    size_t left = static_cast<size_t>(written);
    while (next < pieces.size() && left >= pieces[next].size()) {
      left -= pieces[next].size();
      ++next;
    }
    if (left > 0) pieces[next].remove_prefix(left);
  }
  return absl::OkStatus();
}

absl::Status ReadAllAt(int fd, const std::string& path, char* out, uint64_t size, uint64_t offset) {
  uint64_t done = 0;
  while (done < size) {
    const ssize_t got = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path, errno);
    }
    if (got == 0) {
      return absl::DataLossError(absl::StrCat(path, " ends before byte ", offset + size));
    }
    done += static_cast<uint64_t>(got);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<JobFiles> JobFiles::Open(std::string dir, bool sync) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    if (sync) {
      if (absl::Status synced = SyncDir(ParentOf(dir)); !synced.ok()) return synced;
    }
  } else if (errno != EEXIST) {
    return ErrnoError("cannot make", dir, errno);
  }
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0) return ErrnoError("cannot stat", dir, errno);
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  return JobFiles(std::move(dir), sync);
}

std::string JobFiles::PathOf(int64_t num, Kind kind) const {
  return absl::StrCat(dir_, "/", num, kind == Kind::kRequest ? kRequestSuffix : kOutputsSuffix);
}

absl::Status JobFiles::Sync(int fd, const std::string& path, bool created) const {
  if (!sync_) return absl::OkStatus();
  if (::fdatasync(fd) != 0) return ErrnoError("cannot sync", path, errno);
  if (created) return SyncDir(dir_);
  return absl::OkStatus();
}

absl::Status JobFiles::WriteRequest(int64_t num,
                                    const std::vector<absl::string_view>& pieces) const {
  const std::string path = PathOf(num, Kind::kRequest);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoError("cannot create", path, errno);
  absl::Status written = WriteAllAt(fd.get(), path, pieces, 0);
  if (written.ok()) written = Sync(fd.get(), path, /*created=*/true);
  if (written.ok() && ::close(fd.Release()) != 0) written = ErrnoError("cannot write", path, errno);
  if (!written.ok()) ::unlink(path.c_str());
  return written;
}

absl::StatusOr<std::string> JobFiles::ReadRequest(int64_t num, uint64_t size) const {
  const std::string path = PathOf(num, Kind::kRequest);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat("no file ", path));
    return ErrnoError("cannot open", path, error);
  }
  struct stat info;
  if (::fstat(fd.get(), &info) != 0) return ErrnoError("cannot stat", path, errno);
  if (static_cast<uint64_t>(info.st_size) != size) {
    return absl::DataLossError(absl::StrCat(path, " has ", info.st_size, " bytes, not ", size));
  }
  std::string bytes(size, '\0');
  if (absl::Status read = ReadAllAt(fd.get(), path, bytes.data(), size, 0); !read.ok()) {
    return read;
  }
  return bytes;
}

absl::StatusOr<uint64_t> JobFiles::AppendOutputs(
    int64_t num, const std::vector<absl::string_view>& pieces) const {
  const std::string path = PathOf(num, Kind::kOutputs);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoError("cannot open", path, errno);
  struct stat info;
  if (::fstat(fd.get(), &info) != 0) return ErrnoError("cannot stat", path, errno);
  const uint64_t offset = static_cast<uint64_t>(info.st_size);
  absl::Status written = WriteAllAt(fd.get(), path, pieces, offset);
  if (written.ok()) written = Sync(fd.get(), path, /*created=*/offset == 0);
  if (!written.ok()) {
    if (::ftruncate(fd.get(), static_cast<off_t>(offset)) != 0) {
      // Never referred to: harmless.
    }
    return written;
  }
  return offset;
}

void JobFiles::TruncateOutputs(int64_t num, uint64_t size) const {
  if (::truncate(PathOf(num, Kind::kOutputs).c_str(), static_cast<off_t>(size)) != 0) {
    // Never referred to: harmless.
  }
}

JobFiles::OutputsReader::~OutputsReader() {
  if (fd_ >= 0) ::close(fd_);
}

absl::StatusOr<std::string> JobFiles::OutputsReader::Read(uint64_t offset, uint64_t size) const {
  // Checked before allocating: a damaged row may name any range.
  if (offset > kMaxOffset || size > kMaxOffset - offset) {
    return absl::DataLossError(absl::StrCat(path_, " has no bytes ", offset, " + ", size));
  }
  if (offset + size > known_size_) {
    struct stat info;
    if (::fstat(fd_, &info) != 0) return ErrnoError("cannot stat", path_, errno);
    known_size_ = static_cast<uint64_t>(info.st_size);
    if (offset + size > known_size_) {
      return absl::DataLossError(absl::StrCat(path_, " ends before byte ", offset + size));
    }
  }
  std::string bytes(size, '\0');
  if (absl::Status read = ReadAllAt(fd_, path_, bytes.data(), size, offset); !read.ok()) {
    return read;
  }
  return bytes;
}

absl::StatusOr<JobFiles::OutputsReader> JobFiles::ReadOutputs(int64_t num) const {
  std::string path = PathOf(num, Kind::kOutputs);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return absl::NotFoundError(absl::StrCat("no file ", path));
    return ErrnoError("cannot open", path, error);
  }
  return OutputsReader(std::move(path), fd);
}

uint64_t JobFiles::Remove(int64_t num) const {
  uint64_t bytes = 0;
  for (const Kind kind : {Kind::kRequest, Kind::kOutputs}) {
    const std::string path = PathOf(num, kind);
    struct stat info;
    if (::stat(path.c_str(), &info) != 0) continue;
    if (::unlink(path.c_str()) == 0) bytes += static_cast<uint64_t>(info.st_size);
  }
  return bytes;
}

absl::StatusOr<std::vector<std::string>> JobFiles::ListNames() const {
  DIR* listing = ::opendir(dir_.c_str());
  if (listing == nullptr) return ErrnoError("cannot list", dir_, errno);
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(listing)) {
    const absl::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  ::closedir(listing);
  return names;
}

bool JobFiles::ParseName(absl::string_view name, int64_t* num) {
  if (!absl::ConsumeSuffix(&name, kRequestSuffix) && !absl::ConsumeSuffix(&name, kOutputsSuffix)) {
    return false;
  }
  if (name.empty() || name.size() > 18 || name[0] == '0') return false;
  for (const char c : name) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(name, num);
}

uint64_t JobFiles::SizeOfName(const std::string& name) const {
  struct stat info;
  if (::stat(absl::StrCat(dir_, "/", name).c_str(), &info) != 0) return 0;
  return static_cast<uint64_t>(info.st_size);
}

void JobFiles::RemoveName(const std::string& name) const {
  ::unlink(absl::StrCat(dir_, "/", name).c_str());
}

}  // namespace pprocd
