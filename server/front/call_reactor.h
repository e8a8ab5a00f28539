// CallReactor: what the bidirectional calls (Map, Queue, Start) share on the
// gRPC side: the CallSink the scheduler talks to, requests read as bytes
// and parsed here (ParseRequestLocked), a queue of responses serialized and
// written one at a time (each acknowledged to the scheduler with the number
// of results it carried), cancellation and the single Finish.
//
// Requests are read raw because gRPC reports a request it cannot parse as
// a failed read, the same as the client's half-close: read as bytes, a
// failed read is only ever the end of input (or a broken call), and a
// request that does not parse fails the call naming it.
//
// gRPC invokes the reactions on its threads; the scheduler invokes the
// CallSink methods on its thread. Both take the sink's mutex. The reactor
// deletes itself in OnDone(); the sink outlives it and then ignores the
// scheduler.
#ifndef PPROCD_SERVER_FRONT_CALL_REACTOR_H_
#define PPROCD_SERVER_FRONT_CALL_REACTOR_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "server/front/raw_message.h"
#include "server/front/status_convert.h"
#include "server/scheduler/call_sink.h"
#include "server/scheduler/scheduler.h"

namespace pprocd {

// Request and Response: the method's message types.
template <typename Request, typename Response>
class CallReactor : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit CallReactor(Scheduler* scheduler) : scheduler_(scheduler) {
    sink_ = std::make_shared<Sink>(this);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&sink_->mu);
    writing_ = false;
    const uint64_t sent = outbox_.front().second;
    outbox_.pop_front();
    if (ok && sent > 0) scheduler_->ResultsSent(call_id_, sent);
    if (!ok) outbox_.clear();
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&sink_->mu);
    if (opened_) scheduler_->CancelCall(call_id_);
    // The response being written stays until its OnWriteDone.
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client cancelled the call"));
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&sink_->mu);
      sink_->reactor = nullptr;
    }
    delete this;
  }

 protected:
  // Forwards the scheduler's calls while the reactor lives.
  struct Sink : CallSink {
    explicit Sink(CallReactor* owner) : reactor(owner) {}
    void Deliver(std::vector<ResultPiece> results) override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr && !reactor->finish_requested_) {
        reactor->DeliverLocked(std::move(results));
        reactor->WriteNextLocked();
      }
    }
    void WantInput() override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr && !reactor->finish_requested_) reactor->StartReadLocked();
    }
    void Finish(absl::Status status) override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr) reactor->FinishLocked(ToGrpcStatus(status));
    }
    // Queues the last responses before finishing, so that the last one is
    // written together with the call's status.
    void DeliverLast(std::vector<ResultPiece> results, absl::Status status) override {
      absl::MutexLock lock(&mu);
      if (reactor == nullptr) return;
      if (!reactor->finish_requested_) reactor->DeliverLocked(std::move(results));
      reactor->FinishLocked(ToGrpcStatus(status));
    }
    absl::Mutex mu;
    CallReactor* reactor ABSL_GUARDED_BY(mu);
  };

  // Starts reading the next request (into the raw buffer).
  void StartReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    this->StartRead(&raw_request_);
  }

  // After a successful read: parses the request read into request_. False
  // when it does not parse: the call has failed (INVALID_ARGUMENT naming the
  // request by its number in the call).
  bool ParseRequestLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    const absl::Status parsed = ParseStreamRequest(++requests_read_, raw_request_, &request_);
    raw_request_.Clear();
    if (!parsed.ok()) FailLocked(parsed);
    return parsed.ok();
  }

  // Turns delivered results into responses with Enqueue().
  virtual void DeliverLocked(std::vector<ResultPiece> results)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) = 0;

  // Adds a response that carries results of weight `results` (see
  // ResultPiece::weight) to the write queue; the
  // caller then calls WriteNextLocked() (Deliver does).
  Response& Enqueue(uint64_t results) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    outbox_.emplace_back(Response(), results);
    return outbox_.back().first;
  }
  // The last queued response that has not started writing, or nullptr.
  std::pair<Response, uint64_t>* PendingBack() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (outbox_.size() <= (writing_ ? 1u : 0u)) return nullptr;
    return &outbox_.back();
  }

  // Serializes the front response and writes it, unless one is being
  // written; with none left, finishes if asked to.
  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (writing_) return;
    if (!outbox_.empty()) {
      const absl::Status serialized = SerializeResponse(outbox_.front().first, &write_buffer_);
      if (serialized.ok()) {
        writing_ = true;
        if (finish_requested_ && outbox_.size() == 1 && final_status_.ok()) {
          // The last response and the status in one operation (no
          // OnWriteDone follows; OnDone does).
          finished_ = true;
          this->StartWriteAndFinish(&write_buffer_, grpc::WriteOptions(), final_status_);
          return;
        }
        this->StartWrite(&write_buffer_);
        return;
      }
      // Past 2 GiB: this result cannot be sent, so the call cannot go on.
      outbox_.clear();
      if (opened_ && !finish_requested_) scheduler_->CancelCall(call_id_);
      finish_requested_ = true;
      final_status_ = ToGrpcStatus(serialized);
    }
    if (finish_requested_ && !finished_) {
      finished_ = true;
      this->Finish(final_status_);
    }
  }

  // Finishes once, after the responses already queued (all of them on
  // success; none that have not started on failure).
  void FinishLocked(grpc::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (finish_requested_) return;
    finish_requested_ = true;
    final_status_ = std::move(status);
    if (!final_status_.ok()) {
      while (outbox_.size() > (writing_ ? 1u : 0u)) outbox_.pop_back();
    }
    WriteNextLocked();
  }

  // Fails the call with `status`, cancelling it in the scheduler if open.
  void FailLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (opened_) scheduler_->CancelCall(call_id_);
    FinishLocked(ToGrpcStatus(status));
  }

  Scheduler* const scheduler_;
  std::shared_ptr<Sink> sink_;
  // The last request parsed by ParseRequestLocked().
  Request request_;
  bool opened_ = false;
  uint64_t call_id_ = 0;
  bool finish_requested_ = false;

  // Requests read so far (the number of the last one).
  uint64_t requests_read_ = 0;

 private:
  // Responses to write, each with the number of results it carries.
  // The front one is being written while writing_.
  std::deque<std::pair<Response, uint64_t>> outbox_;
  // The front response, serialized, while it is written.
  grpc::ByteBuffer write_buffer_;
  bool writing_ = false;
  // The request being read, as bytes.
  grpc::ByteBuffer raw_request_;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_CALL_REACTOR_H_
