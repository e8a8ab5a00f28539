#include "worker/output_capture.h"

#include <stdio_ext.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"

namespace pprocd {
namespace {

// Reads `length` bytes at `offset` and appends them to `out`.
void AppendRange(int fd, off_t offset, size_t length, std::string* out) {
  const size_t start = out->size();
  out->resize(start + length);
  size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(fd, &(*out)[start + done], length - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  out->resize(start + done);
}

// The size of output file `fd`, or -1 when it is not a seekable file.
// lseek costs a third of fstat, and it runs after every item.
off_t OutputSize(int fd) { return ::lseek(fd, 0, SEEK_END); }

}  // namespace

int CreateOutputFile(const char* name) { return ::memfd_create(name, MFD_CLOEXEC); }

void TakeOutput(int fd, v1::LogStream stream, LogRecords* logs) {
  const off_t size = OutputSize(fd);
  if (size <= 0) return;
  v1::LogRecord* record = logs->Add();
  record->set_stream(stream);
  std::string* data = record->mutable_data();
  const size_t total = static_cast<size_t>(size);
  if (total <= kLogKeepBytes) {
    AppendRange(fd, 0, total, data);
  } else {
    const size_t half = kLogKeepBytes / 2;
    AppendRange(fd, 0, half, data);
    AppendRange(fd, size - static_cast<off_t>(half), half, data);
    record->set_dropped_bytes(total - kLogKeepBytes);
  }
  // Writers append (O_APPEND), so they go on at offset 0.
  if (::ftruncate(fd, 0) != 0) return;
}

void TakeStandardOutput(LogRecords* logs) {
  // Two fflush calls with nothing to write cost a tenth of an echo item.
  if (__fpending(stdout) > 0) std::fflush(stdout);
  if (__fpending(stderr) > 0) std::fflush(stderr);
  TakeOutput(STDOUT_FILENO, v1::LOG_STREAM_STDOUT, logs);
  TakeOutput(STDERR_FILENO, v1::LOG_STREAM_STDERR, logs);
}

std::string ReadOutputTail(int fd, size_t max_bytes) {
  std::string tail;
  const off_t size = OutputSize(fd);
  if (size <= 0) return tail;
  const size_t length = std::min(static_cast<size_t>(size), max_bytes);
  AppendRange(fd, size - static_cast<off_t>(length), length, &tail);
  return tail;
}

std::string LastLines(absl::string_view text, int max_lines) {
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  size_t start = text.size();
  for (int lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == max_lines) break;
  }
  return std::string(text.substr(start));
}

std::string StderrTail() {
  constexpr size_t kTailBytes = 4096;
  constexpr int kTailLines = 20;
  std::fflush(stderr);
  return LastLines(ReadOutputTail(STDERR_FILENO, kTailBytes), kTailLines);
}

int64_t TrimOutput(int fd) {
  const off_t size = OutputSize(fd);
  if (size <= kMaxHeldOutputBytes) return 0;
  if (::ftruncate(fd, 0) != 0) return 0;
  const std::string note =
      absl::StrCat("\n[pprocd: ", static_cast<int64_t>(size), " bytes of output dropped]\n");
  if (::write(fd, note.data(), note.size()) < 0) return size;
  return size;
}

}  // namespace pprocd
