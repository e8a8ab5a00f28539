#include "tests/util/prometheus_text.h"

#include <cstdlib>
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace pprocd::testing {
namespace {

const std::regex& SampleLine() {
  static const std::regex* const line = new std::regex(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="(\\[\\"n]|[^\\"\n])*")*\})? (\S+)$)");
  return *line;
}

bool ParseValue(const std::string& text, double* value) {
  if (text == "+Inf" || text == "-Inf" || text == "NaN") {
    *value = text == "NaN" ? 0 : (text[0] == '+' ? 1e308 * 10 : -1e308 * 10);
    return true;
  }
  char* end = nullptr;
  *value = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0';
}

}  // namespace

absl::StatusOr<std::map<std::string, double>> ParsePrometheusText(const std::string& text) {
  std::map<std::string, double> samples;
  std::map<std::string, std::string> types;
  std::set<std::string> helped;
  int number = 0;
  const auto bad = [&number](const std::string& line, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("line ", number, " (", line, "): ", why));
  };
  if (!text.empty() && text.back() != '\n') return absl::InvalidArgumentError("no final newline");
  for (absl::string_view view : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++number;
    const std::string line(view);
    if (absl::StartsWith(line, "# HELP ") || absl::StartsWith(line, "# TYPE ")) {
      std::vector<std::string> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
      if (parts.size() < 4 || parts[3].empty()) return bad(line, "HELP or TYPE without text");
      const std::string& name = parts[2];
      if (parts[1] == "HELP") {
        if (!helped.insert(name).second) return bad(line, "a second HELP");
        continue;
      }
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (kTypes.count(parts[3]) == 0) return bad(line, "unknown type");
      if (!types.emplace(name, parts[3]).second) return bad(line, "a second TYPE");
      continue;
    }
    if (absl::StartsWith(line, "#")) continue;
    std::smatch match;
    if (!std::regex_match(line, match, SampleLine())) return bad(line, "not a sample line");
    std::string family = match[1];
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      const std::string base = family.substr(0, family.size() - std::string(suffix).size());
      if (absl::EndsWith(family, suffix) && types.count(base) > 0 && types[base] == "histogram") {
        family = base;
      }
    }
    if (types.count(family) == 0) return bad(line, "a sample before its family's TYPE");
    double value = 0;
    if (!ParseValue(match[match.size() - 1], &value)) return bad(line, "bad value");
    const std::string series = line.substr(0, line.rfind(' '));
    if (!samples.emplace(series, value).second) return bad(line, "a series twice");
    if (types[family] == "counter" && value < 0) return bad(line, "a negative counter");
  }
  return samples;
}

}  // namespace pprocd::testing
