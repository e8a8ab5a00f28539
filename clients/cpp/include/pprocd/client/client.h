// Client: a connection to one pprocd server (pprocd.v1.ProcessFarmService)
// and its calls: ListCallables, GetStatus, Echo, streaming Map / Queue over a
// pull-style InputSource, Start (one invocation with a two-way channel), and
// background jobs (Submit, Reconnect, GetJob, ListJobs, CancelJob,
// DeleteJob).
//
// Thread-safety: a Client is immutable after construction; any number of
// threads may make calls on it at once. RunItems blocks its calling thread
// (which runs the ResultSink) and uses one helper thread to send inputs;
// Reconnect runs its JobOutputSink on its calling thread. CallCanceller is
// thread-safe.
#ifndef PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_CLIENT_H_
#define PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_CLIENT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/sync_stream.h"
#include "pprocd/client/input_source.h"
#include "pprocd/v1/service.grpc.pb.h"

namespace pprocd::client {

// Which streaming RPC RunItems makes.
enum class CallKind {
  kMap,    // Results in input order.
  kQueue,  // Results in completion order, each naming its input index.
};

struct ClientOptions {
  // How long to wait for the server to accept a connection before failing.
  absl::Duration connect_timeout = absl::Seconds(5);
  // Deadline of the unary calls (ListCallables, GetStatus, Submit and the
  // job RPCs).
  absl::Duration unary_timeout = absl::Seconds(30);
  // Largest message sent or received, both ways.
  int max_message_bytes = 64 << 20;
  // RunItems sends a request once it holds this many inputs...
  int max_inputs_per_request = 1024;
  // ...or before its inputs would pass this many bytes (a single larger
  // input goes alone). Well under gRPC's default 4 MiB receive limit.
  size_t max_request_bytes = 1 << 20;
  // The form in which items cross the wire (the user sees the same results
  // either way). true: the packed form (CallOptions.packed): a request's
  // inputs as one JSON array, successful results as ResultBlocks, which the
  // library expands into one ItemResult per item; Start's arguments and
  // channel messages, Submit's inputs and Reconnect's results likewise.
  // false: the Value form, one google.protobuf.Value / ItemResult per item
  // (what grpcurl shows). A call whose CallOptions (or ReconnectRequest) sets
  // `packed` uses the packed form whatever this says.
  bool packed = true;
  // What an UNAVAILABLE error adds when no server answers: what was tried
  // and how to start a server (LocateServer's Located::no_server_hint).
  // Empty: a general hint.
  std::string no_server_hint;
};

// Receives every ItemResult of a RunItems call as it arrives, on the thread
// that called RunItems. A non-OK status cancels the call and RunItems
// returns that status.
using ResultSink = std::function<absl::Status(const v1::ItemResult& result)>;

// Receives the totals of a run of successful items of a packed RunItems call
// with ITEM_STATS_PER_CHUNK (the packed form's default: CallOptions.item_stats
// left unspecified): items first_index to first_index + count - 1, whose own
// ItemResults then carry no stats. `stats` sums wall_us and cpu_us, has the
// largest max_rss_kib and the first item's worker_pid and start_unix_us.
// Called on the thread that called RunItems, just before those items reach
// the ResultSink.
using ChunkStatsSink =
    std::function<void(uint64_t first_index, uint32_t count, const v1::ItemStats& stats)>;

// Receives every output of a Reconnect call (a job's result, or a snapshot
// of the job) as it arrives, on the thread that called Reconnect; one output
// per call, with no `more` (Reconnect asks the server to pack outputs unless
// the request sets max_outputs_per_message, and unpacks them). A non-OK
// status cancels the call and Reconnect returns that status.
using JobOutputSink = std::function<absl::Status(const v1::ReconnectResponse& output)>;

// Receives the jobs of ForEachJob one at a time; a non-OK status stops the
// listing and ForEachJob returns it.
using JobVisitor = std::function<absl::Status(const v1::Job& job)>;

// Cancels a RunItems or Reconnect call from another thread (a signal watcher, a UI).
// Cancel() is sticky: cancelling before the call starts makes it end at once,
// and a cancelled canceller cancels every later call it is given.
class CallCanceller {
 public:
  CallCanceller() = default;
  CallCanceller(const CallCanceller&) = delete;
  CallCanceller& operator=(const CallCanceller&) = delete;

  // Cancels the attached call, if any, via ClientContext::TryCancel.
  void Cancel() ABSL_LOCKS_EXCLUDED(mu_);
  bool cancelled() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  friend class Client;
  // Called by Client around one call; `context` must outlive Detach().
  void Attach(grpc::ClientContext* context) ABSL_LOCKS_EXCLUDED(mu_);
  void Detach() ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
};

// One Start call in progress: an invocation of a callable with a two-way
// channel. Made by Client::Start; ends (cancelling the call if it is still
// open) when destroyed. One thread at a time may use it, except Cancel(),
// which is safe from any thread.
class StartCall {
 public:
  StartCall(const StartCall&) = delete;
  StartCall& operator=(const StartCall&) = delete;
  ~StartCall();

  // Sends one value to the callable's channel. False when the call has
  // already ended (Receive() then says how).
  bool Send(const google::protobuf::Value& message);
  // Half-closes: the end of the callable's input. Idempotent.
  void CloseSend();
  // Cancels the call; the server kills the invocation. Receive() then
  // returns CANCELLED.
  void Cancel();
  // The next value the callable sent (values that came together in one
  // response of the packed form are handed out one per call); std::nullopt
  // once the invocation has ended, its outcome (value or ItemError) then in
  // result(). An error is the call's status (e.g. NOT_FOUND for an unknown
  // callable, CANCELLED), returned again by every later Receive().
  absl::StatusOr<std::optional<google::protobuf::Value>> Receive();
  // The final outcome; set once Receive() returned std::nullopt.
  const v1::ItemResult& result() const { return result_; }

 private:
  friend class Client;
  StartCall() = default;

  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::StartRequest, v1::StartResponse>> stream_;
  // The packed form: arguments and messages as JSON (options.packed).
  bool packed_ = false;
  // Channel values received together and not handed out yet: the packed
  // form's StartResponse.packed_messages, from next_message_ on.
  google::protobuf::ListValue messages_;
  int next_message_ = 0;
  bool closed_ = false;
  bool finished_ = false;
  absl::Status status_;
  v1::ItemResult result_;
};

class Client {
 public:
  // Connects lazily to `target`, a gRPC target as ResolveAddress returns it.
  explicit Client(std::string target, ClientOptions options = {});
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& target() const { return target_; }

  absl::StatusOr<v1::ListCallablesResponse> ListCallables() const;
  absl::StatusOr<v1::GetStatusResponse> GetStatus() const;
  // The server returns `value` unchanged.
  absl::StatusOr<google::protobuf::Value> Echo(const google::protobuf::Value& value) const;

  // Starts one invocation of `callable` with `arguments` (a list spreads over
  // its parameters, an object names them). The first request is sent; the
  // server's verdict on it (NOT_FOUND, INVALID_ARGUMENT) comes from the
  // call's first Receive(). UNAVAILABLE when the server cannot be reached.
  // No deadline beyond options.timeout_ms.
  absl::StatusOr<std::unique_ptr<StartCall>> Start(absl::string_view callable,
                                                   const google::protobuf::Value& arguments,
                                                   const v1::CallOptions& options = {}) const;

  // Runs `callable` over every input of `inputs` with a Map or Queue call:
  // sends callable and options first, then the inputs in batches, then
  // half-closes; meanwhile calls `sink` for every result as it arrives.
  // Cancellations the source hands over (InputSource::TakeCancellations) go
  // to the server as cancel_indices.
  // In the packed form (ClientOptions::packed, the default) the sink still
  // gets one ItemResult per item, the same as in the Value form, with one
  // difference: which stats successful items carry follows
  // options.item_stats, whose default there is ITEM_STATS_PER_CHUNK (the
  // totals go to `chunk_stats`, if given); ITEM_STATS_PER_ITEM gives every
  // item its own, as the Value form does by default. Failed items always
  // carry their own stats.
  // Blocks until the call ends. Returns OK when the server completed the
  // call (per-item failures are results, not errors); otherwise the first
  // of: the sink's error, the input source's error, CANCELLED when
  // `canceller` (optional; must outlive the call) cancelled it, or the RPC's
  // status with its gRPC code and message.
  absl::Status RunItems(CallKind kind, absl::string_view callable, const v1::CallOptions& options,
                        InputSource& inputs, const ResultSink& sink,
                        CallCanceller* canceller = nullptr,
                        const ChunkStatsSink& chunk_stats = nullptr) const;

  // Background jobs. Every `job` argument is a job's id or its name; jobs
  // belong to the caller's uid (PERMISSION_DENIED for another owner's job).
  // Errors keep the server's gRPC code and message (NOT_FOUND for an
  // unknown job); an unreachable server is UNAVAILABLE naming the address.

  // Starts a job that outlives this client; returns it as created (QUEUED),
  // or the earlier job submitted with the same idempotency_key. In the
  // packed form the request's `inputs` are sent as one JSON array
  // (`packed_inputs`, with options.packed set); the job's successful
  // results then carry stats as options.item_stats says (default: per
  // chunk, which Reconnect does not hand out: ask for ITEM_STATS_PER_ITEM
  // to see every item's).
  absl::StatusOr<v1::Job> Submit(v1::SubmitRequest request) const;
  // Streams the stored outputs of the jobs in `request`, then their live
  // ones, passing each to `sink`. Blocks until every job named has ended
  // (OK; the last output of each is its final Job) or the call fails: the
  // sink's error, CANCELLED when `canceller` (optional; must outlive the
  // call) cancelled it, or the RPC's status. No deadline: a job may run for
  // hours. In the packed form (request.packed is set) the server sends runs
  // of successful results as ResultBlocks; the sink still gets one output
  // per result, each with its own seq, as in the Value form.
  absl::Status Reconnect(const v1::ReconnectRequest& request, const JobOutputSink& sink,
                         CallCanceller* canceller = nullptr) const;
  absl::StatusOr<v1::Job> GetJob(absl::string_view job) const;
  // One page of the caller's jobs, newest first.
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& request) const;
  // Every job matching `request` from its page_token on, newest first,
  // fetching page after page; stops at the first error (the RPC's or the
  // visitor's) and returns it.
  absl::Status ForEachJob(v1::ListJobsRequest request, const JobVisitor& visit) const;
  // Cancels a queued or running job and returns it (CANCELLED); an ended
  // job is returned unchanged.
  absl::StatusOr<v1::Job> CancelJob(absl::string_view job) const;
  // Deletes an ended job and its stored outputs; FAILED_PRECONDITION while
  // it is queued or running.
  absl::Status DeleteJob(absl::string_view job) const;

 private:
  // A unary call of `method` with the unary deadline.
  template <typename Request, typename Response>
  absl::StatusOr<Response> CallUnary(grpc::Status (v1::ProcessFarmService::Stub::*method)(
                                         grpc::ClientContext*, const Request&, Response*),
                                     const Request& request) const;

  // Waits up to connect_timeout for the channel to be READY or to have
  // failed (then the call itself reports gRPC's reason). UNAVAILABLE when
  // nothing answered in time.
  absl::Status AwaitConnection() const;
  // How an UNAVAILABLE error says what was tried and how to start a server.
  absl::string_view NoServerHint() const;
  // Converts a finished call's status, explaining UNAVAILABLE: which address
  // was tried and how to start the server.
  absl::Status CallStatus(const grpc::Status& status, bool received_response) const;

  const std::string target_;
  const ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ProcessFarmService::Stub> stub_;
};

}  // namespace pprocd::client

#endif  // PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_CLIENT_H_
