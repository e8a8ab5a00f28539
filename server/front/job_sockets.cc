#include "server/front/job_sockets.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace pprocd {

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
  struct stat info;
  if (lstat(path.c_str(), &info) == 0) {
    return absl::AlreadyExistsError(absl::StrCat("socket_path: ", path, " already exists"));
  }
  const std::string dir = path.substr(0, std::max<size_t>(1, path.rfind('/')));
  if (stat(dir.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("socket_path: no directory ", dir));
  }
  // The owner's own write permission on the directory, as the kernel would
  // judge it for them.
  const bool writable =
      owner.uid == 0 || (info.st_uid == owner.uid && (info.st_mode & S_IWUSR) != 0) ||
      (info.st_gid == owner.gid && (info.st_mode & S_IWGRP) != 0) || (info.st_mode & S_IWOTH) != 0;
  if (!writable) {
    return absl::PermissionDeniedError(
        absl::StrCat("socket_path: you may not create files in ", dir));
  }
  return absl::OkStatus();
}

absl::Status JobSockets::Open(const std::string& job, const std::string& path,
                              const CallerIdentity& owner) {
  BindOptions options;
  options.owner_uid = owner.uid;
  options.owner_gid = owner.gid;
  return Serve(job, path, options);
}

absl::Status JobSockets::Reopen(const std::string& job, const std::string& path, uid_t owner_uid) {
  struct stat info;
  if (lstat(path.c_str(), &info) == 0) {
    if (!S_ISSOCK(info.st_mode) || info.st_uid != owner_uid) {
      return absl::FailedPreconditionError(
          absl::StrCat("socket_path: ", path, " is taken by a file that is not the job's socket"));
    }
    unlink(path.c_str());  // Left by a server that was killed.
  }
  BindOptions options;
  options.owner_uid = owner_uid;
  return Serve(job, path, options);
}

absl::Status JobSockets::Serve(const std::string& job, const std::string& path,
                               const BindOptions& bind_options) {
  BindOptions options = bind_options;
  options.mode = 0600;
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
    std::fprintf(stderr, "pprocd: cannot list the jobs' sockets: %s\n",
                 with_sockets.status().ToString().c_str());
    return;
  }
  for (const JobRecord& job : *with_sockets) {
    const absl::Status reopened =
        sockets.Reopen(job.id, job.socket_path, static_cast<uid_t>(job.owner_uid));
    if (!reopened.ok()) {
      std::fprintf(stderr, "pprocd: job %s: its socket is not served: %s\n", job.id.c_str(),
                   std::string(reopened.message()).c_str());
    }
  }
}

}  // namespace pprocd
