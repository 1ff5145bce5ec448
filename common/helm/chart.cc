#include "common/helm/chart.h"

#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/helm/archive.h"
#include "common/status_macros.h"

namespace flotilla::common::helm {
namespace {

constexpr int kMaxChartDepth = 20;

bool FnMatch(const std::string& pattern, const std::string& name) {
  return fnmatch(pattern.c_str(), name.c_str(), FNM_PATHNAME) == 0;
}

absl::string_view Base(absl::string_view path) {
  size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// Files below `dir` ("" = all), keyed by their path relative to it.
std::map<std::string, std::string> FilesUnder(const std::map<std::string, std::string>& files,
                                              const std::string& dir) {
  std::map<std::string, std::string> out;
  const std::string prefix = dir.empty() ? "" : dir + "/";
  for (auto it = files.lower_bound(prefix); it != files.end(); ++it) {
    if (!absl::StartsWith(it->first, prefix)) break;
    out.emplace(it->first.substr(prefix.size()), it->second);
  }
  return out;
}

// One LoadChart call: every archive it opens (the chart's own and packed
// subcharts at any depth) draws on one budget.
struct LoadContext {
  ArchiveLimits limits;
  ArchiveUsage usage;
};

// `from_archive`: the files came out of a .tgz. Helm applies .helmignore only
// when loading a directory (`helm package` applied it before packing).
absl::StatusOr<Chart> Load(const std::map<std::string, std::string>& all, const std::string& where,
                           int depth, LoadContext& ctx, bool from_archive) {
  if (depth > kMaxChartDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": subcharts nested more than ", kMaxChartDepth, " levels deep"));
  }
  const std::string chart_yaml_path = where.empty() ? "Chart.yaml" : where + "/Chart.yaml";
  auto chart_yaml = all.find("Chart.yaml");
  if (chart_yaml == all.end()) {
    return absl::InvalidArgumentError(absl::StrCat(chart_yaml_path, ": not found"));
  }
  Chart chart;
  ASSIGN_OR_RETURN(chart.metadata, ParseYaml(chart_yaml->second, chart_yaml_path));
  if (!chart.metadata.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(chart_yaml_path, ": not a map"));
  }
  const Json& md = chart.metadata;
  std::string api = md.contains("apiVersion") && md["apiVersion"].is_string()
                        ? md["apiVersion"].get<std::string>()
                        : "";
  if (api.empty()) {
    // Helm's loader fills in v1 for charts that predate apiVersion.
    chart.metadata["apiVersion"] = "v1";
  } else if (api != "v1" && api != "v2") {
    return absl::InvalidArgumentError(
        absl::StrCat(chart_yaml_path, ": apiVersion \"", api, "\" is not v1 or v2"));
  }
  if (!md.contains("name") || !md["name"].is_string() || md["name"].get<std::string>().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(chart_yaml_path, ": chart.metadata.name is required"));
  }
  if (!md.contains("version") || md["version"].is_null()) {
    return absl::InvalidArgumentError(
        absl::StrCat(chart_yaml_path, ": chart.metadata.version is required"));
  }
  if (!md["version"].is_string()) {
    // YAML reads `version: 1.0` as a number; Helm keeps the text.
    chart.metadata["version"] = md["version"].dump();
  }
  if (md.contains("appVersion") && !md["appVersion"].is_string() && !md["appVersion"].is_null()) {
    chart.metadata["appVersion"] = md["appVersion"].dump();
  }
  chart.name = md["name"].get<std::string>();

  IgnoreRules ignore;
  if (auto it = all.find(".helmignore"); it != all.end()) ignore = IgnoreRules::Parse(it->second);

  std::map<std::string, std::map<std::string, std::string>> sub_files;  // dir -> files
  std::map<std::string, const std::string*> sub_archives;               // x.tgz -> data
  for (const auto& [path, data] : all) {
    if (path == "Chart.yaml") continue;
    if (!from_archive && ignore.Ignored(path)) continue;
    if (path == "values.yaml") {
      ASSIGN_OR_RETURN(Json values,
                       ParseYaml(data, where.empty() ? path : absl::StrCat(where, "/", path)));
      if (values.is_null()) values = Json::object();
      if (!values.is_object()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where.empty() ? path : absl::StrCat(where, "/", path), ": not a map"));
      }
      chart.values = std::move(values);
    } else if (absl::StartsWith(path, "templates/")) {
      chart.templates.push_back({path, data});
    } else if (absl::StartsWith(path, "charts/")) {
      std::vector<std::string> parts = absl::StrSplit(path, absl::MaxSplits('/', 2));
      if (parts.size() == 3) {
        sub_files[parts[1]].emplace(parts[2], data);
      } else if (parts.size() == 2 && absl::EndsWith(parts[1], ".tgz") && parts[1][0] != '_' &&
                 parts[1][0] != '.') {
        // Helm's loader: charts/*.tgz are packed subcharts; names starting
        // with `_` or `.` are skipped.
        sub_archives.emplace(parts[1], &data);
      }
    } else {
      chart.files.push_back({path, data});
    }
  }
  // Directories and archives together in name order under charts/.
  std::set<std::string> entries;
  for (const auto& [dir, files] : sub_files) entries.insert(dir);
  for (const auto& [file, data] : sub_archives) entries.insert(file);
  for (const std::string& entry : entries) {
    std::string sub_where =
        where.empty() ? absl::StrCat("charts/", entry) : absl::StrCat(where, "/charts/", entry);
    if (auto archive = sub_archives.find(entry); archive != sub_archives.end()) {
      // Unlike a directory without Chart.yaml, an archive that is not a
      // chart is an error (as in Helm).
      ASSIGN_OR_RETURN(auto files,
                       ReadChartArchive(*archive->second, sub_where, ctx.limits, &ctx.usage));
      ASSIGN_OR_RETURN(Chart sub, Load(files, sub_where, depth + 1, ctx, true));
      chart.subcharts.push_back(std::move(sub));
    }
    if (auto dir = sub_files.find(entry); dir != sub_files.end()) {
      if (dir->second.count("Chart.yaml") == 0) continue;
      ASSIGN_OR_RETURN(Chart sub, Load(dir->second, sub_where, depth + 1, ctx, from_archive));
      chart.subcharts.push_back(std::move(sub));
    }
  }
  return chart;
}

// gobwas/glob with '/' as separator.
bool Glob(absl::string_view p, absl::string_view s) {
  while (!p.empty()) {
    char c = p[0];
    if (c == '*') {
      bool super = p.size() > 1 && p[1] == '*';
      absl::string_view rest = p.substr(super ? 2 : 1);
      for (size_t i = 0; i <= s.size(); ++i) {
        if (Glob(rest, s.substr(i))) return true;
        if (i < s.size() && s[i] == '/' && !super) return false;
      }
      return false;
    }
    if (c == '{') {
      size_t close = p.find('}');
      if (close == absl::string_view::npos) return false;
      absl::string_view rest = p.substr(close + 1);
      for (absl::string_view alt : absl::StrSplit(p.substr(1, close - 1), ',')) {
        if (Glob(absl::StrCat(alt, rest), s)) return true;
      }
      return false;
    }
    if (s.empty()) return false;
    if (c == '?') {
      if (s[0] == '/') return false;
    } else if (c == '[') {
      size_t close = p.find(']', 2);
      if (close == absl::string_view::npos) return false;
      absl::string_view cls = p.substr(1, close - 1);
      bool negate = !cls.empty() && (cls[0] == '!' || cls[0] == '^');
      if (negate) cls.remove_prefix(1);
      bool in = false;
      for (size_t i = 0; i < cls.size(); ++i) {
        if (i + 2 < cls.size() && cls[i + 1] == '-') {
          if (s[0] >= cls[i] && s[0] <= cls[i + 2]) in = true;
          i += 2;
        } else if (cls[i] == s[0]) {
          in = true;
        }
      }
      if (in == negate) return false;
      p.remove_prefix(close);
    } else {
      if (c == '\\' && p.size() > 1) {
        p.remove_prefix(1);
        c = p[0];
      }
      if (s[0] != c) return false;
    }
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return s.empty();
}

}  // namespace

IgnoreRules IgnoreRules::Parse(absl::string_view text) {
  IgnoreRules rules;
  // Helm's default: hidden files in templates/ are never templates.
  rules.rules_.push_back(Rule{"templates/.?*", false, false});
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    Rule r;
    if (absl::ConsumePrefix(&line, "!")) r.negate = true;
    if (absl::ConsumeSuffix(&line, "/")) r.dir_only = true;
    absl::ConsumePrefix(&line, "/");
    if (line.empty()) continue;
    r.pattern = std::string(line);
    rules.rules_.push_back(std::move(r));
  }
  return rules;
}

bool IgnoreRules::Ignored(absl::string_view path) const {
  // A path is ignored when it, or any directory above it, matches: Helm skips
  // whole directories while walking.
  std::vector<std::string> parts = absl::StrSplit(path, '/');
  std::string prefix;
  for (size_t i = 0; i < parts.size(); ++i) {
    prefix = i == 0 ? parts[0] : absl::StrCat(prefix, "/", parts[i]);
    bool is_dir = i + 1 < parts.size();
    for (const Rule& r : rules_) {
      if (r.dir_only && !is_dir) continue;
      bool match = absl::StrContains(r.pattern, '/')
                       ? FnMatch(r.pattern, prefix)
                       : FnMatch(r.pattern, std::string(Base(prefix)));
      if (!match) continue;
      if (r.negate) break;
      return true;
    }
  }
  return false;
}

bool GlobMatch(absl::string_view pattern, absl::string_view name) { return Glob(pattern, name); }

absl::StatusOr<Chart> LoadChart(const std::map<std::string, std::string>& files,
                                absl::string_view dir, const ArchiveLimits& limits) {
  std::string d(absl::StripSuffix(absl::StripPrefix(dir, "./"), "/"));
  if (d == ".") d.clear();
  LoadContext ctx{limits, {}};
  if (IsChartArchiveName(d)) {
    if (auto packed = files.find(d); packed != files.end()) {
      ASSIGN_OR_RETURN(auto chart_files, ReadChartArchive(packed->second, d, limits, &ctx.usage));
      return Load(chart_files, d, 0, ctx, true);
    }
  }
  return Load(FilesUnder(files, d), d, 0, ctx, false);
}

std::vector<Json> MissingDependencies(const Chart& chart) {
  std::vector<Json> missing;
  if (!chart.metadata.contains("dependencies") || !chart.metadata["dependencies"].is_array()) {
    return missing;
  }
  for (const Json& d : chart.metadata["dependencies"]) {
    if (!d.is_object() || !d.contains("name") || !d["name"].is_string()) continue;
    const std::string name = d["name"].get<std::string>();
    bool found = false;
    for (const Chart& sub : chart.subcharts) found = found || sub.name == name;
    if (!found) missing.push_back(d);
  }
  return missing;
}

absl::Status CheckDependencies(const Chart& chart) {
  std::vector<std::string> names;
  for (const Json& d : MissingDependencies(chart)) names.push_back(d["name"].get<std::string>());
  if (names.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "chart \"", chart.name,
      "\": found in Chart.yaml, but missing in charts/ directory: ", absl::StrJoin(names, ", "),
      " (commit them under charts/; unless helm.disableDependencyUpdate is set, the manager "
      "fetches missing dependencies from their repository)"));
}

}  // namespace flotilla::common::helm
