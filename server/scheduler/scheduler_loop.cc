#include "server/scheduler/scheduler_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "base/status_macros.h"
#include "server/scheduler/chunking.h"
#include "server/scheduler/dispatch.h"
#include "server/scheduler/event_log.h"
#include "worker/output_capture.h"

namespace pprocd {
namespace {

constexpr int kStderrTailLines = 20;
constexpr uint64_t kWorkerIdShift = 2;
// Bytes of a worker's stderr file read for a failure's stderr tail.
constexpr size_t kStderrTailBytes = 4096;
// How often busy workers' output files are checked for runaway size.
constexpr uint64_t kOutputCheckUs = 200000;
// A Python worker idle this long retires (its pool shrinks), and a worker
// of the registered callables takes its place in the budget.
constexpr uint64_t kPythonIdleRetireUs = 10 * 1000 * 1000;

}  // namespace

SchedulerLoop::SchedulerLoop(const SchedulerLoopContext& context, TemplateProcess template_process)
    : options_(context.options),
      registry_(context.registry),
      queued_items_(context.queued_items),
      loop_exited_(context.loop_exited),
      pool_(std::make_unique<TemplateProcess>(std::move(template_process))),
      events_(context.events),
      clock_(*context.options.clock),
      started_(clock_.Now()) {}

absl::Status SchedulerLoop::Init() {
  Watch(pool_.FindTemplate(pool_.generation())->control_fd(), Source::kTemplate, pool_.generation(),
        EPOLLIN);
  for (uint32_t i = 0; i < options_.workers; ++i) SpawnWorker();
  return absl::OkStatus();
}

void SchedulerLoop::Watch(int fd, Source source, uint64_t worker_id, uint32_t events) {
  events_.Watch(fd, (worker_id << kWorkerIdShift) | static_cast<uint64_t>(source), events);
}

void SchedulerLoop::Unwatch(int fd) { events_.Unwatch(fd); }

void SchedulerLoop::Run() {
  const auto on_ready = [this](uint64_t tag, uint32_t events) { HandleReady(tag, events); };
  while (!stopping_ && !events_.closed()) {
    if (absl::Status waited = events_.RunOnce(NextWakeMs(), on_ready); !waited.ok()) {
      LogError("the scheduler stops", {{"error", waited.ToString()}});
      break;
    }
    CheckTimeouts();
    if (SuppressedEventsDueUs() != UINT64_MAX) FlushSuppressedEvents(NowUs());
    CheckOutputSizes();
    CheckPythonStarts();
    RetireIdlePythonWorkers();
    const absl::Time now = clock_.Now();
    for (uint32_t owed = pool_.backoff().TakeOwedIfDue(now); owed > 0; --owed) SpawnWorker();
    if (now >= retry_template_read_at_) {
      retry_template_read_at_ = absl::InfiniteFuture();
      for (const auto& [generation, template_process] : pool_.templates()) {
        Watch(template_process->control_fd(), Source::kTemplate, generation, EPOLLIN);
      }
    }
    Dispatch();
    FlushCalls();
  }
  // Refuse new commands, then take those already posted (a call may have
  // been opened meanwhile) so that Shutdown() finishes every call.
  stopping_ = true;
  events_.Close();
  events_.RunPosted();
  Shutdown();
  loop_exited_.store(true, std::memory_order_release);
}

void SchedulerLoop::HandleReady(uint64_t tag, uint32_t events) {
  const auto source = static_cast<Source>(tag & ((1u << kWorkerIdShift) - 1));
  const uint64_t id = tag >> kWorkerIdShift;
  if (source == Source::kTemplate) return HandleTemplate(id);
  WorkerSlot* found = pool_.Find(id);
  if (found == nullptr) return;
  WorkerSlot& worker = *found;
  if ((events & EPOLLOUT) && !worker.outbox.empty()) SendTask(worker);
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) HandleTask(worker);
}

// --- Worker results ------------------------------------------------------

void SchedulerLoop::HandleTask(WorkerSlot& worker) {
  // One read per readiness event: epoll is level-triggered and calls again.
  // A FRESH worker sends one result: a small buffer spares zero-filling a
  // large one per process.
  const absl::Status read =
      worker.reader.ReadFrom(worker.task_fd.get(), worker.fresh ? (64u << 10) : (1u << 20));
  while (true) {
    std::string_view payload;
    bool got = false;
    const absl::Status next = worker.reader.Next(&payload, &got);
    if (!next.ok()) {
      LogWarn("killing a worker: its result stream is broken",
              {{"pid", worker.pid}, {"error", next.ToString()}});
      pool_.Kill(worker, KillReason::kNone);
      break;
    }
    if (!got) break;
    HandleResultFrame(worker, absl::string_view(payload.data(), payload.size()));
  }
  if (worker.reader.eof() || !read.ok()) {
    // The worker is gone; its WorkerExited event settles the accounts.
    Unwatch(worker.task_fd.get());
    worker.task_fd.Reset();
    if (worker.state == WorkerState::kIdle) pool_.MoveWorker(worker, WorkerState::kExiting);
    pool_.LeaveIdle(worker.id);
  }
}

void SchedulerLoop::HandleResultFrame(WorkerSlot& worker, absl::string_view payload) {
  if (!result_frame_.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    LogWarn("killing a worker: it sent a malformed result", {{"pid", worker.pid}});
    pool_.Kill(worker, KillReason::kNone);
    return;
  }
  if (!worker.busy() || result_frame_.task_id() != worker.task.id) return;
  CallState* call = calls_.Find(worker.task.call_id);
  const uint64_t now_us = NowUs();
  // Take ownership of the parsed results and blocks: they move on by
  // pointer. Merged by index they must continue the task's items in order.
  auto* parsed = result_frame_.mutable_results();
  std::vector<v1::ItemResult*> results(parsed->size());
  parsed->ExtractSubrange(0, parsed->size(), results.data());
  auto* parsed_blocks = result_frame_.mutable_blocks();
  std::vector<v1::ResultBlock*> blocks(parsed_blocks->size());
  parsed_blocks->ExtractSubrange(0, parsed_blocks->size(), blocks.data());
  std::vector<ResultPiece> pieces;
  pieces.reserve(results.size() + blocks.size());
  for (v1::ItemResult* raw : results) pieces.emplace_back(ResultPtr(raw));
  for (v1::ResultBlock* raw : blocks) pieces.emplace_back(BlockPtr(raw));
  if (!blocks.empty() && !results.empty()) {
    std::stable_sort(pieces.begin(), pieces.end(), [](const ResultPiece& a, const ResultPiece& b) {
      return a.index() < b.index();
    });
  }
  const int task_items = static_cast<int>(worker.task.indices.size());
  for (ResultPiece& piece : pieces) {
    const uint64_t count = piece.block ? piece.block->count() : 1;
    if (piece.index() != static_cast<uint64_t>(worker.task.reported) || count == 0 ||
        static_cast<uint64_t>(task_items - worker.task.reported) < count ||
        (piece.result && !piece.result->last() && !worker.task.channel) ||
        (piece.block && !worker.task.packed_results)) {
      LogWarn("killing a worker: it answered out of order", {{"pid", worker.pid}});
      pool_.Kill(worker, KillReason::kNone);
      return;
    }
    if (piece.result && !piece.result->last()) {
      // A message of a channel callable: its item goes on running.
      piece.result->set_index(worker.current_index());
      ++worker.task.item_seq;
      if (call != nullptr) call->AddResult(std::move(piece));
      continue;
    }
    if (piece.result) {
      piece.result->set_index(worker.current_index());
      if (piece.result->has_error()) {
        ++items_failed_;
      } else {
        ++items_completed_;
      }
      ++worker.task.reported;
      if (call != nullptr) {
        --call->running;
        call->AddResult(std::move(piece));
      }
    } else {
      items_completed_ += count;
      DeliverBlock(worker, std::move(piece.block), call);
    }
    worker.task.item_seq = 0;
    worker.task.item_started_us = now_us;
  }
  if (call != nullptr) calls_.MarkDirty(call->id);
  if (worker.unreported() == 0 && worker.kill_reason == KillReason::kNone) {
    if (call != nullptr && call->channel_worker == worker.id) call->channel_worker = 0;
    ReleaseCallableSlot(worker);
    pool_.MoveWorker(worker, WorkerState::kIdle);
    worker.paused = false;
    UpdateWatch(worker);
    worker.items_run += worker.task.indices.size();
    worker.EndTask();
    const uint64_t max_items = options_.max_tasks_per_worker;
    if (worker.fresh) {
      Retire(worker);
    } else if (max_items > 0 && worker.items_run >= max_items) {
      Retire(worker);
      ++workers_recycled_;
      ObserveRespawn(KillReason::kNone, /*recycled=*/true, worker.pid);
      SpawnWorker(false, 0, worker.generation);
    } else if (!IsCurrentTemplate(worker.generation)) {
      // Its callables were reloaded, or its Python module changed.
      Retire(worker);
      if (!IsPythonTemplate(worker.generation)) SpawnWorker();
    } else {
      pool_.MarkIdle(worker, NowUs());
    }
  }
}

void SchedulerLoop::AttributeUnreported(WorkerSlot& worker, CallState* call, int exit_code,
                                        int signal_number) {
  DeadWorkerFacts facts;
  facts.kill_reason = worker.kill_reason;
  facts.report_each = worker.task.report_each;
  facts.signal_number = signal_number;
  facts.exit_code = exit_code;
  facts.first = worker.task.reported;
  facts.items = static_cast<int>(worker.task.indices.size());
  call->running -= static_cast<uint64_t>(worker.unreported());
  if (call->channel_worker == worker.id) call->channel_worker = 0;
  if (worker.kill_reason == KillReason::kCancelItems) {
    for (int i = facts.first; i < facts.items; ++i) {
      facts.cancelled.push_back(call->cancelling.erase(worker.task.indices[i]) > 0);
    }
  }
  const Attribution decision = AttributeDeath(facts);
  std::vector<InputRun> again;
  for (const auto& [from, to] : decision.again) {
    for (InputRun& run : worker.RunsOf(from, to)) again.push_back(std::move(run));
  }
  switch (decision.verdict) {
    case Verdict::kNothing:
      return;
    case Verdict::kRunEachAlone:
      RequeueFront(*call, worker, facts.first, /*solo=*/true);
      return;
    case Verdict::kCancelItems:
      for (const int offset : decision.cancelled) {
        ResultPtr result = FailedItemResult(worker, worker.task.indices[offset]);
        if (offset != facts.first) result->set_seq(0);
        result->mutable_error()->set_kind(v1::ERROR_KIND_CANCELLED);
        result->mutable_error()->set_message(
            absl::StrCat("cancelled while running; worker ", worker.pid, " was killed"));
        ++items_failed_;
        call->AddResult(std::move(result));
      }
      break;
    case Verdict::kBlameFirst:
      call->AddResult(BlamedItemResult(worker, *call, decision.blame, exit_code, signal_number));
      break;
  }
  const uint64_t before = call->pending_items;
  call->PushPendingFront(std::move(again));
  queued_items_.fetch_add(call->pending_items - before, std::memory_order_relaxed);
}

ResultPtr SchedulerLoop::BlamedItemResult(WorkerSlot& worker, const CallState& call, Blame blame,
                                          int exit_code, int signal_number) {
  ResultPtr result = FailedItemResult(worker, worker.task.indices[worker.task.reported]);
  v1::ItemError* error = result->mutable_error();
  switch (blame) {
    case Blame::kTimedOut:
      error->set_kind(v1::ERROR_KIND_TIMED_OUT);
      error->set_message(absl::StrCat("timed out after ", worker.task.timeout_ms, " ms; worker ",
                                      worker.pid, " was killed"));
      ++items_failed_;
      return result;
    case Blame::kCpuLimit:
      error->set_kind(v1::ERROR_KIND_CPU_LIMIT);
      error->set_signal(SignalName(signal_number));
      error->set_message(absl::StrCat(call.callable, " used up its CPU time limit; worker ",
                                      worker.pid, " was killed"));
      break;
    case Blame::kSignal:
      error->set_kind(v1::ERROR_KIND_CRASHED);
      error->set_signal(SignalName(signal_number));
      error->set_message(absl::StrCat("worker ", worker.pid, " was killed by ",
                                      SignalName(signal_number), " (", strsignal(signal_number),
                                      ")"));
      break;
    case Blame::kExitCode:
      error->set_kind(v1::ERROR_KIND_CRASHED);
      error->set_exit_code(exit_code);
      error->set_message(absl::StrCat("worker ", worker.pid, " exited with status ", exit_code));
      break;
  }
  ++items_crashed_;
  return result;
}

ResultPtr SchedulerLoop::FailedItemResult(WorkerSlot& worker, uint64_t index) {
  auto result = std::make_unique<v1::ItemResult>();
  result->set_index(index);
  result->set_seq(worker.task.item_seq);
  result->set_last(true);
  v1::ItemError* error = result->mutable_error();
  OutputTail tail;
  tail.Append(ReadOutputTail(worker.stderr_fd.get(), kStderrTailBytes));
  error->set_stderr_tail(tail.LastLines(kStderrTailLines));
  // What the item wrote before it died goes with its failure, once.
  TakeOutput(worker.stdout_fd.get(), v1::LOG_STREAM_STDOUT, result->mutable_logs());
  TakeOutput(worker.stderr_fd.get(), v1::LOG_STREAM_STDERR, result->mutable_logs());
  result->mutable_stats()->set_worker_pid(worker.pid);
  result->mutable_stats()->set_wall_us(NowUs() - worker.task.item_started_us);
  return result;
}

void SchedulerLoop::RequeueFront(CallState& call, WorkerSlot& worker, int from, bool solo) {
  std::vector<InputRun> runs = worker.RunsOf(static_cast<size_t>(from), worker.task.indices.size());
  if (solo) {
    std::vector<InputRun> alone;
    for (const InputRun& run : runs) {
      for (uint64_t k = 0; k < run.size(); ++k) {
        InputRun one = run;
        one.Drop(k);
        one.end = one.begin + 1;
        one.solo = true;
        alone.push_back(std::move(one));
      }
    }
    runs.swap(alone);
  }
  const uint64_t before = call.pending_items;
  call.PushPendingFront(std::move(runs));
  queued_items_.fetch_add(call.pending_items - before, std::memory_order_relaxed);
}

void SchedulerLoop::DeliverBlock(WorkerSlot& worker, BlockPtr block, CallState* call) {
  const uint64_t count = block->count();
  const size_t first = static_cast<size_t>(worker.task.reported);
  worker.task.reported += static_cast<int>(count);
  if (call == nullptr) return;
  call->running -= count;
  // A block of the task's items is one of the call's when their indices
  // follow each other (a task spans runs only when they do, except after a
  // cancel or a re-run); otherwise it is cut where they do not.
  size_t cut = first;
  for (size_t k = first + 1; k <= first + count; ++k) {
    if (k < first + count && worker.task.indices[k] == worker.task.indices[k - 1] + 1) continue;
    if (cut == first && k == first + count) {
      block->set_first_index(worker.task.indices[first]);
      call->AddResult(ResultPiece(std::move(block)));
      return;
    }
    cut = k;
  }
  std::vector<JsonElement> elements;
  if (!SplitJsonArray(block->values(), &elements).ok() || elements.size() != count) {
    // Its items are not lost: they fail, and the worker is replaced.
    LogWarn("killing a worker: it sent a malformed result block", {{"pid", worker.pid}});
    for (size_t k = first; k < first + count; ++k) {
      auto result = std::make_unique<v1::ItemResult>();
      result->set_index(worker.task.indices[k]);
      result->set_last(true);
      result->mutable_error()->set_kind(v1::ERROR_KIND_CRASHED);
      result->mutable_error()->set_message(
          absl::StrCat("worker ", worker.pid, " sent a malformed result and was killed"));
      call->AddResult(std::move(result));
    }
    pool_.Kill(worker, KillReason::kNone);
    return;
  }
  size_t from = first;
  for (size_t k = first + 1; k <= first + count; ++k) {
    if (k < first + count && worker.task.indices[k] == worker.task.indices[k - 1] + 1) continue;
    auto part = std::make_unique<v1::ResultBlock>();
    part->set_first_index(worker.task.indices[from]);
    part->set_count(static_cast<uint32_t>(k - from));
    std::string values = "[";
    const JsonElement& begin = elements[from - first];
    const JsonElement& last = elements[k - 1 - first];
    values.append(block->values(), begin.begin, last.end - begin.begin);
    values.push_back(']');
    part->set_values(std::move(values));
    if (block->item_stats_size() == static_cast<int>(count)) {
      for (size_t i = from; i < k; ++i) *part->add_item_stats() = block->item_stats(i - first);
    }
    if (from == first && block->has_stats()) *part->mutable_stats() = block->stats();
    call->AddResult(ResultPiece(std::move(part)));
    from = k;
  }
}

// --- Dispatch ------------------------------------------------------------

void SchedulerLoop::Dispatch() {
  SpawnFreshWorkers();
  if (calls_.empty()) return;
  while (pool_.any_idle()) {
    // The next runnable pooled call with room and an idle worker of its
    // template.
    auto next = NextCallToServe(calls_.by_id(), last_served_call_, [this](const CallState& call) {
      return call.runnable() && !call.fresh() && CallableHasRoom(call) &&
             pool_.HasIdle(TemplateOf(call));
    });
    if (next == calls_.by_id().end()) break;
    CallState& call = next->second;
    WorkerSlot* worker = pool_.TakeIdle(TemplateOf(call));
    if (worker == nullptr) break;  // Not reached: HasIdle said there is one.
    last_served_call_ = call.id;
    AssignTask(*worker, call);
  }
  ProvideWorkers();
}

void SchedulerLoop::ProvideWorkers() {
  if (stopping_ || pool_.backoff().waiting()) return;
  std::vector<uint64_t> wanting;
  for (const auto& [id, call] : calls_) {
    if (!call.runnable() || call.fresh() || !CallableHasRoom(call)) continue;
    const uint64_t template_id = TemplateOf(call);
    if (pool_.FindTemplate(template_id) == nullptr) continue;
    if (std::find(wanting.begin(), wanting.end(), template_id) == wanting.end()) {
      wanting.push_back(template_id);
    }
  }
  if (wanting.empty()) return;
  uint32_t live = pool_.LivePooled();
  const uint32_t budget = options_.workers;
  for (const uint64_t template_id : wanting) {
    // One start at a time per template: a pool grows as its workers come.
    if (pool_.StartingOf(template_id) > 0) continue;
    if (live >= budget) {
      // Make room: an idle worker of another template retires.
      WorkerSlot* spare = pool_.IdleNotOf(template_id);
      if (spare == nullptr) continue;
      Retire(*spare);
      --live;
    }
    SpawnWorker(false, 0, template_id);
    ++live;
  }
}

void SchedulerLoop::SpawnFreshWorkers() {
  const uint32_t max_fresh =
      options_.max_fresh_workers > 0 ? options_.max_fresh_workers : options_.workers;
  // After a failed start, nothing is asked for until the backoff is over.
  if (pool_.backoff().waiting()) return;
  for (auto& [id, call] : calls_) {
    if (!call.fresh() || call.awaiting_template) continue;
    const uint32_t limit = call.options.limit();
    while (pool_.fresh_alive() < max_fresh && call.pending_items > call.fresh_starting &&
           (limit == 0 || call.running + call.fresh_starting < limit) &&
           (call.max_concurrent == 0 ||
            busy_by_callable_[call.callable] + call.fresh_starting < call.max_concurrent) &&
           !stopping_) {
      ++call.fresh_starting;
      SpawnWorker(/*fresh=*/true, id, TemplateOf(call));
    }
  }
}

void SchedulerLoop::AssignTask(WorkerSlot& worker, CallState& call) {
  const v1::CallOptions& options = call.options;
  const uint64_t known = options.expected_inputs() > 0 ? options.expected_inputs()
                         : call.input_ended            ? call.inputs_received
                                                       : 0;
  // With a known total, what is left to send includes the inputs to come.
  const uint64_t left =
      call.pending_items + (known > call.inputs_received ? known - call.inputs_received : 0);
  const uint64_t wanted =
      options.chunksize() > 0 ? options.chunksize() : AutoChunkSize(known, left, options_.workers);
  uint64_t count = ChunkToSend(wanted, call.pending_items, options.limit(), call.running);
  const bool solo = call.pending.front().solo;
  if (solo || worker.fresh) count = 1;
  const uint64_t max_items = options_.max_tasks_per_worker;
  if (max_items > 0) count = std::min(count, max_items - std::min(max_items, worker.items_run));
  count = std::max<uint64_t>(count, 1);
  worker.task = WorkerTask{};
  worker.task.indices.reserve(count);
  worker.task.id = next_task_id_++;
  worker.task.packed_results = options.packed();
  worker.task.item_stats = options.item_stats();
  // A channel callable's item reports its end at once, so that a crash is
  // blamed on the item that sent the messages before it.
  worker.task.report_each = options.timeout_ms() > 0 || solo || call.channel_callable;
  worker.task.channel = call.channel_callable;
  worker.task.channel_open = call.channel_input;
  // Whole runs, and the head of the last one; a solo run goes alone.
  uint64_t taken = 0;
  while (taken < count && !call.pending.empty()) {
    InputRun& run = call.pending.front();
    if (taken > 0 && run.solo) break;
    const uint64_t take = std::min(count - taken, run.size());
    for (uint64_t k = 0; k < take; ++k) worker.task.indices.push_back(run.first_index + k);
    taken += take;
    if (take == run.size()) {
      worker.task.runs.push_back(std::move(run));
      call.pending.pop_front();
    } else {
      worker.task.runs.push_back(run.Take(take));
      run.Drop(take);
    }
  }
  call.pending_items -= taken;
  const uint64_t sent = worker.task.indices.size();
  queued_items_.fetch_sub(sent, std::memory_order_relaxed);
  call.running += sent;
  worker.task.call_id = call.id;
  if (call.max_concurrent > 0) {
    worker.task.counted_callable = call.callable;
    ++busy_by_callable_[call.callable];
  }
  worker.task.timeout_ms = options.timeout_ms();
  worker.task.item_started_us = NowUs();
  pool_.MoveWorker(worker, WorkerState::kBusy);
  worker.QueueTaskFrame(call.task_callable, call.python_limits.get());
  if (call.channel_input) {
    call.channel_worker = worker.id;
    if (!call.channel_inbox.empty() || call.channel_end) {
      worker.QueueChannelInput(call.channel_inbox, call.channel_end);
      call.channel_inbox.clear();
    }
  }
  SendTask(worker);
  calls_.MarkDirty(call.id);
}

void SchedulerLoop::SendTask(WorkerSlot& worker) {
  const absl::Status sent = worker.FlushOutbox();
  if (!sent.ok()) {
    // The worker is dying; WorkerExited will account for the task.
    worker.outbox.clear();
    return;
  }
  const bool want = !worker.outbox.empty();
  if (want != worker.want_writable) {
    worker.want_writable = want;
    UpdateWatch(worker);
    // Room in a Start call's channel: it may read the client again.
    if (!want && worker.task.channel_open && worker.busy()) calls_.MarkDirty(worker.task.call_id);
  }
}

bool SchedulerLoop::CallableHasRoom(const CallState& call) {
  return call.max_concurrent == 0 || busy_by_callable_[call.callable] < call.max_concurrent;
}

void SchedulerLoop::ReleaseCallableSlot(WorkerSlot& worker) {
  if (worker.task.counted_callable.empty()) return;
  auto it = busy_by_callable_.find(worker.task.counted_callable);
  if (it != busy_by_callable_.end() && it->second > 0 && --it->second == 0) {
    busy_by_callable_.erase(it);
  }
  worker.task.counted_callable.clear();
}

void SchedulerLoop::UpdateWatch(WorkerSlot& worker) {
  if (!worker.task_fd.valid()) return;
  const uint32_t events = (worker.paused ? 0u : static_cast<uint32_t>(EPOLLIN)) |
                          (worker.want_writable ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  if (events == worker.watched_events) return;
  worker.watched_events = events;
  Watch(worker.task_fd.get(), Source::kTask, worker.id, events);
}

void SchedulerLoop::UpdatePause(CallState& call) {
  const uint64_t window = options_.call_window_items;
  for (const auto& [id, worker] : pool_.workers()) {
    if (!worker->busy() || worker->task.call_id != call.id || worker->unreported() == 0) continue;
    // In input order, the head input's results are released at once.
    const bool head = call.order == CallOrder::kInputOrder &&
                      worker->current_index() == call.ordering.next_index();
    const bool pause = PausesWorker(call, head, window);
    if (pause != worker->paused) {
      worker->paused = pause;
      UpdateWatch(*worker);
    }
  }
}

void SchedulerLoop::CheckOutputSizes() {
  const uint64_t now_us = NowUs();
  if (now_us < next_output_check_us_) return;
  next_output_check_us_ = now_us + kOutputCheckUs;
  for (const auto& [id, worker] : pool_.workers()) {
    if (!worker->busy()) continue;
    const int64_t dropped =
        TrimOutput(worker->stdout_fd.get()) + TrimOutput(worker->stderr_fd.get());
    if (dropped > 0) {
      LogWarn(
          "an item's output was cut: over the bytes held per item",
          {{"pid", worker->pid}, {"limit_bytes", kMaxHeldOutputBytes}, {"dropped_bytes", dropped}});
    }
  }
}

void SchedulerLoop::CheckTimeouts() {
  const uint64_t now_us = NowUs();
  for (const auto& [id, worker] : pool_.workers()) {
    if (!worker->busy() || worker->task.timeout_ms == 0 ||
        worker->kill_reason != KillReason::kNone) {
      continue;
    }
    if (now_us < worker->task.item_started_us + uint64_t{worker->task.timeout_ms} * 1000) continue;
    // A result may be waiting in the socket: take it before judging.
    if (worker->task_fd.valid()) HandleTask(*worker);
    if (!worker->busy() || worker->unreported() == 0) continue;
    if (now_us >= worker->task.item_started_us + uint64_t{worker->task.timeout_ms} * 1000) {
      pool_.Kill(*worker, KillReason::kTimeout);
    }
  }
}

void SchedulerLoop::RetireIdlePythonWorkers() {
  if (python_templates_.empty()) return;
  const uint64_t now_us = NowUs();
  std::vector<WorkerSlot*> expired;
  for (WorkerSlot* worker : pool_.Idle()) {
    if (worker->state != WorkerState::kIdle || !IsPythonTemplate(worker->generation) ||
        now_us < worker->idle_since_us + kPythonIdleRetireUs) {
      continue;
    }
    expired.push_back(worker);
  }
  for (WorkerSlot* worker : expired) {
    Retire(*worker);
    SpawnWorker();
  }
}

int SchedulerLoop::NextWakeMs() const {
  // The count of failures or respawns not logged in a burst.
  uint64_t earliest = SuppressedEventsDueUs();
  for (const auto& [id, worker] : pool_.workers()) {
    if (worker->busy()) earliest = std::min(earliest, next_output_check_us_);
    if (worker->busy() && worker->task.timeout_ms > 0 && worker->kill_reason == KillReason::kNone) {
      earliest = std::min(earliest,
                          worker->task.item_started_us + uint64_t{worker->task.timeout_ms} * 1000);
    }
    if (worker->state == WorkerState::kIdle && IsPythonTemplate(worker->generation)) {
      earliest = std::min(earliest, worker->idle_since_us + kPythonIdleRetireUs);
    }
  }
  int wait_ms = -1;
  if (earliest != UINT64_MAX) {
    const uint64_t now_us = NowUs();
    wait_ms = earliest <= now_us ? 0 : static_cast<int>((earliest - now_us + 999) / 1000);
  }
  absl::Time python_start_deadline = absl::InfiniteFuture();
  for (const auto& [key, pool] : python_pools_) {
    python_start_deadline = std::min(python_start_deadline, pool.start_deadline);
  }
  for (const absl::Time at :
       {pool_.backoff().retry_at(), retry_template_read_at_, python_start_deadline}) {
    if (at == absl::InfiniteFuture()) continue;
    const int at_ms = static_cast<int>(std::max<int64_t>(
        0, absl::ToInt64Milliseconds(absl::Ceil(at - clock_.Now(), absl::Milliseconds(1)))));
    wait_ms = wait_ms < 0 ? at_ms : std::min(wait_ms, at_ms);
  }
  return wait_ms;
}

// --- Calls ---------------------------------------------------------------

void SchedulerLoop::OpenCall(uint64_t id, const std::string& callable,
                             const v1::CallOptions& options, CallOrder order,
                             std::shared_ptr<CallSink> sink,
                             std::shared_ptr<const PythonTarget> python) {
  CallState& call = calls_.Open(id);
  call.opened = clock_.Now();
  call.callable = callable;
  call.task_callable = callable;
  call.options = options;
  call.order = order;
  call.sink = std::move(sink);
  // A function passed by reference is named "module:qualname", which no
  // registered callable is.
  const std::shared_ptr<const Registry> registry = registry_->Current();
  const CallableDef* def = registry->Find(callable);
  call.channel_callable = def != nullptr && def->is_channel();
  if (def != nullptr) {
    if (call.options.timeout_ms() == 0) call.options.set_timeout_ms(def->limits.timeout_ms());
    call.max_concurrent = def->limits.max_concurrent();
  }
  if (python != nullptr) {
    call.channel_callable = python->channel;
    call.task_callable = python->TaskCallable();
    call.python = std::move(python);
    if (def != nullptr && def->limits.ByteSizeLong() > 0) {
      call.python_limits = std::make_shared<const v1::CallableLimits>(def->limits);
    }
  }
  // The first request's inputs are already on their way (AddInputs).
  call.input_requested = true;
  if (stopping_) return FinishCall(call, absl::UnavailableError("the server is shutting down"));
  if (call.python != nullptr) BindPythonPool(call);
  calls_.MarkDirty(id);
}

void SchedulerLoop::OpenChannelCall(uint64_t id, const std::string& callable,
                                    const v1::CallOptions& options, std::string arguments,
                                    std::shared_ptr<CallSink> sink,
                                    std::shared_ptr<const PythonTarget> python) {
  OpenCall(id, callable, options, CallOrder::kCompletionOrder, std::move(sink), std::move(python));
  CallState* call = calls_.Find(id);
  if (call == nullptr) return;
  call->channel_input = true;
  InputRun run;
  run.block = SingleInputBlock(std::move(arguments));
  run.end = 1;
  call->PushPending(std::move(run));
  queued_items_.fetch_add(1, std::memory_order_relaxed);
  call->inputs_received = 1;
  call->input_ended = true;
  call->input_requested = false;
}

void SchedulerLoop::SendChannel(uint64_t id, std::vector<std::string> messages) {
  CallState* call = calls_.Find(id);
  if (call == nullptr) return;
  call->channel_requested = false;
  calls_.MarkDirty(id);
  // A function callable takes no input; an ended invocation takes no more.
  if (!call->channel_callable || call->channel_end) return;
  WorkerSlot* worker = pool_.Find(call->channel_worker);
  if (worker == nullptr) {
    if (call->running == 0 && call->pending.empty()) return;  // Already over.
    for (std::string& message : messages) call->channel_inbox.push_back(std::move(message));
    return;
  }
  if (messages.empty()) return;
  worker->QueueChannelInput(messages, false);
  SendTask(*worker);
}

void SchedulerLoop::EndChannel(uint64_t id) {
  CallState* call = calls_.Find(id);
  if (call == nullptr || call->channel_end) return;
  call->channel_end = true;
  call->channel_requested = false;
  if (WorkerSlot* worker = pool_.Find(call->channel_worker); worker != nullptr) {
    worker->QueueChannelInput({}, true);
    SendTask(*worker);
  }
  calls_.MarkDirty(id);
}

void SchedulerLoop::CancelItems(uint64_t id, std::vector<uint64_t> indices) {
  CallState* call = calls_.Find(id);
  if (call == nullptr) return;
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  for (uint64_t index : indices) {
    if (index >= call->inputs_received) continue;
    auto queued =
        std::find_if(call->pending.begin(), call->pending.end(), [index](const InputRun& run) {
          return index >= run.first_index && index < run.first_index + run.size();
        });
    if (queued != call->pending.end()) {
      // The run loses the item: what follows it becomes a run of its own.
      InputRun after = *queued;
      after.Drop(index - queued->first_index + 1);
      queued->end = queued->begin + static_cast<uint32_t>(index - queued->first_index);
      if (after.size() > 0) queued = call->pending.insert(queued + 1, std::move(after)) - 1;
      if (queued->size() == 0) call->pending.erase(queued);
      --call->pending_items;
      queued_items_.fetch_sub(1, std::memory_order_relaxed);
      auto result = std::make_unique<v1::ItemResult>();
      result->set_index(index);
      result->set_last(true);
      result->mutable_error()->set_kind(v1::ERROR_KIND_CANCELLED);
      result->mutable_error()->set_message("cancelled before it started");
      ++items_failed_;
      call->AddResult(std::move(result));
      continue;
    }
    for (const auto& [worker_id, worker] : pool_.workers()) {
      if (!worker->busy() || worker->task.call_id != id) continue;
      const auto begin = worker->task.indices.begin() + worker->task.reported;
      if (std::find(begin, worker->task.indices.end(), index) == worker->task.indices.end())
        continue;
      call->cancelling.insert(index);
      pool_.Kill(*worker, KillReason::kCancelItems);
    }
  }
  calls_.MarkDirty(id);
}

void SchedulerLoop::AddInputs(uint64_t id, std::shared_ptr<const InputBlock> inputs, uint32_t begin,
                              uint32_t end, bool reading_on) {
  const uint64_t count = end - begin;
  CallState* call = calls_.Find(id);
  if (call == nullptr) {
    queued_items_.fetch_sub(count, std::memory_order_relaxed);
    return;
  }
  call->input_requested = reading_on;
  if (count > 0) {
    InputRun run;
    run.block = std::move(inputs);
    run.begin = begin;
    run.end = end;
    run.first_index = call->inputs_received;
    call->inputs_received += count;
    call->PushPending(std::move(run));
  }
  calls_.MarkDirty(id);
}

void SchedulerLoop::EndInputs(uint64_t id) {
  CallState* call = calls_.Find(id);
  if (call == nullptr) return;
  call->input_ended = true;
  call->input_requested = false;
  calls_.MarkDirty(id);
}

void SchedulerLoop::ResultsSent(uint64_t id, uint64_t count) {
  CallState* call = calls_.Find(id);
  if (call == nullptr) return;
  call->unsent -= std::min(call->unsent, count);
  calls_.MarkDirty(id);
}

void SchedulerLoop::CancelCall(uint64_t id) {
  CallState* call = calls_.Find(id);
  if (call == nullptr) return;
  for (const auto& [worker_id, worker] : pool_.workers()) {
    if (worker->busy() && worker->task.call_id == id) pool_.Kill(*worker, KillReason::kCancel);
  }
  FinishCall(*call, absl::CancelledError("the call was cancelled"));
}

void SchedulerLoop::FinishCall(CallState& call, absl::Status status,
                               std::vector<ResultPiece> last_results) {
  queued_items_.fetch_sub(call.pending_items, std::memory_order_relaxed);
  call.pending.clear();
  call.pending_items = 0;
  if (last_results.empty()) {
    call.sink->Finish(std::move(status));
  } else {
    call.sink->DeliverLast(std::move(last_results), std::move(status));
  }
  calls_.Erase(call.id);
}

void SchedulerLoop::FlushCalls() {
  const std::vector<uint64_t> dirty = calls_.TakeDirty();
  if (dirty.empty()) return;
  const uint64_t window = options_.call_window_items;
  for (uint64_t id : dirty) {
    CallState* call = calls_.Find(id);
    if (call == nullptr) continue;
    call->ordering.PopReady(&call->outgoing);
    std::vector<ResultPiece> batch;
    if (!call->outgoing.empty()) {
      batch.swap(call->outgoing);
      uint64_t weight = 0;
      for (const ResultPiece& piece : batch) weight += piece.weight();
      call->unsent += weight;
      call->outgoing_weight = 0;
    }
    if (call->done()) {
      // The last results go with the end of the call.
      FinishCall(*call, absl::OkStatus(), std::move(batch));
      continue;
    }
    if (!batch.empty()) call->sink->Deliver(std::move(batch));
    if (WantsInput(*call, window)) {
      call->input_requested = true;
      call->sink->WantInput();
    }
    if (call->channel_input) {
      const WorkerSlot* worker = pool_.Find(call->channel_worker);
      const size_t outbox = worker == nullptr ? 0 : worker->outbox.size();
      if (WantsChannelMessages(*call, outbox)) {
        call->channel_requested = true;
        call->sink->WantInput();
      }
    }
    if (call->channel_callable) UpdatePause(*call);
  }
}

void SchedulerLoop::FillStatus(v1::GetStatusResponse* status) const {
  for (const auto& [id, worker] : pool_.workers()) {
    switch (worker->state) {
      case WorkerState::kIdle:
        status->set_workers_idle(status->workers_idle() + 1);
        break;
      case WorkerState::kBusy:
        status->set_workers_busy(status->workers_busy() + 1);
        status->set_items_running(status->items_running() +
                                  static_cast<uint64_t>(worker->unreported()));
        break;
      case WorkerState::kStarting:
        status->set_workers_starting(status->workers_starting() + 1);
        break;
      case WorkerState::kExiting:
      case WorkerState::kRetiring:
        break;
    }
  }
  status->set_items_queued(queued_items_.load(std::memory_order_relaxed));
  status->set_items_completed(items_completed_);
  status->set_items_failed(items_failed_);
  status->set_items_crashed(items_crashed_);
  status->set_workers_respawned(workers_respawned_);
  status->set_workers_recycled(workers_recycled_);
  status->set_uptime_ms(static_cast<uint64_t>(absl::ToInt64Milliseconds(clock_.Now() - started_)));
  status->set_calls_active(static_cast<uint32_t>(calls_.size()));
  status->set_workers_configured(options_.workers);
  status->set_callable_reloads(callable_reloads_);
  FillStatusRows(status);
}

void SchedulerLoop::Shutdown() {
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : calls_) ids.push_back(id);
  for (uint64_t id : ids) {
    FinishCall(*calls_.Find(id), absl::UnavailableError("the server is shutting down"));
  }
  // Closing its control socket makes a template kill the process group of
  // every worker it has not reaped, and reap them: one message for all,
  // from the process that reaps.
  for (const auto& [generation, template_process] : pool_.templates()) template_process->Stop();
  python_spares_.clear();  // Each ends when its control socket closes.
  pool_.ForgetWorkers();
  FlushSuppressedEvents(UINT64_MAX);  // Counts of the last second's bursts.
}

}  // namespace pprocd
