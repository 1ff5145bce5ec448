#include "manager/status/summary.h"

#include <algorithm>
#include <array>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flotilla/v1/state_names.h"

namespace flotilla::manager {

namespace v1 = flotilla::v1;

namespace {

// Fleet lists this many non-Ready entries in a summary, and this many
// ClusterGroup member names in its readyClusters display.
constexpr size_t kMaxListed = 10;
// Resource lines per entry and kind (modified, non-ready) in a Ready message.
constexpr size_t kMaxLinesPerEntry = 4;

// The states a Ready message reports on (all but Ready).
constexpr std::array<v1::BundleDeploymentState, 6> kReportedStates = {
    v1::OUT_OF_SYNC, v1::NOT_READY, v1::WAIT_APPLIED, v1::ERR_APPLIED, v1::PENDING, v1::MODIFIED,
};

// The counter of `summary` that counts `state`; nullptr for one it does not.
// A template so that it serves const and mutable summaries alike.
template <typename Summary>
auto* CounterFor(Summary& summary, v1::BundleDeploymentState state) {
  using Counter = decltype(&summary.ready);
  switch (state) {
    case v1::READY:
      return &summary.ready;
    case v1::NOT_READY:
      return &summary.not_ready;
    case v1::PENDING:
      return &summary.pending;
    case v1::OUT_OF_SYNC:
      return &summary.out_of_sync;
    case v1::MODIFIED:
      return &summary.modified;
    case v1::WAIT_APPLIED:
      return &summary.wait_applied;
    case v1::ERR_APPLIED:
      return &summary.err_applied;
    default:
      return Counter{nullptr};
  }
}

int CountOf(const BundleSummary& summary, v1::BundleDeploymentState state) {
  const int* counter = CounterFor(summary, state);
  return counter == nullptr ? 0 : *counter;
}

// "<kind>[.<group>] [<namespace>/]<name>", as Fleet names a resource.
std::string ResourceName(const v1::ResourceStatus& r) {
  std::string kind = absl::AsciiStrToLower(r.kind());
  if (!r.api_version().empty()) {
    std::string group = r.api_version().substr(0, r.api_version().find('/'));
    absl::StrAppend(&kind, ".", group);
  }
  if (r.namespace_().empty()) return absl::StrCat(kind, " ", r.name());
  return absl::StrCat(kind, " ", r.namespace_(), "/", r.name());
}

}  // namespace

int StateRank(v1::BundleDeploymentState state) {
  switch (state) {
    case v1::ERR_APPLIED:
      return 7;
    case v1::WAIT_APPLIED:
      return 6;
    case v1::MODIFIED:
      return 5;
    case v1::OUT_OF_SYNC:
      return 4;
    case v1::PENDING:
      return 3;
    case v1::NOT_READY:
      return 2;
    case v1::READY:
      return 1;
    default:
      return 0;
  }
}

std::string NonReadyLine(const v1::ResourceStatus& resource) {
  return absl::StrCat(ResourceName(resource), " ", resource.message());
}

std::string ModifiedLine(const v1::ResourceStatus& resource) {
  // The agent says "not owned by us"; Fleet's ModifiedStatus says it as a
  // sentence after the name.
  if (resource.message() == "not owned by us") {
    return absl::StrCat(ResourceName(resource), " is not owned by us");
  }
  return NonReadyLine(resource);
}

void IncrementState(BundleSummary& summary, const std::string& name,
                    v1::BundleDeploymentState state, const std::string& message,
                    const std::vector<std::string>& modified,
                    const std::vector<std::string>& non_ready) {
  if (int* counter = CounterFor(summary, state)) ++*counter;
  if (name.empty() || state == v1::READY) return;
  if (summary.non_ready_resources.size() >= kMaxListed) return;
  summary.non_ready_resources.push_back(NonReadyResource{
      .name = name,
      .state = state,
      .message = message,
      .non_ready = non_ready,
      .modified = modified,
  });
}

void Increment(BundleSummary& left, const BundleSummary& right) {
  left.not_ready += right.not_ready;
  left.wait_applied += right.wait_applied;
  left.err_applied += right.err_applied;
  left.out_of_sync += right.out_of_sync;
  left.modified += right.modified;
  left.ready += right.ready;
  left.pending += right.pending;
  left.desired_ready += right.desired_ready;
  if (left.non_ready_resources.size() < kMaxListed) {
    left.non_ready_resources.insert(left.non_ready_resources.end(),
                                    right.non_ready_resources.begin(),
                                    right.non_ready_resources.end());
  }
}

bool IsReady(const BundleSummary& summary) { return summary.desired_ready == summary.ready; }

v1::BundleDeploymentState SummaryState(const BundleSummary& summary) {
  v1::BundleDeploymentState worst = v1::STATE_UNSPECIFIED;
  for (const NonReadyResource& entry : summary.non_ready_resources) {
    if (StateRank(entry.state) > StateRank(worst)) worst = entry.state;
  }
  return worst;
}

std::string DisplayState(const BundleSummary& summary) {
  return v1::FleetStateName(SummaryState(summary));
}

std::string ReadyMessage(const BundleSummary& summary, const std::string& referenced_kind) {
  std::vector<std::string> parts;
  for (v1::BundleDeploymentState state : kReportedStates) {
    int count = CountOf(summary, state);
    if (count <= 0) continue;
    auto first =
        std::find_if(summary.non_ready_resources.begin(), summary.non_ready_resources.end(),
                     [state](const NonReadyResource& e) { return e.state == state; });
    if (first == summary.non_ready_resources.end()) continue;
    std::string head = absl::StrCat(v1::FleetStateName(state), "(", count, ") [", referenced_kind,
                                    " ", first->name);
    if (!first->message.empty()) absl::StrAppend(&head, ": ", first->message);
    parts.push_back(absl::StrCat(head, "]"));
    for (size_t i = 0; i < first->modified.size() && i < kMaxLinesPerEntry; ++i) {
      parts.push_back(first->modified[i]);
    }
    for (size_t i = 0; i < first->non_ready.size() && i < kMaxLinesPerEntry; ++i) {
      parts.push_back(first->non_ready[i]);
    }
  }
  // Fleet sorts the resource lines together with the headers.
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, "; ");
}

std::string ReadyDisplay(int ready, int desired) { return absl::StrCat(ready, "/", desired); }

std::string ClusterDisplayState(const BundleSummary& summary, bool checked_in) {
  if (!checked_in) return "WaitCheckIn";
  return DisplayState(summary);
}

ClusterGroupSummary SummarizeClusterGroup(std::vector<ClusterGroupMember> members) {
  std::sort(
      members.begin(), members.end(),
      [](const ClusterGroupMember& a, const ClusterGroupMember& b) { return a.name < b.name; });
  ClusterGroupSummary out;
  for (const ClusterGroupMember& member : members) {
    Increment(out.summary, member.summary);
    ++out.cluster_count;
    if (!IsReady(member.summary)) {
      ++out.non_ready_cluster_count;
      if (out.non_ready_clusters.size() < kMaxListed) out.non_ready_clusters.push_back(member.name);
    }
  }
  out.ready_bundles = ReadyDisplay(out.summary.ready, out.summary.desired_ready);
  out.ready_clusters =
      ReadyDisplay(out.cluster_count - out.non_ready_cluster_count, out.cluster_count);
  if (!out.non_ready_clusters.empty()) {
    absl::StrAppend(&out.ready_clusters, " (", absl::StrJoin(out.non_ready_clusters, ","), ")");
  }
  out.state = DisplayState(out.summary);
  return out;
}

// StatusIndex ---------------------------------------------------------------

void StatusIndex::Upsert(const DeploymentSummaryInput& bd) {
  EntryKey key{bd.bundle, bd.cluster_id};
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Add(it->second, -1);
    it->second = Entry{.input = bd, .pending = false};
  } else {
    it = entries_.emplace(std::move(key), Entry{.input = bd, .pending = false}).first;
  }
  Add(it->second, +1);
}

void StatusIndex::SetPending(const std::string& bundle, const std::string& cluster_id,
                             const std::string& cluster_name) {
  DeploymentSummaryInput input;
  input.bundle = bundle;
  input.cluster_id = cluster_id;
  input.cluster_name = cluster_name;
  input.state = v1::PENDING;
  EntryKey key{bundle, cluster_id};
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Add(it->second, -1);
    it->second = Entry{.input = std::move(input), .pending = true};
  } else {
    it = entries_.emplace(std::move(key), Entry{.input = std::move(input), .pending = true}).first;
  }
  Add(it->second, +1);
}

void StatusIndex::Remove(const std::string& bundle, const std::string& cluster_id) {
  auto it = entries_.find(EntryKey{bundle, cluster_id});
  if (it == entries_.end()) return;
  Add(it->second, -1);
  entries_.erase(it);
}

// Adds (sign +1) or takes back (sign -1) one entry's contribution. Aggregates
// are created on the way in and erased once nothing contributes to them.
void StatusIndex::Add(const Entry& entry, int sign) {
  const DeploymentSummaryInput& in = entry.input;
  auto apply_to = [&](absl::btree_map<std::string, Aggregate>& aggs, const std::string& name,
                      Kind kind) {
    auto it = aggs.try_emplace(name).first;
    Apply(it->second, kind, entry, sign);
    if (it->second.counts.desired_ready == 0) aggs.erase(it);
  };
  // The GitRepo-by-cluster cells count into both aggregates: they go after
  // them on the way in and before them on the way out.
  if (sign < 0) ApplyCell(entry, sign);
  apply_to(bundles_, in.bundle, Kind::kBundle);
  if (!entry.pending) {
    if (!in.gitrepo.empty()) apply_to(gitrepos_, in.gitrepo, Kind::kGitRepo);
    apply_to(clusters_, in.cluster_id, Kind::kCluster);
  }
  if (sign > 0) ApplyCell(entry, sign);
}

void StatusIndex::Apply(Aggregate& agg, Kind kind, const Entry& entry, int sign) {
  const DeploymentSummaryInput& in = entry.input;
  agg.counts.desired_ready += sign;
  if (int* counter = CounterFor(agg.counts, in.state)) *counter += sign;
  if (in.state == v1::READY) return;
  OrderKey order{kind == Kind::kCluster ? std::string() : in.cluster_name, in.bundle,
                 in.cluster_id};
  // Only a GitRepo's display state looks past the listed entries.
  if (kind == Kind::kGitRepo) {
    WorstKey worst{-StateRank(in.state), order};
    if (sign > 0) {
      agg.worst.insert(std::move(worst));
    } else {
      agg.worst.erase(worst);
    }
  }
  // IncrementState lists only named entries: the cluster's name for a
  // Bundle, the bundle's otherwise.
  const std::string& name = kind == Kind::kBundle ? in.cluster_name : in.bundle;
  if (name.empty()) return;
  if (sign > 0) {
    agg.non_ready.insert(std::move(order));
  } else {
    agg.non_ready.erase(order);
  }
}

void StatusIndex::ApplyCell(const Entry& entry, int sign) {
  const DeploymentSummaryInput& in = entry.input;
  if (entry.pending || in.gitrepo.empty()) return;
  auto cell_it = cells_.try_emplace({in.gitrepo, in.cluster_id}).first;
  Cell& cell = cell_it->second;
  const bool member_before = cell.deployments > 0;
  const bool ready_before = member_before && cell.ready == cell.deployments;
  cell.deployments += sign;
  if (in.state == v1::READY) cell.ready += sign;
  const bool member_after = cell.deployments > 0;
  const bool ready_after = member_after && cell.ready == cell.deployments;
  if (!member_after) cells_.erase(cell_it);

  for (Aggregate* agg : {&gitrepos_.at(in.gitrepo), &clusters_.at(in.cluster_id)}) {
    agg->members += static_cast<int>(member_after) - static_cast<int>(member_before);
    agg->ready_members += static_cast<int>(ready_after) - static_cast<int>(ready_before);
  }
}

BundleSummary StatusIndex::Materialize(const absl::btree_map<std::string, Aggregate>& aggs,
                                       const std::string& name, Kind kind) const {
  auto it = aggs.find(name);
  if (it == aggs.end()) return BundleSummary{};
  BundleSummary out = it->second.counts;
  for (const OrderKey& order : it->second.non_ready) {
    if (out.non_ready_resources.size() >= kMaxListed) break;
    const auto& [unused, bundle, cluster_id] = order;
    const DeploymentSummaryInput& in = entries_.at(EntryKey{bundle, cluster_id}).input;
    out.non_ready_resources.push_back(NonReadyResource{
        .name = kind == Kind::kBundle ? in.cluster_name : in.bundle,
        .state = in.state,
        .message = in.message,
        .non_ready = in.non_ready,
        .modified = in.modified,
    });
  }
  return out;
}

BundleSummary StatusIndex::Bundle(const std::string& bundle) const {
  return Materialize(bundles_, bundle, Kind::kBundle);
}

BundleSummary StatusIndex::GitRepo(const std::string& gitrepo) const {
  return Materialize(gitrepos_, gitrepo, Kind::kGitRepo);
}

BundleSummary StatusIndex::Cluster(const std::string& cluster_id) const {
  return Materialize(clusters_, cluster_id, Kind::kCluster);
}

std::pair<int, int> StatusIndex::GitRepoReadyClusters(const std::string& gitrepo) const {
  auto it = gitrepos_.find(gitrepo);
  if (it == gitrepos_.end()) return {0, 0};
  return {it->second.ready_members, it->second.members};
}

std::pair<int, int> StatusIndex::ClusterReadyGitRepos(const std::string& cluster_id) const {
  auto it = clusters_.find(cluster_id);
  if (it == clusters_.end()) return {0, 0};
  return {it->second.ready_members, it->second.members};
}

GitRepoDisplay StatusIndex::GitRepoDisplayOf(const std::string& gitrepo,
                                             bool git_job_current) const {
  GitRepoDisplay out;
  auto it = gitrepos_.find(gitrepo);
  if (it != gitrepos_.end() && !it->second.worst.empty()) {
    const auto& [neg_rank, order] = *it->second.worst.begin();
    // Entries in an unknown state rank 0 and never become the worst.
    if (-neg_rank > StateRank(v1::READY)) {
      const auto& [unused, bundle, cluster_id] = order;
      const DeploymentSummaryInput& in = entries_.at(EntryKey{bundle, cluster_id}).input;
      out.state = v1::FleetStateName(in.state);
      out.message = in.message;
    }
  }
  out.error = !out.message.empty();
  if (!git_job_current) out.state = "GitUpdating";
  return out;
}

}  // namespace flotilla::manager
