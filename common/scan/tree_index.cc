#include "common/scan/tree_index.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/scan/repo_path.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

bool PathLess(const TreeEntry& e, absl::string_view path) { return e.path < path; }

// Pushes the components of `path` so that the first ends up on top.
void PushComponents(absl::string_view path, std::vector<std::string>* pending) {
  std::vector<absl::string_view> parts = absl::StrSplit(path, '/');
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) pending->emplace_back(*it);
}

}  // namespace

absl::Span<const TreeEntry> EntriesBelow(absl::Span<const TreeEntry> entries,
                                         absl::string_view dir) {
  if (dir == ".") return entries;
  // Paths below "d" sort in ["d/", "d0"): '0' follows '/'.
  const std::string low = absl::StrCat(dir, "/");
  const std::string high = absl::StrCat(dir, "0");
  auto begin = std::lower_bound(entries.begin(), entries.end(), low, PathLess);
  auto end = std::lower_bound(begin, entries.end(), high, PathLess);
  return entries.subspan(begin - entries.begin(), end - begin);
}

const TreeEntry* FindEntry(absl::Span<const TreeEntry> entries, absl::string_view path) {
  auto it = std::lower_bound(entries.begin(), entries.end(), path, PathLess);
  return it != entries.end() && it->path == path ? &*it : nullptr;
}

absl::StatusOr<absl::Span<const TreeEntry>> TreeIndex::Below(const std::string& dir) {
  for (absl::string_view a = dir;; a = DirOf(a)) {
    auto it = listings_.find(std::string(a));
    if (it != listings_.end()) {
      absl::Span<const TreeEntry> below = EntriesBelow(it->second, dir);
      if (!below.empty() || a == dir) return below;
      break;  // not a directory: let CommitTree say so, in its words
    }
    if (a == ".") break;
  }
  ASSIGN_OR_RETURN(std::vector<TreeEntry> entries, tree_.List(dir == "." ? "" : dir));
  // Sorted, one entry per path and each below `dir`, whatever the
  // implementation returned: the lookups above rely on it.
  entries.erase(
      std::remove_if(entries.begin(), entries.end(),
                     [&](const TreeEntry& e) { return e.path == dir || !IsUnder(e.path, dir); }),
      entries.end());
  std::stable_sort(entries.begin(), entries.end(),
                   [](const TreeEntry& x, const TreeEntry& y) { return x.path < y.path; });
  entries.erase(
      std::unique(entries.begin(), entries.end(),
                  [](const TreeEntry& x, const TreeEntry& y) { return x.path == y.path; }),
      entries.end());
  auto [it, inserted] = listings_.insert_or_assign(dir, std::move(entries));
  return absl::Span<const TreeEntry>(it->second);
}

absl::StatusOr<TreeIndex::Node> TreeIndex::Stat(const std::string& path) {
  const std::vector<TreeEntry>* listing = nullptr;
  absl::string_view listed_dir;
  for (absl::string_view a = path;; a = DirOf(a)) {
    auto it = listings_.find(std::string(a));
    if (it != listings_.end()) {
      listing = &it->second;
      listed_dir = it->first;
      break;
    }
    if (a == ".") break;
  }
  if (listing == nullptr) {
    RETURN_IF_ERROR(Below(".").status());
    listing = &listings_.at(".");
    listed_dir = ".";
  }
  Node node;
  if (path == listed_dir) {
    node.kind = Node::Kind::kDirectory;
  } else if (const TreeEntry* e = FindEntry(*listing, path)) {
    node.kind = Node::Kind::kEntry;
    node.entry = e;
  } else if (!EntriesBelow(*listing, path).empty()) {
    node.kind = Node::Kind::kDirectory;
  }
  return node;
}

absl::StatusOr<Resolution> ResolvePath(TreeIndex& index, absl::string_view start,
                                       absl::string_view rel, absl::string_view scope) {
  using Outcome = Resolution::Outcome;
  Resolution result;
  std::vector<std::string> resolved = SplitPath(start);
  std::vector<std::string> pending;
  PushComponents(rel, &pending);
  TreeIndex::Node last;
  last.kind = TreeIndex::Node::Kind::kDirectory;  // `start` is a directory
  int hops = 0;
  while (!pending.empty()) {
    const std::string part = std::move(pending.back());
    pending.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (resolved.empty()) {
        result.outcome = Outcome::kOutside;
        return result;
      }
      resolved.pop_back();
      last.kind = TreeIndex::Node::Kind::kDirectory;
      last.entry = nullptr;
      continue;
    }
    resolved.push_back(part);
    const std::string path = absl::StrJoin(resolved, "/");
    ASSIGN_OR_RETURN(last, index.Stat(path));
    if (last.kind == TreeIndex::Node::Kind::kMissing) {
      result.outcome = Outcome::kMissing;
      return result;
    }
    if (last.kind == TreeIndex::Node::Kind::kDirectory) continue;
    if (last.entry->kind == TreeEntry::Kind::kSymlink) {
      if (++hops > kMaxSymlinkHops) {
        result.outcome = Outcome::kTooManyLinks;
        return result;
      }
      ASSIGN_OR_RETURN(const std::string target,
                       index.tree().Read(*last.entry, kMaxSymlinkTargetBytes));
      if (target.empty() || target[0] == '/') {
        result.outcome = Outcome::kOutside;
        return result;
      }
      resolved.pop_back();  // the target continues from the link's directory
      PushComponents(target, &pending);
      last.kind = TreeIndex::Node::Kind::kDirectory;
      last.entry = nullptr;
      continue;
    }
    // A file or submodule with more to resolve below it: ENOTDIR.
    if (!pending.empty()) {
      result.outcome = Outcome::kMissing;
      return result;
    }
  }
  result.path = resolved.empty() ? "." : absl::StrJoin(resolved, "/");
  if (!IsUnder(result.path, scope)) {
    result.outcome = Outcome::kOutside;
  } else if (last.kind == TreeIndex::Node::Kind::kDirectory) {
    result.outcome = Outcome::kDirectory;
  } else if (last.entry->kind == TreeEntry::Kind::kSubmodule) {
    result.outcome = Outcome::kSubmodule;
  } else {
    result.outcome = Outcome::kFile;
    result.file = last.entry;
  }
  return result;
}

}  // namespace flotilla::common
