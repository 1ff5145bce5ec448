// FleetController: fleet.yaml dependsOn (FLEET-SEMANTICS.md §1). Fleet's
// agent checks it per cluster before deploying (agent/deployer/deployer.go
// checkDependency); here the manager holds the new deployment back instead,
// so a cluster keeps what it runs until every dependency on it is in an
// accepted state.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/selector.h"
#include "manager/controller/fleet_controller.h"

namespace flotilla::manager {
namespace {

namespace v1 = flotilla::v1;
using common::Json;

// Fleet's BundleState names in dependsOn[].acceptedStates.
std::optional<int> StateFromFleetName(const std::string& name) {
  static const auto* kStates = new std::map<std::string, int>{
      {"Ready", v1::READY},           {"NotReady", v1::NOT_READY},
      {"Pending", v1::PENDING},       {"OutOfSync", v1::OUT_OF_SYNC},
      {"Modified", v1::MODIFIED},     {"WaitApplied", v1::WAIT_APPLIED},
      {"ErrApplied", v1::ERR_APPLIED}};
  auto it = kStates->find(name);
  if (it == kStates->end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::string FleetController::PendingDependencies(const BundleState& b,
                                                 const std::string& cluster_id) {
  if (!b.spec.depends_on.is_array() || b.spec.depends_on.empty()) return "";
  const auto& on_cluster = bds_[cluster_id];
  std::vector<std::string> pending;
  for (const Json& dep : b.spec.depends_on) {
    if (!dep.is_object()) continue;
    const std::string name = dep.value("name", "");
    std::optional<common::LabelSelector> selector;
    if (dep.contains("selector") && !dep["selector"].is_null()) {
      auto parsed = common::ParseLabelSelector(dep["selector"], "dependsOn.selector");
      if (!parsed.ok()) {
        pending.push_back(std::string(parsed.status().message()));
        continue;
      }
      selector = *std::move(parsed);
    }
    // Fleet skips an entry with neither (a typo in the YAML).
    if (name.empty() && !selector) continue;
    std::set<int> accepted;
    if (dep.contains("acceptedStates") && dep["acceptedStates"].is_array()) {
      for (const Json& s : dep["acceptedStates"]) {
        if (auto state = s.is_string() ? StateFromFleetName(s.get<std::string>()) : std::nullopt) {
          accepted.insert(*state);
        }
      }
    }
    if (accepted.empty()) accepted.insert(v1::READY);
    bool matched = false;
    for (const auto& [bundle, bd] : on_cluster) {
      if (bundle == b.record.name) continue;
      if (!name.empty() && bundle != name) continue;
      if (selector) {
        auto bit = bundles_.find(bundle);
        if (bit == bundles_.end() || !selector->Matches(bit->second.record.labels)) continue;
      }
      matched = true;
      if (!accepted.count(EffectiveState(bd))) pending.push_back(bundle);
    }
    if (!matched) {
      pending.push_back(absl::StrCat(
          "no bundles matching ", name.empty() ? "" : absl::StrCat("name ", name),
          name.empty() || !selector ? "" : " and ",
          selector ? absl::StrCat("selector ", selector->ToString()) : "", " on this cluster"));
    }
  }
  if (pending.empty()) return "";
  return absl::StrCat("dependent bundle(s) are not ready: [", absl::StrJoin(pending, ", "), "]");
}

}  // namespace flotilla::manager
