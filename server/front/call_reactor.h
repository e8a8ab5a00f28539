// CallReactor: what the bidirectional calls (Map, Queue, Start) share on the
// gRPC side: the CallSink the scheduler talks to, a queue of responses
// written one at a time (each acknowledged to the scheduler with the number
// of results it carried), cancellation and the single Finish.
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
#include "server/front/status_convert.h"
#include "server/scheduler/call_sink.h"
#include "server/scheduler/scheduler.h"

namespace pprocd {

template <typename Request, typename Response>
class CallReactor : public grpc::ServerBidiReactor<Request, Response> {
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
    void Deliver(std::vector<ResultPtr> results) override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr && !reactor->finish_requested_) {
        reactor->DeliverLocked(std::move(results));
        reactor->WriteNextLocked();
      }
    }
    void WantInput() override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr && !reactor->finish_requested_) reactor->StartRead(&reactor->request_);
    }
    void Finish(absl::Status status) override {
      absl::MutexLock lock(&mu);
      if (reactor != nullptr) reactor->FinishLocked(ToGrpcStatus(status));
    }
    absl::Mutex mu;
    CallReactor* reactor ABSL_GUARDED_BY(mu);
  };

  // Turns delivered results into responses with Enqueue().
  virtual void DeliverLocked(std::vector<ResultPtr> results)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) = 0;

  // Adds a response that carries `results` results to the write queue; the
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

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sink_->mu) {
    if (writing_) return;
    if (!outbox_.empty()) {
      writing_ = true;
      this->StartWrite(&outbox_.front().first);
      return;
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
  Request request_;
  bool opened_ = false;
  uint64_t call_id_ = 0;
  bool finish_requested_ = false;

 private:
  // Responses to write, each with the number of results it carries.
  std::deque<std::pair<Response, uint64_t>> outbox_;
  bool writing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_CALL_REACTOR_H_
