// JobSockets: the UNIX socket files that jobs ask for
// (SubmitRequest.socket_path, pprocess's task.socket). Each is served by a
// UnixListener of its own, owned by the job's owner with mode 0600, and
// tags its connections with the job, so that Reconnect with no job named
// attaches to it. A socket lasts until its job is deleted (or pruned) or the
// server stops; a restarted server makes the sockets of its stored jobs
// again (ReopenJobSockets). Thread-safe.
//
// The path is the caller's choice, and they may swap any directory on it for
// a symlink between two system calls, so no check holds for long. Every
// file-system action on a job socket (the checks, the bind, the removal) is
// therefore done with the job owner's file-system identity (RunAs): whatever
// the path leads to by then, the server does only what the owner could have
// done. A socket is removed only while the path still leads to the file the
// server made. A server that is not root cannot take another user's
// identity: it makes sockets only for callers of its own uid.
#ifndef PPROCD_SERVER_FRONT_JOB_SOCKETS_H_
#define PPROCD_SERVER_FRONT_JOB_SOCKETS_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/fs_identity/fs_identity.h"
#include "server/jobs/job_manager.h"
#include "server/peer/caller_identity.h"
#include "server/peer/unix_listener.h"

namespace pprocd {

class JobSockets {
 public:
  // `peers` must outlive this.
  explicit JobSockets(PeerRegistry* peers) : peers_(peers) {}

  // The server the sockets' connections go to; before any Open().
  void SetServer(grpc::Server* server) ABSL_LOCKS_EXCLUDED(mu_);

  // Whether `owner` may have a socket made at `path`: an absolute path
  // whose file does not exist yet, in a directory `owner` may write to, as
  // the owner sees it now. INVALID_ARGUMENT / ALREADY_EXISTS /
  // PERMISSION_DENIED naming socket_path. An early answer only: Open() does
  // not rely on it.
  static absl::Status Check(const std::string& path, const CallerIdentity& owner);

  // Makes the socket of `job` at `path`, as `owner`, and starts serving it.
  absl::Status Open(const std::string& job, const std::string& path, const CallerIdentity& owner);
  // Open() for a job a previous server made a socket for: a socket file
  // left at `path` by that server (a socket owned by `owner_uid`) is
  // replaced, as that user; any other file there is FAILED_PRECONDITION,
  // and stays.
  absl::Status Reopen(const std::string& job, const std::string& path, uid_t owner_uid);
  // Stops serving the job's socket and removes its file (if it has one).
  void Close(const std::string& job) ABSL_LOCKS_EXCLUDED(mu_);
  // Close() for every job's socket.
  void CloseAll() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  absl::Status Serve(const std::string& job, const std::string& path, FsIdentity owner)
      ABSL_LOCKS_EXCLUDED(mu_);

  PeerRegistry* const peers_;
  absl::Mutex mu_;
  grpc::Server* server_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::map<std::string, std::unique_ptr<UnixListener>> by_job_ ABSL_GUARDED_BY(mu_);
};

// Makes again the sockets of the jobs in `jobs`' store that have one (at
// start, once `sockets` has its server); a socket that cannot be made is
// reported on stderr and the others go on.
void ReopenJobSockets(JobManager& jobs, JobSockets& sockets);

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_JOB_SOCKETS_H_
