// MetricsRegistry: counters and histograms with labels, rendered in the
// Prometheus text exposition format (version 0.0.4).
//
// Thread-safe: any thread may add to a family or render the registry. A
// family is created once (at start) and lives as long as its registry;
// adding to it takes one short lock. Values that are read at scrape time
// (gauges such as queue depth) are not kept here: the scraper writes them
// with AppendGauge beside the registry's own text.
#ifndef PPROCD_SERVER_METRICS_METRICS_REGISTRY_H_
#define PPROCD_SERVER_METRICS_METRICS_REGISTRY_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pprocd {

// A series' label values, in the order of its family's label names.
using LabelValues = std::vector<std::string>;

// A monotonically increasing counter per label set (TYPE counter).
class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  // Adds `amount` (>= 0) to the series of `labels` (created at 0).
  void Add(const LabelValues& labels, double amount = 1) ABSL_LOCKS_EXCLUDED(mu_);
  // The series' value; 0 for one never added to.
  double Value(const LabelValues& labels) const ABSL_LOCKS_EXCLUDED(mu_);
  void Render(std::string* out) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, double> values_ ABSL_GUARDED_BY(mu_);
};

// A histogram per label set (TYPE histogram): cumulative buckets with the
// given upper bounds, plus +Inf, _sum and _count.
class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds);
  // Records `times` observations of `value`.
  void Observe(const LabelValues& labels, double value, uint64_t times = 1)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Records one observation of each of `values` (one lock for all).
  void ObserveEach(const LabelValues& labels, const std::vector<double>& values)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Render(std::string* out) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Series {
    std::vector<uint64_t> buckets;  // per bound, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, Series> series_ ABSL_GUARDED_BY(mu_);
};

class MetricsRegistry {
 public:
  // The families are owned by the registry; the pointers stay valid as
  // long as it lives. Names must be unique and valid Prometheus names.
  CounterFamily* AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names) ABSL_LOCKS_EXCLUDED(mu_);
  HistogramFamily* AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names, std::vector<double> bounds)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Appends every family, in the order they were added.
  void Render(std::string* out) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<CounterFamily>> counters_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<HistogramFamily>> histograms_ ABSL_GUARDED_BY(mu_);
  // Render order: (is_histogram, index).
  std::vector<std::pair<bool, size_t>> order_ ABSL_GUARDED_BY(mu_);
};

// One series of a gauge read at scrape time.
struct GaugeSample {
  LabelValues labels;
  double value = 0;
};
// Appends a gauge family (HELP, TYPE gauge, one line per sample).
void AppendGauge(std::string* out, const std::string& name, const std::string& help,
                 const std::vector<std::string>& label_names,
                 const std::vector<GaugeSample>& samples);
// `{a="x",b="y"}` with values escaped as the format asks (\\, \", \n); ""
// for no labels. `extra` is appended as one more label (such as le="0.5").
std::string FormatLabels(const std::vector<std::string>& names, const LabelValues& values,
                         const std::string& extra = "");
// A sample value as the format writes it: integers without a fraction,
// +Inf, -Inf, NaN.
std::string FormatSampleValue(double value);

}  // namespace pprocd

#endif  // PPROCD_SERVER_METRICS_METRICS_REGISTRY_H_
