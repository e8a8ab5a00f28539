#include "server/scheduler/scheduler.h"

#include "base/status_macros.h"
#include "server/scheduler/scheduler_loop.h"

namespace pprocd {

Scheduler::Scheduler(SchedulerOptions options, TemplateProcess template_process,
                     const CurrentRegistry* registry)
    : options_(options),
      registry_(registry),
      events_(*options_.clock),
      loop_(std::make_unique<SchedulerLoop>(
          SchedulerLoopContext{options_, registry_, events_, queued_items_, loop_exited_},
          std::move(template_process))) {}

Scheduler::~Scheduler() { Stop(); }

absl::Status Scheduler::Start() {
  PPROCD_RETURN_IF_ERROR(events_.Init());
  PPROCD_RETURN_IF_ERROR(loop_->Init());
  thread_ = std::thread([this] { loop_->Run(); });
  return absl::OkStatus();
}

void Scheduler::Stop() {
  events_.Close();
  if (thread_.joinable()) thread_.join();
}

bool Scheduler::running() const { return !loop_exited_.load(std::memory_order_acquire); }

bool Scheduler::TryPost(std::function<void(SchedulerLoop&)> command) {
  return events_.Post(
      [loop = loop_.get(), command = std::move(command)]() mutable { command(*loop); });
}

void Scheduler::Post(std::function<void(SchedulerLoop&)> command) {
  // Once stopped, every call has been finished: commands about them are moot.
  (void)TryPost(std::move(command));
}

absl::StatusOr<uint64_t> Scheduler::OpenCall(const std::string& callable,
                                             const v1::CallOptions& options, CallOrder order,
                                             std::shared_ptr<CallSink> sink,
                                             std::shared_ptr<const PythonTarget> python) {
  const uint64_t id = next_call_id_.fetch_add(1);
  const bool posted = TryPost([id, callable, options, order, sink = std::move(sink),
                               python = std::move(python)](SchedulerLoop& loop) mutable {
    loop.OpenCall(id, callable, options, order, std::move(sink), std::move(python));
  });
  if (!posted) return absl::UnavailableError("the server is shutting down");
  return id;
}

absl::StatusOr<uint64_t> Scheduler::OpenChannelCall(const std::string& callable,
                                                    const v1::CallOptions& options,
                                                    std::string arguments,
                                                    std::shared_ptr<CallSink> sink,
                                                    std::shared_ptr<const PythonTarget> python) {
  const uint64_t id = next_call_id_.fetch_add(1);
  const bool posted =
      TryPost([id, callable, options, arguments = std::move(arguments), sink = std::move(sink),
               python = std::move(python)](SchedulerLoop& loop) mutable {
        loop.OpenChannelCall(id, callable, options, std::move(arguments), std::move(sink),
                             std::move(python));
      });
  if (!posted) return absl::UnavailableError("the server is shutting down");
  return id;
}

void Scheduler::SendChannel(uint64_t call, std::vector<std::string> messages) {
  Post([call, messages = std::move(messages)](SchedulerLoop& loop) mutable {
    loop.SendChannel(call, std::move(messages));
  });
}

void Scheduler::EndChannel(uint64_t call) {
  Post([call](SchedulerLoop& loop) { loop.EndChannel(call); });
}

void Scheduler::CancelItems(uint64_t call, std::vector<uint64_t> indices) {
  Post([call, indices = std::move(indices)](SchedulerLoop& loop) mutable {
    loop.CancelItems(call, std::move(indices));
  });
}

bool Scheduler::ReserveQueued(uint64_t count) {
  uint64_t current = queued_items_.load(std::memory_order_relaxed);
  do {
    if (current + count > options_.max_queued_items) return false;
  } while (
      !queued_items_.compare_exchange_weak(current, current + count, std::memory_order_relaxed));
  return true;
}

void Scheduler::AddInputs(uint64_t call, std::shared_ptr<const InputBlock> inputs) {
  const auto end = static_cast<uint32_t>(inputs->elements.size());
  AddInputs(call, std::move(inputs), 0, end);
}

void Scheduler::AddInputs(uint64_t call, std::shared_ptr<const InputBlock> inputs, uint32_t begin,
                          uint32_t end) {
  Post([call, inputs = std::move(inputs), begin, end](SchedulerLoop& loop) mutable {
    loop.AddInputs(call, std::move(inputs), begin, end);
  });
}

void Scheduler::AddInputsReadingOn(uint64_t call, std::shared_ptr<const InputBlock> inputs) {
  const auto end = static_cast<uint32_t>(inputs->elements.size());
  Post([call, inputs = std::move(inputs), end](SchedulerLoop& loop) mutable {
    loop.AddInputs(call, std::move(inputs), 0, end, /*reading_on=*/true);
  });
}

void Scheduler::EndInputs(uint64_t call) {
  Post([call](SchedulerLoop& loop) { loop.EndInputs(call); });
}

void Scheduler::ResultsSent(uint64_t call, uint64_t count) {
  Post([call, count](SchedulerLoop& loop) { loop.ResultsSent(call, count); });
}

void Scheduler::CancelCall(uint64_t call) {
  Post([call](SchedulerLoop& loop) { loop.CancelCall(call); });
}

void Scheduler::ReplaceTemplate(TemplateProcess template_process) {
  auto moved = std::make_shared<TemplateProcess>(std::move(template_process));
  Post([moved](SchedulerLoop& loop) { loop.ReplaceTemplate(std::move(*moved)); });
}

void Scheduler::GetStatus(StatusCallback done) {
  // Shared, so that `done` is still here to call if the post is refused.
  auto shared = std::make_shared<StatusCallback>(std::move(done));
  const bool posted = TryPost([shared](SchedulerLoop& loop) {
    v1::GetStatusResponse status;
    loop.FillStatus(&status);
    (*shared)(std::move(status));
  });
  if (!posted) (*shared)(absl::UnavailableError("the server is shutting down"));
}

}  // namespace pprocd
