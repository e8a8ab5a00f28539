// JSON text <-> google.protobuf.Value for the lines a persistent command
// reads and writes, without protobuf's JSON converter (which costs several
// microseconds per small value: more than a whole item of a fast command).
//
// Printing gives the values protobuf's JSON printer gives: numbers as
// protobuf prints doubles (%.15g, or %.17g when that does not read back the
// same: 7, 0.1, 1e+15), NaN and infinities as the strings "NaN",
// "Infinity" and "-Infinity", an unset Value as null. Strings escape only
// what JSON requires; keys come in the Struct's (hash) order.
//
// Pure functions; safe to call from any thread.
#ifndef PPROCD_WORKER_VALUE_JSON_H_
#define PPROCD_WORKER_VALUE_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace pprocd {

// Appends `value` as compact JSON to `*out`.
void AppendJson(const google::protobuf::Value& value, std::string* out);

// Appends `text` as a JSON string, quotes included.
void AppendJsonString(absl::string_view text, std::string* out);

// Parses one complete JSON value (RFC 8259; surrounding whitespace
// allowed). Strings must be valid UTF-8; an escaped lone surrogate
// becomes U+FFFD; a key may not repeat. Arrays and objects nest at most
// 100 deep, as in protobuf's parser. Fails with
// InvalidArgument and the reason (and its byte offset) otherwise.
absl::StatusOr<google::protobuf::Value> ParseJson(absl::string_view text);

// Parses `text`, one JSON array, in one pass and appends its elements to
// `*out` (which may live on an arena: the new Values are then allocated on
// it). Fails as ParseJson does, and when the text is not an array; `*out`
// is then left as it was.
absl::Status ParseJsonArray(absl::string_view text,
                            google::protobuf::RepeatedPtrField<google::protobuf::Value>* out);

}  // namespace pprocd

#endif  // PPROCD_WORKER_VALUE_JSON_H_
