#include "pproc/commands.h"

#include "gtest/gtest.h"
#include "tests/util/status_matchers.h"

namespace pprocd::pproc {
namespace {

using ::pprocd::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(FormatCallableTest, ShowsParametersTypesDefaultsAndDescription) {
  v1::Callable callable;
  callable.set_name("fib");
  callable.set_description("Fibonacci number.\nSlowly, on purpose.");
  v1::Parameter* n = callable.add_parameters();
  n->set_name("n");
  n->set_type(v1::PARAMETER_TYPE_INTEGER);
  n->set_required(true);
  v1::Parameter* base = callable.add_parameters();
  base->set_name("base");
  base->set_type(v1::PARAMETER_TYPE_NUMBER);
  base->mutable_default_value()->set_number_value(10);
  v1::Parameter* any = callable.add_parameters();
  any->set_name("tag");
  any->set_type(v1::PARAMETER_TYPE_ANY);
  any->mutable_default_value()->set_string_value("x");
  EXPECT_EQ(FormatCallable(callable),
            "fib(n:integer, base:number=10, tag:any=\"x\") — Fibonacci "
            "number.");
}

TEST(FormatCallableTest, MarksChannelCallablesAndOmitsEmptyDescription) {
  v1::Callable callable;
  callable.set_name("chat");
  callable.set_kind(v1::CALLABLE_KIND_CHANNEL);
  EXPECT_EQ(FormatCallable(callable), "chat() [channel]");
}

TEST(FormatStatusTest, PrintsEveryFieldInOrderZerosIncluded) {
  v1::GetStatusResponse status;
  status.set_workers_idle(2);
  status.set_items_completed(12345678901234);
  std::string text = FormatStatus(status);
  EXPECT_EQ(text.substr(0, text.find("items_queued")),
            "workers_idle: 2\nworkers_busy: 0\nworkers_starting: 0\n");
  EXPECT_NE(text.find("\nitems_completed: 12345678901234\n"), std::string::npos);
  EXPECT_NE(text.find("\nworkers_configured: 0\n"), std::string::npos);
}

TEST(ParseJobStateTest, AcceptsNamesInAnyCaseWithOrWithoutThePrefix) {
  EXPECT_EQ(ParseJobState("succeeded").value(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(ParseJobState("RUNNING").value(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(ParseJobState("job_state_cancelled").value(), v1::JOB_STATE_CANCELLED);
  absl::StatusOr<v1::JobState> bad = ParseJobState("done");
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument,
                            AllOf(HasSubstr("'done'"), HasSubstr("interrupted"))));
  EXPECT_FALSE(ParseJobState("unspecified").ok());
  EXPECT_EQ(JobStateName(v1::JOB_STATE_INTERRUPTED), "INTERRUPTED");
}

v1::Job MakeJob(const std::string& id, const std::string& name, v1::JobState state,
                const std::string& error) {
  v1::Job job;
  job.set_id(id);
  job.set_name(name);
  job.set_state(state);
  job.set_items_done(3);
  job.set_items_total(10);
  job.set_callable("square");
  job.set_error(error);
  job.mutable_create_time()->set_seconds(1700000000);  // 2023-11-14 22:13:20 UTC.
  return job;
}

TEST(FormatJobSummaryTest, NamesTheJobItsStateCountsAndFirstErrorLine) {
  EXPECT_EQ(FormatJobSummary(MakeJob("abc", "nightly", v1::JOB_STATE_SUCCEEDED, "")),
            "abc (nightly) SUCCEEDED, 3/10 items");
  EXPECT_EQ(FormatJobSummary(MakeJob("abc", "", v1::JOB_STATE_FAILED, "item 3 RAISED\ntrace")),
            "abc FAILED, 3/10 items: item 3 RAISED");
}

TEST(FormatJobsTableTest, AlignsColumnsAndDashesEmptyFields) {
  v1::Job ended = MakeJob("0123456789abcdef", "", v1::JOB_STATE_FAILED, "boom\nmore");
  ended.mutable_end_time()->set_seconds(1700000061);
  const std::string table = FormatJobsTable(
      {MakeJob("1", "nightly", v1::JOB_STATE_RUNNING, ""), ended}, absl::UTCTimeZone());
  EXPECT_EQ(table,
            "ID                NAME     STATE    DONE/TOTAL  CALLABLE  CREATED              "
            "ENDED                ERROR\n"
            "1                 nightly  RUNNING  3/10        square    2023-11-14 22:13:20  "
            "-                    -\n"
            "0123456789abcdef  -        FAILED   3/10        square    2023-11-14 22:13:20  "
            "2023-11-14 22:14:21  boom\n");
  EXPECT_EQ(FormatJobsTable({}, absl::UTCTimeZone()),
            "ID  NAME  STATE  DONE/TOTAL  CALLABLE  CREATED  ENDED  ERROR\n");
}

}  // namespace
}  // namespace pprocd::pproc
