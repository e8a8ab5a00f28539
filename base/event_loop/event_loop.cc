#include "base/event_loop/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <utility>

#include "base/log/log.h"
#include "base/status_macros.h"

namespace pprocd {
namespace {

constexpr int kMaxEvents = 64;

}  // namespace

EventLoop::EventLoop(const Clock& clock) : clock_(clock) {}

absl::Status EventLoop::Init() {
  CheckLoopThread("Init");
  epoll_fd_.Reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_.valid()) return ErrnoStatus(errno, "epoll_create1");
  wake_fd_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake_fd_.valid()) return ErrnoStatus(errno, "eventfd");
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kReservedTag;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &event) != 0) {
    return ErrnoStatus(errno, "epoll_ctl ADD eventfd");
  }
  return absl::OkStatus();
}

bool EventLoop::Post(Command command) {
  bool was_empty;
  {
    absl::MutexLock lock(&mu_);
    if (closed_.load(std::memory_order_relaxed)) return false;
    was_empty = posted_.empty();
    posted_.push_back(std::move(command));
  }
  // The loop empties posted_ after it reads the wake descriptor, so one
  // wake per batch is enough.
  if (was_empty) Wake();
  return true;
}

bool EventLoop::Close() {
  {
    absl::MutexLock lock(&mu_);
    if (closed_.load(std::memory_order_relaxed)) return false;
    closed_.store(true, std::memory_order_release);
  }
  Wake();
  return true;
}

void EventLoop::Wake() {
  if (!wake_fd_.valid()) return;
  const uint64_t one = 1;
  // EAGAIN only when the counter is near overflow: the loop is woken anyway.
  (void)!write(wake_fd_.get(), &one, sizeof(one));
}

void EventLoop::Watch(int fd, uint64_t tag, uint32_t events) {
  CheckLoopThread("Watch");
  if (tag == kReservedTag) {
    LogError("EventLoop::Watch: the tag is reserved for the loop's wake descriptor");
    std::abort();
  }
  epoll_event event{};
  event.events = events;
  event.data.u64 = tag;
  if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd, &event) != 0 && errno == EEXIST) {
    epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, fd, &event);
  }
}

void EventLoop::Unwatch(int fd) {
  CheckLoopThread("Unwatch");
  if (fd >= 0) epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

void EventLoop::After(absl::Duration delay, Command command) {
  CheckLoopThread("After");
  timers_.emplace(clock_.Now() + delay, std::move(command));
}

absl::Status EventLoop::RunOnce(int timeout_ms, ReadyFn on_ready) {
  if (loop_thread_.load(std::memory_order_relaxed) == std::thread::id()) {
    std::thread::id no_thread;
    loop_thread_.compare_exchange_strong(no_thread, std::this_thread::get_id());
  }
  CheckLoopThread("RunOnce");
  epoll_event events[kMaxEvents];
  const int count = epoll_wait(epoll_fd_.get(), events, kMaxEvents, WaitMs(timeout_ms));
  if (count < 0) {
    if (errno == EINTR) return absl::OkStatus();
    return ErrnoStatus(errno, "epoll_wait");
  }
  for (int i = 0; i < count; ++i) {
    if (events[i].data.u64 != kReservedTag) {
      on_ready(events[i].data.u64, events[i].events);
      continue;
    }
    // One read takes the whole count and resets it.
    uint64_t ignored;
    (void)!read(wake_fd_.get(), &ignored, sizeof(ignored));
    if (!closed()) RunPosted();
  }
  RunDueTimers();
  return absl::OkStatus();
}

void EventLoop::RunPosted() {
  CheckLoopThread("RunPosted");
  std::vector<Command> commands;
  {
    absl::MutexLock lock(&mu_);
    commands.swap(posted_);
  }
  for (Command& command : commands) command();
}

void EventLoop::RunDueTimers() {
  // A timer may set another: each is taken out before it runs.
  while (!timers_.empty() && timers_.begin()->first <= clock_.Now()) {
    Command due = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    due();
  }
}

int EventLoop::WaitMs(int timeout_ms) const {
  if (timers_.empty()) return timeout_ms;
  const absl::Duration until = timers_.begin()->first - clock_.Now();
  const int64_t timer_ms =
      std::max<int64_t>(0, absl::ToInt64Milliseconds(absl::Ceil(until, absl::Milliseconds(1))));
  const int capped = static_cast<int>(std::min<int64_t>(timer_ms, INT32_MAX));
  return timeout_ms < 0 ? capped : std::min(timeout_ms, capped);
}

bool EventLoop::OnLoopThread() const {
  return loop_thread_.load(std::memory_order_acquire) == std::this_thread::get_id();
}

void EventLoop::CheckLoopThread(const char* method) const {
  const std::thread::id loop_thread = loop_thread_.load(std::memory_order_acquire);
  if (loop_thread == std::thread::id() || loop_thread == std::this_thread::get_id()) return;
  LogError("EventLoop: called off the loop thread", {{"method", method}});
  std::abort();
}

}  // namespace pprocd
