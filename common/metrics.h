// A small Prometheus registry: counters and gauges with labels, rendered in
// the text exposition format (version 0.0.4).
//
// Thread-safe. Label values are escaped as the format requires.
#pragma once

#include <map>
#include <string>

#include "absl/synchronization/mutex.h"

namespace flotilla::common {

class MetricsRegistry {
 public:
  using LabelSet = std::map<std::string, std::string>;

  // Declares a family; `type` is "counter" or "gauge".
  void Declare(const std::string& name, const std::string& type, const std::string& help);
  void Add(const std::string& name, const LabelSet& labels, double delta);
  void Set(const std::string& name, const LabelSet& labels, double value);
  // Drops every series of a gauge family (before re-setting it from a snapshot).
  void Clear(const std::string& name);
  double Get(const std::string& name, const LabelSet& labels);
  std::string Render();

 private:
  struct Family {
    std::string type;
    std::string help;
    std::map<std::string, double> series;  // rendered label set -> value
  };
  static std::string RenderLabels(const LabelSet& labels);
  absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flotilla::common
