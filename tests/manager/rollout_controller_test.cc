// Staged rollouts through the controller (FLEET-SEMANTICS.md §6): a new
// commit stages a new deploymentID on every cluster, and the rollout
// releases it cluster by cluster as agents report readiness. Each scenario
// replays one of Fleet's rules and asserts, after every readiness change,
// exactly which clusters were told to run the new deploymentID.
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "flotilla/v1/agent.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/store/sqlite_store.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using flotilla::testing::TempDir;
using flotilla::testing::TestGitRepo;
using Names = std::set<std::string>;
namespace v1 = flotilla::v1;

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

void RequireOk(const absl::Status& status) {
  INFO(status.ToString());
  REQUIRE(status.ok());
}

constexpr char kBundle[] = "rollout-app";

// One bundle, app/, in GitRepo "rollout", targeting every env=prod cluster;
// each Commit changes its ConfigMap, so its deploymentID.
class RolloutFixture {
 public:
  RolloutFixture() {
    store_ = Unwrap(SqliteStore::Open(tmp_.Sub("flotilla.db")));
    ControllerOptions options;
    options.git_cache_dir = tmp_.Sub("git-cache");
    options.offline_after = absl::Minutes(10);
    controller_ = std::make_unique<FleetController>(store_.get(), &clock_, options);
    RequireOk(controller_->Load());
  }

  FleetController& controller() { return *controller_; }
  common::SimulatedClock& clock() { return clock_; }

  // Clusters c0..c<n-1>, env=prod, plus `extra` labels on each.
  void AddClusters(int n,
                   const std::map<std::string, std::map<std::string, std::string>>& extra = {}) {
    for (int i = 0; i < n; ++i) AddCluster(absl::StrCat("c", i), extra);
  }

  void AddCluster(const std::string& name,
                  const std::map<std::string, std::map<std::string, std::string>>& extra = {}) {
    ClusterRecord c;
    c.id = name;
    c.name = name;
    c.labels = {{"env", "prod"}};
    if (auto it = extra.find(name); it != extra.end()) {
      for (const auto& [k, v] : it->second) c.labels[k] = v;
    }
    c.created = clock_.Now();
    RequireOk(store_->Write([&](Tx& tx) { return tx.InsertCluster(c); }));
    RequireOk(controller_->AddCluster(c));
  }

  // Commits app/ with `rollout_strategy` (YAML under rolloutStrategy:) and
  // ConfigMap value `version`, then syncs.
  void Deploy(const std::string& version, const std::string& rollout_strategy,
              const std::string& more_fleet_yaml = "") {
    std::string fleet_yaml = "defaultNamespace: app\n" + more_fleet_yaml;
    if (!rollout_strategy.empty())
      absl::StrAppend(&fleet_yaml, "rolloutStrategy:\n", rollout_strategy);
    repo_.WriteFile("app/fleet.yaml", fleet_yaml);
    repo_.WriteFile("app/cm.yaml", absl::StrCat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n"
                                                "  name: app\ndata:\n  version: ",
                                                version, "\n"));
    repo_.Commit("app " + version);
    if (!applied_) {
      Unwrap(controller_->ApplyGitRepo(absl::StrCat("apiVersion: fleet.cattle.io/v1alpha1\n"
                                                    "kind: GitRepo\nmetadata:\n  name: rollout\n"
                                                    "spec:\n  repo: ",
                                                    repo_.dir(),
                                                    "\n  branch: main\n  targets:\n"
                                                    "  - clusterSelector:\n"
                                                    "      matchLabels: {env: prod}\n"),
                                       "token:test"));
      applied_ = true;
    }
    RequireOk(controller_->SyncGitRepo("rollout"));
  }

  std::map<std::string, BundleDeploymentRecord> Bds() {
    std::map<std::string, BundleDeploymentRecord> out;
    for (auto& bd : controller_->BundleDeployments()) {
      if (bd.bundle == kBundle) out[bd.cluster_id] = bd;
    }
    return out;
  }

  // The clusters told to run the staged (newest) deploymentID.
  Names Released() {
    Names out;
    for (const auto& [cid, bd] : Bds()) {
      if (!bd.deployment_id.empty() && bd.deployment_id == bd.staged_deployment_id) {
        out.insert(cid);
      }
    }
    return out;
  }

  // The agent on `cluster` reports `state` for what it was told to run.
  void Report(const std::string& cluster, v1::BundleDeploymentState state) {
    const BundleDeploymentRecord bd = Bds().at(cluster);
    v1::BundleDeploymentStatus s;
    s.set_bundle_deployment_id(kBundle);
    s.set_applied_deployment_id(bd.deployment_id);
    s.set_state(state);
    s.set_ready(state == v1::READY);
    RequireOk(controller_->ReportStatus(cluster, {s}));
  }

  // Every cluster applied what it runs and is Ready.
  void AllReady() {
    for (const auto& [cid, bd] : Bds()) Report(cid, v1::READY);
  }

  void Pause(const std::string& cluster, bool paused) {
    Unwrap(controller_->ApplyClusterSettings(
        absl::StrCat(
            "apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: ", cluster,
            "\n  labels: {env: prod}\nspec: {paused: ", paused ? "true" : "false", "}\n"),
        "token:test"));
  }

 private:
  TempDir tmp_;
  TestGitRepo repo_{tmp_.Sub("repo")};
  common::SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<FleetController> controller_;
  bool applied_ = false;
};

// A first deployment is never held: a new BundleDeployment is unavailable,
// and unavailable targets bypass every limit.
TEST_CASE("A new bundle reaches every cluster at once whatever maxUnavailable says",
          "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(4);
  f.Deploy("v1", "  maxUnavailable: 1\n");
  CHECK(f.Released() == Names{"c0", "c1", "c2", "c3"});
  for (const auto& [cid, bd] : f.Bds()) CHECK(EffectiveState(bd) == v1::WAIT_APPLIED);
}

// maxUnavailable as an int: at most that many clusters update at a time;
// each cluster that reports Ready on the new deployment lets the next go.
TEST_CASE("maxUnavailable 2 releases two clusters, then one per Ready report",
          "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(5);
  f.Deploy("v1", "  maxUnavailable: 2\n");
  f.AllReady();
  f.Deploy("v2", "  maxUnavailable: 2\n");
  CHECK(f.Released() == Names{"c0", "c1"});
  CHECK(EffectiveState(f.Bds().at("c2")) == v1::OUT_OF_SYNC);
  CHECK(EffectiveState(f.Bds().at("c0")) == v1::WAIT_APPLIED);

  f.Report("c0", v1::NOT_READY);  // applied, not ready: still unavailable
  CHECK(f.Released() == Names{"c0", "c1"});
  f.Report("c0", v1::READY);
  CHECK(f.Released() == Names{"c0", "c1", "c2"});
  f.Report("c1", v1::READY);
  CHECK(f.Released() == Names{"c0", "c1", "c2", "c3"});
  f.Report("c2", v1::READY);
  f.Report("c3", v1::READY);
  CHECK(f.Released() == Names{"c0", "c1", "c2", "c3", "c4"});
  f.Report("c4", v1::READY);
  for (const auto& [cid, bd] : f.Bds()) CHECK(EffectiveState(bd) == v1::READY);
}

// maxUnavailable 0 (Fleet clamps the int to [0, count]): no available
// cluster is ever updated; one that becomes unavailable is, since it is
// down anyway.
TEST_CASE("maxUnavailable 0 updates only clusters that are already unavailable",
          "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(3);
  f.Deploy("v1", "  maxUnavailable: 0\n");
  f.AllReady();
  f.Deploy("v2", "  maxUnavailable: 0\n");
  CHECK(f.Released().empty());
  f.Report("c1", v1::NOT_READY);
  CHECK(f.Released() == Names{"c1"});
  f.Report("c1", v1::READY);
  CHECK(f.Released() == Names{"c1"});
}

// Percentages: floor(count * p / 100) with a minimum of 1.
TEST_CASE("maxUnavailable as a percentage rounds down with a minimum of one",
          "[rollout-controller]") {
  SECTION("25% of 8 is 2") {
    RolloutFixture f;
    f.AddClusters(8);
    f.Deploy("v1", "  maxUnavailable: 25%\n");
    f.AllReady();
    f.Deploy("v2", "  maxUnavailable: 25%\n");
    CHECK(f.Released() == Names{"c0", "c1"});
    f.Report("c0", v1::READY);
    CHECK(f.Released() == Names{"c0", "c1", "c2"});
  }
  SECTION("10% of 5 is 0, so 1") {
    RolloutFixture f;
    f.AddClusters(5);
    f.Deploy("v1", "  maxUnavailable: 10%\n");
    f.AllReady();
    f.Deploy("v2", "  maxUnavailable: 10%\n");
    CHECK(f.Released() == Names{"c0"});
    f.Report("c0", v1::READY);
    CHECK(f.Released() == Names{"c0", "c1"});
  }
}

// Manual partitions in order; with maxUnavailablePartitions 0 (the default)
// a partition with more than its maxUnavailable clusters not up to date or
// not ready stops the rollout there: a NotReady cluster halts it.
TEST_CASE("A NotReady cluster in a partition halts the partitions after it",
          "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(4, {{"c0", {{"ring", "a"}}},
                    {"c1", {{"ring", "a"}}},
                    {"c2", {{"ring", "b"}}},
                    {"c3", {{"ring", "b"}}}});
  const std::string strategy =
      "  partitions:\n"
      "  - name: ring-a\n    maxUnavailable: 1\n    clusterSelector: {matchLabels: {ring: a}}\n"
      "  - name: ring-b\n    clusterSelector: {matchLabels: {ring: b}}\n";
  f.Deploy("v1", strategy);
  f.AllReady();
  f.Deploy("v2", strategy);
  // ring-a: one may be unavailable; after c0 both are not up to date (2 > 1):
  // ring-a is unavailable and ring-b waits.
  CHECK(f.Released() == Names{"c0"});
  f.Report("c0", v1::NOT_READY);
  CHECK(f.Released() == Names{"c0"});
  f.Report("c0", v1::READY);
  // c1 goes; ring-a has 1 not up to date, which its limit allows: ring-b
  // (maxUnavailable falls back to the global 100%) goes entirely.
  CHECK(f.Released() == Names{"c0", "c1", "c2", "c3"});
  auto plan = f.controller().RolloutOf(kBundle);
  REQUIRE(plan.has_value());
  REQUIRE(plan->partitions.size() == 2);
  CHECK(plan->partitions[0].name == "ring-a");
  CHECK(plan->partitions[0].max_unavailable == 1);
  CHECK(plan->partitions[1].name == "ring-b");
  CHECK(plan->partitions[1].max_unavailable == 2);
}

// maxUnavailablePartitions 1: one partition may be unavailable and the
// next still proceeds.
TEST_CASE("maxUnavailablePartitions 1 lets the next partition proceed", "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(4, {{"c0", {{"ring", "a"}}},
                    {"c1", {{"ring", "a"}}},
                    {"c2", {{"ring", "b"}}},
                    {"c3", {{"ring", "b"}}}});
  const std::string strategy =
      "  maxUnavailablePartitions: 1\n"
      "  partitions:\n"
      "  - name: ring-a\n    maxUnavailable: 1\n    clusterSelector: {matchLabels: {ring: a}}\n"
      "  - name: ring-b\n    maxUnavailable: 1\n    clusterSelector: {matchLabels: {ring: b}}\n";
  f.Deploy("v1", strategy);
  f.AllReady();
  f.Deploy("v2", strategy);
  CHECK(f.Released() == Names{"c0", "c2"});
  f.Report("c2", v1::READY);
  CHECK(f.Released() == Names{"c0", "c2", "c3"});
}

// Fleet: a cluster that matches no manual partition never gets the bundle.
TEST_CASE("A cluster in no partition is never rolled out to", "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(3, {{"c0", {{"ring", "a"}}}, {"c1", {{"ring", "a"}}}});
  const std::string strategy =
      "  partitions:\n  - name: ring-a\n    clusterSelector: {matchLabels: {ring: a}}\n";
  f.Deploy("v1", strategy);
  CHECK(f.Released() == Names{"c0", "c1"});
  CHECK(f.Bds().count("c2") == 0);
}

// Automatic partitions: above autoPartitionThreshold, clusters in name order
// are cut into autoPartitionSize chunks; one unavailable chunk stops the
// next.
TEST_CASE("Automatic partitions roll out one chunk at a time", "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(4);
  const std::string strategy =
      "  autoPartitionThreshold: 2\n  autoPartitionSize: 2\n  maxUnavailable: 1\n";
  f.Deploy("v1", strategy);
  // A first deployment goes chunk by chunk too: c2 and c3 are created once
  // no more than one of the first chunk is unavailable.
  CHECK(f.Released() == Names{"c0", "c1"});
  CHECK(f.Bds().count("c2") == 0);
  f.Report("c0", v1::READY);
  CHECK(f.Released() == Names{"c0", "c1", "c2", "c3"});
  f.AllReady();
  f.Deploy("v2", strategy);
  // Partition 0 - 2 (c0, c1), limit 1: c0; 2 not up to date > 1: stop.
  CHECK(f.Released() == Names{"c0"});
  f.Report("c0", v1::READY);
  CHECK(f.Released() == Names{"c0", "c1"});
  f.Report("c1", v1::READY);
  CHECK(f.Released() == Names{"c0", "c1", "c2"});
  auto plan = f.controller().RolloutOf(kBundle);
  REQUIRE(plan.has_value());
  REQUIRE(plan->partitions.size() == 2);
  CHECK(plan->partitions[0].name == "Partition 0 - 2");
  CHECK(plan->partitions[1].name == "Partition 2 - 4");
}

// A paused cluster keeps its deployment staged (OutOfSync) and does not
// count against the others; resumed, it is released.
TEST_CASE("A paused cluster stays OutOfSync until resumed", "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(3);
  f.Deploy("v1", "");
  f.AllReady();
  f.Pause("c1", true);
  f.Deploy("v2", "");
  CHECK(f.Released() == Names{"c0", "c2"});
  CHECK(EffectiveState(f.Bds().at("c1")) == v1::OUT_OF_SYNC);
  f.Pause("c1", false);
  CHECK(f.Released() == Names{"c0", "c1", "c2"});
  CHECK(EffectiveState(f.Bds().at("c1")) == v1::WAIT_APPLIED);
}

// fleet.yaml paused: every cluster stays on its deployment, staged;
// unpaused, the rollout releases it.
TEST_CASE("A paused bundle stages but releases nothing until unpaused", "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(2);
  f.Deploy("v1", "");
  f.AllReady();
  f.Deploy("v2", "", "paused: true\n");
  CHECK(f.Released().empty());
  for (const auto& [cid, bd] : f.Bds()) CHECK(EffectiveState(bd) == v1::OUT_OF_SYNC);
  f.Deploy("v2", "");
  CHECK(f.Released() == Names{"c0", "c1"});
}

// Flotilla's offline handling: a cluster that took the new deployment and
// then went silent stalls a maxUnavailable 1 rollout, as in Fleet; with
// excludeOfflineClusters it stops counting once it is offline, and the
// rollout moves on.
TEST_CASE("An offline cluster stalls a rollout unless the bundle excludes offline clusters",
          "[rollout-controller]") {
  for (const bool exclude : {false, true}) {
    INFO("excludeOfflineClusters: " << exclude);
    RolloutFixture f;
    f.AddClusters(3);
    const std::string strategy =
        absl::StrCat("  maxUnavailable: 1\n", exclude ? "  excludeOfflineClusters: true\n" : "");
    f.Deploy("v1", strategy);
    f.AllReady();
    f.Deploy("v2", strategy);
    CHECK(f.Released() == Names{"c0"});
    // c0 never answers; the others keep reporting.
    f.clock().Advance(absl::Minutes(11));
    f.Report("c1", v1::READY);
    f.Report("c2", v1::READY);
    CHECK(f.controller().Offline("c0"));
    CHECK_FALSE(f.controller().Offline("c1"));
    f.controller().CheckOffline();
    if (exclude) {
      CHECK(f.Released() == Names{"c0", "c1"});
      f.Report("c1", v1::READY);
      CHECK(f.Released() == Names{"c0", "c1", "c2"});
    } else {
      CHECK(f.Released() == Names{"c0"});
    }
  }
}

// maxNew batches the creation of new BundleDeployments; every target is
// still created in one pass, as Fleet's next reconciles would.
TEST_CASE("maxNew batches creation without leaving targets out", "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(5);
  f.Deploy("v1", "  maxNew: 2\n");
  CHECK(f.Released() == Names{"c0", "c1", "c2", "c3", "c4"});
}

// A cluster that joins mid-rollout gets the newest deployment at once (new
// deployments are unavailable and bypass the limits).
TEST_CASE("A cluster joining during a rollout gets the new deployment at once",
          "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(3);
  f.Deploy("v1", "  maxUnavailable: 1\n");
  f.AllReady();
  f.Deploy("v2", "  maxUnavailable: 1\n");
  CHECK(f.Released() == Names{"c0"});
  f.AddCluster("c9");
  CHECK(f.Released() == Names{"c0", "c9"});
}

// A rolloutStrategy Fleet would not accept is a bundle error naming the
// field, and what clusters run stays as it was.
TEST_CASE("A malformed rolloutStrategy is a bundle error naming the field",
          "[rollout-controller]") {
  RolloutFixture f;
  f.AddClusters(2);
  f.Deploy("v1", "");
  const auto before = f.Bds();
  f.Deploy("v2", "  maxUnavailable: lots\n");
  std::string error;
  for (const auto& b : f.controller().Bundles()) {
    if (b.name == kBundle) error = b.error;
  }
  CHECK_THAT(error, Catch::Contains("rolloutStrategy.maxUnavailable"));
  CHECK_THAT(error, Catch::Contains("lots"));
  for (const auto& [cid, bd] : f.Bds()) CHECK(bd.deployment_id == before.at(cid).deployment_id);
}

}  // namespace
}  // namespace flotilla::manager

namespace flotilla::manager {
namespace {

// The summaries follow every state transition of a rollout, at every level:
// bundle (per cluster), GitRepo, cluster, with Fleet's Ready message.
TEST_CASE("Summaries follow a rollout through every state", "[rollout-controller][summary]") {
  RolloutFixture f;
  f.AddClusters(3);
  f.Deploy("v1", "  maxUnavailable: 1\n");
  BundleSummary s = f.controller().BundleSummaryOf(kBundle);
  CHECK(s.wait_applied == 3);
  CHECK(s.desired_ready == 3);
  CHECK(ReadyMessage(s, "Cluster") == "WaitApplied(3) [Cluster c0]");
  CHECK(f.controller().ClusterSummaryOf("c0").wait_applied == 1);

  f.AllReady();
  s = f.controller().BundleSummaryOf(kBundle);
  CHECK(s.ready == 3);
  CHECK(IsReady(s));
  CHECK(ReadyMessage(s, "Cluster").empty());
  CHECK(f.controller().GitRepoReadyClusters("rollout") == std::pair<int, int>{3, 3});
  CHECK(f.controller().ClusterReadyGitRepos("c1") == std::pair<int, int>{1, 1});

  f.Deploy("v2", "  maxUnavailable: 1\n");
  s = f.controller().BundleSummaryOf(kBundle);
  CHECK(s.wait_applied == 1);
  CHECK(s.out_of_sync == 2);
  CHECK(s.ready == 0);
  CHECK(ReadyMessage(s, "Cluster") == "OutOfSync(2) [Cluster c1]; WaitApplied(1) [Cluster c0]");
  CHECK(SummaryState(s) == v1::WAIT_APPLIED);

  f.Report("c0", v1::NOT_READY);
  s = f.controller().BundleSummaryOf(kBundle);
  CHECK(s.not_ready == 1);
  CHECK(s.out_of_sync == 2);
  BundleSummary repo = f.controller().GitRepoSummaryOf("rollout");
  CHECK(repo.not_ready == 1);
  CHECK(repo.desired_ready == 3);
  CHECK(f.controller().GitRepoReadyClusters("rollout") == std::pair<int, int>{0, 3});

  f.Report("c0", v1::MODIFIED);
  s = f.controller().BundleSummaryOf(kBundle);
  CHECK(s.modified == 1);
  CHECK(s.wait_applied == 1);  // c1 released
  CHECK(s.out_of_sync == 1);

  f.AllReady();
  s = f.controller().BundleSummaryOf(kBundle);
  CHECK(s.ready == 3);
  CHECK(f.controller().ClusterSummaryOf("c2").ready == 1);
}

}  // namespace
}  // namespace flotilla::manager
