#include "server/pidfile.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace pprocd {
namespace {

// How often Acquire() opens the file again when it was replaced between
// the open and the lock (another server publishing or removing it).
constexpr int kAcquireAttempts = 100;

struct flock WholeFile(short type) {
  struct flock lock {};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;
  return lock;
}

// The pid of the process that holds a lock on the file of `fd`: 0 when it
// is in another pid namespace, -1 when nobody holds one.
absl::StatusOr<pid_t> LockHolder(int fd, const std::string& path) {
  struct flock probe = WholeFile(F_WRLCK);
  if (::fcntl(fd, F_GETLK, &probe) != 0) return ErrnoStatus(errno, "test the lock of " + path);
  return probe.l_type == F_UNLCK ? -1 : probe.l_pid;
}

// Locks the file of `fd` for this process: true when locked, false when
// another process holds it.
absl::StatusOr<bool> TryLock(int fd, const std::string& path) {
  struct flock lock = WholeFile(F_WRLCK);
  if (::fcntl(fd, F_SETLK, &lock) == 0) return true;
  const int error = errno;
  if (error == EACCES || error == EAGAIN) return false;
  return ErrnoStatus(error, "lock " + path);
}

// True when `name` in `dir` is still the file open as `fd`.
bool StillNamed(int dir, const char* name, int fd) {
  struct stat open_file;
  struct stat named;
  return ::fstat(fd, &open_file) == 0 && ::fstatat(dir, name, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
         open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

std::string HolderText(pid_t holder) {
  return holder > 0 ? absl::StrCat(" (pid ", holder, ")") : std::string();
}

}  // namespace

absl::StatusOr<Pidfile> Pidfile::Acquire(const std::string& state_dir) {
  const std::string path = absl::StrCat(state_dir, "/", kPidfileName);
  UniqueFd dir(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return ErrnoStatus(errno, "open --state-dir " + state_dir);
  for (int attempt = 0; attempt < kAcquireAttempts; ++attempt) {
    UniqueFd file(
        ::openat(dir.get(), kPidfileName, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!file.valid()) return ErrnoStatus(errno, "open " + path);
    PPROCD_ASSIGN_OR_RETURN(const bool locked, TryLock(file.get(), path));
    if (!locked) {
      absl::StatusOr<pid_t> holder = LockHolder(file.get(), path);
      return absl::FailedPreconditionError(
          absl::StrCat("another pprocd", HolderText(holder.ok() ? *holder : 0),
                       " is running with --state-dir ", state_dir, ": it holds ", path));
    }
    // Locked, but maybe a file that was renamed over or removed since the
    // open: then the lock guards nothing.
    if (!StillNamed(dir.get(), kPidfileName, file.get())) continue;
    // A stale pid must not be read as this server's before it is ready.
    if (::ftruncate(file.get(), 0) != 0) return ErrnoStatus(errno, "empty " + path);
    return Pidfile(std::move(dir), std::move(file), path);
  }
  return absl::UnavailableError(absl::StrCat(path, " kept being replaced while it was locked"));
}

Pidfile::~Pidfile() {
  if (!file_.valid()) return;
  // Removed while still locked, so a server starting now sees either this
  // locked file or none.
  if (StillNamed(dir_.get(), kPidfileName, file_.get())) {
    ::unlinkat(dir_.get(), kPidfileName, 0);
  }
}

absl::Status Pidfile::Publish() {
  const std::string temporary = absl::StrCat(kPidfileName, ".", ::getpid(), ".tmp");
  ::unlinkat(dir_.get(), temporary.c_str(), 0);  // Left by a crash, if any.
  UniqueFd fresh(::openat(dir_.get(), temporary.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fresh.valid()) return ErrnoStatus(errno, "create " + path_ + " anew");
  const auto discard = [this, &temporary](const absl::Status& why) {
    ::unlinkat(dir_.get(), temporary.c_str(), 0);
    return why;
  };
  // Locked before the rename: the file is never named and unlocked.
  absl::StatusOr<bool> locked = TryLock(fresh.get(), path_);
  if (!locked.ok()) return discard(locked.status());
  if (!*locked) return discard(absl::InternalError("a new pidfile was locked by another process"));
  const std::string content = absl::StrCat(::getpid(), "\n");
  const ssize_t written = ::write(fresh.get(), content.data(), content.size());
  if (written != static_cast<ssize_t>(content.size())) {
    return discard(ErrnoStatus(written < 0 ? errno : ENOSPC, "write " + path_));
  }
  if (::renameat(dir_.get(), temporary.c_str(), dir_.get(), kPidfileName) != 0) {
    return discard(ErrnoStatus(errno, "rename a new " + path_ + " into place"));
  }
  // Closing the replaced file drops its lock; no name leads to it any more.
  file_ = std::move(fresh);
  return absl::OkStatus();
}

absl::StatusOr<pid_t> ReadServerPid(const std::string& state_dir) {
  const std::string path = absl::StrCat(state_dir, "/", kPidfileName);
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!file.valid()) {
    const int error = errno;
    if (error == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("no ", path, ": no pprocd is running with --state-dir ", state_dir));
    }
    return ErrnoStatus(error, "open " + path);
  }
  PPROCD_ASSIGN_OR_RETURN(const pid_t holder, LockHolder(file.get(), path));
  char buffer[32];
  const ssize_t n = ::read(file.get(), buffer, sizeof(buffer) - 1);
  if (n < 0) return ErrnoStatus(errno, "read " + path);
  const absl::string_view text = absl::StripAsciiWhitespace(absl::string_view(buffer, n));
  int written_pid = 0;
  const bool has_pid = absl::SimpleAtoi(text, &written_pid) && written_pid > 0;
  if (holder < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("stale ", path, HolderText(has_pid ? written_pid : 0),
                     ": the server that wrote it is no longer running"));
  }
  if (!has_pid) {
    return absl::FailedPreconditionError(
        absl::StrCat("pprocd", HolderText(holder), " with --state-dir ", state_dir,
                     " is still starting; try again once it is ready"));
  }
  // The lock names the live server; the pid written is the fallback when
  // the lock's holder is not visible from here (another pid namespace).
  return holder > 0 ? holder : static_cast<pid_t>(written_pid);
}

}  // namespace pprocd
