#include "base/framing.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace pprocd {
namespace {

void PutLength(uint32_t length, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((length >> (8 * i)) & 0xff);
}

uint32_t GetLength(const char* in) {
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) {
    length |= static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return length;
}

}  // namespace

void AppendFrame(const google::protobuf::MessageLite& message, std::string* out) {
  const size_t size = message.ByteSizeLong();
  const size_t start = out->size();
  out->resize(start + kFrameHeaderBytes + size);
  PutLength(static_cast<uint32_t>(size), out->data() + start);
  message.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(out->data() + start + kFrameHeaderBytes));
}

absl::Status FrameReader::ReadFrom(int fd, size_t max_bytes) {
  Reserve(max_bytes);
  ssize_t n;
  do {
    n = ::read(fd, buffer_.data() + end_, max_bytes);
  } while (n < 0 && errno == EINTR);
  const int saved_errno = errno;
  if (n > 0) end_ += static_cast<size_t>(n);
  if (n == 0) eof_ = true;
  if (n < 0) {
    if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK) return absl::OkStatus();
    if (saved_errno == ECONNRESET) {
      eof_ = true;
      return absl::OkStatus();
    }
    return ErrnoStatus(saved_errno, "read frame");
  }
  return absl::OkStatus();
}

absl::Status FrameReader::Next(std::string_view* payload, bool* got) {
  *got = false;
  if (pending_bytes() < kFrameHeaderBytes) return absl::OkStatus();
  const uint32_t length = GetLength(buffer_.data() + consumed_);
  if (length > kMaxFrameBytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("frame of ", length, " bytes exceeds the limit of ", kMaxFrameBytes));
  }
  if (pending_bytes() < kFrameHeaderBytes + length) return absl::OkStatus();
  *payload = std::string_view(buffer_.data() + consumed_ + kFrameHeaderBytes, length);
  consumed_ += kFrameHeaderBytes + length;
  *got = true;
  return absl::OkStatus();
}

void FrameReader::Append(std::string_view bytes) {
  Reserve(bytes.size());
  std::memcpy(buffer_.data() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

void FrameReader::Reserve(size_t room) {
  if (consumed_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + consumed_, end_ - consumed_);
    end_ -= consumed_;
    consumed_ = 0;
  }
  if (buffer_.size() < end_ + room) buffer_.resize(end_ + room);
}

absl::Status WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == ENOTSOCK) n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write frame");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status ReadFrameBlocking(int fd, FrameReader* reader, std::string* payload) {
  while (true) {
    std::string_view view;
    bool got = false;
    PPROCD_RETURN_IF_ERROR(reader->Next(&view, &got));
    if (got) {
      payload->assign(view.data(), view.size());
      return absl::OkStatus();
    }
    if (reader->eof()) return absl::NotFoundError("end of stream");
    // Task frames are small: a 64 KiB buffer (grown for a larger frame)
    // spares every new worker zero-filling a large one.
    PPROCD_RETURN_IF_ERROR(reader->ReadFrom(fd, 64 << 10));
  }
}

}  // namespace pprocd
