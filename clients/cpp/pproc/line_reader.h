// LineReader: reads lines from a file descriptor (pproc's stdin) one at a
// time, with a wait that another thread can interrupt.
//
// Thread-safety: ReadLine() and Ready() from one thread at a time;
// Interrupt() from any thread.
#ifndef PPROCD_CLIENTS_CPP_PPROC_LINE_READER_H_
#define PPROCD_CLIENTS_CPP_PPROC_LINE_READER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "base/unique_fd.h"

namespace pprocd::pproc {

class LineReader {
 public:
  // Reads from `fd`, which stays open and owned by the caller and must
  // outlive the reader. Fails only if the interrupt pipe cannot be made.
  static absl::StatusOr<std::unique_ptr<LineReader>> Create(int fd);

  // Reads the next line, without its '\n', into `*line` and returns true;
  // returns false at end of input (a last line without '\n' still counts).
  // CANCELLED once Interrupt() was called; an errno status on a read error.
  absl::StatusOr<bool> ReadLine(std::string* line);

  // True when ReadLine() would not wait: a line is buffered, or the fd is
  // readable (data or end of input).
  bool Ready();

  // Makes a waiting ReadLine(), and all later ones, return CANCELLED.
  void Interrupt();

 private:
  LineReader(int fd, UniqueFd wake_read, UniqueFd wake_write);

  const int fd_;
  const UniqueFd wake_read_;
  const UniqueFd wake_write_;
  // Bytes read but not yet returned start at buffer_[start_].
  std::string buffer_;
  size_t start_ = 0;
  bool eof_ = false;
};

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_LINE_READER_H_
