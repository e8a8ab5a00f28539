// Requests and responses as the bytes gRPC carries (grpc::ByteBuffer): the
// service reads every request raw and parses it here, so that a request
// that does not parse is told apart from the end of a stream and answered
// with a status that says why. Any thread.
#ifndef PPROCD_SERVER_FRONT_RAW_MESSAGE_H_
#define PPROCD_SERVER_FRONT_RAW_MESSAGE_H_

#include <grpcpp/support/byte_buffer.h>

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message_lite.h"

namespace pprocd {

// How deep a request may nest messages (a google.protobuf.Value list in a
// list counts two levels): protobuf's default, which the workers that parse
// the inputs again use too.
inline constexpr int kMaxRequestDepth = 100;

// Parses all of `buffer` into `message`, reading the bytes where gRPC holds
// them (one slice or several; none is copied). On failure, InvalidArgument
// whose message says why in a few words, without the message type: once
// CaptureParseLogs() has run, protobuf's reason when it gives one (e.g. a
// string field that is not UTF-8) instead of a line in the log.
absl::Status ParseRequest(const grpc::ByteBuffer& buffer, google::protobuf::MessageLite* message);

// ParseRequest() of the one request of a unary or server-streaming method
// `rpc`: its failure reads "GetJob: the request could not be parsed as
// pprocd.v1.GetJobRequest (why)".
absl::Status ParseOnlyRequest(absl::string_view rpc, const grpc::ByteBuffer& buffer,
                              google::protobuf::MessageLite* message);

// ParseRequest() of the `number`th request of a stream (the first is 1):
// its failure reads "request 3 (counting from 1) could not be parsed as
// pprocd.v1.MapRequest: why".
absl::Status ParseStreamRequest(uint64_t number, const grpc::ByteBuffer& buffer,
                                google::protobuf::MessageLite* message);

// Serializes `message` into `buffer`, replacing what it held. Internal
// when the message cannot be serialized (larger than 2 GiB).
absl::Status SerializeResponse(const google::protobuf::MessageLite& message,
                               grpc::ByteBuffer* buffer);

// Routes protobuf's log lines through a handler that keeps those written
// while ParseRequest() runs on the same thread (they become the status)
// and passes every other one to the handler before it. Call once, before
// any request is served (protobuf's SetLogHandler is not thread-safe);
// later calls do nothing. FarmService's constructor calls it.
void CaptureParseLogs();

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_RAW_MESSAGE_H_
