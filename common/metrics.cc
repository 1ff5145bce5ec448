#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace flotilla::common {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  // The shortest form that reads back as the same double, as Prometheus'
  // own clients print values.
  for (int precision = 6; precision < 17; ++precision) {
    std::string s = absl::StrFormat("%.*g", precision, v);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return absl::StrFormat("%.17g", v);
}

// HELP text escapes backslash and newline (text format 0.0.4).
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

std::vector<double> MetricsRegistry::DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string MetricsRegistry::RenderLabels(const LabelSet& labels) {
  if (labels.empty()) return "";
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(absl::StrCat(k, "=\"", Escape(v), "\""));
  return absl::StrCat("{", absl::StrJoin(parts, ","), "}");
}

void MetricsRegistry::Declare(const std::string& name, const std::string& type,
                              const std::string& help) {
  absl::MutexLock lock(&mu_);
  auto& f = families_[name];
  f.type = type;
  f.help = help;
}

void MetricsRegistry::DeclareHistogram(const std::string& name, const std::string& help,
                                       std::vector<double> buckets) {
  std::sort(buckets.begin(), buckets.end());
  buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
  buckets.erase(std::remove_if(buckets.begin(), buckets.end(),
                               [](double b) { return std::isnan(b) || std::isinf(b); }),
                buckets.end());
  absl::MutexLock lock(&mu_);
  auto& f = families_[name];
  f.help = help;
  if (f.type == "histogram") return;  // keep the buckets its series were counted in
  f.type = "histogram";
  f.buckets = std::move(buckets);
  f.series.clear();
}

void MetricsRegistry::Add(const std::string& name, const LabelSet& labels, double delta) {
  absl::MutexLock lock(&mu_);
  auto& f = families_[name];
  if (f.type == "histogram") return;
  f.series[RenderLabels(labels)] += delta;
}

void MetricsRegistry::Set(const std::string& name, const LabelSet& labels, double value) {
  absl::MutexLock lock(&mu_);
  auto& f = families_[name];
  if (f.type == "histogram") return;
  f.series[RenderLabels(labels)] = value;
}

MetricsRegistry::HistogramSeries& MetricsRegistry::HistogramLocked(Family& f,
                                                                   const LabelSet& labels) {
  auto [it, inserted] = f.histograms.try_emplace(RenderLabels(labels));
  if (inserted) {
    it->second.labels = labels;
    it->second.counts.assign(f.buckets.size() + 1, 0);
  }
  return it->second;
}

void MetricsRegistry::Observe(const std::string& name, const LabelSet& labels, double value) {
  absl::MutexLock lock(&mu_);
  auto [fit, inserted] = families_.try_emplace(name);
  Family& f = fit->second;
  if (inserted || (f.type.empty() && f.series.empty())) {
    f.type = "histogram";
    f.buckets = DefaultBuckets();
  }
  if (f.type != "histogram") return;
  HistogramSeries& h = HistogramLocked(f, labels);
  // The first bucket whose upper bound is >= value (le is inclusive); NaN
  // lands in +Inf, as in Prometheus' Go client.
  size_t i = std::lower_bound(f.buckets.begin(), f.buckets.end(), value) - f.buckets.begin();
  if (std::isnan(value)) i = f.buckets.size();
  ++h.counts[i];
  h.sum += value;
  ++h.count;
}

void MetricsRegistry::InitSeries(const std::string& name, const LabelSet& labels) {
  absl::MutexLock lock(&mu_);
  Family& f = families_[name];
  if (f.type == "histogram") {
    HistogramLocked(f, labels);
  } else {
    f.series.try_emplace(RenderLabels(labels), 0);
  }
}

void MetricsRegistry::Clear(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto& f = families_[name];
  f.series.clear();
  f.histograms.clear();
}

double MetricsRegistry::Get(const std::string& name, const LabelSet& labels) {
  absl::MutexLock lock(&mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.series.find(RenderLabels(labels));
  return s == f->second.series.end() ? 0 : s->second;
}

MetricsRegistry::HistogramData MetricsRegistry::GetHistogram(const std::string& name,
                                                             const LabelSet& labels) {
  absl::MutexLock lock(&mu_);
  HistogramData out;
  auto f = families_.find(name);
  if (f == families_.end()) return out;
  out.cumulative.assign(f->second.buckets.size(), 0);
  auto s = f->second.histograms.find(RenderLabels(labels));
  if (s == f->second.histograms.end()) return out;
  uint64_t acc = 0;
  for (size_t i = 0; i < out.cumulative.size(); ++i) {
    acc += s->second.counts[i];
    out.cumulative[i] = acc;
  }
  out.count = s->second.count;
  out.sum = s->second.sum;
  return out;
}

void MetricsRegistry::RenderHistogram(const std::string& name, const Family& f, std::string* out) {
  for (const auto& [key, h] : f.histograms) {
    // `le` goes last, after the series' own labels, as Prometheus' clients
    // print it.
    std::string prefix = h.labels.empty() ? "{" : RenderLabels(h.labels);
    if (!h.labels.empty()) {
      prefix.pop_back();  // the closing brace
      prefix += ",";
    }
    uint64_t acc = 0;
    for (size_t i = 0; i < f.buckets.size(); ++i) {
      acc += h.counts[i];
      absl::StrAppend(out, name, "_bucket", prefix, "le=\"", FormatValue(f.buckets[i]), "\"} ", acc,
                      "\n");
    }
    absl::StrAppend(out, name, "_bucket", prefix, "le=\"+Inf\"} ", h.count, "\n");
    absl::StrAppend(out, name, "_sum", key, " ", FormatValue(h.sum), "\n");
    absl::StrAppend(out, name, "_count", key, " ", h.count, "\n");
  }
}

std::string MetricsRegistry::Render() {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(f.help), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", f.type.empty() ? "untyped" : f.type, "\n");
    if (f.type == "histogram") {
      RenderHistogram(name, f, &out);
      continue;
    }
    for (const auto& [labels, v] : f.series) {
      absl::StrAppend(&out, name, labels, " ", FormatValue(v), "\n");
    }
  }
  return out;
}

MetricsRegistry& DefaultMetrics() {
  static MetricsRegistry* const registry = new MetricsRegistry();
  return *registry;
}

ScopedTimer::ScopedTimer(MetricsRegistry* registry, std::string name,
                         MetricsRegistry::LabelSet labels)
    : registry_(registry),
      name_(std::move(name)),
      labels_(std::move(labels)),
      start_(std::chrono::steady_clock::now()) {}

ScopedTimer::~ScopedTimer() { Stop(); }

void ScopedTimer::SetLabels(MetricsRegistry::LabelSet labels) {
  if (!done_) labels_ = std::move(labels);
}

double ScopedTimer::Stop() {
  if (done_) return seconds_;
  done_ = true;
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  registry_->Observe(name_, labels_, seconds_);
  return seconds_;
}

void ScopedTimer::Cancel() { done_ = true; }

}  // namespace flotilla::common
