#include "worker/worker_loop.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/framing.h"
#include "base/json/json.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/struct.pb.h"
#include "pprocd/wire/v1/wire.pb.h"
#include "worker/item_limits.h"
#include "worker/output_capture.h"
#include "worker/result_batch.h"

namespace pprocd {
namespace {

constexpr int kExitProtocolError = 70;
// Results are sent when this many bytes are buffered, when an item was slow,
// and at the end of each task.
constexpr size_t kFlushBytes = 64 << 10;
constexpr uint64_t kSlowItemUs = 2000;
// A callable with a batch body gets as many consecutive items at once as
// take about this long together (the size doubles or halves from one
// batch to the next), at most kMaxBatchItems.
constexpr uint64_t kBatchTargetUs = 2000;
constexpr size_t kMaxBatchItems = 1024;
// A task's inputs are decoded onto an arena that starts with this block,
// kept from task to task: a small task allocates nothing.
constexpr size_t kArenaFirstBlockBytes = 256 << 10;
constexpr size_t kArenaMaxBlockBytes = 4 << 20;

uint64_t NowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

uint64_t RealtimeUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

[[noreturn]] void Die(absl::string_view what) {
  std::fprintf(stderr, "pprocd worker: %.*s\n", static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  std::_Exit(kExitProtocolError);
}

google::protobuf::ArenaOptions InputArenaOptions(char* first_block) {
  google::protobuf::ArenaOptions options;
  options.initial_block = first_block;
  options.initial_block_size = kArenaFirstBlockBytes;
  options.max_block_size = kArenaMaxBlockBytes;
  return options;
}

// One worker process's conversation with the server: reads TaskFrames, runs
// their items, and sends results (batched, see ResultBatch) and channel
// messages (at once).
class WorkerSession {
 public:
  WorkerSession(int task_fd, const Registry& registry)
      : fd_(task_fd),
        registry_(registry),
        arena_block_(new char[kArenaFirstBlockBytes]),
        arena_(InputArenaOptions(arena_block_.get())),
        results_(task_fd, getpid()) {}

  [[noreturn]] void Run() {
    wire::v1::TaskFrame task;
    while (true) {
      ReadTaskFrame(&task);
      // Input for a channel whose invocation has ended: nothing to do.
      if (task.has_channel_input()) continue;
      RunTask(task);
    }
  }

  // Sends one message of the running channel item.
  absl::Status SendMessage(google::protobuf::Value value) {
    wire::v1::ResultFrame frame;
    frame.set_task_id(task_id_);
    v1::ItemResult* message = frame.add_results();
    message->set_index(item_index_);
    message->set_seq(item_seq_++);
    *message->mutable_value() = std::move(value);
    TakeStandardOutput(message->mutable_logs());
    out_.clear();
    AppendFrame(frame, &out_);
    if (!WriteAll(fd_, out_).ok()) std::_Exit(0);  // Server gone.
    return absl::OkStatus();
  }

  // The next channel input of the running item; nullopt at its end.
  std::optional<google::protobuf::Value> ReceiveMessage() {
    while (received_.empty() && !input_ended_) {
      wire::v1::TaskFrame frame;
      ReadTaskFrame(&frame);
      if (!frame.has_channel_input()) Die("a task arrived while one was running");
      for (auto& message : *frame.mutable_channel_input()->mutable_messages()) {
        received_.push_back(std::move(message));
      }
      if (frame.channel_input().end()) input_ended_ = true;
    }
    if (received_.empty()) return std::nullopt;
    google::protobuf::Value next = std::move(received_.front());
    received_.pop_front();
    return next;
  }

 private:
  void ReadTaskFrame(wire::v1::TaskFrame* frame) {
    const absl::Status read = ReadFrameBlocking(fd_, &reader_, &payload_);
    if (absl::IsNotFound(read)) std::_Exit(0);
    if (!read.ok()) Die("cannot read a task");
    if (!frame->ParseFromString(payload_)) Die("malformed task frame");
  }

  // Decodes a task's packed inputs, in one pass, onto the arena (emptied
  // first: the previous task's inputs are no longer referenced).
  void DecodeInputs(const std::string& packed_inputs) {
    arena_.Reset();
    inputs_ = google::protobuf::Arena::CreateMessage<google::protobuf::ListValue>(&arena_);
    const absl::Status parsed = ParseJsonArray(packed_inputs, inputs_->mutable_values());
    if (!parsed.ok()) Die(absl::StrCat("malformed packed inputs: ", parsed.message()));
  }

  // Starts the task's clock: items' Unix start times are derived from the
  // monotonic clock, which is read once per item.
  uint64_t StartClock() {
    mono_base_us_ = NowUs();
    unix_base_us_ = RealtimeUs();
    return mono_base_us_;
  }
  uint64_t UnixUs(uint64_t mono_us) const { return unix_base_us_ + (mono_us - mono_base_us_); }

  void RunTask(const wire::v1::TaskFrame& task) {
    DecodeInputs(task.packed_inputs());
    const int count = inputs_->values_size();
    task_id_ = task.task_id();
    results_.StartTask(task.task_id(), task.packed_results(), task.item_stats());
    const CallableDef* def = registry_.Find(task.callable());
    // Items with a timeout report one by one: the server must know which
    // one is running.
    if (def != nullptr && def->batch_body && !task.report_each() && count > 1) {
      RunBatchedTask(*def);
      return;
    }
    // Each item's end is the next one's start (unless results were sent
    // in between): one clock reading per item.
    uint64_t start_us = StartClock();
    uint64_t last_flush_us = start_us;
    for (int i = 0; i < count; ++i) {
      // A channel item's messages must follow the results before it.
      if (def != nullptr && def->is_channel()) results_.Flush();
      uint64_t end_us = start_us;
      // Whether the results go out after this item: decided before it is
      // recorded, so that it is where output is looked for (see
      // CallableDef::writes_output).
      const auto flush_due = [&] {
        return i + 1 == count || task.report_each() || end_us - last_flush_us >= kSlowItemUs ||
               results_.pending_bytes() >= kFlushBytes;
      };
      bool flush;
      if (def == nullptr) {
        flush = flush_due();
        v1::ItemResult* result = results_.AddResult(static_cast<uint64_t>(i));
        result->mutable_error()->set_kind(v1::ERROR_KIND_INVALID_ARGUMENT);
        result->mutable_error()->set_message("unknown callable " + task.callable());
        result->set_last(true);
        results_.SetStats(result, {UnixUs(start_us), 0});
      } else {
        item_seq_ = 0;
        const absl::Status bound = BindArguments(*def, inputs_->values(i), &args_);
        absl::StatusOr<google::protobuf::Value> outcome =
            bound.ok()
                ? InvokeWithinLimits(*def, args_, static_cast<uint64_t>(i), task.channel_open())
                : bound;
        end_us = NowUs();
        flush = flush_due();
        Record(*def, static_cast<uint64_t>(i), outcome, {UnixUs(start_us), end_us - start_us},
               /*take_output=*/def->writes_output || flush || !outcome.ok(),
               /*invalid_argument=*/!bound.ok());
      }
      start_us = end_us;
      if (flush) {
        results_.Flush();
        last_flush_us = start_us = NowUs();
      }
    }
  }

  // Adds the outcome of item `index` to the results: a successful value
  // in a block when the task is packed and nothing keeps it out of one
  // (output written, a bytes result, a channel item), anything else as an
  // ItemResult. With `take_output`, what the item wrote to stdout and
  // stderr becomes its logs. `invalid_argument`: the failure is the
  // input's, not the callable's. May move the value out of `outcome`.
  void Record(const CallableDef& def, uint64_t index,
              absl::StatusOr<google::protobuf::Value>& outcome, const ItemTiming& timing,
              bool take_output, bool invalid_argument) {
    v1::ItemResult* result;
    if (outcome.ok()) {
      // A callable that returns nothing returns null.
      if (outcome->kind_case() == google::protobuf::Value::KIND_NOT_SET) {
        outcome->set_null_value({});
      }
      const bool bytes = def.bytes_result && outcome->has_string_value();
      if (take_output) TakeStandardOutput(&logs_);
      if (results_.packed() && logs_.empty() && !bytes && !def.is_channel()) {
        results_.AddValue(index, *outcome, timing);
        return;
      }
      result = results_.AddResult(index);
      if (bytes) {
        result->set_data(std::move(*outcome->mutable_string_value()));
      } else {
        *result->mutable_value() = std::move(*outcome);
      }
      result->mutable_logs()->Swap(&logs_);
    } else {
      result = results_.AddResult(index);
      v1::ItemError* error = result->mutable_error();
      if (invalid_argument) {
        error->set_kind(v1::ERROR_KIND_INVALID_ARGUMENT);
      } else {
        error->set_stderr_tail(StderrTail());
        error->set_kind(FailureKind(outcome.status(), def.limits, error->stderr_tail()));
      }
      error->set_message(std::string(outcome.status().message()));
      if (take_output) TakeStandardOutput(result->mutable_logs());
    }
    if (def.is_channel()) result->set_seq(item_seq_);
    result->set_last(true);
    results_.SetStats(result, timing);
  }

  // Runs a task of a callable with a batch body: runs of consecutive items
  // go to it together (see kBatchTargetUs; the size is kept for the
  // callable's next task). Results are as RunTask's, except that what a
  // batch writes goes to the logs of the last item it answered (a command
  // that ends its batch at the first item that writes keeps it exact) and
  // that its wall time is shared out evenly. A lost batch runs again one
  // item at a time.
  void RunBatchedTask(const CallableDef& def) {
    const int count = inputs_->values_size();
    std::vector<BoundArgs> args(static_cast<size_t>(count));
    std::vector<absl::Status> bound(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) bound[i] = BindArguments(def, inputs_->values(i), &args[i]);
    size_t& batch_size = batch_sizes_.try_emplace(&def, 1).first->second;
    uint64_t start_us = StartClock();
    uint64_t last_flush_us = start_us;
    // Items before this one run alone (the batch they were in was lost).
    int alone_until = 0;
    int next = 0;
    while (next < count) {
      const int first = next;
      std::vector<absl::StatusOr<google::protobuf::Value>> outcomes;
      if (!bound[first].ok()) {
        outcomes.push_back(bound[first]);
      } else {
        const size_t wanted = first < alone_until ? 1 : batch_size;
        int end = first + 1;
        while (end < count && static_cast<size_t>(end - first) < wanted && bound[end].ok()) ++end;
        {
          const ScopedItemLimits limits(def.limits);
          try {
            outcomes = def.batch_body(absl::MakeConstSpan(args).subspan(
                static_cast<size_t>(first), static_cast<size_t>(end - first)));
          } catch (const std::bad_alloc&) {
            outcomes.clear();
            outcomes.push_back(absl::ResourceExhaustedError(
                absl::StrCat(def.name, " ran out of memory (its limit is ",
                             def.limits.max_memory_mib(), " MiB)")));
          }
        }
        if (outcomes.empty() && end - first > 1) {
          alone_until = end;
          continue;
        }
        if (outcomes.empty()) outcomes.push_back(absl::InternalError("the invocation was lost"));
        if (outcomes.size() > static_cast<size_t>(end - first)) outcomes.resize(end - first);
      }
      const uint64_t end_us = NowUs();
      const uint64_t wall_us = end_us - start_us;
      const size_t answered = outcomes.size();
      if (bound[first].ok() && first >= alone_until) {
        if (answered == batch_size && wall_us * 2 < kBatchTargetUs) {
          batch_size = std::min(batch_size * 2, kMaxBatchItems);
        } else if (wall_us > 2 * kBatchTargetUs) {
          batch_size = std::max<size_t>(batch_size / 2, 1);
        }
      }
      const ItemTiming timing{UnixUs(start_us), wall_us / answered};
      for (size_t k = 0; k < answered; ++k) {
        Record(def, static_cast<uint64_t>(first) + k, outcomes[k], timing,
               /*take_output=*/k + 1 == answered, /*invalid_argument=*/!bound[first].ok());
      }
      next = first + static_cast<int>(answered);
      start_us = end_us;
      if (next == count || end_us - last_flush_us >= kSlowItemUs ||
          results_.pending_bytes() >= kFlushBytes) {
        results_.Flush();
        last_flush_us = start_us = NowUs();
      }
    }
  }

  absl::StatusOr<google::protobuf::Value> Invoke(const CallableDef& def, const BoundArgs& args,
                                                 uint64_t index, bool channel_open);

  // Invoke() under the callable's resource limits. Memory exhausted under
  // a memory limit (std::bad_alloc) is the item's ResourceExhausted.
  absl::StatusOr<google::protobuf::Value> InvokeWithinLimits(const CallableDef& def,
                                                             const BoundArgs& args, uint64_t index,
                                                             bool channel_open) {
    const ScopedItemLimits limits(def.limits);
    try {
      return Invoke(def, args, index, channel_open);
    } catch (const std::bad_alloc&) {
      return absl::ResourceExhaustedError(absl::StrCat(
          def.name, " ran out of memory (its limit is ", def.limits.max_memory_mib(), " MiB)"));
    }
  }

  const int fd_;
  const Registry& registry_;
  FrameReader reader_;
  std::string payload_;
  std::string out_;
  // The running task's inputs, on arena_ (whose first block is arena_block_).
  std::unique_ptr<char[]> arena_block_;
  google::protobuf::Arena arena_;
  google::protobuf::ListValue* inputs_ = nullptr;
  ResultBatch results_;
  // Reused from item to item.
  BoundArgs args_;
  LogRecords logs_;
  // The running task's clock: a monotonic reading and the Unix time then.
  uint64_t mono_base_us_ = 0;
  uint64_t unix_base_us_ = 0;
  // The batch size of each callable with a batch body.
  std::map<const CallableDef*, size_t> batch_sizes_;
  // The running task and channel item.
  uint64_t task_id_ = 0;
  uint64_t item_index_ = 0;
  uint64_t item_seq_ = 0;
  std::deque<google::protobuf::Value> received_;
  bool input_ended_ = true;
};

// The Channel a channel callable sees: a view of its session.
class SessionChannel : public Channel {
 public:
  explicit SessionChannel(WorkerSession* session) : session_(session) {}
  absl::Status Send(google::protobuf::Value value) override {
    return session_->SendMessage(std::move(value));
  }
  absl::StatusOr<std::optional<google::protobuf::Value>> Receive() override {
    return session_->ReceiveMessage();
  }

 private:
  WorkerSession* session_;
};

absl::StatusOr<google::protobuf::Value> WorkerSession::Invoke(const CallableDef& def,
                                                              const BoundArgs& args, uint64_t index,
                                                              bool channel_open) {
  if (!def.is_channel()) return def.body(args);
  item_index_ = index;
  item_seq_ = 0;
  received_.clear();
  input_ended_ = !channel_open;
  SessionChannel channel(this);
  return def.channel_body(args, channel);
}

}  // namespace

void RunWorker(int task_fd, const Registry& registry) { WorkerSession(task_fd, registry).Run(); }

}  // namespace pprocd
