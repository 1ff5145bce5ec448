#include "manager/scan/scanner.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fleet/naming.h"
#include "common/status_macros.h"

namespace flotilla::manager {
namespace {

std::string Dir(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string Base(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Is `path` at or below directory `dir` ("." is the root)?
bool Under(const std::string& path, const std::string& dir) {
  if (dir == ".") return true;
  return path == dir || absl::StartsWith(path, dir + "/");
}

// `path` relative to directory `dir`.
std::string Rel(const std::string& path, const std::string& dir) {
  if (dir == ".") return path;
  return path.substr(dir.size() + 1);
}

bool IsHidden(const std::string& rel) {
  for (absl::string_view part : absl::StrSplit(rel, '/')) {
    if (absl::StartsWith(part, ".")) return true;
  }
  return false;
}

bool IsFleetYaml(const std::string& path) {
  std::string b = Base(path);
  return b == "fleet.yaml" || b == "fleet.yml";
}

bool IsYaml(const std::string& path) {
  return absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml");
}

// Resolves a symlink target relative to the link's directory; "" if it leaves
// the repository.
std::string ResolveLink(const std::string& link_path, const std::string& target) {
  if (target.empty() || target.front() == '/') return "";
  std::vector<std::string> parts;
  std::string dir = Dir(link_path);
  if (dir != ".") parts = absl::StrSplit(dir, '/');
  for (absl::string_view p : absl::StrSplit(target, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (parts.empty()) return "";
      parts.pop_back();
    } else {
      parts.emplace_back(p);
    }
  }
  return absl::StrJoin(parts, "/");
}

std::string NormalizePath(std::string p) {
  while (absl::StartsWith(p, "./")) p.erase(0, 2);
  while (!p.empty() && p.back() == '/') p.pop_back();
  return p.empty() ? "." : p;
}

// Reads one bundle's fleet.yaml and files.
ScannedBundle ReadBundle(const CommitTree& tree, const common::GitRepoSpec& gitrepo,
                         const std::string& dir, const std::vector<TreeEntry>& entries,
                         const std::set<std::string>& bundle_dirs, const ScanLimits& limits) {
  ScannedBundle b;
  b.path = dir;
  b.name = common::BundleName(gitrepo.name, dir);
  std::map<std::string, const TreeEntry*> by_path;
  for (const auto& e : entries) by_path[e.path] = &e;

  auto fail = [&](std::string msg) {
    b.error = std::move(msg);
    b.files.clear();
    return b;
  };

  // fleet.yaml (or fleet.yml) of this directory.
  for (const char* fy : {"fleet.yaml", "fleet.yml"}) {
    std::string p = dir == "." ? fy : absl::StrCat(dir, "/", fy);
    auto it = by_path.find(p);
    if (it == by_path.end()) continue;
    auto text = tree.Read(*it->second, limits.max_file_bytes);
    if (!text.ok()) return fail(std::string(text.status().message()));
    auto spec = common::ParseBundleSpec(*text, p);
    if (!spec.ok()) return fail(std::string(spec.status().message()));
    b.spec = std::move(*spec);
    if (!b.spec.name.empty()) {
      auto st = common::ValidateObjectName("bundle", b.spec.name);
      if (!st.ok()) return fail(absl::StrCat(p, ": name: ", st.message()));
      b.name = b.spec.name;
    }
    break;
  }

  uint64_t total = 0;
  for (const auto& e : entries) {
    if (!Under(e.path, dir)) continue;
    // Files of nested bundles belong to them.
    bool nested = false;
    for (const auto& other : bundle_dirs) {
      if (other != dir && Under(other, dir) && Under(e.path, other)) nested = true;
    }
    if (nested) continue;
    std::string rel = Rel(e.path, dir);
    if (IsHidden(rel) || (IsFleetYaml(e.path) && Dir(e.path) == dir)) continue;
    const TreeEntry* source = &e;
    if (e.kind == TreeEntry::Kind::kSubmodule) {
      return fail(absl::StrCat(e.path, ": submodules are not supported in bundles"));
    }
    if (e.kind == TreeEntry::Kind::kSymlink) {
      auto target = tree.Read(e, 4096);
      if (!target.ok()) return fail(std::string(target.status().message()));
      std::string resolved = ResolveLink(e.path, *target);
      auto it = by_path.find(resolved);
      if (resolved.empty() || !Under(resolved, dir) || it == by_path.end() ||
          it->second->kind != TreeEntry::Kind::kFile) {
        return fail(absl::StrCat(e.path, ": symlink to \"", *target,
                                 "\" points outside the bundle or to no file"));
      }
      source = it->second;
    }
    auto content = tree.Read(*source, limits.max_file_bytes);
    if (!content.ok()) return fail(std::string(content.status().message()));
    total += content->size();
    if (total > limits.max_bundle_bytes) {
      return fail(absl::StrCat("bundle ", dir, " is larger than the limit of ",
                               limits.max_bundle_bytes, " bytes (at ", e.path, ")"));
    }
    b.files[rel] = std::move(*content);
  }
  return b;
}

}  // namespace

absl::StatusOr<std::vector<ScannedBundle>> ScanCommit(const CommitTree& tree,
                                                      const common::GitRepoSpec& gitrepo,
                                                      const ScanLimits& limits) {
  std::vector<ScannedBundle> out;
  std::set<std::string> seen_dirs;
  for (const std::string& raw_path : gitrepo.paths) {
    std::string root = NormalizePath(raw_path);
    ASSIGN_OR_RETURN(std::vector<TreeEntry> entries, tree.List(root == "." ? "" : root));
    // Bundle directories: every directory with fleet.yaml, plus the root if it
    // has fleet.yaml or YAML below it outside nested bundle dirs.
    std::set<std::string> dirs;
    for (const auto& e : entries) {
      if (IsFleetYaml(e.path) && !IsHidden(Rel(e.path, root))) dirs.insert(Dir(e.path));
    }
    if (!dirs.count(root)) {
      for (const auto& e : entries) {
        if (!IsYaml(e.path) || IsHidden(Rel(e.path, root))) continue;
        bool in_nested = false;
        for (const auto& d : dirs) in_nested = in_nested || Under(e.path, d);
        if (!in_nested) {
          dirs.insert(root);
          break;
        }
      }
    }
    for (const auto& dir : dirs) {
      if (!seen_dirs.insert(dir).second) continue;  // paths may overlap
      out.push_back(ReadBundle(tree, gitrepo, dir, entries, dirs, limits));
      if (out.size() > limits.max_bundles) {
        return absl::InvalidArgumentError(
            absl::StrCat("repository has more than ", limits.max_bundles, " bundles"));
      }
    }
  }
  // Two directories that end up with the same bundle name: both are errors,
  // since neither can be told apart from the other on a cluster.
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < out.size(); ++i) by_name[out[i].name].push_back(i);
  for (const auto& [name, idx] : by_name) {
    if (idx.size() < 2) continue;
    std::vector<std::string> paths;
    for (size_t i : idx) paths.push_back(out[i].path);
    for (size_t i : idx) {
      out[i].error =
          absl::StrCat("bundle name \"", name, "\" is used by more than one directory (",
                       absl::StrJoin(paths, ", "), "); set a distinct `name` in fleet.yaml");
      out[i].files.clear();
    }
  }
  return out;
}

}  // namespace flotilla::manager
