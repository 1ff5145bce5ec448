#include "common/metrics.h"

#include <cmath>
#include <cstdlib>

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

void MetricsRegistry::Add(const std::string& name, const LabelSet& labels, double delta) {
  absl::MutexLock lock(&mu_);
  families_[name].series[RenderLabels(labels)] += delta;
}

void MetricsRegistry::Set(const std::string& name, const LabelSet& labels, double value) {
  absl::MutexLock lock(&mu_);
  families_[name].series[RenderLabels(labels)] = value;
}

void MetricsRegistry::Clear(const std::string& name) {
  absl::MutexLock lock(&mu_);
  families_[name].series.clear();
}

double MetricsRegistry::Get(const std::string& name, const LabelSet& labels) {
  absl::MutexLock lock(&mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.series.find(RenderLabels(labels));
  return s == f->second.series.end() ? 0 : s->second;
}

std::string MetricsRegistry::Render() {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    if (!f.help.empty()) absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(f.help), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", f.type.empty() ? "untyped" : f.type, "\n");
    for (const auto& [labels, v] : f.series) {
      absl::StrAppend(&out, name, labels, " ", FormatValue(v), "\n");
    }
  }
  return out;
}

}  // namespace flotilla::common
