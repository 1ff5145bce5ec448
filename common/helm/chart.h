// A Helm chart loaded from a bundle's files: Chart.yaml, values.yaml,
// templates/, other files (.Files) and subcharts under charts/, as Helm's
// chart loader (pkg/chart/loader) reads a chart directory or a packed chart
// (.tgz, read by archive.h). Chart repositories and OCI are not handled here
// (docs/helm-compat.md).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/helm/archive.h"
#include "common/yaml.h"

namespace flotilla::common::helm {

struct ChartFile {
  std::string name;  // relative to the chart directory ("templates/x.yaml")
  std::string data;
};

struct Chart {
  // Chart.yaml as parsed (Helm's field names: apiVersion, name, version...).
  Json metadata = Json::object();
  std::string name;
  // values.yaml (an object; {} when absent or empty).
  Json values = Json::object();
  // templates/ files in name order, partials (_*) included.
  std::vector<ChartFile> templates;
  // Everything else that .Files offers (not Chart.yaml, values.yaml,
  // templates/ or charts/), in name order.
  std::vector<ChartFile> files;
  // Subcharts: directories charts/<dir>/ holding a Chart.yaml and packed
  // charts charts/*.tgz, in name order.
  std::vector<Chart> subcharts;
};

// Loads the chart whose Chart.yaml is at `dir`/Chart.yaml ("" = the root) in
// `files` (bundle-relative path -> content), or, when `dir` names a `.tgz` or
// `.tar.gz` file in `files`, the packed chart in it. .helmignore at a chart
// directory's root (and at each subchart directory's) drops matching files;
// archives are taken as packed (Helm applies .helmignore when packaging).
// Subcharts are charts/<dir>/ with a Chart.yaml and charts/*.tgz (not
// starting with `_` or `.`). All archives of one call share `limits`
// (archive.h), so nested packed subcharts cannot multiply them.
//
// Errors are InvalidArgument naming the file: a missing or unparsable
// Chart.yaml, a Chart.yaml without name or version, an apiVersion other than
// v1 or v2, values.yaml that is not a map, a subchart nested deeper than 20
// levels, and every archive error of ReadChartArchive (named by the
// archive's path, "chart/charts/db-1.0.0.tgz: entry ...").
absl::StatusOr<Chart> LoadChart(const std::map<std::string, std::string>& files,
                                absl::string_view dir, const ArchiveLimits& limits = {});

// Helm's action.CheckDependencies, which `helm template` and install run on
// the chart they are given: every Chart.yaml dependency needs a subchart of
// that name (not alias) in charts/, whether enabled or not. InvalidArgument
// listing the missing names otherwise.
absl::Status CheckDependencies(const Chart& chart);

// The Chart.yaml dependencies with no subchart of their name: what Fleet's
// dependency update (internal/helmupdater) downloads. Each is the
// dependency's entry as written (name, version, repository...).
std::vector<Json> MissingDependencies(const Chart& chart);

// .helmignore rules (Helm's pkg/ignore): one glob per line, `#` comments,
// `!` negates, a trailing `/` matches directories only, a pattern without
// `/` matches the base name of any path component, with `/` the whole
// relative path; `**` is not supported (as in Helm).
class IgnoreRules {
 public:
  static IgnoreRules Parse(absl::string_view text);
  // `path` is relative to the chart directory.
  bool Ignored(absl::string_view path) const;

 private:
  struct Rule {
    std::string pattern;
    bool negate = false;
    bool dir_only = false;
  };
  std::vector<Rule> rules_;
};

// Glob matching as Helm's Files.Glob (gobwas/glob with '/' as separator):
// `*` and `?` stay within a path segment, `**` crosses segments, `[...]`
// classes and `{a,b}` alternatives.
bool GlobMatch(absl::string_view pattern, absl::string_view name);

}  // namespace flotilla::common::helm
