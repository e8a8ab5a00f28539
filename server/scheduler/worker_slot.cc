#include "server/scheduler/worker_slot.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "worker/base/status_macros.h"
#include "worker/output_capture.h"

namespace pprocd {

void OutputTail::Append(absl::string_view bytes) {
  bytes_.append(bytes.data(), bytes.size());
  if (bytes_.size() > 2 * kKeepBytes) bytes_.erase(0, bytes_.size() - kKeepBytes);
}

std::string OutputTail::LastLines(int max_lines) const {
  absl::string_view text(bytes_);
  if (text.size() > kKeepBytes) text.remove_prefix(text.size() - kKeepBytes);
  return pprocd::LastLines(text, max_lines);
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

void WorkerSlot::QueueTaskFrame(const std::string& callable) {
  wire::v1::TaskFrame header;
  header.set_task_id(task_id);
  header.set_callable(callable);
  header.set_report_each(report_each);
  header.set_channel_open(channel_open);
  // TaskFrame.inputs is field 3, length-delimited: tag, length, bytes. Fields
  // may come in any order on the wire, so the inputs follow the header.
  constexpr uint32_t kInputsTag = (3 << 3) | 2;
  AppendSplicedFrame(header, kInputsTag, inputs, &outbox);
}

void WorkerSlot::QueueChannelInput(const std::vector<std::string>& messages, bool end) {
  wire::v1::TaskFrame header;
  header.set_task_id(task_id);
  header.mutable_channel_input()->set_end(end);
  // ChannelInput.messages is field 1 of TaskFrame.channel_input (field 6):
  // spliced the same way, inside a nested message.
  constexpr uint32_t kMessagesTag = (1 << 3) | 2;
  constexpr uint32_t kChannelInputTag = (6 << 3) | 2;
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
