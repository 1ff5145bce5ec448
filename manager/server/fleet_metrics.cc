#include "manager/server/fleet_metrics.h"

#include <map>
#include <utility>
#include <vector>

#include "flotilla/v1/state_names.h"
#include "manager/controller/controller_metrics.h"
#include "manager/status/summary.h"
#include "manager/store/store_metrics.h"

namespace flotilla::manager {
namespace {

namespace v1 = flotilla::v1;

constexpr char kGitRepos[] = "flotilla_gitrepos";
constexpr char kBundles[] = "flotilla_bundles";
constexpr char kBundleDeployments[] = "flotilla_bundledeployments";
constexpr char kClusters[] = "flotilla_clusters";
constexpr char kClustersOffline[] = "flotilla_clusters_offline";
constexpr char kAgentsConnected[] = "flotilla_agents_connected";
constexpr char kBuildInfo[] = "flotilla_build_info";
constexpr char kWaitCheckIn[] = "WaitCheckIn";

// Fleet's states, best first: every one is exported (at zero when nothing is
// in it), so that a dashboard's series do not come and go.
const std::vector<v1::BundleDeploymentState>& AllStates() {
  static const auto* states = new std::vector<v1::BundleDeploymentState>{
      v1::READY,    v1::NOT_READY,    v1::PENDING,    v1::OUT_OF_SYNC,
      v1::MODIFIED, v1::WAIT_APPLIED, v1::ERR_APPLIED};
  return *states;
}

std::string StateLabel(v1::BundleDeploymentState state) {
  std::string name = v1::FleetStateName(state);
  return name.empty() ? "Unknown" : name;
}

// The worst state of `deployments` by Fleet's StateRank; Ready when empty.
v1::BundleDeploymentState Worst(const std::vector<const BundleDeploymentRecord*>& deployments) {
  v1::BundleDeploymentState worst = v1::READY;
  for (const BundleDeploymentRecord* bd : deployments) {
    v1::BundleDeploymentState state = EffectiveState(*bd);
    if (StateRank(state) > StateRank(worst)) worst = state;
  }
  return worst;
}

}  // namespace

FleetMetrics::FleetMetrics(FleetController* controller, common::MetricsRegistry* registry,
                           const std::string& version)
    : controller_(controller), registry_(registry) {
  DeclareControllerMetrics(*registry_);
  DeclareStoreMetrics(*registry_);
  registry_->Declare(kGitRepos, "gauge", "GitRepos.");
  registry_->Declare(kBundles, "gauge",
                     "Bundles by state: the worst state of their BundleDeployments (Ready when "
                     "they have none).");
  registry_->Declare(kBundleDeployments, "gauge", "BundleDeployments by effective state.");
  registry_->Declare(kClusters, "gauge",
                     "Registered clusters by state (WaitCheckIn before the agent's first "
                     "contact, else the worst state of their BundleDeployments) and by whether "
                     "their agent is connected.");
  registry_->Declare(kClustersOffline, "gauge",
                     "Clusters whose agent has had no stream and no contact for longer than "
                     "--offline-after.");
  registry_->Declare(kAgentsConnected, "gauge", "Clusters whose agent has a live stream.");
  registry_->Declare(kBuildInfo, "gauge", "Build information; the value is always 1.");
  registry_->Set(kBuildInfo, {{"version", version}}, 1);
  absl::MutexLock lock(&mu_);
  UpdateGauges();
}

void FleetMetrics::UpdateGauges() {
  const std::vector<BundleDeploymentRecord> deployments = controller_->BundleDeployments();
  std::map<std::string, std::vector<const BundleDeploymentRecord*>> by_bundle;
  std::map<std::string, std::vector<const BundleDeploymentRecord*>> by_cluster;
  std::map<std::string, int> bd_states;
  for (const BundleDeploymentRecord& bd : deployments) {
    by_bundle[bd.bundle].push_back(&bd);
    by_cluster[bd.cluster_id].push_back(&bd);
    ++bd_states[StateLabel(EffectiveState(bd))];
  }

  std::map<std::string, int> bundle_states;
  for (const BundleRecord& bundle : controller_->Bundles()) {
    ++bundle_states[StateLabel(Worst(by_bundle[bundle.name]))];
  }

  std::map<std::pair<std::string, bool>, int> cluster_states;
  int offline = 0;
  int connected_count = 0;
  for (const ClusterRecord& cluster : controller_->Clusters()) {
    const bool connected = controller_->connected(cluster.id);
    // WaitCheckIn until the agent's first contact, else the worst state of
    // its BundleDeployments ("Ready" when it has none).
    const std::string state = cluster.last_seen == absl::InfinitePast()
                                  ? kWaitCheckIn
                                  : StateLabel(Worst(by_cluster[cluster.id]));
    ++cluster_states[{state, connected}];
    connected_count += connected;
    offline += controller_->Offline(cluster.id);
  }

  registry_->Set(kGitRepos, {}, static_cast<double>(controller_->GitRepos().size()));
  registry_->Set(kClustersOffline, {}, offline);
  registry_->Set(kAgentsConnected, {}, connected_count);
  // Re-set from the snapshot: every known state at its count (0 included),
  // and nothing left over from an earlier scrape.
  registry_->Clear(kBundles);
  registry_->Clear(kBundleDeployments);
  registry_->Clear(kClusters);
  for (const auto state : AllStates()) {
    const std::string label = StateLabel(state);
    registry_->Set(kBundles, {{"state", label}}, 0);
    registry_->Set(kBundleDeployments, {{"state", label}}, 0);
  }
  std::vector<std::string> cluster_labels = {kWaitCheckIn};
  for (const auto state : AllStates()) cluster_labels.push_back(StateLabel(state));
  for (const std::string& label : cluster_labels) {
    for (const char* connected : {"true", "false"}) {
      registry_->Set(kClusters, {{"state", label}, {"connected", connected}}, 0);
    }
  }
  for (const auto& [state, n] : bundle_states) registry_->Set(kBundles, {{"state", state}}, n);
  for (const auto& [state, n] : bd_states) {
    registry_->Set(kBundleDeployments, {{"state", state}}, n);
  }
  for (const auto& [key, n] : cluster_states) {
    registry_->Set(kClusters, {{"state", key.first}, {"connected", key.second ? "true" : "false"}},
                   n);
  }
}

std::string FleetMetrics::Scrape() {
  absl::MutexLock lock(&mu_);
  UpdateGauges();
  return registry_->Render();
}

}  // namespace flotilla::manager
