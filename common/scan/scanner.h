// Scan: turns one commit's tree into bundles exactly as Fleet's `fleet apply`
// does (FLEET-SEMANTICS.md §2; rancher/fleet internal/cmd/cli/apply/apply.go
// and internal/bundlereader/), reading straight from the object database
// through CommitTree. manager/README.md lists the rules and their sources.
//
// Two modes, as in Fleet:
//  - GitRepo `paths` (globs allowed): each matched directory is walked for
//    fleet.yaml/fleet.yml directories (CreateBundles);
//  - GitRepo `bundles`: each {base, options} is one bundle, never searched
//    for nested bundles (CreateBundlesDriven); `paths` is then ignored.
//
// A problem inside one bundle (malformed fleet.yaml, an unsafe path, a
// symlink leaving the bundle, a submodule, invalid UTF-8, a blob over the
// size limit, a bad .fleetignore) is reported on that bundle only; the other
// bundles of the commit are unaffected. Problems with the scan as a whole (a
// configured path, base or options file missing, a malformed glob, more
// than max_bundles bundles, a tree CommitTree refuses to list) fail the call.
//
// Work is bounded by ScanLimits whatever the repository holds: blob sizes are
// checked from object headers before anything is read, symlink chains and
// glob matching have step limits, YAML goes through common/yaml.h's limits.
//
// Thread-compatible: ScanCommit keeps no state between calls.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/fleet/bundle_spec.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/scan/commit_tree.h"

namespace flotilla::common {

struct ScanLimits {
  uint64_t max_file_bytes = 4 << 20;  // one file (resource, fleet.yaml, values file, .fleetignore)
  // What one bundle reads: resources (a symlink counts its target), values
  // files and .fleetignore files; not its fleet.yaml.
  uint64_t max_bundle_bytes = 16 << 20;
  size_t max_bundles = 10'000;
  // .fleetignore rules in force in one directory (its own and inherited).
  size_t max_ignore_rules = 1'000;
  // Glob matching steps for one bundle's .fleetignore rules, or for one
  // `paths` glob, so a hostile pattern cannot take unbounded time.
  uint64_t max_match_steps = 200'000'000;
};

struct ScannedBundle {
  std::string name;  // Fleet's derived name, or fleet.yaml `name`
  std::string path;  // bundle directory relative to the repository root ("." = root)
  // The fleet.yaml, fleet.yml or options file read for `spec`, relative to
  // the repository root; "" when there is none.
  std::string spec_file;
  // fleet.yaml, with helm.valuesFiles (root and per target customization)
  // merged into helm.values as Fleet does when it builds the bundle.
  common::BundleSpec spec;
  // Resource files, bundle-relative path -> content. Excluded: hidden files
  // and directories, .fleetignore matches, the bundle's own fleet.yaml /
  // fleet.yml / options file, values files, and everything below a nested
  // directory holding a fleet.yaml or fleet.yml. Content may be binary (Fleet
  // keeps such files base64+gz); *.yaml, *.yml and *.json are valid UTF-8.
  std::map<std::string, std::string> files;
  // Non-empty when the bundle could not be read; names the file (and
  // position). `files` is then empty.
  std::string error;
};

absl::StatusOr<std::vector<ScannedBundle>> ScanCommit(const CommitTree& tree,
                                                      const common::GitRepoSpec& gitrepo,
                                                      const ScanLimits& limits = {});

}  // namespace flotilla::common
