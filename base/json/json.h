// JSON text <-> google.protobuf.Value, shared by the server, the worker and
// the C++ client. The one JSON codec of pprocd: nothing else parses or
// prints JSON items.
//
// Reading (ParseJson, ParseJsonArray, SplitJsonArray) follows RFC 8259:
// surrounding whitespace is allowed; strings must be valid UTF-8; an
// escaped lone surrogate (\ud800 without its pair) becomes U+FFFD; a key
// may not repeat in one object; arrays and objects nest at most 100 deep
// (counted from the outermost value, as in protobuf's parser); numbers are
// read as doubles (beyond a double's range: infinity, as strtod gives).
// Anything else fails with InvalidArgument "byte N: <reason>", N being the
// byte offset in the text where the reading stopped.
//
// Printing (AppendJson, AppendJsonArray) gives the text protobuf's JSON
// printer gives: numbers as protobuf prints doubles (%.15g, or %.17g when
// that does not read back the same: 7, 0.1, 1e+15), NaN and infinities as
// the strings "NaN", "Infinity" and "-Infinity", an unset Value as null.
// Strings escape only what JSON requires; keys come in the Struct's (hash)
// order. Output is compact (no spaces).
//
// Pure functions; safe to call from any thread.
#ifndef PPROCD_BASE_JSON_JSON_H_
#define PPROCD_BASE_JSON_JSON_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "google/protobuf/struct.pb.h"

namespace pprocd {

// Appends `value` as compact JSON to `*out`.
void AppendJson(const google::protobuf::Value& value, std::string* out);

// Appends `text` as a JSON string, quotes included. `text` should be valid
// UTF-8 (its bytes are copied as they are).
void AppendJsonString(absl::string_view text, std::string* out);

// Appends the JSON array of `values` ("[v1,v2,...]") to `*out`.
void AppendJsonArray(absl::Span<const google::protobuf::Value* const> values, std::string* out);
void AppendJsonArray(const google::protobuf::RepeatedPtrField<google::protobuf::Value>& values,
                     std::string* out);

// Parses one complete JSON value (see the rules above).
absl::StatusOr<google::protobuf::Value> ParseJson(absl::string_view text);

// The byte range [begin, end) of one element of a JSON array text, without
// the whitespace around it.
struct JsonElement {
  uint32_t begin;
  uint32_t end;
};

// Validates the whole of `text` as one JSON array (the rules above, the
// array being depth 1) and appends the byte range of each of its elements,
// in order, to `*elements`. Builds no value: costs a few nanoseconds per
// small element and allocates only to grow `*elements`.
// Fails with InvalidArgument: "byte 0: expected a JSON array" when the text
// is not an array, "byte N: <reason>" when it is not valid JSON, and when
// the text is 4 GiB or more. On failure `*elements` may hold some of the
// ranges (the caller discards them).
absl::Status SplitJsonArray(absl::string_view text, std::vector<JsonElement>* elements);

// Parses `text`, one JSON array (the rules of SplitJsonArray), in one pass
// and appends its elements to `*out` (which may live on an arena: the new
// Values are then allocated on it). On failure (as SplitJsonArray) `*out`
// is left as it was.
absl::Status ParseJsonArray(absl::string_view text,
                            google::protobuf::RepeatedPtrField<google::protobuf::Value>* out);

}  // namespace pprocd

#endif  // PPROCD_BASE_JSON_JSON_H_
