#include "worker/worker_loop.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "pprocd/wire/v1/wire.pb.h"
#include "worker/framing.h"
#include "worker/item_limits.h"
#include "worker/output_capture.h"

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

uint64_t NowUs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

uint64_t CpuUs(const rusage& usage) {
  auto us = [](const timeval& tv) {
    return static_cast<uint64_t>(tv.tv_sec) * 1000000u + static_cast<uint64_t>(tv.tv_usec);
  };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "pprocd worker: %s\n", what);
  std::fflush(stderr);
  std::_Exit(kExitProtocolError);
}

uint64_t RealtimeUs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

// Resource use of the process between two flushes of results, shared out
// to the items of the batch in proportion to their wall time (an item that
// is alone in its batch, as every slow one is, gets its exact figures).
class BatchUsage {
 public:
  BatchUsage() { Restart(); }
  // Starts counting from now (a task begins: the time idle before it
  // is nobody's).
  void Restart() { getrusage(RUSAGE_SELF, &last_); }
  void Apply(wire::v1::ResultFrame* batch) {
    rusage now;
    getrusage(RUSAGE_SELF, &now);
    const uint64_t cpu_us = CpuUs(now) - CpuUs(last_);
    last_ = now;
    uint64_t wall_total = 0;
    for (const auto& result : batch->results()) wall_total += result.stats().wall_us();
    const int count = batch->results_size();
    for (auto& result : *batch->mutable_results()) {
      v1::ItemStats* stats = result.mutable_stats();
      stats->set_cpu_us(wall_total > 0 ? cpu_us * stats->wall_us() / wall_total
                                       : cpu_us / static_cast<uint64_t>(count));
      stats->set_max_rss_kib(static_cast<uint64_t>(now.ru_maxrss));
    }
  }

 private:
  rusage last_;
};

// One worker process's conversation with the server: reads TaskFrames, runs
// their items, and sends results (batched) and channel messages (at once).
class WorkerSession {
 public:
  WorkerSession(int task_fd, const Registry& registry) : fd_(task_fd), registry_(registry) {}

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

  void RunTask(const wire::v1::TaskFrame& task) {
    const CallableDef* def = registry_.Find(task.callable());
    // Items with a timeout report one by one: the server must know which
    // one is running.
    if (def != nullptr && def->batch_body && !task.report_each() && task.inputs_size() > 1) {
      RunBatchedTask(task, *def);
      return;
    }
    batch_.Clear();
    batch_.set_task_id(task.task_id());
    task_id_ = task.task_id();
    usage_.Restart();
    uint64_t last_flush_us = NowUs();
    size_t pending_bytes = 0;
    for (int i = 0; i < task.inputs_size(); ++i) {
      // A channel item's messages must follow the results before it.
      if (def != nullptr && def->is_channel()) FlushBatch();
      v1::ItemResult* result = batch_.add_results();
      result->set_index(static_cast<uint64_t>(i));
      if (def == nullptr) {
        result->mutable_error()->set_kind(v1::ERROR_KIND_INVALID_ARGUMENT);
        result->mutable_error()->set_message("unknown callable " + task.callable());
        result->set_last(true);
      } else {
        RunItem(*def, task.inputs(i), static_cast<uint64_t>(i), task.channel_open(), result);
      }
      pending_bytes += result->ByteSizeLong();
      const uint64_t now_us = NowUs();
      const bool last = i + 1 == task.inputs_size();
      if (last || task.report_each() || now_us - last_flush_us >= kSlowItemUs ||
          pending_bytes >= kFlushBytes) {
        FlushBatch();
        last_flush_us = now_us;
        pending_bytes = 0;
      }
    }
  }

  // Runs one item and records its outcome, logs and wall time into
  // `result`. CPU time and peak RSS are filled in per batch by BatchUsage
  // (getrusage costs about a microsecond, more than a whole echo item).
  void RunItem(const CallableDef& def, const google::protobuf::Value& input, uint64_t index,
               bool channel_open, v1::ItemResult* result) {
    const uint64_t start_us = NowUs();
    v1::ItemStats* stats = result->mutable_stats();
    stats->set_start_unix_us(RealtimeUs());
    BoundArgs args;
    absl::Status bound = BindArguments(def, input, &args);
    if (!bound.ok()) {
      v1::ItemError* error = result->mutable_error();
      error->set_kind(v1::ERROR_KIND_INVALID_ARGUMENT);
      error->set_message(std::string(bound.message()));
    } else {
      RecordOutcome(def, InvokeWithinLimits(def, args, index, channel_open), result);
    }
    if (def.is_channel()) result->set_seq(item_seq_);
    result->set_last(true);
    TakeStandardOutput(result->mutable_logs());
    stats->set_wall_us(NowUs() - start_us);
    stats->set_worker_pid(getpid());
  }

  // Puts an invocation's value, or its error with the stderr tail, into
  // `result`.
  static void RecordOutcome(const CallableDef& def, absl::StatusOr<google::protobuf::Value> value,
                            v1::ItemResult* result) {
    if (value.ok()) {
      // A callable that returns nothing returns null.
      if (value->kind_case() == google::protobuf::Value::KIND_NOT_SET) value->set_null_value({});
      if (def.bytes_result && value->has_string_value()) {
        result->set_data(std::move(*value->mutable_string_value()));
      } else {
        *result->mutable_value() = std::move(*value);
      }
    } else {
      v1::ItemError* error = result->mutable_error();
      error->set_stderr_tail(StderrTail());
      error->set_kind(FailureKind(value.status(), def.limits, error->stderr_tail()));
      error->set_message(std::string(value.status().message()));
    }
  }

  // Runs a task of a callable with a batch body: runs of consecutive items
  // go to it together (see kBatchTargetUs; the size is kept for the
  // callable's next task). Results are as RunItem's, except that what a
  // batch writes goes to the logs of the last item it answered (a command
  // that ends its batch at the first item that writes keeps it exact) and
  // that its wall time is shared out evenly. A lost batch runs again one
  // item at a time.
  void RunBatchedTask(const wire::v1::TaskFrame& task, const CallableDef& def) {
    batch_.Clear();
    batch_.set_task_id(task.task_id());
    task_id_ = task.task_id();
    usage_.Restart();
    const int count = task.inputs_size();
    std::vector<BoundArgs> args(static_cast<size_t>(count));
    std::vector<absl::Status> bound(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) bound[i] = BindArguments(def, task.inputs(i), &args[i]);
    size_t& batch_size = batch_sizes_.try_emplace(&def, 1).first->second;
    uint64_t last_flush_us = NowUs();
    size_t pending_bytes = 0;
    // Items before this one run alone (the batch they were in was lost).
    int alone_until = 0;
    int next = 0;
    while (next < count) {
      const int first = next;
      const uint64_t start_us = NowUs();
      const uint64_t start_unix_us = RealtimeUs();
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
      const uint64_t wall_us = NowUs() - start_us;
      const size_t answered = outcomes.size();
      if (bound[first].ok() && first >= alone_until) {
        if (answered == batch_size && wall_us * 2 < kBatchTargetUs) {
          batch_size = std::min(batch_size * 2, kMaxBatchItems);
        } else if (wall_us > 2 * kBatchTargetUs) {
          batch_size = std::max<size_t>(batch_size / 2, 1);
        }
      }
      v1::ItemResult* result = nullptr;
      for (size_t k = 0; k < answered; ++k) {
        result = batch_.add_results();
        result->set_index(static_cast<uint64_t>(first) + k);
        v1::ItemStats* stats = result->mutable_stats();
        stats->set_start_unix_us(start_unix_us);
        stats->set_wall_us(wall_us / answered);
        stats->set_worker_pid(getpid());
        if (bound[first].ok()) {
          RecordOutcome(def, std::move(outcomes[k]), result);
        } else {
          v1::ItemError* error = result->mutable_error();
          error->set_kind(v1::ERROR_KIND_INVALID_ARGUMENT);
          error->set_message(std::string(bound[first].message()));
        }
        result->set_last(true);
        pending_bytes += result->ByteSizeLong();
      }
      TakeStandardOutput(result->mutable_logs());
      next = first + static_cast<int>(answered);
      const uint64_t now_us = NowUs();
      if (next == count || now_us - last_flush_us >= kSlowItemUs || pending_bytes >= kFlushBytes) {
        FlushBatch();
        last_flush_us = now_us;
        pending_bytes = 0;
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

  void FlushBatch() {
    if (batch_.results_size() == 0) return;
    usage_.Apply(&batch_);
    out_.clear();
    AppendFrame(batch_, &out_);
    if (!WriteAll(fd_, out_).ok()) std::_Exit(0);  // Server gone.
    batch_.clear_results();
  }

  const int fd_;
  const Registry& registry_;
  FrameReader reader_;
  std::string payload_;
  std::string out_;
  wire::v1::ResultFrame batch_;
  BatchUsage usage_;
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
