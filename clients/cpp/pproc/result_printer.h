// How pproc prints the results of map and queue: one JSON document per line.
//
//   map:               VALUE                      e.g. 832040
//                      {"error":{...}}            for a failed item
//   queue, or --stats: {"index":N,"value":VALUE}
//                      {"index":N,"error":{...}}
//                      with --stats, also ,"stats":{"wall_us":..,"cpu_us":..,
//                      "max_rss_kib":..,"worker_pid":..}
//   error object:      {"kind":"CRASHED","signal":"SIGSEGV","exit_code":N,
//                       "message":"...","stderr_tail":"..."}
//                      kind is the ErrorKind without ERROR_KIND_; empty
//                      members are left out (exit_code is kept for a crash
//                      by exit, even when 0).
//   A bytes result prints as {"data":"BASE64"} in place of VALUE.
//   attach of several jobs: {"job":"NAME-OR-ID","index":N,...}
//
// Thread-safety: the functions are pure. A LineWriter is used by one thread.
#ifndef PPROCD_CLIENTS_CPP_PPROC_RESULT_PRINTER_H_
#define PPROCD_CLIENTS_CPP_PPROC_RESULT_PRINTER_H_

#include <cstdio>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "pprocd/v1/item.pb.h"

namespace pprocd::pproc {

struct ResultFormat {
  // {"index":N,...} envelopes (queue, and map with --stats) instead of bare
  // values.
  bool envelope = false;
  // Adds "stats" to each envelope; implies envelope.
  bool stats = false;
};

// Returns one output line for `result`, without the newline.
std::string FormatResult(const v1::ItemResult& result, ResultFormat format);

// Returns FormatResult's envelope for a result of job `job` (its name, or
// its id), with "job" as the first member: {"job":"nightly","index":0,...}.
std::string FormatJobResult(absl::string_view job, const v1::ItemResult& result,
                            ResultFormat format);

// Returns the error object of a failed item, e.g.
// {"kind":"RAISED","message":"boom"}.
std::string FormatItemError(const v1::ItemError& error);

// `pproc map/queue/attach --logs`: what item `index` wrote, one line per
// line of output, each marked with the item and the stream:
//   [item 3 stdout] text
// A last line without a newline ends the same; bytes left out by the
// server (dropped_bytes) show as one "[item 3 stderr] ... N bytes left
// out ..." line. `job`, when not empty, is put before: [nightly item 3 ...].
std::string FormatItemLogs(const v1::ItemResult& result, absl::string_view job = "");

// The one line pproc prints on stderr when a call with a progress bar ends:
//   pproc: 30 items in 1.2s (25/s): 29 succeeded, 1 failed
std::string FormatRunSummary(uint64_t succeeded, uint64_t failed, absl::Duration elapsed);

// Writes lines to a stdio stream. Lines go out at once unless the stream is
// a regular file (then stdio buffers them), so a pipe reader sees each
// result as it arrives.
class LineWriter {
 public:
  // `out` is not owned and must outlive the writer.
  explicit LineWriter(FILE* out);

  // Writes `line` and a newline. Fails once the stream is broken; see
  // broken_pipe().
  absl::Status WriteLine(absl::string_view line);
  // Flushes buffered lines.
  absl::Status Flush();
  // True when writing failed because the reader went away (EPIPE), as with
  // `pproc map ... | head`: not worth an error message.
  bool broken_pipe() const { return broken_pipe_; }

 private:
  absl::Status WriteFailed(int error_number);

  FILE* const out_;
  const bool flush_each_line_;
  bool broken_pipe_ = false;
};

}  // namespace pprocd::pproc

#endif  // PPROCD_CLIENTS_CPP_PPROC_RESULT_PRINTER_H_
