// EventLoop: the loop of one thread that owns some state. It waits on
// descriptors (epoll, level-triggered), on commands that other threads post
// to it (they wake it through an eventfd) and on timers, and runs what is
// ready on its own thread. The scheduler and the job manager each run one.
//
//   EventLoop loop;                        // any thread
//   loop.Init();                           // before the loop thread runs
//   loop.Watch(fd, tag, EPOLLIN);
//   std::thread([&] {
//     while (!loop.closed()) loop.RunOnce(-1, on_ready);
//     loop.RunPosted();                    // answer what came meanwhile
//   });
//   loop.Post([] { ... });                 // any thread
//   loop.Close();                          // any thread: ends the loop
//
// Threads: Post, Close and closed may be called from any thread. Every
// other method belongs to the loop thread: the thread that first called
// RunOnce, or, before any did, the thread that sets the loop up. A call
// from another thread is a broken invariant: it logs and aborts.
#ifndef PPROCD_BASE_EVENT_LOOP_EVENT_LOOP_H_
#define PPROCD_BASE_EVENT_LOOP_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/unique_fd.h"

namespace pprocd {

class EventLoop {
 public:
  using Command = std::function<void()>;
  // Called for each ready descriptor with the tag it is watched with and
  // its epoll events (EPOLLIN, EPOLLOUT, EPOLLHUP, EPOLLERR).
  using ReadyFn = absl::FunctionRef<void(uint64_t tag, uint32_t events)>;
  // The tag of the loop's own wake descriptor; Watch refuses it.
  static constexpr uint64_t kReservedTag = ~uint64_t{0};

  // Timers read `clock`, which must outlive the loop.
  explicit EventLoop(const Clock& clock = RealClock());
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Creates the epoll set and the wake descriptor. Before anything else.
  absl::Status Init();

  // Any thread. Queues `command` to run on the loop thread, after those
  // posted before it; false (and `command` dropped) once closed.
  bool Post(Command command) ABSL_LOCKS_EXCLUDED(mu_);
  // Any thread. Refuses every later Post and wakes the loop. Commands
  // already posted stay queued for RunPosted. Idempotent: true only for
  // the call that closed it.
  bool Close() ABSL_LOCKS_EXCLUDED(mu_);
  bool closed() const { return closed_.load(std::memory_order_acquire); }

  // Starts watching `fd` for `events` (or changes what is watched), with
  // `tag` (not kReservedTag) to name it to RunOnce's `on_ready`.
  void Watch(int fd, uint64_t tag, uint32_t events);
  // Stops watching `fd` (nothing if it is not watched or is negative).
  void Unwatch(int fd);
  // Runs `command` once `delay` has passed on the clock, in RunOnce.
  // Timers due at the same time run in the order they were set.
  void After(absl::Duration delay, Command command);

  // Waits until a watched descriptor is ready, a command is posted, the
  // loop is closed, the first timer is due, or `timeout_ms` has passed (-1:
  // no limit but the timers). Then, in the order epoll reports them, calls
  // `on_ready` for each ready descriptor and, where the wake comes, runs
  // the posted commands in the order they were posted (only while the loop
  // is open: once closed they wait for RunPosted); then the timers that
  // are due, earliest first. An error only when epoll_wait fails (EINTR is
  // not one: it returns at once with nothing run).
  absl::Status RunOnce(int timeout_ms, ReadyFn on_ready);
  // Runs the commands posted so far, in order: for an owner whose loop has
  // ended, so that what was posted before Close() is answered.
  void RunPosted() ABSL_LOCKS_EXCLUDED(mu_);

  // Whether the calling thread is the loop thread (false before any
  // thread ran RunOnce).
  bool OnLoopThread() const;

 private:
  // Aborts unless called on the loop thread or before there is one.
  void CheckLoopThread(const char* method) const;
  void Wake();
  // The wait in ms until the first timer is due (-1: none), at most
  // `timeout_ms` when that is not -1.
  int WaitMs(int timeout_ms) const;
  void RunDueTimers();

  const Clock& clock_;
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  absl::Mutex mu_;
  std::vector<Command> posted_ ABSL_GUARDED_BY(mu_);
  // Set under mu_ (so that no Post after Close() queues anything); read
  // without it by closed().
  std::atomic<bool> closed_{false};
  // The thread that first ran RunOnce; default (no thread) until then.
  std::atomic<std::thread::id> loop_thread_{};
  // Loop thread only.
  std::multimap<absl::Time, Command> timers_;
};

}  // namespace pprocd

#endif  // PPROCD_BASE_EVENT_LOOP_EVENT_LOOP_H_
