// FleetController: fleet.yaml dependsOn (FLEET-SEMANTICS.md §1). Fleet's
// agent checks it per cluster before deploying (agent/deployer/deployer.go
// checkDependency); here the manager holds the new deployment back, so a
// cluster keeps what it runs until every dependency on it is in an accepted
// state, and also sends the resolved dependencies with the deployment so the
// agent checks them again against what it runs (the manager's view of a
// dependency's state may be a report behind).
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/selector.h"
#include "flotilla/v1/state_names.h"
#include "manager/controller/fleet_controller.h"

namespace flotilla::manager {
namespace {

namespace v1 = flotilla::v1;
using common::Json;

}  // namespace

std::vector<FleetController::DependencyEntry> FleetController::DependenciesOf(
    const BundleState& b, const std::string& cluster_id) {
  std::vector<DependencyEntry> out;
  if (!b.spec.depends_on.is_array()) return out;
  const auto& on_cluster = bds_[cluster_id];
  for (const Json& dep : b.spec.depends_on) {
    if (!dep.is_object()) continue;
    DependencyEntry entry;
    const std::string name = dep.value("name", "");
    std::optional<common::LabelSelector> selector;
    if (dep.contains("selector") && !dep["selector"].is_null()) {
      auto parsed = common::ParseLabelSelector(dep["selector"], "dependsOn.selector");
      if (!parsed.ok()) {
        entry.error = std::string(parsed.status().message());
        out.push_back(std::move(entry));
        continue;
      }
      selector = *std::move(parsed);
    }
    // Fleet skips an entry with neither (a typo in the YAML).
    if (name.empty() && !selector) continue;
    if (dep.contains("acceptedStates") && dep["acceptedStates"].is_array()) {
      for (const Json& s : dep["acceptedStates"]) {
        if (auto state =
                s.is_string() ? v1::StateFromFleetName(s.get<std::string>()) : std::nullopt) {
          entry.accepted.insert(*state);
        }
      }
    }
    if (entry.accepted.empty()) entry.accepted.insert(v1::READY);
    for (const auto& [bundle, bd] : on_cluster) {
      if (bundle == b.record.name) continue;
      if (!name.empty() && bundle != name) continue;
      if (selector) {
        auto bit = bundles_.find(bundle);
        if (bit == bundles_.end() || !selector->Matches(bit->second.record.labels)) continue;
      }
      entry.bundles.push_back(bundle);
    }
    if (entry.bundles.empty()) {
      entry.error = absl::StrCat(
          "no bundles matching ", name.empty() ? "" : absl::StrCat("name ", name),
          name.empty() || !selector ? "" : " and ",
          selector ? absl::StrCat("selector ", selector->ToString()) : "", " on this cluster");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::string FleetController::PendingDependencies(const BundleState& b,
                                                 const std::string& cluster_id) {
  std::vector<std::string> pending;
  const auto& on_cluster = bds_[cluster_id];
  for (const DependencyEntry& entry : DependenciesOf(b, cluster_id)) {
    if (!entry.error.empty()) pending.push_back(entry.error);
    for (const std::string& bundle : entry.bundles) {
      auto bd = on_cluster.find(bundle);
      if (bd == on_cluster.end() || !entry.accepted.count(EffectiveState(bd->second))) {
        pending.push_back(bundle);
      }
    }
  }
  if (pending.empty()) return "";
  return absl::StrCat("dependent bundle(s) are not ready: [", absl::StrJoin(pending, ", "), "]");
}

void FleetController::ResolveDependencies(const BundleState& b, const std::string& cluster_id,
                                          v1::DeploymentOptions* options) {
  for (const DependencyEntry& entry : DependenciesOf(b, cluster_id)) {
    for (const std::string& bundle : entry.bundles) {
      v1::Dependency* dep = options->add_depends_on();
      dep->set_bundle_name(bundle);
      for (int state : entry.accepted) {
        dep->add_accepted_states(static_cast<v1::BundleDeploymentState>(state));
      }
    }
  }
}

}  // namespace flotilla::manager
