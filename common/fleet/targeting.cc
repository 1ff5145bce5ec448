#include "common/fleet/targeting.h"

#include "absl/strings/str_cat.h"
#include "common/fleet/options.h"

namespace flotilla::common {
namespace {

const BundleTarget* FirstMatch(const std::vector<BundleTarget>& targets,
                               const ClusterView& cluster) {
  for (const auto& t : targets) {
    if (t.Matches(cluster)) return &t;
  }
  return nullptr;
}

std::string TargetLabel(const BundleTarget& t) {
  return t.name.empty() ? std::string("an unnamed target")
                        : absl::StrCat("target \"", t.name, "\"");
}

}  // namespace

TargetDecision DecideTarget(const std::vector<BundleTarget>& gitrepo_targets,
                            const BundleSpec& spec, const ClusterView& cluster) {
  TargetDecision d;
  const auto& targets = spec.override_targets.empty() ? gitrepo_targets : spec.override_targets;
  const BundleTarget* target = FirstMatch(targets, cluster);
  if (target == nullptr) {
    d.reason = absl::StrCat(
        "cluster \"", cluster.name, "\" matches none of the ",
        spec.override_targets.empty() ? "GitRepo targets" : "fleet.yaml overrideTargets");
    return d;
  }
  if (target->do_not_deploy) {
    d.reason =
        absl::StrCat(TargetLabel(*target), " sets doNotDeploy for cluster \"", cluster.name, "\"");
    return d;
  }
  if (!spec.override_targets.empty() && FirstMatch(gitrepo_targets, cluster) == nullptr) {
    d.reason = absl::StrCat("cluster \"", cluster.name,
                            "\" matches overrideTargets but none of the GitRepo targets, "
                            "which restrict where its bundles may go");
    return d;
  }
  d.options = spec.options;
  bool all = spec.target_customization_mode == "AllMatches";
  for (const auto& c : spec.target_customizations) {
    if (!c.Matches(cluster)) continue;
    if (c.do_not_deploy) {
      d.options = Json::object();
      d.customization = c.name;
      d.reason = absl::StrCat("customization \"", c.name, "\" sets doNotDeploy for cluster \"",
                              cluster.name, "\"");
      return d;
    }
    d.options = MergeOptions(d.options, c.options);
    d.customization = d.customization.empty() ? c.name : absl::StrCat(d.customization, ",", c.name);
    if (!all) break;
  }
  d.deploy = true;
  d.reason = absl::StrCat(
      "matched ", TargetLabel(*target),
      d.customization.empty() ? "" : absl::StrCat(", customization ", d.customization));
  return d;
}

BundleSpec WithGitRepoSettings(const BundleSpec& spec, const GitRepoSpec& repo) {
  BundleSpec out = spec;
  Json& o = out.options;
  if (!repo.service_account.empty()) o["serviceAccount"] = repo.service_account;
  if (repo.keep_resources) o["keepResources"] = true;
  if (repo.delete_namespace) o["deleteNamespace"] = true;
  if (repo.correct_drift.enabled) {
    o["correctDrift"] = Json{{"enabled", true},
                             {"force", repo.correct_drift.force},
                             {"keepFailHistory", repo.correct_drift.keep_fail_history}};
  }
  if (repo.force_sync_generation != 0) o["forceSyncGeneration"] = repo.force_sync_generation;
  if (!repo.target_namespace.empty()) {
    o["namespace"] = repo.target_namespace;
    for (auto& c : out.target_customizations) c.options["namespace"] = repo.target_namespace;
  }
  return out;
}

}  // namespace flotilla::common
