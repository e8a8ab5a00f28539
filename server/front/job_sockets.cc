#include "server/front/job_sockets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "base/status_macros.h"

namespace pprocd {
namespace {

// The identity the sockets of user `uid`'s jobs are made and removed with.
absl::StatusOr<FsIdentity> OwnerIdentity(uid_t uid) {
  absl::StatusOr<FsIdentity> identity = FsIdentity::OfUser(uid);
  if (!identity.ok()) {
    return absl::Status(identity.status().code(),
                        absl::StrCat("socket_path: ", identity.status().message()));
  }
  return identity;
}

// Whether the calling thread may create files in `dir`, as the kernel judges
// its file-system identity (faccessat2 with AT_EACCESS; glibc would emulate
// it with the process's ids on a kernel without faccessat2). True when the
// kernel cannot tell: bind() judges then.
bool MayCreateIn(const std::string& dir) {
#ifdef SYS_faccessat2
  if (syscall(SYS_faccessat2, AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) == 0) return true;
  return errno == ENOSYS;
#else
  (void)dir;
  return true;
#endif
}

}  // namespace

void JobSockets::SetServer(grpc::Server* server) {
  absl::MutexLock lock(&mu_);
  server_ = server;
}

absl::Status JobSockets::Check(const std::string& path, const CallerIdentity& owner) {
  if (!owner.known) {
    return absl::PermissionDeniedError(
        "socket_path: only a caller on a UNIX socket (of a known user) may ask for one");
  }
  if (path.empty() || path.front() != '/') {
    return absl::InvalidArgumentError("socket_path: must be an absolute path");
  }
  if (path.size() >= 100) return absl::InvalidArgumentError("socket_path: too long");
  PPROCD_ASSIGN_OR_RETURN(FsIdentity as, OwnerIdentity(owner.uid));
  const std::string dir = path.substr(0, std::max<size_t>(1, path.rfind('/')));
  return RunAs(as, 0077, [&]() -> absl::Status {
    struct stat info;
    const int found = lstat(path.c_str(), &info);
    const int error = errno;
    if (found == 0) {
      return absl::AlreadyExistsError(absl::StrCat("socket_path: ", path, " already exists"));
    }
    if (error == EACCES) {
      return absl::PermissionDeniedError(absl::StrCat("socket_path: you may not look in ", dir));
    }
    if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("socket_path: no directory ", dir));
    }
    if (!MayCreateIn(dir)) {
      return absl::PermissionDeniedError(
          absl::StrCat("socket_path: you may not create files in ", dir));
    }
    return absl::OkStatus();
  });
}

absl::Status JobSockets::Open(const std::string& job, const std::string& path,
                              const CallerIdentity& owner) {
  PPROCD_ASSIGN_OR_RETURN(FsIdentity as, OwnerIdentity(owner.uid));
  return Serve(job, path, std::move(as));
}

absl::Status JobSockets::Reopen(const std::string& job, const std::string& path, uid_t owner_uid) {
  PPROCD_ASSIGN_OR_RETURN(FsIdentity as, OwnerIdentity(owner_uid));
  PPROCD_RETURN_IF_ERROR(RunAs(as, 0077, [&]() -> absl::Status {
    struct stat info;
    if (lstat(path.c_str(), &info) != 0) {
      const int error = errno;
      if (error == ENOENT) return absl::OkStatus();
      return ErrnoStatus(error, absl::StrCat("socket_path: stat ", path));
    }
    if (!S_ISSOCK(info.st_mode) || info.st_uid != owner_uid) {
      return absl::FailedPreconditionError(
          absl::StrCat("socket_path: ", path, " is taken by a file that is not the job's socket"));
    }
    // Left by a server that was killed.
    if (unlink(path.c_str()) != 0) {
      return ErrnoStatus(errno, absl::StrCat("socket_path: remove the old socket ", path));
    }
    return absl::OkStatus();
  }));
  return Serve(job, path, std::move(as));
}

absl::Status JobSockets::Serve(const std::string& job, const std::string& path, FsIdentity owner) {
  BindOptions options;
  options.mode = 0600;
  options.as = std::move(owner);
  options.job = job;
  absl::StatusOr<std::unique_ptr<UnixListener>> listener =
      UnixListener::Bind(path, peers_, options);
  if (!listener.ok()) {
    return absl::Status(listener.status().code(),
                        absl::StrCat("socket_path: ", listener.status().message()));
  }
  absl::MutexLock lock(&mu_);
  if (server_ == nullptr) return absl::UnavailableError("the server is not serving yet");
  if (absl::Status started = (*listener)->Start(server_); !started.ok()) return started;
  by_job_[job] = *std::move(listener);
  return absl::OkStatus();
}

void JobSockets::Close(const std::string& job) {
  std::unique_ptr<UnixListener> listener;
  {
    absl::MutexLock lock(&mu_);
    auto found = by_job_.find(job);
    if (found == by_job_.end()) return;
    listener = std::move(found->second);
    by_job_.erase(found);
  }
  listener->Stop();
}

void JobSockets::CloseAll() {
  std::map<std::string, std::unique_ptr<UnixListener>> all;
  {
    absl::MutexLock lock(&mu_);
    all.swap(by_job_);
  }
  for (auto& [job, listener] : all) listener->Stop();
}

void ReopenJobSockets(JobManager& jobs, JobSockets& sockets) {
  absl::StatusOr<std::vector<JobRecord>> with_sockets = jobs.store().JobsWithSockets();
  if (!with_sockets.ok()) {
    LogError("cannot list the jobs' sockets", {{"error", with_sockets.status().ToString()}});
    return;
  }
  for (const JobRecord& job : *with_sockets) {
    const absl::Status reopened =
        sockets.Reopen(job.id, job.socket_path, static_cast<uid_t>(job.owner_uid));
    if (!reopened.ok()) {
      // The message names the job: tests and operators grep for it.
      LogWarn(absl::StrCat("job ", job.id, ": its socket is not served"),
              {{"job", job.id}, {"socket", job.socket_path}, {"error", reopened.message()}});
    }
  }
}

}  // namespace pprocd
