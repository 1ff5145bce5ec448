// FleetController: the manager's pipeline and its in-memory view of the fleet.
//
//   GitRepo -> fetch (GitRepository) -> scan (ScanCommit) -> store bundles
//           -> target (DecideTarget per cluster) -> render once per distinct
//              (bundle, options) -> BundleDeployments -> notify agent streams
//
// The store is the source of truth; the controller loads it at start and
// writes every change through it (one transaction per commit scan, per label
// change, per status batch) before updating its memory, so a crash leaves each
// bundle wholly old or wholly new.
//
// Threading: public methods are thread-safe. Git fetches run outside the lock;
// everything else is serialised on mu_. Listeners are called without mu_ held.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/fleet/bundle_spec.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/fleet/rollout.h"
#include "common/helm/chart_source.h"
#include "common/render/kustomize.h"
#include "common/scan/scanner.h"
#include "flotilla/v1/agent.pb.h"
#include "manager/source/git_repository.h"
#include "manager/status/summary.h"
#include "manager/store/store.h"
#include "manager/webhook/webhook.h"

namespace flotilla::manager {

using common::ScanCommit;
using common::ScanLimits;
using common::ScannedBundle;

// What one cluster should run: bundle_deployment_id -> assignment. Immutable
// once published; replaced wholesale when anything changes.
struct ClusterAssignments {
  std::map<std::string, flotilla::v1::Assignment> by_id;
};

struct ControllerOptions {
  std::string git_cache_dir;
  absl::Duration fetch_timeout = absl::Minutes(2);
  ScanLimits scan_limits;
  // kustomize.dir bundles: the tool ("" searches PATH for kustomize, then
  // kubectl) and how long one build may take.
  common::KustomizeOptions kustomize;
  // Charts from URLs and chart repositories: mirrors, timeout, size cap.
  common::helm::ChartSourceOptions chart_source;
  // A cluster with no agent stream and no contact for this long is
  // reported Offline; bundles with rolloutStrategy.excludeOfflineClusters
  // leave it out of their unavailable count.
  absl::Duration offline_after = absl::Minutes(10);
};

// The effective state of a BundleDeployment as Fleet's GetDeploymentState
// gives it (FLEET-SEMANTICS.md §4): not yet applied -> WaitApplied
// (ErrApplied if the agent reported an error); not ready -> NotReady; a
// staged deployment not yet released (rollout or pause) -> OutOfSync; else
// the agent's Modified or Ready. What the API shows and what dependsOn
// checks.
flotilla::v1::BundleDeploymentState EffectiveState(const BundleDeploymentRecord& bd);

class FleetController {
 public:
  FleetController(Store* store, const common::Clock* clock, ControllerOptions options);
  ~FleetController();

  // Loads GitRepos, bundles, clusters and BundleDeployments from the store.
  absl::Status Load();

  // --- GitRepos ---------------------------------------------------------
  enum class ApplyOutcome { kCreated, kConfigured, kUnchanged };
  // Validates and stores a Fleet GitRepo document; a new or changed spec is
  // synced at the next PollDue. The same document as stored writes nothing.
  // Returns the stored record; `outcome`, if given, says which case it was.
  absl::StatusOr<GitRepoRecord> ApplyGitRepo(const std::string& yaml, const std::string& actor,
                                             ApplyOutcome* outcome = nullptr);
  // Fetches, scans and targets one GitRepo now. A fetch or scan failure is
  // recorded in the GitRepo status and returned; bundles already deployed
  // stay as they are.
  absl::Status SyncGitRepo(const std::string& name);
  // Syncs every GitRepo whose polling interval (with 10% jitter) has passed.
  void PollDue();
  // Time until the next GitRepo is due (for the poller's wait).
  absl::Duration NextPollIn();
  // Blocks until a GitRepo was applied (so it should be fetched now) or
  // `max` passes.
  void WaitForPollWork(absl::Duration max);

  // --- Objects applied by operators (fleet_controller_objects.cc) ---------
  // Fleet ClusterGroup YAML: a named selector; clusterGroup and
  // clusterGroupSelector targets match through it.
  absl::StatusOr<ApplyOutcome> ApplyClusterGroup(const std::string& yaml, const std::string& actor);
  // Fleet Cluster YAML for a registered cluster (by name): replaces its
  // labels and annotations, sets paused and templateValues.
  absl::StatusOr<ApplyOutcome> ApplyClusterSettings(const std::string& yaml,
                                                    const std::string& actor);
  // A Kubernetes Secret (basic-auth, ssh-auth, Opaque): credentials the
  // manager uses; GitRepos that name it are fetched again.
  absl::StatusOr<ApplyOutcome> ApplySecret(const std::string& yaml, const std::string& actor);
  // Removes the GitRepo, its bundles and their BundleDeployments (agents
  // delete the objects unless keepResources).
  absl::Status DeleteGitRepo(const std::string& name, const std::string& actor);
  absl::Status DeleteClusterGroup(const std::string& name, const std::string& actor);
  absl::Status DeleteSecret(const std::string& name, const std::string& actor);
  // Pause or resume: a GitRepo's spec.paused (its document is rewritten and
  // re-applied) or a cluster's paused. Returns false when it already was.
  absl::StatusOr<bool> SetGitRepoPaused(const std::string& name, bool paused,
                                        const std::string& actor);
  absl::StatusOr<bool> SetClusterPaused(const std::string& id_or_name, bool paused,
                                        const std::string& actor);
  // Makes the GitRepo due for a fetch and a scan now, even at an unchanged
  // commit (the poller runs it).
  absl::Status RequestResync(const std::string& name, const std::string& actor);
  // Marks the cluster revoked (the registrar refuses its certificate) and
  // removes its deployments. Revoking twice is not an error.
  absl::StatusOr<ClusterRecord> RevokeCluster(const std::string& id_or_name,
                                              const std::string& actor);
  std::vector<ClusterGroupRecord> ClusterGroups();
  // The names of the clusters in a group, sorted.
  std::vector<std::string> ClusterGroupMembers(const std::string& group);
  // Every secret with its data cleared.
  absl::StatusOr<std::vector<SecretRecord>> SecretsWithoutValues();

  // --- Webhooks (fleet_controller_webhook.cc) -----------------------------
  // A Git push event: verifies it against the matching GitRepos' webhook
  // secrets and makes each verified match due for a fetch now. Errors as
  // HandleWebhook (manager/webhook/webhook.h): InvalidArgument for a bad
  // request, Unauthenticated for a bad signature (nothing changes).
  absl::StatusOr<WebhookOutcome> HandleWebhook(const WebhookRequest& request);

  // --- Clusters ----------------------------------------------------------
  absl::Status AddCluster(const ClusterRecord& cluster);
  absl::StatusOr<ClusterRecord> LabelCluster(const std::string& id_or_name,
                                             const std::map<std::string, std::string>& set,
                                             const std::vector<std::string>& remove,
                                             const std::string& actor);
  std::optional<ClusterRecord> GetCluster(const std::string& id);
  std::optional<ClusterRecord> FindCluster(const std::string& id_or_name);
  // Stores a changed cluster, with `audit` (if given) in the same transaction.
  absl::Status UpdateCluster(const ClusterRecord& cluster, const AuditEventRecord* audit = nullptr);
  void SetConnected(const std::string& cluster_id, bool connected, const std::string& version);
  void Heartbeat(const std::string& cluster_id);
  // Notes clusters that went offline or came back (ControllerOptions::
  // offline_after) and lets rollouts that exclude offline clusters move on.
  // The manager calls it from its poll loop.
  void CheckOffline();
  bool Offline(const std::string& cluster_id);
  // The last rollout plan of a bundle (partitions, unavailable counts).
  std::optional<common::RolloutPlan> RolloutOf(const std::string& bundle);

  // --- Agents ------------------------------------------------------------
  std::shared_ptr<const ClusterAssignments> AssignmentsFor(const std::string& cluster_id);
  // Rendered manifest YAML by content hash.
  absl::StatusOr<std::string> Content(const std::string& hash);
  absl::Status ReportStatus(const std::string& cluster_id,
                            const std::vector<flotilla::v1::BundleDeploymentStatus>& statuses);
  // Called (without locks held) with the ids of clusters whose assignments
  // changed.
  void SetAssignmentListener(std::function<void(const std::vector<std::string>&)> listener);

  // --- Status summaries (fleet_controller_status.cc) ----------------------
  // Fleet's summaries, kept up to date on every change (manager/status).
  BundleSummary BundleSummaryOf(const std::string& bundle);
  BundleSummary GitRepoSummaryOf(const std::string& gitrepo);
  BundleSummary ClusterSummaryOf(const std::string& cluster_id);
  // {clusters where all of the GitRepo's deployments are Ready, clusters
  // it deploys to}.
  std::pair<int, int> GitRepoReadyClusters(const std::string& gitrepo);
  // {GitRepos all Ready on the cluster, GitRepos deploying to it}.
  std::pair<int, int> ClusterReadyGitRepos(const std::string& cluster_id);
  GitRepoDisplay GitRepoDisplayOf(const std::string& gitrepo);
  // NotFound for an unknown group.
  absl::StatusOr<ClusterGroupSummary> ClusterGroupSummaryOf(const std::string& group);

  // --- Reads for the API --------------------------------------------------
  std::vector<GitRepoRecord> GitRepos();
  std::vector<BundleRecord> Bundles();
  std::vector<ClusterRecord> Clusters();
  std::vector<BundleDeploymentRecord> BundleDeployments();
  bool connected(const std::string& cluster_id);
  // Why the GitRepo's last fetch failed ("" when it worked): its GitPolling
  // condition.
  std::string FetchError(const std::string& gitrepo);
  size_t connected_count();

 private:
  struct RepoState {
    GitRepoRecord record;
    common::GitRepoSpec spec;
    absl::Time next_poll = absl::InfinitePast();
    // What the last successful scan saw; an unchanged commit and spec skip
    // the scan.
    std::string scanned_commit;
    int64_t scanned_generation = 0;
    // The next sync scans even an unchanged commit (after a failed fetch, or
    // when the credentials changed).
    bool force_rescan = false;
    // Why the last fetch failed; "" when it succeeded (or none ran since
    // the manager started).
    std::string fetch_error;
  };
  // disablePolling: fetched once per spec generation, and when a webhook
  // (or new credentials) makes it due at once.
  static bool PollingDisabled(const RepoState& st) {
    return st.spec.disable_polling && !st.record.applied_commit.empty() &&
           st.scanned_generation == st.record.generation && st.next_poll != absl::InfinitePast();
  }
  struct BundleState {
    BundleRecord record;
    common::BundleSpec spec;
    std::shared_ptr<const std::map<std::string, std::string>> files;  // path -> content
    std::string files_key;  // hash over the files: part of the render cache key
  };
  struct GroupState {
    ClusterGroupRecord record;
    common::ClusterGroupView view;
  };
  struct RenderCacheEntry {
    std::string content_hash;
    std::string error;
  };

  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status ApplyScan(const std::string& repo_name, const std::string& commit,
                         std::vector<ScannedBundle> scanned);
  // Why bundle `b` may not get a new deployment on `cluster_id` yet (its
  // dependsOn entries not in an accepted state there); "" when it may
  // (fleet_controller_depends.cc).
  // Stores the reports; `progressed` gets the bundles whose deployment here
  // changed its applied deployment or readiness.
  absl::Status ReportStatusLocked(const std::string& cluster_id,
                                  const std::vector<flotilla::v1::BundleDeploymentStatus>& statuses,
                                  std::set<std::string>* progressed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // One dependsOn entry resolved on a cluster: the bundles there it names,
  // the states it accepts, or why it names none.
  struct DependencyEntry {
    std::vector<std::string> bundles;
    std::set<int> accepted;
    std::string error;
  };
  std::vector<DependencyEntry> DependenciesOf(const BundleState& b, const std::string& cluster_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // "" when every dependency of `b` on the cluster is in an accepted state;
  // else the message naming those that are not.
  std::string PendingDependencies(const BundleState& b, const std::string& cluster_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds the resolved dependencies to what the agent gets.
  void ResolveDependencies(const BundleState& b, const std::string& cluster_id,
                           flotilla::v1::DeploymentOptions* options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Downloads the remote charts a scanned bundle names (root options and
  // each customization) into its files, rewriting helm.chart to them.
  absl::Status AddRemoteCharts(const common::GitRepoSpec& spec, ScannedBundle& sb);
  // Git credentials and TLS settings of a GitRepo (its clientSecretName read
  // from the store, caBundle, insecureSkipTLSVerify).
  absl::StatusOr<GitAuth> GitAuthFor(const common::GitRepoSpec& spec);
  // A secret from the store (nullopt when there is none of that name).
  absl::StatusOr<std::optional<SecretRecord>> ReadSecret(const std::string& name);
  void RecordRepoError(const std::string& repo_name, const std::string& commit,
                       const std::string& error);
  // Recomputes BundleDeployments for the given bundles (all if empty) on the
  // given clusters (all if empty), persists the difference and returns the
  // clusters whose assignments changed.
  absl::StatusOr<std::set<std::string>> Retarget(const std::set<std::string>& bundles,
                                                 const std::set<std::string>& clusters)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A cluster by id or name; NotFound naming what was asked for.
  absl::StatusOr<ClusterRecord*> FindClusterLocked(const std::string& id_or_name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records a pass writes, by (bundle, cluster id).
  using BdWrites = std::map<std::pair<std::string, std::string>, BundleDeploymentRecord>;
  // Rollout (fleet_controller_rollout.cc): promotes the staged deployments
  // of `bundle` the rolloutStrategy allows now, and creates the staged ones
  // it lets in, into `writes`.
  void RollOutLocked(const std::string& bundle, BdWrites& writes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the bundle has staged deployments not yet running or created.
  bool NeedsRollOutLocked(const std::string& bundle) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool OfflineLocked(const ClusterRecord& c) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores `writes`, `deletes`, the contents they need and bundle render
  // errors in one transaction, then updates memory and publishes the
  // assignments of `changed` (the clusters whose running deployments
  // changed).
  absl::Status WriteBundleDeployments(
      const BdWrites& writes, const std::vector<std::pair<std::string, std::string>>& deletes,
      const std::set<std::string>& new_contents,
      const std::map<std::string, std::string>& bundle_errors, std::set<std::string>* changed)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The in-memory BundleDeployments and their indexes change only here.
  const BundleDeploymentRecord* FindBd(const std::string& bundle,
                                       const std::string& cluster_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PutBdLocked(BundleDeploymentRecord bd,
                   const flotilla::v1::BundleDeploymentStatus* status = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseBdLocked(const std::string& bundle, const std::string& cluster_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A staged BundleDeployment the rollout has not created yet (a Pending
  // target in the bundle's summary), and its removal.
  void StageUncreatedLocked(BundleDeploymentRecord bd) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropUncreatedLocked(const std::string& bundle, const std::string& cluster_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What the summaries count of a BundleDeployment; `status` is its last
  // report when the caller has it parsed (else read from status_json).
  DeploymentSummaryInput SummaryInputLocked(const BundleDeploymentRecord& bd,
                                            const flotilla::v1::BundleDeploymentStatus* status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::string> Render(const BundleState& b, const common::Json& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PublishAssignments(const std::set<std::string>& clusters) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Notify(const std::set<std::string>& clusters);
  // The cluster as targeting sees it, with its ClusterGroups.
  common::ClusterView ViewOf(const ClusterRecord& c) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stores the audit row of an operator action in its own transaction step.
  AuditEventRecord Audit(const std::string& actor, const std::string& action,
                         const std::string& resource, const std::string& details) const;

  Store* const store_;
  const common::Clock* const clock_;
  const ControllerOptions options_;

  absl::Mutex fetch_mu_;  // one fetch+scan at a time; taken before mu_
  absl::Mutex mu_;
  std::map<std::string, RepoState> repos_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, BundleState> bundles_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ClusterRecord> clusters_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, GroupState> groups_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> connected_ ABSL_GUARDED_BY(mu_);
  // cluster id -> bundle -> record
  std::map<std::string, std::map<std::string, BundleDeploymentRecord>> bds_ ABSL_GUARDED_BY(mu_);
  // bundle -> the clusters with one of its BundleDeployments.
  std::map<std::string, std::set<std::string>> bundle_clusters_ ABSL_GUARDED_BY(mu_);
  // bundle -> how many of its BundleDeployments have a staged deployment
  // not yet released.
  std::map<std::string, int> unpromoted_ ABSL_GUARDED_BY(mu_);
  // bundle -> cluster id -> a staged BundleDeployment the rollout has not
  // created yet (maxNew, or a cluster in no partition). Memory only: a
  // restart stages them again at the next targeting pass.
  std::map<std::string, std::map<std::string, BundleDeploymentRecord>> uncreated_
      ABSL_GUARDED_BY(mu_);
  // bundle -> its last rollout plan.
  std::map<std::string, common::RolloutPlan> rollouts_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> offline_ ABSL_GUARDED_BY(mu_);  // cluster ids
  // Every BundleDeployment's (and pending target's) part in the summaries.
  StatusIndex status_ ABSL_GUARDED_BY(mu_);
  bool second_pass_ ABSL_GUARDED_BY(mu_) = false;  // Retarget's dependsOn re-check
  // cluster id -> bundle -> why its new deployment is held (dependsOn).
  std::map<std::string, std::map<std::string, std::string>> held_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<const ClusterAssignments>> assignments_
      ABSL_GUARDED_BY(mu_);
  // (files_key + ":" + options hash) -> rendered content
  std::map<std::string, RenderCacheEntry> render_cache_ ABSL_GUARDED_BY(mu_);
  // Rendered YAML by content hash (also in the store).
  std::map<std::string, std::string> contents_ ABSL_GUARDED_BY(mu_);

  absl::Mutex wake_mu_;
  bool wake_ ABSL_GUARDED_BY(wake_mu_) = false;

  absl::Mutex listener_mu_;
  std::function<void(const std::vector<std::string>&)> listener_ ABSL_GUARDED_BY(listener_mu_);
};

}  // namespace flotilla::manager
