// Git access for the manager, on libgit2: a bare cache per remote, fetched
// into and read straight from the object database (no working copy).
//
// Threading: a GitRepository serialises its own operations with a mutex; use
// one per remote. CommitTree is immutable and safe to share once created.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace flotilla::manager {

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

class GitRepository {
 public:
  // Opens the bare cache for `url` under `cache_root` (created if missing; the
  // directory name is derived from a hash of the URL). `url` may be a local
  // path, file://, git://, http:// or https://.
  static absl::StatusOr<std::unique_ptr<GitRepository>> Open(const std::string& cache_root,
                                                             const std::string& url);
  ~GitRepository();

  // Fetches from the remote and resolves `ref` to a commit id (hex).
  // `ref` is a branch name, or (when `is_revision`) a commit id, tag or branch.
  // The fetch is aborted when `timeout` passes (libgit2 1.5 has no server
  // timeout option, so a watchdog in the transfer callbacks enforces it).
  // Unavailable for network/remote failures (retry later), NotFound for a
  // branch or revision that does not exist, both with libgit2's message.
  absl::StatusOr<std::string> Fetch(const std::string& ref, bool is_revision,
                                    absl::Duration timeout);

  // The tree of a commit already in the cache.
  absl::StatusOr<std::unique_ptr<CommitTree>> Tree(const std::string& commit_id);

  const std::string& url() const { return url_; }
  const std::string& cache_path() const { return cache_path_; }

 private:
  struct Handles;
  GitRepository(std::string url, std::string cache_path, std::unique_ptr<Handles> handles);

  const std::string url_;
  const std::string cache_path_;
  absl::Mutex mu_;
  std::unique_ptr<Handles> handles_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flotilla::manager
