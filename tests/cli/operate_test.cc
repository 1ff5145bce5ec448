// The commands that operate a running fleet (pause, resume, resync, cluster
// revoke, token list/revoke, token create --api, describe, audit, audit
// verify) and get's filters, run through RunCli against the fake manager.
// The audit log is served the way the manager pages it (after_seq,
// last_seq), so `audit verify` is checked over several pages.
#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/cli.h"
#include "cli/connection.h"
#include "common/audit_chain.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using Catch::Matchers::Contains;
using testing::CliResult;
using testing::FakeFleet;

// FakeFleetApi, plus: ListAudit answers from `log` as the manager does (rows
// after after_seq, with `resource` only, at most min(limit, page_cap) per
// page, last_seq the last row returned), and ListGitRepos / ListClusters
// record their requests in fleet.requests like the other calls.
class OperateFleetApi : public testing::FakeFleetApi {
 public:
  OperateFleetApi(FakeFleet& fleet, const std::vector<v1::AuditEvent>& log, int page_cap)
      : FakeFleetApi(fleet), fake_(fleet), log_(log), page_cap_(page_cap) {}

  absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& request) override {
    fake_.requests.push_back("ListAudit: " + request.ShortDebugString());
    ++fake_.calls;
    v1::ListAuditResponse resp;
    resp.set_last_seq(request.after_seq());
    const int limit = std::min(request.limit() == 0 ? 100 : request.limit(), page_cap_);
    for (const auto& e : log_) {
      if (e.seq() <= request.after_seq()) continue;
      if (!request.resource().empty() && e.resource() != request.resource()) continue;
      if (resp.events_size() == limit) break;
      *resp.add_events() = e;
      resp.set_last_seq(e.seq());
    }
    return resp;
  }
  absl::StatusOr<v1::ListGitReposResponse> ListGitRepos(
      const v1::ListGitReposRequest& request) override {
    fake_.requests.push_back("ListGitRepos: " + request.ShortDebugString());
    return FakeFleetApi::ListGitRepos(request);
  }
  absl::StatusOr<v1::ListClustersResponse> ListClusters(
      const v1::ListClustersRequest& request) override {
    fake_.requests.push_back("ListClusters: " + request.ShortDebugString());
    return FakeFleetApi::ListClusters(request);
  }

 private:
  FakeFleet& fake_;
  const std::vector<v1::AuditEvent>& log_;
  const int page_cap_;
};

class OperateFactory : public FleetApiFactory {
 public:
  OperateFactory(FakeFleet& fleet, const std::vector<v1::AuditEvent>& log, const int& page_cap)
      : fleet_(fleet), log_(log), page_cap_(page_cap) {}
  std::unique_ptr<FleetApi> Connect(const ConnectionConfig&) override {
    ++connections;
    return std::make_unique<OperateFleetApi>(fleet_, log_, page_cap_);
  }
  int connections = 0;

 private:
  FakeFleet& fleet_;
  const std::vector<v1::AuditEvent>& log_;
  const int& page_cap_;
};

// CliHarness with the factory above.
class OperateCli {
 public:
  OperateCli() {
    env[kCaFileEnv] = dir.Write("ca.pem", testing::kTestCaPem);
    env[kTokenFileEnv] = dir.Write("token", std::string(testing::kTestToken) + "\n");
  }
  CliResult Run(const std::vector<std::string>& args) {
    std::istringstream in;
    std::ostringstream out;
    std::ostringstream err;
    CliResult result;
    result.exit_code = RunCli(args, in, out, err, env, factory, clock);
    result.out = out.str();
    result.err = err.str();
    return result;
  }
  // The requests made to `method`, in order.
  std::vector<std::string> Requests(const std::string& method) const {
    std::vector<std::string> out;
    for (const auto& r : fleet.requests) {
      if (absl::StartsWith(r, method + ": ")) out.push_back(r.substr(method.size() + 2));
    }
    return out;
  }
  template <typename T>
  void Answer(const std::string& method, const T& message) {
    fleet.answers[method] = message.SerializeAsString();
  }

  testing::ScratchDir dir;
  FakeFleet fleet;
  std::vector<v1::AuditEvent> audit_log;
  int page_cap = 1000;
  OperateFactory factory{fleet, audit_log, page_cap};
  common::SimulatedClock clock{absl::FromUnixSeconds(1'700'000'000)};
  std::map<std::string, std::string> env;
};

// An audit row; `hash` is filled by Chain.
v1::AuditEvent Row(int64_t seq, const std::string& action, const std::string& resource,
                   const std::string& details = "") {
  v1::AuditEvent e;
  e.set_seq(seq);
  e.set_time_unix_millis(1'700'000'000'000 + seq * 1000);
  e.set_actor("token:abc123");
  e.set_action(action);
  e.set_resource(resource);
  e.set_outcome("ok");
  e.set_details(details);
  return e;
}

// Hashes rows [from, end) as the manager chains them, starting at genesis.
void Chain(std::vector<v1::AuditEvent>& rows, size_t from = 0) {
  std::string previous(common::kAuditChainGenesis);
  for (size_t i = from; i < rows.size(); ++i) {
    v1::AuditEvent& e = rows[i];
    common::AuditChainFields f{e.seq(),      e.time_unix_millis(), e.actor(),  e.action(),
                               e.resource(), e.outcome(),          e.details()};
    e.set_hash(common::AuditChainHash(previous, f));
    previous = e.hash();
  }
}

std::vector<v1::AuditEvent> FiveRows() {
  return {Row(1, "gitrepo.apply", "gitrepo/apps", "generation=1"),
          Row(2, "cluster.register", "cluster/c-1", "name=edge-1"),
          Row(3, "gitrepo.resync", "gitrepo/apps"), Row(4, "cluster.pause", "cluster/c-1"),
          Row(5, "apitoken.create", "apitoken/9f8e", "role=viewer workspace=*")};
}

// --- pause / resume -------------------------------------------------------------

TEST_CASE("pause and resume send SetPaused for each name and say what changed", "[operate]") {
  OperateCli cli;
  v1::SetPausedResponse changed;
  changed.set_changed(true);
  cli.Answer("SetPaused", changed);
  auto paused = cli.Run({"pause", "gitrepo", "apps", "infra"});
  CHECK(paused.exit_code == 0);
  CHECK(paused.err.empty());
  CHECK(paused.out ==
        "gitrepo.fleet.cattle.io/apps paused\n"
        "gitrepo.fleet.cattle.io/infra paused\n");
  CHECK(cli.Requests("SetPaused") ==
        std::vector<std::string>{R"(kind: "gitrepo" name: "apps" paused: true)",
                                 R"(kind: "gitrepo" name: "infra" paused: true)"});

  auto resumed = cli.Run({"resume", "Clusters", "edge-1"});
  CHECK(resumed.exit_code == 0);
  CHECK(resumed.out == "cluster.fleet.cattle.io/edge-1 resumed\n");
  CHECK(cli.Requests("SetPaused").back() == R"(kind: "cluster" name: "edge-1")");

  cli.Answer("SetPaused", v1::SetPausedResponse());  // changed: false
  auto again = cli.Run({"pause", "gitrepo", "apps"});
  CHECK(again.exit_code == 0);
  CHECK(again.out == "gitrepo.fleet.cattle.io/apps already paused\n");
  auto not_paused = cli.Run({"resume", "cluster", "edge-1"});
  CHECK(not_paused.exit_code == 0);
  CHECK(not_paused.out == "cluster.fleet.cattle.io/edge-1 not paused\n");
}

TEST_CASE("pause refuses a bad kind or a missing name with exit 2", "[operate]") {
  OperateCli cli;
  auto bad_kind = cli.Run({"pause", "bundle", "apps-web"});
  CHECK(bad_kind.exit_code == 2);
  CHECK(bad_kind.err ==
        "error: cannot pause or resume \"bundle\": use gitrepo or cluster\n"
        "Run 'flotilla pause --help' for usage.\n");
  auto no_name = cli.Run({"resume", "gitrepo"});
  CHECK(no_name.exit_code == 2);
  CHECK(no_name.err ==
        "error: resume needs a KIND (gitrepo or cluster) and a NAME\n"
        "Run 'flotilla resume --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
  CHECK(cli.factory.connections == 0);
}

// One name failing does not stop the others; the exit code says so.
TEST_CASE("pause reports a NOT_FOUND name and goes on with the rest", "[operate]") {
  OperateCli cli;
  cli.fleet.errors["SetPaused"] = absl::NotFoundError("gitrepo \"nope\" not found");
  auto result = cli.Run({"pause", "gitrepo", "nope", "other"});
  CHECK(result.exit_code == 1);
  CHECK(result.err ==
        "error: NOT_FOUND: gitrepo \"nope\" not found (nope)\n"
        "error: NOT_FOUND: gitrepo \"nope\" not found (other)\n");
  CHECK(cli.Requests("SetPaused").size() == 2);

  cli.fleet.errors["SetPaused"] = absl::PermissionDeniedError("role viewer may not call SetPaused");
  auto denied = cli.Run({"pause", "gitrepo", "a", "b"});
  CHECK(denied.exit_code == 4);
  CHECK(cli.Requests("SetPaused").size() == 3);  // stops at the first refusal
}

// --- resync / cluster revoke -------------------------------------------------------

TEST_CASE("resync asks for each GitRepo and needs gitrepo NAME", "[operate]") {
  OperateCli cli;
  auto result = cli.Run({"resync", "gitrepo", "apps", "infra"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "gitrepo.fleet.cattle.io/apps resync requested\n"
        "gitrepo.fleet.cattle.io/infra resync requested\n");
  CHECK(cli.Requests("Resync") ==
        std::vector<std::string>{R"(gitrepo: "apps")", R"(gitrepo: "infra")"});

  auto usage = cli.Run({"resync", "cluster", "edge-1"});
  CHECK(usage.exit_code == 2);
  CHECK(usage.err ==
        "error: resync needs gitrepo and a NAME\nRun 'flotilla resync --help' for usage.\n");
  CHECK(cli.Run({"resync", "gitrepo"}).exit_code == 2);
  CHECK(cli.Requests("Resync").size() == 2);

  cli.fleet.errors["Resync"] = absl::NotFoundError("gitrepo \"nope\" not found");
  auto missing = cli.Run({"resync", "gitrepo", "nope"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "error: NOT_FOUND: gitrepo \"nope\" not found (nope)\n");
}

TEST_CASE("cluster revoke prints the revoked cluster's name", "[operate]") {
  OperateCli cli;
  v1::Cluster revoked;
  revoked.set_id("c-00e1");
  revoked.set_name("edge-1");
  revoked.set_revoked(true);
  cli.Answer("RevokeCluster", revoked);
  auto result = cli.Run({"cluster", "revoke", "c-00e1"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "cluster.fleet.cattle.io/edge-1 revoked\n");
  CHECK(cli.Requests("RevokeCluster") == std::vector<std::string>{R"(cluster: "c-00e1")"});

  auto no_sub = cli.Run({"cluster"});
  CHECK(no_sub.exit_code == 2);
  CHECK(no_sub.err ==
        "error: cluster needs a subcommand: revoke\nRun 'flotilla cluster --help' for usage.\n");
  auto bad_sub = cli.Run({"cluster", "delete", "edge-1"});
  CHECK(bad_sub.exit_code == 2);
  CHECK_THAT(bad_sub.err, Contains("unknown cluster subcommand \"delete\" (want revoke)"));
  auto no_name = cli.Run({"cluster", "revoke"});
  CHECK(no_name.exit_code == 2);
  CHECK_THAT(no_name.err, Contains("cluster revoke needs a cluster NAME or id"));
  CHECK(cli.Requests("RevokeCluster").size() == 1);
}

// --- tokens ---------------------------------------------------------------------

TEST_CASE("token list prints registration tokens, and API tokens with --api", "[operate]") {
  OperateCli cli;
  v1::ListRegistrationTokensResponse reg;
  v1::RegistrationToken* t = reg.add_tokens();
  t->set_id("r1");
  t->set_created_by("token:abc123");
  t->set_created_unix_millis(1'700'000'000'000);
  t->set_expires_unix_millis(1'700'003'600'000);
  t->set_max_uses(3);
  t->set_uses(1);
  t->set_cluster_name("edge-7");
  v1::RegistrationToken* u = reg.add_tokens();
  u->set_id("r2");
  u->set_created_by("manager");
  u->set_created_unix_millis(1'700'000'000'000);
  u->set_expires_unix_millis(1'700'003'600'000);
  u->set_revoked_unix_millis(1'700'000'060'000);
  cli.Answer("ListRegistrationTokens", reg);
  auto regs = cli.Run({"token", "list"});
  CHECK(regs.exit_code == 0);
  CHECK(
      regs.out ==
      "ID   CLUSTER   USES          CREATED                EXPIRES                REVOKED          "
      "      CREATED-BY\n"
      "r1   edge-7    1/3           2023-11-14T22:13:20Z   2023-11-14T23:13:20Z   -                "
      "      token:abc123\n"
      "r2   *         0/unlimited   2023-11-14T22:13:20Z   2023-11-14T23:13:20Z   "
      "2023-11-14T22:14:20Z   manager\n");
  CHECK(cli.Requests("ListRegistrationTokens").size() == 1);
  CHECK(cli.Requests("ListApiTokens").empty());

  v1::ListApiTokensResponse api;
  v1::ApiToken* a = api.add_tokens();
  a->set_id("9f8e");
  a->set_role("viewer");
  a->set_workspace("team-a");
  a->set_description("dashboards");
  a->set_created_unix_millis(1'700'000'000'000);
  a->set_last_used_unix_millis(1'700'000'120'000);
  cli.Answer("ListApiTokens", api);
  auto apis = cli.Run({"token", "list", "--api"});
  CHECK(apis.exit_code == 0);
  CHECK(apis.out ==
        "ID     ROLE     WORKSPACE   CREATED                EXPIRES   LAST-USED              "
        "REVOKED   DESCRIPTION\n"
        "9f8e   viewer   team-a      2023-11-14T22:13:20Z   never     2023-11-14T22:15:20Z   -  "
        "       dashboards\n");
  CHECK(cli.Requests("ListApiTokens").size() == 1);

  auto json = cli.Run({"token", "list", "--api", "-o", "json"});
  CHECK(json.exit_code == 0);
  auto doc = nlohmann::json::parse(json.out);
  CHECK(doc["items"][0]["id"] == "9f8e");
  CHECK(doc["items"][0]["workspace"] == "team-a");
}

TEST_CASE("token revoke revokes API tokens with --api and registration tokens without",
          "[operate]") {
  OperateCli cli;
  auto api = cli.Run({"token", "revoke", "--api", "9f8e", "7a6b"});
  CHECK(api.exit_code == 0);
  CHECK(api.out == "apitoken/9f8e revoked\napitoken/7a6b revoked\n");
  CHECK(cli.Requests("RevokeApiToken") ==
        std::vector<std::string>{R"(id: "9f8e")", R"(id: "7a6b")"});
  CHECK(cli.Requests("RevokeRegistrationToken").empty());

  auto reg = cli.Run({"token", "revoke", "r1"});
  CHECK(reg.exit_code == 0);
  CHECK(reg.out == "registrationtoken/r1 revoked\n");
  CHECK(cli.Requests("RevokeRegistrationToken") == std::vector<std::string>{R"(id: "r1")"});
  CHECK(cli.Requests("RevokeApiToken").size() == 2);

  cli.fleet.errors["RevokeApiToken"] = absl::NotFoundError("API token \"zzz\" not found");
  auto missing = cli.Run({"token", "revoke", "--api", "zzz"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err == "error: NOT_FOUND: API token \"zzz\" not found (zzz)\n");

  auto no_id = cli.Run({"token", "revoke", "--api"});
  CHECK(no_id.exit_code == 2);
  CHECK_THAT(no_id.err, Contains("token revoke needs a token ID"));
}

TEST_CASE("token create --api sends role, workspace, description and ttl", "[operate]") {
  OperateCli cli;
  v1::CreateApiTokenResponse created;
  created.set_token("flta.9f8e.s3cret");
  created.mutable_api_token()->set_id("9f8e");
  created.mutable_api_token()->set_role("deployer");
  created.mutable_api_token()->set_workspace("team-a");
  created.mutable_api_token()->set_expires_unix_millis(1'702'592'000'000);
  cli.Answer("CreateApiToken", created);
  auto result = cli.Run({"token", "create", "--api", "--role", "deployer", "--workspace", "team-a",
                         "--description", "ci", "--ttl", "720h"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "flta.9f8e.s3cret\n"
        "id: 9f8e\n"
        "role: deployer\n"
        "workspace: team-a\n"
        "expires: 2023-12-14T22:13:20Z\n");
  CHECK(cli.Requests("CreateApiToken") ==
        std::vector<std::string>{
            R"(role: "deployer" workspace: "team-a" description: "ci" ttl_seconds: 2592000)"});

  // No --workspace is every workspace; no --ttl never expires.
  created.mutable_api_token()->set_expires_unix_millis(0);
  cli.Answer("CreateApiToken", created);
  auto plain = cli.Run({"token", "create", "--api", "--role", "viewer"});
  CHECK(plain.exit_code == 0);
  CHECK_THAT(plain.out, Contains("expires: never\n"));
  CHECK(cli.Requests("CreateApiToken").back() == R"(role: "viewer" workspace: "*")");
}

TEST_CASE("token create --api needs --role and takes no registration flags", "[operate]") {
  OperateCli cli;
  auto no_role = cli.Run({"token", "create", "--api"});
  CHECK(no_role.exit_code == 2);
  CHECK(no_role.err ==
        "error: token create --api needs --role viewer|deployer|cluster-admin|admin\n"
        "Run 'flotilla token --help' for usage.\n");
  auto max_uses = cli.Run({"token", "create", "--api", "--role", "admin", "--max-uses", "1"});
  CHECK(max_uses.exit_code == 2);
  CHECK(max_uses.err ==
        "error: --max-uses applies to registration tokens, not --api tokens\n"
        "Run 'flotilla token --help' for usage.\n");
  auto role_without_api = cli.Run({"token", "create", "--role", "admin"});
  CHECK(role_without_api.exit_code == 2);
  CHECK_THAT(role_without_api.err, Contains("--role needs --api (an API token)"));
  CHECK(cli.fleet.calls == 0);
  CHECK(cli.factory.connections == 0);
}

// --- describe ---------------------------------------------------------------------

TEST_CASE("describe gitrepo shows its status, conditions, deployments and events", "[operate]") {
  OperateCli cli;
  v1::GitRepo g;
  g.set_name("apps");
  g.set_workspace("fleet-default");
  g.set_repo("https://git.example/apps");
  g.set_branch("main");
  g.add_paths("web");
  g.add_paths("db");
  g.set_paused(true);
  g.set_commit("abc123");
  g.set_bundle_count(2);
  g.set_ready_bundle_deployments(1);
  g.set_desired_bundle_deployments(2);
  g.set_display_state("NotReady");
  v1::Condition* c = g.add_conditions();
  c->set_type("Ready");
  c->set_status("False");
  c->set_reason("NotReady");
  c->set_message("NotReady(1) [Bundle apps-db]");
  g.mutable_summary()->set_desired_ready(2);
  g.mutable_summary()->set_ready(1);
  g.mutable_summary()->set_not_ready(1);
  cli.Answer("GetGitRepo", g);
  v1::BundleDeployment* bd = cli.fleet.bundle_deployments.add_bundle_deployments();
  bd->set_bundle_name("apps-db");
  bd->set_cluster_name("edge-1");
  bd->set_state(v1::NOT_READY);
  bd->set_deployment_id("s-0123456789abcdef:o");
  cli.audit_log = FiveRows();

  auto result = cli.Run({"describe", "gitrepo", "apps"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  for (const char* line :
       {"Name: apps\n", "Workspace: fleet-default\n", "Repo: https://git.example/apps\n",
        "Ref: main\n", "Paths: web, db\n", "Paused: true\n", "Commit: abc123\n", "Bundles: 2\n",
        "Ready bundle deployments: 1/2\n", "State: NotReady\n",
        "  Ready=False (NotReady): NotReady(1) [Bundle apps-db]\n", "  Desired ready: 2\n",
        "Deployments:\n", "Events:\n",
        "  2023-11-14T22:13:21Z  token:abc123  gitrepo.apply  ok  generation=1\n",
        "  2023-11-14T22:13:23Z  token:abc123  gitrepo.resync  ok\n"}) {
    CHECK_THAT(result.out, Contains(line));
  }
  CHECK_THAT(result.out, Contains("apps-db"));
  CHECK_THAT(result.out, Contains("s-0123456789"));
  CHECK_FALSE(absl::StrContains(result.out, "cluster.pause"));
  CHECK(cli.Requests("GetGitRepo") == std::vector<std::string>{R"(name: "apps")"});
  REQUIRE(cli.fleet.list_bundle_deployments_requests.size() == 1);
  CHECK(cli.fleet.list_bundle_deployments_requests[0].gitrepo_name() == "apps");
  CHECK(cli.Requests("ListAudit").front() == R"(limit: 1000 resource: "gitrepo/apps")");
}

TEST_CASE("describe bundle, cluster and clustergroup show their key lines", "[operate]") {
  OperateCli cli;
  cli.audit_log = FiveRows();
  SECTION("bundle") {
    v1::Bundle b;
    b.set_name("apps-web");
    b.set_gitrepo_name("apps");
    b.set_path("web");
    b.set_commit("abc123");
    b.set_ready(2);
    b.set_desired(3);
    b.set_state(v1::OUT_OF_SYNC);
    b.set_ready_message("OutOfSync(1) [Cluster edge-2]");
    cli.Answer("GetBundle", b);
    auto result = cli.Run({"describe", "bundle", "apps-web"});
    CHECK(result.exit_code == 0);
    for (const char* line :
         {"Name: apps-web\n", "GitRepo: apps\n", "Path: web\n", "Ready: 2/3\n",
          "State: OutOfSync\n", "Ready condition: OutOfSync(1) [Cluster edge-2]\n",
          "Deployments:\n  <none>\n", "Events:\n"}) {
      CHECK_THAT(result.out, Contains(line));
    }
    CHECK_THAT(result.out, Contains("gitrepo.resync"));
    REQUIRE(cli.fleet.list_bundle_deployments_requests.size() == 1);
    CHECK(cli.fleet.list_bundle_deployments_requests[0].bundle_name() == "apps-web");
  }
  SECTION("cluster") {
    v1::Cluster c;
    c.set_id("c-1");
    c.set_name("edge-1");
    (*c.mutable_labels())["env"] = "prod";
    (*c.mutable_labels())["region"] = "eu";
    c.set_paused(true);
    c.set_connected(true);
    c.set_ready_bundles(3);
    c.set_desired_bundles(4);
    c.set_agent_version("1.2.3");
    cli.Answer("GetCluster", c);
    auto result = cli.Run({"describe", "cluster", "edge-1"});
    CHECK(result.exit_code == 0);
    for (const char* line :
         {"Name: edge-1\n", "ID: c-1\n", "Labels: env=prod,region=eu\n", "State: Ready\n",
          "Connected: true\n", "Paused: true\n", "Revoked: false\n", "Agent version: 1.2.3\n",
          "Ready bundles: 3/4\n", "Events:\n", "cluster.register  ok  name=edge-1\n",
          "cluster.pause  ok\n"}) {
      CHECK_THAT(result.out, Contains(line));
    }
    REQUIRE(cli.fleet.list_bundle_deployments_requests.size() == 1);
    CHECK(cli.fleet.list_bundle_deployments_requests[0].cluster() == "c-1");
    CHECK(cli.Requests("ListAudit").front() == R"(limit: 1000 resource: "cluster/c-1")");
  }
  SECTION("clustergroup") {
    v1::ClusterGroup g;
    g.set_name("prod");
    g.set_has_selector(true);
    g.set_selector("env=prod");
    g.set_cluster_count(2);
    g.set_display_ready_clusters("1/2 (edge-2)");
    g.set_display_state("NotReady");
    cli.Answer("GetClusterGroup", g);
    auto result = cli.Run({"describe", "clustergroup", "prod"});
    CHECK(result.exit_code == 0);
    for (const char* line :
         {"Name: prod\n", "Selector: env=prod\n", "Clusters: 2\n", "Ready clusters: 1/2 (edge-2)\n",
          "State: NotReady\n", "Events:\n  <none>\n"}) {
      CHECK_THAT(result.out, Contains(line));
    }
  }
  SECTION("a bad kind, a missing name and NOT_FOUND") {
    auto kind = cli.Run({"describe", "secret", "x"});
    CHECK(kind.exit_code == 2);
    CHECK_THAT(kind.err, Contains("cannot describe \"secret\""));
    auto no_name = cli.Run({"describe", "gitrepo"});
    CHECK(no_name.exit_code == 2);
    CHECK_THAT(
        no_name.err,
        Contains("describe needs a KIND (gitrepo, bundle, cluster, clustergroup) and a NAME"));
    cli.fleet.errors["GetCluster"] = absl::NotFoundError("cluster \"x\" not found");
    auto missing = cli.Run({"describe", "cluster", "x"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err == "error: NOT_FOUND: cluster \"x\" not found\n");
  }
}

// --- audit ------------------------------------------------------------------------

TEST_CASE("audit prints the log oldest first, across pages", "[operate]") {
  OperateCli cli;
  cli.audit_log = FiveRows();
  cli.page_cap = 2;
  auto result = cli.Run({"audit"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "SEQ   TIME                   ACTOR          ACTION             RESOURCE        OUTCOME   "
        "DETAILS\n"
        "1     2023-11-14T22:13:21Z   token:abc123   gitrepo.apply      gitrepo/apps    ok        "
        "generation=1\n"
        "2     2023-11-14T22:13:22Z   token:abc123   cluster.register   cluster/c-1     ok        "
        "name=edge-1\n"
        "3     2023-11-14T22:13:23Z   token:abc123   gitrepo.resync     gitrepo/apps    ok\n"
        "4     2023-11-14T22:13:24Z   token:abc123   cluster.pause      cluster/c-1     ok\n"
        "5     2023-11-14T22:13:25Z   token:abc123   apitoken.create    apitoken/9f8e   ok        "
        "role=viewer workspace=*\n");
  CHECK(cli.Requests("ListAudit") ==
        std::vector<std::string>{"limit: 1000", "after_seq: 2 limit: 1000",
                                 "after_seq: 4 limit: 1000", "after_seq: 5 limit: 1000"});

  auto recent = cli.Run({"audit", "--resource", "gitrepo/apps", "--limit", "1"});
  CHECK(recent.exit_code == 0);
  CHECK_THAT(recent.out, Contains("3     2023-11-14T22:13:23Z"));
  CHECK_FALSE(absl::StrContains(recent.out, "gitrepo.apply"));
  CHECK(cli.Requests("ListAudit")[4] == R"(limit: 1000 resource: "gitrepo/apps")");

  auto json = cli.Run({"audit", "-o", "json"});
  CHECK(json.exit_code == 0);
  auto doc = nlohmann::json::parse(json.out);
  REQUIRE(doc["items"].size() == 5);
  CHECK(doc["items"][0]["seq"] == "1");
  CHECK(doc["items"][0]["action"] == "gitrepo.apply");
  CHECK(doc["items"][4]["details"] == "role=viewer workspace=*");
  CHECK(doc["items"][4]["time_unix_millis"] == "1700000005000");

  cli.audit_log.clear();
  auto empty = cli.Run({"audit"});
  CHECK(empty.exit_code == 0);
  CHECK(empty.out.empty());
  CHECK(empty.err == "No audit events found.\n");

  auto bad = cli.Run({"audit", "--limit", "0"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Contains("invalid --limit \"0\": want a whole number > 0"));
  auto sub = cli.Run({"audit", "list"});
  CHECK(sub.exit_code == 2);
  CHECK_THAT(sub.err, Contains("unknown audit subcommand \"list\""));
}

TEST_CASE("audit verify recomputes the hash chain over every page", "[operate]") {
  OperateCli cli;
  cli.audit_log = FiveRows();
  Chain(cli.audit_log);
  cli.page_cap = 2;
  SECTION("an intact log") {
    auto result = cli.Run({"audit", "verify"});
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK(result.out == "audit log intact: 5 rows verified\n");
    CHECK(cli.Requests("ListAudit").size() == 4);
  }
  SECTION("a changed field") {
    cli.audit_log[2].set_details("forced=true");
    auto result = cli.Run({"audit", "verify"});
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK(result.err ==
          "error: audit log broken at row 3 (gitrepo.resync gitrepo/apps): its hash does not "
          "match its contents and the row before it; it or an earlier row was changed\n");
  }
  SECTION("a changed actor in the last row") {
    cli.audit_log[4].set_actor("token:evil");
    auto result = cli.Run({"audit", "verify"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.err, Contains("audit log broken at row 5 (apitoken.create apitoken/9f8e)"));
  }
  SECTION("a deleted row") {
    cli.audit_log.erase(cli.audit_log.begin() + 3);
    Chain(cli.audit_log);  // even rechained, the gap shows
    auto result = cli.Run({"audit", "verify"});
    CHECK(result.exit_code == 1);
    CHECK(result.err == "error: audit log broken: row 4 is missing (the next row is 5)\n");
  }
  SECTION("rows from before the chain are counted, not checked") {
    cli.audit_log[0].clear_hash();
    cli.audit_log[1].clear_hash();
    Chain(cli.audit_log, 2);
    auto result = cli.Run({"audit", "verify"});
    CHECK(result.exit_code == 0);
    CHECK(result.out ==
          "audit log intact: 3 rows verified (2 earlier rows predate the hash chain)\n");
  }
  SECTION("a row without a hash after chained rows") {
    cli.audit_log[3].clear_hash();
    auto result = cli.Run({"audit", "verify"});
    CHECK(result.exit_code == 1);
    CHECK(result.err ==
          "error: audit log broken at row 4: it has no hash but follows chained rows\n");
  }
  SECTION("--resource and --limit are refused") {
    auto result = cli.Run({"audit", "verify", "--resource", "gitrepo/apps"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.err, Contains("audit verify checks the whole log: no --resource or --limit"));
    CHECK(cli.factory.connections == 0);
  }
}

// --- get filters --------------------------------------------------------------------

TEST_CASE("get passes NAME, -l and --state through to the request", "[operate]") {
  OperateCli cli;
  v1::Cluster one;
  one.set_name("edge-1");
  cli.Answer("GetCluster", one);
  auto named = cli.Run({"get", "cluster", "edge-1"});
  CHECK(named.exit_code == 0);
  CHECK_THAT(named.out, Contains("edge-1"));
  CHECK(cli.Requests("GetCluster") == std::vector<std::string>{R"(name: "edge-1")"});
  CHECK(cli.Requests("ListClusters").empty());

  CHECK(cli.Run({"get", "clusters", "-l", "env=prod", "--state", "NotReady"}).exit_code == 0);
  CHECK(cli.Requests("ListClusters") ==
        std::vector<std::string>{R"(options { label_selector: "env=prod" } state: "NotReady")"});

  CHECK(cli.Run({"get", "gitrepos", "--selector", "team in (a,b)"}).exit_code == 0);
  CHECK(cli.Requests("ListGitRepos") ==
        std::vector<std::string>{R"x(options { label_selector: "team in (a,b)" })x"});
  CHECK(cli.Run({"get", "gitrepo", "apps"}).exit_code == 0);
  CHECK(cli.Requests("GetGitRepo") == std::vector<std::string>{R"(name: "apps")"});

  CHECK(cli.Run({"get", "bundles", "-l", "tier=web", "--state", "Ready", "--gitrepo", "apps"})
            .exit_code == 0);
  REQUIRE(cli.fleet.list_bundles_requests.size() == 1);
  CHECK(cli.fleet.list_bundles_requests[0].options().label_selector() == "tier=web");
  CHECK(cli.fleet.list_bundles_requests[0].state() == "Ready");
  CHECK(cli.fleet.list_bundles_requests[0].gitrepo_name() == "apps");

  CHECK(cli.Run({"get", "bd", "--state", "OutOfSync", "--cluster", "edge-1"}).exit_code == 0);
  REQUIRE(cli.fleet.list_bundle_deployments_requests.size() == 1);
  CHECK(cli.fleet.list_bundle_deployments_requests[0].state() == "OutOfSync");
  CHECK(cli.fleet.list_bundle_deployments_requests[0].cluster() == "edge-1");
}

TEST_CASE("get NAME with -l or --state is a usage error", "[operate]") {
  OperateCli cli;
  auto selector = cli.Run({"get", "cluster", "edge-1", "-l", "env=prod"});
  CHECK(selector.exit_code == 2);
  CHECK(selector.err ==
        "error: a NAME cannot be combined with --selector or --state\n"
        "Run 'flotilla get --help' for usage.\n");
  auto state = cli.Run({"get", "bundle", "apps-web", "--state", "Ready"});
  CHECK(state.exit_code == 2);
  CHECK_THAT(state.err, Contains("a NAME cannot be combined with --selector or --state"));
  auto gitrepo_state = cli.Run({"get", "gitrepos", "--state", "Ready"});
  CHECK(gitrepo_state.exit_code == 2);
  CHECK_THAT(gitrepo_state.err,
             Contains("--state applies to bundles, clusters and bundledeployments only"));
  CHECK(cli.factory.connections == 0);
  CHECK(cli.fleet.calls == 0);
}

}  // namespace
}  // namespace flotilla::cli
