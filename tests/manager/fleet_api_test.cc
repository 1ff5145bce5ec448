// FleetApi, the operator API without its transport, driven directly with
// Principals over a real SqliteStore and FleetController: three registered
// clusters and two GitRepos synced from a local Git repository. Lists page
// and filter identically for every caller; workspace tokens see only their
// workspace; operations change the controller's state and the audit log.
#include "manager/server/fleet_api.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/audit_chain.h"
#include "common/clock.h"
#include "flotilla/v1/api.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/server/authz.h"
#include "manager/store/records.h"
#include "manager/store/sqlite_store.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using Catch::Matchers::Contains;
using flotilla::testing::TempDir;
using flotilla::testing::TestGitRepo;
using Names = std::vector<std::string>;

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

// The status of a failed call, for asserting its code and message.
template <typename T>
absl::Status ErrorOf(const absl::StatusOr<T>& result) {
  REQUIRE_FALSE(result.ok());
  return result.status();
}

Principal Admin() { return Principal{"token:admin", Role::kAdmin, "*"}; }
Principal Viewer() { return Principal{"token:viewer", Role::kViewer, "*"}; }
Principal OtherWorkspace() { return Principal{"token:other", Role::kAdmin, "other"}; }

std::string ConfigMap(const std::string& name, const std::string& version) {
  return absl::StrCat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ", name,
                      "\ndata:\n  version: ", version, "\n");
}

// Clusters alpha (env=prod, tier=web), bravo (env=prod, tier=db) and charlie
// (env=dev), ids c-<name>. GitRepo "apps" (fleet-default, label team=a) with
// bundles apps-web (tier=web) and apps-db (tier=db) on env=prod; GitRepo
// "infra" (workspace "other", label team=b) with bundle infra-infra on
// env=dev. Agents reported: apps-web Ready on both, apps-db Ready on alpha
// and NotReady on bravo; infra-infra never applied (WaitApplied). alpha and
// bravo have checked in; charlie has not.
class ApiFixture {
 public:
  ApiFixture() {
    store_ = Unwrap(SqliteStore::Open(tmp_.Sub("flotilla.db")));
    ControllerOptions options;
    options.git_cache_dir = tmp_.Sub("git-cache");
    controller_ = std::make_unique<FleetController>(store_.get(), &clock_, options);
    RequireOk(controller_->Load());
    api_ = std::make_unique<FleetApi>(controller_.get(), store_.get(), &clock_, "sha256:pin");
    api_->SetClusterRevokedHook([this](const std::string& id) { revoked_hook_.push_back(id); });

    AddCluster("alpha", {{"env", "prod"}, {"tier", "web"}}, true);
    AddCluster("bravo", {{"env", "prod"}, {"tier", "db"}}, true);
    AddCluster("charlie", {{"env", "dev"}}, false);

    repo_.WriteFile("web/fleet.yaml", "defaultNamespace: web\nlabels:\n  tier: web\n");
    repo_.WriteFile("web/cm.yaml", ConfigMap("web", "v1"));
    repo_.WriteFile("db/fleet.yaml", "defaultNamespace: db\nlabels:\n  tier: db\n");
    repo_.WriteFile("db/cm.yaml", ConfigMap("db", "v1"));
    repo_.WriteFile("infra/fleet.yaml", "defaultNamespace: infra\n");
    repo_.WriteFile("infra/cm.yaml", ConfigMap("infra", "v1"));
    repo_.Commit("v1");
    Unwrap(controller_->ApplyGitRepo(GitRepoYaml("apps", "", "team: a", "[web, db]", "prod"),
                                     "token:setup"));
    Unwrap(controller_->ApplyGitRepo(GitRepoYaml("infra", "other", "team: b", "[infra]", "dev"),
                                     "token:setup"));
    RequireOk(controller_->SyncGitRepo("apps"));
    RequireOk(controller_->SyncGitRepo("infra"));
    Report("apps-web", "c-alpha", v1::READY);
    Report("apps-web", "c-bravo", v1::READY);
    Report("apps-db", "c-alpha", v1::READY);
    Report("apps-db", "c-bravo", v1::NOT_READY);
  }

  std::string GitRepoYaml(const std::string& name, const std::string& ns, const std::string& labels,
                          const std::string& paths, const std::string& env,
                          const std::string& more_spec = "") {
    return absl::StrCat(
        "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: ", name, "\n",
        ns.empty() ? "" : absl::StrCat("  namespace: ", ns, "\n"), "  labels:\n    ", labels,
        "\nspec:\n  repo: ", repo_.dir(), "\n  branch: main\n  paths: ", paths, "\n", more_spec,
        "  targets:\n  - clusterSelector:\n      matchLabels: {env: ", env, "}\n");
  }

  void AddCluster(const std::string& name, const Labels& labels, bool checked_in) {
    ClusterRecord c;
    c.id = "c-" + name;
    c.name = name;
    c.labels = labels;
    c.created = clock_.Now();
    if (checked_in) c.last_seen = clock_.Now();
    c.cert_not_after = clock_.Now() + absl::Hours(24);
    RequireOk(store_->Write([&](Tx& tx) { return tx.InsertCluster(c); }));
    RequireOk(controller_->AddCluster(c));
  }

  // The agent on `cluster_id` reports `state` for the deployment it was told
  // to run.
  void Report(const std::string& bundle, const std::string& cluster_id,
              v1::BundleDeploymentState state) {
    std::string deployment_id;
    for (const auto& bd : controller_->BundleDeployments()) {
      if (bd.bundle == bundle && bd.cluster_id == cluster_id) deployment_id = bd.deployment_id;
    }
    REQUIRE(!deployment_id.empty());
    v1::BundleDeploymentStatus s;
    s.set_bundle_deployment_id(bundle);
    s.set_applied_deployment_id(deployment_id);
    s.set_state(state);
    s.set_ready(state == v1::READY);
    s.set_resource_count(1);
    RequireOk(controller_->ReportStatus(cluster_id, {s}));
  }

  // "bundle/cluster" of every BundleDeployment the list returns, in order.
  Names BdKeys(const Principal& p, v1::ListBundleDeploymentsRequest req = {}) {
    auto resp = Unwrap(api_->ListBundleDeployments(p, req));
    Names out;
    for (const auto& bd : resp.bundle_deployments()) {
      out.push_back(absl::StrCat(bd.bundle_name(), "/", bd.cluster_name()));
    }
    return out;
  }

  FleetApi& api() { return *api_; }
  FleetController& controller() { return *controller_; }
  Store& store() { return *store_; }
  common::SimulatedClock& clock() { return clock_; }
  TestGitRepo& repo() { return repo_; }
  const std::vector<std::string>& revoked_hook() const { return revoked_hook_; }

 private:
  TempDir tmp_;
  TestGitRepo repo_{tmp_.Sub("repo")};
  common::SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<FleetController> controller_;
  std::unique_ptr<FleetApi> api_;
  std::vector<std::string> revoked_hook_;
};

template <typename Item>
Names NamesOf(const google::protobuf::RepeatedPtrField<Item>& items) {
  Names out;
  for (const auto& i : items) out.push_back(i.name());
  return out;
}

// --- Lists: paging ---------------------------------------------------------------

// page_size 1: each page has one object and a token naming it; following the
// tokens visits every object once, in name order, and the last page has no
// token.
TEST_CASE("FleetApi pages of one walk every object once in name order", "[fleet-api]") {
  ApiFixture f;
  SECTION("clusters") {
    Names seen;
    std::vector<std::string> tokens;
    v1::ListClustersRequest req;
    req.mutable_options()->set_page_size(1);
    for (int i = 0; i < 10; ++i) {
      auto resp = Unwrap(f.api().ListClusters(Viewer(), req));
      REQUIRE(resp.clusters_size() == 1);
      seen.push_back(resp.clusters(0).name());
      tokens.push_back(resp.next_page_token());
      if (resp.next_page_token().empty()) break;
      req.mutable_options()->set_page_token(resp.next_page_token());
    }
    CHECK(seen == Names{"alpha", "bravo", "charlie"});
    CHECK(tokens == Names{"alpha", "bravo", ""});
  }
  SECTION("gitrepos") {
    Names seen;
    v1::ListGitReposRequest req;
    req.mutable_options()->set_page_size(1);
    for (int i = 0; i < 10; ++i) {
      auto resp = Unwrap(f.api().ListGitRepos(Viewer(), req));
      REQUIRE(resp.gitrepos_size() == 1);
      seen.push_back(resp.gitrepos(0).name());
      if (resp.next_page_token().empty()) break;
      req.mutable_options()->set_page_token(resp.next_page_token());
    }
    CHECK(seen == Names{"apps", "infra"});
  }
  SECTION("bundles") {
    Names seen;
    v1::ListBundlesRequest req;
    req.mutable_options()->set_page_size(1);
    for (int i = 0; i < 10; ++i) {
      auto resp = Unwrap(f.api().ListBundles(Viewer(), req));
      REQUIRE(resp.bundles_size() == 1);
      seen.push_back(resp.bundles(0).name());
      if (resp.next_page_token().empty()) break;
      req.mutable_options()->set_page_token(resp.next_page_token());
    }
    CHECK(seen == Names{"apps-db", "apps-web", "infra-infra"});
  }
  SECTION("bundledeployments, keyed bundle/cluster") {
    Names seen;
    std::vector<std::string> tokens;
    v1::ListBundleDeploymentsRequest req;
    req.mutable_options()->set_page_size(1);
    for (int i = 0; i < 10; ++i) {
      auto resp = Unwrap(f.api().ListBundleDeployments(Viewer(), req));
      REQUIRE(resp.bundle_deployments_size() == 1);
      seen.push_back(absl::StrCat(resp.bundle_deployments(0).bundle_name(), "/",
                                  resp.bundle_deployments(0).cluster_name()));
      tokens.push_back(resp.next_page_token());
      if (resp.next_page_token().empty()) break;
      req.mutable_options()->set_page_token(resp.next_page_token());
    }
    CHECK(seen == Names{"apps-db/alpha", "apps-db/bravo", "apps-web/alpha", "apps-web/bravo",
                        "infra-infra/charlie"});
    CHECK(tokens ==
          Names{"apps-db/alpha", "apps-db/bravo", "apps-web/alpha", "apps-web/bravo", ""});
  }
  SECTION("a page exactly as large as the rest has no next token") {
    v1::ListClustersRequest req;
    req.mutable_options()->set_page_size(2);
    req.mutable_options()->set_page_token("alpha");
    auto resp = Unwrap(f.api().ListClusters(Viewer(), req));
    CHECK(NamesOf(resp.clusters()) == Names{"bravo", "charlie"});
    CHECK(resp.next_page_token().empty());
  }
  SECTION("page_size 0 is everything") {
    auto resp = Unwrap(f.api().ListClusters(Viewer(), v1::ListClustersRequest()));
    CHECK(NamesOf(resp.clusters()) == Names{"alpha", "bravo", "charlie"});
    CHECK(resp.next_page_token().empty());
  }
}

// A page size below 0 or above 5000 is bad input, whichever list it is.
TEST_CASE("FleetApi refuses a page_size below 0 or above 5000", "[fleet-api]") {
  ApiFixture f;
  for (int size : {-1, 6000}) {
    INFO("page_size " << size);
    const std::string want = absl::StrCat("page_size ", size, " must be between 0 (all) and 5000");
    v1::ListClustersRequest clusters;
    clusters.mutable_options()->set_page_size(size);
    absl::Status st = ErrorOf(f.api().ListClusters(Viewer(), clusters));
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(st.message() == want);
    v1::ListGitReposRequest gitrepos;
    gitrepos.mutable_options()->set_page_size(size);
    st = ErrorOf(f.api().ListGitRepos(Viewer(), gitrepos));
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(st.message() == want);
    v1::ListBundlesRequest bundles;
    bundles.mutable_options()->set_page_size(size);
    st = ErrorOf(f.api().ListBundles(Viewer(), bundles));
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(st.message() == want);
    v1::ListBundleDeploymentsRequest bds;
    bds.mutable_options()->set_page_size(size);
    st = ErrorOf(f.api().ListBundleDeployments(Viewer(), bds));
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(st.message() == want);
  }
  v1::ListClustersRequest max;
  max.mutable_options()->set_page_size(5000);
  CHECK(Unwrap(f.api().ListClusters(Viewer(), max)).clusters_size() == 3);
}

// --- Lists: filters ----------------------------------------------------------------

TEST_CASE("FleetApi label selectors filter clusters, GitRepos, bundles and deployments",
          "[fleet-api]") {
  ApiFixture f;
  v1::ListClustersRequest clusters;
  clusters.mutable_options()->set_label_selector("env=prod");
  CHECK(NamesOf(Unwrap(f.api().ListClusters(Viewer(), clusters)).clusters()) ==
        Names{"alpha", "bravo"});
  clusters.mutable_options()->set_label_selector("env=prod,tier notin (web)");
  CHECK(NamesOf(Unwrap(f.api().ListClusters(Viewer(), clusters)).clusters()) == Names{"bravo"});
  clusters.mutable_options()->set_label_selector("!tier");
  CHECK(NamesOf(Unwrap(f.api().ListClusters(Viewer(), clusters)).clusters()) == Names{"charlie"});

  v1::ListGitReposRequest gitrepos;
  gitrepos.mutable_options()->set_label_selector("team=b");
  CHECK(NamesOf(Unwrap(f.api().ListGitRepos(Viewer(), gitrepos)).gitrepos()) == Names{"infra"});
  gitrepos.mutable_options()->set_label_selector("team in (a,b)");
  CHECK(NamesOf(Unwrap(f.api().ListGitRepos(Viewer(), gitrepos)).gitrepos()) ==
        Names{"apps", "infra"});

  v1::ListBundlesRequest bundles;
  bundles.mutable_options()->set_label_selector("tier=db");
  CHECK(NamesOf(Unwrap(f.api().ListBundles(Viewer(), bundles)).bundles()) == Names{"apps-db"});

  // A deployment matches through its bundle's labels.
  v1::ListBundleDeploymentsRequest bds;
  bds.mutable_options()->set_label_selector("tier=web");
  CHECK(f.BdKeys(Viewer(), bds) == Names{"apps-web/alpha", "apps-web/bravo"});
}

TEST_CASE("FleetApi refuses a malformed label_selector naming it", "[fleet-api]") {
  ApiFixture f;
  v1::ListClustersRequest clusters;
  clusters.mutable_options()->set_label_selector("env in prod");
  absl::Status st = ErrorOf(f.api().ListClusters(Viewer(), clusters));
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()), Contains("label_selector \"env in prod\": "));
  v1::ListGitReposRequest gitrepos;
  gitrepos.mutable_options()->set_label_selector("team in (a");
  st = ErrorOf(f.api().ListGitRepos(Viewer(), gitrepos));
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(st.message() ==
        "label_selector \"team in (a\": selector \"team in (a\": unbalanced parentheses");
  v1::ListBundleDeploymentsRequest bds;
  bds.mutable_options()->set_label_selector("a=b,,=");
  st = ErrorOf(f.api().ListBundleDeployments(Viewer(), bds));
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()), Contains("label_selector \"a=b,,=\": "));
}

// Fleet state names: bundles by their worst deployment, clusters by their
// display state (Ready when it has none), deployments by their effective
// state.
TEST_CASE("FleetApi state filters select bundles, clusters and deployments by Fleet state",
          "[fleet-api]") {
  ApiFixture f;
  auto bundles_in = [&](const std::string& state) {
    v1::ListBundlesRequest req;
    req.set_state(state);
    return NamesOf(Unwrap(f.api().ListBundles(Viewer(), req)).bundles());
  };
  CHECK(bundles_in("Ready") == Names{"apps-web"});
  CHECK(bundles_in("NotReady") == Names{"apps-db"});
  CHECK(bundles_in("WaitApplied") == Names{"infra-infra"});
  CHECK(bundles_in("Modified").empty());

  auto clusters_in = [&](const std::string& state) {
    v1::ListClustersRequest req;
    req.set_state(state);
    return NamesOf(Unwrap(f.api().ListClusters(Viewer(), req)).clusters());
  };
  CHECK(clusters_in("Ready") == Names{"alpha"});
  CHECK(clusters_in("NotReady") == Names{"bravo"});
  CHECK(clusters_in("WaitCheckIn") == Names{"charlie"});

  auto bds_in = [&](const std::string& state) {
    v1::ListBundleDeploymentsRequest req;
    req.set_state(state);
    return f.BdKeys(Viewer(), req);
  };
  CHECK(bds_in("Ready") == Names{"apps-db/alpha", "apps-web/alpha", "apps-web/bravo"});
  CHECK(bds_in("NotReady") == Names{"apps-db/bravo"});
  CHECK(bds_in("WaitApplied") == Names{"infra-infra/charlie"});
  CHECK(bds_in("OutOfSync").empty());

  // Field filters combine with the state.
  v1::ListBundleDeploymentsRequest req;
  req.set_state("Ready");
  req.set_cluster("bravo");
  CHECK(f.BdKeys(Viewer(), req) == Names{"apps-web/bravo"});
  req.set_cluster("c-alpha");  // by id as well
  req.set_bundle_name("apps-db");
  CHECK(f.BdKeys(Viewer(), req) == Names{"apps-db/alpha"});
  req.set_cluster("nowhere");
  absl::Status st = ErrorOf(f.api().ListBundleDeployments(Viewer(), req));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "cluster \"nowhere\" not found");
}

// --- Gets ------------------------------------------------------------------------

TEST_CASE("FleetApi Get calls answer NotFound naming the kind and the name", "[fleet-api]") {
  ApiFixture f;
  v1::GetRequest get;
  get.set_name("nope");
  absl::Status st = ErrorOf(f.api().GetGitRepo(Viewer(), get));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "gitrepo \"nope\" not found");
  st = ErrorOf(f.api().GetBundle(Viewer(), get));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "bundle \"nope\" not found");
  st = ErrorOf(f.api().GetCluster(Viewer(), get));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "cluster \"nope\" not found");
  st = ErrorOf(f.api().GetClusterGroup(Viewer(), get));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "clustergroup \"nope\" not found");

  get.set_name("apps");
  v1::GitRepo g = Unwrap(f.api().GetGitRepo(Viewer(), get));
  CHECK(g.workspace() == "fleet-default");
  CHECK(g.bundle_count() == 2);
  CHECK(g.labels().at("team") == "a");
  CHECK(g.commit() == f.repo().Head());
  get.set_name("apps-web");
  v1::Bundle b = Unwrap(f.api().GetBundle(Viewer(), get));
  CHECK(b.gitrepo_name() == "apps");
  CHECK(b.ready() == 2);
  CHECK(b.desired() == 2);
  get.set_name("c-bravo");  // a cluster by id or name
  v1::Cluster c = Unwrap(f.api().GetCluster(Viewer(), get));
  CHECK(c.name() == "bravo");
  CHECK(c.display_state() == "NotReady");
}

// --- Workspaces -------------------------------------------------------------------

// A token for workspace "other" lists only infra's objects, is refused
// fleet-default's GitRepo by name, and still reads every cluster.
TEST_CASE("FleetApi shows a workspace token only its workspace's GitRepos and bundles",
          "[fleet-api]") {
  ApiFixture f;
  const Principal other = OtherWorkspace();
  CHECK(NamesOf(Unwrap(f.api().ListGitRepos(other, v1::ListGitReposRequest())).gitrepos()) ==
        Names{"infra"});
  CHECK(NamesOf(Unwrap(f.api().ListBundles(other, v1::ListBundlesRequest())).bundles()) ==
        Names{"infra-infra"});
  CHECK(f.BdKeys(other) == Names{"infra-infra/charlie"});
  v1::ListBundleDeploymentsRequest apps_bds;
  apps_bds.set_gitrepo_name("apps");
  CHECK(f.BdKeys(other, apps_bds).empty());

  const Principal elsewhere{"token:x", Role::kViewer, "elsewhere"};
  CHECK(Unwrap(f.api().ListGitRepos(elsewhere, v1::ListGitReposRequest())).gitrepos().empty());
  CHECK(Unwrap(f.api().ListBundles(elsewhere, v1::ListBundlesRequest())).bundles().empty());
  CHECK(f.BdKeys(elsewhere).empty());

  v1::GetRequest get;
  get.set_name("apps");
  absl::Status st = ErrorOf(f.api().GetGitRepo(other, get));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(st.message() == "this token is limited to workspace other, not fleet-default");
  get.set_name("apps-web");
  st = ErrorOf(f.api().GetBundle(other, get));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(st.message() == "this token is limited to workspace other, not fleet-default");
  get.set_name("infra");
  CHECK(Unwrap(f.api().GetGitRepo(other, get)).workspace() == "other");

  CHECK(NamesOf(Unwrap(f.api().ListClusters(other, v1::ListClustersRequest())).clusters()) ==
        Names{"alpha", "bravo", "charlie"});
  get.set_name("alpha");
  CHECK(Unwrap(f.api().GetCluster(other, get)).id() == "c-alpha");
  CHECK(Unwrap(f.api().ListAudit(other, v1::ListAuditRequest())).events_size() > 0);

  // Changes: only its own GitRepos, nothing fleet-wide.
  v1::SetPausedRequest pause;
  pause.set_kind("gitrepo");
  pause.set_name("apps");
  pause.set_paused(true);
  st = ErrorOf(f.api().SetPaused(other, pause));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(st.message() == "this token is limited to workspace other, not fleet-default");
  pause.set_name("infra");
  CHECK(Unwrap(f.api().SetPaused(other, pause)).changed());
  v1::RevokeClusterRequest revoke;
  revoke.set_cluster("alpha");
  st = ErrorOf(f.api().RevokeCluster(other, revoke));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(st.message() ==
        "this token is limited to workspace other; RevokeCluster changes fleet-wide objects and "
        "needs a token for every workspace (*)");
  CHECK(f.revoked_hook().empty());
}

// --- Pause, resync, revoke -----------------------------------------------------------

// Pausing a GitRepo rewrites its document with spec.paused: true; a new
// commit is then staged, not released, so changed bundles' deployments show
// OutOfSync. Pausing again changes nothing.
TEST_CASE("FleetApi SetPaused on a GitRepo keeps new commits staged as OutOfSync", "[fleet-api]") {
  ApiFixture f;
  const Principal deployer{"token:dep", Role::kDeployer, "*"};
  v1::SetPausedRequest pause;
  pause.set_kind("GitRepo");
  pause.set_name("apps");
  pause.set_paused(true);
  CHECK(Unwrap(f.api().SetPaused(deployer, pause)).changed());

  v1::GetRequest get;
  get.set_name("apps");
  v1::GitRepo g = Unwrap(f.api().GetGitRepo(Viewer(), get));
  CHECK(g.paused());
  CHECK_THAT(g.spec_yaml(), Contains("paused: true"));

  f.repo().WriteFile("web/cm.yaml", ConfigMap("web", "v2"));
  const std::string second = f.repo().Commit("v2");
  RequireOk(f.controller().SyncGitRepo("apps"));
  CHECK(Unwrap(f.api().GetGitRepo(Viewer(), get)).commit() == second);
  v1::ListBundleDeploymentsRequest out_of_sync;
  out_of_sync.set_state("OutOfSync");
  CHECK(f.BdKeys(Viewer(), out_of_sync) == Names{"apps-web/alpha", "apps-web/bravo"});
  get.set_name("apps-web");
  CHECK(Unwrap(f.api().GetBundle(Viewer(), get)).state() == v1::OUT_OF_SYNC);

  CHECK_FALSE(Unwrap(f.api().SetPaused(deployer, pause)).changed());

  pause.set_paused(false);
  CHECK(Unwrap(f.api().SetPaused(deployer, pause)).changed());
  CHECK(f.BdKeys(Viewer(), out_of_sync).empty());
  CHECK_FALSE(Unwrap(f.api().SetPaused(deployer, pause)).changed());
  get.set_name("apps");
  CHECK_FALSE(Unwrap(f.api().GetGitRepo(Viewer(), get)).paused());
}

TEST_CASE("FleetApi SetPaused on a cluster marks it paused once", "[fleet-api]") {
  ApiFixture f;
  const Principal cluster_admin{"token:ca", Role::kClusterAdmin, "*"};
  v1::SetPausedRequest pause;
  pause.set_kind("cluster");
  pause.set_name("bravo");
  pause.set_paused(true);
  CHECK(Unwrap(f.api().SetPaused(cluster_admin, pause)).changed());
  CHECK_FALSE(Unwrap(f.api().SetPaused(cluster_admin, pause)).changed());
  v1::GetRequest get;
  get.set_name("bravo");
  CHECK(Unwrap(f.api().GetCluster(Viewer(), get)).paused());
  get.set_name("alpha");
  CHECK_FALSE(Unwrap(f.api().GetCluster(Viewer(), get)).paused());

  absl::Status st = ErrorOf(f.api().SetPaused(Viewer(), pause));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(
      st.message() ==
      "role viewer may not call SetPaused on a cluster (it needs deployer, cluster-admin, admin)");
  pause.set_name("nope");
  st = ErrorOf(f.api().SetPaused(cluster_admin, pause));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(st.message()), Contains("nope"));
  pause.set_kind("bundle");
  st = ErrorOf(f.api().SetPaused(Admin(), pause));
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(st.message() == "cannot pause \"bundle\": pause a gitrepo or a cluster");
}

TEST_CASE("FleetApi Resync of an unknown GitRepo is NotFound", "[fleet-api]") {
  ApiFixture f;
  v1::ResyncRequest req;
  req.set_gitrepo("nope");
  absl::Status st = ErrorOf(f.api().Resync(Admin(), req));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "gitrepo \"nope\" not found");
  req.set_gitrepo("apps");
  RequireOk(f.api().Resync(Admin(), req).status());
  v1::ListAuditRequest audit;
  audit.set_resource("gitrepo/apps");
  auto events = Unwrap(f.api().ListAudit(Viewer(), audit)).events();
  REQUIRE(!events.empty());
  CHECK(events.rbegin()->action() == "gitrepo.resync");
  CHECK(events.rbegin()->actor() == "token:admin");
}

// Revoking: the hook gets the cluster id (to close its streams), the
// cluster shows revoked and no longer has deployments.
TEST_CASE("FleetApi RevokeCluster calls the hook and removes the cluster's deployments",
          "[fleet-api]") {
  ApiFixture f;
  const Principal cluster_admin{"token:ca", Role::kClusterAdmin, "*"};
  v1::RevokeClusterRequest req;
  req.set_cluster("alpha");
  v1::Cluster c = Unwrap(f.api().RevokeCluster(cluster_admin, req));
  CHECK(c.id() == "c-alpha");
  CHECK(c.revoked());
  CHECK(f.revoked_hook() == std::vector<std::string>{"c-alpha"});

  v1::GetRequest get;
  get.set_name("alpha");
  CHECK(Unwrap(f.api().GetCluster(Viewer(), get)).revoked());
  v1::ListBundleDeploymentsRequest on_alpha;
  on_alpha.set_cluster("alpha");
  CHECK(f.BdKeys(Viewer(), on_alpha).empty());
  CHECK(f.BdKeys(Viewer()) == Names{"apps-db/bravo", "apps-web/bravo", "infra-infra/charlie"});

  v1::ListAuditRequest audit;
  audit.set_resource("cluster/c-alpha");
  auto events = Unwrap(f.api().ListAudit(Viewer(), audit)).events();
  REQUIRE(events.size() == 1);
  CHECK(events[0].action() == "cluster.revoke");
  CHECK(events[0].actor() == "token:ca");

  req.set_cluster("nope");
  absl::Status st = ErrorOf(f.api().RevokeCluster(cluster_admin, req));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(f.revoked_hook().size() == 1);
  st = ErrorOf(f.api().RevokeCluster(Principal{"token:d", Role::kDeployer, "*"}, req));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(st.message() == "role deployer may not call RevokeCluster (it needs cluster-admin, admin)");
}

// --- Tokens -----------------------------------------------------------------------------

TEST_CASE("FleetApi CreateApiToken checks role and workspace and the token authenticates",
          "[fleet-api]") {
  ApiFixture f;
  v1::CreateApiTokenRequest req;
  req.set_role("root");
  absl::Status st = ErrorOf(f.api().CreateApiToken(Admin(), req));
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(st.message() == "role \"root\" is not one of viewer, deployer, cluster-admin, admin");

  req.set_role("deployer");
  req.set_workspace("bad workspace!");
  st = ErrorOf(f.api().CreateApiToken(Admin(), req));
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()), Contains("\"bad workspace!\""));

  st = ErrorOf(f.api().CreateApiToken(Principal{"token:ca", Role::kClusterAdmin, "*"}, req));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
  CHECK(st.message() == "role cluster-admin may not call CreateApiToken (it needs admin)");

  req.set_workspace("team-a");
  req.set_description("ci");
  auto created = Unwrap(f.api().CreateApiToken(Admin(), req));
  CHECK_THAT(created.token(),
             Catch::Matchers::StartsWith("flta." + created.api_token().id() + "."));
  CHECK(created.api_token().role() == "deployer");
  CHECK(created.api_token().workspace() == "team-a");
  CHECK(created.api_token().description() == "ci");
  CHECK(created.api_token().expires_unix_millis() == 0);

  Principal p = Unwrap(f.api().Authenticate("Bearer " + created.token()));
  CHECK(p.actor == "token:" + created.api_token().id());
  CHECK(p.role == Role::kDeployer);
  CHECK(p.workspace == "team-a");

  // No workspace is every workspace; a TTL sets the expiry.
  v1::CreateApiTokenRequest all;
  all.set_role("viewer");
  all.set_ttl_seconds(3600);
  auto viewer = Unwrap(f.api().CreateApiToken(Admin(), all));
  CHECK(viewer.api_token().workspace() == "*");
  CHECK(viewer.api_token().expires_unix_millis() ==
        absl::ToUnixMillis(f.clock().Now() + absl::Hours(1)));
  Principal vp = Unwrap(f.api().Authenticate("Bearer " + viewer.token()));
  CHECK(vp.role == Role::kViewer);
  CHECK(vp.AllWorkspaces());
  f.clock().Advance(absl::Hours(1));
  st = ErrorOf(f.api().Authenticate("Bearer " + viewer.token()));
  CHECK(st.code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("FleetApi RevokeApiToken makes the token fail to authenticate", "[fleet-api]") {
  ApiFixture f;
  v1::CreateApiTokenRequest req;
  req.set_role("admin");
  auto created = Unwrap(f.api().CreateApiToken(Admin(), req));
  const std::string bearer = "Bearer " + created.token();
  RequireOk(f.api().Authenticate(bearer).status());

  v1::RevokeTokenRequest revoke;
  revoke.set_id(created.api_token().id());
  RequireOk(f.api().RevokeApiToken(Admin(), revoke).status());
  absl::Status st = ErrorOf(f.api().Authenticate(bearer));
  CHECK(st.code() == absl::StatusCode::kUnauthenticated);
  CHECK(st.message() ==
        "invalid, expired or revoked API token (send \"authorization: Bearer "
        "flta.<id>.<secret>\")");
  auto tokens = Unwrap(f.api().ListApiTokens(Admin(), v1::ListApiTokensRequest()));
  REQUIRE(tokens.tokens_size() == 1);
  CHECK(tokens.tokens(0).revoked_unix_millis() == absl::ToUnixMillis(f.clock().Now()));
  // Again: still OK, nothing new in the log.
  const int64_t rows = Unwrap(f.api().ListAudit(Admin(), v1::ListAuditRequest())).last_seq();
  RequireOk(f.api().RevokeApiToken(Admin(), revoke).status());
  CHECK(Unwrap(f.api().ListAudit(Admin(), v1::ListAuditRequest())).last_seq() == rows);

  revoke.set_id("zzz");
  st = ErrorOf(f.api().RevokeApiToken(Admin(), revoke));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "API token \"zzz\" not found");

  st = ErrorOf(f.api().Authenticate(""));
  CHECK(st.code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(st.message()), Contains("missing API token"));
  st = ErrorOf(f.api().Authenticate("Basic abc"));
  CHECK(st.code() == absl::StatusCode::kUnauthenticated);
  CHECK(st.message() == "authorization must be \"Bearer flta.<id>.<secret>\" (an API token)");
}

TEST_CASE("FleetApi lists and revokes registration tokens", "[fleet-api]") {
  ApiFixture f;
  const Principal cluster_admin{"token:ca", Role::kClusterAdmin, "*"};
  v1::CreateRegistrationTokenRequest req;
  req.set_max_uses(3);
  req.set_cluster_name("delta");
  (*req.mutable_labels())["env"] = "prod";
  auto created = Unwrap(f.api().CreateRegistrationToken(cluster_admin, req));
  CHECK_THAT(created.token(), Catch::Matchers::StartsWith("flt1." + created.id() + "."));
  CHECK(created.ca_pin() == "sha256:pin");
  CHECK(created.expires_unix_millis() == absl::ToUnixMillis(f.clock().Now() + absl::Hours(1)));

  auto list = Unwrap(f.api().ListRegistrationTokens(cluster_admin, {}));
  REQUIRE(list.tokens_size() == 1);
  CHECK(list.tokens(0).id() == created.id());
  CHECK(list.tokens(0).created_by() == "token:ca");
  CHECK(list.tokens(0).max_uses() == 3);
  CHECK(list.tokens(0).uses() == 0);
  CHECK(list.tokens(0).cluster_name() == "delta");
  CHECK(list.tokens(0).labels().at("env") == "prod");
  CHECK(list.tokens(0).revoked_unix_millis() == 0);

  f.clock().Advance(absl::Seconds(5));
  v1::RevokeTokenRequest revoke;
  revoke.set_id(created.id());
  RequireOk(f.api().RevokeRegistrationToken(cluster_admin, revoke).status());
  list = Unwrap(f.api().ListRegistrationTokens(cluster_admin, {}));
  REQUIRE(list.tokens_size() == 1);
  CHECK(list.tokens(0).revoked_unix_millis() == absl::ToUnixMillis(f.clock().Now()));

  v1::ListAuditRequest audit;
  audit.set_resource("registrationtoken/" + created.id());
  auto events = Unwrap(f.api().ListAudit(Viewer(), audit)).events();
  REQUIRE(events.size() == 2);
  CHECK(events[0].action() == "token.create");
  CHECK(events[0].actor() == "token:ca");
  CHECK(events[0].details() == "ttl=1h max_uses=3");
  CHECK(events[1].action() == "registrationtoken.revoke");
  CHECK(events[1].actor() == "token:ca");

  // Revoking again changes nothing and writes no second audit row.
  f.clock().Advance(absl::Seconds(5));
  RequireOk(f.api().RevokeRegistrationToken(cluster_admin, revoke).status());
  CHECK(Unwrap(f.api().ListAudit(Viewer(), audit)).events().size() == 2);
  CHECK(Unwrap(f.api().ListRegistrationTokens(cluster_admin, {})).tokens(0).revoked_unix_millis() ==
        absl::ToUnixMillis(f.clock().Now() - absl::Seconds(5)));

  revoke.set_id("zzz");
  absl::Status st = ErrorOf(f.api().RevokeRegistrationToken(cluster_admin, revoke));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "registration token \"zzz\" not found");
  st = ErrorOf(f.api().ListRegistrationTokens(Principal{"token:d", Role::kDeployer, "*"}, {}));
  CHECK(st.code() == absl::StatusCode::kPermissionDenied);
}

// --- Audit ------------------------------------------------------------------------

// Six rows: the fixture's two applies, then resync apps, pause bravo, resync
// infra, resync apps. Pages of two follow last_seq; the resource filter
// keeps paging the log until its page is full or the log ends.
TEST_CASE("FleetApi ListAudit pages by after_seq and filters by resource", "[fleet-api]") {
  ApiFixture f;
  v1::ResyncRequest resync;
  resync.set_gitrepo("apps");
  RequireOk(f.api().Resync(Admin(), resync).status());
  v1::SetPausedRequest pause;
  pause.set_kind("cluster");
  pause.set_name("bravo");
  pause.set_paused(true);
  RequireOk(f.api().SetPaused(Admin(), pause).status());
  resync.set_gitrepo("infra");
  RequireOk(f.api().Resync(Admin(), resync).status());
  resync.set_gitrepo("apps");
  RequireOk(f.api().Resync(Admin(), resync).status());

  auto all = Unwrap(f.api().ListAudit(Viewer(), v1::ListAuditRequest()));
  std::vector<std::string> rows;
  for (const auto& e : all.events()) {
    rows.push_back(absl::StrCat(e.seq(), " ", e.action(), " ", e.resource()));
  }
  CHECK(rows == std::vector<std::string>{
                    "1 gitrepo.apply gitrepo/apps", "2 gitrepo.apply gitrepo/infra",
                    "3 gitrepo.resync gitrepo/apps", "4 cluster.pause cluster/c-bravo",
                    "5 gitrepo.resync gitrepo/infra", "6 gitrepo.resync gitrepo/apps"});
  CHECK(all.last_seq() == 6);

  // The stored rows form the hash chain `flotilla audit verify` recomputes.
  std::string previous(common::kAuditChainGenesis);
  for (const auto& e : all.events()) {
    INFO("row " << e.seq());
    common::AuditChainFields fields{e.seq(),      e.time_unix_millis(), e.actor(),  e.action(),
                                    e.resource(), e.outcome(),          e.details()};
    CHECK(e.hash() == common::AuditChainHash(previous, fields));
    previous = e.hash();
  }

  v1::ListAuditRequest req;
  req.set_limit(2);
  std::vector<std::vector<int64_t>> pages;
  std::vector<int64_t> last;
  for (int i = 0; i < 5; ++i) {
    auto resp = Unwrap(f.api().ListAudit(Viewer(), req));
    std::vector<int64_t> seqs;
    for (const auto& e : resp.events()) seqs.push_back(e.seq());
    pages.push_back(seqs);
    last.push_back(resp.last_seq());
    if (resp.events().empty()) break;
    req.set_after_seq(resp.last_seq());
  }
  CHECK(pages == std::vector<std::vector<int64_t>>{{1, 2}, {3, 4}, {5, 6}, {}});
  CHECK(last == std::vector<int64_t>{2, 4, 6, 6});

  v1::ListAuditRequest apps;
  apps.set_limit(2);
  apps.set_resource("gitrepo/apps");
  auto first = Unwrap(f.api().ListAudit(Viewer(), apps));
  REQUIRE(first.events_size() == 2);
  CHECK(first.events(0).seq() == 1);
  CHECK(first.events(1).seq() == 3);
  CHECK(first.last_seq() == 3);
  apps.set_after_seq(first.last_seq());
  auto second = Unwrap(f.api().ListAudit(Viewer(), apps));
  REQUIRE(second.events_size() == 1);
  CHECK(second.events(0).seq() == 6);
  CHECK(second.events(0).action() == "gitrepo.resync");
  CHECK(second.last_seq() == 6);

  for (int limit : {-1, 1001}) {
    v1::ListAuditRequest bad;
    bad.set_limit(limit);
    absl::Status st = ErrorOf(f.api().ListAudit(Viewer(), bad));
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(st.message() ==
          absl::StrCat("limit ", limit, " must be between 0 (default 100) and 1000"));
  }
}

// Authenticate writes last_used when it is more than a minute old, so a
// busy token costs one store write a minute, not one per call.
TEST_CASE("FleetApi Authenticate records a token's last use at most once a minute", "[fleet-api]") {
  ApiFixture f;
  v1::CreateApiTokenRequest req;
  req.set_role("viewer");
  auto created = Unwrap(f.api().CreateApiToken(Admin(), req));
  auto last_used = [&]() {
    auto tokens = Unwrap(f.api().ListApiTokens(Admin(), v1::ListApiTokensRequest()));
    REQUIRE(tokens.tokens_size() == 1);
    return tokens.tokens(0).last_used_unix_millis();
  };
  CHECK(last_used() == 0);
  const absl::Time t0 = f.clock().Now();
  RequireOk(f.api().Authenticate("Bearer " + created.token()).status());
  CHECK(last_used() == absl::ToUnixMillis(t0));
  f.clock().Advance(absl::Seconds(30));
  RequireOk(f.api().Authenticate("Bearer " + created.token()).status());
  CHECK(last_used() == absl::ToUnixMillis(t0));
  f.clock().Advance(absl::Seconds(30));  // exactly a minute: not more than one
  RequireOk(f.api().Authenticate("Bearer " + created.token()).status());
  CHECK(last_used() == absl::ToUnixMillis(t0));
  f.clock().Advance(absl::Seconds(1));
  RequireOk(f.api().Authenticate("Bearer " + created.token()).status());
  CHECK(last_used() == absl::ToUnixMillis(t0 + absl::Seconds(61)));
}

}  // namespace
}  // namespace flotilla::manager

namespace flotilla::manager {
namespace {

// A workspace token naming a GitRepo that does not exist learns that it does
// not exist, not that it lacks a fleet-wide permission.
TEST_CASE("FleetApi answers NotFound to a workspace token acting on an unknown GitRepo",
          "[fleet-api]") {
  ApiFixture f;
  const Principal scoped{"token:w", Role::kDeployer, "other"};
  v1::SetPausedRequest pause;
  pause.set_kind("gitrepo");
  pause.set_name("typo");
  pause.set_paused(true);
  absl::Status st = ErrorOf(f.api().SetPaused(scoped, pause));
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == "gitrepo \"typo\" not found");
  v1::ResyncRequest resync;
  resync.set_gitrepo("typo");
  CHECK(ErrorOf(f.api().Resync(scoped, resync)).code() == absl::StatusCode::kNotFound);
  // A role that may not pause at all is still refused first.
  CHECK(ErrorOf(f.api().SetPaused(Principal{"token:v", Role::kViewer, "other"}, pause)).code() ==
        absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace flotilla::manager
