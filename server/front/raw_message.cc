#include "server/front/raw_message.h"

#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/slice.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/logging.h"

namespace pprocd {
namespace {

// Set while ParseRequest() runs on this thread: protobuf's log lines
// written then are kept here, not logged.
thread_local std::string* parse_log = nullptr;
google::protobuf::LogHandler* previous_handler = nullptr;

void RouteLog(google::protobuf::LogLevel level, const char* filename, int line,
              const std::string& message) {
  if (parse_log != nullptr && level != google::protobuf::LOGLEVEL_FATAL) {
    if (parse_log->empty()) *parse_log = message;
    return;
  }
  if (previous_handler != nullptr) previous_handler(level, filename, line, message);
}

bool ParseAll(google::protobuf::io::CodedInputStream* input,
              google::protobuf::MessageLite* message) {
  input->SetRecursionLimit(kMaxRequestDepth);
  return message->ParseFromCodedStream(input) && input->ConsumedEntireMessage();
}

}  // namespace

absl::Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::MessageLite* message) {
  std::string why;
  parse_log = &why;
  bool parsed = false;
  grpc::Slice slice;
  if (!buffer.Valid()) {  // No bytes at all: the empty message.
    google::protobuf::io::CodedInputStream input(nullptr, 0);
    parsed = ParseAll(&input, message);
  } else if (buffer.TrySingleSlice(&slice).ok()) {
    if (slice.size() <= static_cast<size_t>(INT_MAX)) {
      google::protobuf::io::CodedInputStream input(slice.begin(), static_cast<int>(slice.size()));
      parsed = ParseAll(&input, message);
    }
  } else {
    // The copy shares the slices (a reference each), not the bytes.
    grpc::ByteBuffer shared(buffer);
    grpc::ProtoBufferReader reader(&shared);
    if (reader.status().ok()) {
      google::protobuf::io::CodedInputStream input(&reader);
      parsed = ParseAll(&input, message);
    }
  }
  parse_log = nullptr;
  if (parsed) return absl::OkStatus();
  absl::StripAsciiWhitespace(&why);
  if (why.empty()) {
    why = absl::StrCat("malformed bytes, or messages nested more than ", kMaxRequestDepth,
                       " levels deep");
  }
  return absl::InvalidArgumentError(why);
}

absl::Status ParseOnlyRequest(absl::string_view rpc, const grpc::ByteBuffer& buffer,
                              google::protobuf::MessageLite* message) {
  absl::Status parsed = ParseRequest(buffer, message);
  if (parsed.ok()) return parsed;
  return absl::InvalidArgumentError(absl::StrCat(rpc, ": the request could not be parsed as ",
                                                 message->GetTypeName(), " (", parsed.message(),
                                                 ")"));
}

absl::Status ParseStreamRequest(uint64_t number, const grpc::ByteBuffer& buffer,
                                google::protobuf::MessageLite* message) {
  absl::Status parsed = ParseRequest(buffer, message);
  if (parsed.ok()) return parsed;
  return absl::InvalidArgumentError(absl::StrCat("request ", number,
                                                 " (counting from 1) could not be parsed as ",
                                                 message->GetTypeName(), ": ", parsed.message()));
}

absl::Status SerializeResponse(const google::protobuf::MessageLite& message,
                               grpc::ByteBuffer* buffer) {
  // One pass sizes the message (and caches the sizes), one writes it into
  // a single slice of that size.
  const size_t size = message.ByteSizeLong();
  if (size > static_cast<size_t>(INT_MAX)) {
    return absl::InternalError(
        absl::StrCat("a ", message.GetTypeName(), " of ", size, " bytes is too large to send"));
  }
  grpc::Slice slice(size);
  uint8_t* const start = const_cast<uint8_t*>(slice.begin());
  // Another size than the one just measured: the message changed under us.
  if (message.SerializeWithCachedSizesToArray(start) != start + size) std::abort();
  grpc::ByteBuffer bytes(&slice, 1);
  buffer->Swap(&bytes);
  return absl::OkStatus();
}

void CaptureParseLogs() {
  static std::once_flag once;
  std::call_once(once, [] { previous_handler = google::protobuf::SetLogHandler(&RouteLog); });
}

}  // namespace pprocd
