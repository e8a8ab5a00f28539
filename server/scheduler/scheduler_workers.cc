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
  if (template_id == 0) template_id = generation_;
  auto found = templates_.find(template_id);
  if (found == templates_.end()) return;
  auto worker = std::make_unique<WorkerSlot>();
  worker->id = next_worker_id_++;
  worker->fresh = fresh;
  worker->fresh_call = call;
  worker->fresh_counted = fresh;
  worker->generation = template_id;
  if (fresh) ++fresh_alive_;
  const CallState* fresh_for = fresh ? calls_.Find(call) : nullptr;
  const absl::Status status = found->second->RequestSpawn(
      worker->id, fresh_for != nullptr ? fresh_for->task_callable : std::string());
  if (!status.ok()) {
    LogError("cannot ask the template for a worker", {{"error", status.ToString()}});
    if (fresh) --fresh_alive_;
    return;
  }
  workers_.emplace(worker->id, std::move(worker));
}

void SchedulerLoop::SpawnFailed(uint64_t worker_id, const std::string& why) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  const std::unique_ptr<WorkerSlot> worker = std::move(it->second);
  workers_.erase(it);
  // Logged once per run of failures; "workers start again" ends it.
  if (spawn_failures_++ == 0) LogWarn("cannot start a worker; retrying", {{"error", why}});
  retry_spawn_at_ = clock_.Now() + absl::Milliseconds(std::min<uint64_t>(
                                       1000, 10u << std::min<uint64_t>(spawn_failures_, 6)));
  if (!worker->fresh) {
    // A Python pool's workers are asked for again as its calls need them.
    if (!IsPythonTemplate(worker->generation)) ++pooled_owed_;
  } else {
    ReleaseFreshSlot(*worker);
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
  owner_->queued_items_.fetch_sub(call.pending_items, std::memory_order_relaxed);
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

void SchedulerLoop::Kill(WorkerSlot& worker, KillReason reason) {
  if (worker.kill_reason == KillReason::kNone) worker.kill_reason = reason;
  if (worker.kill_requested) return;
  worker.kill_requested = true;
  auto found = templates_.find(worker.generation);
  // No template: it is gone, and its workers died with it.
  if (found == templates_.end()) return;
  const absl::Status sent = found->second->RequestKill(worker.id);
  if (!sent.ok()) {
    LogError("cannot ask the template to kill a worker",
             {{"pid", worker.pid}, {"error", sent.ToString()}});
  }
}

void SchedulerLoop::ReplaceTemplate(TemplateProcess template_process) {
  const uint64_t previous = generation_;
  generation_ = next_template_id_++;
  ++callable_reloads_;
  templates_[generation_] = std::make_unique<TemplateProcess>(std::move(template_process));
  Watch(templates_[generation_]->control_fd(), Source::kTemplate, generation_, EPOLLIN);
  LogInfo("a new template serves new work", {{"generation", generation_},
                                             {"previous", previous},
                                             {"pid", templates_[generation_]->pid()}});
  // Idle pooled workers of the past generation go now, and are replaced;
  // busy ones go when their task is done (HandleResultFrame).
  std::vector<uint64_t> idle = idle_;
  for (uint64_t id : idle) {
    auto it = workers_.find(id);
    if (it == workers_.end() || it->second->fresh || it->second->generation != previous) continue;
    Retire(*it->second);
    SpawnWorker();
  }
  StopIdleTemplate(previous);
}

void SchedulerLoop::StopIdleTemplate(uint64_t generation) {
  if (IsCurrentTemplate(generation)) return;
  auto found = templates_.find(generation);
  if (found == templates_.end()) return;
  for (const auto& [id, worker] : workers_) {
    if (worker->generation == generation) return;
  }
  // A call that started on a past Python generation finishes on it.
  for (const auto& [id, call] : calls_) {
    if (call.template_id == generation) return;
  }
  Unwatch(found->second->control_fd());
  found->second->Stop();
  DropTemplate(generation);
}

void SchedulerLoop::HandleTemplate(uint64_t generation) {
  auto found = templates_.find(generation);
  if (found == templates_.end()) return;
  auto python = python_templates_.find(generation);
  if (python != python_templates_.end() && python_pools_[python->second].starting == generation) {
    return HandlePythonStart(generation, python->second);
  }
  TemplateProcess& template_process = *found->second;
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
    if (!status.ok() && generation != generation_) {
      // A past generation's template died: so did its workers.
      const bool python_template = IsPythonTemplate(generation);
      LogWarn(python_template ? "a Python template process was lost"
                              : "the previous template process was lost",
              {{"generation", generation},
               {"pid", template_process.pid()},
               {"error", status.ToString()}});
      Unwatch(template_process.control_fd());
      std::vector<uint64_t> orphans;
      for (const auto& [id, worker] : workers_) {
        if (worker->generation == generation) orphans.push_back(id);
      }
      for (uint64_t id : orphans) WorkerExited(id, -1, SIGKILL);
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
      auto it = workers_.find(event.spawned().worker_id());
      if (it == workers_.end()) continue;
      WorkerSlot& worker = *it->second;
      worker.pid = event.spawned().pid();
      if (received.fds_lost) {
        // The worker sees the end of its task socket and exits; make sure.
        Kill(worker, KillReason::kNone);
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
      MoveWorker(worker, WorkerState::kIdle);
      if (spawn_failures_ > 0) {
        LogInfo("workers start again", {{"failed", spawn_failures_}});
        spawn_failures_ = 0;
      }
      if (worker.fresh) {
        StartFreshWorker(worker);
      } else if (!IsCurrentTemplate(worker.generation)) {
        // Asked for before a reload: its callables are no longer current.
        Retire(worker);
        if (!IsPythonTemplate(worker.generation)) SpawnWorker();
      } else {
        worker.idle_since_us = NowUs();
        idle_.push_back(worker.id);
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

void SchedulerLoop::ReleaseFreshSlot(WorkerSlot& worker) {
  if (!worker.fresh_counted) return;
  worker.fresh_counted = false;
  --fresh_alive_;
}

void SchedulerLoop::MoveWorker(WorkerSlot& worker, WorkerState next) {
  if (worker.MoveTo(next)) return;
  LogError("a worker's state cannot take this step (a defect of the scheduler)",
           {{"pid", worker.pid},
            {"from", WorkerStateName(worker.state)},
            {"to", WorkerStateName(next)}});
}

void SchedulerLoop::Retire(WorkerSlot& worker) {
  // A FRESH process done with its item no longer counts: the next one may
  // start while this one exits.
  ReleaseFreshSlot(worker);
  MoveWorker(worker, WorkerState::kRetiring);
  idle_.erase(std::remove(idle_.begin(), idle_.end(), worker.id), idle_.end());
  Unwatch(worker.task_fd.get());
  worker.task_fd.Reset();  // The worker reads end of stream and exits.
}

void SchedulerLoop::WorkerExited(uint64_t worker_id, int exit_code, int signal_number) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  WorkerSlot& worker = *it->second;
  // Everything the worker wrote before it died is still buffered: take it.
  if (worker.task_fd.valid()) HandleTask(worker);
  if (worker.busy() && worker.unreported() > 0) {
    CallState* call = calls_.Find(worker.call_id);
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
  idle_.erase(std::remove(idle_.begin(), idle_.end(), worker_id), idle_.end());
  const bool replace = !worker.fresh && !worker.retiring() && !stopping_;
  const uint64_t replacement_template =
      IsCurrentTemplate(worker.generation) ? worker.generation : generation_;
  ReleaseFreshSlot(worker);
  if (replace) {
    ObserveRespawn(worker.kill_reason, /*recycled=*/false, worker.pid, exit_code, signal_number);
  }
  workers_.erase(it);
  if (replace) {
    ++workers_respawned_;
    SpawnWorker(false, 0, replacement_template);
  }
}

}  // namespace pprocd
