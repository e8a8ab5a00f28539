#include "server/scheduler/worker_slot.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "worker/base/status_macros.h"

namespace pprocd {

void OutputTail::Append(absl::string_view bytes) {
  bytes_.append(bytes.data(), bytes.size());
  if (bytes_.size() > 2 * kKeepBytes) bytes_.erase(0, bytes_.size() - kKeepBytes);
}

std::string OutputTail::LastLines(int max_lines) const {
  absl::string_view text(bytes_);
  if (text.size() > kKeepBytes) text.remove_prefix(text.size() - kKeepBytes);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  size_t start = text.size();
  for (int lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == max_lines) break;
  }
  return std::string(text.substr(start));
}

absl::Status WorkerSlot::FlushOutbox() {
  size_t sent = 0;
  while (sent < outbox.size()) {
    const ssize_t n = ::send(task_fd.get(), outbox.data() + sent, outbox.size() - sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      const int saved = errno;
      outbox.erase(0, sent);
      return ErrnoStatus(saved, "send task to worker");
    }
    sent += static_cast<size_t>(n);
  }
  outbox.erase(0, sent);
  return absl::OkStatus();
}

void WorkerSlot::Kill(KillReason reason) {
  if (kill_reason == KillReason::kNone) kill_reason = reason;
  if (pid > 0) ::kill(-pid, SIGKILL);
}

std::string SignalName(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  if (abbrev == nullptr) return absl::StrCat("signal ", signal_number);
  return absl::StrCat("SIG", abbrev);
}

}  // namespace pprocd
