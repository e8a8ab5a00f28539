// JSON text <-> google.protobuf.Value for pprocd clients.
//
// Parsing is pprocd's JSON codec (RFC 8259, strings checked as UTF-8, a
// repeated key refused, nesting at most 100 deep). Printing is compact:
// protobuf's MessageToJsonString prints integral doubles of 1e15 and above
// in exponent form (832040 is fine, but 10^15 becomes 1e+15 and
// 123456789012345678 becomes 1.2345678901234568e+17), prints an unset Value
// as "" and drops unset list elements. Here integral numbers print as
// integers, struct keys print sorted, and the output is always valid JSON.
//
// Pure functions; safe to call from any thread.
#ifndef PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_JSON_H_
#define PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace pprocd::client {

// Parses one complete JSON value (any JSON type, surrounding whitespace
// allowed). Fails with INVALID_ARGUMENT and a one-line reason otherwise
// ("invalid JSON: byte N: <reason>").
absl::StatusOr<google::protobuf::Value> ParseJsonValue(absl::string_view json);

// Returns `value` as compact JSON (no spaces).
std::string ValueToJson(const google::protobuf::Value& value);

// Appends `value` as compact JSON to `*out`.
void AppendValueJson(const google::protobuf::Value& value, std::string* out);

// Returns a JSON number for `number`: an integer without fraction or exponent
// when `number` is integral and |number| < 2^63 (832040, 1000000000000000),
// else the shortest text that reads back as the same double (0.1, 1e+300,
// 9223372036854775808).
// JSON has no NaN or infinity: they print as the strings "NaN", "Infinity"
// and "-Infinity", as in protobuf's JSON mapping.
std::string FormatJsonNumber(double number);

// Appends `text` as a JSON string literal, quotes included. Control
// characters are escaped; bytes that are not valid UTF-8 become U+FFFD.
void AppendJsonString(absl::string_view text, std::string* out);

}  // namespace pprocd::client

#endif  // PPROCD_CLIENTS_CPP_INCLUDE_PPROCD_CLIENT_JSON_H_
