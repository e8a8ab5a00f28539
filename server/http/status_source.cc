#include "server/http/status_source.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <future>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "server/metrics/server_metrics.h"

namespace pprocd {
namespace {

constexpr absl::Duration kTimeout = absl::Seconds(5);

// Waits for a value an asynchronous call gives to its callback.
template <typename T>
absl::StatusOr<T> Await(std::future<absl::StatusOr<T>>& future, absl::Duration timeout) {
  if (future.wait_for(absl::ToChronoSeconds(timeout) + std::chrono::seconds(0)) !=
      std::future_status::ready) {
    return absl::DeadlineExceededError("the server did not answer in time");
  }
  return future.get();
}

uint64_t FileBytes(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 ? static_cast<uint64_t>(info.st_size) : 0;
}

// The sizes of the regular files directly in directory `path` (0 when
// there is none): no lock of the store is taken.
uint64_t DirectoryBytes(const std::string& path) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return 0;
  uint64_t total = 0;
  while (const dirent* entry = readdir(dir)) {
    struct stat info;
    if (fstatat(dirfd(dir), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
        S_ISREG(info.st_mode)) {
      total += static_cast<uint64_t>(info.st_size);
    }
  }
  closedir(dir);
  return total;
}

}  // namespace

StatusSource::StatusSource(Scheduler* scheduler, JobManager* jobs, std::string job_store_path)
    : scheduler_(scheduler), jobs_(jobs), job_store_path_(std::move(job_store_path)) {}

absl::StatusOr<v1::GetStatusResponse> StatusSource::Status(absl::Duration timeout) const {
  using Answer = absl::StatusOr<v1::GetStatusResponse>;
  auto promise = std::make_shared<std::promise<Answer>>();
  std::future<Answer> future = promise->get_future();
  scheduler_->GetStatus([promise](Answer answer) { promise->set_value(std::move(answer)); });
  return Await(future, timeout);
}

absl::StatusOr<v1::ListJobsResponse> StatusSource::RecentJobs(uint32_t count,
                                                              absl::Duration timeout) const {
  using Answer = absl::StatusOr<v1::ListJobsResponse>;
  auto promise = std::make_shared<std::promise<Answer>>();
  std::future<Answer> future = promise->get_future();
  v1::ListJobsRequest request;
  request.set_page_size(count);
  Caller everyone;
  everyone.admin = true;
  jobs_->ListAsync(everyone, std::move(request),
                   [promise](Answer answer) { promise->set_value(std::move(answer)); });
  return Await(future, timeout);
}

absl::StatusOr<std::string> StatusSource::MetricsText() const {
  absl::StatusOr<v1::GetStatusResponse> status = Status(kTimeout);
  if (!status.ok()) return status.status();
  std::string out;
  ServerMetrics::Get().Render(&out);
  AppendGauge(&out, "pprocd_items_queued", "Items accepted and not yet running, over all calls", {},
              {{{}, static_cast<double>(status->items_queued())}});
  AppendGauge(&out, "pprocd_items_running", "Items running now", {},
              {{{}, static_cast<double>(status->items_running())}});
  AppendGauge(&out, "pprocd_workers", "Worker processes by state", {"state"},
              {{{"idle"}, static_cast<double>(status->workers_idle())},
               {{"busy"}, static_cast<double>(status->workers_busy())},
               {{"starting"}, static_cast<double>(status->workers_starting())}});
  AppendGauge(&out, "pprocd_workers_configured", "Size of the worker pool", {},
              {{{}, static_cast<double>(status->workers_configured())}});
  AppendGauge(&out, "pprocd_calls_active", "Calls (Map, Queue, Start, jobs' calls) open now", {},
              {{{}, static_cast<double>(status->calls_active())}});
  AppendGauge(&out, "pprocd_uptime_seconds", "Time since the server started", {},
              {{{}, status->uptime_ms() / 1000.0}});
  AppendGauge(&out, "pprocd_callable_reloads", "Reloads of the callables that took effect", {},
              {{{}, static_cast<double>(status->callable_reloads())}});
  absl::StatusOr<std::map<JobState, uint64_t>> jobs = jobs_->store().CountByState();
  if (jobs.ok()) {
    std::vector<GaugeSample> samples;
    for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kSucceeded,
                           JobState::kFailed, JobState::kCancelled, JobState::kInterrupted}) {
      auto it = jobs->find(state);
      samples.push_back(
          {{JobStateName(state)}, it == jobs->end() ? 0.0 : static_cast<double>(it->second)});
    }
    AppendGauge(&out, "pprocd_jobs", "Background jobs in the store, by state", {"state"}, samples);
  }
  AppendGauge(
      &out, "pprocd_job_store_bytes",
      "Size of the job store's files (SQLite database, its write-ahead log, and the files of "
      "large requests and outputs beside it)",
      {},
      {{{},
        static_cast<double>(FileBytes(job_store_path_) + FileBytes(job_store_path_ + "-wal") +
                            DirectoryBytes(job_store_path_ + "-files"))}});
  return out;
}

absl::StatusOr<std::string> StatusSource::StatusJson() const {
  absl::StatusOr<v1::GetStatusResponse> status = Status(kTimeout);
  if (!status.ok()) return status.status();
  absl::StatusOr<v1::ListJobsResponse> jobs = RecentJobs(50, kTimeout);
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string status_json, jobs_json = "[]";
  if (!google::protobuf::util::MessageToJsonString(*status, &status_json, options).ok()) {
    return absl::InternalError("cannot print the status as JSON");
  }
  if (jobs.ok()) {
    jobs_json = "[";
    for (int i = 0; i < jobs->jobs_size(); ++i) {
      std::string job;
      if (!google::protobuf::util::MessageToJsonString(jobs->jobs(i), &job, options).ok()) continue;
      if (jobs_json.size() > 1) jobs_json.push_back(',');
      jobs_json += job;
    }
    jobs_json.push_back(']');
  }
  return absl::StrCat("{\"status\":", status_json, ",\"jobs\":", jobs_json, "}");
}

}  // namespace pprocd
