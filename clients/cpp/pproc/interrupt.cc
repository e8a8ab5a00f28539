#include "pproc/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>
#include <utility>

#include "base/status_macros.h"

namespace pprocd::pproc {
namespace {

sigset_t WatchedSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}

}  // namespace

InterruptWatcher& InterruptWatcher::Get() {
  // Leaked on purpose: the watcher thread may use it until the process ends.
  static InterruptWatcher* const watcher = new InterruptWatcher();
  return *watcher;
}

absl::Status InterruptWatcher::Start() {
  sigset_t signals = WatchedSignals();
  int error = pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  if (error != 0) return ErrnoStatus(error, "pthread_sigmask");
  InterruptWatcher& watcher = Get();
  // Detached: it waits in sigwait() until the process exits.
  std::thread([&watcher] { watcher.Watch(); }).detach();
  return absl::OkStatus();
}

void InterruptWatcher::Watch() {
  const sigset_t signals = WatchedSignals();
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    absl::MutexLock lock(&mu_);
    if (interrupted_ || !handler_) _exit(kExitInterrupted);
    interrupted_ = true;
    handler_();
  }
}

void InterruptWatcher::SetHandler(std::function<void()> handler) {
  absl::MutexLock lock(&mu_);
  handler_ = std::move(handler);
}

ScopedInterruptHandler::ScopedInterruptHandler(std::function<void()> handler) {
  InterruptWatcher::Get().SetHandler(std::move(handler));
}

ScopedInterruptHandler::~ScopedInterruptHandler() { InterruptWatcher::Get().SetHandler(nullptr); }

}  // namespace pprocd::pproc
