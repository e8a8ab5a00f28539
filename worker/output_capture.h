// Output capture. A worker's stdout and stderr are memory files (memfd),
// opened for appending, that the worker and the server share:
// - after each item (and each message a channel callable sends) the worker
//   takes what was written since, as bounded LogRecords, and empties them;
// - when a worker dies, the server reads what is left (the output of the
//   item that was running) for the failure's logs and stderr tail;
// - the server empties a file that grows past kMaxHeldOutputBytes during
//   one item, so a callable that writes without end costs bounded memory.
#ifndef PPROCD_WORKER_OUTPUT_CAPTURE_H_
#define PPROCD_WORKER_OUTPUT_CAPTURE_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "pprocd/v1/item.pb.h"

namespace pprocd {

// A LogRecord keeps at most this much: the first and the last half.
inline constexpr size_t kLogKeepBytes = 64 << 10;
// An output file larger than this is emptied by the server (with a note).
inline constexpr int64_t kMaxHeldOutputBytes = 8 << 20;

using LogRecords = google::protobuf::RepeatedPtrField<v1::LogRecord>;

// Creates an empty output memory file (close-on-exec); -1 on failure.
int CreateOutputFile(const char* name);

// Appends a record of what `fd` holds, if anything, and empties it. Does
// nothing when `fd` is not a seekable file.
void TakeOutput(int fd, v1::LogStream stream, LogRecords* logs);

// Flushes C stdio and takes stdout's and stderr's output (fds 1 and 2).
void TakeStandardOutput(LogRecords* logs);

// The last `max_bytes` of what `fd` holds, without emptying it.
std::string ReadOutputTail(int fd, size_t max_bytes);

// The last `max_lines` lines of `text` (trailing newlines dropped).
std::string LastLines(absl::string_view text, int max_lines);

// What a failing item's error shows of its stderr: the last lines it wrote
// to fd 2 (not emptied).
std::string StderrTail();

// Empties `fd` when it holds more than kMaxHeldOutputBytes, leaving a note
// of how much was dropped. Returns the bytes dropped.
int64_t TrimOutput(int fd);

}  // namespace pprocd

#endif  // PPROCD_WORKER_OUTPUT_CAPTURE_H_
