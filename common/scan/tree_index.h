// TreeIndex: the listings of one commit that a scan needs, made on demand
// through CommitTree and shared by every bundle of the scan; and path
// resolution over them that follows symlinks like Go's filepath.EvalSymlinks,
// which Fleet applies to the checked-out repository.
//
// Not thread-safe: one TreeIndex per ScanCommit call. Spans and entry
// pointers it returns stay valid for its lifetime.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/scan/commit_tree.h"

namespace flotilla::common {

// Go's EvalSymlinks gives up after 255 links.
inline constexpr int kMaxSymlinkHops = 255;
// A symlink target longer than PATH_MAX cannot be checked out at all.
inline constexpr uint64_t kMaxSymlinkTargetBytes = 4096;

class TreeIndex {
 public:
  explicit TreeIndex(const CommitTree& tree) : tree_(tree) {}
  TreeIndex(const TreeIndex&) = delete;
  TreeIndex& operator=(const TreeIndex&) = delete;

  const CommitTree& tree() const { return tree_; }

  // Every entry below directory `dir` ("." = the root), sorted by path. The
  // first call lists `dir` unless a listing of an ancestor holds it already.
  // Errors are CommitTree::List's: NotFound for a directory the commit does
  // not have (or a file), InvalidArgument for an unsafe entry name.
  absl::StatusOr<absl::Span<const TreeEntry>> Below(const std::string& dir);

  // What `path` is in the commit. When no listing made so far covers it, the
  // whole repository is listed (once), so errors are List("")'s.
  struct Node {
    enum class Kind { kMissing, kDirectory, kEntry };
    Kind kind = Kind::kMissing;
    const TreeEntry* entry = nullptr;  // kEntry: a file, symlink or submodule
  };
  absl::StatusOr<Node> Stat(const std::string& path);

 private:
  const CommitTree& tree_;
  // Listed directory -> its entries, sorted, each under that directory.
  std::map<std::string, std::vector<TreeEntry>> listings_;
};

// The entries of sorted `entries` that lie below directory `dir`.
absl::Span<const TreeEntry> EntriesBelow(absl::Span<const TreeEntry> entries,
                                         absl::string_view dir);
// The entry of sorted `entries` at exactly `path`, or nullptr.
const TreeEntry* FindEntry(absl::Span<const TreeEntry> entries, absl::string_view path);

struct Resolution {
  enum class Outcome {
    kFile,       // `file` is the regular file reached
    kMissing,    // a component does not exist (or a file is used as a directory)
    kDirectory,  // the path names a directory
    kSubmodule,  // the path names a submodule (gitlink)
    kOutside,    // an absolute link target, a ".." above the root, or a
                 // result outside `scope`
    kTooManyLinks,
  };
  Outcome outcome = Outcome::kMissing;
  const TreeEntry* file = nullptr;
  std::string path;  // the path reached (kFile, kDirectory, kSubmodule)
};

// Resolves `rel` against directory `start`, following symlinks in every
// component as filepath.EvalSymlinks does: a link's target is read (at most
// kMaxSymlinkTargetBytes) and continues from the link's directory, ".." is
// taken after resolution. Steps on the way may pass anywhere inside the
// repository; only the final path must lie inside directory `scope`, the
// check Fleet makes (bundlereader GetContent: "target escapes bundle
// directory"). Status errors are listing or reading failures only.
absl::StatusOr<Resolution> ResolvePath(TreeIndex& index, absl::string_view start,
                                       absl::string_view rel, absl::string_view scope);

}  // namespace flotilla::common
