// Values for tests: one google.protobuf.Value of a number, a string, a list
// or null, and a run of numbers. Header-only, so any test binary can use it.
#ifndef PPROCD_TESTS_UTIL_VALUES_H_
#define PPROCD_TESTS_UTIL_VALUES_H_

#include <string>
#include <vector>

#include "google/protobuf/struct.pb.h"

namespace pprocd::testing {

inline google::protobuf::Value Num(double number) {
  google::protobuf::Value value;
  value.set_number_value(number);
  return value;
}

inline google::protobuf::Value Str(const std::string& text) {
  google::protobuf::Value value;
  value.set_string_value(text);
  return value;
}

inline google::protobuf::Value Null() {
  google::protobuf::Value value;
  value.set_null_value({});
  return value;
}

inline google::protobuf::Value List(const std::vector<google::protobuf::Value>& values) {
  google::protobuf::Value value;
  for (const auto& item : values) *value.mutable_list_value()->add_values() = item;
  return value;
}

// Num(first), Num(first + 1), ..., Num(last).
inline std::vector<google::protobuf::Value> Range(int first, int last) {
  std::vector<google::protobuf::Value> values;
  for (int i = first; i <= last; ++i) values.push_back(Num(i));
  return values;
}

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_UTIL_VALUES_H_
