// A strict reader of the Prometheus text exposition format (0.0.4), for
// tests: every line must be a HELP, a TYPE or a sample of a declared family.
#ifndef PPROCD_TESTS_UTIL_PROMETHEUS_TEXT_H_
#define PPROCD_TESTS_UTIL_PROMETHEUS_TEXT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace pprocd::testing {

// Samples by series, written as in the text: `name{label="value",...}` (or
// `name` without labels). An error names the first line that breaks the
// format.
absl::StatusOr<std::map<std::string, double>> ParsePrometheusText(const std::string& text);

}  // namespace pprocd::testing

#endif  // PPROCD_TESTS_UTIL_PROMETHEUS_TEXT_H_
