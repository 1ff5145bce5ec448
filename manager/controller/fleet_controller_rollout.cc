// Staged rollouts in the controller (FLEET-SEMANTICS.md §6): targeting
// stages each BundleDeployment's new deployment; RollOutLocked asks the
// planner (common/fleet/rollout.h) which staged ones may run now and
// promotes them. It runs when targeting changes and when an agent reports a
// change of readiness on a bundle with staged deployments left: progress
// comes only from readiness, never from timers.
#include "absl/strings/str_cat.h"
#include "common/fleet/bundle_target.h"
#include "common/fleet/rollout.h"
#include "common/logging.h"
#include "manager/controller/fleet_controller.h"

namespace flotilla::manager {
namespace {

using common::Json;

bool Unpromoted(const BundleDeploymentRecord& bd) {
  return !bd.staged_deployment_id.empty() && bd.staged_deployment_id != bd.deployment_id;
}

// Fleet's status.Ready: the agent found every resource ready (a Modified
// deployment is ready, only not as Git says).
bool ReportedReady(const BundleDeploymentRecord& bd) {
  return bd.state == flotilla::v1::READY || bd.state == flotilla::v1::MODIFIED;
}

}  // namespace

flotilla::v1::BundleDeploymentState EffectiveState(const BundleDeploymentRecord& bd) {
  namespace v1 = flotilla::v1;
  if (bd.deployment_id.empty()) {
    // Nothing released yet: held by the rollout or a pause (OutOfSync), or
    // a placeholder waiting for its dependencies.
    if (!bd.staged_deployment_id.empty()) return v1::OUT_OF_SYNC;
    return bd.state == v1::STATE_UNSPECIFIED ? v1::WAIT_APPLIED
                                             : static_cast<v1::BundleDeploymentState>(bd.state);
  }
  if (bd.applied_deployment_id != bd.deployment_id) {
    return bd.state == v1::ERR_APPLIED ? v1::ERR_APPLIED : v1::WAIT_APPLIED;
  }
  if (bd.state == v1::STATE_UNSPECIFIED) return v1::WAIT_APPLIED;
  if (bd.state == v1::ERR_APPLIED || bd.state == v1::NOT_READY) {
    return static_cast<v1::BundleDeploymentState>(bd.state);
  }
  if (!bd.staged_deployment_id.empty() && bd.staged_deployment_id != bd.deployment_id) {
    return v1::OUT_OF_SYNC;
  }
  return static_cast<v1::BundleDeploymentState>(bd.state);
}

const BundleDeploymentRecord* FleetController::FindBd(const std::string& bundle,
                                                      const std::string& cluster_id) const {
  auto cit = bds_.find(cluster_id);
  if (cit == bds_.end()) return nullptr;
  auto it = cit->second.find(bundle);
  return it == cit->second.end() ? nullptr : &it->second;
}

void FleetController::PutBdLocked(BundleDeploymentRecord bd,
                                  const flotilla::v1::BundleDeploymentStatus* status) {
  const std::string bundle = bd.bundle;
  const std::string cid = bd.cluster_id;
  status_.Upsert(SummaryInputLocked(bd, status));
  if (const BundleDeploymentRecord* old = FindBd(bundle, cid); old != nullptr && Unpromoted(*old)) {
    --unpromoted_[bundle];
  }
  if (Unpromoted(bd)) ++unpromoted_[bundle];
  bundle_clusters_[bundle].insert(cid);
  bds_[cid][bundle] = std::move(bd);
}

void FleetController::EraseBdLocked(const std::string& bundle, const std::string& cluster_id) {
  const BundleDeploymentRecord* old = FindBd(bundle, cluster_id);
  if (old == nullptr) return;
  if (Unpromoted(*old)) --unpromoted_[bundle];
  status_.Remove(bundle, cluster_id);
  bds_[cluster_id].erase(bundle);
  auto it = bundle_clusters_.find(bundle);
  if (it != bundle_clusters_.end()) {
    it->second.erase(cluster_id);
    if (it->second.empty()) {
      bundle_clusters_.erase(it);
      unpromoted_.erase(bundle);
    }
  }
}

void FleetController::StageUncreatedLocked(BundleDeploymentRecord bd) {
  auto cit = clusters_.find(bd.cluster_id);
  status_.SetPending(bd.bundle, bd.cluster_id,
                     cit == clusters_.end() ? bd.cluster_id : cit->second.name);
  const std::string bundle = bd.bundle;
  const std::string cid = bd.cluster_id;
  uncreated_[bundle][cid] = std::move(bd);
}

void FleetController::DropUncreatedLocked(const std::string& bundle,
                                          const std::string& cluster_id) {
  auto it = uncreated_.find(bundle);
  if (it == uncreated_.end() || it->second.erase(cluster_id) == 0) return;
  if (FindBd(bundle, cluster_id) == nullptr) status_.Remove(bundle, cluster_id);
  if (it->second.empty()) uncreated_.erase(it);
}

bool FleetController::OfflineLocked(const ClusterRecord& c) const {
  if (connected_.count(c.id) > 0) return false;
  const absl::Time seen = std::max(c.last_seen, c.created);
  if (seen == absl::InfinitePast()) return false;
  return clock_->Now() - seen > options_.offline_after;
}

bool FleetController::NeedsRollOutLocked(const std::string& bundle) const {
  auto u = unpromoted_.find(bundle);
  if (u != unpromoted_.end() && u->second > 0) return true;
  auto n = uncreated_.find(bundle);
  return n != uncreated_.end() && !n->second.empty();
}

void FleetController::RollOutLocked(const std::string& bname, BdWrites& writes) {
  auto bit = bundles_.find(bname);
  if (bit == bundles_.end()) return;
  const BundleState& b = bit->second;
  auto rit = repos_.find(b.record.gitrepo);
  // Fleet: a paused GitRepo or bundle keeps its deployments staged.
  const bool bundle_paused = b.spec.paused || (rit != repos_.end() && rit->second.spec.paused);
  const Json& strategy = b.spec.rollout_strategy;
  std::vector<common::BundleTarget> partitions;
  if (strategy.is_object() && strategy.contains("partitions") &&
      strategy["partitions"].is_array()) {
    for (const Json& p : strategy["partitions"]) {
      // Checked when fleet.yaml was read; one that does not parse matches
      // no cluster.
      auto t = common::BundleTargetFromJson(p.is_object() ? p : Json::object());
      partitions.push_back(t.ok() ? std::move(*t) : common::BundleTarget{});
    }
  }
  const bool exclude_offline = strategy.is_object() &&
                               strategy.contains("excludeOfflineClusters") &&
                               strategy["excludeOfflineClusters"].is_boolean() &&
                               strategy["excludeOfflineClusters"].get<bool>();

  // The clusters the bundle targets, in name order: created ones and those
  // staged but not created yet.
  std::vector<std::pair<std::string, std::string>> order;  // name, id
  auto add = [&](const std::string& cid) {
    auto cit = clusters_.find(cid);
    if (cit != clusters_.end()) order.emplace_back(cit->second.name, cid);
  };
  if (auto it = bundle_clusters_.find(bname); it != bundle_clusters_.end()) {
    for (const auto& cid : it->second) add(cid);
  }
  for (const auto& w : writes) {
    if (w.first.first == bname && FindBd(bname, w.first.second) == nullptr) add(w.first.second);
  }
  auto& uncreated = uncreated_[bname];
  for (const auto& [cid, rec] : uncreated) add(cid);
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end()), order.end());

  // The record as this pass sees it: written, stored, or staged only.
  auto current = [&](const std::string& cid) -> const BundleDeploymentRecord* {
    auto w = writes.find({bname, cid});
    if (w != writes.end()) return &w->second;
    if (const BundleDeploymentRecord* bd = FindBd(bname, cid)) return bd;
    auto u = uncreated.find(cid);
    return u == uncreated.end() ? nullptr : &u->second;
  };
  auto created = [&](const std::string& cid) {
    return writes.count({bname, cid}) > 0 || FindBd(bname, cid) != nullptr;
  };
  std::map<std::string, std::vector<int>> membership;
  if (!partitions.empty()) {
    for (const auto& [name, cid] : order) {
      common::ClusterView view = ViewOf(clusters_.at(cid));
      for (size_t k = 0; k < partitions.size(); ++k) {
        if (partitions[k].Matches(view)) membership[cid].push_back(static_cast<int>(k));
      }
    }
  }

  // maxNew creates in batches; Fleet's next reconcile creates the next
  // batch at once, so this loops until a round creates nothing.
  for (size_t round = 0; round <= order.size(); ++round) {
    std::vector<common::RolloutTarget> targets;
    std::vector<std::string> ids;
    for (const auto& [name, cid] : order) {
      const BundleDeploymentRecord* rec = current(cid);
      if (rec == nullptr || rec->staged_deployment_id.empty()) continue;  // held placeholder
      if (auto h = held_.find(cid); h != held_.end() && h->second.count(bname) > 0) continue;
      const ClusterRecord& cluster = clusters_.at(cid);
      common::RolloutTarget t;
      t.cluster = name;
      t.desired_deployment_id = rec->staged_deployment_id;
      t.has_deployment = created(cid);
      t.deployment_id = rec->deployment_id;
      t.applied_deployment_id = rec->applied_deployment_id;
      t.ready = ReportedReady(*rec);
      t.paused = bundle_paused || cluster.paused;
      t.offline_excluded = exclude_offline && OfflineLocked(cluster);
      if (auto m = membership.find(cid); m != membership.end()) t.partitions = m->second;
      targets.push_back(std::move(t));
      ids.push_back(cid);
    }
    auto plan = common::PlanRollout(strategy, targets);
    if (!plan.ok()) {
      common::Logger("manager.rollout")
          ->warn("bundle {}: rollout held: {}", bname, plan.status().message());
      return;
    }
    bool created_any = false;
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::string& cid = ids[i];
      BundleDeploymentRecord* w = nullptr;
      if (plan->create[i]) {
        w = &(writes[{bname, cid}] = uncreated.at(cid));
        uncreated.erase(cid);
        created_any = true;
      }
      if (plan->promote[i]) {
        if (w == nullptr) w = &writes.try_emplace({bname, cid}, *current(cid)).first->second;
        w->deployment_id = w->staged_deployment_id;
        w->content_hash = w->staged_content_hash;
        w->options_json = w->staged_options_json;
      }
    }
    rollouts_[bname] = std::move(*plan);
    if (!created_any) break;
  }
  if (uncreated.empty()) uncreated_.erase(bname);

  // The same deploymentID with other agent options (a dependency resolved
  // differently) is no new version: it needs no rollout.
  for (const auto& [name, cid] : order) {
    const BundleDeploymentRecord* rec = current(cid);
    if (rec == nullptr || !created(cid) || rec->deployment_id.empty() ||
        rec->deployment_id != rec->staged_deployment_id) {
      continue;
    }
    if (rec->options_json != rec->staged_options_json ||
        rec->content_hash != rec->staged_content_hash) {
      BundleDeploymentRecord& w = writes.try_emplace({bname, cid}, *rec).first->second;
      w.options_json = w.staged_options_json;
      w.content_hash = w.staged_content_hash;
    }
  }
}

void FleetController::CheckOffline() {
  std::set<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    bool any = false;
    for (const auto& [id, c] : clusters_) {
      const bool off = OfflineLocked(c);
      if (off == (offline_.count(id) > 0)) continue;
      any = true;
      if (off) {
        offline_.insert(id);
        common::Logger("manager.controller")
            ->warn("cluster {} is offline: no contact for more than {}", c.name,
                   absl::FormatDuration(options_.offline_after));
      } else {
        offline_.erase(id);
      }
    }
    if (!any) return;
    // Bundles that leave offline clusters out of the count may move on.
    BdWrites writes;
    for (const auto& [bname, b] : bundles_) {
      const Json& s = b.spec.rollout_strategy;
      if (s.is_object() && s.value("excludeOfflineClusters", Json(false)) == Json(true) &&
          NeedsRollOutLocked(bname)) {
        RollOutLocked(bname, writes);
      }
    }
    auto st = WriteBundleDeployments(writes, {}, {}, {}, &changed);
    if (!st.ok()) {
      common::Logger("manager.rollout")->warn("cannot store rollout progress: {}", st.message());
      return;
    }
  }
  Notify(changed);
}

bool FleetController::Offline(const std::string& cluster_id) {
  absl::MutexLock lock(&mu_);
  auto it = clusters_.find(cluster_id);
  return it != clusters_.end() && OfflineLocked(it->second);
}

std::optional<common::RolloutPlan> FleetController::RolloutOf(const std::string& bundle) {
  absl::MutexLock lock(&mu_);
  auto it = rollouts_.find(bundle);
  if (it == rollouts_.end()) return std::nullopt;
  return it->second;
}

}  // namespace flotilla::manager
