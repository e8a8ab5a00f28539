#include "server/metrics/metrics_registry.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace pprocd {
namespace {

std::string EscapeLabelValue(const std::string& value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

// HELP text escapes only backslash and newline.
std::string EscapeHelp(const std::string& help) {
  std::string escaped;
  for (char c : help) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped.push_back(c);
    }
  }
  return escaped;
}

void AppendHeader(std::string* out, const std::string& name, const std::string& help,
                  const char* type) {
  absl::StrAppend(out, "# HELP ", name, " ", EscapeHelp(help), "\n# TYPE ", name, " ", type, "\n");
}

}  // namespace

std::string FormatLabels(const std::vector<std::string>& names, const LabelValues& values,
                         const std::string& extra) {
  if (names.empty() && extra.empty()) return "";
  std::string text = "{";
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i > 0) text.push_back(',');
    absl::StrAppend(&text, names[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&text, names.empty() ? "" : ",", extra);
  text.push_back('}');
  return text;
}

std::string FormatSampleValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  // The shortest of %.15g and %.17g that reads back as the same value.
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.15g", value);
  if (std::strtod(buffer, nullptr) != value) std::snprintf(buffer, sizeof(buffer), "%.17g", value);
  return buffer;
}

void AppendGauge(std::string* out, const std::string& name, const std::string& help,
                 const std::vector<std::string>& label_names,
                 const std::vector<GaugeSample>& samples) {
  AppendHeader(out, name, help, "gauge");
  for (const GaugeSample& sample : samples) {
    absl::StrAppend(out, name, FormatLabels(label_names, sample.labels), " ",
                    FormatSampleValue(sample.value), "\n");
  }
}

// CounterFamily

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void CounterFamily::Add(const LabelValues& labels, double amount) {
  absl::MutexLock lock(&mu_);
  values_[labels] += amount;
}

double CounterFamily::Value(const LabelValues& labels) const {
  absl::MutexLock lock(&mu_);
  auto it = values_.find(labels);
  return it == values_.end() ? 0 : it->second;
}

void CounterFamily::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "counter");
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, value] : values_) {
    absl::StrAppend(out, name_, FormatLabels(label_names_, labels), " ", FormatSampleValue(value),
                    "\n");
  }
}

// HistogramFamily

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names, std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      bounds_(std::move(bounds)) {}

void HistogramFamily::Observe(const LabelValues& labels, double value, uint64_t times) {
  absl::MutexLock lock(&mu_);
  Series& series = series_[labels];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size(), 0);
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      series.buckets[i] += times;
      break;
    }
  }
  series.count += times;
  series.sum += value * static_cast<double>(times);
}

void HistogramFamily::ObserveEach(const LabelValues& labels, const std::vector<double>& values) {
  absl::MutexLock lock(&mu_);
  Series& series = series_[labels];
  if (series.buckets.empty()) series.buckets.assign(bounds_.size(), 0);
  for (double value : values) {
    for (size_t i = 0; i < bounds_.size(); ++i) {
      if (value <= bounds_[i]) {
        ++series.buckets[i];
        break;
      }
    }
    ++series.count;
    series.sum += value;
  }
}

void HistogramFamily::Render(std::string* out) const {
  AppendHeader(out, name_, help_, "histogram");
  absl::MutexLock lock(&mu_);
  for (const auto& [labels, series] : series_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += series.buckets[i];
      absl::StrAppend(out, name_, "_bucket",
                      FormatLabels(label_names_, labels,
                                   absl::StrCat("le=\"", FormatSampleValue(bounds_[i]), "\"")),
                      " ", cumulative, "\n");
    }
    const std::string plain = FormatLabels(label_names_, labels);
    absl::StrAppend(out, name_, "_bucket", FormatLabels(label_names_, labels, "le=\"+Inf\""), " ",
                    series.count, "\n");
    absl::StrAppend(out, name_, "_sum", plain, " ", FormatSampleValue(series.sum), "\n");
    absl::StrAppend(out, name_, "_count", plain, " ", series.count, "\n");
  }
}

// MetricsRegistry

CounterFamily* MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  counters_.push_back(
      std::make_unique<CounterFamily>(std::move(name), std::move(help), std::move(label_names)));
  order_.emplace_back(false, counters_.size() - 1);
  return counters_.back().get();
}

HistogramFamily* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  histograms_.push_back(std::make_unique<HistogramFamily>(
      std::move(name), std::move(help), std::move(label_names), std::move(bounds)));
  order_.emplace_back(true, histograms_.size() - 1);
  return histograms_.back().get();
}

void MetricsRegistry::Render(std::string* out) const {
  absl::MutexLock lock(&mu_);
  for (const auto& [histogram, index] : order_) {
    if (histogram) {
      histograms_[index]->Render(out);
    } else {
      counters_[index]->Render(out);
    }
  }
}

}  // namespace pprocd
