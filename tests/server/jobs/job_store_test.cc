#include "server/jobs/job_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/util/status_matchers.h"
#include "tests/util/temp_dir.h"

namespace pprocd {
namespace {

using ::pprocd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// A fresh directory for one test's store (jobs.db), removed with
// everything in it.
class StoreDir : public ::pprocd::testing::TempDir {
 public:
  StoreDir() : TempDir("pprocd-jobs-test") {}
  std::string Path(absl::string_view name = "jobs.db") const { return TempDir::Path(name); }
};

JobStoreOptions Options(const StoreDir& dir, uint64_t max_bytes = 0) {
  JobStoreOptions options;
  options.path = dir.Path();
  options.max_bytes = max_bytes;
  options.keep_finished = absl::Hours(1);
  return options;
}

std::unique_ptr<JobStore> OpenOrDie(const JobStoreOptions& options) {
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(options);
  EXPECT_OK(store);
  return store.ok() ? *std::move(store) : nullptr;
}

JobRecord NewJob(int64_t owner, std::string name = "", std::string key = "") {
  JobRecord job;
  job.owner_uid = owner;
  job.name = std::move(name);
  job.idempotency_key = std::move(key);
  job.request = std::string("req\0uest", 8);
  return job;
}

std::string CreateOrDie(JobStore& store, const JobRecord& job) {
  absl::StatusOr<JobStore::Created> created = store.CreateJob(job);
  EXPECT_OK(created);
  return created.ok() ? created->job.id : "";
}

std::string Payload(int64_t seq, size_t size = 0) {
  std::string payload = absl::StrCat("out-", seq, ":");
  if (payload.size() < size) payload.resize(size, static_cast<char>('a' + seq % 26));
  return payload;
}

std::vector<NewOutput> Outputs(int64_t first_seq, int count, size_t size = 0) {
  std::vector<NewOutput> outputs;
  for (int i = 0; i < count; ++i) {
    outputs.push_back({OutputKind::kResult, Payload(first_seq + i, size)});
  }
  return outputs;
}

// Appends outputs of `size` bytes to job `id`, 16 at a time, until the store
// refuses a batch or at least `limit` were taken; returns the refusal (OK if
// none) and counts what was taken in `accepted`.
absl::Status AppendUntilRefused(JobStore& store, const std::string& id, size_t size, int64_t limit,
                                int64_t* accepted) {
  while (*accepted < limit) {
    absl::StatusOr<int64_t> first = store.AppendOutputs(id, Outputs(*accepted + 1, 16, size));
    if (!first.ok()) return first.status();
    *accepted += 16;
  }
  return absl::OkStatus();
}

// Reads every output after `after_seq` (up to `last_seq`), in pages, and
// checks that they are exactly after_seq+1, after_seq+2, ... with the payloads
// Payload() made. Returns how many there were.
int64_t ExpectContiguous(JobStore& store, const std::string& id, int64_t after_seq, size_t size = 0,
                         int64_t last_seq = INT64_MAX) {
  int64_t next = after_seq + 1;
  while (next <= last_seq) {
    absl::StatusOr<std::vector<JobOutput>> page = store.ReadOutputs(id, next - 1, 1000);
    EXPECT_OK(page);
    if (!page.ok() || page->empty()) break;
    for (const JobOutput& output : *page) {
      EXPECT_EQ(output.seq, next);
      EXPECT_EQ(output.payload, Payload(next, size));
      if (output.seq != next) return next - after_seq - 1;
      if (++next > last_seq) break;
    }
  }
  return next - after_seq - 1;
}

TEST(JobStoreTest, CreatedJobHasAnIdAndItsFields) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  JobRecord job = NewJob(1000, "nightly");
  job.total = 10;
  job.max_retries = 2;
  absl::StatusOr<JobStore::Created> created = store->CreateJob(job);
  ASSERT_OK(created);
  EXPECT_FALSE(created->existing);
  EXPECT_EQ(created->job.id.size(), 16u);
  EXPECT_EQ(created->job.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_GT(created->job.create_micros, 0);

  ASSERT_OK_AND_ASSIGN(JobRecord got, store->GetJob(created->job.id));
  EXPECT_EQ(got.owner_uid, 1000);
  EXPECT_EQ(got.name, "nightly");
  EXPECT_EQ(got.state, JobState::kQueued);
  EXPECT_EQ(got.total, 10);
  EXPECT_EQ(got.max_retries, 2);
  EXPECT_EQ(got.request, job.request);
  EXPECT_EQ(got.last_seq, 0);
  EXPECT_NE(CreateOrDie(*store, NewJob(1000)), created->job.id);
}

TEST(JobStoreTest, NewFileIsOwnerOnly) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  CreateOrDie(*store, NewJob(1));
  for (const char* suffix : {"", "-wal"}) {
    struct stat info;
    ASSERT_EQ(stat((dir.Path() + suffix).c_str(), &info), 0) << suffix;
    EXPECT_EQ(info.st_mode & 0777, 0600u) << suffix;
  }
}

TEST(JobStoreTest, ReplaysAfterAnySeqWithoutGapOrDuplicate) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  EXPECT_EQ(*store->AppendOutputs(id, Outputs(1, 1)), 1);
  EXPECT_EQ(*store->AppendOutputs(id, Outputs(2, 5)), 2);
  EXPECT_EQ(*store->AppendOutputs(id, {}), 0);
  EXPECT_EQ(*store->AppendOutputs(id, Outputs(7, 10)), 7);
  EXPECT_EQ(store->GetJob(id)->last_seq, 16);

  for (int64_t after = 0; after <= 16; ++after) {
    EXPECT_EQ(ExpectContiguous(*store, id, after), 16 - after) << "after " << after;
  }
  absl::StatusOr<std::vector<JobOutput>> some = store->ReadOutputs(id, 3, 4);
  ASSERT_OK(some);
  ASSERT_EQ(some->size(), 4u);
  EXPECT_EQ(some->front().seq, 4);
  EXPECT_EQ(some->back().seq, 7);
  // A byte budget stops the read early, but never before the first output.
  some = store->ReadOutputs(id, 0, 100, 1);
  ASSERT_OK(some);
  EXPECT_EQ(some->size(), 1u);
}

TEST(JobStoreTest, KindsAndBinaryPayloadsComeBackAsStored) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  const std::string binary("\0\xff\x01zero", 7);
  ASSERT_OK(store->AppendOutputs(
      id, {{OutputKind::kMessage, binary}, {OutputKind::kLog, ""}, {OutputKind::kState, "done"}}));
  ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> outputs, store->ReadOutputs(id, 0, 10));
  ASSERT_EQ(outputs.size(), 3u);
  EXPECT_EQ(outputs[0].kind, OutputKind::kMessage);
  EXPECT_EQ(outputs[0].payload, binary);
  EXPECT_EQ(outputs[1].kind, OutputKind::kLog);
  EXPECT_EQ(outputs[1].payload, "");
  EXPECT_EQ(outputs[2].kind, OutputKind::kState);
}

TEST(JobStoreTest, UnknownJobIsNotFound) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  JobRecord missing = NewJob(1);
  missing.id = "0123456789abcdef";
  EXPECT_THAT(store->GetJob(missing.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->AppendOutputs(missing.id, Outputs(1, 1)),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->ReadOutputs(missing.id, 0, 1), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->UpdateJob(missing), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->DeleteJob(missing.id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->FindJobByName(1, "nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(JobStoreTest, OversizedOutputIsRefused) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  absl::StatusOr<int64_t> appended =
      store->AppendOutputs(id, {{OutputKind::kResult, std::string(kMaxOutputBytes + 1, 'x')}});
  EXPECT_THAT(appended, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->GetJob(id)->last_seq, 0);
  // The largest allowed one is stored whole.
  ASSERT_OK(store->AppendOutputs(id, {{OutputKind::kResult, std::string(kMaxOutputBytes, 'y')}}));
  EXPECT_EQ(store->ReadOutputs(id, 0, 1)->at(0).payload.size(), kMaxOutputBytes);
}

TEST(JobStoreTest, ReopenKeepsEverything) {
  StoreDir dir;
  std::string id;
  {
    auto store = OpenOrDie(Options(dir));
    ASSERT_NE(store, nullptr);
    id = CreateOrDie(*store, NewJob(7, "kept", "key-1"));
    ASSERT_OK(store->AppendOutputs(id, Outputs(1, 100)));
    JobRecord job = *store->GetJob(id);
    job.state = JobState::kSucceeded;
    job.done = 100;
    job.total = 100;
    job.attempts = 1;
    job.start_micros = 5;
    job.end_micros = 6;
    job.error = "none";
    ASSERT_OK(store->UpdateJob(job));
  }
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  absl::StatusOr<JobRecord> job = store->GetJob(id);
  ASSERT_OK(job);
  EXPECT_EQ(job->owner_uid, 7);
  EXPECT_EQ(job->name, "kept");
  EXPECT_EQ(job->idempotency_key, "key-1");
  EXPECT_EQ(job->state, JobState::kSucceeded);
  EXPECT_EQ(job->done, 100);
  EXPECT_EQ(job->attempts, 1);
  EXPECT_EQ(job->start_micros, 5);
  EXPECT_EQ(job->end_micros, 6);
  EXPECT_EQ(job->error, "none");
  EXPECT_EQ(job->request, NewJob(7).request);
  EXPECT_EQ(job->last_seq, 100);
  EXPECT_EQ(ExpectContiguous(*store, id, 0), 100);
  // Numbering goes on where it stopped.
  EXPECT_EQ(*store->AppendOutputs(id, Outputs(101, 1)), 101);
}

// The server may be killed at any moment: what a writer committed before
// the kill is all there, and nothing half-written is.
TEST(JobStoreTest, KilledWriterLeavesAContiguousPrefix) {
  StoreDir dir;
  const JobStoreOptions options = Options(dir);
  std::string id;
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    id = CreateOrDie(*store, NewJob(1));
  }
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Appends batches of 1..7 outputs forever, reporting each commit's last seq.
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // Forever, unless the test dies too.
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(options);
    if (!store.ok()) _exit(2);
    int64_t next = 1;
    for (int batch = 0;; ++batch) {
      const int count = 1 + batch % 7;
      absl::StatusOr<int64_t> first = (*store)->AppendOutputs(id, Outputs(next, count, 200));
      if (!first.ok() || *first != next) _exit(3);
      next += count;
      const int64_t committed = next - 1;
      if (write(fds[1], &committed, sizeof committed) != sizeof committed) _exit(4);
    }
  }
  close(fds[1]);
  int64_t committed = 0;
  while (committed < 2000) {
    ASSERT_EQ(read(fds[0], &committed, sizeof committed), static_cast<ssize_t>(sizeof committed));
  }
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  for (int64_t reported = 0;
       read(fds[0], &reported, sizeof reported) == static_cast<ssize_t>(sizeof reported);) {
    committed = reported;
  }
  close(fds[0]);

  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  absl::StatusOr<JobRecord> job = store->GetJob(id);
  ASSERT_OK(job);
  EXPECT_GE(job->last_seq, committed);
  EXPECT_EQ(ExpectContiguous(*store, id, 0, 200), job->last_seq);
  EXPECT_EQ(*store->AppendOutputs(id, Outputs(job->last_seq + 1, 1, 200)), job->last_seq + 1);
}

TEST(JobStoreTest, IdempotencyKeyReturnsTheSameJob) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(JobStore::Created first, store->CreateJob(NewJob(1, "", "k")));
  ASSERT_OK(store->AppendOutputs(first.job.id, Outputs(1, 3)));
  ASSERT_OK_AND_ASSIGN(JobStore::Created again, store->CreateJob(NewJob(1, "other-name", "k")));
  EXPECT_TRUE(again.existing);
  EXPECT_EQ(again.job.id, first.job.id);
  EXPECT_EQ(again.job.last_seq, 3);
  EXPECT_EQ(again.job.name, "");
  // Another owner's key is another key.
  ASSERT_OK_AND_ASSIGN(JobStore::Created other, store->CreateJob(NewJob(2, "", "k")));
  EXPECT_FALSE(other.existing);
  EXPECT_NE(other.job.id, first.job.id);
}

TEST(JobStoreTest, NamesAreUniquePerOwnerWhileTheJobExists) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1, "backup"));
  absl::StatusOr<JobStore::Created> taken = store->CreateJob(NewJob(1, "backup"));
  EXPECT_THAT(taken, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("'backup'")));
  const std::string other_owner = CreateOrDie(*store, NewJob(2, "backup"));
  EXPECT_EQ(store->FindJobByName(1, "backup")->id, id);
  EXPECT_EQ(store->FindJobByName(2, "backup")->id, other_owner);
  // Unnamed jobs never clash.
  CreateOrDie(*store, NewJob(1));
  CreateOrDie(*store, NewJob(1));

  ASSERT_OK(store->DeleteJob(id));
  EXPECT_THAT(store->FindJobByName(1, "backup"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_NE(CreateOrDie(*store, NewJob(1, "backup")), "");
}

// Pages through ListJobs(filter) and returns the ids in order.
std::vector<std::string> ListAll(JobStore& store, const JobFilter& filter, int page_size) {
  std::vector<std::string> ids;
  std::string token;
  do {
    absl::StatusOr<JobStore::Page> page = store.ListJobs(filter, page_size, token);
    EXPECT_OK(page);
    if (!page.ok()) break;
    EXPECT_LE(static_cast<int>(page->jobs.size()), page_size);
    for (const JobRecord& job : page->jobs) ids.push_back(job.id);
    token = page->next_page_token;
  } while (!token.empty());
  return ids;
}

TEST(JobStoreTest, ListJobsPagesNewestFirstWithFilters) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  std::vector<std::string> owner1;  // oldest first
  std::vector<std::string> owner1_running;
  for (int i = 0; i < 23; ++i) {
    const int64_t owner = i % 2 == 0 ? 1 : 2;
    const std::string id = CreateOrDie(*store, NewJob(owner, absl::StrCat("job-", i)));
    if (owner != 1) continue;
    owner1.push_back(id);
    if (i % 3 == 0) {
      JobRecord job = *store->GetJob(id);
      job.state = JobState::kRunning;
      ASSERT_OK(store->UpdateJob(job));
      owner1_running.push_back(id);
    }
  }
  const std::vector<std::string> newest_first(owner1.rbegin(), owner1.rend());
  JobFilter mine;
  mine.owner_uid = 1;
  EXPECT_EQ(ListAll(*store, mine, 5), newest_first);
  EXPECT_EQ(ListAll(*store, mine, 12), newest_first);
  EXPECT_EQ(ListAll(*store, {}, 4).size(), 23u);

  JobFilter running = mine;
  running.state = JobState::kRunning;
  EXPECT_EQ(ListAll(*store, running, 2),
            std::vector<std::string>(owner1_running.rbegin(), owner1_running.rend()));
  JobFilter named;
  named.name = "job-4";
  EXPECT_EQ(ListAll(*store, named, 10), std::vector<std::string>{owner1[2]});

  // Jobs created between pages do not shift the pages already begun.
  absl::StatusOr<JobStore::Page> page = store->ListJobs(mine, 5, "");
  ASSERT_OK(page);
  std::vector<std::string> seen;
  for (const JobRecord& job : page->jobs) seen.push_back(job.id);
  CreateOrDie(*store, NewJob(1));
  CreateOrDie(*store, NewJob(1));
  std::string token = page->next_page_token;
  while (!token.empty()) {
    page = store->ListJobs(mine, 5, token);
    ASSERT_OK(page);
    for (const JobRecord& job : page->jobs) seen.push_back(job.id);
    token = page->next_page_token;
  }
  EXPECT_EQ(seen, newest_first);

  EXPECT_THAT(store->ListJobs(mine, 5, "bogus"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(JobStoreTest, PruneDeletesOnlyJobsFinishedLongAgo) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));  // keep_finished: 1 h
  ASSERT_NE(store, nullptr);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  auto make = [&](JobState state, absl::Duration ended_ago) {
    JobRecord job = *store->GetJob(CreateOrDie(*store, NewJob(1)));
    job.state = state;
    job.start_micros = absl::ToUnixMicros(now - absl::Hours(10));
    if (IsFinished(state)) job.end_micros = absl::ToUnixMicros(now - ended_ago);
    EXPECT_OK(store->UpdateJob(job));
    EXPECT_OK(store->AppendOutputs(job.id, Outputs(1, 3)));
    return job.id;
  };
  const std::string old_done = make(JobState::kSucceeded, absl::Hours(2));
  const std::string old_failed = make(JobState::kFailed, absl::Hours(3));
  const std::string recent = make(JobState::kSucceeded, absl::Minutes(10));
  const std::string running = make(JobState::kRunning, absl::Hours(5));

  ASSERT_OK_AND_ASSIGN(std::vector<std::string> pruned, store->PruneFinished(now));
  std::vector<std::string> expected = {old_done, old_failed};
  std::sort(pruned.begin(), pruned.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(pruned, expected);
  EXPECT_THAT(store->GetJob(old_done), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(store->ReadOutputs(old_failed, 0, 10), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(ExpectContiguous(*store, recent, 0), 3);
  EXPECT_EQ(ExpectContiguous(*store, running, 0), 3);
  EXPECT_TRUE(store->PruneFinished(now)->empty());
}

TEST(JobStoreTest, UnfinishedJobsAreTheQueuedAndRunningOnes) {
  StoreDir dir;
  std::vector<std::string> expected;
  {
    auto store = OpenOrDie(Options(dir));
    ASSERT_NE(store, nullptr);
    expected.push_back(CreateOrDie(*store, NewJob(1)));
    JobRecord running = *store->GetJob(CreateOrDie(*store, NewJob(2)));
    running.state = JobState::kRunning;
    ASSERT_OK(store->UpdateJob(running));
    expected.push_back(running.id);
    JobRecord done = *store->GetJob(CreateOrDie(*store, NewJob(1)));
    done.state = JobState::kCancelled;
    ASSERT_OK(store->UpdateJob(done));
  }
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<JobRecord> unfinished, store->UnfinishedJobs());
  std::vector<std::string> ids;
  for (const JobRecord& job : unfinished) ids.push_back(job.id);
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(unfinished.front().request, NewJob(1).request);
}

TEST(JobStoreTest, SizeCapRefusesWritesAndTheStoreStaysReadable) {
  StoreDir dir;
  const JobStoreOptions options = Options(dir, 512 << 10);
  std::string id;
  int64_t accepted = 0;
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    id = CreateOrDie(*store, NewJob(1));
    const absl::Status refused = AppendUntilRefused(*store, id, 1024, 100000, &accepted);
    EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                  AllOf(HasSubstr("max_bytes"), HasSubstr(options.path))));
    EXPECT_GT(accepted, 0);
    EXPECT_LE(*store->UsedBytes(), options.max_bytes);
    EXPECT_EQ(store->GetJob(id)->last_seq, accepted);
    // A large new job is refused too; the job's end can still be recorded.
    JobRecord big = NewJob(1);
    big.request.assign(256 << 10, 'r');
    EXPECT_THAT(store->CreateJob(big), StatusIs(absl::StatusCode::kResourceExhausted));
    EXPECT_EQ(*store->AppendOutputs(id, {{OutputKind::kState, "failed: store full"}}),
              accepted + 1);
    JobRecord job = *store->GetJob(id);
    job.state = JobState::kFailed;
    job.error = "the job store is full";
    EXPECT_OK(store->UpdateJob(job));
  }
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetJob(id)->state, JobState::kFailed);
  EXPECT_EQ(store->GetJob(id)->last_seq, accepted + 1);
  EXPECT_EQ(ExpectContiguous(*store, id, 0, 1024, accepted), accepted);
  EXPECT_EQ(store->ReadOutputs(id, accepted, 10)->at(0).payload, "failed: store full");
  // Deleting a job frees its space for new ones.
  ASSERT_OK(store->DeleteJob(id));
  const std::string next = CreateOrDie(*store, NewJob(1));
  EXPECT_OK(store->AppendOutputs(next, Outputs(1, 16, 1024)));
}

TEST(JobStoreTest, GarbageFileIsAnErrorNamingThePath) {
  StoreDir dir;
  {
    std::ofstream garbage(dir.Path(), std::ios::binary);
    for (int i = 0; i < 4096; ++i) garbage << "not a database ";
  }
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(Options(dir));
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss,
                              AllOf(HasSubstr(dir.Path()), HasSubstr("not a database"))));
}

// Runs `sql` on the file at `path` with SQLite directly.
void RawSql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);
}

TEST(JobStoreTest, AnotherApplicationsDatabaseIsRefused) {
  StoreDir dir;
  RawSql(dir.Path(), "CREATE TABLE notes (text TEXT)");
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(Options(dir));
  EXPECT_THAT(store,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a pprocd job store")));
}

TEST(JobStoreTest, NewerSchemaIsRefused) {
  StoreDir dir;
  OpenOrDie(Options(dir)).reset();
  RawSql(dir.Path(), "PRAGMA user_version = 99");
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(Options(dir));
  EXPECT_THAT(store,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("schema version 99")));
}

// A store of schema 1 (before jobs had a socket_path column) opens, keeps
// its jobs, and then stores sockets; JobsWithSockets lists only jobs with one.
TEST(JobStoreTest, AVersion1StoreIsMigratedAndKeepsItsJobs) {
  StoreDir dir;
  std::string old_job;
  {
    auto store = OpenOrDie(Options(dir));
    ASSERT_NE(store, nullptr);
    old_job = CreateOrDie(*store, NewJob(7, "old"));
  }
  RawSql(dir.Path(),
         "ALTER TABLE jobs DROP COLUMN socket_path; ALTER TABLE jobs DROP COLUMN inputs_digest;"
         " ALTER TABLE jobs DROP COLUMN settings_digest; ALTER TABLE outputs DROP COLUMN count;"
         " ALTER TABLE job_requests DROP COLUMN file_pending; ALTER TABLE job_requests DROP COLUMN "
         "file_bytes; ALTER TABLE outputs DROP COLUMN "
         "file_offset; ALTER TABLE outputs DROP COLUMN file_bytes; PRAGMA user_version = 1");
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  absl::StatusOr<JobRecord> kept = store->GetJob(old_job);
  ASSERT_OK(kept);
  EXPECT_EQ(kept->name, "old");
  EXPECT_EQ(kept->socket_path, "");
  JobRecord with_socket = NewJob(7);
  with_socket.socket_path = "/run/user/7/task.socket";
  const std::string new_job = CreateOrDie(*store, with_socket);
  EXPECT_EQ(store->GetJob(new_job)->socket_path, "/run/user/7/task.socket");
  ASSERT_OK_AND_ASSIGN(std::vector<JobRecord> sockets, store->JobsWithSockets());
  ASSERT_EQ(sockets.size(), 1u);
  EXPECT_EQ(sockets.front().id, new_job);
  EXPECT_EQ(sockets.front().owner_uid, 7);
}

// A store of schema 2 (before jobs kept their request's digests) opens and
// keeps its jobs; an old job's key still finds it, with no digests, and new
// jobs keep theirs.
TEST(JobStoreTest, AVersion2StoreIsMigratedAndNewJobsKeepTheirDigests) {
  StoreDir dir;
  std::string old_job;
  {
    auto store = OpenOrDie(Options(dir));
    ASSERT_NE(store, nullptr);
    old_job = CreateOrDie(*store, NewJob(7, "old", "old-key"));
  }
  RawSql(dir.Path(),
         "ALTER TABLE jobs DROP COLUMN inputs_digest; ALTER TABLE jobs DROP COLUMN settings_digest;"
         " ALTER TABLE outputs DROP COLUMN count; ALTER TABLE job_requests DROP COLUMN "
         "file_pending; ALTER TABLE job_requests DROP COLUMN file_bytes; "
         "ALTER TABLE outputs DROP COLUMN file_offset; ALTER TABLE outputs DROP COLUMN file_bytes; "
         "PRAGMA user_version = 2");
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(JobStore::Created old, store->CreateJob(NewJob(7, "", "old-key")));
  EXPECT_TRUE(old.existing);
  EXPECT_EQ(old.job.id, old_job);
  EXPECT_EQ(old.job.name, "old");
  EXPECT_EQ(old.job.inputs_digest, "");
  EXPECT_EQ(old.job.settings_digest, "");

  JobRecord keyed = NewJob(7, "", "new-key");
  keyed.inputs_digest = std::string("in\0digest", 9);
  keyed.settings_digest = "settings-digest";
  ASSERT_OK_AND_ASSIGN(JobStore::Created created, store->CreateJob(keyed));
  EXPECT_FALSE(created.existing);
  ASSERT_OK_AND_ASSIGN(JobStore::Created again, store->CreateJob(NewJob(7, "", "new-key")));
  EXPECT_TRUE(again.existing);
  EXPECT_EQ(again.job.id, created.job.id);
  EXPECT_EQ(again.job.inputs_digest, keyed.inputs_digest);
  EXPECT_EQ(again.job.settings_digest, keyed.settings_digest);
}

// A store of schema 3 (before an output could take several seqs) opens;
// its outputs take one seq each, and blocks follow them.
TEST(JobStoreTest, AVersion3StoreIsMigratedAndItsOutputsTakeOneSeqEach) {
  StoreDir dir;
  std::string id;
  {
    auto store = OpenOrDie(Options(dir));
    ASSERT_NE(store, nullptr);
    id = CreateOrDie(*store, NewJob(7));
  }
  RawSql(dir.Path(),
         "ALTER TABLE outputs DROP COLUMN count; ALTER TABLE job_requests DROP COLUMN "
         "file_pending; ALTER TABLE job_requests DROP COLUMN file_bytes; "
         "ALTER TABLE outputs DROP COLUMN file_offset; ALTER TABLE outputs DROP COLUMN file_bytes; "
         "PRAGMA user_version = 3");
  // Outputs an older server wrote.
  RawSql(dir.Path(),
         "INSERT INTO outputs (job, seq, kind, payload) VALUES (1, 1, 1, 'a'), (1, 2, 1, 'b');"
         " UPDATE jobs SET last_seq = 2");
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(*store->AppendOutputs(id, {{OutputKind::kBlock, "block", 5}}), 3);
  EXPECT_EQ(store->GetJob(id)->last_seq, 7);
  ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> all, store->ReadOutputs(id, 0, 10));
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.at(1).payload, "b");
  EXPECT_EQ(all.at(1).count, 1);
  EXPECT_EQ(all.at(2).seq, 3);
  EXPECT_EQ(all.at(2).count, 5);
  EXPECT_EQ(*store->CountResultsSinceLastState(id), 7);
}

// An output of several seqs: the next one starts after them, and a read
// after a seq inside it starts with it.
TEST(JobStoreTest, ABlockTakesItsCountOfSeqsAndAReadInsideItStartsWithIt) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  // Seqs: 1 state, 2..5 block, 6 result, 7..9 block, 10 state.
  ASSERT_EQ(*store->AppendOutputs(id, {{OutputKind::kState, "running"},
                                       {OutputKind::kBlock, "b1", 4},
                                       {OutputKind::kResult, "r"},
                                       {OutputKind::kBlock, "b2", 3}}),
            1);
  EXPECT_EQ(*store->AppendOutputs(id, {{OutputKind::kState, "done"}}), 10);
  EXPECT_EQ(store->GetJob(id)->last_seq, 10);
  const auto first_seqs = [&](int64_t after, int max_count) {
    std::vector<int64_t> seqs;
    absl::StatusOr<std::vector<JobOutput>> page = store->ReadOutputs(id, after, max_count);
    EXPECT_OK(page);
    if (page.ok()) {
      for (const JobOutput& output : *page) seqs.push_back(output.seq);
    }
    return seqs;
  };
  EXPECT_EQ(first_seqs(0, 10), (std::vector<int64_t>{1, 2, 6, 7, 10}));
  EXPECT_EQ(first_seqs(1, 10), (std::vector<int64_t>{2, 6, 7, 10}));
  EXPECT_EQ(first_seqs(2, 10), (std::vector<int64_t>{2, 6, 7, 10})) << "seq 3 is in the block";
  EXPECT_EQ(first_seqs(4, 2), (std::vector<int64_t>{2, 6}));
  EXPECT_EQ(first_seqs(5, 10), (std::vector<int64_t>{6, 7, 10}));
  EXPECT_EQ(first_seqs(8, 10), (std::vector<int64_t>{7, 10}));
  EXPECT_EQ(first_seqs(9, 10), (std::vector<int64_t>{10}));
  EXPECT_TRUE(first_seqs(10, 10).empty());
  absl::StatusOr<std::vector<JobOutput>> block = store->ReadOutputs(id, 3, 1);
  ASSERT_OK(block);
  EXPECT_EQ(block->front().kind, OutputKind::kBlock);
  EXPECT_EQ(block->front().payload, "b1");
  EXPECT_EQ(block->front().count, 4);
  EXPECT_EQ(block->front().last_seq(), 5);
  // Results since the last state: a block counts its items.
  ASSERT_OK(store->AppendOutputs(id, {{OutputKind::kBlock, "b3", 6}, {OutputKind::kResult, "x"}}));
  EXPECT_EQ(*store->CountResultsSinceLastState(id), 7);
  EXPECT_THAT(store->AppendOutputs(id, {{OutputKind::kBlock, "empty", 0}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// A job's row and the outputs it counts are stored together, or neither.
TEST(JobStoreTest, UpdateJobWithOutputsStoresTheRowAndTheOutputsTogether) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir, 256 << 10));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  JobRecord job = *store->GetJob(id, /*with_request=*/false);
  job.state = JobState::kRunning;
  job.done = 3;
  ASSERT_OK_AND_ASSIGN(int64_t first, store->UpdateJobWithOutputs(job, Outputs(1, 3)));
  EXPECT_EQ(first, 1);
  EXPECT_EQ(store->GetJob(id)->done, 3);
  EXPECT_EQ(store->GetJob(id)->state, JobState::kRunning);
  EXPECT_EQ(ExpectContiguous(*store, id, 0), 3);
  // Refused for size: neither the row nor the outputs change.
  job.done = 1003;
  absl::StatusOr<int64_t> refused = store->UpdateJobWithOutputs(job, Outputs(4, 1000, 1024));
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_EQ(store->GetJob(id)->done, 3);
  EXPECT_EQ(store->GetJob(id)->last_seq, 3);
  // No outputs: only the row.
  job.done = 4;
  EXPECT_EQ(*store->UpdateJobWithOutputs(job, {}), 0);
  EXPECT_EQ(store->GetJob(id)->done, 4);
  EXPECT_EQ(store->GetJob(id)->last_seq, 3);
}

TEST(JobStoreTest, CountsTheResultsSinceTheLastStateInOneQuery) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  EXPECT_EQ(*store->CountResultsSinceLastState(id), 0);
  ASSERT_OK(store->AppendOutputs(id, Outputs(1, 2)));
  EXPECT_EQ(*store->CountResultsSinceLastState(id), 2) << "no state yet: every result";
  // Attempt 1 (2 results and a progress snapshot), then attempt 2 (3 results).
  ASSERT_OK(store->AppendOutputs(id, {{OutputKind::kState, "running"},
                                      {OutputKind::kResult, "a"},
                                      {OutputKind::kProgress, "1 done"},
                                      {OutputKind::kResult, "b"},
                                      {OutputKind::kState, "queued again"},
                                      {OutputKind::kState, "running"},
                                      {OutputKind::kResult, "c"},
                                      {OutputKind::kResult, "d"},
                                      {OutputKind::kProgress, "2 done"},
                                      {OutputKind::kResult, "e"}}));
  EXPECT_EQ(*store->CountResultsSinceLastState(id), 3);
  EXPECT_THAT(store->CountResultsSinceLastState("0000000000000000"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(JobStoreTest, AWriteFaultIsTheWritesResultAndWritesNothing) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  std::string failing_method;
  options.write_fault = [&failing_method](absl::string_view method, absl::string_view) {
    return method == failing_method ? absl::DataLossError("disk I/O error") : absl::OkStatus();
  };
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  JobRecord job = *store->GetJob(id, /*with_request=*/false);
  job.state = JobState::kSucceeded;
  failing_method = "UpdateJobWithOutput";
  absl::StatusOr<int64_t> refused = store->UpdateJobWithOutput(job, {OutputKind::kState, "done"});
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(store->GetJob(id)->state, JobState::kQueued);
  EXPECT_EQ(store->GetJob(id)->last_seq, 0);
  EXPECT_OK(store->AppendOutputs(id, Outputs(1, 1))) << "other writes go on";
  failing_method = "";
  EXPECT_EQ(*store->UpdateJobWithOutput(job, {OutputKind::kState, "done"}), 2);
  EXPECT_EQ(store->GetJob(id)->state, JobState::kSucceeded);
}

TEST(JobStoreTest, MissingDirectoryIsAnErrorNamingThePath) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.path = dir.Path("no-such-dir/jobs.db");
  absl::StatusOr<std::unique_ptr<JobStore>> store = JobStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(options.path), std::string::npos) << store.status();
}

// Watchers read on their own threads while the writer appends: each sees a
// contiguous prefix that only grows.
TEST(JobStoreTest, ReadersOnOtherThreadsSeeGrowingPrefixes) {
  StoreDir dir;
  auto store = OpenOrDie(Options(dir));
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  constexpr int64_t kTotal = 3000;
  std::atomic<bool> writer_done{false};
  std::vector<std::thread> readers;
  std::vector<int64_t> seen(4, 0);
  for (size_t r = 0; r < seen.size(); ++r) {
    readers.emplace_back([&, r] {
      int64_t last = 0;
      while (last < kTotal) {
        const bool final_read = writer_done.load();
        absl::StatusOr<std::vector<JobOutput>> page = store->ReadOutputs(id, last, 100);
        if (!page.ok() || (final_read && page->empty())) break;
        for (const JobOutput& output : *page) {
          if (output.seq != last + 1 || output.payload != Payload(output.seq)) return;
          last = output.seq;
        }
        seen[r] = last;
      }
    });
  }
  for (int64_t next = 1; next <= kTotal; next += 10) {
    absl::StatusOr<int64_t> first = store->AppendOutputs(id, Outputs(next, 10));
    EXPECT_OK(first);
    if (!first.ok()) break;
  }
  writer_done = true;
  for (std::thread& reader : readers) reader.join();
  for (int64_t last : seen) EXPECT_EQ(last, kTotal);
}

// --- Requests and outputs in files of their own --------------------------------

std::set<std::string> FileNames(const JobStoreOptions& options, absl::string_view suffix) {
  std::set<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(options.path + "-files", error)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, suffix)) names.insert(name);
  }
  return names;
}

std::set<std::string> RequestFileNames(const JobStoreOptions& options) {
  return FileNames(options, ".request");
}

JobRecord BigJob(int64_t owner, size_t size, std::string name = "") {
  JobRecord job = NewJob(owner, std::move(name));
  job.request = std::string("big\0request", 11);
  job.request.resize(size, 'q');
  return job;
}

TEST(JobStoreTest, LargeRequestsLiveInFilesAndReadBackWhole) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.request_file_min_bytes = 1000;
  const JobRecord big = BigJob(7, 5000, "big");
  std::string big_id;
  std::string small_id;
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    big_id = CreateOrDie(*store, big);
    small_id = CreateOrDie(*store, NewJob(7, "small"));
    EXPECT_EQ(RequestFileNames(options).size(), 1u) << "only the large request has a file";
    EXPECT_EQ(store->GetJob(big_id)->request, big.request);
    EXPECT_EQ(store->GetJob(big_id, /*with_request=*/false)->request, "");
    EXPECT_EQ(store->FindJobByName(7, "big")->request, big.request);
    EXPECT_EQ(store->GetJob(small_id)->request, NewJob(7).request);
  }
  // After a restart, as the job manager takes unfinished jobs up.
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  ASSERT_OK_AND_ASSIGN(std::vector<JobRecord> unfinished, store->UnfinishedJobs());
  ASSERT_EQ(unfinished.size(), 2u);
  EXPECT_EQ(unfinished.at(0).request, big.request);
  EXPECT_FALSE(unfinished.at(0).request_unreadable);
  EXPECT_EQ(unfinished.at(1).request, NewJob(7).request);
  // Deleting the job deletes its file.
  ASSERT_OK(store->DeleteJob(big_id));
  EXPECT_TRUE(RequestFileNames(options).empty());
}

TEST(JobStoreTest, PruningAJobDeletesItsRequestFile) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.request_file_min_bytes = 0;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const absl::Time now = absl::Now();
  JobRecord done = *store->GetJob(CreateOrDie(*store, BigJob(1, 100)));
  const std::string kept = CreateOrDie(*store, BigJob(1, 200));
  EXPECT_EQ(RequestFileNames(options).size(), 2u);
  done.state = JobState::kSucceeded;
  done.end_micros = absl::ToUnixMicros(now - absl::Hours(2));
  ASSERT_OK(store->UpdateJob(done));
  EXPECT_EQ(*store->PruneFinished(now), std::vector<std::string>{done.id});
  EXPECT_EQ(RequestFileNames(options).size(), 1u);
  EXPECT_EQ(store->GetJob(kept)->request, BigJob(1, 200).request);
}

TEST(JobStoreTest, RequestFilesOfNoJobAreRemovedOnOpen) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.request_file_min_bytes = 0;
  std::string id;
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    id = CreateOrDie(*store, BigJob(1, 100));
  }
  // Left by a server killed between writing a file and committing its job.
  std::ofstream(options.path + "-files/999.request") << "stray";
  std::ofstream(options.path + "-files/999.outputs") << "stray";
  ASSERT_EQ(RequestFileNames(options).size(), 2u);
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RequestFileNames(options).size(), 1u);
  EXPECT_TRUE(FileNames(options, ".outputs").empty());
  EXPECT_EQ(store->GetJob(id)->request, BigJob(1, 100).request);
}

// A request written after its job commits (the job runs meanwhile): read
// back whole once written; a job whose file was never written (its Submit
// never answered) is gone at the next open, and so are its files.
TEST(JobStoreTest, ARequestFileWrittenAfterCommitReadsBackAndAnUnwrittenOneGoesAtTheNextOpen) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.request_file_min_bytes = 1000;
  const JobRecord big = BigJob(1, 5000);
  std::string written_id;
  std::string pending_id;
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(JobStore::Created written,
                         store->CreateJob(big, JobStore::RequestFileWrite::kAfterCommit));
    ASSERT_TRUE(written.request_file_pending);
    written_id = written.job.id;
    EXPECT_TRUE(RequestFileNames(options).empty()) << "no file before WriteRequestFile";
    EXPECT_OK(store->GetJob(written_id, /*with_request=*/false));
    ASSERT_OK(store->WriteRequestFile(written.job));
    EXPECT_EQ(store->GetJob(written_id)->request, big.request);
    EXPECT_THAT(store->WriteRequestFile(written.job),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no request file")));

    // Small requests stay in their row, written at once, whatever asked.
    ASSERT_OK_AND_ASSIGN(JobStore::Created small,
                         store->CreateJob(NewJob(1), JobStore::RequestFileWrite::kAfterCommit));
    EXPECT_FALSE(small.request_file_pending);

    ASSERT_OK_AND_ASSIGN(
        JobStore::Created pending,
        store->CreateJob(BigJob(1, 6000), JobStore::RequestFileWrite::kAfterCommit));
    ASSERT_TRUE(pending.request_file_pending);
    pending_id = pending.job.id;
    ASSERT_OK(store->AppendOutputs(pending_id, Outputs(1, 2, 8 << 10)));
    EXPECT_EQ(FileNames(options, ".outputs").size(), 1u);
  }
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->GetJob(pending_id), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(store->GetJob(written_id)->request, big.request);
  EXPECT_EQ(RequestFileNames(options).size(), 1u);
  EXPECT_TRUE(FileNames(options, ".outputs").empty());
  ASSERT_OK_AND_ASSIGN(std::vector<JobRecord> unfinished, store->UnfinishedJobs());
  EXPECT_EQ(unfinished.size(), 2u);
}

// A failed write leaves no file and the job pending, for the caller to
// delete (or the next open to remove).
TEST(JobStoreTest, AFailedRequestFileWriteLeavesNoFileAndTheJobPending) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.request_file_min_bytes = 0;
  bool fail = true;
  options.write_fault = [&fail](absl::string_view method, absl::string_view) {
    return fail && method == "WriteRequestFile" ? absl::ResourceExhaustedError("disk is full")
                                                : absl::OkStatus();
  };
  std::string id;
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    ASSERT_OK_AND_ASSIGN(
        JobStore::Created created,
        store->CreateJob(BigJob(1, 100), JobStore::RequestFileWrite::kAfterCommit));
    id = created.job.id;
    EXPECT_THAT(store->WriteRequestFile(created.job),
                StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("disk is full")));
    EXPECT_TRUE(RequestFileNames(options).empty());
  }
  fail = false;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->GetJob(id), StatusIs(absl::StatusCode::kNotFound));
}

TEST(JobStoreTest, AMissingRequestFileReadsAsUnreadable) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.request_file_min_bytes = 0;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, BigJob(1, 100));
  for (const std::string& name : RequestFileNames(options)) {
    std::filesystem::remove(options.path + "-files/" + name);
  }
  ASSERT_OK_AND_ASSIGN(JobRecord job, store->GetJob(id));
  EXPECT_TRUE(job.request_unreadable);
  EXPECT_EQ(job.request, "");
  EXPECT_FALSE(store->GetJob(id, /*with_request=*/false)->request_unreadable);
  EXPECT_OK(store->DeleteJob(id));
}

TEST(JobStoreTest, SizeCapCountsRequestFiles) {
  StoreDir dir;
  JobStoreOptions options = Options(dir, 512 << 10);
  options.request_file_min_bytes = 0;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  std::vector<std::string> ids;
  absl::Status refused;
  while (refused.ok() && ids.size() < 100) {
    absl::StatusOr<JobStore::Created> created = store->CreateJob(BigJob(1, 100 << 10));
    if (created.ok()) {
      ids.push_back(created->job.id);
    } else {
      refused = created.status();
    }
  }
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max_bytes")));
  EXPECT_GE(ids.size(), 1u);
  EXPECT_LT(ids.size(), 5u);
  EXPECT_EQ(RequestFileNames(options).size(), ids.size()) << "a refused job leaves no file";
  EXPECT_LE(*store->UsedBytes(), options.max_bytes);
  // Deleting a job frees its file's bytes for a new one.
  ASSERT_OK(store->DeleteJob(ids.back()));
  EXPECT_OK(store->CreateJob(BigJob(1, 100 << 10)));
}

// A store of schema 4 (every request in its row) opens; its requests stay
// readable, and new large ones go to files.
TEST(JobStoreTest, AVersion4StoreIsMigratedAndItsRequestsStayReadable) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  std::string old_job;
  {
    auto store = OpenOrDie(options);  // 5000 bytes: below the default, in its row
    ASSERT_NE(store, nullptr);
    old_job = CreateOrDie(*store, BigJob(7, 5000));
  }
  RawSql(dir.Path(),
         "ALTER TABLE job_requests DROP COLUMN file_pending; ALTER TABLE job_requests DROP COLUMN "
         "file_bytes; ALTER TABLE outputs DROP COLUMN "
         "file_offset; ALTER TABLE outputs DROP COLUMN file_bytes; PRAGMA user_version = 4");
  options.request_file_min_bytes = 1000;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetJob(old_job)->request, BigJob(7, 5000).request);
  EXPECT_TRUE(RequestFileNames(options).empty());
  const std::string new_job = CreateOrDie(*store, BigJob(8, 6000));
  EXPECT_EQ(RequestFileNames(options).size(), 1u);
  EXPECT_EQ(store->GetJob(new_job)->request, BigJob(8, 6000).request);
  ASSERT_OK_AND_ASSIGN(std::vector<JobRecord> unfinished, store->UnfinishedJobs());
  ASSERT_EQ(unfinished.size(), 2u);
  EXPECT_EQ(unfinished.at(0).request, BigJob(7, 5000).request);
  EXPECT_EQ(unfinished.at(1).request, BigJob(8, 6000).request);
}

TEST(JobStoreTest, LargeOutputsLiveInTheJobsOutputsFileAndReadBackInOrder) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.output_file_min_bytes = 1000;
  std::string id;
  // Seqs: 1 state, 2..4 a large block, 5 a small result, 6 a large result,
  // 7..8 a small block, 9..13 a large block.
  const std::vector<NewOutput> first = {{OutputKind::kState, "running"},
                                        {OutputKind::kBlock, Payload(2, 5000), 3},
                                        {OutputKind::kResult, "small"},
                                        {OutputKind::kResult, Payload(6, 1000)},
                                        {OutputKind::kBlock, "b", 2}};
  const NewOutput last{OutputKind::kBlock, Payload(9, 20000), 5};
  const auto check = [&](JobStore& store) {
    ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> all, store.ReadOutputs(id, 0, 100));
    ASSERT_EQ(all.size(), 6u);
    std::vector<int64_t> seqs;
    for (const JobOutput& output : all) seqs.push_back(output.seq);
    EXPECT_EQ(seqs, (std::vector<int64_t>{1, 2, 5, 6, 7, 9}));
    for (size_t i = 0; i < first.size(); ++i) {
      EXPECT_EQ(all[i].payload, first[i].payload) << i;
      EXPECT_EQ(all[i].kind, first[i].kind) << i;
      EXPECT_EQ(all[i].count, first[i].count) << i;
    }
    EXPECT_EQ(all[5].payload, last.payload);
    EXPECT_EQ(all[5].count, 5);
    // From inside the first large block; and the byte limit counts the
    // payloads wherever they are.
    ASSERT_OK_AND_ASSIGN(std::vector<JobOutput> page, store.ReadOutputs(id, 3, 100, 5000));
    ASSERT_EQ(page.size(), 1u);
    EXPECT_EQ(page[0].payload, first[1].payload);
    ASSERT_OK_AND_ASSIGN(page, store.ReadOutputs(id, 5, 2));
    ASSERT_EQ(page.size(), 2u);
    EXPECT_EQ(page[0].payload, first[3].payload);
    EXPECT_EQ(page[1].payload, "b");
    EXPECT_EQ(*store.CountResultsSinceLastState(id), 12);
  };
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    id = CreateOrDie(*store, NewJob(1));
    ASSERT_EQ(*store->AppendOutputs(id, first), 1);
    ASSERT_EQ(*store->AppendOutputs(id, {last}), 9);
    EXPECT_EQ(FileNames(options, ".outputs").size(), 1u);
    check(*store);
  }
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  check(*store);
  ASSERT_OK(store->DeleteJob(id));
  EXPECT_TRUE(FileNames(options, ".outputs").empty());
  EXPECT_THAT(store->ReadOutputs(id, 0, 10), StatusIs(absl::StatusCode::kNotFound));
}

TEST(JobStoreTest, OutputsRefusedForSizeLeaveNothingBehind) {
  StoreDir dir;
  JobStoreOptions options = Options(dir, 512 << 10);
  options.output_file_min_bytes = 0;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  const std::string id = CreateOrDie(*store, NewJob(1));
  int64_t accepted = 0;
  const absl::Status refused = AppendUntilRefused(*store, id, 4096, 10000, &accepted);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("max_bytes")));
  EXPECT_GT(accepted, 0);
  EXPECT_LE(*store->UsedBytes(), options.max_bytes);
  // The job's end is still recorded, and every accepted output reads back.
  EXPECT_EQ(*store->AppendOutputs(id, {{OutputKind::kState, "failed: store full"}}), accepted + 1);
  EXPECT_EQ(ExpectContiguous(*store, id, 0, 4096, accepted), accepted);
  ASSERT_OK(store->DeleteJob(id));
  const std::string next = CreateOrDie(*store, NewJob(1));
  EXPECT_OK(store->AppendOutputs(next, Outputs(1, 16, 4096)));
}

TEST(JobStoreTest, FilesAreKeptTheSameWayUnderPowerLossDurability) {
  StoreDir dir;
  JobStoreOptions options = Options(dir);
  options.durability = Durability::kPowerLoss;
  options.request_file_min_bytes = 0;
  options.output_file_min_bytes = 0;
  std::string id;
  {
    auto store = OpenOrDie(options);
    ASSERT_NE(store, nullptr);
    id = CreateOrDie(*store, BigJob(1, 3000));
    ASSERT_EQ(*store->AppendOutputs(id, Outputs(1, 5, 2000)), 1);
    ASSERT_EQ(*store->AppendOutputs(id, Outputs(6, 5, 10)), 6);
  }
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetJob(id)->request, BigJob(1, 3000).request);
  EXPECT_EQ(ExpectContiguous(*store, id, 0, 2000, 5), 5);
  EXPECT_EQ(ExpectContiguous(*store, id, 5, 10), 5);
  EXPECT_EQ(RequestFileNames(options).size(), 1u);
  EXPECT_EQ(FileNames(options, ".outputs").size(), 1u);
}

}  // namespace
}  // namespace pprocd
