#include "server/peer/socket_activation.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pprocd {
namespace {

constexpr int kListenFdsStart = 3;  // SD_LISTEN_FDS_START

// The descriptor the next fork()'s child closes, or -1. Written before the
// fork by the thread that forks; read by the atfork handlers of that fork.
int close_in_child = -1;

void ForgetAfterFork() { close_in_child = -1; }

void CloseAfterFork() {
  if (close_in_child >= 0) ::close(close_in_child);
  close_in_child = -1;
}

}  // namespace

absl::StatusOr<UniqueFd> TakeActivatedSocket() {
  const char* pid_text = std::getenv("LISTEN_PID");
  const char* fds_text = std::getenv("LISTEN_FDS");
  if (pid_text == nullptr || fds_text == nullptr) return UniqueFd();
  int64_t pid = 0;
  int fds = 0;
  if (!absl::SimpleAtoi(pid_text, &pid) || !absl::SimpleAtoi(fds_text, &fds) || fds < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "bad socket activation variables LISTEN_PID=", pid_text, " LISTEN_FDS=", fds_text));
  }
  if (pid != getpid() || fds == 0) return UniqueFd();  // Meant for another process.
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  for (int extra = kListenFdsStart + 1; extra < kListenFdsStart + fds; ++extra) ::close(extra);
  UniqueFd socket(kListenFdsStart);
  if (fcntl(socket.get(), F_SETFD, FD_CLOEXEC) != 0) {
    return absl::InvalidArgumentError("socket activation: descriptor 3 is not open");
  }
  return socket;
}

void CloseInNextForkedChild(int fd) {
  static std::once_flag registered;
  std::call_once(registered, [] { pthread_atfork(nullptr, ForgetAfterFork, CloseAfterFork); });
  close_in_child = fd;
}

}  // namespace pprocd
