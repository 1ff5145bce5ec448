#include "common/scan/scanner.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/fleet/naming.h"
#include "common/fleet/options.h"
#include "common/scan/fleetignore.h"
#include "common/scan/go_filepath.h"
#include "common/scan/repo_path.h"
#include "common/scan/tree_index.h"
#include "common/status_macros.h"
#include "common/yaml.h"

namespace flotilla::common {
namespace {

using common::Json;
using Outcome = Resolution::Outcome;
// Directories holding a fleet.yaml or fleet.yml.
using FleetDirs = absl::flat_hash_set<std::string>;

constexpr absl::string_view kFleetYaml = "fleet.yaml";
constexpr absl::string_view kFleetYml = "fleet.yml";
constexpr absl::string_view kFleetIgnore = ".fleetignore";

// What makes a path root a bundle: filepath.Ext is ".yaml" or ".yml"
// (apply.go hasSubDirectoryWithResourcesAndWithoutFleetYaml).
bool IsYamlName(absl::string_view name) {
  return absl::EndsWith(name, ".yaml") || absl::EndsWith(name, ".yml");
}

// What Fleet's raw-YAML render parses (helmdeployer/render/helm.go manifests).
bool IsParsedAsYaml(absl::string_view name) {
  return IsYamlName(name) || absl::EndsWith(name, ".json");
}

// A directory whose own name is hidden. Fleet (bundlereader GetContent)
// skips such a bundle directory entirely, so it never yields files.
bool IsHiddenDir(absl::string_view dir) { return dir != "." && IsHiddenName(BaseOf(dir)); }

// filepath.Base: trailing slashes dropped, then the last element.
absl::string_view GoBase(absl::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path.empty() ? absl::string_view(".") : BaseOf(path);
}

// Text that YAML parsing or a proto string will see must be UTF-8; the
// error names file:line:column (column in bytes).
absl::Status CheckUtf8(absl::string_view text, absl::string_view filename) {
  const size_t bad = FirstInvalidUtf8(text);
  if (bad == absl::string_view::npos) return absl::OkStatus();
  const absl::string_view before = text.substr(0, bad);
  const size_t line = 1 + std::count(before.begin(), before.end(), '\n');
  const size_t line_start = before.rfind('\n');
  const size_t column = bad - (line_start == absl::string_view::npos ? 0 : line_start + 1) + 1;
  return absl::InvalidArgumentError(absl::StrFormat("%s:%d:%d: invalid UTF-8 (byte 0x%02x)",
                                                    filename, line, column,
                                                    static_cast<unsigned char>(text[bad])));
}

// Every directory with a fleet.yaml or fleet.yml entry of any kind, as
// fleetyaml.FoundFleetYamlInDirectory finds them. Entries below ".git"
// (which apply.go's walk skips) and unsafe paths never count.
FleetDirs FindFleetDirs(absl::Span<const TreeEntry> entries) {
  FleetDirs dirs;
  for (const TreeEntry& e : entries) {
    const absl::string_view base = BaseOf(e.path);
    if ((base == kFleetYaml || base == kFleetYml) && IsSafeRepoPath(e.path) &&
        !HasGitComponent(e.path)) {
      dirs.insert(std::string(DirOf(e.path)));
    }
  }
  return dirs;
}

// The outermost directory strictly between `dir` and entry `path` that
// holds a fleet.yaml ("" if none): the entry belongs to that nested bundle.
absl::string_view NestedFleetDir(absl::string_view path, absl::string_view dir,
                                 const FleetDirs& fleet_dirs) {
  const size_t start = dir == "." ? 0 : dir.size() + 1;
  for (size_t slash = path.find('/', start); slash != absl::string_view::npos;
       slash = path.find('/', slash + 1)) {
    const absl::string_view candidate = path.substr(0, slash);
    if (fleet_dirs.contains(candidate)) return candidate;
  }
  return {};
}

std::string Problem(Outcome outcome) {
  switch (outcome) {
    case Outcome::kFile:
      return "";
    case Outcome::kMissing:
      return "no such file";
    case Outcome::kDirectory:
      return "is a directory";
    case Outcome::kSubmodule:
      return "is a submodule";
    case Outcome::kOutside:
      return "leads outside the repository";
    case Outcome::kTooManyLinks:
      return "too many levels of symbolic links";
  }
  return "";
}

// One bundle to read.
struct BundleSource {
  std::string dir;      // repository-relative, "." = root
  std::string name;     // derived name (fleet.yaml `name` may replace it)
  std::string options;  // driven scan: options file relative to `dir`
  // False for a directory whose own name is hidden: Fleet reads its
  // fleet.yaml but none of its files.
  bool read_files = true;
  absl::Span<const TreeEntry> entries;  // holds every entry below `dir`
  const FleetDirs* fleet_dirs = nullptr;
};

// Reads one bundle: its spec, values files and resource files
// (bundlereader/read.go NewBundle, resources.go readResources,
// loaddirectory.go GetContent).
class BundleReader {
 public:
  BundleReader(TreeIndex& index, const ScanLimits& limits, const BundleSource& source)
      : index_(index),
        limits_(limits),
        source_(source),
        entries_(EntriesBelow(source.entries, source.dir)),
        match_budget_(limits.max_match_steps) {}

  ScannedBundle Read() {
    ScannedBundle b;
    b.path = Printable(source_.dir);
    b.name = source_.name;
    const absl::Status status = ReadInto(&b);
    if (!status.ok()) {
      b.error = std::string(status.message());
      b.files.clear();
    }
    return b;
  }

 private:
  // A directory of the bundle as .fleetignore sees it (loaddirectory.go
  // ignoreTree): its rules apply to everything below it.
  struct IgnoreDir {
    const IgnoreDir* parent = nullptr;
    std::vector<FleetIgnoreRule> rules;
    size_t rules_in_force = 0;  // own and inherited
    bool excluded = false;      // hidden, or ignored by an ancestor's rule
  };

  absl::Status ReadInto(ScannedBundle* b) {
    if (FirstInvalidUtf8(source_.dir) != absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(b->path, ": directory name is not valid UTF-8"));
    }
    // Fleet's fixed exclusions (resources.go ignoreApplyConfigs) plus
    // fleet.yml, which only Fleet's renderer drops.
    config_files_.insert(std::string(kFleetYaml));
    config_files_.insert(std::string(kFleetYml));
    if (!source_.options.empty()) config_files_.insert(source_.options);
    RETURN_IF_ERROR(ReadSpec(b));
    auto helm = b->spec.options.find("helm");
    if (helm != b->spec.options.end() && helm->is_object()) {
      RETURN_IF_ERROR(MergeValuesFiles("helm", &*helm));
    }
    for (size_t i = 0; i < b->spec.target_customizations.size(); ++i) {
      Json& options = b->spec.target_customizations[i].options;
      auto target_helm = options.find("helm");
      if (target_helm != options.end() && target_helm->is_object()) {
        RETURN_IF_ERROR(
            MergeValuesFiles(absl::StrCat("targetCustomizations[", i, "].helm"), &*target_helm));
      }
    }
    if (!source_.read_files) return absl::OkStatus();
    return ReadFiles(b);
  }

  // fleet.yaml, else fleet.yml (read.go setupIOReader), or the driven scan's
  // options file relative to the bundle directory (read.go NewBundle).
  absl::Status ReadSpec(ScannedBundle* b) {
    std::string rel = source_.options;
    if (rel.empty()) {
      for (absl::string_view candidate : {kFleetYaml, kFleetYml}) {
        if (FindEntry(entries_, JoinPath(source_.dir, candidate)) != nullptr) {
          rel = std::string(candidate);
          break;
        }
      }
    }
    if (rel.empty()) return absl::OkStatus();  // raw YAML: Fleet reads "{}"
    spec_file_ = Printable(JoinPath(source_.dir, rel));
    b->spec_file = spec_file_;
    ASSIGN_OR_RETURN(const std::string text, ReadConfigFile(rel, spec_file_, /*charge=*/false));
    RETURN_IF_ERROR(CheckUtf8(text, spec_file_));
    ASSIGN_OR_RETURN(b->spec, common::ParseBundleSpec(text, spec_file_));
    if (!b->spec.name.empty()) {
      const absl::Status valid = common::ValidateObjectName("bundle", b->spec.name);
      if (!valid.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(spec_file_, ": name: ", valid.message()));
      }
      b->name = b->spec.name;
    }
    return absl::OkStatus();
  }

  // helm.valuesFiles (resources.go parseValuesFiles/generateValues): each
  // file, relative to the bundle directory, is deep-merged into helm.values
  // in order (the last file wins); the files themselves are no resources,
  // by their path or by their base name (ignoreApplyConfigs).
  absl::Status MergeValuesFiles(const std::string& field, Json* helm) {
    auto list = helm->find("valuesFiles");
    if (list == helm->end() || list->is_null()) return absl::OkStatus();
    if (!list->is_array()) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec_file_, ": ", field, ".valuesFiles: must be a list of strings"));
    }
    std::vector<std::string> files;
    for (size_t i = 0; i < list->size(); ++i) {
      if (!(*list)[i].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec_file_, ": ", field, ".valuesFiles[", i, "]: must be a string"));
      }
      files.push_back((*list)[i].get<std::string>());
      config_files_.insert(files.back());
      config_files_.insert(std::string(GoBase(files.back())));
    }
    Json values = helm->contains("values") ? (*helm)["values"] : Json(nullptr);
    if (values.is_null()) values = Json::object();
    if (!values.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec_file_, ": ", field, ".values: must be a mapping"));
    }
    for (size_t i = 0; i < files.size(); ++i) {
      // Fleet reads base + "/" + value: a leading "/" stays inside the bundle.
      const std::string shown =
          Printable(source_.dir == "." ? files[i] : absl::StrCat(source_.dir, "/", files[i]));
      ASSIGN_OR_RETURN(const Resolution r, ResolvePath(index_, source_.dir, files[i], "."));
      if (r.outcome != Outcome::kFile) {
        return absl::InvalidArgumentError(absl::StrCat(spec_file_, ": ", field, ".valuesFiles[", i,
                                                       "]: ", shown, ": ", Problem(r.outcome)));
      }
      RETURN_IF_ERROR(Charge(r.file->size, r.file->path));
      ASSIGN_OR_RETURN(const std::string text, index_.tree().Read(*r.file, limits_.max_file_bytes));
      RETURN_IF_ERROR(CheckUtf8(text, shown));
      ASSIGN_OR_RETURN(const std::vector<Json> docs, common::ParseYamlDocuments(text, shown));
      if (docs.empty() || docs[0].is_null()) continue;
      if (!docs[0].is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(shown, ": values file must be a mapping"));
      }
      values = common::DeepMerge(values, docs[0]);
    }
    if (!values.empty()) (*helm)["values"] = std::move(values);
    return absl::OkStatus();
  }

  // Every file below the bundle directory (loaddirectory.go GetContent),
  // sizes checked from the object headers before anything is read.
  absl::Status ReadFiles(ScannedBundle* b) {
    struct Included {
      std::string rel;
      const TreeEntry* source;
    };
    std::vector<Included> included;
    for (size_t i = 0; i < entries_.size();) {
      const TreeEntry& e = entries_[i];
      // A nested bundle owns everything below it (Fleet's renderer drops
      // those files: helmdeployer/render/helm.go manifests).
      const absl::string_view nested = NestedFleetDir(e.path, source_.dir, *source_.fleet_dirs);
      if (!nested.empty()) {
        i += EntriesBelow(entries_.subspan(i), nested).size();
        continue;
      }
      ++i;
      if (!IsSafeRepoPath(e.path)) {
        return absl::InvalidArgumentError(
            absl::StrCat(Printable(e.path),
                         ": unsafe path (absolute, empty, \".\" or \"..\" component, "
                         "backslash or NUL) in the commit tree"));
      }
      const absl::string_view rel = RelativeTo(e.path, source_.dir);
      if (HasHiddenComponent(rel) || config_files_.contains(rel)) continue;
      ASSIGN_OR_RETURN(const bool ignored, Ignored(rel));
      if (ignored) continue;
      if (FirstInvalidUtf8(rel) != absl::string_view::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat(Printable(e.path), ": file name is not valid UTF-8"));
      }
      const TreeEntry* source = &e;
      if (e.kind == TreeEntry::Kind::kSubmodule) {
        return absl::InvalidArgumentError(
            absl::StrCat(Printable(e.path), ": submodules are not supported in bundles"));
      }
      if (e.kind == TreeEntry::Kind::kSymlink) {
        ASSIGN_OR_RETURN(source, FollowSymlink(e));
      }
      if (source->size > limits_.max_file_bytes) {
        return absl::InvalidArgumentError(absl::StrCat(Printable(source->path), ": blob of ",
                                                       source->size, " bytes exceeds the limit of ",
                                                       limits_.max_file_bytes, " bytes"));
      }
      RETURN_IF_ERROR(Charge(source->size, e.path));
      included.push_back({std::string(rel), source});
    }
    for (Included& f : included) {
      ASSIGN_OR_RETURN(std::string content, index_.tree().Read(*f.source, limits_.max_file_bytes));
      if (IsParsedAsYaml(f.rel)) {
        RETURN_IF_ERROR(CheckUtf8(content, Printable(JoinPath(source_.dir, f.rel))));
      }
      b->files.emplace(std::move(f.rel), std::move(content));
    }
    return absl::OkStatus();
  }

  // A resource symlink is read as its target when the fully resolved target
  // is a file inside the bundle (loaddirectory.go GetContent: EvalSymlinks,
  // then "target escapes bundle directory").
  absl::StatusOr<const TreeEntry*> FollowSymlink(const TreeEntry& link) {
    ASSIGN_OR_RETURN(const std::string target, index_.tree().Read(link, kMaxSymlinkTargetBytes));
    const std::string prefix =
        absl::StrCat(Printable(link.path), ": symlink to \"", Printable(target), "\"");
    Resolution r;
    if (!target.empty() && target[0] != '/') {
      ASSIGN_OR_RETURN(r, ResolvePath(index_, DirOf(link.path), target, source_.dir));
    } else {
      r.outcome = Outcome::kOutside;
    }
    switch (r.outcome) {
      case Outcome::kFile:
        return r.file;
      case Outcome::kOutside:
      case Outcome::kMissing:
        return absl::InvalidArgumentError(
            absl::StrCat(prefix, " points outside the bundle or to no file"));
      case Outcome::kDirectory:
        return absl::InvalidArgumentError(absl::StrCat(prefix, " points to a directory"));
      case Outcome::kSubmodule:
        return absl::InvalidArgumentError(absl::StrCat(prefix, " points to a submodule"));
      case Outcome::kTooManyLinks:
        break;
    }
    return absl::InvalidArgumentError(absl::StrCat(prefix, ": too many levels of symbolic links"));
  }

  // A configuration file (fleet.yaml, options file, .fleetignore) at `rel`
  // below the bundle directory. Fleet opens these with os.Open, which
  // follows symlinks wherever they lead; here they may lead anywhere inside
  // the repository.
  absl::StatusOr<std::string> ReadConfigFile(absl::string_view rel, absl::string_view shown,
                                             bool charge) {
    ASSIGN_OR_RETURN(const Resolution r, ResolvePath(index_, source_.dir, rel, "."));
    if (r.outcome != Outcome::kFile) {
      return absl::InvalidArgumentError(absl::StrCat(shown, ": ", Problem(r.outcome)));
    }
    if (charge) RETURN_IF_ERROR(Charge(r.file->size, r.file->path));
    return index_.tree().Read(*r.file, limits_.max_file_bytes);
  }

  absl::Status Charge(uint64_t bytes, absl::string_view at) {
    if (bytes > limits_.max_bundle_bytes - std::min(bytes_, limits_.max_bundle_bytes)) {
      return absl::InvalidArgumentError(
          absl::StrCat("bundle ", Printable(source_.dir), " is larger than the limit of ",
                       limits_.max_bundle_bytes, " bytes (at ", Printable(at), ")"));
    }
    bytes_ += bytes;
    return absl::OkStatus();
  }

  // Is the file at bundle-relative `rel` ignored, by a rule in force in its
  // directory or because a directory on its way is hidden or ignored?
  absl::StatusOr<bool> Ignored(absl::string_view rel) {
    const size_t slash = rel.rfind('/');
    const absl::string_view dir = slash == absl::string_view::npos ? "" : rel.substr(0, slash);
    ASSIGN_OR_RETURN(const IgnoreDir* node, IgnoreDirFor(dir));
    if (node->excluded) return true;
    return Matches(node, BaseOf(rel), /*is_dir=*/false);
  }

  // Do the rules in force in `node` ignore an entry of it called `name`?
  absl::StatusOr<bool> Matches(const IgnoreDir* node, absl::string_view name, bool is_dir) {
    for (; node != nullptr; node = node->parent) {
      for (const FleetIgnoreRule& rule : node->rules) {
        switch (FleetIgnoreMatches(rule, name, is_dir, &match_budget_)) {
          case GoMatchResult::kMatch:
            return true;
          case GoMatchResult::kOverBudget:
            return absl::InvalidArgumentError(absl::StrCat(
                "bundle ", Printable(source_.dir), ": .fleetignore rules need more than ",
                limits_.max_match_steps, " matching steps"));
          default:
            break;
        }
      }
    }
    return false;
  }

  // The node of bundle-relative directory `dir` ("" = the bundle
  // directory), made with its ancestors on first use; a directory's
  // .fleetignore is read only when the directory itself is not excluded.
  absl::StatusOr<const IgnoreDir*> IgnoreDirFor(absl::string_view dir) {
    auto found = ignore_dirs_.find(dir);
    if (found != ignore_dirs_.end()) return &found->second;
    std::vector<absl::string_view> missing;  // `dir` and its ancestors without a node
    for (absl::string_view d = dir;;) {
      if (ignore_dirs_.find(d) != ignore_dirs_.end()) break;
      missing.push_back(d);
      if (d.empty()) break;
      const size_t slash = d.rfind('/');
      d = slash == absl::string_view::npos ? absl::string_view() : d.substr(0, slash);
    }
    const IgnoreDir* node = nullptr;
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      const absl::string_view d = *it;
      IgnoreDir created;
      if (!d.empty()) {
        const size_t slash = d.rfind('/');
        created.parent =
            &ignore_dirs_.find(slash == absl::string_view::npos ? "" : d.substr(0, slash))->second;
        created.rules_in_force = created.parent->rules_in_force;
        if (created.parent->excluded || IsHiddenName(BaseOf(d))) {
          created.excluded = true;
        } else {
          ASSIGN_OR_RETURN(created.excluded, Matches(created.parent, BaseOf(d), /*is_dir=*/true));
        }
      }
      if (!created.excluded) {
        const std::string rel =
            d.empty() ? std::string(kFleetIgnore) : absl::StrCat(d, "/", kFleetIgnore);
        const TreeEntry* file = FindEntry(entries_, JoinPath(source_.dir, rel));
        if (file != nullptr && file->kind != TreeEntry::Kind::kSubmodule) {
          const std::string shown = Printable(JoinPath(source_.dir, rel));
          ASSIGN_OR_RETURN(const std::string text, ReadConfigFile(rel, shown, /*charge=*/true));
          ASSIGN_OR_RETURN(created.rules, ParseFleetIgnore(text, shown, &match_budget_));
          created.rules_in_force += created.rules.size();
          if (created.rules_in_force > limits_.max_ignore_rules) {
            return absl::InvalidArgumentError(
                absl::StrCat(shown, ": more than ", limits_.max_ignore_rules,
                             " .fleetignore rules apply in this directory"));
          }
        }
      }
      node = &ignore_dirs_.emplace(std::string(d), std::move(created)).first->second;
    }
    return node;
  }

  TreeIndex& index_;
  const ScanLimits& limits_;
  const BundleSource& source_;
  const absl::Span<const TreeEntry> entries_;  // below the bundle directory
  uint64_t match_budget_;
  uint64_t bytes_ = 0;
  std::string spec_file_;  // printable, for messages
  // Bundle-relative names that configure the bundle instead of being
  // resources.
  std::set<std::string, std::less<>> config_files_;
  std::map<std::string, IgnoreDir, std::less<>> ignore_dirs_;
};

class Scanner {
 public:
  Scanner(const CommitTree& tree, const common::GitRepoSpec& gitrepo, const ScanLimits& limits)
      : index_(tree), gitrepo_(gitrepo), limits_(limits) {}

  absl::StatusOr<std::vector<ScannedBundle>> Run() {
    // Fleet's job runs CreateBundlesDriven when the GitRepo lists bundles
    // (gitops/reconciler/gitjob.go), CreateBundles over `paths` otherwise.
    if (!gitrepo_.bundles.empty()) {
      RETURN_IF_ERROR(ScanBundles());
    } else {
      RETURN_IF_ERROR(ScanPaths());
    }
    MarkDuplicateNames();
    return std::move(out_);
  }

 private:
  std::string Commit12() const { return index_.tree().commit().substr(0, 12); }

  // A configured path: leading "/" dropped (apply.go globDirs), "." and
  // empty components and a trailing "/" ignored; ".." refused.
  static absl::StatusOr<std::string> ConfiguredPath(absl::string_view raw,
                                                    absl::string_view field) {
    std::vector<std::string> parts = SplitPath(raw);
    for (const std::string& part : parts) {
      if (part == "..") {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " \"", Printable(raw), "\" must stay inside the repository"));
      }
    }
    return parts.empty() ? std::string(".") : absl::StrJoin(parts, "/");
  }

  // CreateBundles: every path (a glob when it has meta characters) names
  // the directories to walk.
  absl::Status ScanPaths() {
    // apply.go CreateBundles: no paths means the repository root.
    const std::vector<std::string> paths =
        gitrepo_.paths.empty() ? std::vector<std::string>{"."} : gitrepo_.paths;
    for (const std::string& raw : paths) {
      ASSIGN_OR_RETURN(const std::string path, ConfiguredPath(raw, "path"));
      if (!HasGlobMeta(path)) {
        // Unlike Fleet, which skips a path that does not exist, a missing
        // literal path fails the scan (CommitTree's NotFound names it).
        RETURN_IF_ERROR(ScanRoot(path));
        continue;
      }
      ASSIGN_OR_RETURN(const std::vector<std::string> dirs, GlobDirs(raw, path));
      for (const std::string& dir : dirs) RETURN_IF_ERROR(ScanRoot(dir));
    }
    return absl::OkStatus();
  }

  // filepath.Glob over the commit's directories, keeping directories only
  // (apply.go globDirs). A glob that matches nothing is skipped, as in
  // Fleet; a malformed one fails the scan with Fleet's message.
  absl::StatusOr<std::vector<std::string>> GlobDirs(absl::string_view raw,
                                                    const std::string& pattern) {
    uint64_t budget = limits_.max_match_steps;
    if (GoMatch(pattern, "", &budget) == GoMatchResult::kBadPattern) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid path glob ", Printable(raw), ": syntax error in pattern"));
    }
    const std::vector<std::string> parts = SplitPath(pattern);
    size_t first_meta = 0;
    while (first_meta < parts.size() && !HasGlobMeta(parts[first_meta])) ++first_meta;
    const std::string prefix =
        first_meta == 0
            ? std::string(".")
            : absl::StrJoin(parts.begin(), parts.begin() + static_cast<long>(first_meta), "/");
    const absl::StatusOr<absl::Span<const TreeEntry>> listed = index_.Below(prefix);
    if (absl::IsNotFound(listed.status())) return std::vector<std::string>();
    RETURN_IF_ERROR(listed.status());
    const size_t depth = parts.size() - first_meta;
    // Component lists sort the way Glob returns them: level by level.
    std::vector<std::vector<std::string>> found;
    absl::string_view previous;
    for (const TreeEntry& e : *listed) {
      if (!IsSafeRepoPath(e.path) || HasGitComponent(e.path)) continue;
      const absl::string_view rel = RelativeTo(e.path, prefix);
      // The first `depth` components, when more follow: a directory.
      size_t end = 0;
      size_t levels = 0;
      for (size_t slash = rel.find('/'); slash != absl::string_view::npos && levels < depth;
           slash = rel.find('/', slash + 1)) {
        ++levels;
        end = slash;
      }
      if (levels < depth) continue;
      const absl::string_view candidate = rel.substr(0, end);
      if (candidate == previous) continue;
      previous = candidate;
      std::vector<std::string> names = absl::StrSplit(candidate, '/');
      bool matches = true;
      for (size_t j = 0; j < depth && matches; ++j) {
        const GoMatchResult r = GoMatch(parts[first_meta + j], names[j], &budget);
        if (r == GoMatchResult::kOverBudget) {
          return absl::InvalidArgumentError(absl::StrCat("path glob ", Printable(raw),
                                                         " needs more than ",
                                                         limits_.max_match_steps, " steps"));
        }
        matches = r == GoMatchResult::kMatch;
      }
      if (matches) found.push_back(std::move(names));
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    std::vector<std::string> dirs;
    dirs.reserve(found.size());
    for (const auto& names : found) dirs.push_back(JoinPath(prefix, absl::StrJoin(names, "/")));
    return dirs;
  }

  // apply.go: the walk of one path root. Every directory with a fleet.yaml
  // or fleet.yml is a bundle (except one whose own name is hidden: Fleet
  // reads no files from it); the root is one too when YAML lies below it
  // outside those directories (shouldCreateBundleForThisPath).
  absl::Status ScanRoot(const std::string& root) {
    ASSIGN_OR_RETURN(const absl::Span<const TreeEntry> entries, index_.Below(root));
    const FleetDirs fleet_dirs = FindFleetDirs(entries);
    std::set<std::string> dirs;
    for (const std::string& dir : fleet_dirs) {
      if (!IsHiddenDir(dir)) dirs.insert(dir);
    }
    if (!fleet_dirs.contains(root) && !IsHiddenDir(root) &&
        HasLooseYaml(entries, root, fleet_dirs)) {
      dirs.insert(root);
    }
    for (const std::string& dir : dirs) {
      if (!seen_dirs_.insert(dir).second) continue;  // paths may overlap
      BundleSource source;
      source.dir = dir;
      source.name = common::BundleName(gitrepo_.name, dir);
      source.entries = entries;
      source.fleet_dirs = &fleet_dirs;
      RETURN_IF_ERROR(Add(source, Printable(dir)));
    }
    return absl::OkStatus();
  }

  // hasSubDirectoryWithResourcesAndWithoutFleetYaml: a *.yaml/*.yml file
  // below `root`, not below a fleet.yaml directory. Unlike Fleet, hidden
  // files and directories do not count (Fleet counts them, then reads no
  // hidden file into the bundle).
  static bool HasLooseYaml(absl::Span<const TreeEntry> entries, absl::string_view root,
                           const FleetDirs& fleet_dirs) {
    for (const TreeEntry& e : entries) {
      if (e.kind == TreeEntry::Kind::kSubmodule || !IsYamlName(BaseOf(e.path)) ||
          !IsSafeRepoPath(e.path) || HasHiddenComponent(RelativeTo(e.path, root))) {
        continue;
      }
      if (NestedFleetDir(e.path, root, fleet_dirs).empty()) return true;
    }
    return false;
  }

  // CreateBundlesDriven: each {base, options} is one bundle; nothing below
  // it is searched for more bundles.
  absl::Status ScanBundles() {
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < gitrepo_.bundles.size(); ++i) {
      const common::BundlePath& configured = gitrepo_.bundles[i];
      const std::string field = absl::StrCat("bundles[", i, "]");
      ASSIGN_OR_RETURN(const std::string base, ConfiguredPath(configured.base, field + ".base"));
      std::string options;
      if (!configured.options.empty()) {
        ASSIGN_OR_RETURN(options, ConfiguredPath(configured.options, field + ".options"));
        if (options == ".") options.clear();
      }
      if (!seen.emplace(base, options).second) continue;  // the same bundle twice
      const absl::StatusOr<absl::Span<const TreeEntry>> entries = index_.Below(base);
      if (absl::IsNotFound(entries.status())) {
        return absl::NotFoundError(absl::StrCat(field, ".base: ", entries.status().message()));
      }
      RETURN_IF_ERROR(entries.status());
      if (!options.empty()) {
        // Relative to base (read.go NewBundle opens filepath.Join(baseDir, file)).
        ASSIGN_OR_RETURN(const Resolution r, ResolvePath(index_, base, options, "."));
        if (r.outcome == Outcome::kMissing) {
          return absl::NotFoundError(absl::StrCat(field, ".options: \"", Printable(options),
                                                  "\" not found in \"", Printable(base),
                                                  "\" in commit ", Commit12()));
        }
      }
      const FleetDirs fleet_dirs = FindFleetDirs(*entries);
      // apply.go bundleFromDir: filepath.Join(repo, base, options file
      // without its extension), then names.HelmReleaseName.
      const absl::string_view stem =
          absl::string_view(options).substr(0, options.size() - GoExt(options).size());
      std::string joined;
      CleanRelativePath(absl::StrCat(gitrepo_.name, "/", base, "/", stem), &joined);
      BundleSource source;
      source.dir = base;
      source.name = common::HelmReleaseName(joined);
      source.options = options;
      source.read_files = !IsHiddenDir(base);
      source.entries = *entries;
      source.fleet_dirs = &fleet_dirs;
      RETURN_IF_ERROR(Add(source, options.empty() ? Printable(base)
                                                  : absl::StrCat(Printable(base), " (options ",
                                                                 Printable(options), ")")));
    }
    return absl::OkStatus();
  }

  absl::Status Add(const BundleSource& source, std::string described) {
    out_.push_back(BundleReader(index_, limits_, source).Read());
    described_.push_back(std::move(described));
    if (out_.size() > limits_.max_bundles) {
      return absl::InvalidArgumentError(
          absl::StrCat("repository has more than ", limits_.max_bundles, " bundles"));
    }
    return absl::OkStatus();
  }

  // Two bundles with the same name: both are errors, since neither can be
  // told apart from the other on a cluster (Fleet keeps whichever came last).
  void MarkDuplicateNames() {
    std::map<std::string, std::vector<size_t>> by_name;
    for (size_t i = 0; i < out_.size(); ++i) by_name[out_[i].name].push_back(i);
    for (const auto& [name, indexes] : by_name) {
      if (indexes.size() < 2) continue;
      std::vector<std::string> where;
      for (size_t i : indexes) where.push_back(described_[i]);
      for (size_t i : indexes) {
        out_[i].error =
            absl::StrCat("bundle name \"", name, "\" is used by more than one ",
                         gitrepo_.bundles.empty() ? "directory" : "bundle", " (",
                         absl::StrJoin(where, ", "), "); set a distinct `name` in fleet.yaml");
        out_[i].files.clear();
      }
    }
  }

  TreeIndex index_;
  const common::GitRepoSpec& gitrepo_;
  const ScanLimits& limits_;
  std::vector<ScannedBundle> out_;
  std::vector<std::string> described_;  // how a duplicate-name error names out_[i]
  std::set<std::string> seen_dirs_;
};

}  // namespace

absl::StatusOr<std::vector<ScannedBundle>> ScanCommit(const CommitTree& tree,
                                                      const common::GitRepoSpec& gitrepo,
                                                      const ScanLimits& limits) {
  return Scanner(tree, gitrepo, limits).Run();
}

}  // namespace flotilla::common
