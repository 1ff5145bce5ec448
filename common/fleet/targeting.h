// Whether a bundle goes to a cluster, and with which options
// (Fleet target/builder.go + target.go, FLEET-SEMANTICS.md §3).
#pragma once

#include <string>
#include <vector>

#include "common/fleet/bundle_spec.h"
#include "common/fleet/bundle_target.h"
#include "common/fleet/gitrepo_spec.h"

namespace flotilla::common {

struct TargetDecision {
  bool deploy = false;
  // Why the cluster gets nothing (shown by `flotilla render`), or which
  // target and customization matched.
  std::string reason;
  std::string customization;      // name of the customization applied, if any
  Json options = Json::object();  // root options merged with customizations
};

// 1. Targets are fleet.yaml overrideTargets when set, else the GitRepo targets;
//    the cluster must match one of them, and also one GitRepo target (the
//    GitRepo's targets are an allow-list, Fleet's targetRestrictions).
// 2. Customizations: FirstMatch applies the first matching entry; AllMatches
//    merges every matching entry in order. A matching doNotDeploy excludes the
//    cluster. Customizations never add clusters.
TargetDecision DecideTarget(const std::vector<BundleTarget>& gitrepo_targets,
                            const BundleSpec& spec, const ClusterView& cluster);

// The bundle as its GitRepo's settings make it, as Fleet's bundle reader
// copies them onto every bundle (internal/bundlereader/read.go):
// serviceAccount (when set) and keepResources / deleteNamespace (when true)
// on the root options, correctDrift (when enabled) replaces the root's,
// forceSyncGeneration (when set, so a bump redeploys), and targetNamespace
// as `namespace` on the root options and on every customization.
BundleSpec WithGitRepoSettings(const BundleSpec& spec, const GitRepoSpec& repo);

}  // namespace flotilla::common
