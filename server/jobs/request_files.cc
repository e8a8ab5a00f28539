#include "server/jobs/request_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "worker/base/unique_fd.h"

namespace pprocd {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path, int error) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
}

absl::Status SyncPath(const std::string& path) {
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

}  // namespace

absl::StatusOr<RequestFiles> RequestFiles::Open(std::string dir, bool sync) {
  if (::mkdir(dir.c_str(), 0700) == 0) {
    if (sync) {
      if (absl::Status synced = SyncPath(ParentOf(dir)); !synced.ok()) return synced;
    }
  } else if (errno != EEXIST) {
    return ErrnoError("cannot make", dir, errno);
  }
  struct stat info;
  if (::stat(dir.c_str(), &info) != 0) return ErrnoError("cannot stat", dir, errno);
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " is not a directory"));
  }
  return RequestFiles(std::move(dir), sync);
}

std::string RequestFiles::PathOf(int64_t num) const { return absl::StrCat(dir_, "/", num); }

absl::Status RequestFiles::Write(int64_t num, absl::string_view bytes) const {
  const std::string path = PathOf(num);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return ErrnoError("cannot create", path, errno);
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd.get(), bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::unlink(path.c_str());
      return ErrnoError("cannot write", path, error);
    }
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  if (sync_) {
    if (::fdatasync(fd.get()) != 0) {
      const int error = errno;
      ::unlink(path.c_str());
      return ErrnoError("cannot sync", path, error);
    }
    if (absl::Status synced = SyncPath(dir_); !synced.ok()) {
      ::unlink(path.c_str());
      return synced;
    }
  }
  if (::close(fd.Release()) != 0) {
    const int error = errno;
    ::unlink(path.c_str());
    return ErrnoError("cannot write", path, error);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RequestFiles::Read(int64_t num, uint64_t size) const {
  const std::string path = PathOf(num);
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
  size_t done = 0;
  while (done < size) {
    const ssize_t got = ::read(fd.get(), bytes.data() + done, size - done);
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot read", path, errno);
    }
    if (got == 0) return absl::DataLossError(absl::StrCat(path, " ended early"));
    done += static_cast<size_t>(got);
  }
  return bytes;
}

void RequestFiles::Remove(int64_t num) const { ::unlink(PathOf(num).c_str()); }

absl::StatusOr<std::vector<std::string>> RequestFiles::ListNames() const {
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

bool RequestFiles::ParseName(absl::string_view name, int64_t* num) {
  if (name.empty() || name.size() > 18 || name[0] == '0') return false;
  for (const char c : name) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return absl::SimpleAtoi(name, num);
}

void RequestFiles::RemoveName(const std::string& name) const {
  ::unlink(absl::StrCat(dir_, "/", name).c_str());
}

}  // namespace pprocd
