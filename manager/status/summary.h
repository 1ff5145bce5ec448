// Status summaries of Bundles, GitRepos, Clusters and ClusterGroups, as Rancher
// Fleet computes them (rancher/fleet at 3b2c622; see README.md in this folder
// for which Fleet file each piece reproduces). A pure library: no store, no
// clock, no locks.
//
// Two layers:
//   1. Free functions over a BundleSummary: counting one deployment
//      (IncrementState), adding two summaries (Increment), the worst state,
//      the Ready condition message and the "r/n" display. These are Fleet's
//      summary package, value for value and string for string.
//   2. StatusIndex: every BundleDeployment's contribution, with the per
//      Bundle, per GitRepo and per Cluster aggregates kept current on each
//      Upsert/Remove in O(log n). What it returns equals what Fleet computes
//      from scratch over the same deployments (IncrementState in the order
//      given below), so a status report never causes a full recount.
//
// Who contributes what (as in Fleet):
//   - Bundle: one entry per target cluster; a target with no BundleDeployment
//     yet counts as Pending (SetPending). Entry name: the cluster's name.
//     Order: by cluster name.
//   - GitRepo: one entry per BundleDeployment of its bundles (pending targets
//     do not count). Entry name: the bundle's name. Order: by cluster name,
//     then bundle (Fleet orders by object UID, which has no meaning).
//   - Cluster: one entry per BundleDeployment on it (pending targets do not
//     count). Entry name: the bundle's name. Order: by bundle.
// Every entry adds one to desired_ready; non-Ready entries are listed in
// non_ready_resources, the first 10 in the order above.
//
// Not thread-safe: the owner serializes access (or publishes snapshots).
#pragma once

#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "flotilla/v1/types.pb.h"

namespace flotilla::manager {

// Fleet's StateRank, the larger the worse: ErrApplied 7 > WaitApplied 6 >
// Modified 5 > OutOfSync 4 > Pending 3 > NotReady 2 > Ready 1; 0 for
// STATE_UNSPECIFIED and unknown values.
int StateRank(flotilla::v1::BundleDeploymentState state);

// How Fleet prints a resource in a Ready message: "<kind>.<group> <ns>/<name>"
// with the kind lower-cased and the group the part of apiVersion before "/"
// ("v1" for core objects); without apiVersion just "<kind>"; without namespace
// just "<name>". Then a space and the agent's message.
std::string NonReadyLine(const flotilla::v1::ResourceStatus& resource);
// As NonReadyLine; the agent's "not owned by us" reads "is not owned by us",
// as Fleet's ModifiedStatus prints it ("missing", "extra" and
// "modified <patch>" are already Fleet's words).
std::string ModifiedLine(const flotilla::v1::ResourceStatus& resource);

// One BundleDeployment as the summaries see it.
struct DeploymentSummaryInput {
  std::string bundle;
  std::string gitrepo;  // "" when not owned by a GitRepo
  std::string cluster_id;
  std::string cluster_name;
  flotilla::v1::BundleDeploymentState state = flotilla::v1::STATE_UNSPECIFIED;  // effective
  std::string message;
  std::vector<std::string> non_ready;  // NonReadyLine of each reported resource
  std::vector<std::string> modified;   // ModifiedLine of each reported resource
};

// Fleet's NonReadyResource: one non-Ready entry of a summary.
struct NonReadyResource {
  std::string name;
  flotilla::v1::BundleDeploymentState state = flotilla::v1::STATE_UNSPECIFIED;
  std::string message;
  std::vector<std::string> non_ready;
  std::vector<std::string> modified;
  friend bool operator==(const NonReadyResource&, const NonReadyResource&) = default;
};

// Fleet's BundleSummary.
struct BundleSummary {
  int not_ready = 0;
  int wait_applied = 0;
  int err_applied = 0;
  int out_of_sync = 0;
  int modified = 0;
  int ready = 0;
  int pending = 0;
  int desired_ready = 0;
  // At most 10 from IncrementState; Increment may exceed that (see there).
  std::vector<NonReadyResource> non_ready_resources;
  friend bool operator==(const BundleSummary&, const BundleSummary&) = default;
};

// Counts `state` (STATE_UNSPECIFIED counts nothing) and, when `name` is not
// empty and the state is not READY, lists the entry while fewer than 10 are
// listed. Does not touch desired_ready: Fleet's callers add one themselves.
void IncrementState(BundleSummary& summary, const std::string& name,
                    flotilla::v1::BundleDeploymentState state, const std::string& message,
                    const std::vector<std::string>& modified,
                    const std::vector<std::string>& non_ready);

// Adds every counter of `right` to `left`. Appends all of right's entries
// when left lists fewer than 10, none otherwise, so the result may list up to
// 19 (Fleet's behaviour, kept: it shows in ClusterGroup summaries).
void Increment(BundleSummary& left, const BundleSummary& right);

// Ready == desired_ready (an empty summary is ready).
bool IsReady(const BundleSummary& summary);

// The worst state among the listed entries; STATE_UNSPECIFIED when none.
// Only listed entries count, as in Fleet: an eleventh, worse entry does not.
flotilla::v1::BundleDeploymentState SummaryState(const BundleSummary& summary);

// FleetStateName(SummaryState(summary)): display.state of Bundles and
// ClusterGroups, "" when nothing is listed.
std::string DisplayState(const BundleSummary& summary);

// The Ready condition's message, "" when ready. For each non-Ready state with
// a non-zero count, the first listed entry in that state gives
// "<State>(<count>) [<kind> <name>]" (or "[<kind> <name>: <message>]"),
// followed by up to 4 of its modified and up to 4 of its non-ready lines.
// All those strings are sorted byte-wise as one list and joined with "; ".
// `referenced_kind` is what the entries are: "Cluster" for a Bundle,
// "Bundle" for a GitRepo, Cluster or ClusterGroup.
std::string ReadyMessage(const BundleSummary& summary, const std::string& referenced_kind);

// "<ready>/<desired>", as every display.ready* field.
std::string ReadyDisplay(int ready, int desired);

// A Cluster's display.state: "WaitCheckIn" until its agent has checked in,
// then DisplayState(summary).
std::string ClusterDisplayState(const BundleSummary& summary, bool checked_in);

// A GitRepo's display fields that come from its BundleDeployments.
struct GitRepoDisplay {
  // The worst state over all its deployments (not only the listed ones);
  // "" when all are Ready or it has none; "GitUpdating" while its git job is
  // not current.
  std::string state;
  // The message of the first deployment (in GitRepo order) in the worst
  // state; "" when all are Ready. Kept while "GitUpdating".
  std::string message;
  bool error = false;  // message is not empty
};

// One member of a ClusterGroup.
struct ClusterGroupMember {
  std::string name;
  BundleSummary summary;  // the cluster's, as StatusIndex::Cluster returns it
};

struct ClusterGroupSummary {
  BundleSummary summary;  // Increment over the members, by name
  int cluster_count = 0;
  int non_ready_cluster_count = 0;
  std::vector<std::string> non_ready_clusters;  // the first 10 by name
  std::string ready_clusters;                   // "r/n" or "r/n (a,b,...)"
  std::string ready_bundles;                    // "r/n" over summary
  std::string state;                            // DisplayState(summary)
};

// Sums the members (in name order) as Fleet's ClusterGroup status does. A
// member is not ready when !IsReady(member.summary).
ClusterGroupSummary SummarizeClusterGroup(std::vector<ClusterGroupMember> members);

// Every deployment's contribution and the aggregates built from them. Each
// mutation is O(log n) in the number of entries; each query O(log n) plus
// the (at most 10) listed entries.
class StatusIndex {
 public:
  // Records a BundleDeployment, replacing whatever (bd.bundle, bd.cluster_id)
  // contributed before (a deployment or a pending target).
  void Upsert(const DeploymentSummaryInput& bd);
  // A target of `bundle` on the cluster with no BundleDeployment yet: counts
  // Pending for the bundle only. Replaces a previous contribution.
  void SetPending(const std::string& bundle, const std::string& cluster_id,
                  const std::string& cluster_name);
  // Forgets (bundle, cluster_id); no-op when unknown.
  void Remove(const std::string& bundle, const std::string& cluster_id);

  // Empty summaries for unknown names.
  BundleSummary Bundle(const std::string& bundle) const;
  BundleSummary GitRepo(const std::string& gitrepo) const;
  BundleSummary Cluster(const std::string& cluster_id) const;

  // {clusters where every one of its deployments is Ready, clusters it has
  // deployments on}: status.readyClusters / desiredReadyClusters.
  std::pair<int, int> GitRepoReadyClusters(const std::string& gitrepo) const;
  GitRepoDisplay GitRepoDisplayOf(const std::string& gitrepo, bool git_job_current) const;
  // {GitRepos whose every deployment on the cluster is Ready, GitRepos with
  // deployments on it}: status.readyGitRepos / desiredReadyGitRepos.
  std::pair<int, int> ClusterReadyGitRepos(const std::string& cluster_id) const;

  size_t size() const { return entries_.size(); }

 private:
  using EntryKey = std::pair<std::string, std::string>;  // bundle, cluster_id
  // (order, bundle, cluster_id); order is the cluster name, or "" where
  // entries are ordered by bundle.
  using OrderKey = std::tuple<std::string, std::string, std::string>;
  // (-rank, order key): the first is the worst, earliest entry.
  using WorstKey = std::pair<int, OrderKey>;

  struct Entry {
    DeploymentSummaryInput input;
    bool pending = false;  // a target without a deployment: bundle only
  };
  struct Aggregate {
    BundleSummary counts;  // counters only; entries come from non_ready
    absl::btree_set<OrderKey> non_ready;
    absl::btree_set<WorstKey> worst;  // GitRepos only
    int ready_members = 0;            // GitRepo: ready clusters; Cluster: ready GitRepos
    int members = 0;                  // GitRepo: clusters; Cluster: GitRepos
  };
  // One GitRepo's deployments on one cluster.
  struct Cell {
    int deployments = 0;
    int ready = 0;
  };
  enum class Kind { kBundle, kGitRepo, kCluster };

  void Add(const Entry& entry, int sign);
  void Apply(Aggregate& agg, Kind kind, const Entry& entry, int sign);
  void ApplyCell(const Entry& entry, int sign);
  BundleSummary Materialize(const absl::btree_map<std::string, Aggregate>& aggs,
                            const std::string& name, Kind kind) const;

  absl::btree_map<EntryKey, Entry> entries_;
  absl::btree_map<std::string, Aggregate> bundles_;
  absl::btree_map<std::string, Aggregate> gitrepos_;
  absl::btree_map<std::string, Aggregate> clusters_;
  absl::btree_map<std::pair<std::string, std::string>, Cell> cells_;  // gitrepo, cluster_id
};

}  // namespace flotilla::manager
