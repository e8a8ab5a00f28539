// The job manager's public calls, as the job thread runs them.
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_manager_internal.h"

namespace pprocd {

absl::StatusOr<JobManager::Submitted> JobManager::DoSubmit(
    JobRecord record, std::shared_ptr<v1::SubmitRequest> request,
    std::shared_ptr<const InputBlock> packed_inputs) {
  const std::string callable = record.callable;
  const std::string key = record.idempotency_key;
  const std::string inputs_digest = record.inputs_digest;
  const std::string settings_digest = record.settings_digest;
  // Stamped by the manager's clock, as the job's start and end are.
  record.create_micros = NowMicros();
  absl::StatusOr<JobStore::Created> created =
      store_->CreateJob(std::move(record), JobStore::RequestFileWrite::kAfterCommit);
  if (!created.ok()) return created.status();
  JobRecord& job = created->job;
  if (!created->existing) {
    LogJobState(job);
    Submitted submitted{ToProto(job), /*existing=*/false};
    if (!created->request_file_pending) {
      // Started once the call is answered (or by the next start, if
      // stopping).
      Post([this, id = job.id, request, packed_inputs] {
        StartAttempt(id, request, packed_inputs);
      });
      return submitted;
    }
    // A large request: the job starts now and runs while its request file
    // is written (its inputs are in memory); the Submit is answered once
    // the file is. Its results wait for this thread meanwhile.
    StartAttempt(job.id, request, packed_inputs);
    FeedInputsAhead(job.id);
    if (absl::Status written = store_->WriteRequestFile(job); !written.ok()) {
      // Nobody is told of this job: it goes.
      CancelRun(job.id);
      if (absl::Status deleted = store_->DeleteJob(job.id); !deleted.ok()) {
        LogError(
            "a job whose request could not be stored cannot be deleted; the next start "
            "removes it",
            {{"job", job.id}, {"error", deleted.ToString()}});
      }
      Removed(job.id);
      return written;
    }
    return submitted;
  }
  // The key was used before: only for this same request. (Jobs stored
  // before digests were kept are compared by callable only.)
  const std::string used = absl::StrCat("idempotency_key ", Quote(key), " was used for a job");
  if (job.callable != callable) {
    return absl::FailedPreconditionError(absl::StrCat(used, " of callable ", Quote(job.callable),
                                                      "; this request names ", Quote(callable)));
  }
  if (!job.inputs_digest.empty() && job.inputs_digest != inputs_digest) {
    return absl::FailedPreconditionError(
        absl::StrCat(used, " with different inputs (job ", job.id, ")"));
  }
  if (!job.settings_digest.empty() && job.settings_digest != settings_digest) {
    return absl::FailedPreconditionError(
        absl::StrCat(used, " with different options (job ", job.id, ")"));
  }
  Overlay(job);
  return Submitted{ToProto(job), /*existing=*/true};
}

absl::StatusOr<JobRecord> JobManager::DoFind(const Caller& caller, const std::string& id_or_name,
                                             bool with_request) {
  if (id_or_name.empty()) return absl::InvalidArgumentError("job: name a job by its id or name");
  absl::StatusOr<JobRecord> record = store_->FindJobByName(caller.uid, id_or_name, with_request);
  if (!record.ok() && absl::IsNotFound(record.status())) {
    record = store_->GetJob(id_or_name, with_request);
  }
  if (!record.ok()) {
    if (absl::IsNotFound(record.status())) {
      return absl::NotFoundError(absl::StrCat("no job ", Quote(id_or_name)));
    }
    return record.status();
  }
  if (!caller.admin && record->owner_uid != caller.uid) {
    return absl::PermissionDeniedError(
        absl::StrCat("job ", Quote(id_or_name), " belongs to another user"));
  }
  Overlay(*record);
  return record;
}

absl::StatusOr<v1::ListJobsResponse> JobManager::DoList(const Caller& caller,
                                                        const v1::ListJobsRequest& request) {
  JobFilter filter;
  if (!caller.admin) filter.owner_uid = caller.uid;
  if (request.state() != v1::JOB_STATE_UNSPECIFIED) {
    filter.state = static_cast<JobState>(request.state());
  }
  if (!request.name().empty()) filter.name = request.name();
  if (request.page_size() > 1000) {
    return absl::InvalidArgumentError("page_size: at most 1000");
  }
  absl::StatusOr<JobStore::Page> page =
      store_->ListJobs(filter, static_cast<int>(request.page_size()), request.page_token());
  if (!page.ok()) return page.status();
  v1::ListJobsResponse response;
  for (JobRecord& record : page->jobs) {
    Overlay(record);
    *response.add_jobs() = ToProto(record);
  }
  response.set_next_page_token(page->next_page_token);
  return response;
}

absl::StatusOr<v1::Job> JobManager::DoCancel(const Caller& caller, const std::string& id_or_name) {
  absl::StatusOr<JobRecord> record = DoFind(caller, id_or_name, /*with_request=*/false);
  if (!record.ok()) return record.status();
  if (!IsFinished(record->state)) {
    CancelRun(record->id);
    record = store_->GetJob(record->id, /*with_request=*/false);
    if (!record.ok()) return record.status();
    Overlay(*record);
  }
  return ToProto(*record);
}

absl::Status JobManager::DoDelete(const Caller& caller, const std::string& id_or_name) {
  absl::StatusOr<JobRecord> record = DoFind(caller, id_or_name, /*with_request=*/false);
  if (!record.ok()) return record.status();
  if (!IsFinished(record->state)) {
    return absl::FailedPreconditionError(absl::StrCat("job ", Quote(id_or_name), " is ",
                                                      JobStateName(record->state),
                                                      ": cancel it before deleting it"));
  }
  absl::Status deleted = store_->DeleteJob(record->id);
  if (deleted.ok()) Removed(record->id);
  return deleted;
}

void JobManager::Overlay(JobRecord& record) {
  absl::MutexLock lock(&unsaved_mu_);
  auto found = unsaved_.find(record.id);
  if (found == unsaved_.end()) return;
  std::string request = std::move(record.request);
  record = found->second.record;
  record.request = std::move(request);
  // Its state output comes next (ReadOutputs).
  record.last_seq = found->second.record.last_seq + 1;
}

void JobManager::Removed(const std::string& job_id) {
  recent_.Drop(job_id);
  {
    absl::MutexLock lock(&unsaved_mu_);
    unsaved_.erase(job_id);
  }
  if (options_.on_removed) options_.on_removed(job_id);
}

void JobManager::PruneNowAndLater() {
  absl::StatusOr<std::vector<std::string>> pruned = store_->PruneFinished(options_.clock->Now());
  if (!pruned.ok()) LogError("cannot prune ended jobs", {{"error", pruned.status().ToString()}});
  if (pruned.ok()) {
    for (const std::string& id : *pruned) Removed(id);
  }
  After(options_.prune_every, [this] { PruneNowAndLater(); });
}

}  // namespace pprocd
