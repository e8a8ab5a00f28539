#include "server/scheduler/worker_slot.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "worker/output_capture.h"

namespace pprocd {
namespace {

// The tag of length-delimited field `number` (a generated kFooFieldNumber).
constexpr uint32_t LengthDelimitedTag(int number) {
  return google::protobuf::internal::WireFormatLite::MakeTag(
      number, google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}

}  // namespace

void OutputTail::Append(absl::string_view bytes) {
  bytes_.append(bytes.data(), bytes.size());
  if (bytes_.size() > 2 * kKeepBytes) bytes_.erase(0, bytes_.size() - kKeepBytes);
}

std::string OutputTail::LastLines(int max_lines) const {
  absl::string_view text(bytes_);
  if (text.size() > kKeepBytes) text.remove_prefix(text.size() - kKeepBytes);
  return pprocd::LastLines(text, max_lines);
}

bool IsWorkerTransition(WorkerState from, WorkerState to) {
  switch (from) {
    case WorkerState::kStarting:
      return to == WorkerState::kIdle;
    case WorkerState::kIdle:
      return to == WorkerState::kBusy || to == WorkerState::kRetiring ||
             to == WorkerState::kExiting;
    case WorkerState::kBusy:
      return to == WorkerState::kIdle;
    case WorkerState::kExiting:
    case WorkerState::kRetiring:
      return false;
  }
  return false;
}

const char* WorkerStateName(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting:
      return "starting";
    case WorkerState::kIdle:
      return "idle";
    case WorkerState::kBusy:
      return "busy";
    case WorkerState::kExiting:
    case WorkerState::kRetiring:
      return "exiting";
  }
  return "unknown";
}

bool WorkerSlot::MoveTo(WorkerState next) {
  if (!IsWorkerTransition(state, next)) return false;
  state = next;
  return true;
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

void WorkerSlot::QueueTaskFrame(const std::string& callable, const v1::CallableLimits* limits) {
  wire::v1::TaskFrame header;
  if (limits != nullptr) *header.mutable_limits() = *limits;
  header.set_task_id(task.id);
  header.set_callable(callable);
  header.set_report_each(task.report_each);
  header.set_channel_open(task.channel_open);
  header.set_packed_results(task.packed_results);
  header.set_item_stats(task.item_stats);
  // TaskFrame.packed_inputs follows the header (fields may come in any
  // order on the wire): '[', the runs' text joined by ',', ']'.
  constexpr uint32_t kPackedInputsTag =
      LengthDelimitedTag(wire::v1::TaskFrame::kPackedInputsFieldNumber);
  size_t json_size = 2 + (task.runs.empty() ? 0 : task.runs.size() - 1);
  for (const InputRun& run : task.runs) json_size += run.Text().size();
  using google::protobuf::io::CodedOutputStream;
  const size_t size = header.ByteSizeLong() + CodedOutputStream::VarintSize32(kPackedInputsTag) +
                      CodedOutputStream::VarintSize32(static_cast<uint32_t>(json_size)) + json_size;
  const size_t start = outbox.size();
  outbox.resize(start + kFrameHeaderBytes + size);
  uint8_t* out = reinterpret_cast<uint8_t*>(outbox.data() + start);
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) out[i] = static_cast<uint8_t>(size >> (8 * i));
  out = header.SerializeWithCachedSizesToArray(out + kFrameHeaderBytes);
  out = CodedOutputStream::WriteTagToArray(kPackedInputsTag, out);
  out = CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(json_size), out);
  *out++ = '[';
  for (size_t i = 0; i < task.runs.size(); ++i) {
    if (i > 0) *out++ = ',';
    const absl::string_view text = task.runs[i].Text();
    out = std::copy(text.begin(), text.end(), out);
  }
  *out++ = ']';
}

std::vector<InputRun> WorkerSlot::RunsOf(size_t from, size_t to) const {
  std::vector<InputRun> runs;
  size_t offset = 0;  // Task offset of the current run's first item.
  for (const InputRun& run : task.runs) {
    const size_t run_end = offset + run.size();
    if (run_end > from && offset < to) {
      InputRun part = run;
      const size_t skip = from > offset ? from - offset : 0;
      part.Drop(skip);
      part.end = part.begin + static_cast<uint32_t>(std::min(to, run_end) - offset - skip);
      part.solo = false;
      runs.push_back(std::move(part));
    }
    offset = run_end;
  }
  return runs;
}

void WorkerSlot::QueueChannelInput(const std::vector<std::string>& messages, bool end) {
  wire::v1::TaskFrame header;
  header.set_task_id(task.id);
  header.mutable_channel_input()->set_end(end);
  // TaskFrame.channel_input.messages: spliced the same way, inside the
  // nested message.
  constexpr uint32_t kMessagesTag =
      LengthDelimitedTag(wire::v1::ChannelInput::kMessagesFieldNumber);
  constexpr uint32_t kChannelInputTag =
      LengthDelimitedTag(wire::v1::TaskFrame::kChannelInputFieldNumber);
  std::string nested;
  AppendSplicedFrame(header.channel_input(), kMessagesTag, messages, &nested);
  nested.erase(0, kFrameHeaderBytes);
  header.clear_channel_input();
  AppendSplicedFrame(header, kChannelInputTag, {nested}, &outbox);
}

void AppendSplicedFrame(const google::protobuf::MessageLite& header, uint32_t tag,
                        const std::vector<std::string>& fields, std::string* out_frames) {
  size_t size = header.ByteSizeLong();
  for (const std::string& field : fields) {
    size +=
        google::protobuf::io::CodedOutputStream::VarintSize32(tag) +
        google::protobuf::io::CodedOutputStream::VarintSize32(static_cast<uint32_t>(field.size())) +
        field.size();
  }
  const size_t start = out_frames->size();
  out_frames->resize(start + kFrameHeaderBytes + size);
  uint8_t* out = reinterpret_cast<uint8_t*>(out_frames->data() + start);
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) out[i] = static_cast<uint8_t>(size >> (8 * i));
  out = header.SerializeWithCachedSizesToArray(out + kFrameHeaderBytes);
  for (const std::string& field : fields) {
    out = google::protobuf::io::CodedOutputStream::WriteTagToArray(tag, out);
    out = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(
        static_cast<uint32_t>(field.size()), out);
    out = std::copy(field.begin(), field.end(), out);
  }
}

std::string SignalName(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  if (abbrev == nullptr) return absl::StrCat("signal ", signal_number);
  return absl::StrCat("SIG", abbrev);
}

}  // namespace pprocd
