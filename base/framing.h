// Length-prefixed protobuf frames over a byte stream (the sockets between the
// server and its workers): a 4-byte little-endian payload length, then the
// serialized message. A FrameReader belongs to the one thread that reads its
// descriptor.
#ifndef PPROCD_BASE_FRAMING_H_
#define PPROCD_BASE_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"

namespace pprocd {

// Frames larger than this are refused by both ends.
inline constexpr uint32_t kMaxFrameBytes = 256u << 20;
inline constexpr size_t kFrameHeaderBytes = 4;

// Appends one frame holding `message` to `out`.
void AppendFrame(const google::protobuf::MessageLite& message, std::string* out);

// Reassembles frames from the bytes read from a descriptor.
class FrameReader {
 public:
  // Reads once from `fd` (at most `max_bytes`). Returns OK after a read,
  // after EAGAIN, or at end of stream (then eof() is true); an error for a
  // failed read.
  absl::Status ReadFrom(int fd, size_t max_bytes = 1 << 20);

  // Appends raw bytes, as if read; for tests and for callers that read
  // themselves.
  void Append(std::string_view bytes);

  // Sets `*payload` to the next complete frame and returns true, or returns
  // false when no complete frame is buffered. The view stays valid until
  // the next call of any method. Returns an error for an over-size frame.
  absl::Status Next(std::string_view* payload, bool* got);

  bool eof() const { return eof_; }
  // Bytes buffered that do not form a complete frame yet.
  size_t pending_bytes() const { return end_ - consumed_; }

 private:
  // Moves pending bytes to the front and makes room for `room` more.
  void Reserve(size_t room);

  std::string buffer_;  // [consumed_, end_) holds unparsed bytes.
  size_t consumed_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
};

// Writes all of `data` to a blocking descriptor, retrying on EINTR. Never
// raises SIGPIPE.
absl::Status WriteAll(int fd, std::string_view data);

// Reads one whole frame from a blocking descriptor into `*payload`, using
// `reader` to keep what follows it. Returns NotFound at a clean end of
// stream.
absl::Status ReadFrameBlocking(int fd, FrameReader* reader, std::string* payload);

}  // namespace pprocd

#endif  // PPROCD_BASE_FRAMING_H_
