// libFuzzer target: the frame decoder between the server and its workers
// (base/framing.*).
//
// The input is a byte stream (all but its last 4 bytes) and a seed for how
// it is cut into reads (the last 4 bytes). Checked:
// - FrameReader yields exactly the frames a plain walk over the length
//   prefixes finds, whatever the cuts, whether bytes come by Append() or by
//   ReadFrom() on a pipe, and refuses a length over kMaxFrameBytes as soon
//   as its prefix is in;
// - ReadFrameBlocking() over a pipe yields the same frames, then NotFound at
//   the end of the stream (or the same refusal);
// - every frame is parsed as each message the two ends decode, and a
//   message that parses is framed again by AppendFrame() into its length
//   and its serialization.
#include <fcntl.h>
#include <fuzzer/FuzzedDataProvider.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/framing.h"
#include "base/unique_fd.h"
#include "pprocd/wire/v1/wire.pb.h"
#include "tests/fuzz/fuzz_check.h"

namespace pprocd {
namespace {

// What a stream decodes to: its complete frames, whether it ends with a
// refused length, and how many bytes are left over.
struct Decoded {
  std::vector<std::string> frames;
  bool refused = false;
  size_t pending = 0;
};

// The reference: a plain walk over the length prefixes.
Decoded Reference(std::string_view stream) {
  Decoded decoded;
  size_t pos = 0;
  while (stream.size() - pos >= kFrameHeaderBytes) {
    uint32_t length = 0;
    for (size_t i = 0; i < 4; ++i) {
      length |= static_cast<uint32_t>(static_cast<unsigned char>(stream[pos + i])) << (8 * i);
    }
    if (length > kMaxFrameBytes) {
      decoded.refused = true;
      break;
    }
    if (stream.size() - pos - kFrameHeaderBytes < length) break;
    decoded.frames.emplace_back(stream.substr(pos + kFrameHeaderBytes, length));
    pos += kFrameHeaderBytes + length;
  }
  decoded.pending = stream.size() - pos;
  return decoded;
}

// Takes every complete frame out of `reader`; false once it refuses one.
bool Drain(FrameReader* reader, Decoded* decoded) {
  while (true) {
    std::string_view payload;
    bool got = false;
    const absl::Status status = reader->Next(&payload, &got);
    if (!status.ok()) {
      FUZZ_CHECK(status.code() == absl::StatusCode::kResourceExhausted, "refusal code");
      FUZZ_CHECK(!got, "a frame with an error");
      decoded->refused = true;
      return false;
    }
    if (!got) return true;
    decoded->frames.emplace_back(payload);
  }
}

// A small deterministic generator for the cut sizes.
class Cuts {
 public:
  explicit Cuts(uint32_t seed) : state_(seed | 1) {}
  // The next read size: mostly small, sometimes large, sometimes empty.
  size_t Next() {
    state_ = state_ * 1103515245u + 12345u;
    const uint32_t r = state_ >> 8;
    switch (r % 4) {
      case 0:
        return r % 5;
      case 1:
        return r % 64;
      case 2:
        return r % 4096;
      default:
        return 1 + r % 3;
    }
  }

 private:
  uint32_t state_;
};

Decoded ByAppend(std::string_view stream, uint32_t seed) {
  Decoded decoded;
  FrameReader reader;
  Cuts cuts(seed);
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t n = std::min(cuts.Next(), stream.size() - pos);
    reader.Append(stream.substr(pos, n));
    pos += n;
    if (!Drain(&reader, &decoded)) return decoded;
  }
  if (!Drain(&reader, &decoded)) return decoded;
  decoded.pending = reader.pending_bytes();
  return decoded;
}

// A pipe whose read end does not block; the stream must fit in its buffer.
struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Pipe MakePipe(bool nonblocking) {
  int fds[2];
  FUZZ_CHECK(::pipe2(fds, O_CLOEXEC) == 0, "pipe");
  Pipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  if (nonblocking) FUZZ_CHECK(::fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0, "O_NONBLOCK");
  return pipe;
}

void WriteOrDie(int fd, std::string_view bytes) {
  FUZZ_CHECK(WriteAll(fd, bytes).ok(), "write to the pipe");
}

Decoded ByRead(std::string_view stream, uint32_t seed) {
  Decoded decoded;
  FrameReader reader;
  Pipe pipe = MakePipe(/*nonblocking=*/true);
  Cuts cuts(seed ^ 0x9e3779b9u);
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t n = std::min(cuts.Next(), stream.size() - pos);
    WriteOrDie(pipe.write.get(), stream.substr(pos, n));
    pos += n;
    // Sometimes less than is there: the rest comes with the next read.
    const size_t max_bytes = 1 + cuts.Next();
    FUZZ_CHECK(reader.ReadFrom(pipe.read.get(), max_bytes).ok(), "ReadFrom");
    FUZZ_CHECK(!reader.eof(), "eof while the pipe is open");
    if (!Drain(&reader, &decoded)) return decoded;
  }
  pipe.write.Reset();
  while (!reader.eof()) {
    FUZZ_CHECK(reader.ReadFrom(pipe.read.get(), 1 + cuts.Next()).ok(), "ReadFrom");
    if (!Drain(&reader, &decoded)) return decoded;
  }
  decoded.pending = reader.pending_bytes();
  return decoded;
}

Decoded ByBlockingRead(std::string_view stream) {
  Decoded decoded;
  FrameReader reader;
  Pipe pipe = MakePipe(/*nonblocking=*/false);
  WriteOrDie(pipe.write.get(), stream);
  pipe.write.Reset();
  while (true) {
    std::string payload;
    const absl::Status status = ReadFrameBlocking(pipe.read.get(), &reader, &payload);
    if (absl::IsNotFound(status)) break;
    if (!status.ok()) {
      FUZZ_CHECK(status.code() == absl::StatusCode::kResourceExhausted, "refusal code");
      decoded.refused = true;
      return decoded;
    }
    decoded.frames.push_back(std::move(payload));
  }
  decoded.pending = reader.pending_bytes();
  return decoded;
}

void ExpectSame(const Decoded& expected, const Decoded& got, const char* how) {
  FUZZ_CHECK(expected.frames == got.frames, how);
  FUZZ_CHECK(expected.refused == got.refused, how);
  if (!expected.refused) FUZZ_CHECK(expected.pending == got.pending, how);
}

// A message that parses from `payload` frames again as its own bytes.
template <typename Message>
void ParseAndReframe(std::string_view payload) {
  Message message;
  if (!message.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) return;
  const std::string serialized = message.SerializeAsString();
  std::string framed;
  AppendFrame(message, &framed);
  FUZZ_CHECK(framed.size() == kFrameHeaderBytes + serialized.size(), "frame size");
  FrameReader reader;
  reader.Append(framed);
  std::string_view again;
  bool got = false;
  FUZZ_CHECK(reader.Next(&again, &got).ok() && got, "reframed message");
  FUZZ_CHECK(again == serialized, "reframed bytes");
  FUZZ_CHECK(reader.pending_bytes() == 0, "bytes after the reframed message");
}

}  // namespace
}  // namespace pprocd

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pprocd;
  FuzzedDataProvider provider(data, size);
  const uint32_t seed = provider.ConsumeIntegral<uint32_t>();
  const std::string stream = provider.ConsumeRemainingBytesAsString();

  const Decoded expected = Reference(stream);
  ExpectSame(expected, ByAppend(stream, seed), "Append");
  // A pipe holds 64 KiB: larger streams are checked by Append() only.
  if (stream.size() <= 60000) {
    ExpectSame(expected, ByRead(stream, seed), "ReadFrom");
    ExpectSame(expected, ByBlockingRead(stream), "ReadFrameBlocking");
  }
  for (const std::string& frame : expected.frames) {
    ParseAndReframe<wire::v1::TaskFrame>(frame);
    ParseAndReframe<wire::v1::ChannelInput>(frame);
    ParseAndReframe<wire::v1::ResultFrame>(frame);
    ParseAndReframe<wire::v1::TemplateRequest>(frame);
    ParseAndReframe<wire::v1::TemplateEvent>(frame);
  }
  return 0;
}
