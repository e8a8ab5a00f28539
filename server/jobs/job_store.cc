#include "server/jobs/job_store.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "base/status_macros.h"
#include "base/unique_fd.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/job_schema.h"

namespace pprocd {
namespace {

// Idle reader connections kept open (more are opened under load).
constexpr size_t kMaxIdleReaders = 8;
// WAL frames (pages) after which a checkpoint starts on the checkpointer's
// thread (16 MiB of 4 KiB pages), and after which the writer checkpoints
// itself (256 MiB).
constexpr int kCheckpointPages = 4096;
constexpr int kInlineCheckpointPages = 65536;
// A batch of state outputs up to this size is never refused for size.
constexpr uint64_t kMaxExemptBytes = 64 << 10;

absl::StatusOr<uint64_t> UsedBytesOf(SqliteDb& db) {
  PPROCD_ASSIGN_OR_RETURN(int64_t pages, db.QueryInt("PRAGMA page_count"));
  PPROCD_ASSIGN_OR_RETURN(int64_t free_pages, db.QueryInt("PRAGMA freelist_count"));
  PPROCD_ASSIGN_OR_RETURN(int64_t page_size, db.QueryInt("PRAGMA page_size"));
  return static_cast<uint64_t>((pages - free_pages) * page_size);
}

// Creates the file, if missing, readable by its owner only: jobs hold users'
// data. SQLite gives the -wal and -shm files the same mode.
absl::Status CreateOwnerOnly(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    const int error = errno;
    return absl::FailedPreconditionError(std::strerror(error));
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT for an output AppendOutputs() does not take.
absl::Status CheckOutputs(const std::vector<NewOutput>& outputs) {
  for (const NewOutput& output : outputs) {
    if (output.payload.size() > kMaxOutputBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "an output of ", output.payload.size(), " bytes is over the limit of ", kMaxOutputBytes));
    }
    if (output.count < 1 || output.count > kMaxOutputCount) {
      return absl::InvalidArgumentError(absl::StrCat("an output's count must be in [1, ",
                                                     kMaxOutputCount, "], not ", output.count));
    }
  }
  return absl::OkStatus();
}

// Removes the files of no job (a crash between writing one and committing
// its job, or between deleting a job and removing its files); returns the
// size of the others, in all.
absl::StatusOr<uint64_t> TakeStockOfFiles(SqliteDb& db, const JobFiles& files) {
  absl::flat_hash_set<int64_t> jobs;
  {
    PPROCD_ASSIGN_OR_RETURN(SqliteStatement list, db.Prepare("SELECT num FROM jobs"));
    while (true) {
      PPROCD_ASSIGN_OR_RETURN(bool found, list.Step());
      if (!found) break;
      jobs.insert(list.ColumnInt(0));
    }
  }
  PPROCD_ASSIGN_OR_RETURN(JobFiles::Stock stock,
                          files.RemoveOrphans([&](int64_t num) { return jobs.contains(num); }));
  if (stock.removed > 0) {
    LogInfo("removed the files of jobs that do not exist",
            {{"dir", files.dir()}, {"files", stock.removed}});
  }
  return stock.kept_bytes;
}

// Deletes job `num`'s rows: its outputs, its request and the job.
absl::Status DeleteJobRows(SqliteDb& db, int64_t num) {
  for (const char* sql :
       {"DELETE FROM outputs WHERE job = ?1", "DELETE FROM job_requests WHERE job = ?1",
        "DELETE FROM jobs WHERE num = ?1"}) {
    PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease statement, db.Cached(sql));
    statement->BindInt(1, num);
    PPROCD_RETURN_IF_ERROR(statement->Run());
  }
  return absl::OkStatus();
}

// Deletes the jobs whose request file was still pending (their Submit was
// never answered: the server stopped while it wrote the file). Their files
// go with the orphans after.
absl::Status RemoveUnansweredJobs(SqliteDb& db) {
  PPROCD_ASSIGN_OR_RETURN(SqliteTransaction transaction, SqliteTransaction::Begin(db, true));
  std::vector<std::pair<int64_t, std::string>> unanswered;
  {
    PPROCD_ASSIGN_OR_RETURN(SqliteStatement list,
                            db.Prepare("SELECT j.num, j.id FROM jobs j JOIN job_requests r"
                                       " ON r.job = j.num WHERE r.file_pending IS NOT NULL"));
    while (true) {
      PPROCD_ASSIGN_OR_RETURN(bool found, list.Step());
      if (!found) break;
      unanswered.emplace_back(list.ColumnInt(0), list.ColumnBytes(1));
    }
  }
  for (const auto& [num, id] : unanswered) {
    PPROCD_RETURN_IF_ERROR(DeleteJobRows(db, num));
    LogInfo(
        "removed a job whose Submit was never answered (the server stopped while it "
        "stored the job's request)",
        {{"job", id}});
  }
  return transaction.Commit();
}

std::string NewJobId(absl::BitGen& gen) {
  return absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(gen), absl::kZeroPad16));
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(JobStoreOptions options) {
  auto in_context = [&](const absl::Status& status) {
    return absl::Status(status.code(), absl::StrCat("cannot open job store ", options.path, ": ",
                                                    status.message()));
  };
  absl::Status created = CreateOwnerOnly(options.path);
  if (!created.ok()) return in_context(created);
  absl::StatusOr<std::unique_ptr<SqliteDb>> writer = OpenJobConnection(options, true);
  if (!writer.ok()) return in_context(writer.status());
  absl::Status schema = PrepareJobSchema(**writer);
  if (!schema.ok()) return in_context(schema);
  absl::StatusOr<JobFiles> files =
      JobFiles::Open(options.path + "-files", options.durability == Durability::kPowerLoss);
  if (!files.ok()) return in_context(files.status());
  absl::Status unanswered = RemoveUnansweredJobs(**writer);
  if (!unanswered.ok()) return in_context(unanswered);
  absl::StatusOr<uint64_t> file_bytes = TakeStockOfFiles(**writer, *files);
  if (!file_bytes.ok()) return in_context(file_bytes.status());
  absl::StatusOr<std::unique_ptr<SqliteDb>> checkpoints = OpenJobConnection(options, true);
  if (!checkpoints.ok()) return in_context(checkpoints.status());
  return std::unique_ptr<JobStore>(new JobStore(std::move(options), *std::move(writer),
                                                *std::move(checkpoints), *std::move(files),
                                                *file_bytes));
}

JobStore::JobStore(JobStoreOptions options, std::unique_ptr<SqliteDb> writer,
                   std::unique_ptr<SqliteDb> checkpoints, JobFiles files, uint64_t file_bytes)
    : options_(std::move(options)),
      writer_(std::move(writer)),
      files_(std::move(files)),
      file_bytes_(file_bytes),
      readers_([this] { return OpenJobConnection(options_, false); }, kMaxIdleReaders),
      checkpointer_(writer_.get(), std::move(checkpoints), kCheckpointPages,
                    kInlineCheckpointPages) {}

JobStore::~JobStore() = default;

absl::Status JobStore::InContext(const absl::Status& status) const {
  switch (status.code()) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kInvalidArgument:
      return status;  // about the request, not the store
    default:
      return absl::Status(status.code(),
                          absl::StrCat("job store ", options_.path, ": ", status.message()));
  }
}

absl::Status JobStore::Fault(absl::string_view method, absl::string_view job_id) const {
  if (!options_.write_fault) return absl::OkStatus();
  return options_.write_fault(method, job_id);
}

absl::StatusOr<uint64_t> JobStore::UsedBytesLocked() {
  PPROCD_ASSIGN_OR_RETURN(uint64_t used, UsedBytesOf(*writer_));
  return used + file_bytes_;
}

absl::Status JobStore::CheckSize(absl::string_view what, uint64_t new_file_bytes) {
  if (options_.max_bytes == 0) return absl::OkStatus();
  PPROCD_ASSIGN_OR_RETURN(uint64_t used, UsedBytesLocked());
  used += new_file_bytes;
  if (used <= options_.max_bytes) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("full: ", what, " would use ", used,
                                                   " bytes, over max_bytes ", options_.max_bytes));
}

absl::StatusOr<uint64_t> JobStore::UsedBytes() {
  absl::MutexLock lock(&writer_mu_);
  absl::StatusOr<uint64_t> used = UsedBytesLocked();
  if (!used.ok()) return InContext(used.status());
  return used;
}

// JobStore::CreateJob()

absl::StatusOr<JobStore::Created> JobStore::CreateJob(JobRecord job, RequestFileWrite when) {
  absl::MutexLock lock(&writer_mu_);
  if (absl::Status fault = Fault("CreateJob", ""); !fault.ok()) return InContext(fault);
  absl::StatusOr<Created> created = CreateJobLocked(std::move(job), when);
  if (!created.ok()) return InContext(created.status());
  return created;
}

absl::StatusOr<JobStore::Created> JobStore::CreateJobLocked(JobRecord job, RequestFileWrite when) {
  PPROCD_ASSIGN_OR_RETURN(SqliteTransaction transaction,
                          SqliteTransaction::Begin(*writer_, /*immediate=*/true));
  if (!job.idempotency_key.empty()) {
    PPROCD_ASSIGN_OR_RETURN(
        SqliteDb::Lease find,
        writer_->Cached("SELECT " PPROCD_JOB_COLUMNS ", j.inputs_digest, j.settings_digest"
                        " FROM jobs j WHERE owner_uid = ?1 AND idempotency_key = ?2"));
    find->BindInt(1, job.owner_uid);
    find->BindText(2, job.idempotency_key);
    PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
    if (found) {
      Created existing{ReadJobRow(*find, /*with_request=*/false), /*existing=*/true};
      existing.job.inputs_digest = find->ColumnBytes(kJobColumnCount);
      existing.job.settings_digest = find->ColumnBytes(kJobColumnCount + 1);
      return existing;
    }
  }
  if (!job.name.empty()) {
    PPROCD_ASSIGN_OR_RETURN(
        SqliteDb::Lease find,
        writer_->Cached("SELECT id FROM jobs WHERE owner_uid = ?1 AND name = ?2"));
    find->BindInt(1, job.owner_uid);
    find->BindText(2, job.name);
    PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
    if (found) {
      return absl::AlreadyExistsError(absl::StrCat(
          "a job named '", job.name, "' already exists (job ", find->ColumnBytes(0), ")"));
    }
  }

  JobRecord& stored = job;
  stored.last_seq = 0;
  if (stored.create_micros == 0) stored.create_micros = absl::ToUnixMicros(absl::Now());
  // 64 random bits: a collision is unlikely but possible, and then retried.
  for (int tries = 0;; ++tries) {
    stored.id = NewJobId(ids_);
    PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease find,
                            writer_->Cached("SELECT 1 FROM jobs WHERE id = ?1"));
    find->BindText(1, stored.id);
    PPROCD_ASSIGN_OR_RETURN(bool taken, find->Step());
    if (!taken) break;
    if (tries == 8) return absl::InternalError("cannot find an unused job id");
  }
  PPROCD_ASSIGN_OR_RETURN(
      SqliteDb::Lease insert,
      writer_->Cached(
          "INSERT INTO jobs (id, owner_uid, name, idempotency_key, state, done, total,"
          " attempts, max_retries, create_micros, start_micros, end_micros, error,"
          " last_seq, callable, socket_path, inputs_digest, settings_digest) VALUES (?1, ?2,"
          " ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, 0, ?14, ?15, ?16, ?17)"));
  insert->BindText(1, stored.id);
  insert->BindInt(2, stored.owner_uid);
  BindTextOrNull(*insert, 3, stored.name);
  BindTextOrNull(*insert, 4, stored.idempotency_key);
  insert->BindInt(5, static_cast<int64_t>(stored.state));
  insert->BindInt(6, stored.done);
  insert->BindInt(7, stored.total);
  insert->BindInt(8, stored.attempts);
  insert->BindInt(9, stored.max_retries);
  insert->BindInt(10, stored.create_micros);
  insert->BindInt(11, stored.start_micros);
  insert->BindInt(12, stored.end_micros);
  insert->BindText(13, stored.error);
  insert->BindText(14, stored.callable);
  insert->BindText(15, stored.socket_path);
  BindBlobOrNull(*insert, 16, stored.inputs_digest);
  BindBlobOrNull(*insert, 17, stored.settings_digest);
  PPROCD_RETURN_IF_ERROR(insert->Run());
  const int64_t num = sqlite3_last_insert_rowid(writer_->get());

  // A large request goes to a file of its own, written before the row that
  // refers to it commits, or after it with `file_pending` set.
  const uint64_t request_bytes = stored.request.size() + stored.request_tail.size();
  const bool in_file = request_bytes >= options_.request_file_min_bytes;
  const bool pending = in_file && when == RequestFileWrite::kAfterCommit;
  if (!in_file && !stored.request_tail.empty()) {
    stored.request.append(stored.request_tail.data(), stored.request_tail.size());
    stored.request_tail = {};
  }
  PPROCD_ASSIGN_OR_RETURN(
      SqliteDb::Lease request,
      writer_->Cached("INSERT INTO job_requests (job, request, file_bytes, file_pending)"
                      " VALUES (?1, ?2, ?3, ?4)"));
  request->BindInt(1, num);
  if (pending) {
    request->BindInt(4, 1);
  } else {
    request->BindNull(4);
  }
  if (in_file) {
    request->BindBlob(2, "");
    request->BindInt(3, static_cast<int64_t>(request_bytes));
  } else {
    request->BindBlob(2, stored.request);
    request->BindNull(3);
  }
  PPROCD_RETURN_IF_ERROR(request->Run());
  PPROCD_RETURN_IF_ERROR(CheckSize("a new job", in_file ? request_bytes : 0));
  if (pending) {
    PPROCD_RETURN_IF_ERROR(transaction.Commit());
    return Created{std::move(stored), /*existing=*/false, /*request_file_pending=*/true};
  }
  if (in_file) {
    PPROCD_RETURN_IF_ERROR(files_.WriteRequest(
        num, {stored.request,
              absl::string_view(stored.request_tail.data(), stored.request_tail.size())}));
  }
  if (absl::Status committed = transaction.Commit(); !committed.ok()) {
    if (in_file) files_.Remove(num);
    return committed;
  }
  if (in_file) file_bytes_ += request_bytes;
  stored.request_tail = {};
  stored.request = std::string();  // Large, and the caller had it.
  return Created{std::move(stored), /*existing=*/false};
}

absl::Status JobStore::WriteRequestFile(const JobRecord& job) {
  absl::MutexLock lock(&writer_mu_);
  if (absl::Status fault = Fault("WriteRequestFile", job.id); !fault.ok()) {
    return InContext(fault);
  }
  absl::Status written = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_) -> absl::Status {
    PPROCD_ASSIGN_OR_RETURN(SqliteTransaction transaction,
                            SqliteTransaction::Begin(*writer_, /*immediate=*/true));
    PPROCD_ASSIGN_OR_RETURN(
        SqliteDb::Lease find,
        writer_->Cached("SELECT j.num, r.file_bytes, r.file_pending FROM jobs j"
                        " JOIN job_requests r ON r.job = j.num WHERE j.id = ?1"));
    find->BindText(1, job.id);
    PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
    if (!found) return absl::NotFoundError(absl::StrCat("no job '", job.id, "'"));
    const int64_t num = find->ColumnInt(0);
    const uint64_t bytes = job.request.size() + job.request_tail.size();
    if (find->ColumnIsNull(2) || find->ColumnInt(1) != static_cast<int64_t>(bytes)) {
      return absl::FailedPreconditionError(
          absl::StrCat("job '", job.id, "' has no request file of ", bytes, " bytes to write"));
    }
    PPROCD_ASSIGN_OR_RETURN(
        SqliteDb::Lease mark,
        writer_->Cached("UPDATE job_requests SET file_pending = NULL WHERE job = ?1"));
    mark->BindInt(1, num);
    PPROCD_RETURN_IF_ERROR(mark->Run());
    PPROCD_RETURN_IF_ERROR(files_.WriteRequest(
        num, {job.request, absl::string_view(job.request_tail.data(), job.request_tail.size())}));
    if (absl::Status committed = transaction.Commit(); !committed.ok()) {
      files_.Remove(num);
      return committed;
    }
    file_bytes_ += bytes;
    return absl::OkStatus();
  }();
  return InContext(written);
}

// JobStore::AppendOutputs()

absl::StatusOr<int64_t> JobStore::AppendOutputs(absl::string_view job_id,
                                                const std::vector<NewOutput>& outputs) {
  if (outputs.empty()) return 0;
  if (absl::Status valid = CheckOutputs(outputs); !valid.ok()) return valid;
  absl::MutexLock lock(&writer_mu_);
  if (absl::Status fault = Fault("AppendOutputs", job_id); !fault.ok()) return InContext(fault);
  absl::StatusOr<int64_t> first = AppendOutputsLocked(job_id, outputs, nullptr);
  if (!first.ok()) return InContext(first.status());
  return first;
}

absl::StatusOr<int64_t> JobStore::UpdateJobWithOutput(const JobRecord& job,
                                                      const NewOutput& output) {
  return UpdateJobWithOutputs(job, {output}, "UpdateJobWithOutput");
}

absl::StatusOr<int64_t> JobStore::UpdateJobWithOutputs(const JobRecord& job,
                                                       const std::vector<NewOutput>& outputs) {
  return UpdateJobWithOutputs(job, outputs, "UpdateJobWithOutputs");
}

absl::StatusOr<int64_t> JobStore::UpdateJobWithOutputs(const JobRecord& job,
                                                       const std::vector<NewOutput>& outputs,
                                                       absl::string_view method) {
  if (absl::Status valid = CheckOutputs(outputs); !valid.ok()) return valid;
  absl::MutexLock lock(&writer_mu_);
  if (absl::Status fault = Fault(method, job.id); !fault.ok()) {
    return InContext(fault);
  }
  absl::StatusOr<int64_t> first = AppendOutputsLocked(job.id, outputs, &job);
  if (!first.ok()) return InContext(first.status());
  return outputs.empty() ? 0 : *first;
}

bool JobStore::InFile(const NewOutput& output) const {
  return !output.payload.empty() && output.payload.size() >= options_.output_file_min_bytes;
}

absl::StatusOr<int64_t> JobStore::AppendOutputsLocked(absl::string_view job_id,
                                                      const std::vector<NewOutput>& outputs,
                                                      const JobRecord* update_job) {
  PPROCD_ASSIGN_OR_RETURN(SqliteTransaction transaction,
                          SqliteTransaction::Begin(*writer_, /*immediate=*/true));
  int64_t num = 0;
  int64_t last_seq = 0;
  {
    PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease find,
                            writer_->Cached("SELECT num, last_seq FROM jobs WHERE id = ?1"));
    find->BindText(1, job_id);
    PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
    if (!found) return absl::NotFoundError(absl::StrCat("no job '", job_id, "'"));
    num = find->ColumnInt(0);
    last_seq = find->ColumnInt(1);
  }
  const int64_t first = last_seq + 1;
  // Large payloads go to the job's outputs file first, in one write.
  std::vector<absl::string_view> to_file;
  uint64_t file_total = 0;
  bool only_state = true;
  uint64_t bytes = 0;
  for (const NewOutput& output : outputs) {
    if (InFile(output)) {
      to_file.push_back(output.payload);
      file_total += output.payload.size();
    }
    only_state = only_state && output.kind == OutputKind::kState;
    bytes += output.payload.size();
  }
  const bool check_size = !only_state || bytes > kMaxExemptBytes;
  const std::string what = absl::StrCat(outputs.size(), " more outputs of job ", job_id);
  uint64_t file_offset = 0;
  if (!to_file.empty()) {
    if (check_size) PPROCD_RETURN_IF_ERROR(CheckSize(what, file_total));
    PPROCD_ASSIGN_OR_RETURN(file_offset, files_.AppendOutputs(num, to_file));
  }
  absl::Status stored = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_) -> absl::Status {
    uint64_t offset = file_offset;
    {
      PPROCD_ASSIGN_OR_RETURN(
          SqliteDb::Lease insert,
          writer_->Cached("INSERT INTO outputs (job, seq, kind, payload, count, file_offset,"
                          " file_bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
      for (const NewOutput& output : outputs) {
        insert->Reset();
        insert->BindInt(1, num);
        insert->BindInt(2, last_seq + 1);
        insert->BindInt(3, static_cast<int64_t>(output.kind));
        insert->BindInt(5, output.count);
        if (InFile(output)) {
          insert->BindBlob(4, "");
          insert->BindInt(6, static_cast<int64_t>(offset));
          insert->BindInt(7, static_cast<int64_t>(output.payload.size()));
          offset += output.payload.size();
        } else {
          insert->BindBlob(4, output.payload);
          insert->BindNull(6);
          insert->BindNull(7);
        }
        last_seq += output.count;
        PPROCD_RETURN_IF_ERROR(insert->Run());
      }
    }
    {
      PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease update,
                              writer_->Cached("UPDATE jobs SET last_seq = ?2 WHERE num = ?1"));
      update->BindInt(1, num);
      update->BindInt(2, last_seq);
      PPROCD_RETURN_IF_ERROR(update->Run());
    }
    if (update_job != nullptr) PPROCD_RETURN_IF_ERROR(UpdateJobRowLocked(*update_job));
    if (check_size) PPROCD_RETURN_IF_ERROR(CheckSize(what, file_total));
    return transaction.Commit();
  }();
  if (!stored.ok()) {
    if (!to_file.empty()) files_.TruncateOutputs(num, file_offset);
    return stored;
  }
  file_bytes_ += file_total;
  return first;
}

// JobStore::UpdateJob()

absl::Status JobStore::UpdateJob(const JobRecord& job) {
  absl::MutexLock lock(&writer_mu_);
  if (absl::Status fault = Fault("UpdateJob", job.id); !fault.ok()) return InContext(fault);
  absl::Status updated = UpdateJobRowLocked(job);
  if (!updated.ok() && !absl::IsNotFound(updated)) return InContext(updated);
  return updated;
}

absl::Status JobStore::UpdateJobRowLocked(const JobRecord& job) {
  absl::StatusOr<SqliteDb::Lease> update = writer_->Cached(
      "UPDATE jobs SET state = ?2, done = ?3, total = ?4, attempts = ?5, max_retries = ?6,"
      " start_micros = ?7, end_micros = ?8, error = ?9 WHERE id = ?1");
  if (!update.ok()) return update.status();
  SqliteStatement& statement = **update;
  statement.BindText(1, job.id);
  statement.BindInt(2, static_cast<int64_t>(job.state));
  statement.BindInt(3, job.done);
  statement.BindInt(4, job.total);
  statement.BindInt(5, job.attempts);
  statement.BindInt(6, job.max_retries);
  statement.BindInt(7, job.start_micros);
  statement.BindInt(8, job.end_micros);
  statement.BindText(9, job.error);
  PPROCD_RETURN_IF_ERROR(statement.Run());
  if (sqlite3_changes(writer_->get()) == 0) {
    return absl::NotFoundError(absl::StrCat("no job '", job.id, "'"));
  }
  return absl::OkStatus();
}

// JobStore::DeleteJob(), JobStore::PruneFinished()

absl::Status JobStore::DeleteJobRowsLocked(int64_t num, std::vector<int64_t>* deleted) {
  deleted->push_back(num);
  return DeleteJobRows(*writer_, num);
}

void JobStore::RemoveFilesLocked(const std::vector<int64_t>& nums) {
  for (const int64_t num : nums) file_bytes_ -= std::min(file_bytes_, files_.Remove(num));
}

absl::Status JobStore::DeleteJob(absl::string_view job_id) {
  absl::MutexLock lock(&writer_mu_);
  if (absl::Status fault = Fault("DeleteJob", job_id); !fault.ok()) return InContext(fault);
  absl::Status deleted = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_) -> absl::Status {
    PPROCD_ASSIGN_OR_RETURN(SqliteTransaction transaction,
                            SqliteTransaction::Begin(*writer_, /*immediate=*/true));
    int64_t num = 0;
    {
      PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease find,
                              writer_->Cached("SELECT num FROM jobs WHERE id = ?1"));
      find->BindText(1, job_id);
      PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
      if (!found) return absl::NotFoundError(absl::StrCat("no job '", job_id, "'"));
      num = find->ColumnInt(0);
    }
    std::vector<int64_t> deleted;
    PPROCD_RETURN_IF_ERROR(DeleteJobRowsLocked(num, &deleted));
    PPROCD_RETURN_IF_ERROR(transaction.Commit());
    RemoveFilesLocked(deleted);
    return absl::OkStatus();
  }();
  return InContext(deleted);
}

absl::StatusOr<std::vector<std::string>> JobStore::PruneFinished(absl::Time now) {
  const int64_t before = absl::ToUnixMicros(now - options_.keep_finished);
  absl::MutexLock lock(&writer_mu_);
  if (absl::Status fault = Fault("PruneFinished", ""); !fault.ok()) return InContext(fault);
  using Ids = std::vector<std::string>;
  absl::StatusOr<Ids> pruned =
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(writer_mu_) -> absl::StatusOr<Ids> {
    PPROCD_ASSIGN_OR_RETURN(SqliteTransaction transaction,
                            SqliteTransaction::Begin(*writer_, /*immediate=*/true));
    std::vector<int64_t> nums;
    Ids ids;
    {
      PPROCD_ASSIGN_OR_RETURN(
          SqliteDb::Lease find,
          // Finished: not QUEUED (1) or RUNNING (2); see IsFinished().
          writer_->Cached("SELECT num, id FROM jobs WHERE state NOT IN (1, 2) AND end_micros > 0"
                          " AND end_micros < ?1"));
      find->BindInt(1, before);
      while (true) {
        PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
        if (!found) break;
        nums.push_back(find->ColumnInt(0));
        ids.push_back(find->ColumnBytes(1));
      }
    }
    std::vector<int64_t> deleted;
    for (int64_t num : nums) PPROCD_RETURN_IF_ERROR(DeleteJobRowsLocked(num, &deleted));
    PPROCD_RETURN_IF_ERROR(transaction.Commit());
    RemoveFilesLocked(deleted);
    return ids;
  }();
  if (!pruned.ok()) return InContext(pruned.status());
  return pruned;
}

}  // namespace pprocd
