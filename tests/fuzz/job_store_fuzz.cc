// libFuzzer target: the job store (server/jobs/job_store*, job_rows) and
// what the server makes of its rows (JobManager::ToProto, the stored
// request and outputs parsed as Reconnect and a re-run parse them).
//
// One real store, in a temporary directory ($TMPDIR, else /dev/shm or
// /tmp), serves every input; each input
// starts from empty tables. The input drives two phases:
// 1. Rows as a damaged or foreign file may hold them, written with SQL
//    beside the store: any column of any SQLite type, requests and outputs
//    of any bytes, numbering gaps. Every read of the store API then reads
//    them (GetJob, FindJobByName, ListJobs page by page, ReadOutputs,
//    UnfinishedJobs, JobsWithSockets, PruneFinished, UsedBytes) without
//    failing badly, and the server's view of each row is built.
// 2. Jobs through the store API (CreateJob, AppendOutputs, UpdateJob,
//    UpdateJobWithOutput, DeleteJob), each checked against what it wrote:
//    a job reads back as created and updated, outputs read back in order
//    with their kinds and payloads, pages neither skip nor repeat a job,
//    a deleted job is gone with its outputs.
#include <fuzzer/FuzzedDataProvider.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "pprocd/v1/item.pb.h"
#include "pprocd/v1/service.pb.h"
#include "server/jobs/job_manager.h"
#include "server/jobs/job_store.h"
#include "tests/fuzz/fuzz_check.h"

namespace pprocd {
namespace {

// The store's cap: small, so that writes meet it.
constexpr uint64_t kMaxStoreBytes = 96 << 10;

// A temporary directory with one store and a plain SQLite connection to the
// same file; removed at exit.
class Fixture {
 public:
  Fixture() {
    const char* tmp = std::getenv("TMPDIR");
    if (tmp == nullptr || *tmp == '\0') tmp = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string dir = std::string(tmp) + "/pprocd-fuzz-store-XXXXXX";
    FUZZ_CHECK(::mkdtemp(dir.data()) != nullptr, "mkdtemp");
    dir_ = dir;
    JobStoreOptions options;
    options.path = dir_ + "/jobs.db";
    options.max_bytes = kMaxStoreBytes;
    absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(options);
    FUZZ_CHECK(store.ok(), "open the store");
    store_ = *std::move(store);
    FUZZ_CHECK(
        sqlite3_open_v2(options.path.c_str(), &raw_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK,
        "open a plain connection");
    sqlite3_busy_timeout(raw_, 5000);
  }
  ~Fixture() {
    sqlite3_close(raw_);
    store_.reset();
    for (const char* suffix : {"/jobs.db", "/jobs.db-wal", "/jobs.db-shm"}) {
      ::unlink((dir_ + suffix).c_str());
    }
    ::rmdir(dir_.c_str());
  }

  JobStore& store() { return *store_; }
  sqlite3* raw() { return raw_; }

  void Clear() {
    FUZZ_CHECK(sqlite3_exec(raw_,
                            "DELETE FROM outputs; DELETE FROM job_requests; DELETE FROM jobs;"
                            " DELETE FROM sqlite_sequence",
                            nullptr, nullptr, nullptr) == SQLITE_OK,
               "clear the tables");
  }

 private:
  std::string dir_;
  std::unique_ptr<JobStore> store_;
  sqlite3* raw_ = nullptr;
};

Fixture* fixture = nullptr;

// The server's view of a row: the Job a client is sent, the request a
// re-run parses. Neither may fail badly, whatever the row holds.
void Interpret(const JobRecord& record) {
  const v1::Job job = JobManager::ToProto(record);
  FUZZ_CHECK(job.id() == record.id, "the job's id");
  (void)job.ByteSizeLong();
  v1::SubmitRequest request;
  (void)request.ParseFromString(record.request);
  (void)JobStateName(record.state);
  (void)IsFinished(record.state);
}

// An output parsed as Reconnect parses it.
void Interpret(const JobOutput& output) {
  if (output.kind == OutputKind::kResult) {
    v1::ItemResult result;
    (void)result.ParseFromString(output.payload);
  } else {
    v1::Job job;
    if (job.ParseFromString(output.payload)) (void)IsFinished(static_cast<JobState>(job.state()));
  }
}

// A status of a read: OK, or the codes of the contract.
void CheckReadStatus(const absl::Status& status, const char* what) {
  FUZZ_CHECK(status.ok() || absl::IsNotFound(status) || absl::IsInvalidArgument(status), what);
}

// Phase 1.

// Binds a value of the column's own type most of the time, else any type.
void BindAny(FuzzedDataProvider& in, sqlite3_stmt* statement, int index, bool integer) {
  int kind = in.ConsumeIntegralInRange(0, 7);
  if (kind < 4) kind = integer ? 4 : 5;
  switch (kind) {
    case 4: {
      const int64_t value = in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-2, 10)
                                             : in.ConsumeIntegral<int64_t>();
      sqlite3_bind_int64(statement, index, value);
      break;
    }
    case 5: {
      const std::string text = in.ConsumeRandomLengthString(40);
      sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()),
                        SQLITE_TRANSIENT);
      break;
    }
    case 6: {
      const std::string blob = in.ConsumeRandomLengthString(40);
      sqlite3_bind_blob(statement, index, blob.data(), static_cast<int>(blob.size()),
                        SQLITE_TRANSIENT);
      break;
    }
    default:
      if (in.ConsumeBool()) {
        sqlite3_bind_double(statement, index, in.ConsumeFloatingPoint<double>());
      } else {
        sqlite3_bind_null(statement, index);
      }
  }
}

// Runs `sql` with every parameter bound from the input; whether a row went
// in (a constraint may refuse it).
bool InsertRow(FuzzedDataProvider& in, const char* sql, const std::vector<bool>& integer_columns) {
  sqlite3_stmt* statement = nullptr;
  FUZZ_CHECK(sqlite3_prepare_v2(fixture->raw(), sql, -1, &statement, nullptr) == SQLITE_OK, sql);
  for (size_t i = 0; i < integer_columns.size(); ++i) {
    BindAny(in, statement, static_cast<int>(i + 1), integer_columns[i]);
  }
  const int rc = sqlite3_step(statement);
  sqlite3_finalize(statement);
  return rc == SQLITE_DONE && sqlite3_changes(fixture->raw()) == 1;
}

void WriteRawRows(FuzzedDataProvider& in) {
  FUZZ_CHECK(sqlite3_exec(fixture->raw(), "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK,
             "begin");
  const int jobs = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < jobs; ++i) {
    const bool own_num = in.ConsumeBool();
    InsertRow(in,
              own_num ? "INSERT OR IGNORE INTO jobs (num, id, owner_uid, name, idempotency_key,"
                        " state, done, total, attempts, max_retries, create_micros, start_micros,"
                        " end_micros, error, last_seq, callable, socket_path) VALUES (?1, ?2, ?3,"
                        " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)"
                      : "INSERT OR IGNORE INTO jobs (id, owner_uid, name, idempotency_key,"
                        " state, done, total, attempts, max_retries, create_micros, start_micros,"
                        " end_micros, error, last_seq, callable, socket_path) VALUES (?1, ?2, ?3,"
                        " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
              own_num ? std::vector<bool>{true, false, true, false, false, true, true, true, true,
                                          true, true, true, true, false, true, false, false}
                      : std::vector<bool>{false, true, false, false, true, true, true, true, true,
                                          true, true, true, false, true, false, false});
    if (in.ConsumeBool()) {
      // The request of the row just made, or of any number.
      if (in.ConsumeBool()) {
        InsertRow(in, "INSERT OR IGNORE INTO job_requests (job, request) VALUES (?1, ?2)",
                  {true, false});
      } else {
        sqlite3_stmt* statement = nullptr;
        sqlite3_prepare_v2(fixture->raw(),
                           "INSERT OR IGNORE INTO job_requests (job, request) VALUES"
                           " (last_insert_rowid(), ?1)",
                           -1, &statement, nullptr);
        const std::string request = in.ConsumeRandomLengthString(200);
        sqlite3_bind_blob(statement, 1, request.data(), static_cast<int>(request.size()),
                          SQLITE_TRANSIENT);
        sqlite3_step(statement);
        sqlite3_finalize(statement);
      }
    }
  }
  const int outputs = in.ConsumeIntegralInRange(0, 8);
  for (int i = 0; i < outputs; ++i) {
    InsertRow(in,
              "INSERT OR IGNORE INTO outputs (job, seq, kind, payload) VALUES ((SELECT num FROM"
              " jobs ORDER BY num LIMIT 1 OFFSET ?1), ?2, ?3, ?4)",
              {true, true, true, false});
  }
  // An insert that fails with SQLITE_FULL (a row numbered INT64_MAX leaves
  // AUTOINCREMENT no number) has rolled the transaction back already.
  FUZZ_CHECK(sqlite3_exec(fixture->raw(), "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK ||
                 sqlite3_get_autocommit(fixture->raw()),
             "commit");
}

// Every page of ListJobs() from `token` on. With `ids_unique` (jobs the
// store made), no job may come twice; a foreign row's id may equal
// another's as bytes (the text 'a' and the blob x'61' are both "a").
std::vector<JobRecord> CheckList(const JobFilter& filter, int page_size, std::string token,
                                 bool ids_unique) {
  std::vector<JobRecord> all;
  std::set<std::string> seen;
  for (int page_count = 0; page_count < 50; ++page_count) {
    absl::StatusOr<JobStore::Page> page = fixture->store().ListJobs(filter, page_size, token);
    CheckReadStatus(page.status(), "ListJobs' code");
    if (!page.ok()) break;
    for (JobRecord& job : page->jobs) {
      FUZZ_CHECK(job.request.empty(), "a listed job comes without its request");
      FUZZ_CHECK(seen.insert(job.id).second || !ids_unique, "pages never repeat a job");
      all.push_back(std::move(job));
    }
    if (page->next_page_token.empty()) break;
    FUZZ_CHECK(page->jobs.size() > 0, "a page before the last one has jobs");
    token = page->next_page_token;
  }
  return all;
}

// Outputs of rows of any type: a seq stored as text or a blob sorts after
// every number, so only the bounds are checked here (the order is, for
// outputs the store wrote, by CheckReadOutputs).
void CheckOutputs(const std::string& job_id, int64_t after_seq, int max_count, uint64_t max_bytes) {
  absl::StatusOr<std::vector<JobOutput>> outputs =
      fixture->store().ReadOutputs(job_id, after_seq, max_count, max_bytes);
  CheckReadStatus(outputs.status(), "ReadOutputs' code");
  if (!outputs.ok()) return;
  FUZZ_CHECK(max_count > 0, "ReadOutputs refuses max_count < 1");
  FUZZ_CHECK(outputs->size() <= static_cast<size_t>(max_count), "at most max_count outputs");
  uint64_t bytes = 0;
  for (const JobOutput& output : *outputs) {
    FUZZ_CHECK(bytes < max_bytes || bytes == 0, "no more outputs once max_bytes is reached");
    bytes += output.payload.size();
    Interpret(output);
  }
}

void ReadEverything(FuzzedDataProvider& in) {
  JobStore& store = fixture->store();
  for (const auto& jobs : {store.UnfinishedJobs(), store.JobsWithSockets()}) {
    FUZZ_CHECK(jobs.ok(), "a select of jobs");
    for (const JobRecord& job : *jobs) Interpret(job);
  }
  JobFilter filter;
  if (in.ConsumeBool()) filter.owner_uid = in.ConsumeIntegralInRange<int64_t>(-2, 3);
  if (in.ConsumeBool()) filter.state = static_cast<JobState>(in.ConsumeIntegralInRange(0, 7));
  if (in.ConsumeBool()) filter.name = in.ConsumeRandomLengthString(8);
  const int page_size = in.ConsumeIntegralInRange(-1, 3);
  std::string token;
  if (in.ConsumeBool()) {
    token = in.ConsumeBool() ? "j1." + std::to_string(in.ConsumeIntegral<int64_t>())
                             : in.ConsumeRandomLengthString(24);
  }
  for (const JobRecord& listed : CheckList(filter, page_size, token, /*ids_unique=*/false)) {
    Interpret(listed);
    const bool with_request = in.ConsumeBool();
    absl::StatusOr<JobRecord> job = store.GetJob(listed.id, with_request);
    CheckReadStatus(job.status(), "GetJob's code");
    if (job.ok()) {
      FUZZ_CHECK(job->id == listed.id, "GetJob finds the listed job");
      Interpret(*job);
    }
    if (!listed.name.empty()) {
      absl::StatusOr<JobRecord> named = store.FindJobByName(listed.owner_uid, listed.name);
      CheckReadStatus(named.status(), "FindJobByName's code");
    }
    const int64_t after_seq = in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-1, 8)
                                               : in.ConsumeIntegral<int64_t>();
    CheckOutputs(listed.id, after_seq, in.ConsumeIntegralInRange(-1, 10),
                 in.ConsumeIntegralInRange<uint64_t>(0, 64));
  }
  const std::string any_id = in.ConsumeRandomLengthString(20);
  CheckReadStatus(store.GetJob(any_id).status(), "GetJob's code");
  CheckOutputs(any_id, 0, 1, 1 << 20);
  FUZZ_CHECK(store.UsedBytes().ok(), "UsedBytes");
  // Jobs ended more than a week before now, or any time before a far future.
  const absl::Time now =
      in.ConsumeBool() ? absl::Now() : absl::FromUnixMicros(in.ConsumeIntegral<int64_t>() / 2);
  absl::StatusOr<std::vector<std::string>> pruned = store.PruneFinished(now);
  FUZZ_CHECK(pruned.ok() || absl::IsResourceExhausted(pruned.status()), "PruneFinished");
}

// Phase 2.

// A record as the server makes one from a Submit: any bytes, the store
// does not interpret them.
JobRecord NewRecord(FuzzedDataProvider& in) {
  JobRecord job;
  job.owner_uid = in.ConsumeIntegralInRange<int64_t>(-1, 2);
  job.name = in.ConsumeBool() ? in.ConsumeRandomLengthString(8) : "";
  job.idempotency_key = in.ConsumeBool() ? in.ConsumeRandomLengthString(8) : "";
  job.state = static_cast<JobState>(in.ConsumeIntegralInRange(1, 6));
  job.done = in.ConsumeIntegralInRange<int64_t>(0, 100);
  job.total = in.ConsumeIntegralInRange<int64_t>(0, 100);
  job.max_retries = in.ConsumeIntegralInRange<int64_t>(0, 100);
  job.create_micros = in.ConsumeBool() ? 0 : in.ConsumeIntegral<int64_t>();
  job.callable = in.ConsumeRandomLengthString(16);
  job.error = in.ConsumeRandomLengthString(32);
  job.request = in.ConsumeRandomLengthString(300);
  job.socket_path = in.ConsumeBool() ? in.ConsumeRandomLengthString(16) : "";
  return job;
}

void ExpectStored(const JobRecord& expected, const JobRecord& got) {
  FUZZ_CHECK(got.id == expected.id, "id");
  FUZZ_CHECK(got.owner_uid == expected.owner_uid, "owner_uid");
  FUZZ_CHECK(got.name == expected.name, "name");
  FUZZ_CHECK(got.idempotency_key == expected.idempotency_key, "idempotency_key");
  FUZZ_CHECK(got.state == expected.state, "state");
  FUZZ_CHECK(got.done == expected.done && got.total == expected.total, "progress");
  FUZZ_CHECK(got.attempts == expected.attempts, "attempts");
  FUZZ_CHECK(got.max_retries == expected.max_retries, "max_retries");
  FUZZ_CHECK(got.create_micros == expected.create_micros, "create_micros");
  FUZZ_CHECK(got.start_micros == expected.start_micros, "start_micros");
  FUZZ_CHECK(got.end_micros == expected.end_micros, "end_micros");
  FUZZ_CHECK(got.callable == expected.callable, "callable");
  FUZZ_CHECK(got.error == expected.error, "error");
  FUZZ_CHECK(got.last_seq == expected.last_seq, "last_seq");
  FUZZ_CHECK(got.socket_path == expected.socket_path, "socket_path");
}

// A job made through the API, and what it must read back as.
struct Made {
  JobRecord record;  // With its request.
  std::vector<JobOutput> outputs;
};

// ReadOutputs() of a made job gives exactly the outputs after after_seq, at
// most max_count of them, ending with the one that reaches max_bytes.
void CheckReadOutputs(FuzzedDataProvider& in, const Made& made) {
  const int64_t after_seq =
      in.ConsumeBool() ? in.ConsumeIntegralInRange<int64_t>(-1, 12) : in.ConsumeIntegral<int64_t>();
  const int max_count = in.ConsumeIntegralInRange(1, 6);
  const uint64_t max_bytes = in.ConsumeIntegralInRange<uint64_t>(0, 600);
  std::vector<JobOutput> expected;
  uint64_t bytes = 0;
  for (const JobOutput& output : made.outputs) {
    if (output.seq <= after_seq) continue;
    if (expected.size() == static_cast<size_t>(max_count)) break;
    if (!expected.empty() && bytes >= max_bytes) break;
    expected.push_back(output);
    bytes += output.payload.size();
  }
  absl::StatusOr<std::vector<JobOutput>> outputs =
      fixture->store().ReadOutputs(made.record.id, after_seq, max_count, max_bytes);
  FUZZ_CHECK(outputs.ok(), "ReadOutputs of a made job");
  FUZZ_CHECK(outputs->size() == expected.size(), "the outputs asked for");
  for (size_t i = 0; i < expected.size(); ++i) {
    FUZZ_CHECK((*outputs)[i].seq == expected[i].seq, "an output's seq");
    FUZZ_CHECK((*outputs)[i].payload == expected[i].payload, "an output's payload");
  }
}

void CheckMade(const Made& made) {
  absl::StatusOr<JobRecord> job = fixture->store().GetJob(made.record.id);
  FUZZ_CHECK(job.ok(), "GetJob of a made job");
  ExpectStored(made.record, *job);
  FUZZ_CHECK(job->request == made.record.request, "request");
  absl::StatusOr<std::vector<JobOutput>> outputs =
      fixture->store().ReadOutputs(made.record.id, 0, 1000);
  FUZZ_CHECK(outputs.ok(), "ReadOutputs of a made job");
  FUZZ_CHECK(outputs->size() == made.outputs.size(), "every output read back");
  for (size_t i = 0; i < outputs->size(); ++i) {
    const JobOutput& got = (*outputs)[i];
    FUZZ_CHECK(got.seq == made.outputs[i].seq, "an output's seq");
    FUZZ_CHECK(got.kind == made.outputs[i].kind, "an output's kind");
    FUZZ_CHECK(got.payload == made.outputs[i].payload, "an output's payload");
  }
  if (!made.record.name.empty()) {
    absl::StatusOr<JobRecord> named =
        fixture->store().FindJobByName(made.record.owner_uid, made.record.name);
    FUZZ_CHECK(named.ok() && named->id == made.record.id, "FindJobByName of a made job");
  }
}

void CreateOne(FuzzedDataProvider& in, std::vector<Made>* made) {
  JobRecord record = NewRecord(in);
  absl::StatusOr<JobStore::Created> created = fixture->store().CreateJob(record);
  if (!created.ok()) {
    // A name the owner's other job has, or a full store.
    FUZZ_CHECK(
        absl::IsAlreadyExists(created.status()) || absl::IsResourceExhausted(created.status()),
        "CreateJob's code");
    if (absl::IsAlreadyExists(created.status())) {
      FUZZ_CHECK(!record.name.empty(), "only a name is taken");
    }
    return;
  }
  if (created->existing) {
    FUZZ_CHECK(!record.idempotency_key.empty(), "an existing job only by its key");
    FUZZ_CHECK(created->job.idempotency_key == record.idempotency_key &&
                   created->job.owner_uid == record.owner_uid,
               "the job of the owner's key");
    return;
  }
  const JobRecord& job = created->job;
  FUZZ_CHECK(
      job.id.size() == 16 && job.id.find_first_not_of("0123456789abcdef") == std::string::npos,
      "a new job's id");
  FUZZ_CHECK(job.request.empty() && job.last_seq == 0, "a new job");
  FUZZ_CHECK(
      record.create_micros != 0 ? job.create_micros == record.create_micros : job.create_micros > 0,
      "create_micros");
  Made entry;
  entry.record = job;
  entry.record.request = record.request;
  made->push_back(std::move(entry));
}

void AppendSome(FuzzedDataProvider& in, Made* made) {
  std::vector<NewOutput> outputs(in.ConsumeIntegralInRange<size_t>(0, 4));
  for (NewOutput& output : outputs) {
    output.kind = static_cast<OutputKind>(in.ConsumeIntegralInRange(1, 5));
    output.payload = in.ConsumeRandomLengthString(200);
  }
  absl::StatusOr<int64_t> first = fixture->store().AppendOutputs(made->record.id, outputs);
  if (!first.ok()) {
    FUZZ_CHECK(absl::IsResourceExhausted(first.status()), "AppendOutputs' code");
    // Except for state outputs (of at most 64 KiB in all): never refused.
    bool only_state = true;
    for (const NewOutput& output : outputs) only_state &= output.kind == OutputKind::kState;
    FUZZ_CHECK(!only_state, "state outputs are never refused for size");
    return;
  }
  if (outputs.empty()) {
    FUZZ_CHECK(*first == 0, "no outputs, no seq");
    return;
  }
  FUZZ_CHECK(*first == made->record.last_seq + 1, "the next seq");
  for (NewOutput& output : outputs) {
    made->outputs.push_back(JobOutput{++made->record.last_seq, output.kind, output.payload});
  }
}

void UpdateOne(FuzzedDataProvider& in, Made* made) {
  JobRecord update = made->record;
  update.state = static_cast<JobState>(in.ConsumeIntegralInRange(1, 6));
  update.done = in.ConsumeIntegral<int64_t>();
  update.attempts = in.ConsumeIntegralInRange<int64_t>(0, 100);
  update.start_micros = in.ConsumeIntegral<int64_t>();
  update.end_micros = in.ConsumeIntegral<int64_t>();
  update.error = in.ConsumeRandomLengthString(32);
  // Fields UpdateJob ignores.
  update.name = "ignored";
  update.callable = "ignored";
  update.last_seq = -1;
  if (in.ConsumeBool()) {
    FUZZ_CHECK(fixture->store().UpdateJob(update).ok(), "UpdateJob");
  } else {
    NewOutput output{OutputKind::kState, in.ConsumeRandomLengthString(100)};
    // A state output of at most 64 KiB is never refused for size.
    absl::StatusOr<int64_t> seq = fixture->store().UpdateJobWithOutput(update, output);
    FUZZ_CHECK(seq.ok(), "UpdateJobWithOutput");
    FUZZ_CHECK(*seq == made->record.last_seq + 1, "the next seq");
    made->outputs.push_back(JobOutput{++made->record.last_seq, output.kind, output.payload});
  }
  made->record.done = update.done;
  made->record.attempts = update.attempts;
  made->record.start_micros = update.start_micros;
  made->record.end_micros = update.end_micros;
  made->record.state = update.state;
  made->record.error = update.error;
}

void WriteThroughApi(FuzzedDataProvider& in) {
  std::vector<Made> made;
  const int steps = in.ConsumeIntegralInRange(0, 12);
  for (int step = 0; step < steps; ++step) {
    const int action = in.ConsumeIntegralInRange(0, 4);
    if (action == 0 || made.empty()) {
      CreateOne(in, &made);
      continue;
    }
    const size_t which = in.ConsumeIntegralInRange<size_t>(0, made.size() - 1);
    switch (action) {
      case 1:
      case 2:
        AppendSome(in, &made[which]);
        break;
      case 3:
        UpdateOne(in, &made[which]);
        break;
      default: {
        const std::string id = made[which].record.id;
        FUZZ_CHECK(fixture->store().DeleteJob(id).ok(), "DeleteJob");
        FUZZ_CHECK(absl::IsNotFound(fixture->store().GetJob(id).status()), "a deleted job");
        FUZZ_CHECK(absl::IsNotFound(fixture->store().ReadOutputs(id, 0, 1).status()),
                   "a deleted job's outputs");
        made.erase(made.begin() + static_cast<std::ptrdiff_t>(which));
      }
    }
  }
  for (const Made& entry : made) {
    CheckMade(entry);
    CheckReadOutputs(in, entry);
  }
  // Every made job is listed once, whatever the page size.
  std::set<std::string> listed;
  for (const JobRecord& job :
       CheckList(JobFilter{}, in.ConsumeIntegralInRange(1, 3), "", /*ids_unique=*/true)) {
    listed.insert(job.id);
  }
  for (const Made& entry : made) FUZZ_CHECK(listed.count(entry.record.id) == 1, "listed once");
}

}  // namespace
}  // namespace pprocd

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  static pprocd::Fixture fixture;
  pprocd::fixture = &fixture;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pprocd;
  FuzzedDataProvider in(data, size);
  fixture->Clear();
  WriteRawRows(in);
  ReadEverything(in);
  fixture->Clear();
  WriteThroughApi(in);
  return 0;
}
