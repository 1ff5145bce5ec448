// A snapshot of a source tree as the scanner reads it: a Git commit
// (manager/source/git_repository.h) or a local directory (directory_tree.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace flotilla::common {

struct TreeEntry {
  enum class Kind { kFile, kSymlink, kSubmodule };
  std::string path;     // relative to the repository root, '/'-separated
  std::string blob_id;  // hex object id (for a submodule, the commit id)
  uint64_t size = 0;    // blob size from the object header (0 for submodules)
  Kind kind = Kind::kFile;
  bool executable = false;
};

// A snapshot of one commit's tree.
class CommitTree {
 public:
  virtual ~CommitTree() = default;
  virtual const std::string& commit() const = 0;
  // Every entry at or below directory `dir` ("" or "." = the root), recursively,
  // sorted by path. NotFound if `dir` does not exist in the commit;
  // InvalidArgument (naming the path) for a tree entry whose name is unsafe:
  // "..", ".", empty, containing a backslash or NUL.
  virtual absl::StatusOr<std::vector<TreeEntry>> List(std::string_view dir) const = 0;
  // The contents of a file or symlink (the link target) entry.
  // InvalidArgument naming the path if the object is larger than `max_size`,
  // checked from the object header before the content is read.
  virtual absl::StatusOr<std::string> Read(const TreeEntry& entry, uint64_t max_size) const = 0;
};

}  // namespace flotilla::common
