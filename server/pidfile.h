// The pidfile: STATE_DIR/pprocd.pid, the mark of the one live server that
// uses a state directory, and where `pproc reload` finds the server.
//
// The server holds a POSIX record lock (fcntl F_SETLK) on the file for its
// whole life. Such a lock belongs to the server process alone: the template
// and the workers it forks do not inherit it, and the kernel drops it when
// the server dies, however it dies. So a second server refuses the state
// directory while the first lives, takes over a pidfile a killed server
// left, and a reader tells a live server's pidfile from a stale one by the
// lock, not by a pid that may since have been reused.
//
// The file is empty until the server is ready (Publish); then it holds the
// server's pid and a newline, renamed into place whole, so a reader never
// sees part of it. It is removed when the Pidfile is destroyed.
//
// Thread-safety: a Pidfile is used by one thread at a time; ReadServerPid()
// from any thread.
#ifndef PPROCD_SERVER_PIDFILE_H_
#define PPROCD_SERVER_PIDFILE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace pprocd {

inline constexpr char kPidfileName[] = "pprocd.pid";

class Pidfile {
 public:
  // Takes STATE_DIR/pprocd.pid (creating it, or emptying a stale one) for
  // this process. FailedPrecondition naming the holder's pid when another
  // live process holds it; another error when the file cannot be made or
  // locked. `state_dir` must exist.
  static absl::StatusOr<Pidfile> Acquire(const std::string& state_dir);

  Pidfile(Pidfile&&) = default;
  Pidfile& operator=(Pidfile&&) = default;
  // Removes the file (when it is still this process's) and releases it.
  ~Pidfile();

  // Writes this process's pid into the file: a complete file renamed over
  // it, locked before it is visible.
  absl::Status Publish();

  const std::string& path() const { return path_; }

 private:
  Pidfile(UniqueFd dir, UniqueFd file, std::string path)
      : dir_(std::move(dir)), file_(std::move(file)), path_(std::move(path)) {}

  UniqueFd dir_;   // The state directory.
  UniqueFd file_;  // The locked pidfile; invalid once moved from.
  std::string path_;
};

// The pid of the live server whose pidfile is in `state_dir`: the process
// that holds its lock. NotFound without a pidfile (no server has run there,
// or the last one stopped cleanly); FailedPrecondition for a stale one (its
// server died) and for a server still starting (its pidfile is empty: it
// does not take signals yet); PermissionDenied when the file is not
// readable by this user.
absl::StatusOr<pid_t> ReadServerPid(const std::string& state_dir);

}  // namespace pprocd

#endif  // PPROCD_SERVER_PIDFILE_H_
