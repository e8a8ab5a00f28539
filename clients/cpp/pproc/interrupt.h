// InterruptWatcher: turns Ctrl-C (SIGINT) and SIGTERM into a clean
// cancellation of pproc's running call instead of an abrupt death.
//
// Start() blocks both signals in the calling thread, so it must run in
// main() before any other thread exists (gRPC's threads then inherit the
// mask), and starts one thread that waits for them with sigwait(), so no
// code runs in signal-handler context. The first signal runs the handler
// installed with ScopedInterruptHandler, or exits with status 130 when none
// is installed; a second signal exits with 130 at once.
//
// Thread-safety: all members may be called from any thread.
#ifndef PPROCD_CLIENTS_CPP_PPROC_INTERRUPT_H_
#define PPROCD_CLIENTS_CPP_PPROC_INTERRUPT_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace pprocd::pproc {

// The exit status of a process ended by Ctrl-C, as shells report it.
inline constexpr int kExitInterrupted = 130;

class InterruptWatcher {
 public:
  // Blocks SIGINT and SIGTERM and starts the watcher thread. Call once.
  static absl::Status Start();

 private:
  friend class ScopedInterruptHandler;
  // The process-wide watcher; lives until exit.
  static InterruptWatcher& Get();
  void SetHandler(std::function<void()> handler) ABSL_LOCKS_EXCLUDED(mu_);
  void Watch() ABSL_LOCKS_EXCLUDED(mu_);

  absl::Mutex mu_;
  std::function<void()> handler_ ABSL_GUARDED_BY(mu_);
  bool interrupted_ ABSL_GUARDED_BY(mu_) = false;
};

// Runs `handler` on the first interrupt while this object lives. The handler
// runs on the watcher thread with the watcher's lock held: keep it short
// (e.g. CallCanceller::Cancel) and do not create handlers from it.
class ScopedInterruptHandler {
 public:
  explicit ScopedInterruptHandler(std::function<void()> handler);
  ~ScopedInterruptHandler();
  ScopedInterruptHandler(const ScopedInterruptHandler&) = delete;
  ScopedInterruptHandler& operator=(const ScopedInterruptHandler&) = delete;
};

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_INTERRUPT_H_
