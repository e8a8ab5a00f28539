#include "worker/worker_loop.h"

#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "pprocd/wire/v1/wire.pb.h"
#include "worker/framing.h"

namespace pprocd {
namespace {

constexpr int kExitProtocolError = 70;
// Results are sent when this many bytes are buffered, when an item was slow,
// and at the end of each task.
constexpr size_t kFlushBytes = 64 << 10;
constexpr uint64_t kSlowItemUs = 2000;

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

// Runs one item and records its outcome and wall time into `result`. CPU
// time and peak RSS are filled in per batch by BatchUsage (getrusage costs
// about a microsecond, more than a whole echo item).
void RunItem(const CallableDef* def, const google::protobuf::Value& input, v1::ItemResult* result) {
  const uint64_t start_us = NowUs();
  v1::ItemStats* stats = result->mutable_stats();
  stats->set_start_unix_us(RealtimeUs());
  BoundArgs args;
  absl::Status bound = BindArguments(*def, input, &args);
  if (!bound.ok()) {
    v1::ItemError* error = result->mutable_error();
    error->set_kind(v1::ERROR_KIND_INVALID_ARGUMENT);
    error->set_message(std::string(bound.message()));
  } else {
    absl::StatusOr<google::protobuf::Value> value = def->body(args);
    if (value.ok()) {
      *result->mutable_value() = std::move(*value);
    } else {
      v1::ItemError* error = result->mutable_error();
      error->set_kind(v1::ERROR_KIND_RAISED);
      error->set_message(std::string(value.status().message()));
    }
  }
  stats->set_wall_us(NowUs() - start_us);
  stats->set_worker_pid(getpid());
}

// Resource use of the process between two flushes of results, shared out
// to the items of the batch in proportion to their wall time (an item that
// is alone in its batch, as every slow one is, gets its exact figures).
class BatchUsage {
 public:
  BatchUsage() { getrusage(RUSAGE_SELF, &last_); }
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

}  // namespace

void RunWorker(int task_fd, const Registry& registry) {
  FrameReader reader;
  std::string payload;
  std::string out;
  wire::v1::TaskFrame task;
  wire::v1::ResultFrame batch;
  BatchUsage usage;
  while (true) {
    const absl::Status read = ReadFrameBlocking(task_fd, &reader, &payload);
    if (absl::IsNotFound(read)) std::_Exit(0);
    if (!read.ok()) Die("cannot read a task");
    if (!task.ParseFromString(payload)) Die("malformed task frame");
    const CallableDef* def = registry.Find(task.callable());
    batch.Clear();
    batch.set_task_id(task.task_id());
    uint64_t last_flush_us = NowUs();
    size_t pending_bytes = 0;
    for (int i = 0; i < task.inputs_size(); ++i) {
      v1::ItemResult* result = batch.add_results();
      result->set_index(static_cast<uint64_t>(i));
      if (def == nullptr) {
        result->mutable_error()->set_kind(v1::ERROR_KIND_INVALID_ARGUMENT);
        result->mutable_error()->set_message("unknown callable " + task.callable());
      } else {
        RunItem(def, task.inputs(i), result);
      }
      pending_bytes += result->ByteSizeLong();
      const uint64_t now_us = NowUs();
      const bool last = i + 1 == task.inputs_size();
      if (last || task.report_each() || now_us - last_flush_us >= kSlowItemUs ||
          pending_bytes >= kFlushBytes) {
        usage.Apply(&batch);
        out.clear();
        AppendFrame(batch, &out);
        if (!WriteAll(task_fd, out).ok()) std::_Exit(0);  // Server gone.
        batch.clear_results();
        last_flush_us = now_us;
        pending_bytes = 0;
      }
    }
  }
}

}  // namespace pprocd
