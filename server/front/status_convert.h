// The one place where absl::Status becomes grpc::Status, and the bounds on
// what a status message may echo back to a client. Pure functions; any
// thread.
#ifndef PPROCD_SERVER_FRONT_STATUS_CONVERT_H_
#define PPROCD_SERVER_FRONT_STATUS_CONVERT_H_

#include <grpcpp/support/status.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace pprocd {

// A status message travels in the call's trailing metadata, which clients
// cap (8 KiB by default): a longer one turns the status into
// RESOURCE_EXHAUSTED "metadata size exceeds limit" on their side.
inline constexpr size_t kMaxStatusMessageBytes = 1024;
// The most of a caller's value that QuoteForStatus() keeps.
inline constexpr size_t kMaxQuotedBytes = 64;

// `status` as a grpc::Status with the same code and its message cut to
// BoundStatusMessage(). Every status a handler or reactor sends passes here.
grpc::Status ToGrpcStatus(const absl::Status& status);

// `message` unchanged when it has at most kMaxStatusMessageBytes bytes;
// otherwise its start, cut at a UTF-8 character boundary, and
// "…(N bytes)" (N: the whole message's size), kMaxStatusMessageBytes
// bytes at most in all.
std::string BoundStatusMessage(absl::string_view message);

// A caller's value (a callable name, a job id) quoted for a status message:
// 'value' when it has at most kMaxQuotedBytes bytes, else its start (cut at
// a UTF-8 character boundary) as 'start…' followed by " (N bytes)".
std::string QuoteForStatus(absl::string_view value);

}  // namespace pprocd

#endif  // PPROCD_SERVER_FRONT_STATUS_CONVERT_H_
