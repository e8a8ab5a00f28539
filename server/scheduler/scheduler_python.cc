// SchedulerLoop, Python function pools: a template process per pool key
// (interpreter, module, file, import path) that imported the module once and
// forks its workers; a changed module file makes a new generation for new
// calls while running ones finish on the old. See scheduler_loop.h.
#include <sys/epoll.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "base/log/log.h"
#include "server/scheduler/scheduler_loop.h"

namespace pprocd {
namespace {

// How long a Python template may take to import its module.
constexpr absl::Duration kPythonStartTimeout = absl::Seconds(60);
// How long a failed or abandoned template is given to exit before SIGKILL.
constexpr absl::Duration kPythonStopGrace = absl::Milliseconds(200);
// Spare templates kept at once (each an interpreter with the runtime
// loaded, a few MiB).
constexpr size_t kMaxPythonSpares = 2;

}  // namespace

bool SchedulerLoop::IsCurrentTemplate(uint64_t id) const {
  if (id == pool_.generation()) return true;
  auto python = python_templates_.find(id);
  if (python == python_templates_.end()) return false;
  auto pool = python_pools_.find(python->second);
  return pool != python_pools_.end() && pool->second.current == id;
}

void SchedulerLoop::BindPythonPool(CallState& call) {
  const std::string key = call.python->PoolKey();
  PythonPool& pool = python_pools_[key];
  if (pool.current != 0 && pool.stamp == call.python->file_stamp) {
    call.template_id = pool.current;
    call.awaiting_template = false;
    return;
  }
  call.awaiting_template = true;
  pool.waiting.push_back(call.id);
  // A start of another stamp finishes first; its waiting calls then bind
  // again (BindPythonPool) and start this one.
  if (pool.starting == 0) StartPythonTemplate(key, call.python);
}

void SchedulerLoop::StartPythonTemplate(const std::string& key,
                                        std::shared_ptr<const PythonTarget> target) {
  PythonPool& pool = python_pools_[key];
  pool.display_name = target->DisplayName();
  absl::StatusOr<std::unique_ptr<TemplateProcess>> process = TemplateFor(*target);
  if (!process.ok()) return PythonTemplateFailed(key, process.status());
  const uint64_t id = pool_.AddTemplate(*std::move(process));
  python_templates_[id] = key;
  Watch(pool_.FindTemplate(id)->control_fd(), Source::kTemplate, id, EPOLLIN);
  pool.starting = id;
  pool.starting_stamp = target->file_stamp;
  pool.starting_target = std::move(target);
  pool.start_deadline = clock_.Now() + kPythonStartTimeout;
}

absl::StatusOr<std::unique_ptr<TemplateProcess>> SchedulerLoop::TemplateFor(
    const PythonTarget& target) {
  const std::string module = target.ModuleDatagram();
  auto spare = python_spares_.find(target.SpareKey());
  if (spare != python_spares_.end()) {
    std::unique_ptr<TemplateProcess> process = std::move(spare->second.process);
    python_spares_.erase(spare);
    // A spare that died meanwhile (its socket's peer is gone) is replaced
    // by a new process below; one that dies after this reports it as a
    // template that ended before it was ready.
    if (process->SendDatagram(module).ok()) return process;
  }
  absl::StatusOr<TemplateProcess> launched =
      TemplateProcess::Launch(target.interpreter, target.TemplateArgv(getpid()));
  if (!launched.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("function.interpreter: cannot start ",
                                                   target.interpreter, ": ",
                                                   launched.status().message()));
  }
  auto process = std::make_unique<TemplateProcess>(*std::move(launched));
  if (absl::Status sent = process->SendDatagram(module); !sent.ok()) {
    return absl::InternalError(absl::StrCat("function: cannot reach the Python process for ",
                                            target.DisplayName(), ": ", sent.message()));
  }
  return process;
}

void SchedulerLoop::KeepSpare(const PythonTarget& target) {
  const std::string key = target.SpareKey();
  if (python_spares_.count(key) > 0) return;
  if (python_spares_.size() >= kMaxPythonSpares) {
    // The spare of the interpreter and path used longest ago makes room.
    auto oldest = python_spares_.begin();
    for (auto spare = python_spares_.begin(); spare != python_spares_.end(); ++spare) {
      if (spare->second.started < oldest->second.started) oldest = spare;
    }
    // It waits for its module: it ends as soon as its socket closes.
    oldest->second.process->Stop(kPythonStopGrace);
    python_spares_.erase(oldest);
  }
  absl::StatusOr<TemplateProcess> launched =
      TemplateProcess::Launch(target.interpreter, target.TemplateArgv(getpid()));
  if (!launched.ok()) return;  // The next new module starts its own.
  python_spares_[key] = {std::make_unique<TemplateProcess>(*std::move(launched)),
                         next_spare_sequence_++};
}

void SchedulerLoop::HandlePythonStart(uint64_t template_id, const std::string& key) {
  PythonPool& pool = python_pools_[key];
  TemplateEventWithFds received;
  bool got = false;
  TemplateProcess& template_process = *pool_.FindTemplate(template_id);
  const absl::Status status = template_process.ReadEvent(&received, &got);
  if (status.ok() && !got) return;
  if (!status.ok() || !received.event.has_started()) {
    return PythonTemplateFailed(
        key, absl::InvalidArgumentError(absl::StrCat(
                 "function: the Python process that imports ", pool.display_name,
                 " ended before it was ready (is pprocd's Python package importable there?)")));
  }
  if (!received.event.started().error().empty()) {
    return PythonTemplateFailed(key, absl::InvalidArgumentError(absl::StrCat(
                                         "function: ", received.event.started().error())));
  }
  const uint64_t previous = pool.current;
  LogInfo(previous == 0 ? "a Python template started" : "a Python template replaced the last",
          {{"module", pool.display_name},
           {"generation", template_id},
           {"pid", template_process.pid()}});
  pool.current = template_id;
  pool.stamp = pool.starting_stamp;
  pool.starting = 0;
  pool.start_deadline = absl::InfiniteFuture();
  // Now, not at the start: the spare's own start would have slowed this one.
  if (pool.starting_target != nullptr) KeepSpare(*pool.starting_target);
  pool.starting_target.reset();
  std::vector<uint64_t> waiting;
  waiting.swap(pool.waiting);
  for (const uint64_t id : waiting) {
    CallState* call = calls_.Find(id);
    if (call == nullptr) continue;
    call->awaiting_template = false;
    BindPythonPool(*call);
    calls_.MarkDirty(id);
  }
  if (previous == 0) return;
  // The module changed: the past generation's idle workers go now, busy
  // ones when their task is done.
  for (WorkerSlot* worker : pool_.Idle()) {
    if (worker->generation == previous) Retire(*worker);
  }
  StopIdleTemplate(previous);
}

void SchedulerLoop::PythonTemplateFailed(const std::string& key, const absl::Status& why) {
  PythonPool& pool = python_pools_[key];
  LogError("a Python template did not start",
           {{"module", pool.display_name}, {"error", why.message()}});
  if (pool.starting != 0) {
    if (TemplateProcess* found = pool_.FindTemplate(pool.starting); found != nullptr) {
      Unwatch(found->control_fd());
      found->Stop(kPythonStopGrace);
    }
    DropTemplate(pool.starting);
  }
  pool.starting = 0;
  pool.starting_target.reset();
  pool.start_deadline = absl::InfiniteFuture();
  std::vector<uint64_t> waiting;
  waiting.swap(pool.waiting);
  for (const uint64_t id : waiting) {
    CallState* call = calls_.Find(id);
    if (call != nullptr) FinishCall(*call, why);
  }
}

void SchedulerLoop::CheckPythonStarts() {
  if (python_pools_.empty()) return;
  const absl::Time now = clock_.Now();
  std::vector<std::string> late;
  for (const auto& [key, pool] : python_pools_) {
    if (pool.starting != 0 && now >= pool.start_deadline) late.push_back(key);
  }
  for (const std::string& key : late) {
    PythonTemplateFailed(
        key, absl::DeadlineExceededError(absl::StrCat(
                 "function: the Python process that imports ", python_pools_[key].display_name,
                 " did not finish within ", absl::FormatDuration(kPythonStartTimeout))));
  }
}

void SchedulerLoop::DropTemplate(uint64_t template_id) {
  pool_.RemoveTemplate(template_id);
  auto python = python_templates_.find(template_id);
  if (python == python_templates_.end()) return;
  auto pool = python_pools_.find(python->second);
  if (pool != python_pools_.end()) {
    if (pool->second.current == template_id) pool->second.current = 0;
    if (pool->second.starting == template_id) pool->second.starting = 0;
  }
  python_templates_.erase(python);
}

}  // namespace pprocd
