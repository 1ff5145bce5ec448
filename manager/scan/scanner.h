// Scan: turns one commit's tree into bundles (FLEET-SEMANTICS.md §2), reading
// straight from the object database through CommitTree.
//
// A problem inside one bundle (malformed fleet.yaml, an unsafe path, a blob
// over the size limit, a submodule) is reported on that bundle only; the
// other bundles of the commit are unaffected. Problems with the scan as a
// whole (a configured path missing) fail the call.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/fleet/bundle_spec.h"
#include "common/fleet/gitrepo_spec.h"
#include "manager/source/git_repository.h"

namespace flotilla::manager {

struct ScanLimits {
  uint64_t max_file_bytes = 4 << 20;     // one file
  uint64_t max_bundle_bytes = 16 << 20;  // all files of one bundle
  size_t max_bundles = 10'000;
};

struct ScannedBundle {
  std::string name;  // Fleet's derived name, or fleet.yaml `name`
  std::string path;  // bundle directory relative to the repository root ("." = root)
  common::BundleSpec spec;
  // Resource files, bundle-relative path -> content (hidden files, fleet.yaml
  // and nested bundles' files excluded).
  std::map<std::string, std::string> files;
  // Non-empty when the bundle could not be read; names file (and position).
  std::string error;
};

absl::StatusOr<std::vector<ScannedBundle>> ScanCommit(const CommitTree& tree,
                                                      const common::GitRepoSpec& gitrepo,
                                                      const ScanLimits& limits = {});

}  // namespace flotilla::manager
