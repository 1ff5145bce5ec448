// A strict parser for the Prometheus text exposition format 0.0.4, for tests
// that read a /metrics body: stricter than Prometheus itself where the
// format leaves room (every sample must belong to a family declared by a
// TYPE line), so that what passes here is accepted by any scraper.
//
// Checked: HELP and TYPE lines (at most one each per family, TYPE before the
// family's samples, a family's lines together), metric and label names,
// label values with only the escapes \\ \" \n, sample values (floats, +Inf,
// -Inf, NaN) and optional integer timestamps, counters non-negative, no
// duplicate series, and for histograms: `le` on every bucket and nowhere
// else, a +Inf bucket, cumulative counts non-decreasing with `le`, the +Inf
// bucket equal to `_count`, and `_sum` and `_count` present.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace flotilla::testing {

using PromLabels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;  // as written: with _bucket, _sum or _count for histograms
  PromLabels labels;
  double value = 0;
};

struct PromFamily {
  std::string name;
  std::string type;                 // counter, gauge, histogram, summary or untyped
  std::string help;                 // unescaped
  std::vector<PromSample> samples;  // in exposition order
};

class PromExposition {
 public:
  // Errors are InvalidArgument "line N: <what is wrong>" (or naming the
  // family, for checks over a whole histogram).
  static absl::StatusOr<PromExposition> Parse(std::string_view text);

  const std::map<std::string, PromFamily>& families() const { return families_; }
  // nullptr when no such family was declared.
  const PromFamily* Family(const std::string& name) const;
  // The value of the sample `sample_name` with exactly `labels`.
  std::optional<double> Value(const std::string& sample_name, const PromLabels& labels = {}) const;
  // The sum over every sample `sample_name` whose labels include `matching`
  // (PromQL's sum(name{matching})); 0 when there is none.
  double Sum(const std::string& sample_name, const PromLabels& matching = {}) const;
  // How many samples named `sample_name` there are.
  int Count(const std::string& sample_name) const;

 private:
  std::map<std::string, PromFamily> families_;
  // sample name -> family name
  std::map<std::string, std::string> owner_;
};

}  // namespace flotilla::testing
