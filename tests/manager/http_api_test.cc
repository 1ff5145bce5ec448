// The JSON mirror of the operator API's reads (GET /api/v1/...): the
// manager's HttpServer on 127.0.0.1:0 answering through ServeHttpApi over a
// FleetApi on a real SqliteStore and FleetController (two clusters, GitRepo
// "apps" in fleet-default and "infra" in workspace "other", synced from a
// local Git repository), asked by a plain HTTP client. Bodies are protobuf
// JSON (camelCase, int64 as strings, default values left out); errors are
// {"code", "message"} with the HTTP status for the code.
#include "manager/server/http_api.h"

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
#include "common/clock.h"
#include "manager/controller/fleet_controller.h"
#include "manager/server/fleet_api.h"
#include "manager/server/http_server.h"
#include "manager/server/tokens.h"
#include "manager/store/records.h"
#include "manager/store/sqlite_store.h"
#include "nlohmann/json.hpp"
#include "tests/support/e2e_process.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using Catch::Matchers::Contains;
using flotilla::testing::TempDir;
using flotilla::testing::TestGitRepo;
using Json = nlohmann::json;
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

struct Reply {
  int status = 0;
  Json body;
};

// Clusters alpha (env=prod, checked in) and bravo (env=prod, tier=db, never
// checked in); GitRepo "apps" (label team=a, fleet-default) with bundle
// apps-web on both, Ready on alpha; GitRepo "infra" (label team=b, workspace
// "other") with bundle infra-infra on both, never applied.
class HttpApiFixture {
 public:
  HttpApiFixture() {
    store_ = Unwrap(SqliteStore::Open(tmp_.Sub("flotilla.db")));
    ControllerOptions options;
    options.git_cache_dir = tmp_.Sub("git-cache");
    controller_ = std::make_unique<FleetController>(store_.get(), &clock_, options);
    RequireOk(controller_->Load());
    api_ = std::make_unique<FleetApi>(controller_.get(), store_.get(), &clock_, "sha256:pin");

    AddCluster("alpha", {{"env", "prod"}}, true);
    AddCluster("bravo", {{"env", "prod"}, {"tier", "db"}}, false);
    repo_.WriteFile("web/fleet.yaml", "defaultNamespace: web\n");
    repo_.WriteFile("web/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  v: '1'\n");
    repo_.WriteFile("infra/fleet.yaml", "defaultNamespace: infra\n");
    repo_.WriteFile("infra/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: infra\ndata:\n  v: '1'\n");
    repo_.Commit("v1");
    Unwrap(controller_->ApplyGitRepo(GitRepoYaml("apps", "", "team: a", "[web]"), "token:setup"));
    Unwrap(controller_->ApplyGitRepo(GitRepoYaml("infra", "other", "team: b", "[infra]"),
                                     "token:setup"));
    RequireOk(controller_->SyncGitRepo("apps"));
    RequireOk(controller_->SyncGitRepo("infra"));
    std::string deployment_id;
    for (const auto& bd : controller_->BundleDeployments()) {
      if (bd.bundle == "apps-web" && bd.cluster_id == "c-alpha") deployment_id = bd.deployment_id;
    }
    REQUIRE(!deployment_id.empty());
    v1::BundleDeploymentStatus s;
    s.set_bundle_deployment_id("apps-web");
    s.set_applied_deployment_id(deployment_id);
    s.set_state(v1::READY);
    s.set_ready(true);
    RequireOk(controller_->ReportStatus("c-alpha", {s}));

    admin_ = Token("admin", "*");
    http_ = std::make_unique<HttpServer>([] { return std::string(); }, [] { return true; });
    http_->SetApiHandler([this](const std::string& path,
                                const std::map<std::string, std::string>& query,
                                const std::string& authorization) {
      return ServeHttpApi(*api_, path, query, authorization);
    });
    port_ = Unwrap(http_->Start("127.0.0.1", 0));
  }
  ~HttpApiFixture() { http_->Stop(); }
  HttpApiFixture(const HttpApiFixture&) = delete;
  HttpApiFixture& operator=(const HttpApiFixture&) = delete;

  std::string GitRepoYaml(const std::string& name, const std::string& ns, const std::string& labels,
                          const std::string& paths) {
    return absl::StrCat(
        "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: ", name, "\n",
        ns.empty() ? "" : absl::StrCat("  namespace: ", ns, "\n"), "  labels:\n    ", labels,
        "\nspec:\n  repo: ", repo_.dir(), "\n  branch: main\n  paths: ", paths,
        "\n  targets:\n  - clusterSelector:\n      matchLabels: {env: prod}\n");
  }

  void AddCluster(const std::string& name, const Labels& labels, bool checked_in) {
    ClusterRecord c;
    c.id = "c-" + name;
    c.name = name;
    c.labels = labels;
    c.created = clock_.Now();
    if (checked_in) c.last_seen = clock_.Now();
    RequireOk(store_->Write([&](Tx& tx) { return tx.InsertCluster(c); }));
    RequireOk(controller_->AddCluster(c));
  }

  // A new API token "flta.<id>.<secret>".
  std::string Token(const std::string& role, const std::string& workspace) {
    ApiTokenOptions o;
    o.role = role;
    o.workspace = workspace;
    o.created_by = "manager";
    return Unwrap(CreateApiToken(*store_, clock_, o)).first;
  }

  // GET `path` with "Authorization: Bearer <token>" (none when empty); the
  // body must be JSON.
  Reply Get(const std::string& path, const std::string& token) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
    testing::HttpResponse r =
        testing::HttpRequest(absl::StrCat("127.0.0.1:", port_), "GET", path, headers, "");
    INFO("GET " << path << " -> " << r.status << " " << r.body);
    REQUIRE(r.status != 0);
    Json body = Json::parse(r.body, nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    return {r.status, body};
  }

  const std::string& admin() const { return admin_; }
  int port() const { return port_; }
  common::SimulatedClock& clock() { return clock_; }

 private:
  TempDir tmp_;
  TestGitRepo repo_{tmp_.Sub("repo")};
  common::SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<FleetController> controller_;
  std::unique_ptr<FleetApi> api_;
  std::unique_ptr<HttpServer> http_;
  std::string admin_;
  int port_ = 0;
};

Names NamesIn(const Json& list, const char* field, const char* key = "name") {
  Names out;
  if (!list.contains(field)) return out;
  for (const auto& item : list[field]) out.push_back(item[key].get<std::string>());
  return out;
}

TEST_CASE("GET /api/v1/clusters lists clusters as protobuf JSON", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/clusters", f.admin());
  CHECK(r.status == 200);
  REQUIRE(r.body["clusters"].is_array());
  CHECK(NamesIn(r.body, "clusters") == Names{"alpha", "bravo"});
  const Json& alpha = r.body["clusters"][0];
  CHECK(alpha["id"] == "c-alpha");
  CHECK(alpha["labels"] == Json{{"env", "prod"}});
  CHECK(alpha["readyBundles"] == 1);
  CHECK(alpha["desiredBundles"] == 2);  // apps-web and infra-infra
  CHECK(alpha["createdUnixMillis"] == std::to_string(absl::ToUnixMillis(f.clock().Now())));
  CHECK_FALSE(r.body.contains("nextPageToken"));
  CHECK(r.body["clusters"][1]["displayState"] == "WaitCheckIn");

  r = f.Get("/api/v1/clusters?pageSize=1", f.admin());
  CHECK(r.status == 200);
  CHECK(NamesIn(r.body, "clusters") == Names{"alpha"});
  CHECK(r.body["nextPageToken"] == "alpha");
  r = f.Get("/api/v1/clusters?pageSize=1&pageToken=alpha", f.admin());
  CHECK(NamesIn(r.body, "clusters") == Names{"bravo"});
  CHECK_FALSE(r.body.contains("nextPageToken"));

  r = f.Get("/api/v1/clusters?state=WaitCheckIn", f.admin());
  CHECK(r.status == 200);
  CHECK(NamesIn(r.body, "clusters") == Names{"bravo"});
}

TEST_CASE("GET /api/v1/clusters/NAME answers one cluster by name or id", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/clusters/bravo", f.admin());
  CHECK(r.status == 200);
  CHECK(r.body["name"] == "bravo");
  CHECK(r.body["id"] == "c-bravo");
  CHECK(r.body["labels"]["tier"] == "db");
  r = f.Get("/api/v1/clusters/c-alpha", f.admin());
  CHECK(r.status == 200);
  CHECK(r.body["name"] == "alpha");
}

// A URL-encoded selector reaches FleetApi decoded.
TEST_CASE("GET /api/v1/gitrepos filters by labelSelector", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/gitrepos?labelSelector=team%3Db", f.admin());
  CHECK(r.status == 200);
  CHECK(NamesIn(r.body, "gitrepos") == Names{"infra"});
  CHECK(r.body["gitrepos"][0]["workspace"] == "other");
  CHECK(r.body["gitrepos"][0]["labels"]["team"] == "b");
  r = f.Get("/api/v1/gitrepos?labelSelector=team%20in%20(a%2Cb)", f.admin());
  CHECK(NamesIn(r.body, "gitrepos") == Names{"apps", "infra"});
  CHECK(r.body["gitrepos"][0]["bundleCount"] == 1);
  r = f.Get("/api/v1/gitrepos?labelSelector=team%20in%20(a", f.admin());
  CHECK(r.status == 400);
  CHECK(r.body["code"] == "INVALID_ARGUMENT");
  CHECK_THAT(r.body["message"].get<std::string>(), Contains("label_selector \"team in (a\""));
}

TEST_CASE("GET /api/v1/bundledeployments filters by state", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/bundledeployments?state=Ready", f.admin());
  CHECK(r.status == 200);
  REQUIRE(r.body["bundleDeployments"].size() == 1);
  const Json& bd = r.body["bundleDeployments"][0];
  CHECK(bd["bundleName"] == "apps-web");
  CHECK(bd["gitrepoName"] == "apps");
  CHECK(bd["clusterId"] == "c-alpha");
  CHECK(bd["clusterName"] == "alpha");
  CHECK(bd["state"] == "READY");

  r = f.Get("/api/v1/bundledeployments?state=WaitApplied", f.admin());
  CHECK(r.status == 200);
  CHECK(NamesIn(r.body, "bundleDeployments", "bundleName") ==
        Names{"apps-web", "infra-infra", "infra-infra"});
  r = f.Get("/api/v1/bundledeployments?state=WaitApplied&cluster=bravo&gitrepo=infra", f.admin());
  CHECK(NamesIn(r.body, "bundleDeployments", "clusterName") == Names{"bravo"});
}

TEST_CASE("GET /api/v1/audit pages the audit log", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/audit?limit=2", f.admin());
  CHECK(r.status == 200);
  REQUIRE(r.body["events"].size() == 2);
  CHECK(r.body["events"][0]["seq"] == "1");
  CHECK(r.body["events"][0]["action"] == "gitrepo.apply");
  CHECK(r.body["events"][0]["resource"] == "gitrepo/apps");
  CHECK(r.body["events"][0]["actor"] == "token:setup");
  CHECK(r.body["events"][0]["hash"].get<std::string>().size() == 64);
  CHECK(r.body["events"][1]["resource"] == "gitrepo/infra");
  CHECK(r.body["lastSeq"] == "2");

  r = f.Get("/api/v1/audit?afterSeq=2&limit=2", f.admin());
  CHECK(r.status == 200);
  REQUIRE(r.body["events"].size() == 1);  // the admin token's creation
  CHECK(r.body["events"][0]["action"] == "apitoken.create");
  CHECK(r.body["lastSeq"] == "3");

  r = f.Get("/api/v1/audit?resource=gitrepo%2Finfra", f.admin());
  REQUIRE(r.body["events"].size() == 1);
  CHECK(r.body["events"][0]["seq"] == "2");

  r = f.Get("/api/v1/audit?limit=many", f.admin());
  CHECK(r.status == 400);
  CHECK(r.body["code"] == "INVALID_ARGUMENT");
  CHECK(r.body["message"] == "limit must be a number");
}

TEST_CASE("The HTTP API answers 401 without a valid token", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/clusters", "");
  CHECK(r.status == 401);
  CHECK(r.body["code"] == "UNAUTHENTICATED");
  CHECK_THAT(r.body["message"].get<std::string>(), Contains("missing API token"));
  r = f.Get("/api/v1/clusters", "flta.nope.nope");
  CHECK(r.status == 401);
  CHECK(r.body["code"] == "UNAUTHENTICATED");
  CHECK_THAT(r.body["message"].get<std::string>(),
             Contains("invalid, expired or revoked API token"));
  // Even a path that does not exist asks for a token first.
  r = f.Get("/api/v1/widgets", "");
  CHECK(r.status == 401);
}

// Every role reads; a workspace token is refused another workspace's
// GitRepo by name and does not see it in lists.
TEST_CASE("The HTTP API answers 403 for another workspace's GitRepo", "[http-api]") {
  HttpApiFixture f;
  const std::string other = f.Token("viewer", "other");
  Reply r = f.Get("/api/v1/gitrepos/apps", other);
  CHECK(r.status == 403);
  CHECK(r.body["code"] == "PERMISSION_DENIED");
  CHECK(r.body["message"] == "this token is limited to workspace other, not fleet-default");
  r = f.Get("/api/v1/gitrepos/infra", other);
  CHECK(r.status == 200);
  CHECK(r.body["name"] == "infra");
  r = f.Get("/api/v1/gitrepos", other);
  CHECK(NamesIn(r.body, "gitrepos") == Names{"infra"});
  r = f.Get("/api/v1/clusters", other);
  CHECK(r.status == 200);
  CHECK(NamesIn(r.body, "clusters") == Names{"alpha", "bravo"});
}

TEST_CASE("The HTTP API answers 404 for unknown objects and paths", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/clusters/nope", f.admin());
  CHECK(r.status == 404);
  CHECK(r.body["code"] == "NOT_FOUND");
  CHECK(r.body["message"] == "cluster \"nope\" not found");
  r = f.Get("/api/v1/gitrepos/nope", f.admin());
  CHECK(r.status == 404);
  CHECK(r.body["message"] == "gitrepo \"nope\" not found");
  r = f.Get("/api/v1/widgets", f.admin());
  CHECK(r.status == 404);
  CHECK(r.body["code"] == "NOT_FOUND");
  CHECK_THAT(r.body["message"].get<std::string>(),
             Contains("no API at /api/v1/widgets: use gitrepos, bundles, clusters"));
  r = f.Get("/api/v1/clusters/alpha/extra", f.admin());
  CHECK(r.status == 404);
  CHECK(r.body["message"] == "no API at /api/v1/clusters/alpha/extra");
  r = f.Get("/api/v1/bundledeployments/x", f.admin());
  CHECK(r.status == 404);
  CHECK(r.body["message"] == "no API at /api/v1/bundledeployments/x");
}

TEST_CASE("The HTTP API answers 400 for a bad pageSize", "[http-api]") {
  HttpApiFixture f;
  Reply r = f.Get("/api/v1/clusters?pageSize=ten", f.admin());
  CHECK(r.status == 400);
  CHECK(r.body["code"] == "INVALID_ARGUMENT");
  CHECK(r.body["message"] == "pageSize \"ten\" is not a number");
  r = f.Get("/api/v1/bundles?pageSize=6000", f.admin());
  CHECK(r.status == 400);
  CHECK(r.body["message"] == "page_size 6000 must be between 0 (all) and 5000");
  r = f.Get("/api/v1/gitrepos?pageSize=-1", f.admin());
  CHECK(r.status == 400);
  CHECK(r.body["message"] == "page_size -1 must be between 0 (all) and 5000");
}

}  // namespace
}  // namespace flotilla::manager
