#include "server/scheduler/worker_pool.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "base/log/log.h"

namespace pprocd {

absl::Duration SpawnRetryDelay(uint64_t failures) {
  return absl::Milliseconds(std::min<uint64_t>(1000, 10u << std::min<uint64_t>(failures, 6)));
}

bool SpawnBackoff::Failed(absl::Time now, bool owe_pooled) {
  const bool first = failures_++ == 0;
  retry_at_ = now + SpawnRetryDelay(failures_);
  if (owe_pooled) ++pooled_owed_;
  return first;
}

uint64_t SpawnBackoff::Started() { return std::exchange(failures_, 0); }

uint32_t SpawnBackoff::TakeOwedIfDue(absl::Time now) {
  if (now < retry_at_) return 0;
  retry_at_ = absl::InfiniteFuture();
  return std::exchange(pooled_owed_, 0);
}

WorkerPool::WorkerPool(std::unique_ptr<TemplateProcess> first) {
  templates_[generation_] = std::move(first);
}

uint64_t WorkerPool::AddGeneration(std::unique_ptr<TemplateProcess> process) {
  generation_ = AddTemplate(std::move(process));
  return generation_;
}

uint64_t WorkerPool::AddTemplate(std::unique_ptr<TemplateProcess> process) {
  const uint64_t id = next_template_id_++;
  templates_[id] = std::move(process);
  return id;
}

TemplateProcess* WorkerPool::FindTemplate(uint64_t id) const {
  auto found = templates_.find(id);
  return found == templates_.end() ? nullptr : found->second.get();
}

void WorkerPool::RemoveTemplate(uint64_t id) { templates_.erase(id); }

bool WorkerPool::HasWorkersOf(uint64_t template_id) const {
  return std::any_of(workers_.begin(), workers_.end(), [template_id](const auto& entry) {
    return entry.second->generation == template_id;
  });
}

std::vector<uint64_t> WorkerPool::WorkersOf(uint64_t template_id) const {
  std::vector<uint64_t> ids;
  for (const auto& [id, worker] : workers_) {
    if (worker->generation == template_id) ids.push_back(id);
  }
  return ids;
}

WorkerSlot* WorkerPool::Spawn(uint64_t template_id, bool fresh, uint64_t fresh_call,
                              const std::string& callable) {
  TemplateProcess* template_process = FindTemplate(template_id);
  if (template_process == nullptr) return nullptr;
  auto worker = std::make_unique<WorkerSlot>();
  worker->id = next_worker_id_++;
  worker->fresh = fresh;
  worker->fresh_call = fresh_call;
  worker->fresh_counted = fresh;
  worker->generation = template_id;
  const absl::Status status = template_process->RequestSpawn(worker->id, callable);
  if (!status.ok()) {
    LogError("cannot ask the template for a worker", {{"error", status.ToString()}});
    return nullptr;
  }
  if (fresh) ++fresh_alive_;
  WorkerSlot* slot = worker.get();
  workers_.emplace(slot->id, std::move(worker));
  return slot;
}

WorkerSlot* WorkerPool::Find(uint64_t id) const {
  auto found = workers_.find(id);
  return found == workers_.end() ? nullptr : found->second.get();
}

std::unique_ptr<WorkerSlot> WorkerPool::Remove(uint64_t id) {
  auto found = workers_.find(id);
  if (found == workers_.end()) return nullptr;
  std::unique_ptr<WorkerSlot> worker = std::move(found->second);
  workers_.erase(found);
  LeaveIdle(id);
  return worker;
}

void WorkerPool::ForgetWorkers() {
  workers_.clear();
  idle_.clear();
}

void WorkerPool::MoveWorker(WorkerSlot& worker, WorkerState next) {
  if (worker.MoveTo(next)) return;
  LogError("a worker's state cannot take this step (a defect of the scheduler)",
           {{"pid", worker.pid},
            {"from", WorkerStateName(worker.state)},
            {"to", WorkerStateName(next)}});
}

void WorkerPool::Kill(WorkerSlot& worker, KillReason reason) {
  if (worker.kill_reason == KillReason::kNone) worker.kill_reason = reason;
  if (worker.kill_requested) return;
  worker.kill_requested = true;
  TemplateProcess* template_process = FindTemplate(worker.generation);
  // No template: it is gone, and its workers died with it.
  if (template_process == nullptr) return;
  const absl::Status sent = template_process->RequestKill(worker.id);
  if (!sent.ok()) {
    LogError("cannot ask the template to kill a worker",
             {{"pid", worker.pid}, {"error", sent.ToString()}});
  }
}

void WorkerPool::Retire(WorkerSlot& worker) {
  // A FRESH process done with its item no longer counts: the next one may
  // start while this one exits.
  ReleaseFreshSlot(worker);
  MoveWorker(worker, WorkerState::kRetiring);
  LeaveIdle(worker.id);
  worker.task_fd.Reset();  // The worker reads end of stream and exits.
}

void WorkerPool::ReleaseFreshSlot(WorkerSlot& worker) {
  if (!worker.fresh_counted) return;
  worker.fresh_counted = false;
  --fresh_alive_;
}

void WorkerPool::MarkIdle(WorkerSlot& worker, uint64_t now_us) {
  worker.idle_since_us = now_us;
  idle_.push_back(worker.id);
}

void WorkerPool::LeaveIdle(uint64_t id) {
  idle_.erase(std::remove(idle_.begin(), idle_.end(), id), idle_.end());
}

bool WorkerPool::HasIdle(uint64_t template_id) const {
  return std::any_of(idle_.begin(), idle_.end(), [&](uint64_t id) {
    const WorkerSlot* worker = Find(id);
    return worker != nullptr && worker->state == WorkerState::kIdle &&
           worker->generation == template_id;
  });
}

WorkerSlot* WorkerPool::TakeIdle(uint64_t template_id) {
  for (size_t i = idle_.size(); i-- > 0;) {
    WorkerSlot* worker = Find(idle_[i]);
    if (worker == nullptr || worker->state != WorkerState::kIdle) {
      idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
      continue;
    }
    if (worker->generation != template_id) continue;
    idle_.erase(idle_.begin() + static_cast<std::ptrdiff_t>(i));
    return worker;
  }
  return nullptr;
}

WorkerSlot* WorkerPool::IdleNotOf(uint64_t template_id) const {
  for (const uint64_t id : idle_) {
    WorkerSlot* worker = Find(id);
    if (worker != nullptr && worker->state == WorkerState::kIdle &&
        worker->generation != template_id) {
      return worker;
    }
  }
  return nullptr;
}

std::vector<WorkerSlot*> WorkerPool::Idle() const {
  std::vector<WorkerSlot*> idle;
  for (const uint64_t id : idle_) {
    if (WorkerSlot* worker = Find(id); worker != nullptr) idle.push_back(worker);
  }
  return idle;
}

uint32_t WorkerPool::LivePooled() const {
  uint32_t live = 0;
  for (const auto& [id, worker] : workers_) {
    if (!worker->fresh && !worker->retiring()) ++live;
  }
  return live;
}

uint32_t WorkerPool::StartingOf(uint64_t template_id) const {
  uint32_t starting = 0;
  for (const auto& [id, worker] : workers_) {
    if (!worker->fresh && !worker->retiring() && worker->state == WorkerState::kStarting &&
        worker->generation == template_id) {
      ++starting;
    }
  }
  return starting;
}

}  // namespace pprocd
