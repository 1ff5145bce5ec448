// Status summaries (FLEET-SEMANTICS.md §4): every BundleDeployment's part
// is kept in a StatusIndex as it changes (PutBdLocked, EraseBdLocked), so a
// read costs O(log n) and a status report never recounts the fleet.
#include <google/protobuf/util/json_util.h>

#include "common/fleet/bundle_target.h"
#include "manager/controller/fleet_controller.h"

namespace flotilla::manager {

DeploymentSummaryInput FleetController::SummaryInputLocked(
    const BundleDeploymentRecord& bd, const flotilla::v1::BundleDeploymentStatus* status) {
  DeploymentSummaryInput in;
  in.bundle = bd.bundle;
  if (auto b = bundles_.find(bd.bundle); b != bundles_.end()) in.gitrepo = b->second.record.gitrepo;
  in.cluster_id = bd.cluster_id;
  auto c = clusters_.find(bd.cluster_id);
  in.cluster_name = c == clusters_.end() ? bd.cluster_id : c->second.name;
  in.state = EffectiveState(bd);
  in.message = bd.message;
  flotilla::v1::BundleDeploymentStatus parsed;
  if (status == nullptr && !bd.status_json.empty() &&
      google::protobuf::util::JsonStringToMessage(bd.status_json, &parsed).ok()) {
    status = &parsed;
  }
  // Resource lines describe what the agent applied; a deployment not yet
  // applied has none that are current.
  if (status != nullptr && bd.applied_deployment_id == bd.deployment_id) {
    for (const auto& r : status->non_ready()) in.non_ready.push_back(NonReadyLine(r));
    for (const auto& r : status->modified()) in.modified.push_back(ModifiedLine(r));
  }
  return in;
}

BundleSummary FleetController::BundleSummaryOf(const std::string& bundle) {
  absl::MutexLock lock(&mu_);
  return status_.Bundle(bundle);
}

BundleSummary FleetController::GitRepoSummaryOf(const std::string& gitrepo) {
  absl::MutexLock lock(&mu_);
  return status_.GitRepo(gitrepo);
}

BundleSummary FleetController::ClusterSummaryOf(const std::string& cluster_id) {
  absl::MutexLock lock(&mu_);
  return status_.Cluster(cluster_id);
}

std::pair<int, int> FleetController::GitRepoReadyClusters(const std::string& gitrepo) {
  absl::MutexLock lock(&mu_);
  return status_.GitRepoReadyClusters(gitrepo);
}

std::pair<int, int> FleetController::ClusterReadyGitRepos(const std::string& cluster_id) {
  absl::MutexLock lock(&mu_);
  return status_.ClusterReadyGitRepos(cluster_id);
}

GitRepoDisplay FleetController::GitRepoDisplayOf(const std::string& gitrepo) {
  absl::MutexLock lock(&mu_);
  return status_.GitRepoDisplayOf(gitrepo, /*git_job_current=*/true);
}

absl::StatusOr<ClusterGroupSummary> FleetController::ClusterGroupSummaryOf(
    const std::string& group) {
  absl::MutexLock lock(&mu_);
  auto g = groups_.find(group);
  if (g == groups_.end()) {
    return absl::NotFoundError(absl::StrCat("clustergroup \"", group, "\" not found"));
  }
  std::vector<ClusterGroupMember> members;
  if (g->second.view.selector.has_value()) {
    for (const auto& [id, c] : clusters_) {
      if (!g->second.view.selector->Matches(c.labels)) continue;
      members.push_back(ClusterGroupMember{c.name, status_.Cluster(id)});
    }
  }
  return SummarizeClusterGroup(std::move(members));
}

}  // namespace flotilla::manager
