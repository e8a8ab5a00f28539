#include "server/jobs/result_size.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/jobs/job_store.h"

namespace pprocd {
namespace {

// What a ReconnectResponse adds around its result, at most: job_id (tag,
// length, 16 characters; 32 allowed for), seq (tag and a 10-byte varint),
// and the result's tag and length (5 bytes). Rounded up.
constexpr uint64_t kReconnectOverhead = 64;
// What a LogRecord adds around its data, at most: its own tag and length in
// the result, the stream, the data's tag and length, dropped_bytes.
constexpr uint64_t kLogOverhead = 32;

// Cuts `log` to at most `keep` bytes of data: its first and last halves stay,
// the middle goes into dropped_bytes.
void CutLog(v1::LogRecord* log, uint64_t keep) {
  const std::string& data = log->data();
  if (data.size() <= keep) return;
  const size_t head = static_cast<size_t>(keep / 2);
  const size_t tail = static_cast<size_t>(keep - head);
  const uint64_t dropped = data.size() - head - tail;
  std::string cut = data.substr(0, head);
  cut.append(data, data.size() - tail, tail);
  log->set_data(std::move(cut));
  log->set_dropped_bytes(log->dropped_bytes() + dropped);
}

}  // namespace

uint64_t MaxSendableResultBytes(uint64_t max_message_bytes) {
  const uint64_t in_message =
      max_message_bytes > kReconnectOverhead ? max_message_bytes - kReconnectOverhead : 0;
  return std::min<uint64_t>(in_message, kMaxOutputBytes);
}

v1::ItemResult TooLargeResult(const v1::ItemResult& result, uint64_t size,
                              uint64_t max_message_bytes) {
  v1::ItemResult failed;
  failed.set_index(result.index());
  failed.set_seq(result.seq());
  failed.set_last(result.last());
  if (result.has_stats()) *failed.mutable_stats() = result.stats();
  v1::ItemError* error = failed.mutable_error();
  error->set_kind(v1::ERROR_KIND_RAISED);
  error->set_message(absl::StrCat("result of ", size,
                                  " bytes exceeds the largest message the server sends (",
                                  max_message_bytes, " bytes)"));
  if (result.has_error()) error->set_stderr_tail(result.error().stderr_tail());
  const uint64_t limit = MaxSendableResultBytes(max_message_bytes);
  // Without the stderr tail if even that does not fit.
  if (failed.ByteSizeLong() > limit) error->clear_stderr_tail();
  if (result.logs_size() == 0) return failed;
  const uint64_t bare = failed.ByteSizeLong();
  const uint64_t overhead = kLogOverhead * static_cast<uint64_t>(result.logs_size());
  const uint64_t room = limit > bare + overhead ? limit - bare - overhead : 0;
  const uint64_t per_log = room / static_cast<uint64_t>(result.logs_size());
  for (const v1::LogRecord& log : result.logs()) {
    v1::LogRecord* kept = failed.add_logs();
    *kept = log;
    CutLog(kept, per_log);
  }
  return failed;
}

}  // namespace pprocd
