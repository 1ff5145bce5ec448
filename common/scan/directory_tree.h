// A local directory as a CommitTree, so that `flotilla render` scans a
// checkout exactly as the manager scans a commit. Symlinks are reported as
// symlinks (never followed while listing); `.git` is skipped; sizes come from
// lstat, checked before a file is read.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/scan/commit_tree.h"

namespace flotilla::common {

class DirectoryTree : public CommitTree {
 public:
  // At most this many entries below the root (ResourceExhausted beyond).
  static constexpr size_t kMaxEntries = 100'000;

  // NotFound / FailedPrecondition naming `root` if it is not a readable
  // directory.
  static absl::StatusOr<std::unique_ptr<DirectoryTree>> Open(const std::string& root);

  // "local": a directory has no commit.
  const std::string& commit() const override { return commit_; }
  absl::StatusOr<std::vector<TreeEntry>> List(std::string_view dir) const override;
  absl::StatusOr<std::string> Read(const TreeEntry& entry, uint64_t max_size) const override;

 private:
  explicit DirectoryTree(std::string root) : root_(std::move(root)) {}
  std::string root_;
  std::string commit_ = "local";
};

}  // namespace flotilla::common
