#include "manager/controller/fleet_controller.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/hash.h"
#include "flotilla/v1/agent.pb.h"
#include "manager/store/records.h"
#include "manager/store/sqlite_store.h"
#include "manager/store/store.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/static_http_server.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using flotilla::testing::TempDir;
using flotilla::testing::TestGitRepo;
using Ids = std::vector<std::string>;

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

std::string ConfigMap(const std::string& name, const std::string& value) {
  return absl::StrCat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ", name,
                      "\ndata:\n  key: ", value, "\n");
}

// web/ goes to every prod cluster, into namespace "web" except on clusters
// labelled region=eu ("web-eu"); db/ goes to every prod cluster.
constexpr char kWebFleetYaml[] = R"(defaultNamespace: web
targetCustomizations:
- name: eu
  clusterSelector:
    matchLabels:
      region: eu
  defaultNamespace: web-eu
)";

// A GitRepo "apps" on branch main of `repo_dir`, targeting clusters with
// env=prod.
std::string AppsGitRepo(const std::string& repo_dir, const std::string& extra_spec = "") {
  return absl::StrCat(R"(apiVersion: fleet.cattle.io/v1alpha1
kind: GitRepo
metadata:
  name: apps
spec:
  repo: )",
                      repo_dir, R"(
  branch: main
  targets:
  - name: prod
    clusterSelector:
      matchLabels:
        env: prod
)",
                      extra_spec);
}

// One-line summaries of records, so that whole states compare with ==
// and print readably when they differ.
std::string Describe(const BundleDeploymentRecord& r) {
  return absl::StrCat(
      r.bundle, "@", r.cluster_id, " id=", r.deployment_id, " content=", r.content_hash,
      " options=", r.options_json, " applied=", r.applied_deployment_id, " state=", r.state,
      " message=", r.message, " status=", r.status_json, " time=", absl::FormatTime(r.status_time),
      " staged=", r.staged_deployment_id, " staged_content=", r.staged_content_hash,
      " staged_options=", r.staged_options_json);
}

std::string Describe(const BundleRecord& r) {
  std::vector<std::string> labels;
  for (const auto& [k, v] : r.labels) labels.push_back(k + "=" + v);
  std::vector<std::string> resources;
  for (const auto& [p, h] : r.resources) resources.push_back(p + "=" + h);
  return absl::StrCat(r.name, " repo=", r.gitrepo, " path=", r.path, " commit=", r.commit,
                      " labels=", absl::StrJoin(labels, ","), " spec=", r.spec_json,
                      " resources=", absl::StrJoin(resources, ","), " error=", r.error);
}

std::string Describe(const GitRepoRecord& r) {
  return absl::StrCat(r.name, " gen=", r.generation, " commit=", r.commit,
                      " applied=", r.applied_commit, " error=", r.error,
                      " fetched=", absl::FormatTime(r.last_fetch), " spec=", r.spec_yaml);
}

std::string Describe(const ClusterRecord& r) {
  std::vector<std::string> labels;
  for (const auto& [k, v] : r.labels) labels.push_back(k + "=" + v);
  return absl::StrCat(r.id, " name=", r.name, " labels=", absl::StrJoin(labels, ","),
                      " seen=", absl::FormatTime(r.last_seen), " revoked=", r.revoked);
}

template <typename T>
std::vector<std::string> DescribeAll(const std::vector<T>& records) {
  std::vector<std::string> out;
  out.reserve(records.size());
  for (const T& r : records) out.push_back(Describe(r));
  std::sort(out.begin(), out.end());
  return out;
}

// A source repository, a SQLite store and a controller on a simulated clock.
// Clusters are registered as the Registrar does: inserted into the store,
// then handed to AddCluster.
class Fixture {
 public:
  Fixture() {
    store_ = Unwrap(SqliteStore::Open(tmp_.Sub("flotilla.db")));
    controller_ = NewController();
  }

  // A controller on the same store and cache, loaded from the store.
  std::unique_ptr<FleetController> NewController() {
    ControllerOptions options;
    options.git_cache_dir = tmp_.Sub("git-cache");
    options.fetch_timeout = absl::Seconds(30);
    auto controller = std::make_unique<FleetController>(store_.get(), &clock_, options);
    RequireOk(controller->Load());
    controller->SetAssignmentListener([this](const std::vector<std::string>& ids) {
      absl::MutexLock lock(&mu_);
      notifications_.push_back(ids);
    });
    return controller;
  }

  // Replaces the controller by a fresh one loaded from the same store.
  void Restart() {
    controller_.reset();
    controller_ = NewController();
  }

  FleetController& controller() { return *controller_; }
  TestGitRepo& repo() { return repo_; }
  Store& store() { return *store_; }
  common::SimulatedClock& clock() { return clock_; }
  const TempDir& tmp() const { return tmp_; }

  void Register(const std::string& id, const std::string& name,
                const std::map<std::string, std::string>& labels) {
    ClusterRecord c;
    c.id = id;
    c.name = name;
    c.labels = labels;
    c.created = clock_.Now();
    RequireOk(store_->Write([&](Tx& tx) { return tx.InsertCluster(c); }));
    RequireOk(controller_->AddCluster(c));
  }

  // The usual fleet: two prod clusters in the US, one in the EU, one dev.
  void RegisterFleet() {
    Register("c-us-1", "prod-us-1", {{"env", "prod"}, {"region", "us"}});
    Register("c-us-2", "prod-us-2", {{"env", "prod"}, {"region", "us"}});
    Register("c-eu-1", "prod-eu-1", {{"env", "prod"}, {"region", "eu"}});
    Register("c-dev-1", "dev-1", {{"env", "dev"}});
  }

  // Commits web/ and db/ bundles; returns the commit id.
  std::string CommitApps(const std::string& version = "v1") {
    repo_.WriteFile("web/fleet.yaml", kWebFleetYaml);
    repo_.WriteFile("web/cm.yaml", ConfigMap("web-config", version));
    repo_.WriteFile("db/fleet.yaml", "defaultNamespace: db\n");
    repo_.WriteFile("db/cm.yaml", ConfigMap("db-config", version));
    return repo_.Commit("apps " + version);
  }

  void ApplyApps(const std::string& extra_spec = "") {
    Unwrap(controller_->ApplyGitRepo(AppsGitRepo(repo_.dir(), extra_spec), "token:test"));
  }

  // Applies the GitRepo and syncs it, which must succeed.
  void ApplyAndSync() {
    ApplyApps();
    RequireOk(controller_->SyncGitRepo("apps"));
  }

  // bundle -> BundleDeployment on one cluster, from the controller's memory.
  std::map<std::string, BundleDeploymentRecord> BdsOn(const std::string& cluster_id) {
    std::map<std::string, BundleDeploymentRecord> out;
    for (auto& bd : controller_->BundleDeployments()) {
      if (bd.cluster_id == cluster_id) out[bd.bundle] = bd;
    }
    return out;
  }

  // "bundle@cluster" of every BundleDeployment, sorted.
  std::set<std::string> Placement() {
    std::set<std::string> out;
    for (const auto& bd : controller_->BundleDeployments()) {
      out.insert(bd.bundle + "@" + bd.cluster_id);
    }
    return out;
  }

  std::vector<BundleDeploymentRecord> StoredBundleDeployments() {
    std::vector<BundleDeploymentRecord> out;
    RequireOk(store_->Read([&](Tx& tx) -> absl::Status {
      auto list = tx.ListBundleDeployments();
      if (!list.ok()) return list.status();
      out = std::move(*list);
      return absl::OkStatus();
    }));
    return out;
  }

  std::vector<BundleRecord> StoredBundles() {
    std::vector<BundleRecord> out;
    RequireOk(store_->Read([&](Tx& tx) -> absl::Status {
      auto list = tx.ListBundles();
      if (!list.ok()) return list.status();
      out = std::move(*list);
      return absl::OkStatus();
    }));
    return out;
  }

  std::optional<GitRepoRecord> StoredGitRepo(const std::string& name) {
    std::optional<GitRepoRecord> out;
    RequireOk(store_->Read([&](Tx& tx) -> absl::Status {
      auto r = tx.GetGitRepo(name);
      if (!r.ok()) return r.status();
      out = std::move(*r);
      return absl::OkStatus();
    }));
    return out;
  }

  std::vector<AuditEventRecord> Audit() {
    std::vector<AuditEventRecord> out;
    RequireOk(store_->Read([&](Tx& tx) -> absl::Status {
      auto r = tx.ListAudit(0, 100);
      if (!r.ok()) return r.status();
      out = std::move(*r);
      return absl::OkStatus();
    }));
    return out;
  }

  GitRepoRecord AppsRecord() {
    for (auto& r : controller_->GitRepos()) {
      if (r.name == "apps") return r;
    }
    FAIL("no GitRepo apps");
    throw std::logic_error("unreachable");
  }

  BundleRecord Bundle(const std::string& name) {
    for (auto& b : controller_->Bundles()) {
      if (b.name == name) return b;
    }
    FAIL("no bundle " << name);
    throw std::logic_error("unreachable");
  }

  // The listener calls so far, and forgets them.
  std::vector<Ids> TakeNotifications() {
    absl::MutexLock lock(&mu_);
    return std::exchange(notifications_, {});
  }

 private:
  TempDir tmp_;
  TestGitRepo repo_{tmp_.Sub("repo")};
  common::SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  absl::Mutex mu_;
  std::vector<Ids> notifications_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<FleetController> controller_;
};

flotilla::v1::BundleDeploymentStatus AgentStatus(const std::string& bundle_deployment_id,
                                                 const std::string& applied_deployment_id,
                                                 flotilla::v1::BundleDeploymentState state,
                                                 const std::string& message) {
  flotilla::v1::BundleDeploymentStatus s;
  s.set_bundle_deployment_id(bundle_deployment_id);
  s.set_applied_deployment_id(applied_deployment_id);
  s.set_state(state);
  s.set_ready(state == flotilla::v1::READY);
  s.set_message(message);
  s.set_resource_count(1);
  return s;
}

// Scenario: a GitRepo with a misspelt field is refused with the position and
// the field named, and nothing is stored; a valid one is stored with
// generation 1 and an audit event; re-applying it unchanged writes nothing,
// changing it bumps the generation and is audited again.
TEST_CASE("ApplyGitRepo refuses unknown fields and stores a valid GitRepo", "[controller]") {
  Fixture f;
  const std::string good = AppsGitRepo(f.repo().dir());

  SECTION("an unknown field") {
    const std::string typo = absl::StrCat(good, "  pollingIntervall: 1m\n");
    const auto result = f.controller().ApplyGitRepo(typo, "token:test");
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(result.status().message()) ==
          "GitRepo:13:21: spec.pollingIntervall: unknown field");
  }
  SECTION("a Fleet field not supported yet") {
    const std::string later = absl::StrCat(good, "  ociRegistrySecret: oci\n");
    const auto result = f.controller().ApplyGitRepo(later, "token:test");
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(result.status().message()) ==
          "GitRepo:13:22: spec.ociRegistrySecret: is a Fleet field this Flotilla version does not "
          "support yet (see docs/fleet-compat.md)");
  }
  SECTION("an unknown top-level field") {
    const auto result = f.controller().ApplyGitRepo(good + "extra: 1\n", "token:test");
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(result.status().message()) == "GitRepo:13:8: extra: unknown field");
  }
  CHECK(f.controller().GitRepos().empty());
  CHECK_FALSE(f.StoredGitRepo("apps").has_value());
  CHECK(f.Audit().empty());

  SECTION("a valid GitRepo: created, unchanged, configured") {
    using Outcome = FleetController::ApplyOutcome;
    Outcome outcome = Outcome::kUnchanged;
    const GitRepoRecord first = Unwrap(f.controller().ApplyGitRepo(good, "token:alice", &outcome));
    CHECK(outcome == Outcome::kCreated);
    CHECK(first.name == "apps");
    CHECK(first.spec_yaml == good);
    CHECK(first.generation == 1);
    CHECK(first.commit.empty());
    CHECK(first.error.empty());
    const std::optional<GitRepoRecord> stored = f.StoredGitRepo("apps");
    REQUIRE(stored.has_value());
    CHECK(Describe(*stored) == Describe(first));
    CHECK(DescribeAll(f.controller().GitRepos()) == std::vector<std::string>{Describe(first)});

    const auto audit = f.Audit();
    REQUIRE(audit.size() == 1);
    CHECK(audit[0].actor == "token:alice");
    CHECK(audit[0].action == "gitrepo.apply");
    CHECK(audit[0].resource == "gitrepo/apps");
    CHECK(audit[0].outcome == "ok");
    CHECK(audit[0].time == f.clock().Now());
    CHECK(audit[0].details == absl::StrCat("repo=", f.repo().dir(), " ref=main generation=1"));

    // The same document again writes nothing.
    f.clock().Advance(absl::Seconds(1));
    CHECK(Unwrap(f.controller().ApplyGitRepo(good, "token:alice", &outcome)).generation == 1);
    CHECK(outcome == Outcome::kUnchanged);
    CHECK(f.Audit().size() == 1);

    const std::string changed = AppsGitRepo(f.repo().dir(), "  pollingInterval: 1m\n");
    const GitRepoRecord third = Unwrap(f.controller().ApplyGitRepo(changed, "token:bob", &outcome));
    CHECK(outcome == Outcome::kConfigured);
    CHECK(third.generation == 2);
    CHECK(third.spec_yaml == changed);
    CHECK(Describe(*f.StoredGitRepo("apps")) == Describe(third));
    const auto audit2 = f.Audit();
    REQUIRE(audit2.size() == 2);
    CHECK(audit2[1].actor == "token:bob");
    CHECK(audit2[1].details == absl::StrCat("repo=", f.repo().dir(), " ref=main generation=2"));
    CHECK(audit2[1].time == f.clock().Now());
  }
}

// Scenario: two bundles (web/, db/) and four clusters, three of them
// env=prod. Syncing stores the bundles at the fetched commit and creates
// BundleDeployments on the prod clusters only, in memory and in the store;
// the agent-facing assignments carry the commit and the deploymentID, and the
// listener hears about exactly the clusters that got something.
TEST_CASE("Syncing a GitRepo deploys its bundles only to the clusters its targets match",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  CHECK(f.TakeNotifications().empty());  // nothing to deploy yet
  const std::string head = f.CommitApps();
  f.clock().Advance(absl::Minutes(1));

  f.ApplyAndSync();

  const GitRepoRecord repo = f.AppsRecord();
  CHECK(repo.commit == head);
  CHECK(repo.applied_commit == head);
  CHECK(repo.error.empty());
  CHECK(repo.last_fetch == f.clock().Now());
  CHECK(Describe(*f.StoredGitRepo("apps")) == Describe(repo));

  const BundleRecord web = f.Bundle("apps-web");
  CHECK(web.gitrepo == "apps");
  CHECK(web.path == "web");
  CHECK(web.commit == head);
  CHECK(web.error.empty());
  CHECK(web.resources == std::map<std::string, std::string>{
                             {"cm.yaml", common::Sha256Hex(ConfigMap("web-config", "v1"))}});
  CHECK(f.Bundle("apps-db").path == "db");
  CHECK(DescribeAll(f.StoredBundles()) == DescribeAll(f.controller().Bundles()));

  CHECK(f.Placement() == std::set<std::string>{"apps-db@c-eu-1", "apps-db@c-us-1", "apps-db@c-us-2",
                                               "apps-web@c-eu-1", "apps-web@c-us-1",
                                               "apps-web@c-us-2"});
  CHECK(f.BdsOn("c-dev-1").empty());
  CHECK(DescribeAll(f.StoredBundleDeployments()) ==
        DescribeAll(f.controller().BundleDeployments()));
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-eu-1", "c-us-1", "c-us-2"}});

  const auto assignments = f.controller().AssignmentsFor("c-us-1");
  REQUIRE(assignments->by_id.size() == 2);
  const flotilla::v1::Assignment& a = assignments->by_id.at("apps-web");
  CHECK(a.bundle_deployment_id() == "apps-web");
  CHECK(a.bundle_name() == "apps-web");
  CHECK(a.gitrepo_name() == "apps");
  CHECK(a.commit() == head);
  CHECK(a.deployment_id() == f.BdsOn("c-us-1").at("apps-web").deployment_id);
  CHECK(a.content_hash() == f.BdsOn("c-us-1").at("apps-web").content_hash);
  CHECK(absl::StartsWith(a.deployment_id(), "s-" + a.content_hash() + ":"));
  CHECK(a.options().default_namespace() == "web");
  CHECK(f.controller().AssignmentsFor("c-dev-1")->by_id.empty());

  // The rendered manifests are served by content hash.
  const std::string content = Unwrap(f.controller().Content(a.content_hash()));
  CHECK(common::Sha256Hex(content) == a.content_hash());
  CHECK(absl::StrContains(content, "name: web-config"));
  CHECK(absl::StrContains(content, "namespace: web\n"));
  CHECK(f.controller().Content(std::string(64, '0')).status().code() ==
        absl::StatusCode::kNotFound);

  // A cluster registered later gets the bundles at once.
  f.Register("c-us-3", "prod-us-3", {{"env", "prod"}, {"region", "us"}});
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-us-3"}});
  CHECK(f.BdsOn("c-us-3").at("apps-web").deployment_id ==
        f.BdsOn("c-us-1").at("apps-web").deployment_id);
}

// Scenario: the three prod clusters get web/ with options that differ only
// by the eu customization. Clusters with identical (bundle, options) share one
// rendered content and one deploymentID; the eu cluster gets its own.
TEST_CASE("Clusters with identical bundle and options share one rendered content", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();

  const auto us1 = f.BdsOn("c-us-1").at("apps-web");
  const auto us2 = f.BdsOn("c-us-2").at("apps-web");
  const auto eu1 = f.BdsOn("c-eu-1").at("apps-web");
  CHECK(us1.content_hash == us2.content_hash);
  CHECK(us1.deployment_id == us2.deployment_id);
  CHECK(us1.options_json == us2.options_json);
  CHECK(eu1.content_hash != us1.content_hash);
  CHECK(eu1.deployment_id != us1.deployment_id);
  CHECK(absl::StrContains(Unwrap(f.controller().Content(us1.content_hash)), "namespace: web\n"));
  CHECK(absl::StrContains(Unwrap(f.controller().Content(eu1.content_hash)), "namespace: web-eu\n"));
  CHECK(
      f.controller().AssignmentsFor("c-eu-1")->by_id.at("apps-web").options().default_namespace() ==
      "web-eu");

  // db/ has no customization: one content and one deploymentID everywhere.
  std::set<std::string> db_ids;
  for (const std::string id : {"c-us-1", "c-us-2", "c-eu-1"}) {
    db_ids.insert(f.BdsOn(id).at("apps-db").deployment_id);
  }
  CHECK(db_ids.size() == 1);

  // Exactly two distinct contents exist for web/: one per distinct options.
  std::set<std::string> web_contents;
  for (const auto& bd : f.controller().BundleDeployments()) {
    if (bd.bundle == "apps-web") web_contents.insert(bd.content_hash);
  }
  CHECK(web_contents.size() == 2);
}

// Scenario: relabelling clusters moves bundles. The dev cluster relabelled
// env=prod gains both bundles; a prod cluster losing its env label loses
// them; a label that changes no targeting deploys nothing. The listener hears
// exactly the cluster whose assignments changed; labels and an audit event
// are stored.
TEST_CASE("Relabelling a cluster moves bundles onto and off it and notifies that cluster",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();
  f.TakeNotifications();
  const auto us1_before = f.BdsOn("c-us-1");

  // By name.
  const ClusterRecord dev =
      Unwrap(f.controller().LabelCluster("dev-1", {{"env", "prod"}}, {}, "token:ops"));
  CHECK(dev.id == "c-dev-1");
  CHECK(dev.labels == Labels{{"env", "prod"}});
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-dev-1"}});
  const auto dev_bds = f.BdsOn("c-dev-1");
  REQUIRE(dev_bds.size() == 2);
  CHECK(dev_bds.at("apps-web").deployment_id == us1_before.at("apps-web").deployment_id);
  CHECK(f.controller().AssignmentsFor("c-dev-1")->by_id.size() == 2);

  // By id, removing a label.
  const ClusterRecord us1 = Unwrap(f.controller().LabelCluster("c-us-1", {}, {"env"}, "token:ops"));
  CHECK(us1.labels == Labels{{"region", "us"}});
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-us-1"}});
  CHECK(f.BdsOn("c-us-1").empty());
  CHECK(f.controller().AssignmentsFor("c-us-1")->by_id.empty());

  // Moving c-us-2 to the EU changes its web/ options, so its deploymentID.
  Unwrap(f.controller().LabelCluster("c-us-2", {{"region", "eu"}}, {}, "token:ops"));
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-us-2"}});
  CHECK(f.BdsOn("c-us-2").at("apps-web").deployment_id ==
        f.BdsOn("c-eu-1").at("apps-web").deployment_id);

  // A label nobody targets: nothing changes, nobody is notified.
  Unwrap(f.controller().LabelCluster("c-eu-1", {{"team", "blue"}}, {}, "token:ops"));
  CHECK(f.TakeNotifications().empty());

  CHECK(f.Placement() == std::set<std::string>{"apps-db@c-dev-1", "apps-db@c-eu-1",
                                               "apps-db@c-us-2", "apps-web@c-dev-1",
                                               "apps-web@c-eu-1", "apps-web@c-us-2"});
  CHECK(DescribeAll(f.StoredBundleDeployments()) ==
        DescribeAll(f.controller().BundleDeployments()));

  std::map<std::string, Labels> stored_labels;
  RequireOk(f.store().Read([&](Tx& tx) -> absl::Status {
    auto clusters = tx.ListClusters();
    if (!clusters.ok()) return clusters.status();
    for (const auto& c : *clusters) stored_labels[c.id] = c.labels;
    return absl::OkStatus();
  }));
  CHECK(stored_labels.at("c-dev-1") == Labels{{"env", "prod"}});
  CHECK(stored_labels.at("c-us-1") == Labels{{"region", "us"}});
  CHECK(stored_labels.at("c-eu-1") == Labels{{"env", "prod"}, {"region", "eu"}, {"team", "blue"}});

  const auto audit = f.Audit();
  REQUIRE(audit.size() == 5);  // gitrepo.apply + four labels
  CHECK(audit[1].action == "cluster.label");
  CHECK(audit[1].resource == "cluster/c-dev-1");
  CHECK(audit[1].actor == "token:ops");
  CHECK(audit[1].details == "env=prod");
  CHECK(audit[2].details == "env-");
}

// Scenario: LabelCluster refuses an invalid label key and an unknown cluster,
// changing nothing.
TEST_CASE("LabelCluster refuses invalid labels and unknown clusters", "[controller]") {
  Fixture f;
  f.Register("c-1", "one", {{"env", "dev"}});

  const auto bad_key = f.controller().LabelCluster("one", {{"bad key", "x"}}, {}, "token:ops");
  CHECK(bad_key.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad_key.status().message(), "bad key"));

  const auto missing = f.controller().LabelCluster("nobody", {{"env", "prod"}}, {}, "token:ops");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) == "cluster \"nobody\" not found");

  CHECK(f.controller().GetCluster("c-1")->labels == Labels{{"env", "dev"}});
  CHECK(f.Audit().empty());
}

// Scenario: a new commit changes web/cm.yaml. Syncing moves both bundles to
// the new commit and gives web/ a new content and deploymentID on every
// cluster, keeping what the agents last reported; syncing again with no new
// commit changes nothing and notifies nobody.
TEST_CASE("A new commit changes the deploymentID of the bundles it changes", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  const std::string first = f.CommitApps("v1");
  f.ApplyAndSync();
  const auto before = f.BdsOn("c-us-1");
  RequireOk(f.controller().ReportStatus(
      "c-us-1",
      {AgentStatus("apps-web", before.at("apps-web").deployment_id, flotilla::v1::READY, "")}));
  f.TakeNotifications();

  f.repo().WriteFile("web/cm.yaml", ConfigMap("web-config", "v2"));
  const std::string second = f.repo().Commit("web v2");
  f.clock().Advance(absl::Minutes(1));
  RequireOk(f.controller().SyncGitRepo("apps"));

  CHECK(f.AppsRecord().commit == second);
  CHECK(f.AppsRecord().applied_commit == second);
  CHECK(f.Bundle("apps-web").commit == second);
  CHECK(f.Bundle("apps-db").commit == second);
  const auto after = f.BdsOn("c-us-1");
  CHECK(after.at("apps-web").deployment_id != before.at("apps-web").deployment_id);
  CHECK(after.at("apps-web").content_hash != before.at("apps-web").content_hash);
  CHECK(absl::StrContains(Unwrap(f.controller().Content(after.at("apps-web").content_hash)),
                          "key: v2"));
  // Until the agent reports again, it still runs the old deployment.
  CHECK(after.at("apps-web").applied_deployment_id == before.at("apps-web").deployment_id);
  CHECK(after.at("apps-web").state == flotilla::v1::READY);
  // db/ rendered the same: same deploymentID, commit aside.
  CHECK(after.at("apps-db").deployment_id == before.at("apps-db").deployment_id);
  CHECK(f.controller().AssignmentsFor("c-us-1")->by_id.at("apps-web").commit() == second);
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-eu-1", "c-us-1", "c-us-2"}});
  CHECK(DescribeAll(f.StoredBundleDeployments()) ==
        DescribeAll(f.controller().BundleDeployments()));
  CHECK(first != second);

  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK(f.TakeNotifications().empty());
  CHECK(f.BdsOn("c-us-1").at("apps-web").deployment_id == after.at("apps-web").deployment_id);
}

// Scenario: a later commit breaks web/fleet.yaml (and changes web/ and db/
// files). web/ keeps its last good version running, with the error (naming
// file:line:column) on the bundle and the GitRepo; db/ moves on. Fixing the
// file in a further commit clears the errors and deploys the new web/.
TEST_CASE("A broken fleet.yaml keeps the last good bundle and records the error", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  const std::string good = f.CommitApps("v1");
  f.ApplyAndSync();
  const auto before = f.BdsOn("c-us-1");
  const BundleRecord web_before = f.Bundle("apps-web");

  f.repo().WriteFile("web/fleet.yaml", "defaultNamespace: web\ndefaultNamespace: other\n");
  f.repo().WriteFile("web/cm.yaml", ConfigMap("web-config", "v2"));
  f.repo().WriteFile("db/cm.yaml", ConfigMap("db-config", "v2"));
  const std::string broken = f.repo().Commit("break web");
  RequireOk(f.controller().SyncGitRepo("apps"));

  const std::string error = "web/fleet.yaml:2:1: duplicate key \"defaultNamespace\"";
  const BundleRecord web = f.Bundle("apps-web");
  CHECK(web.error == error);
  CHECK(web.commit == good);
  CHECK(web.resources == web_before.resources);
  CHECK(web.spec_json == web_before.spec_json);
  const GitRepoRecord repo = f.AppsRecord();
  CHECK(repo.error == "1 bundle(s) have errors: " + error);
  CHECK(repo.applied_commit == broken);
  CHECK(Describe(*f.StoredGitRepo("apps")) == Describe(repo));
  CHECK(DescribeAll(f.StoredBundles()) == DescribeAll(f.controller().Bundles()));

  const auto during = f.BdsOn("c-us-1");
  CHECK(during.at("apps-web").deployment_id == before.at("apps-web").deployment_id);
  CHECK(f.controller().AssignmentsFor("c-us-1")->by_id.at("apps-web").commit() == good);
  CHECK(f.Bundle("apps-db").error.empty());
  CHECK(f.Bundle("apps-db").commit == broken);
  CHECK(during.at("apps-db").deployment_id != before.at("apps-db").deployment_id);
  CHECK(f.Placement().size() == 6);

  f.repo().WriteFile("web/fleet.yaml", kWebFleetYaml);
  const std::string fixed = f.repo().Commit("fix web");
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK(f.Bundle("apps-web").error.empty());
  CHECK(f.Bundle("apps-web").commit == fixed);
  CHECK(f.AppsRecord().error.empty());
  CHECK(f.BdsOn("c-us-1").at("apps-web").deployment_id != before.at("apps-web").deployment_id);
  CHECK(absl::StrContains(
      Unwrap(f.controller().Content(f.BdsOn("c-us-1").at("apps-web").content_hash)), "key: v2"));
}

// Scenario: a bundle that is broken from its first commit never deploys
// anywhere, but the GitRepo's other bundles do.
TEST_CASE("A bundle broken from the start deploys nowhere while the others deploy",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.repo().WriteFile("bad/fleet.yaml", "labels: [x]\n");
  f.repo().WriteFile("bad/cm.yaml", ConfigMap("bad", "v1"));
  f.repo().Commit("add bad");

  f.ApplyAndSync();

  CHECK(f.Bundle("apps-bad").error == "bad/fleet.yaml:1:9: labels: must be a mapping of strings");
  CHECK(f.Bundle("apps-bad").resources.empty());
  CHECK(f.AppsRecord().error ==
        "1 bundle(s) have errors: bad/fleet.yaml:1:9: labels: must be a mapping of strings");
  for (const auto& bd : f.controller().BundleDeployments()) CHECK(bd.bundle != "apps-bad");
  CHECK(f.Placement().size() == 6);
}

// Scenario: the repository disappears (its directory is deleted). Syncing
// fails with Unavailable naming the URL, the error is recorded on the GitRepo
// (and stored), and every bundle and BundleDeployment stays as it was.
TEST_CASE("A repository that disappears fails the sync and keeps the deployments", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  const std::string head = f.CommitApps();
  f.ApplyAndSync();
  f.TakeNotifications();
  const auto bds_before = DescribeAll(f.controller().BundleDeployments());
  const auto bundles_before = DescribeAll(f.controller().Bundles());
  const auto assignments_before = f.controller().AssignmentsFor("c-us-1");

  std::filesystem::remove_all(f.repo().dir());
  f.clock().Advance(absl::Minutes(5));
  const absl::Status sync = f.controller().SyncGitRepo("apps");

  CHECK(sync.code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(sync.message(), "fetching branch \"main\" from " + f.repo().dir() + ": "));
  const GitRepoRecord repo = f.AppsRecord();
  CHECK(repo.error == sync.message());
  CHECK(repo.commit == head);
  CHECK(repo.applied_commit == head);
  CHECK(repo.last_fetch == f.clock().Now());
  CHECK(Describe(*f.StoredGitRepo("apps")) == Describe(repo));

  CHECK(DescribeAll(f.controller().BundleDeployments()) == bds_before);
  CHECK(DescribeAll(f.StoredBundleDeployments()) == bds_before);
  CHECK(DescribeAll(f.controller().Bundles()) == bundles_before);
  CHECK(f.controller().AssignmentsFor("c-us-1") == assignments_before);
  CHECK(f.TakeNotifications().empty());
}

// Scenario: a later commit deletes db/. Its bundle and its BundleDeployments
// go (in memory and in the store), and the clusters that had it are
// notified; web/ is untouched.
TEST_CASE("A bundle removed from the repository is deleted with its deployments", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();
  const auto web_before = f.BdsOn("c-us-1").at("apps-web");
  f.TakeNotifications();

  f.repo().RemoveFile("db/fleet.yaml");
  f.repo().RemoveFile("db/cm.yaml");
  f.repo().Commit("drop db");
  RequireOk(f.controller().SyncGitRepo("apps"));

  std::vector<std::string> names;
  for (const auto& b : f.controller().Bundles()) names.push_back(b.name);
  CHECK(names == std::vector<std::string>{"apps-web"});
  CHECK(f.StoredBundles().size() == 1);
  CHECK(f.Placement() ==
        std::set<std::string>{"apps-web@c-eu-1", "apps-web@c-us-1", "apps-web@c-us-2"});
  CHECK(DescribeAll(f.StoredBundleDeployments()) ==
        DescribeAll(f.controller().BundleDeployments()));
  CHECK(f.BdsOn("c-us-1").at("apps-web").deployment_id == web_before.deployment_id);
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-eu-1", "c-us-1", "c-us-2"}});
  CHECK(f.controller().AssignmentsFor("c-us-1")->by_id.count("apps-db") == 0);
}

// Scenario: a commit in which no directory is a bundle fails the sync with
// FailedPrecondition and keeps everything deployed (Fleet: "If nothing at all
// comes out, apply fails").
TEST_CASE("A commit without any bundle fails the sync and keeps the deployments", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  const std::string good = f.CommitApps();
  f.ApplyAndSync();
  const auto bds_before = DescribeAll(f.controller().BundleDeployments());

  for (const std::string file : {"web/fleet.yaml", "web/cm.yaml", "db/fleet.yaml", "db/cm.yaml"}) {
    f.repo().RemoveFile(file);
  }
  f.repo().WriteFile("README.md", "nothing to deploy\n");
  const std::string empty = f.repo().Commit("empty");
  const absl::Status sync = f.controller().SyncGitRepo("apps");

  CHECK(sync.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(sync.message()) ==
        "no bundles found at commit " + empty.substr(0, 12) + " in paths [.]");
  CHECK(f.AppsRecord().error == sync.message());
  CHECK(f.AppsRecord().commit == empty);
  CHECK(f.AppsRecord().applied_commit == good);
  CHECK(DescribeAll(f.controller().BundleDeployments()) == bds_before);
  CHECK(f.controller().Bundles().size() == 2);
}

// Scenario: web/ forces every object into one namespace on EU clusters, and
// contains a cluster-scoped object, so it renders only for the US clusters.
// Those get it; the EU cluster gets nothing, and the bundle carries the
// render error.
TEST_CASE("A bundle that cannot render for some clusters deploys where it renders",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.repo().WriteFile("web/fleet.yaml", R"(targetCustomizations:
- name: eu
  clusterSelector:
    matchLabels:
      region: eu
  namespace: forced
)");
  f.repo().WriteFile("web/role.yaml",
                     "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
                     "  name: reader\n");
  f.repo().Commit("web");

  f.ApplyAndSync();

  CHECK(f.Placement() == std::set<std::string>{"apps-web@c-us-1", "apps-web@c-us-2"});
  CHECK(f.Bundle("apps-web").error ==
        "render: role.yaml: ClusterRole reader is cluster-scoped, but the bundle sets namespace "
        "\"forced\" which forces every object into one namespace");
  CHECK(DescribeAll(f.StoredBundles()) == DescribeAll(f.controller().Bundles()));
}

// Scenario: a paused GitRepo still fetches and stores new commits: each
// BundleDeployment stages the new deployment, but clusters keep running the
// old one and show OutOfSync (Fleet: staged, not promoted). Unpausing
// releases it.
TEST_CASE("A paused GitRepo stages new commits but keeps clusters' deployments", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps("v1");
  f.ApplyAndSync();
  std::map<std::string, std::string> running;  // bundle@cluster -> deploymentID
  for (const auto& bd : f.controller().BundleDeployments()) {
    running[bd.bundle + "@" + bd.cluster_id] = bd.deployment_id;
    RequireOk(f.controller().ReportStatus(
        bd.cluster_id, {AgentStatus(bd.bundle, bd.deployment_id, flotilla::v1::READY, "")}));
  }
  f.ApplyApps("  paused: true\n");
  f.TakeNotifications();

  const std::string second = f.CommitApps("v2");
  RequireOk(f.controller().SyncGitRepo("apps"));

  CHECK(f.Bundle("apps-web").commit == second);
  CHECK(f.AppsRecord().applied_commit == second);
  for (const auto& bd : f.controller().BundleDeployments()) {
    INFO(bd.bundle << "@" << bd.cluster_id);
    CHECK(bd.deployment_id == running.at(bd.bundle + "@" + bd.cluster_id));
    CHECK(bd.staged_deployment_id != bd.deployment_id);
    CHECK(EffectiveState(bd) == flotilla::v1::OUT_OF_SYNC);
  }
  CHECK(f.TakeNotifications().empty());
  CHECK(DescribeAll(f.StoredBundleDeployments()) ==
        DescribeAll(f.controller().BundleDeployments()));

  f.ApplyApps("");
  for (const auto& bd : f.controller().BundleDeployments()) {
    INFO(bd.bundle << "@" << bd.cluster_id);
    CHECK(bd.deployment_id == bd.staged_deployment_id);
    CHECK(EffectiveState(bd) == flotilla::v1::WAIT_APPLIED);
  }
  CHECK_FALSE(f.TakeNotifications().empty());
}

// Scenario: polling runs on the injected clock. A freshly applied GitRepo is
// due at once (and wakes the poller); after a sync the next one is due after the polling interval
// plus up to 10% jitter, and PollDue before that fetches nothing.
TEST_CASE("PollDue syncs a GitRepo only when its polling interval has passed", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  const std::string first = f.CommitApps("v1");
  f.ApplyApps("  pollingInterval: 1m\n");
  CHECK(f.controller().NextPollIn() == absl::ZeroDuration());
  // Applying wakes the poller: this returns at once, not after its maximum.
  const absl::Time before_wait = absl::Now();
  f.controller().WaitForPollWork(absl::Seconds(20));
  CHECK(absl::Now() - before_wait < absl::Seconds(20));

  f.controller().PollDue();
  CHECK(f.AppsRecord().applied_commit == first);
  CHECK(f.Placement().size() == 6);
  // NextPollIn caps its answer at 5s so that the poller re-checks regularly.
  CHECK(f.controller().NextPollIn() == absl::Seconds(5));

  const std::string second = f.CommitApps("v2");
  f.clock().Advance(absl::Seconds(59));
  f.controller().PollDue();
  CHECK(f.AppsRecord().applied_commit == first);

  f.clock().Advance(absl::Seconds(7));  // 66s: at or past 1m + 10% jitter
  CHECK(f.controller().NextPollIn() == absl::ZeroDuration());
  f.controller().PollDue();
  CHECK(f.AppsRecord().applied_commit == second);
}

// Scenario: SyncGitRepo of a GitRepo nobody applied is NotFound.
TEST_CASE("Syncing an unknown GitRepo returns NotFound", "[controller]") {
  Fixture f;
  const absl::Status sync = f.controller().SyncGitRepo("nope");
  CHECK(sync.code() == absl::StatusCode::kNotFound);
  CHECK(std::string(sync.message()) == "gitrepo \"nope\" not found");
}

// Scenario: changing the GitRepo targets re-targets its bundles at once,
// without a fetch, and bumps the generation.
TEST_CASE("Re-applying a GitRepo with new targets re-targets its bundles at once", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();
  f.TakeNotifications();

  const std::string dev_only = absl::StrCat(R"(apiVersion: fleet.cattle.io/v1alpha1
kind: GitRepo
metadata:
  name: apps
spec:
  repo: )",
                                            f.repo().dir(), R"(
  branch: main
  targets:
  - clusterSelector:
      matchLabels:
        env: dev
)");
  const GitRepoRecord record = Unwrap(f.controller().ApplyGitRepo(dev_only, "token:test"));
  CHECK(record.generation == 2);
  CHECK(f.Placement() == std::set<std::string>{"apps-db@c-dev-1", "apps-web@c-dev-1"});
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-dev-1", "c-eu-1", "c-us-1", "c-us-2"}});
  CHECK(DescribeAll(f.StoredBundleDeployments()) ==
        DescribeAll(f.controller().BundleDeployments()));
}

// Scenario: agents report status. ReportStatus records the applied
// deploymentID, state, message and the whole status on the BundleDeployment
// (in memory and in the store) and the cluster's last-seen time; a report for
// a BundleDeployment the cluster no longer has is ignored; an unknown cluster
// is NotFound.
TEST_CASE("ReportStatus updates the BundleDeployment state and the cluster's last seen",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();
  const auto before = f.BdsOn("c-us-1");
  f.clock().Advance(absl::Seconds(42));

  RequireOk(f.controller().ReportStatus(
      "c-us-1",
      {AgentStatus("apps-web", before.at("apps-web").deployment_id, flotilla::v1::READY, ""),
       AgentStatus("apps-db", "s-old:old", flotilla::v1::ERR_APPLIED, "db: apply failed"),
       AgentStatus("apps-gone", "s-x:y", flotilla::v1::READY, "")}));

  const auto after = f.BdsOn("c-us-1");
  REQUIRE(after.size() == 2);
  const BundleDeploymentRecord& web = after.at("apps-web");
  CHECK(web.applied_deployment_id == before.at("apps-web").deployment_id);
  CHECK(web.deployment_id == before.at("apps-web").deployment_id);
  CHECK(web.state == flotilla::v1::READY);
  CHECK(web.message.empty());
  CHECK(web.status_time == f.clock().Now());
  CHECK(absl::StrContains(web.status_json, "\"state\":\"READY\""));
  CHECK(absl::StrContains(web.status_json, "\"ready\":true"));
  const BundleDeploymentRecord& db = after.at("apps-db");
  CHECK(db.applied_deployment_id == "s-old:old");
  CHECK(db.state == flotilla::v1::ERR_APPLIED);
  CHECK(db.message == "db: apply failed");
  // Other clusters are untouched.
  CHECK(f.BdsOn("c-us-2").at("apps-web").state == flotilla::v1::STATE_UNSPECIFIED);
  CHECK(f.BdsOn("c-us-2").at("apps-web").applied_deployment_id.empty());

  CHECK(f.controller().GetCluster("c-us-1")->last_seen == f.clock().Now());
  CHECK(DescribeAll(f.StoredBundleDeployments()) ==
        DescribeAll(f.controller().BundleDeployments()));
  std::optional<ClusterRecord> stored;
  RequireOk(f.store().Read([&](Tx& tx) -> absl::Status {
    auto c = tx.GetCluster("c-us-1");
    if (!c.ok()) return c.status();
    stored = *c;
    return absl::OkStatus();
  }));
  REQUIRE(stored.has_value());
  CHECK(stored->last_seen == f.clock().Now());

  const absl::Status unknown = f.controller().ReportStatus(
      "c-nope", {AgentStatus("apps-web", "x", flotilla::v1::READY, "")});
  CHECK(unknown.code() == absl::StatusCode::kNotFound);
  CHECK(std::string(unknown.message()) == "cluster not found");
}

// Scenario: after syncs, a relabel, a status report and a broken commit, a
// new controller loaded from the same store shows the same GitRepos, bundles,
// clusters, BundleDeployments, assignments and contents. Syncing the same
// commit again then changes nothing, and a new cluster gets the same
// deploymentIDs as its peers: rendering after a reload is reproducible.
TEST_CASE("Loading a new controller from the same store restores the same state", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps("v1");
  f.ApplyAndSync();
  Unwrap(f.controller().LabelCluster("dev-1", {{"env", "prod"}, {"region", "eu"}}, {}, "t"));
  RequireOk(f.controller().ReportStatus(
      "c-us-1", {AgentStatus("apps-web", f.BdsOn("c-us-1").at("apps-web").deployment_id,
                             flotilla::v1::READY, "")}));
  f.repo().WriteFile("web/fleet.yaml", "defaultNamespace: [\n");
  f.repo().WriteFile("db/cm.yaml", ConfigMap("db-config", "v2"));
  f.repo().Commit("break web, change db");
  f.clock().Advance(absl::Minutes(1));
  RequireOk(f.controller().SyncGitRepo("apps"));
  REQUIRE_FALSE(f.Bundle("apps-web").error.empty());

  const auto repos = DescribeAll(f.controller().GitRepos());
  const auto bundles = DescribeAll(f.controller().Bundles());
  const auto clusters = DescribeAll(f.controller().Clusters());
  const auto bds = DescribeAll(f.controller().BundleDeployments());
  std::map<std::string, std::string> assignments;
  for (const std::string id : {"c-us-1", "c-us-2", "c-eu-1", "c-dev-1"}) {
    for (const auto& [bd_id, a] : f.controller().AssignmentsFor(id)->by_id) {
      assignments[id + "/" + bd_id] = a.ShortDebugString();
    }
  }
  std::map<std::string, std::string> contents;
  for (const auto& bd : f.controller().BundleDeployments()) {
    contents[bd.content_hash] = Unwrap(f.controller().Content(bd.content_hash));
  }
  REQUIRE(assignments.size() == 8);
  f.TakeNotifications();

  f.Restart();

  CHECK(DescribeAll(f.controller().GitRepos()) == repos);
  CHECK(DescribeAll(f.controller().Bundles()) == bundles);
  CHECK(DescribeAll(f.controller().Clusters()) == clusters);
  CHECK(DescribeAll(f.controller().BundleDeployments()) == bds);
  std::map<std::string, std::string> reloaded;
  for (const std::string id : {"c-us-1", "c-us-2", "c-eu-1", "c-dev-1"}) {
    for (const auto& [bd_id, a] : f.controller().AssignmentsFor(id)->by_id) {
      reloaded[id + "/" + bd_id] = a.ShortDebugString();
    }
  }
  CHECK(reloaded == assignments);
  for (const auto& [hash, data] : contents) {
    CHECK(Unwrap(f.controller().Content(hash)) == data);
  }

  // The same commit again: rescanned (the new controller has not scanned
  // yet), rendered again, and found identical.
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK(DescribeAll(f.controller().BundleDeployments()) == bds);
  CHECK(f.TakeNotifications().empty());

  f.Register("c-us-9", "prod-us-9", {{"env", "prod"}, {"region", "us"}});
  f.Register("c-eu-9", "prod-eu-9", {{"env", "prod"}, {"region", "eu"}});
  for (const std::string bundle : {"apps-web", "apps-db"}) {
    INFO(bundle);
    CHECK(f.BdsOn("c-us-9").at(bundle).deployment_id == f.BdsOn("c-us-1").at(bundle).deployment_id);
    CHECK(f.BdsOn("c-eu-9").at(bundle).deployment_id == f.BdsOn("c-eu-1").at(bundle).deployment_id);
  }
}

// Regressions found while writing these tests.

TEST_CASE("A fetch error is cleared when the repository comes back at the same commit",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();
  const std::string dir = f.repo().dir();
  std::filesystem::rename(dir, dir + ".away");
  CHECK(f.controller().SyncGitRepo("apps").code() == absl::StatusCode::kUnavailable);
  std::filesystem::rename(dir + ".away", dir);
  f.clock().Advance(absl::Minutes(1));
  const absl::Status again = f.controller().SyncGitRepo("apps");
  CHECK(again.ok());
  INFO("error after recovery: " << f.AppsRecord().error);
  CHECK(f.AppsRecord().error.empty());
  CHECK(f.StoredGitRepo("apps")->error.empty());
  CHECK(f.AppsRecord().last_fetch == f.clock().Now());
  CHECK(f.StoredGitRepo("apps")->last_fetch == f.clock().Now());
}

TEST_CASE("A disablePolling GitRepo is fetched again after its spec changes", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyApps("  disablePolling: true\n");
  f.controller().PollDue();
  REQUIRE_FALSE(f.AppsRecord().applied_commit.empty());
  REQUIRE(f.Placement().size() == 6);
  // New commit adds a bundle; spec changes paths to only "extra".
  f.repo().WriteFile("extra/fleet.yaml", "");
  f.repo().WriteFile("extra/cm.yaml", ConfigMap("extra", "v1"));
  const std::string second = f.repo().Commit("extra");
  f.ApplyApps("  disablePolling: true\n  paths:\n  - extra\n");
  CHECK(f.AppsRecord().generation == 2);
  CHECK(f.controller().NextPollIn() == absl::ZeroDuration());
  f.controller().PollDue();
  CHECK(f.AppsRecord().applied_commit == second);
  std::vector<std::string> names;
  for (auto& b : f.controller().Bundles()) names.push_back(b.name);
  CHECK(names == std::vector<std::string>{"apps-extra"});
}

TEST_CASE("A broken bundle of another GitRepo does not take over a bundle name", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  // GitRepo "apps" path "web-x" -> bundle "apps-web-x".
  f.repo().WriteFile("web-x/fleet.yaml", "");
  f.repo().WriteFile("web-x/cm.yaml", ConfigMap("a", "v1"));
  // GitRepo "apps-web" path "x" -> bundle "apps-web-x" too, with a broken fleet.yaml.
  f.repo().WriteFile("x/fleet.yaml", "labels: [x]\n");
  f.repo().WriteFile("x/cm.yaml", ConfigMap("b", "v1"));
  f.repo().Commit("two repos");
  f.ApplyApps("  paths:\n  - web-x\n");
  RequireOk(f.controller().SyncGitRepo("apps"));
  REQUIRE(f.Bundle("apps-web-x").gitrepo == "apps");
  REQUIRE(f.Placement().size() == 3);
  const std::string other = absl::StrCat(R"(apiVersion: fleet.cattle.io/v1alpha1
kind: GitRepo
metadata:
  name: apps-web
spec:
  repo: )",
                                         f.repo().dir(), R"(
  branch: main
  paths:
  - x
  targets:
  - clusterSelector:
      matchLabels:
        env: prod
)");
  Unwrap(f.controller().ApplyGitRepo(other, "t"));
  const absl::Status st = f.controller().SyncGitRepo("apps-web");
  INFO(st.ToString());
  INFO("apps-web error: " << (f.controller().GitRepos().size() > 1
                                  ? f.controller().GitRepos()[1].error
                                  : ""));
  CHECK(f.Bundle("apps-web-x").gitrepo == "apps");
  CHECK(f.Placement().size() == 3);
  for (auto& b : f.StoredBundles()) INFO(Describe(b));
  CHECK(f.StoredBundles().size() == 1);
  CHECK(f.StoredBundles()[0].gitrepo == "apps");
}

TEST_CASE("The GitRepo that owns a bundle name keeps updating it", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.repo().WriteFile("web-x/fleet.yaml", "");
  f.repo().WriteFile("web-x/cm.yaml", ConfigMap("a", "v1"));
  f.repo().WriteFile("x/fleet.yaml", "labels: [x]\n");
  f.repo().WriteFile("x/cm.yaml", ConfigMap("b", "v1"));
  f.repo().Commit("two repos");
  f.ApplyApps("  paths:\n  - web-x\n");
  RequireOk(f.controller().SyncGitRepo("apps"));
  const std::string other = absl::StrCat(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: apps-web\nspec:\n  "
      "repo: ",
      f.repo().dir(),
      "\n  branch: main\n  paths:\n  - x\n  targets:\n  - clusterSelector:\n      matchLabels:\n   "
      "     env: prod\n");
  Unwrap(f.controller().ApplyGitRepo(other, "t"));
  RequireOk(f.controller().SyncGitRepo("apps-web"));
  f.repo().WriteFile("web-x/cm.yaml", ConfigMap("a", "v2"));
  f.repo().Commit("apps v2");
  const absl::Status st = f.controller().SyncGitRepo("apps");
  INFO(st.ToString());
  for (auto& r : f.controller().GitRepos()) INFO(r.name << ": " << r.error);
  CHECK(f.Bundle("apps-web-x").gitrepo == "apps");
  CHECK(f.Placement().size() == 3);
}

TEST_CASE("A render error is not cleared by a cluster where the bundle renders", "[controller]") {
  Fixture f;
  f.Register("c-us-1", "us-1", {{"env", "prod"}, {"region", "us"}});
  f.Register("c-eu-1", "eu-1", {{"env", "prod"}, {"region", "eu"}});
  f.repo().WriteFile("web/fleet.yaml",
                     "targetCustomizations:\n- name: eu\n  clusterSelector:\n    matchLabels:\n    "
                     "  region: eu\n  namespace: forced\n");
  f.repo().WriteFile(
      "web/role.yaml",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n");
  f.repo().Commit("web");
  f.ApplyAndSync();
  INFO("placement: " << absl::StrJoin(f.Placement(), ","));
  INFO("error after sync: " << f.Bundle("apps-web").error);
  CHECK(absl::StartsWith(f.Bundle("apps-web").error, "render: "));
  f.Register("c-us-2", "us-2", {{"env", "prod"}, {"region", "us"}});
  INFO("error after adding a us cluster: " << f.Bundle("apps-web").error);
  CHECK(absl::StartsWith(f.Bundle("apps-web").error, "render: "));
}

// --- ClusterGroups, Cluster settings, Secrets, deletion --------------------

std::string GitRepoTargetingGroup(const std::string& repo_dir, const std::string& group) {
  return absl::StrCat(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n"
      "  name: apps\nspec:\n  repo: ",
      repo_dir, "\n  branch: main\n  targets:\n  - clusterGroup: ", group, "\n");
}

// Fleet: target/matcher — a clusterGroup target matches the clusters of a
// ClusterGroup whose selector matches their labels; the group can be
// created after the GitRepo, and changing it moves bundles.
TEST_CASE("A clusterGroup target follows the ClusterGroup's selector", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  Unwrap(f.controller().ApplyGitRepo(GitRepoTargetingGroup(f.repo().dir(), "eu"), "t"));
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK(f.Placement().empty());  // no such group yet: no members

  using Outcome = FleetController::ApplyOutcome;
  const std::string eu =
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\nmetadata: {name: eu}\n"
      "spec:\n  selector:\n    matchLabels: {region: eu}\n";
  CHECK(Unwrap(f.controller().ApplyClusterGroup(eu, "token:a")) == Outcome::kCreated);
  CHECK(f.Placement() == std::set<std::string>{"apps-db@c-eu-1", "apps-web@c-eu-1"});
  CHECK(Unwrap(f.controller().ApplyClusterGroup(eu, "token:a")) == Outcome::kUnchanged);
  CHECK(f.controller().ClusterGroupMembers("eu") == Ids{"prod-eu-1"});

  const std::string us =
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\nmetadata: {name: eu}\n"
      "spec:\n  selector:\n    matchLabels: {region: us}\n";
  CHECK(Unwrap(f.controller().ApplyClusterGroup(us, "token:a")) == Outcome::kConfigured);
  CHECK(f.Placement() == std::set<std::string>{"apps-db@c-us-1", "apps-db@c-us-2",
                                               "apps-web@c-us-1", "apps-web@c-us-2"});

  // Survives a restart.
  f.Restart();
  CHECK(f.controller().ClusterGroupMembers("eu") == Ids{"prod-us-1", "prod-us-2"});

  RequireOk(f.controller().DeleteClusterGroup("eu", "token:a"));
  CHECK(f.Placement().empty());
  CHECK(f.controller().DeleteClusterGroup("eu", "token:a").code() == absl::StatusCode::kNotFound);
}

// Fleet: cluster_types.go — labels and paused set on the Cluster object.
TEST_CASE("Applying a Cluster relabels it, and a paused cluster keeps what it has",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();
  REQUIRE(f.Placement().count("apps-web@c-dev-1") == 0);

  using Outcome = FleetController::ApplyOutcome;
  const std::string dev_to_prod =
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: dev-1\n"
      "  labels: {env: prod}\n";
  CHECK(Unwrap(f.controller().ApplyClusterSettings(dev_to_prod, "token:a")) ==
        Outcome::kConfigured);
  CHECK(f.Placement().count("apps-web@c-dev-1") == 1);
  CHECK(Unwrap(f.controller().ApplyClusterSettings(dev_to_prod, "token:a")) == Outcome::kUnchanged);

  // Paused: a new commit does not reach it; unpaused, it catches up.
  const std::string paused =
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: dev-1\n"
      "  labels: {env: prod}\nspec: {paused: true}\n";
  Unwrap(f.controller().ApplyClusterSettings(paused, "token:a"));
  const std::string old_id = f.BdsOn("c-dev-1").at("apps-web").deployment_id;
  f.CommitApps("v2");
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK(f.BdsOn("c-dev-1").at("apps-web").deployment_id == old_id);
  CHECK(f.BdsOn("c-us-1").at("apps-web").deployment_id != old_id);
  Unwrap(f.controller().ApplyClusterSettings(dev_to_prod, "token:a"));
  CHECK(f.BdsOn("c-dev-1").at("apps-web").deployment_id ==
        f.BdsOn("c-us-1").at("apps-web").deployment_id);

  const std::string unknown =
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\nmetadata: {name: nowhere}\n";
  auto missing = f.controller().ApplyClusterSettings(unknown, "token:a");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(missing.status().message()),
             Catch::Matchers::Contains("flotilla token create --cluster nowhere"));
}

// GitRepo targetNamespace overrides every namespace (Fleet bundlereader).
TEST_CASE("targetNamespace forces every bundle's namespace", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyApps("  targetNamespace: forced\n");
  RequireOk(f.controller().SyncGitRepo("apps"));
  auto content = Unwrap(f.controller().Content(f.BdsOn("c-eu-1").at("apps-web").content_hash));
  CHECK_THAT(content, Catch::Matchers::Contains("namespace: forced"));
  CHECK_THAT(content, !Catch::Matchers::Contains("web-eu"));
}

TEST_CASE("Secrets are stored with their values, listed without, and audited by key",
          "[controller]") {
  Fixture f;
  using Outcome = FleetController::ApplyOutcome;
  const std::string secret =
      "apiVersion: v1\nkind: Secret\nmetadata: {name: git-auth}\n"
      "type: kubernetes.io/basic-auth\nstringData: {username: git, password: hunter2}\n";
  CHECK(Unwrap(f.controller().ApplySecret(secret, "token:a")) == Outcome::kCreated);
  CHECK(Unwrap(f.controller().ApplySecret(secret, "token:a")) == Outcome::kUnchanged);
  auto listed = Unwrap(f.controller().SecretsWithoutValues());
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].type == "basic-auth");
  CHECK(listed[0].data.at("password").empty());
  for (const auto& a : f.Audit()) CHECK_THAT(a.details, !Catch::Matchers::Contains("hunter2"));

  // In use by a GitRepo: cannot be deleted.
  f.CommitApps();
  f.ApplyApps("  clientSecretName: git-auth\n");
  auto in_use = f.controller().DeleteSecret("git-auth", "token:a");
  CHECK(in_use.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(in_use.message()) == "secret \"git-auth\" is still used by gitrepo(s) apps");
  CHECK(f.controller().DeleteSecret("other", "token:a").code() == absl::StatusCode::kNotFound);
}

TEST_CASE("Deleting a GitRepo removes its bundles from every cluster", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.CommitApps();
  f.ApplyAndSync();
  REQUIRE_FALSE(f.Placement().empty());
  f.TakeNotifications();
  RequireOk(f.controller().DeleteGitRepo("apps", "token:a"));
  CHECK(f.Placement().empty());
  CHECK(f.controller().Bundles().empty());
  CHECK(f.StoredBundles().empty());
  CHECK_FALSE(f.StoredGitRepo("apps").has_value());
  CHECK_FALSE(f.TakeNotifications().empty());
  CHECK(f.controller().DeleteGitRepo("apps", "token:a").code() == absl::StatusCode::kNotFound);
}

// Fleet (target/builder.go preprocessHelmValues): templated Helm values are
// per cluster, so they are part of each cluster's deploymentID; a template
// error is the bundle's render error on that cluster.
TEST_CASE("Templated Helm values make per-cluster deployments", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.repo().WriteFile("web/fleet.yaml",
                     "helm:\n  values:\n    region: ${ .ClusterLabels.region }\n"
                     "    env: global.fleet.clusterLabels.env\n");
  f.repo().WriteFile("web/cm.yaml", ConfigMap("web", "v1"));
  f.repo().Commit("templated values");
  f.ApplyAndSync();
  const auto us1 = f.BdsOn("c-us-1").at("apps-web").deployment_id;
  CHECK(f.BdsOn("c-us-2").at("apps-web").deployment_id == us1);
  CHECK(f.BdsOn("c-eu-1").at("apps-web").deployment_id != us1);

  f.repo().WriteFile("web/fleet.yaml",
                     "helm:\n  values:\n    x: ${ .ClusterLabels.nope.deeper }\n");
  f.repo().Commit("broken template");
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK_THAT(f.Bundle("apps-web").error,
             Catch::Matchers::Contains("failed to render helm values template"));
  CHECK(f.BdsOn("c-us-1").at("apps-web").deployment_id == us1);  // the last good one stays
}

// Fleet (agent/deployer/deployer.go checkDependency): a bundle with
// dependsOn waits on each cluster until its dependencies there are in an
// accepted state (default Ready); the reason shows on its BundleDeployment.
TEST_CASE("dependsOn holds a bundle on a cluster until its dependency is ready there",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.repo().WriteFile("db/fleet.yaml", "labels: {tier: data}\n");
  f.repo().WriteFile("db/cm.yaml", ConfigMap("db", "v1"));
  f.repo().WriteFile("web/fleet.yaml", "dependsOn:\n- name: apps-db\n");
  f.repo().WriteFile("web/cm.yaml", ConfigMap("web", "v1"));
  f.repo().WriteFile("api/fleet.yaml",
                     "dependsOn:\n- selector: {matchLabels: {tier: data}}\n"
                     "  acceptedStates: [WaitApplied, Ready]\n");
  f.repo().WriteFile("api/cm.yaml", ConfigMap("api", "v1"));
  f.repo().WriteFile("lost/fleet.yaml", "dependsOn:\n- name: nowhere\n");
  f.repo().WriteFile("lost/cm.yaml", ConfigMap("lost", "v1"));
  f.repo().Commit("with dependencies");
  f.ApplyAndSync();

  auto held = f.BdsOn("c-us-1").at("apps-web");
  CHECK(held.deployment_id.empty());
  CHECK(held.message == "dependent bundle(s) are not ready: [apps-db]");
  CHECK(f.controller().AssignmentsFor("c-us-1")->by_id.count("apps-web") == 0);
  // WaitApplied accepted: not held.
  CHECK_FALSE(f.BdsOn("c-us-1").at("apps-api").deployment_id.empty());
  CHECK(f.BdsOn("c-us-1").at("apps-lost").message ==
        "dependent bundle(s) are not ready: [no bundles matching name nowhere on this cluster]");

  // The dependency becomes Ready on one cluster: web follows there only.
  f.TakeNotifications();
  const auto db = f.BdsOn("c-us-1").at("apps-db");
  RequireOk(f.controller().ReportStatus(
      "c-us-1", {AgentStatus("apps-db", db.deployment_id, flotilla::v1::READY, "")}));
  CHECK_FALSE(f.BdsOn("c-us-1").at("apps-web").deployment_id.empty());
  CHECK(f.controller().AssignmentsFor("c-us-1")->by_id.count("apps-web") == 1);
  CHECK(f.BdsOn("c-us-2").at("apps-web").deployment_id.empty());
  CHECK(f.TakeNotifications() == std::vector<Ids>{{"c-us-1"}});

  // The agent gets the resolved dependencies to check them again itself.
  const auto web = f.controller().AssignmentsFor("c-us-1")->by_id.at("apps-web").options();
  REQUIRE(web.depends_on_size() == 1);
  CHECK(web.depends_on(0).bundle_name() == "apps-db");
  CHECK(web.depends_on(0).accepted_states_size() == 1);
  CHECK(web.depends_on(0).accepted_states(0) == flotilla::v1::READY);
  const auto api = f.controller().AssignmentsFor("c-us-1")->by_id.at("apps-api").options();
  REQUIRE(api.depends_on_size() == 1);
  CHECK(api.depends_on(0).bundle_name() == "apps-db");
  CHECK(api.depends_on(0).accepted_states_size() == 2);
}

// What the agent needs of fleet.yaml to apply and check: takeOwnership,
// ignore.conditions and diff.comparePatches travel in the options.
TEST_CASE("takeOwnership, ignore.conditions and comparePatches reach the agent", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  f.repo().WriteFile("web/fleet.yaml", R"(helm:
  takeOwnership: true
ignore:
  conditions:
  - {type: Ready, status: "False"}
diff:
  comparePatches:
  - apiVersion: apps/v1
    kind: Deployment
    name: web
    namespace: apps
    jsonPointers: [/spec/replicas]
    operations:
    - {op: remove, path: /spec/template/metadata/annotations}
    - {op: replace, path: /metadata/labels/x, value: "y"}
)");
  f.repo().WriteFile("web/cm.yaml", ConfigMap("web", "v1"));
  f.repo().Commit("options for the agent");
  f.ApplyAndSync();
  const auto o = f.controller().AssignmentsFor("c-us-1")->by_id.at("apps-web").options();
  CHECK(o.take_ownership());
  REQUIRE(o.ignore_conditions_size() == 1);
  CHECK(o.ignore_conditions(0).fields().at("type") == "Ready");
  CHECK(o.ignore_conditions(0).fields().at("status") == "False");
  REQUIRE(o.compare_patches_size() == 1);
  const auto& p = o.compare_patches(0);
  CHECK(p.api_version() == "apps/v1");
  CHECK(p.kind() == "Deployment");
  CHECK(p.name() == "web");
  CHECK(p.namespace_() == "apps");
  REQUIRE(p.json_pointers_size() == 1);
  CHECK(p.json_pointers(0) == "/spec/replicas");
  REQUIRE(p.operations_size() == 2);
  CHECK(p.operations(0).op() == "remove");
  CHECK(p.operations(0).path() == "/spec/template/metadata/annotations");
  CHECK(p.operations(0).value_json().empty());
  CHECK(p.operations(1).value_json() == R"("y")");
}

// A packed chart "web" 1.2.0 (a ConfigMap "web" holding the release name),
// made by `tar czf` in `dir`.
std::string WebChartArchive(const TempDir& dir) {
  REQUIRE(common::MakeDirs(dir.Sub("src/web/templates")).ok());
  REQUIRE(common::WriteFileAtomic(dir.Sub("src/web/Chart.yaml"),
                                  "apiVersion: v2\nname: web\nversion: 1.2.0\n")
              .ok());
  REQUIRE(common::WriteFileAtomic(dir.Sub("src/web/templates/cm.yaml"),
                                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"
                                  "data:\n  release: {{ .Release.Name }}\n")
              .ok());
  auto tar = flotilla::testing::RunCommand(
      absl::StrCat("tar czf ", dir.Sub("web-1.2.0.tgz"), " -C ", dir.Sub("src"), " web"));
  REQUIRE(tar.exit_code == 0);
  return Unwrap(common::ReadFile(dir.Sub("web-1.2.0.tgz")));
}

// Fleet downloads a chart named by URL when it builds the bundle; so does
// the manager, after the scan: the chart renders on every targeted cluster,
// and a chart that cannot be fetched is that bundle's error.
TEST_CASE("A chart from a URL is fetched into its bundle and rendered", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  TempDir charts;
  const std::string web_tgz = WebChartArchive(charts);
  flotilla::testing::StaticHttpServer server;
  server.Serve("/charts/web-1.2.0.tgz", web_tgz);

  f.repo().WriteFile("web/fleet.yaml",
                     absl::StrCat("helm:\n  chart: ", server.Url("/charts/web-1.2.0.tgz"), "\n"));
  f.repo().Commit("remote chart");
  f.ApplyAndSync();
  CHECK(f.Bundle("apps-web").error.empty());
  auto content = Unwrap(f.controller().Content(f.BdsOn("c-us-1").at("apps-web").content_hash));
  CHECK_THAT(content, Catch::Matchers::Contains("release: apps-web"));

  f.repo().WriteFile("web/fleet.yaml",
                     absl::StrCat("helm:\n  chart: ", server.Url("/charts/missing.tgz"), "\n"));
  f.repo().Commit("a chart that is not there");
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK_THAT(f.Bundle("apps-web").error, Catch::Matchers::Contains("missing.tgz"));
  // The last good version keeps running.
  CHECK(f.BdsOn("c-us-1").at("apps-web").content_hash ==
        f.BdsOn("c-us-2").at("apps-web").content_hash);
}

// A private chart repository over HTTPS: the GitRepo's helmSecretName holds
// the credentials and the CA, helmRepoURLRegex lets them go to that server.
// Until the secret exists the bundle says which one is missing; applying it
// scans again without a new commit.
TEST_CASE("A chart from a private HTTPS repository uses the GitRepo's helm secret",
          "[controller]") {
  Fixture f;
  f.RegisterFleet();
  TempDir charts;
  const std::string web_tgz = WebChartArchive(charts);
  flotilla::testing::TestPki pki;
  flotilla::testing::StaticHttpServer server({.tls_cert_pem = pki.cert_pem,
                                              .tls_key_pem = pki.key_pem,
                                              .username = "charts",
                                              .password = "s3cret"});
  server.Serve("/repo/index.yaml",
               "apiVersion: v1\nentries:\n  web:\n  - version: 1.2.0\n    urls: [web-1.2.0.tgz]\n");
  server.Serve("/repo/web-1.2.0.tgz", web_tgz);

  f.repo().WriteFile("web/fleet.yaml",
                     absl::StrCat("helm:\n  repo: ", server.Url("/repo"), "\n  chart: web\n"));
  f.repo().Commit("private chart");
  f.ApplyApps(
      "  helmSecretName: chart-auth\n  helmRepoURLRegex: 'https://127\\.0\\.0\\.1:[0-9]+/repo'\n");
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK(f.Bundle("apps-web").error ==
        "helmSecretName: secret \"chart-auth\" does not exist (create it with `flotilla secret "
        "create basic-auth|generic chart-auth ...` or `flotilla apply -f`)");
  CHECK(server.requests() == 0);

  std::string ca_yaml;
  for (absl::string_view line : absl::StrSplit(pki.ca_pem, '\n')) {
    if (!line.empty()) absl::StrAppend(&ca_yaml, "    ", line, "\n");
  }
  Unwrap(f.controller().ApplySecret(
      absl::StrCat("apiVersion: v1\nkind: Secret\nmetadata: {name: chart-auth}\n"
                   "type: Opaque\nstringData:\n  username: charts\n  password: s3cret\n"
                   "  cacerts: |\n",
                   ca_yaml),
      "token:test"));
  RequireOk(f.controller().SyncGitRepo("apps"));
  INFO(f.Bundle("apps-web").error);
  REQUIRE(f.Bundle("apps-web").error.empty());
  auto content = Unwrap(f.controller().Content(f.BdsOn("c-us-1").at("apps-web").content_hash));
  CHECK_THAT(content, Catch::Matchers::Contains("release: apps-web"));
  CHECK(server.authorization_for("/repo/web-1.2.0.tgz") == "Basic Y2hhcnRzOnMzY3JldA==");
}

// A chart directory whose dependency is not committed under charts/: the
// manager fetches it after the scan, as Fleet's `helm dependency update`.
TEST_CASE("A chart's missing dependency is fetched from its repository", "[controller]") {
  Fixture f;
  f.RegisterFleet();
  TempDir charts;
  flotilla::testing::StaticHttpServer server;
  server.Serve("/repo/index.yaml",
               "apiVersion: v1\nentries:\n  web:\n  - version: 1.2.0\n    urls: [web-1.2.0.tgz]\n");
  server.Serve("/repo/web-1.2.0.tgz", WebChartArchive(charts));
  f.repo().WriteFile("app/fleet.yaml", "helm:\n  releaseName: app\n");
  f.repo().WriteFile("app/Chart.yaml",
                     absl::StrCat("apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
                                  "- name: web\n  version: '>=1'\n  repository: ",
                                  server.Url("/repo"), "\n"));
  f.repo().Commit("chart with a dependency");
  f.ApplyAndSync();
  INFO(f.Bundle("apps-app").error);
  REQUIRE(f.Bundle("apps-app").error.empty());
  auto content = Unwrap(f.controller().Content(f.BdsOn("c-us-1").at("apps-app").content_hash));
  CHECK_THAT(content, Catch::Matchers::Contains("release: app"));
}

}  // namespace
}  // namespace flotilla::manager
