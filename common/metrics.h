// A small Prometheus registry: counters, gauges and histograms with labels,
// rendered in the text exposition format (version 0.0.4).
//
// Thread-safe: every method may be called from any thread; one mutex guards
// the whole registry (an Add or Observe is a map lookup under it, cheap next
// to the RPC or transaction it counts). Label values are escaped as the
// format requires.
//
// Naming follows Prometheus conventions (docs/metrics.md lists the manager's
// series): a `flotilla_` prefix, `_total` for counters, base units
// (`_seconds`, `_bytes`), and only low-cardinality labels: never a cluster
// id or a bundle name.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace flotilla::common {

class MetricsRegistry {
 public:
  using LabelSet = std::map<std::string, std::string>;

  // Prometheus' default buckets (seconds): 5ms to 10s.
  static std::vector<double> DefaultBuckets();

  // Declares a counter or gauge family; `type` is "counter" or "gauge".
  // Declaring again updates the help text and keeps the series.
  void Declare(const std::string& name, const std::string& type, const std::string& help);
  // Declares a histogram family with these upper bounds (sorted and
  // deduplicated here; +Inf is implicit and dropped if given). Declaring
  // again keeps the existing buckets and series.
  void DeclareHistogram(const std::string& name, const std::string& help,
                        std::vector<double> buckets);

  // Counters and gauges. On a histogram family these do nothing.
  void Add(const std::string& name, const LabelSet& labels, double delta);
  void Set(const std::string& name, const LabelSet& labels, double value);
  // Records one observation (seconds, bytes...) in a histogram. A family
  // not declared yet becomes a histogram with DefaultBuckets(); on a counter
  // or gauge family this does nothing. `labels` must not contain "le".
  void Observe(const std::string& name, const LabelSet& labels, double value);
  // Creates the series at zero if it does not exist (counter or gauge 0, a
  // histogram with no observations), so that a known label combination is
  // exported before its first event, as Prometheus recommends.
  void InitSeries(const std::string& name, const LabelSet& labels);
  // Drops every series of a family (before re-setting a gauge from a
  // snapshot); the declaration stays.
  void Clear(const std::string& name);

  // Current value of a counter or gauge series; 0 when it does not exist.
  double Get(const std::string& name, const LabelSet& labels);
  struct HistogramData {
    uint64_t count = 0;
    double sum = 0;
    // Cumulative counts per declared upper bound (without +Inf).
    std::vector<uint64_t> cumulative;
  };
  // A histogram series; all zeros when it does not exist.
  HistogramData GetHistogram(const std::string& name, const LabelSet& labels);

  // The whole registry, families sorted by name, series by labels.
  std::string Render();

 private:
  struct HistogramSeries {
    LabelSet labels;
    std::vector<uint64_t> counts;  // per bucket, the last one is +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    std::string type;
    std::string help;
    std::map<std::string, double> series;               // rendered label set -> value
    std::vector<double> buckets;                        // histograms: finite upper bounds
    std::map<std::string, HistogramSeries> histograms;  // rendered label set -> series
  };
  static std::string RenderLabels(const LabelSet& labels);
  static void RenderHistogram(const std::string& name, const Family& f, std::string* out);
  HistogramSeries& HistogramLocked(Family& f, const LabelSet& labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

// The process-wide registry, like the default registry of Prometheus'
// client libraries: libraries (the controller, the store, the agent
// service) record into it without plumbing, and the manager's /metrics
// renders it. Never destroyed.
MetricsRegistry& DefaultMetrics();

// Observes the time from construction to Stop() (or destruction) in a
// histogram, in seconds.
//
// Durations are measured on std::chrono::steady_clock rather than the
// injected common::Clock: they are observations of real elapsed time that
// nothing decides on, and a simulated clock would make them all zero.
class ScopedTimer {
 public:
  ScopedTimer(MetricsRegistry* registry, std::string name, MetricsRegistry::LabelSet labels = {});
  ~ScopedTimer();
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

  // Replaces the labels the observation will carry (e.g. once the outcome is
  // known). No effect after Stop().
  void SetLabels(MetricsRegistry::LabelSet labels);
  // Observes now and returns the seconds observed; later calls (and the
  // destructor) observe nothing and return the first value.
  double Stop();
  // Observes nothing at all.
  void Cancel();

 private:
  MetricsRegistry* const registry_;
  const std::string name_;
  MetricsRegistry::LabelSet labels_;
  const std::chrono::steady_clock::time_point start_;
  bool done_ = false;
  double seconds_ = 0;
};

}  // namespace flotilla::common
