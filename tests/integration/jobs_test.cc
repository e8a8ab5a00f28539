// Background jobs through a real pprocd: Submit, Reconnect (replay, live,
// after_seq, several watchers, several jobs), the job RPCs, bad input, a
// full store, and restarts (SIGTERM and kill -9) on the same state dir.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/util/server_process.h"
#include "tests/util/status_matchers.h"
#include "tests/util/wait_for.h"

namespace pprocd::testing {
namespace {

using google::protobuf::Value;

struct Submitted {
  grpc::Status status;
  v1::Job job;
};

Submitted Submit(v1::ProcessFarmService::Stub* stub, const v1::SubmitRequest& request) {
  grpc::ClientContext context;
  v1::SubmitResponse response;
  Submitted out;
  out.status = stub->Submit(&context, request, &response);
  out.job = response.job();
  return out;
}

v1::SubmitRequest Job(const std::string& callable, const std::vector<Value>& inputs,
                      bool ordered = true) {
  v1::SubmitRequest request;
  request.set_callable(callable);
  for (const Value& input : inputs) *request.add_inputs() = input;
  request.set_ordered(ordered);
  return request;
}

struct Stream {
  grpc::Status status;
  std::vector<v1::ReconnectResponse> outputs;
};

Stream Reconnect(v1::ProcessFarmService::Stub* stub, const v1::ReconnectRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  Stream stream;
  auto reader = stub->Reconnect(&context, request);
  v1::ReconnectResponse response;
  while (reader->Read(&response)) stream.outputs.push_back(response);
  stream.status = reader->Finish();
  return stream;
}

Stream ReconnectTo(v1::ProcessFarmService::Stub* stub, const std::string& job,
                   uint64_t after_seq = 0) {
  v1::ReconnectRequest request;
  request.add_jobs(job);
  request.set_after_seq(after_seq);
  return Reconnect(stub, request);
}

v1::Job GetJob(v1::ProcessFarmService::Stub* stub, const std::string& job, grpc::Status* status) {
  grpc::ClientContext context;
  v1::GetJobRequest request;
  request.set_job(job);
  v1::GetJobResponse response;
  *status = stub->GetJob(&context, request, &response);
  return response.job();
}

// Values of the result outputs, in stream order.
std::vector<double> ResultValues(const Stream& stream) {
  std::vector<double> values;
  for (const auto& output : stream.outputs) {
    if (output.has_result()) values.push_back(output.result().value().number_value());
  }
  return values;
}

// Seqs must run 1, 2, 3, ... (or from after_seq + 1) with no gap or repeat.
void ExpectContiguous(const Stream& stream, uint64_t first) {
  uint64_t expected = first;
  for (const auto& output : stream.outputs) EXPECT_EQ(output.seq(), expected++);
}

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void Start(std::vector<std::string> extra = {}) {
    if (state_dir_.empty()) state_dir_ = MakeTempDir();
    std::string error;
    server_ =
        ServerProcess::Start({.extra_args = std::move(extra), .state_dir = state_dir_}, &error);
    ASSERT_NE(server_, nullptr) << error;
    stub_ = server_->NewStub();
  }
  void TearDown() override {
    server_.reset();
    RemoveTree(state_dir_);
  }
  // Stops the server with `signal_number` and starts a new one on the same
  // state dir.
  void Restart(int signal_number, std::vector<std::string> extra = {}) {
    server_->Signal(signal_number);
    ASSERT_NE(server_->WaitExit(absl::Seconds(30)), -1);
    server_.reset();
    Start(std::move(extra));
  }

  std::string state_dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

TEST_F(JobsTest, ASubmittedJobRunsAndReconnectReplaysItsWholeStream) {
  v1::SubmitRequest request = Job("square", Range(0, 9));
  request.set_name("squares");
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  EXPECT_EQ(submitted.job.id().size(), 16u);
  EXPECT_EQ(submitted.job.name(), "squares");
  EXPECT_EQ(submitted.job.items_total(), 10u);
  EXPECT_EQ(submitted.job.callable(), "square");

  const Stream stream = ReconnectTo(stub_.get(), "squares");
  ASSERT_OK(stream.status);
  ExpectContiguous(stream, 1);
  ASSERT_GE(stream.outputs.size(), 12u);
  EXPECT_EQ(stream.outputs.front().job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(stream.outputs.front().job().attempts(), 1u);
  const v1::Job& last = stream.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(last.items_done(), 10u);
  EXPECT_EQ(last.last_seq(), stream.outputs.back().seq());
  EXPECT_EQ(ResultValues(stream), (std::vector<double>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
  for (const auto& output : stream.outputs) EXPECT_EQ(output.job_id(), submitted.job.id());

  grpc::Status status;
  const v1::Job by_id = GetJob(stub_.get(), submitted.job.id(), &status);
  ASSERT_OK(status);
  EXPECT_EQ(by_id.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(by_id.name(), "squares");
  EXPECT_TRUE(by_id.has_end_time());

  // A second replay is identical.
  const Stream again = ReconnectTo(stub_.get(), submitted.job.id());
  ASSERT_EQ(again.outputs.size(), stream.outputs.size());
  for (size_t i = 0; i < stream.outputs.size(); ++i) {
    EXPECT_EQ(again.outputs[i].SerializeAsString(), stream.outputs[i].SerializeAsString());
  }
}

TEST_F(JobsTest, TwoLiveWatchersSeeIdenticalStreamsAndAfterSeqResumesWithoutGapOrRepeat) {
  std::vector<Value> inputs;
  for (int i = 0; i < 40; ++i) inputs.push_back(Num(25));
  v1::SubmitRequest request = Job("sleep_ms", inputs);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  Stream first;
  Stream second;
  std::thread a([&] { first = ReconnectTo(server_->NewStub().get(), submitted.job.id()); });
  std::thread b([&] { second = ReconnectTo(server_->NewStub().get(), submitted.job.id()); });
  a.join();
  b.join();
  ASSERT_OK(first.status);
  ASSERT_OK(second.status);
  ASSERT_EQ(first.outputs.size(), second.outputs.size());
  for (size_t i = 0; i < first.outputs.size(); ++i) {
    EXPECT_EQ(first.outputs[i].SerializeAsString(), second.outputs[i].SerializeAsString());
  }
  ExpectContiguous(first, 1);
  EXPECT_EQ(ResultValues(first).size(), 40u);

  const uint64_t cut = first.outputs.size() / 2;
  const Stream rest = ReconnectTo(stub_.get(), submitted.job.id(), cut);
  ASSERT_OK(rest.status);
  ASSERT_EQ(rest.outputs.size(), first.outputs.size() - cut);
  ExpectContiguous(rest, cut + 1);
  for (size_t i = 0; i < rest.outputs.size(); ++i) {
    EXPECT_EQ(rest.outputs[i].SerializeAsString(), first.outputs[cut + i].SerializeAsString());
  }
  // Past the end: nothing, and the stream still ends.
  const Stream none = ReconnectTo(stub_.get(), submitted.job.id(), first.outputs.size());
  EXPECT_OK(none.status);
  EXPECT_TRUE(none.outputs.empty());
}

TEST_F(JobsTest, OneReconnectMergesSeveralJobsEachOutputNamingItsJob) {
  std::map<std::string, int> results_by_job;
  v1::ReconnectRequest request;
  for (int j = 0; j < 3; ++j) {
    const Submitted submitted = Submit(stub_.get(), Job("square", Range(1, 5), false));
    ASSERT_OK(submitted.status);
    request.add_jobs(submitted.job.id());
    results_by_job[submitted.job.id()] = 0;
  }
  const Stream stream = Reconnect(stub_.get(), request);
  ASSERT_OK(stream.status);
  std::map<std::string, uint64_t> last_seq;
  std::set<std::string> ended;
  for (const auto& output : stream.outputs) {
    ASSERT_TRUE(results_by_job.count(output.job_id()));
    EXPECT_EQ(output.seq(), last_seq[output.job_id()] + 1) << "per job, in order";
    last_seq[output.job_id()] = output.seq();
    if (output.has_result()) ++results_by_job[output.job_id()];
    if (output.has_job() && output.job().state() == v1::JOB_STATE_SUCCEEDED) {
      ended.insert(output.job_id());
    }
  }
  for (const auto& [job, count] : results_by_job) EXPECT_EQ(count, 5) << job;
  EXPECT_EQ(ended.size(), 3u);
}

TEST_F(JobsTest, TheSameIdempotencyKeyReturnsTheSameJobAndANameIsUniquePerOwner) {
  v1::SubmitRequest request = Job("square", {Num(3)});
  request.set_idempotency_key("order-17");
  const Submitted first = Submit(stub_.get(), request);
  const Submitted second = Submit(stub_.get(), request);
  ASSERT_OK(first.status);
  ASSERT_OK(second.status);
  EXPECT_EQ(first.job.id(), second.job.id());
  const Stream stream = ReconnectTo(stub_.get(), first.job.id());
  EXPECT_EQ(ResultValues(stream), std::vector<double>{9}) << "it ran once";

  v1::SubmitRequest named = Job("square", {Num(2)});
  named.set_name("nightly");
  ASSERT_OK(Submit(stub_.get(), named).status);
  const Submitted taken = Submit(stub_.get(), named);
  EXPECT_EQ(taken.status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_NE(taken.status.error_message().find("nightly"), std::string::npos);
}

TEST_F(JobsTest, CancelKillsARunningJobAndDeleteRemovesAnEndedOne) {
  v1::SubmitRequest request = Job("sleep_ms", {Num(60000), Num(60000)});
  request.mutable_options()->set_chunksize(1);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  // Wait until its items run.
  v1::GetStatusResponse status;
  grpc::Status got;
  WaitFor(
      [&] {
        grpc::ClientContext context;
        got = stub_->GetStatus(&context, {}, &status);
        return !got.ok() || status.items_running() >= 2;
      },
      absl::Seconds(30));
  ASSERT_OK(got);
  ASSERT_EQ(status.items_running(), 2u);

  {
    grpc::ClientContext context;
    v1::DeleteJobRequest remove;
    remove.set_job(submitted.job.id());
    v1::DeleteJobResponse removed;
    const grpc::Status refused = stub_->DeleteJob(&context, remove, &removed);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  }
  grpc::ClientContext context;
  v1::CancelJobRequest cancel;
  cancel.set_job(submitted.job.id());
  v1::CancelJobResponse cancelled;
  const absl::Time asked = absl::Now();
  ASSERT_OK(stub_->CancelJob(&context, cancel, &cancelled));
  EXPECT_EQ(cancelled.job().state(), v1::JOB_STATE_CANCELLED);
  const Stream stream = ReconnectTo(stub_.get(), submitted.job.id());
  ASSERT_OK(stream.status);
  EXPECT_EQ(stream.outputs.back().job().state(), v1::JOB_STATE_CANCELLED);
  EXPECT_TRUE(ResultValues(stream).empty());
  EXPECT_LT(absl::Now() - asked, absl::Seconds(50)) << "the sleeping items were killed";

  grpc::ClientContext delete_context;
  v1::DeleteJobRequest remove;
  remove.set_job(submitted.job.id());
  v1::DeleteJobResponse removed;
  ASSERT_OK(stub_->DeleteJob(&delete_context, remove, &removed));
  grpc::Status gone;
  GetJob(stub_.get(), submitted.job.id(), &gone);
  EXPECT_EQ(gone.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(JobsTest, BadRequestsGetClearStatusesAndTheServerGoesOn) {
  EXPECT_EQ(Submit(stub_.get(), Job("no_such", {Num(1)})).status.error_code(),
            grpc::StatusCode::NOT_FOUND);
  const Submitted bad_argument = Submit(stub_.get(), Job("square", {Str("x")}));
  EXPECT_EQ(bad_argument.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad_argument.status.error_message().find("inputs[0]"), std::string::npos)
      << bad_argument.status.error_message();
  EXPECT_EQ(Submit(stub_.get(), Job("square", {})).status.error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reconnect(stub_.get(), {}).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReconnectTo(stub_.get(), "nope").status.error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::Status status;
  GetJob(stub_.get(), "", &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext context;
  v1::ListJobsRequest list;
  list.set_page_token("garbage");
  v1::ListJobsResponse listed;
  EXPECT_EQ(stub_->ListJobs(&context, list, &listed).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_OK(Submit(stub_.get(), Job("square", {Num(4)})).status);
}

TEST_F(JobsTest, ListJobsFiltersByStateAndNameAndPages) {
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    v1::SubmitRequest request = Job("square", {Num(i)});
    request.set_name(absl::StrCat("job-", i));
    const Submitted submitted = Submit(stub_.get(), request);
    ASSERT_OK(submitted.status);
    ids.insert(submitted.job.id());
    ReconnectTo(stub_.get(), submitted.job.id());  // Wait for its end.
  }
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    grpc::ClientContext context;
    v1::ListJobsRequest request;
    request.set_page_size(2);
    request.set_page_token(token);
    request.set_state(v1::JOB_STATE_SUCCEEDED);
    v1::ListJobsResponse response;
    ASSERT_OK(stub_->ListJobs(&context, request, &response));
    for (const v1::Job& job : response.jobs()) seen.insert(job.id());
    token = response.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(seen, ids);
  EXPECT_EQ(pages, 3);
  grpc::ClientContext context;
  v1::ListJobsRequest by_name;
  by_name.set_name("job-3");
  v1::ListJobsResponse named;
  ASSERT_OK(stub_->ListJobs(&context, by_name, &named));
  ASSERT_EQ(named.jobs_size(), 1);
  EXPECT_EQ(named.jobs(0).name(), "job-3");
}

TEST_F(JobsTest, AFailedItemFailsTheJobAndRetriesRunItAgainWithBackoff) {
  v1::SubmitRequest request = Job("chaos", {Str("ok"), Str("raise")});
  request.set_retries(2);
  request.set_retry_backoff_ms(10);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  const Stream stream = ReconnectTo(stub_.get(), submitted.job.id());
  ASSERT_OK(stream.status);
  ExpectContiguous(stream, 1);
  int running = 0;
  int requeued = 0;
  int errors = 0;
  for (const auto& output : stream.outputs) {
    if (output.has_job() && output.job().state() == v1::JOB_STATE_RUNNING) ++running;
    if (output.has_job() && output.job().state() == v1::JOB_STATE_QUEUED) ++requeued;
    if (output.has_result() && output.result().has_error()) ++errors;
  }
  EXPECT_EQ(running, 3) << "three attempts";
  EXPECT_EQ(requeued, 2);
  EXPECT_EQ(errors, 3);
  const v1::Job& last = stream.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(last.attempts(), 3u);
  EXPECT_EQ(last.error(), "1 of 2 items failed");
}

TEST_F(JobsTest, AClientThatExitsRightAfterSubmitLeavesAJobThatFinishes) {
  const CommandRun run = RunCommand(absl::StrCat(
      std::getenv("PPROCD_GRPCURL"), " -plaintext -unix -d '{\"callable\":\"sleep_ms\",",
      "\"inputs\":[300,300,300],\"name\":\"fire-and-forget\"}' ", server_->socket_path(),
      " pprocd.v1.ProcessFarmService/Submit"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("JOB_STATE_QUEUED"), std::string::npos) << run.output;
  const Stream stream = ReconnectTo(stub_.get(), "fire-and-forget");
  ASSERT_OK(stream.status);
  EXPECT_EQ(ResultValues(stream), (std::vector<double>{300, 300, 300}));
  EXPECT_EQ(stream.outputs.back().job().state(), v1::JOB_STATE_SUCCEEDED);
}

// Reads the job's stream after a restart: every stored output exactly once,
// in order.
TEST_F(JobsTest, AfterKill9EveryStoredOutputIsThereOnceAndTheJobIsInterrupted) {
  std::vector<Value> inputs;
  for (int i = 0; i < 400; ++i) inputs.push_back(Num(5));
  v1::SubmitRequest request = Job("sleep_ms", inputs);
  request.mutable_options()->set_chunksize(1);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  // Watch live until some results are stored, then kill -9 mid-job.
  std::vector<v1::ReconnectResponse> seen_live;
  {
    grpc::ClientContext context;
    v1::ReconnectRequest watch;
    watch.add_jobs(submitted.job.id());
    auto reader = stub_->Reconnect(&context, watch);
    v1::ReconnectResponse response;
    while (seen_live.size() < 40 && reader->Read(&response)) seen_live.push_back(response);
    context.TryCancel();
    reader->Finish();
  }
  ASSERT_EQ(seen_live.size(), 40u);
  Restart(SIGKILL);

  const Stream stream = ReconnectTo(stub_.get(), submitted.job.id());
  ASSERT_OK(stream.status);
  ExpectContiguous(stream, 1);
  ASSERT_GT(stream.outputs.size(), seen_live.size());
  for (size_t i = 0; i < seen_live.size(); ++i) {
    EXPECT_EQ(stream.outputs[i].SerializeAsString(), seen_live[i].SerializeAsString())
        << "what a watcher saw before the kill is stored as it was";
  }
  const v1::Job& last = stream.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_INTERRUPTED);
  EXPECT_LT(ResultValues(stream).size(), 400u);
  // Replays stay identical.
  const Stream again = ReconnectTo(stub_.get(), submitted.job.id());
  ASSERT_EQ(again.outputs.size(), stream.outputs.size());
}

// max_outputs_per_message packs outputs into fewer messages; unpacked, the
// stream is the same one, output for output.
TEST_F(JobsTest, PackedReconnectMessagesCarryTheSameOutputsInFewerMessages) {
  const Submitted submitted = Submit(stub_.get(), Job("square", Range(0, 24)));
  ASSERT_OK(submitted.status);
  const Stream single = ReconnectTo(stub_.get(), submitted.job.id());
  ASSERT_OK(single.status);
  ASSERT_GE(single.outputs.size(), 27u) << "RUNNING, 25 results, SUCCEEDED";
  for (const auto& output : single.outputs) EXPECT_EQ(output.more_size(), 0);

  v1::ReconnectRequest request;
  request.add_jobs(submitted.job.id());
  request.set_max_outputs_per_message(10);
  const Stream packed = Reconnect(stub_.get(), request);
  ASSERT_OK(packed.status);
  std::vector<std::string> unpacked;
  for (const auto& message : packed.outputs) {
    EXPECT_LE(message.more_size() + 1, 10);
    v1::ReconnectResponse first = message;
    first.clear_more();
    unpacked.push_back(first.SerializeAsString());
    for (const auto& more : message.more()) {
      EXPECT_EQ(more.more_size(), 0) << "packed outputs carry no more of their own";
      unpacked.push_back(more.SerializeAsString());
    }
  }
  EXPECT_LT(packed.outputs.size(), single.outputs.size() / 2);
  ASSERT_EQ(unpacked.size(), single.outputs.size());
  for (size_t i = 0; i < unpacked.size(); ++i) {
    EXPECT_EQ(unpacked[i], single.outputs[i].SerializeAsString()) << "output " << i;
  }
}

// A job's own socket outlives a restart: a kill -9 leaves its file, a clean
// stop removes it, and either way the next server serves it again; a file
// of someone else's at that path is left alone; deleting the job removes it.
TEST_F(JobsTest, AJobsOwnSocketIsServedAgainAfterARestartUntilTheJobIsDeleted) {
  const std::string dir = MakeTempDir();
  const std::string socket = dir + "/task.socket";
  v1::SubmitRequest request = Job("square", {Num(1), Num(2), Num(3)});
  request.set_socket_path(socket);
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  ASSERT_OK(ReconnectTo(stub_.get(), submitted.job.id()).status);
  const auto reconnect_on_socket = [&] {
    return RunCommand(absl::StrCat(std::getenv("PPROCD_GRPCURL"), " -plaintext -unix -d '{}' ",
                                   socket, " pprocd.v1.ProcessFarmService/Reconnect"));
  };
  const auto is_socket = [&] {
    struct stat info;
    return lstat(socket.c_str(), &info) == 0 && S_ISSOCK(info.st_mode);
  };
  for (const int stop : {SIGKILL, SIGTERM}) {
    Restart(stop);
    ASSERT_TRUE(is_socket()) << "after " << strsignal(stop);
    const CommandRun attached = reconnect_on_socket();
    ASSERT_EQ(attached.exit_code, 0) << strsignal(stop) << ": " << attached.output;
    EXPECT_NE(attached.output.find("\"value\": 9"), std::string::npos) << attached.output;
    EXPECT_NE(attached.output.find("JOB_STATE_SUCCEEDED"), std::string::npos) << attached.output;
    EXPECT_NE(attached.output.find(submitted.job.id()), std::string::npos) << attached.output;
  }
  grpc::Status status;
  EXPECT_EQ(GetJob(stub_.get(), submitted.job.id(), &status).socket_path(), socket);

  // Stopped cleanly, the socket file is gone; another file takes its place.
  server_->Signal(SIGTERM);
  ASSERT_NE(server_->WaitExit(absl::Seconds(30)), -1);
  ASSERT_FALSE(is_socket());
  { std::ofstream(socket) << "not a socket\n"; }
  server_.reset();
  Start();
  EXPECT_NE(server_->Stderr().find(absl::StrCat("job ", submitted.job.id(), ": its socket is not")),
            std::string::npos)
      << server_->Stderr();
  ASSERT_OK(ReconnectTo(stub_.get(), submitted.job.id()).status) << "the job is still there";
  unlink(socket.c_str());

  Restart(SIGTERM);
  ASSERT_TRUE(is_socket());
  grpc::ClientContext context;
  v1::DeleteJobRequest remove;
  remove.set_job(submitted.job.id());
  v1::DeleteJobResponse removed;
  ASSERT_OK(stub_->DeleteJob(&context, remove, &removed));
  EXPECT_NE(access(socket.c_str(), F_OK), 0) << "the socket went with its job";
  Restart(SIGTERM);
  EXPECT_NE(access(socket.c_str(), F_OK), 0) << "and does not come back";
  RemoveTree(dir);
}

TEST_F(JobsTest, AJobWithRetriesRunsAgainAfterARestartAndItsSeqsContinue) {
  std::vector<Value> inputs;
  for (int i = 0; i < 200; ++i) inputs.push_back(Num(10));
  v1::SubmitRequest request = Job("sleep_ms", inputs);
  request.mutable_options()->set_chunksize(1);
  request.set_retries(1);
  request.set_name("resilient");
  const Submitted submitted = Submit(stub_.get(), request);
  ASSERT_OK(submitted.status);
  grpc::Status status;
  WaitFor([&] { return GetJob(stub_.get(), "resilient", &status).last_seq() >= 20; },
          absl::Seconds(30));
  Restart(SIGTERM);

  const Stream stream = ReconnectTo(stub_.get(), "resilient");
  ASSERT_OK(stream.status);
  ExpectContiguous(stream, 1);
  int running = 0;
  for (const auto& output : stream.outputs) {
    if (output.has_job() && !output.progress() && output.job().state() == v1::JOB_STATE_RUNNING) {
      ++running;
    }
  }
  EXPECT_EQ(running, 2) << "the first attempt, then the re-run";
  const v1::Job& last = stream.outputs.back().job();
  EXPECT_EQ(last.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(last.attempts(), 2u);
  EXPECT_EQ(last.items_done(), 200u);
  EXPECT_GT(ResultValues(stream).size(), 200u) << "earlier outputs stay";
}

TEST_F(JobsTest, AFullStoreRefusesSubmitWithResourceExhaustedAndStillOpens) {
  Restart(SIGTERM, {"--max-store-mib", "1"});
  const std::string big(200 * 1024, 'x');
  grpc::Status refused;
  int accepted = 0;
  for (int i = 0; i < 20 && refused.ok(); ++i) {
    const Submitted submitted = Submit(stub_.get(), Job("echo", {Str(big)}));
    refused = submitted.status;
    if (submitted.status.ok()) {
      ++accepted;
      ReconnectTo(stub_.get(), submitted.job.id());
    }
  }
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_GE(accepted, 1);
  {
    grpc::ClientContext context;
    v1::GetStatusResponse status;
    EXPECT_OK(stub_->GetStatus(&context, {}, &status)) << "the server goes on";
  }
  Restart(SIGTERM, {"--max-store-mib", "1"});
  grpc::ClientContext context;
  v1::ListJobsResponse listed;
  ASSERT_OK(stub_->ListJobs(&context, {}, &listed));
  EXPECT_GE(listed.jobs_size(), accepted);
}

}  // namespace
}  // namespace pprocd::testing
