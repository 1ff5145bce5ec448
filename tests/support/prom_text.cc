#include "tests/support/prom_text.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace flotilla::testing {
namespace {

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

bool IsMetricName(absl::string_view s) {
  if (s.empty() || !(IsNameStart(s[0]) || s[0] == ':')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsNameChar(c) || c == ':'; });
}

bool IsLabelName(absl::string_view s) {
  return !s.empty() && IsNameStart(s[0]) && std::all_of(s.begin(), s.end(), IsNameChar);
}

// A float as Go's strconv.ParseFloat reads it in Prometheus' parser: decimal
// or exponent notation, or Inf/NaN spelled in any case with an optional sign.
std::optional<double> ParseValue(absl::string_view s) {
  std::string lower;
  for (char c : s) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "+inf" || lower == "inf") return std::numeric_limits<double>::infinity();
  if (lower == "-inf") return -std::numeric_limits<double>::infinity();
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (s.empty()) return std::nullopt;
  // Only digits, sign, '.', 'e'/'E': strtod alone would take hex and "infinity".
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E')) {
      return std::nullopt;
    }
  }
  std::string copy(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || errno == ERANGE) return std::nullopt;
  return v;
}

std::string Describe(const std::string& name, const PromLabels& labels) {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(absl::StrCat(k, "=\"", v, "\""));
  return absl::StrCat(name, "{", absl::StrJoin(parts, ","), "}");
}

class Parser {
 public:
  absl::Status Line(int number, absl::string_view line) {
    number_ = number;
    if (line.empty()) return absl::OkStatus();
    if (line[0] == '#') return Comment(line);
    return Sample(line);
  }

  absl::Status Finish(std::map<std::string, PromFamily>* families,
                      std::map<std::string, std::string>* owner) {
    for (const auto& [name, family] : families_) {
      if (family.type == "histogram") {
        if (auto st = CheckHistogram(family); !st.ok()) return st;
      }
    }
    *families = std::move(families_);
    *owner = std::move(owner_);
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("line ", number_, ": ", what));
  }

  // Enters the group of `family`: a family's lines must be contiguous.
  absl::Status Enter(const std::string& family) {
    if (family == current_) return absl::OkStatus();
    if (closed_.count(family)) {
      return Error(absl::StrCat("family ", family,
                                " appears again after other families: its lines must be together"));
    }
    if (!current_.empty()) closed_.insert(current_);
    current_ = family;
    return absl::OkStatus();
  }

  absl::Status Comment(absl::string_view line) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    if (parts.size() < 2 || parts[0] != "#" || (parts[1] != "HELP" && parts[1] != "TYPE")) {
      return absl::OkStatus();  // an ordinary comment
    }
    if (parts.size() < 3 || parts[2].empty())
      return Error(absl::StrCat(parts[1], " without a name"));
    std::string name(parts[2]);
    if (!IsMetricName(name)) return Error(absl::StrCat("invalid metric name \"", name, "\""));
    if (auto st = Enter(name); !st.ok()) return st;
    PromFamily& f = families_[name];
    f.name = name;
    absl::string_view rest = parts.size() > 3 ? parts[3] : "";
    if (parts[1] == "HELP") {
      if (help_seen_.count(name)) return Error(absl::StrCat("second HELP line for ", name));
      help_seen_.insert(name);
      std::string help;
      for (size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] != '\\') {
          help.push_back(rest[i]);
          continue;
        }
        if (i + 1 == rest.size()) return Error("HELP text ends in a lone backslash");
        char next = rest[++i];
        if (next == '\\') {
          help.push_back('\\');
        } else if (next == 'n') {
          help.push_back('\n');
        } else {
          return Error(absl::StrCat("invalid escape \\", std::string(1, next), " in HELP text"));
        }
      }
      f.help = std::move(help);
      return absl::OkStatus();
    }
    if (type_seen_.count(name)) return Error(absl::StrCat("second TYPE line for ", name));
    if (!f.samples.empty())
      return Error(absl::StrCat("TYPE line for ", name, " after its samples"));
    static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                 "untyped"};
    std::string type(rest);
    if (!kTypes.count(type)) return Error(absl::StrCat("unknown metric type \"", type, "\""));
    type_seen_.insert(name);
    f.type = type;
    return absl::OkStatus();
  }

  // The family a sample name belongs to: the name itself, or for histograms
  // and summaries the name without _bucket, _sum or _count.
  absl::StatusOr<std::string> FamilyOf(const std::string& sample_name, const PromLabels& labels) {
    auto exact = families_.find(sample_name);
    if (exact != families_.end() && type_seen_.count(sample_name)) {
      const std::string& type = exact->second.type;
      if (type == "histogram") {
        return Error(
            absl::StrCat("sample ", sample_name, " of histogram without _bucket, _sum or _count"));
      }
      if (labels.count("le") && type != "untyped") {
        return Error(absl::StrCat("label \"le\" on ", type, " ", sample_name));
      }
      if (type == "summary" && !labels.count("quantile")) {
        return Error(absl::StrCat("summary sample ", sample_name, " without a quantile label"));
      }
      return sample_name;
    }
    for (absl::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (sample_name.size() <= suffix.size() || !absl::EndsWith(sample_name, suffix)) continue;
      std::string base = sample_name.substr(0, sample_name.size() - suffix.size());
      auto it = families_.find(base);
      if (it == families_.end() || !type_seen_.count(base)) continue;
      const std::string& type = it->second.type;
      if (type == "histogram") {
        if (suffix == "_bucket" && !labels.count("le")) {
          return Error(absl::StrCat("histogram bucket ", sample_name, " without an le label"));
        }
        if (suffix != "_bucket" && labels.count("le")) {
          return Error(absl::StrCat("label \"le\" on ", sample_name));
        }
        return base;
      }
      if (type == "summary" && suffix != "_bucket") return base;
      return Error(absl::StrCat("sample ", sample_name, " does not belong to ", type, " ", base));
    }
    return Error(absl::StrCat("sample ", sample_name, " has no TYPE line declaring its family"));
  }

  absl::Status Sample(absl::string_view line) {
    size_t i = 0;
    while (i < line.size() && (IsNameChar(line[i]) || line[i] == ':')) ++i;
    std::string name(line.substr(0, i));
    if (!IsMetricName(name)) {
      return Error(absl::StrCat("invalid metric name at the start of \"", line, "\""));
    }
    PromLabels labels;
    if (i < line.size() && line[i] == '{') {
      ++i;
      if (auto st = Labels(line, &i, &labels); !st.ok()) return st;
    }
    if (i >= line.size() || (line[i] != ' ' && line[i] != '\t')) {
      return Error(absl::StrCat("expected a space and a value after ", name));
    }
    std::vector<absl::string_view> fields =
        absl::StrSplit(line.substr(i), absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.empty()) return Error(absl::StrCat("sample ", name, " has no value"));
    if (fields.size() > 2) return Error(absl::StrCat("trailing text after the sample ", name));
    std::optional<double> value = ParseValue(fields[0]);
    if (!value) return Error(absl::StrCat("invalid value \"", fields[0], "\" for ", name));
    if (fields.size() == 2) {
      int64_t timestamp = 0;
      if (!absl::SimpleAtoi(fields[1], &timestamp)) {
        return Error(absl::StrCat("invalid timestamp \"", fields[1], "\" for ", name));
      }
    }
    auto family_name = FamilyOf(name, labels);
    if (!family_name.ok()) return family_name.status();
    if (auto st = Enter(*family_name); !st.ok()) return st;
    PromFamily& family = families_[*family_name];
    if (family.type == "counter" && !(*value >= 0)) {
      return Error(absl::StrCat("counter ", name, " has the value ", fields[0],
                                " (counters are never negative or NaN)"));
    }
    if (family.type == "histogram" && name != family.name + "_sum" && !(*value >= 0)) {
      return Error(absl::StrCat("histogram count ", name, " has the value ", fields[0]));
    }
    std::string key = Describe(name, labels);
    if (!series_.insert(key).second) return Error(absl::StrCat("duplicate series ", key));
    owner_[name] = *family_name;
    family.samples.push_back(PromSample{name, std::move(labels), *value});
    return absl::OkStatus();
  }

  // Parses `name="value",...}` from line[*i]; leaves *i after the brace.
  absl::Status Labels(absl::string_view line, size_t* i, PromLabels* labels) {
    for (;;) {
      while (*i < line.size() && line[*i] == ' ') ++*i;
      if (*i < line.size() && line[*i] == '}') {
        ++*i;
        return absl::OkStatus();
      }
      size_t start = *i;
      while (*i < line.size() && IsNameChar(line[*i])) ++*i;
      std::string label(line.substr(start, *i - start));
      if (!IsLabelName(label)) {
        return Error(absl::StrCat("invalid label name at column ", start + 1));
      }
      if (label.size() >= 2 && label[0] == '_' && label[1] == '_') {
        return Error(absl::StrCat("label name ", label, " is reserved (starts with __)"));
      }
      while (*i < line.size() && line[*i] == ' ') ++*i;
      if (*i >= line.size() || line[*i] != '=') {
        return Error(absl::StrCat("expected '=' after label name ", label));
      }
      ++*i;
      while (*i < line.size() && line[*i] == ' ') ++*i;
      if (*i >= line.size() || line[*i] != '"') {
        return Error(absl::StrCat("expected '\"' to open the value of label ", label));
      }
      ++*i;
      std::string value;
      bool closed = false;
      while (*i < line.size()) {
        char c = line[(*i)++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c != '\\') {
          value.push_back(c);
          continue;
        }
        if (*i >= line.size()) break;
        char next = line[(*i)++];
        if (next == '\\') {
          value.push_back('\\');
        } else if (next == '"') {
          value.push_back('"');
        } else if (next == 'n') {
          value.push_back('\n');
        } else {
          return Error(absl::StrCat("invalid escape \\", std::string(1, next),
                                    " in the value of label ", label));
        }
      }
      if (!closed) return Error(absl::StrCat("unterminated value of label ", label));
      if (!labels->emplace(label, std::move(value)).second) {
        return Error(absl::StrCat("label ", label, " given twice"));
      }
      while (*i < line.size() && line[*i] == ' ') ++*i;
      if (*i < line.size() && line[*i] == ',') {
        ++*i;
        continue;
      }
      if (*i < line.size() && line[*i] == '}') {
        ++*i;
        return absl::OkStatus();
      }
      return Error(absl::StrCat("expected ',' or '}' after the value of label ", label));
    }
  }

  static absl::Status CheckHistogram(const PromFamily& f) {
    struct Series {
      std::vector<std::pair<double, double>> buckets;  // le, count
      std::optional<double> count;
      bool has_sum = false;
    };
    std::map<std::string, Series> by_labels;
    for (const PromSample& s : f.samples) {
      PromLabels rest = s.labels;
      std::optional<double> le;
      if (auto it = rest.find("le"); it != rest.end()) {
        le = ParseValue(it->second);
        if (!le || std::isnan(*le)) {
          return absl::InvalidArgumentError(
              absl::StrCat("histogram ", f.name, ": invalid le=\"", it->second, "\""));
        }
        rest.erase(it);
      }
      Series& series = by_labels[Describe(f.name, rest)];
      if (s.name == f.name + "_bucket") {
        series.buckets.emplace_back(*le, s.value);
      } else if (s.name == f.name + "_count") {
        series.count = s.value;
      } else {
        series.has_sum = true;
      }
    }
    for (auto& [key, series] : by_labels) {
      std::sort(series.buckets.begin(), series.buckets.end());
      if (series.buckets.empty() ||
          !(series.buckets.back().first > 0 && std::isinf(series.buckets.back().first))) {
        return absl::InvalidArgumentError(
            absl::StrCat("histogram ", key, " has no le=\"+Inf\" bucket"));
      }
      for (size_t i = 1; i < series.buckets.size(); ++i) {
        if (series.buckets[i].second < series.buckets[i - 1].second) {
          return absl::InvalidArgumentError(absl::StrCat(
              "histogram ", key, ": bucket counts decrease (le=", series.buckets[i - 1].first,
              " has ", series.buckets[i - 1].second, ", le=", series.buckets[i].first, " has ",
              series.buckets[i].second, ")"));
        }
      }
      if (!series.count) {
        return absl::InvalidArgumentError(absl::StrCat("histogram ", key, " has no _count"));
      }
      if (!series.has_sum) {
        return absl::InvalidArgumentError(absl::StrCat("histogram ", key, " has no _sum"));
      }
      if (*series.count != series.buckets.back().second) {
        return absl::InvalidArgumentError(
            absl::StrCat("histogram ", key, ": _count is ", *series.count,
                         " but the le=\"+Inf\" bucket is ", series.buckets.back().second));
      }
    }
    return absl::OkStatus();
  }

  int number_ = 0;
  std::map<std::string, PromFamily> families_;
  std::map<std::string, std::string> owner_;
  std::set<std::string> help_seen_;
  std::set<std::string> type_seen_;
  std::set<std::string> series_;
  std::set<std::string> closed_;
  std::string current_;
};

}  // namespace

absl::StatusOr<PromExposition> PromExposition::Parse(std::string_view std_text) {
  const absl::string_view text(std_text.data(), std_text.size());
  if (!text.empty() && text.back() != '\n') {
    return absl::InvalidArgumentError("the exposition does not end with a newline");
  }
  Parser parser;
  int number = 0;
  absl::string_view rest = text;
  while (!rest.empty()) {
    size_t eol = rest.find('\n');
    absl::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": carriage return"));
    }
    if (auto st = parser.Line(number, line); !st.ok()) return st;
  }
  PromExposition out;
  if (auto st = parser.Finish(&out.families_, &out.owner_); !st.ok()) return st;
  return out;
}

const PromFamily* PromExposition::Family(const std::string& name) const {
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : &it->second;
}

std::optional<double> PromExposition::Value(const std::string& sample_name,
                                            const PromLabels& labels) const {
  auto owner = owner_.find(sample_name);
  if (owner == owner_.end()) return std::nullopt;
  for (const PromSample& s : families_.at(owner->second).samples) {
    if (s.name == sample_name && s.labels == labels) return s.value;
  }
  return std::nullopt;
}

double PromExposition::Sum(const std::string& sample_name, const PromLabels& matching) const {
  auto owner = owner_.find(sample_name);
  if (owner == owner_.end()) return 0;
  double sum = 0;
  for (const PromSample& s : families_.at(owner->second).samples) {
    if (s.name != sample_name) continue;
    bool match = std::all_of(matching.begin(), matching.end(), [&](const auto& kv) {
      auto it = s.labels.find(kv.first);
      return it != s.labels.end() && it->second == kv.second;
    });
    if (match) sum += s.value;
  }
  return sum;
}

int PromExposition::Count(const std::string& sample_name) const {
  auto owner = owner_.find(sample_name);
  if (owner == owner_.end()) return 0;
  int n = 0;
  for (const PromSample& s : families_.at(owner->second).samples) n += s.name == sample_name;
  return n;
}

}  // namespace flotilla::testing
