// The job store's reads: each runs on a connection lent by the reader pool.
#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/log/log.h"
#include "base/status_macros.h"
#include "server/jobs/job_rows.h"
#include "server/jobs/job_store.h"

namespace pprocd {
namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// A page token is this prefix and the row number of the page's last job.
constexpr absl::string_view kTokenPrefix = "j1.";

// Calls fn(connection) with a pooled connection; returns what fn returns.
template <typename Fn>
auto WithReader(SqlitePool& pool, Fn fn) -> decltype(fn(std::declval<SqliteDb&>())) {
  absl::StatusOr<SqlitePool::Lease> db = pool.Acquire();
  if (!db.ok()) return db.status();
  return fn(**db);
}

// Runs `sql`, which selects PPROCD_JOB_COLUMNS_AND_REQUEST, with its
// parameters bound by bind(statement), and reads its row with
// read(statement); NOT_FOUND naming `what` if no row.
template <typename Bind, typename Read>
absl::StatusOr<JobRecord> FindOne(SqliteDb& db, const char* sql, Bind bind, absl::string_view what,
                                  Read read) {
  PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease find, db.Cached(sql));
  bind(*find);
  PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
  if (!found) return absl::NotFoundError(absl::StrCat("no job ", what));
  return read(*find);
}

absl::StatusOr<int64_t> ParsePageToken(absl::string_view token) {
  int64_t num = 0;
  if (token.empty()) return INT64_MAX;
  if (!absl::ConsumePrefix(&token, kTokenPrefix) || !absl::SimpleAtoi(token, &num) || num <= 0) {
    return absl::InvalidArgumentError("invalid page_token (pass one from a previous page)");
  }
  return num;
}

}  // namespace

JobRecord JobStore::ReadJobWithRequest(const SqliteStatement& row, bool with_request) const {
  int64_t num = 0;
  JobRecord job = ReadJobRow(row, with_request, &num);
  if (!with_request) return job;
  const int64_t file_bytes = RequestFileBytes(row);
  if (file_bytes < 0) return job;
  absl::StatusOr<std::string> request = files_.ReadRequest(num, static_cast<uint64_t>(file_bytes));
  if (request.ok()) {
    job.request = *std::move(request);
  } else {
    LogError("a job's stored request cannot be read",
             {{"job", job.id}, {"error", request.status().ToString()}});
    job.request.clear();
    job.request_unreadable = true;
  }
  return job;
}

absl::StatusOr<JobRecord> JobStore::GetJob(absl::string_view job_id, bool with_request) {
  absl::StatusOr<JobRecord> job = WithReader(readers_, [&](SqliteDb& db) {
    return FindOne(
        db,
        with_request ? "SELECT " PPROCD_JOB_COLUMNS_AND_REQUEST " FROM jobs j WHERE id = ?1"
                     : "SELECT " PPROCD_JOB_COLUMNS " FROM jobs j WHERE id = ?1",
        [&](SqliteStatement& find) { find.BindText(1, job_id); }, absl::StrCat("'", job_id, "'"),
        [&](const SqliteStatement& row) { return ReadJobWithRequest(row, with_request); });
  });
  if (!job.ok()) return InContext(job.status());
  return job;
}

absl::StatusOr<JobRecord> JobStore::FindJobByName(int64_t owner_uid, absl::string_view name,
                                                  bool with_request) {
  absl::StatusOr<JobRecord> job = WithReader(readers_, [&](SqliteDb& db) {
    return FindOne(
        db,
        with_request ? "SELECT " PPROCD_JOB_COLUMNS_AND_REQUEST
                       " FROM jobs j WHERE owner_uid = ?1 AND name = ?2"
                     : "SELECT " PPROCD_JOB_COLUMNS
                       " FROM jobs j WHERE owner_uid = ?1 AND name = ?2",
        [&](SqliteStatement& find) {
          find.BindInt(1, owner_uid);
          find.BindText(2, name);
        },
        absl::StrCat("named '", name, "'"),
        [&](const SqliteStatement& row) { return ReadJobWithRequest(row, with_request); });
  });
  if (!job.ok()) return InContext(job.status());
  return job;
}

absl::StatusOr<JobStore::Page> JobStore::ListJobs(const JobFilter& filter, int page_size,
                                                  absl::string_view page_token) {
  PPROCD_ASSIGN_OR_RETURN(const int64_t before, ParsePageToken(page_token));
  if (page_size < 0) return absl::InvalidArgumentError("page_size must not be negative");
  if (page_size == 0) page_size = kDefaultPageSize;
  if (page_size > kMaxPageSize) page_size = kMaxPageSize;
  absl::StatusOr<Page> page = WithReader(readers_, [&](SqliteDb& db) -> absl::StatusOr<Page> {
    PPROCD_ASSIGN_OR_RETURN(
        SqliteDb::Lease list,
        db.Cached("SELECT " PPROCD_JOB_COLUMNS " FROM jobs j WHERE num < ?1"
                  " AND (?2 IS NULL OR owner_uid = ?2) AND (?3 IS NULL OR state = ?3)"
                  " AND (?4 IS NULL OR name = ?4) ORDER BY num DESC LIMIT ?5"));
    list->BindInt(1, before);
    if (filter.owner_uid) list->BindInt(2, *filter.owner_uid);
    if (filter.state) list->BindInt(3, static_cast<int64_t>(*filter.state));
    if (filter.name) list->BindText(4, *filter.name);
    // One more than asked, to know whether there is a next page.
    list->BindInt(5, page_size + 1);
    Page result;
    int64_t last_num = 0;
    while (true) {
      PPROCD_ASSIGN_OR_RETURN(bool found, list->Step());
      if (!found) break;
      if (static_cast<int>(result.jobs.size()) == page_size) {
        result.next_page_token = absl::StrCat(kTokenPrefix, last_num);
        break;
      }
      result.jobs.push_back(ReadJobRow(*list, /*with_request=*/false, &last_num));
    }
    return result;
  });
  if (!page.ok()) return InContext(page.status());
  return page;
}

absl::StatusOr<std::vector<JobOutput>> JobStore::ReadOutputs(absl::string_view job_id,
                                                             int64_t after_seq, int max_count,
                                                             uint64_t max_bytes) {
  if (max_count <= 0) return absl::InvalidArgumentError("max_count must be positive");
  using Outputs = std::vector<JobOutput>;
  absl::StatusOr<Outputs> outputs =
      WithReader(readers_, [&](SqliteDb& db) -> absl::StatusOr<Outputs> {
        Outputs result;
        {
          PPROCD_ASSIGN_OR_RETURN(
              SqliteDb::Lease read,
              // From the output holding after_seq + 1: the last one that
              // begins at or before it (two seeks on the primary key).
              db.Cached("WITH j AS (SELECT num FROM jobs WHERE id = ?1)"
                        " SELECT seq, kind, payload, count, file_offset, file_bytes, job"
                        " FROM outputs"
                        " WHERE job = (SELECT num FROM j) AND seq >= coalesce("
                        "   (SELECT seq FROM outputs WHERE job = (SELECT num FROM j)"
                        "    AND seq <= ?2 + 1 ORDER BY seq DESC LIMIT 1), ?2 + 1)"
                        " AND seq + count - 1 > ?2 ORDER BY seq LIMIT ?3"));
          read->BindText(1, job_id);
          read->BindInt(2, after_seq);
          read->BindInt(3, max_count);
          // The job's outputs file, opened for the first payload there.
          std::optional<JobFiles::OutputsReader> file;
          uint64_t bytes = 0;
          while (result.empty() || bytes < max_bytes) {
            PPROCD_ASSIGN_OR_RETURN(bool found, read->Step());
            if (!found) break;
            JobOutput& output = result.emplace_back();
            output.seq = read->ColumnInt(0);
            output.kind = static_cast<OutputKind>(read->ColumnInt(1));
            output.count = read->ColumnInt(3);
            if (read->ColumnIsNull(4)) {
              output.payload = read->ColumnBytes(2);
            } else {
              if (!file.has_value()) {
                absl::StatusOr<JobFiles::OutputsReader> opened =
                    files_.ReadOutputs(read->ColumnInt(6));
                if (absl::IsNotFound(opened.status())) {
                  // Deleted since this read began.
                  return absl::NotFoundError(absl::StrCat("no job '", job_id, "'"));
                }
                if (!opened.ok()) {
                  return absl::DataLossError(
                      absl::StrCat("the outputs of job '", job_id,
                                   "' cannot be read: ", opened.status().message()));
                }
                file.emplace(*std::move(opened));
              }
              PPROCD_ASSIGN_OR_RETURN(output.payload,
                                      file->Read(static_cast<uint64_t>(read->ColumnInt(4)),
                                                 static_cast<uint64_t>(read->ColumnInt(5))));
            }
            bytes += output.payload.size();
          }
        }
        if (result.empty()) {
          // No newer output, or no such job: tell them apart.
          PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease find,
                                  db.Cached("SELECT 1 FROM jobs WHERE id = ?1"));
          find->BindText(1, job_id);
          PPROCD_ASSIGN_OR_RETURN(bool found, find->Step());
          if (!found) return absl::NotFoundError(absl::StrCat("no job '", job_id, "'"));
        }
        return result;
      });
  if (!outputs.ok()) return InContext(outputs.status());
  return outputs;
}

absl::StatusOr<int64_t> JobStore::CountResultsSinceLastState(absl::string_view job_id) {
  absl::StatusOr<int64_t> count =
      WithReader(readers_, [&](SqliteDb& db) -> absl::StatusOr<int64_t> {
        // The last state output is found by walking the job's outputs back from
        // the newest (the primary key's order), so only the results counted
        // are visited.
        PPROCD_ASSIGN_OR_RETURN(
            SqliteDb::Lease count,
            db.Cached("WITH j AS (SELECT num FROM jobs WHERE id = ?1),"
                      " s AS (SELECT seq FROM outputs WHERE job = (SELECT num FROM j) AND kind = ?3"
                      "       ORDER BY seq DESC LIMIT 1)"
                      " SELECT (SELECT num FROM j), (SELECT coalesce(sum(count), 0) FROM outputs"
                      "   WHERE job = (SELECT num FROM j) AND kind IN (?2, ?4)"
                      "   AND seq > coalesce((SELECT seq FROM s), 0))"));
        count->BindText(1, job_id);
        count->BindInt(2, static_cast<int64_t>(OutputKind::kResult));
        count->BindInt(3, static_cast<int64_t>(OutputKind::kState));
        count->BindInt(4, static_cast<int64_t>(OutputKind::kBlock));
        PPROCD_ASSIGN_OR_RETURN(bool found, count->Step());
        if (!found || count->ColumnIsNull(0)) {
          return absl::NotFoundError(absl::StrCat("no job '", job_id, "'"));
        }
        return count->ColumnInt(1);
      });
  if (!count.ok()) return InContext(count.status());
  return count;
}

absl::StatusOr<std::vector<JobRecord>> JobStore::SelectJobs(const char* sql, bool with_request) {
  using Jobs = std::vector<JobRecord>;
  absl::StatusOr<Jobs> jobs = WithReader(readers_, [&](SqliteDb& db) -> absl::StatusOr<Jobs> {
    PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease list, db.Cached(sql));
    Jobs result;
    while (true) {
      PPROCD_ASSIGN_OR_RETURN(bool found, list->Step());
      if (!found) break;
      result.push_back(ReadJobWithRequest(*list, with_request));
    }
    return result;
  });
  if (!jobs.ok()) return InContext(jobs.status());
  return jobs;
}

absl::StatusOr<std::vector<JobRecord>> JobStore::UnfinishedJobs() {
  // QUEUED (1) and RUNNING (2); see IsFinished().
  return SelectJobs("SELECT " PPROCD_JOB_COLUMNS_AND_REQUEST
                    " FROM jobs j WHERE state IN (1, 2) ORDER BY num",
                    /*with_request=*/true);
}

absl::StatusOr<std::vector<JobRecord>> JobStore::JobsWithSockets() {
  return SelectJobs("SELECT " PPROCD_JOB_COLUMNS
                    " FROM jobs j WHERE socket_path != '' ORDER BY num",
                    /*with_request=*/false);
}

absl::StatusOr<std::map<JobState, uint64_t>> JobStore::CountByState() {
  using Counts = std::map<JobState, uint64_t>;
  absl::StatusOr<Counts> counts = WithReader(readers_, [&](SqliteDb& db) -> absl::StatusOr<Counts> {
    PPROCD_ASSIGN_OR_RETURN(SqliteDb::Lease count,
                            db.Cached("SELECT state, COUNT(*) FROM jobs GROUP BY state"));
    Counts result;
    while (true) {
      PPROCD_ASSIGN_OR_RETURN(bool found, count->Step());
      if (!found) break;
      result[static_cast<JobState>(count->ColumnInt(0))] =
          static_cast<uint64_t>(count->ColumnInt(1));
    }
    return result;
  });
  if (!counts.ok()) return InContext(counts.status());
  return counts;
}

}  // namespace pprocd
