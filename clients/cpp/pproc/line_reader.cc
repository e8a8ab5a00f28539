#include "pproc/line_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "absl/status/status.h"
#include "base/status_macros.h"

namespace pprocd::pproc {

absl::StatusOr<std::unique_ptr<LineReader>> LineReader::Create(int fd) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return ErrnoStatus(errno, "pipe2 for the stdin reader");
  }
  return std::unique_ptr<LineReader>(new LineReader(fd, UniqueFd(fds[0]), UniqueFd(fds[1])));
}

LineReader::LineReader(int fd, UniqueFd wake_read, UniqueFd wake_write)
    : fd_(fd), wake_read_(std::move(wake_read)), wake_write_(std::move(wake_write)) {}

absl::StatusOr<bool> LineReader::ReadLine(std::string* line) {
  for (;;) {
    size_t newline = buffer_.find('\n', start_);
    if (newline != std::string::npos) {
      line->assign(buffer_, start_, newline - start_);
      start_ = newline + 1;
      return true;
    }
    if (eof_) {
      if (start_ == buffer_.size()) return false;
      line->assign(buffer_, start_, std::string::npos);
      start_ = buffer_.size();
      return true;
    }
    // Wait for input or an interrupt; the wake pipe is never drained, so an
    // interrupt stays visible to every later call.
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "poll stdin");
    }
    if (fds[1].revents != 0) {
      return absl::CancelledError("reading stdin was interrupted");
    }
    char chunk[64 * 1024];
    ssize_t n = ::read(fd_, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return ErrnoStatus(errno, "read stdin");
    }
    if (n == 0) {
      eof_ = true;
    } else {
      buffer_.erase(0, start_);
      start_ = 0;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
}

bool LineReader::Ready() {
  if (eof_ || buffer_.find('\n', start_) != std::string::npos) return true;
  pollfd fd = {fd_, POLLIN, 0};
  return ::poll(&fd, 1, 0) > 0;
}

void LineReader::Interrupt() {
  char byte = 1;
  // A full pipe (EAGAIN) already holds a wake-up; nothing else can fail
  // usefully here.
  (void)!::write(wake_write_.get(), &byte, 1);
}

}  // namespace pprocd::pproc
