// SchedulerLoop, the workers' lives: asking the template for them, taking
// them over (or not: a failed start), killing them through the template,
// and settling their exit. See scheduler_loop.h.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "server/scheduler/scheduler_loop.h"

namespace pprocd {
namespace {

// How long a FRESH call's items wait while its workers fail to start, one
// after another (retried with a backoff of up to a second), before they
// fail. A shortage of descriptors or processes is often brief: waiting
// rides it out; failing after a bound tells the caller instead of hanging.
constexpr absl::Duration kSpawnPatience = absl::Seconds(5);
constexpr absl::Duration kTemplateReadRetry = absl::Milliseconds(100);
constexpr char kFdsLost[] =
    "the server ran out of file descriptors: the worker's sockets could not be handed over";

void SetNonBlocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

void SchedulerLoop::SpawnWorker(bool fresh, uint64_t call, uint64_t template_id) {
  if (stopping_) return;
  const CallState* fresh_for = fresh ? calls_.Find(call) : nullptr;
  pool_.Spawn(template_id == 0 ? pool_.generation() : template_id, fresh, call,
              fresh_for != nullptr ? fresh_for->task_callable : std::string());
}

void SchedulerLoop::SpawnFailed(uint64_t worker_id, const std::string& why) {
  const std::unique_ptr<WorkerSlot> worker = pool_.Remove(worker_id);
  if (worker == nullptr) return;
  // A Python pool's workers are asked for again as its calls need them.
  const bool owe_pooled = !worker->fresh && !IsPythonTemplate(worker->generation);
  // Logged once per run of failures; "workers start again" ends it.
  if (pool_.backoff().Failed(clock_.Now(), owe_pooled)) {
    LogWarn("cannot start a worker; retrying", {{"error", why}});
  }
  if (worker->fresh) {
    pool_.ReleaseFreshSlot(*worker);
    CallState* call = calls_.Find(worker->fresh_call);
    if (call != nullptr) {
      --call->fresh_starting;
      const absl::Time now = clock_.Now();
      if (call->fresh_failing_since == absl::InfiniteFuture()) {
        call->fresh_failing_since = now;
      } else if (now - call->fresh_failing_since >= kSpawnPatience) {
        call->fresh_failing_since = absl::InfiniteFuture();
        FailQueued(*call, why);
      }
    }
  }
}

void SchedulerLoop::FailQueued(CallState& call, const std::string& why) {
  const std::string message = absl::StrCat(why, "; the item was not started (tried for ",
                                           absl::FormatDuration(kSpawnPatience), ")");
  queued_items_.fetch_sub(call.pending_items, std::memory_order_relaxed);
  for (const InputRun& run : call.pending) {
    for (uint64_t index = run.first_index; index < run.first_index + run.size(); ++index) {
      auto result = std::make_unique<v1::ItemResult>();
      result->set_index(index);
      result->set_last(true);
      result->mutable_error()->set_kind(v1::ERROR_KIND_CRASHED);
      result->mutable_error()->set_message(message);
      ++items_failed_;
      call.AddResult(std::move(result));
    }
  }
  call.pending.clear();
  call.pending_items = 0;
  calls_.MarkDirty(call.id);
}

void SchedulerLoop::ReplaceTemplate(TemplateProcess template_process) {
  const uint64_t previous = pool_.generation();
  const uint64_t generation =
      pool_.AddGeneration(std::make_unique<TemplateProcess>(std::move(template_process)));
  ++callable_reloads_;
  TemplateProcess& added = *pool_.FindTemplate(generation);
  Watch(added.control_fd(), Source::kTemplate, generation, EPOLLIN);
  LogInfo("a new template serves new work",
          {{"generation", generation}, {"previous", previous}, {"pid", added.pid()}});
  // Idle pooled workers of the past generation go now, and are replaced;
  // busy ones go when their task is done (HandleResultFrame).
  for (WorkerSlot* worker : pool_.Idle()) {
    if (worker->fresh || worker->generation != previous) continue;
    Retire(*worker);
    SpawnWorker();
  }
  StopIdleTemplate(previous);
}

void SchedulerLoop::StopIdleTemplate(uint64_t generation) {
  if (IsCurrentTemplate(generation)) return;
  TemplateProcess* template_process = pool_.FindTemplate(generation);
  if (template_process == nullptr || pool_.HasWorkersOf(generation)) return;
  // A call that started on a past Python generation finishes on it.
  for (const auto& [id, call] : calls_) {
    if (call.template_id == generation) return;
  }
  Unwatch(template_process->control_fd());
  template_process->Stop();
  DropTemplate(generation);
}

void SchedulerLoop::HandleTemplate(uint64_t generation) {
  TemplateProcess* found = pool_.FindTemplate(generation);
  if (found == nullptr) return;
  auto python = python_templates_.find(generation);
  if (python != python_templates_.end() && python_pools_[python->second].starting == generation) {
    return HandlePythonStart(generation, python->second);
  }
  TemplateProcess& template_process = *found;
  while (true) {
    TemplateEventWithFds received;
    bool got = false;
    const absl::Status status = template_process.ReadEvent(&received, &got);
    if (absl::IsResourceExhausted(status)) {
      // The event stays queued: read it again shortly, and meanwhile do not
      // spin on a socket that stays readable.
      LogWarn("cannot read from the template now; retrying", {{"error", status.message()}});
      Watch(template_process.control_fd(), Source::kTemplate, generation, 0);
      retry_template_read_at_ = clock_.Now() + kTemplateReadRetry;
      return;
    }
    if (!status.ok() && generation != pool_.generation()) {
      // A past generation's template died: so did its workers.
      const bool python_template = IsPythonTemplate(generation);
      LogWarn(python_template ? "a Python template process was lost"
                              : "the previous template process was lost",
              {{"generation", generation},
               {"pid", template_process.pid()},
               {"error", status.ToString()}});
      Unwatch(template_process.control_fd());
      for (uint64_t id : pool_.WorkersOf(generation)) WorkerExited(id, -1, SIGKILL);
      if (python_template) {
        // Its calls cannot go on: no worker can start for them.
        std::vector<uint64_t> stranded;
        for (const auto& [id, call] : calls_) {
          if (call.template_id == generation) stranded.push_back(id);
        }
        // What is done is delivered first (and a call with nothing left
        // ends well); the rest cannot run.
        for (uint64_t id : stranded) calls_.MarkDirty(id);
        FlushCalls();
        for (uint64_t id : stranded) {
          CallState* call = calls_.Find(id);
          if (call != nullptr) {
            FinishCall(*call, absl::UnavailableError(absl::StrCat(
                                  "the Python template process of ", call->python->DisplayName(),
                                  " was lost (", status.message(), ")")));
          }
        }
      }
      DropTemplate(generation);
      return;
    }
    if (!status.ok()) {
      LogError("the template process was lost; stopping", {{"generation", generation},
                                                           {"pid", template_process.pid()},
                                                           {"error", status.ToString()}});
      Unwatch(template_process.control_fd());
      stopping_ = true;
      return;
    }
    if (!got) return;
    const wire::v1::TemplateEvent& event = received.event;
    if (event.has_spawned()) {
      WorkerSlot* spawned = pool_.Find(event.spawned().worker_id());
      if (spawned == nullptr) continue;
      WorkerSlot& worker = *spawned;
      worker.pid = event.spawned().pid();
      if (received.fds_lost) {
        // The worker sees the end of its task socket and exits; make sure.
        pool_.Kill(worker, KillReason::kNone);
        SpawnFailed(worker.id, kFdsLost);
        if (!IsCurrentTemplate(generation)) return StopIdleTemplate(generation);
        continue;
      }
      worker.task_fd = std::move(received.task_fd);
      worker.stdout_fd = std::move(received.stdout_fd);
      worker.stderr_fd = std::move(received.stderr_fd);
      SetNonBlocking(worker.task_fd.get());
      Watch(worker.task_fd.get(), Source::kTask, worker.id, EPOLLIN);
      worker.watched_events = EPOLLIN;
      pool_.MoveWorker(worker, WorkerState::kIdle);
      if (const uint64_t failed = pool_.backoff().Started(); failed > 0) {
        LogInfo("workers start again", {{"failed", failed}});
      }
      if (worker.fresh) {
        StartFreshWorker(worker);
      } else if (!IsCurrentTemplate(worker.generation)) {
        // Asked for before a reload: its callables are no longer current.
        Retire(worker);
        if (!IsPythonTemplate(worker.generation)) SpawnWorker();
      } else {
        pool_.MarkIdle(worker, NowUs());
      }
    } else if (event.has_exited()) {
      const wire::v1::WorkerExited& exited = event.exited();
      if (exited.pid() < 0) {
        SpawnFailed(
            exited.worker_id(),
            exited.spawn_error().empty()
                ? std::string("the template could not start a worker")
                : absl::StrCat("the template could not start a worker: ", exited.spawn_error()));
        if (!IsCurrentTemplate(generation)) return StopIdleTemplate(generation);
        continue;
      }
      WorkerExited(exited.worker_id(), exited.exit_code(), exited.signal());
      if (!IsCurrentTemplate(generation)) return StopIdleTemplate(generation);
    }
  }
}

void SchedulerLoop::StartFreshWorker(WorkerSlot& worker) {
  CallState* call = calls_.Find(worker.fresh_call);
  if (call == nullptr) return Retire(worker);
  --call->fresh_starting;
  call->fresh_failing_since = absl::InfiniteFuture();
  if (!call->runnable()) return Retire(worker);
  AssignTask(worker, *call);
}

void SchedulerLoop::Retire(WorkerSlot& worker) {
  Unwatch(worker.task_fd.get());
  pool_.Retire(worker);
}

void SchedulerLoop::WorkerExited(uint64_t worker_id, int exit_code, int signal_number) {
  WorkerSlot* exited = pool_.Find(worker_id);
  if (exited == nullptr) return;
  WorkerSlot& worker = *exited;
  // Everything the worker wrote before it died is still buffered: take it.
  if (worker.task_fd.valid()) HandleTask(worker);
  if (worker.busy() && worker.unreported() > 0) {
    CallState* call = calls_.Find(worker.task.call_id);
    if (call != nullptr) {
      AttributeUnreported(worker, call, exit_code, signal_number);
      calls_.MarkDirty(call->id);
    }
  } else if (worker.kill_reason == KillReason::kNone && !worker.retiring() && !stopping_) {
    LogWarn(
        "an idle worker exited",
        {{"pid", worker.pid},
         {"exit", signal_number ? SignalName(signal_number) : absl::StrCat("status ", exit_code)}});
  }
  Unwatch(worker.task_fd.get());
  ReleaseCallableSlot(worker);
  const bool replace = !worker.fresh && !worker.retiring() && !stopping_;
  const uint64_t replacement_template =
      IsCurrentTemplate(worker.generation) ? worker.generation : pool_.generation();
  pool_.ReleaseFreshSlot(worker);
  if (replace) {
    ObserveRespawn(worker.kill_reason, /*recycled=*/false, worker.pid, exit_code, signal_number);
  }
  pool_.Remove(worker_id);  // also leaves the idle workers
  if (replace) {
    ++workers_respawned_;
    SpawnWorker(false, 0, replacement_template);
  }
}

}  // namespace pprocd
