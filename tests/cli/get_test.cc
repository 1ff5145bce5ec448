#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/resource_printer.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

void AddGitRepos(testing::FakeFleet& fleet) {
  v1::GitRepo* simple = fleet.gitrepos.add_gitrepos();
  simple->set_name("simple");
  simple->set_repo("https://g.example/a");
  simple->set_commit("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
  simple->set_ready_bundle_deployments(2);
  simple->set_desired_bundle_deployments(2);
  v1::GitRepo* broken = fleet.gitrepos.add_gitrepos();
  broken->set_name("broken");
  broken->set_repo("https://g.example/b");
  broken->set_error("no auth");
  v1::GitRepo* partial = fleet.gitrepos.add_gitrepos();
  partial->set_name("partial");
  partial->set_repo("https://g.example/a");
  partial->set_commit("0123456789abcdef0123456789abcdef01234567");
  partial->set_ready_bundle_deployments(1);
  partial->set_desired_bundle_deployments(3);
}

// Three GitRepos: healthy, failing to fetch, and partly rolled out.
TEST_CASE("get gitrepos prints a kubectl-style table", "[get]") {
  CliHarness cli;
  AddGitRepos(cli.fleet);
  auto result = cli.Run({"get", "gitrepos"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out ==
        "NAME      REPO                  COMMIT         BUNDLEDEPLOYMENTS-READY   STATUS\n"
        "simple    https://g.example/a   a1b2c3d4e5f6   2/2\n"
        "broken    https://g.example/b                  0/0                       no auth\n"
        "partial   https://g.example/a   0123456789ab   1/3                       NotReady(2)\n");
}

// Bundles show their error first, then any state worse than Ready.
TEST_CASE("get bundles prints name, gitrepo, readiness and status", "[get]") {
  CliHarness cli;
  v1::Bundle* ok = cli.fleet.bundles.add_bundles();
  ok->set_name("simple-simple");
  ok->set_gitrepo_name("simple");
  ok->set_ready(2);
  ok->set_desired(2);
  ok->set_state(v1::READY);
  v1::Bundle* failing = cli.fleet.bundles.add_bundles();
  failing->set_name("simple-helm");
  failing->set_gitrepo_name("simple");
  failing->set_ready(1);
  failing->set_desired(2);
  failing->set_state(v1::ERR_APPLIED);
  v1::Bundle* invalid = cli.fleet.bundles.add_bundles();
  invalid->set_name("broken-x");
  invalid->set_gitrepo_name("broken");
  invalid->set_error("fleet.yaml: line 3: bad");
  invalid->set_state(v1::NOT_READY);

  auto result = cli.Run({"get", "bundle"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "NAME            GITREPO   BUNDLEDEPLOYMENTS-READY   STATUS\n"
        "simple-simple   simple    2/2\n"
        "simple-helm     simple    1/2                       ErrApplied\n"
        "broken-x        broken    0/0                       fleet.yaml: line 3: bad\n");
}

// A connected cluster, one that never checked in, and one seen 3 hours ago.
TEST_CASE("get clusters prints readiness, connection, age, status and sorted labels", "[get]") {
  CliHarness cli;
  int64_t now_ms = absl::ToUnixMillis(cli.clock.Now());
  v1::Cluster* prod = cli.fleet.clusters.add_clusters();
  prod->set_name("prod-eu-1");
  (*prod->mutable_labels())["region"] = "eu";
  (*prod->mutable_labels())["env"] = "prod";
  prod->set_connected(true);
  prod->set_last_seen_unix_millis(now_ms - 5'000);
  prod->set_state(v1::READY);
  prod->set_ready_bundles(3);
  prod->set_desired_bundles(3);
  v1::Cluster* staging = cli.fleet.clusters.add_clusters();
  staging->set_name("staging");
  staging->set_desired_bundles(2);
  v1::Cluster* edge = cli.fleet.clusters.add_clusters();
  edge->set_name("edge-7");
  (*edge->mutable_labels())["tier"] = "edge";
  edge->set_last_seen_unix_millis(now_ms - 3 * 3600 * 1000);
  edge->set_state(v1::MODIFIED);
  edge->set_ready_bundles(1);
  edge->set_desired_bundles(2);

  auto result = cli.Run({"get", "clusters"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "NAME        BUNDLES-READY   CONNECTED   LAST-SEEN   STATUS        LABELS\n"
        "prod-eu-1   3/3             true        5s          Ready         env=prod,region=eu\n"
        "staging     0/2             false       <never>     WaitCheckIn   <none>\n"
        "edge-7      1/2             false       3h          Modified      tier=edge\n");
}

// Deployment ids are cut to 19 characters; an unknown state shows nothing.
TEST_CASE("get bundledeployments prints bundle, cluster name, short id, state and message",
          "[get]") {
  CliHarness cli;
  v1::BundleDeployment* ready = cli.fleet.bundle_deployments.add_bundle_deployments();
  ready->set_bundle_name("simple-simple");
  ready->set_cluster_id("c-123");
  ready->set_cluster_name("prod-eu-1");
  ready->set_deployment_id("s-0123456789abcdef0123:deadbeef");
  ready->set_state(v1::READY);
  v1::BundleDeployment* waiting = cli.fleet.bundle_deployments.add_bundle_deployments();
  waiting->set_bundle_name("simple-helm");
  waiting->set_cluster_name("staging");
  waiting->set_deployment_id("s-fedcba9876543210fedc");
  waiting->set_state(v1::WAIT_APPLIED);
  waiting->set_message("waiting for agent");
  v1::BundleDeployment* unknown = cli.fleet.bundle_deployments.add_bundle_deployments();
  unknown->set_bundle_name("simple-helm");
  unknown->set_cluster_name("edge-7");

  for (const char* kind : {"bundledeployments", "bundledeployment", "bd", "bds", "BD"}) {
    auto result = cli.Run({"get", kind});
    INFO(kind);
    CHECK(result.exit_code == 0);
    CHECK(result.out ==
          "BUNDLE          CLUSTER     DEPLOYMENT-ID         STATUS        MESSAGE\n"
          "simple-simple   prod-eu-1   s-0123456789abcdef0   Ready\n"
          "simple-helm     staging     s-fedcba9876543210f   WaitApplied   waiting for agent\n"
          "simple-helm     edge-7\n");
  }
}

// Every state has Fleet's spelling.
TEST_CASE("State names are spelled as Fleet spells them", "[get]") {
  CHECK(StateName(v1::STATE_UNSPECIFIED) == "");
  CHECK(StateName(v1::READY) == "Ready");
  CHECK(StateName(v1::NOT_READY) == "NotReady");
  CHECK(StateName(v1::PENDING) == "Pending");
  CHECK(StateName(v1::OUT_OF_SYNC) == "OutOfSync");
  CHECK(StateName(v1::MODIFIED) == "Modified");
  CHECK(StateName(v1::WAIT_APPLIED) == "WaitApplied");
  CHECK(StateName(v1::ERR_APPLIED) == "ErrApplied");
}

// -o json gives scripts every field under "items", with proto field names.
TEST_CASE("get -o json prints the items as pretty JSON with proto field names", "[get]") {
  CliHarness cli;
  AddGitRepos(cli.fleet);
  auto result = cli.Run({"get", "gitrepos", "-o", "json"});
  REQUIRE(result.exit_code == 0);
  nlohmann::json json = nlohmann::json::parse(result.out);
  REQUIRE(json["items"].size() == 3);
  CHECK(json["items"][0]["name"] == "simple");
  CHECK(json["items"][0]["commit"] == "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
  CHECK(json["items"][0]["ready_bundle_deployments"] == 2);
  CHECK(json["items"][1]["error"] == "no auth");
  CHECK(json["items"][1]["ready_bundle_deployments"] == 0);
  CHECK(result.out.rfind("{\n  \"items\": [\n    {\n", 0) == 0);
  CHECK(result.out.back() == '\n');
}

// Enums keep their proto names in JSON, maps become objects.
TEST_CASE("get clusters -o json keeps enum names and labels", "[get]") {
  CliHarness cli;
  v1::Cluster* cluster = cli.fleet.clusters.add_clusters();
  cluster->set_name("prod");
  cluster->set_state(v1::OUT_OF_SYNC);
  (*cluster->mutable_labels())["env"] = "prod";
  auto result = cli.Run({"get", "clusters", "-ojson"});
  REQUIRE(result.exit_code == 0);
  nlohmann::json json = nlohmann::json::parse(result.out);
  CHECK(json["items"][0]["state"] == "OUT_OF_SYNC");
  CHECK(json["items"][0]["labels"]["env"] == "prod");
  CHECK(json["items"][0]["connected"] == false);
}

// No items: kubectl's message on stderr for tables, an empty list for JSON.
TEST_CASE("get with nothing to list says so on stderr, or prints empty items", "[get]") {
  CliHarness cli;
  auto table = cli.Run({"get", "clusters"});
  CHECK(table.exit_code == 0);
  CHECK(table.out.empty());
  CHECK(table.err == "No resources found.\n");

  auto json = cli.Run({"get", "clusters", "-o", "json"});
  CHECK(json.exit_code == 0);
  CHECK(json.out == "{\n  \"items\": []\n}\n");
}

// Filters go to the manager as request fields.
TEST_CASE("get passes --gitrepo, --cluster and --bundle filters to the manager", "[get]") {
  CliHarness cli;
  CHECK(cli.Run({"get", "bundles", "--gitrepo", "simple"}).exit_code == 0);
  REQUIRE(cli.fleet.list_bundles_requests.size() == 1);
  CHECK(cli.fleet.list_bundles_requests[0].gitrepo_name() == "simple");

  CHECK(cli.Run({"get", "bd", "--cluster=prod-eu-1", "--bundle", "simple-helm"}).exit_code == 0);
  REQUIRE(cli.fleet.list_bundle_deployments_requests.size() == 1);
  CHECK(cli.fleet.list_bundle_deployments_requests[0].cluster() == "prod-eu-1");
  CHECK(cli.fleet.list_bundle_deployments_requests[0].bundle_name() == "simple-helm");
}

// Mistakes in get's arguments are usage errors and nothing is called.
TEST_CASE("get rejects unknown kinds, formats and misplaced filters with exit 2", "[get]") {
  CliHarness cli;
  auto kind = cli.Run({"get", "pods"});
  CHECK(kind.exit_code == 2);
  CHECK(kind.err ==
        "error: unknown resource kind \"pods\" (want gitrepos, bundles, clusters, "
        "bundledeployments, clustergroups or secrets)\n"
        "Run 'flotilla get --help' for usage.\n");

  auto format = cli.Run({"get", "clusters", "-o", "xml"});
  CHECK(format.exit_code == 2);
  CHECK(format.err ==
        "error: unknown output format \"xml\" (want table, wide, json or yaml)\n"
        "Run 'flotilla get --help' for usage.\n");

  auto filter = cli.Run({"get", "clusters", "--gitrepo", "x"});
  CHECK(filter.exit_code == 2);
  CHECK(filter.err ==
        "error: --gitrepo applies to bundles and bundledeployments only\n"
        "Run 'flotilla get --help' for usage.\n");

  auto missing = cli.Run({"get"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err ==
        "error: get needs a KIND: gitrepos, bundles, clusters, bundledeployments, clustergroups "
        "or secrets\n"
        "Run 'flotilla get --help' for usage.\n");

  CHECK(cli.fleet.calls == 0);
  CHECK(cli.factory.connections.empty());
}

void AddClusterGroups(testing::FakeFleet& fleet) {
  v1::ClusterGroup* prod = fleet.cluster_groups.add_cluster_groups();
  prod->set_name("prod");
  prod->set_has_selector(true);
  prod->set_selector("env=prod,region in (eu,us)");
  prod->set_cluster_count(4);
  prod->set_ready_clusters(2);
  prod->add_non_ready_clusters("prod-eu-2");
  prod->add_non_ready_clusters("prod-us-1");
  (*prod->mutable_labels())["team"] = "platform";
  (*prod->mutable_labels())["env"] = "prod";
  v1::ClusterGroup* all = fleet.cluster_groups.add_cluster_groups();
  all->set_name("everything");
  all->set_has_selector(true);
  all->set_cluster_count(3);
  all->set_ready_clusters(3);
  v1::ClusterGroup* none = fleet.cluster_groups.add_cluster_groups();
  none->set_name("empty");
  // The manager names at most 10 non-ready clusters: the rest are counted.
  v1::ClusterGroup* big = fleet.cluster_groups.add_cluster_groups();
  big->set_name("edge");
  big->set_has_selector(true);
  big->set_selector("tier=edge");
  big->set_cluster_count(40);
  big->set_ready_clusters(27);
  for (int i = 1; i <= 10; ++i) big->add_non_ready_clusters("e" + std::to_string(i));
}

// A group with a selector and two clusters not ready, one with {} (every
// cluster), one with a null selector (none), and one with more non-ready
// clusters than the table names.
TEST_CASE("get clustergroups shows readiness, selector, non-ready clusters and labels", "[get]") {
  CliHarness cli;
  AddClusterGroups(cli.fleet);
  auto result = cli.Run({"get", "clustergroups"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(
      result.out ==
      "NAME         CLUSTERS-READY   SELECTOR                     NON-READY             LABELS\n"
      "prod         2/4              env=prod,region in (eu,us)   prod-eu-2,prod-us-1   "
      "env=prod,team=platform\n"
      "everything   3/3              <all>                                              <none>\n"
      "empty        0/0              <none>                                             <none>\n"
      "edge         27/40            tier=edge                    e1,e2,e3,+10 more     <none>\n");
}

// Every spelling of the kind lists the same groups.
TEST_CASE("get accepts clustergroups, clustergroup, cg and cgs", "[get]") {
  CliHarness cli;
  AddClusterGroups(cli.fleet);
  const std::string expected = cli.Run({"get", "clustergroups"}).out;
  for (const char* kind :
       {"clustergroup", "cg", "cgs", "CG", "clustergroups.fleet.cattle.io", "ClusterGroup"}) {
    INFO(kind);
    auto result = cli.Run({"get", kind});
    CHECK(result.exit_code == 0);
    CHECK(result.out == expected);
  }
}

// -o json: every field, the null selector as has_selector false.
TEST_CASE("get clustergroups -o json prints every field", "[get]") {
  CliHarness cli;
  AddClusterGroups(cli.fleet);
  auto result = cli.Run({"get", "cg", "-o", "json"});
  REQUIRE(result.exit_code == 0);
  nlohmann::json json = nlohmann::json::parse(result.out);
  REQUIRE(json["items"].size() == 4);
  nlohmann::json prod = {{"name", "prod"},
                         {"selector", "env=prod,region in (eu,us)"},
                         {"has_selector", true},
                         {"labels", {{"env", "prod"}, {"team", "platform"}}},
                         {"cluster_count", 4},
                         {"ready_clusters", 2},
                         {"non_ready_clusters", {"prod-eu-2", "prod-us-1"}},
                         {"display_ready_clusters", ""},
                         {"display_state", ""}};
  CHECK(json["items"][0] == prod);
  CHECK(json["items"][2]["name"] == "empty");
  CHECK(json["items"][2]["has_selector"] == false);
  CHECK(json["items"][2]["selector"] == "");
}

void AddSecrets(testing::FakeFleet& fleet, absl::Time now) {
  v1::Secret* basic = fleet.secrets.add_secrets();
  basic->set_name("git-auth");
  basic->set_type("basic-auth");
  basic->add_keys("password");
  basic->add_keys("username");
  basic->set_created_unix_millis(absl::ToUnixMillis(now - absl::Hours(50)));
  basic->set_updated_unix_millis(absl::ToUnixMillis(now - absl::Minutes(5)));
  v1::Secret* ssh = fleet.secrets.add_secrets();
  ssh->set_name("git-ssh");
  ssh->set_type("ssh-auth");
  ssh->add_keys("known_hosts");
  ssh->add_keys("ssh-privatekey");
  ssh->set_created_unix_millis(absl::ToUnixMillis(now - absl::Seconds(42)));
  v1::Secret* old = fleet.secrets.add_secrets();
  old->set_name("values");
  old->set_type("generic");
  old->add_keys("values.yaml");
}

// Keys, never values; the age counts from creation, and a secret without a
// creation time shows <unknown>.
TEST_CASE("get secrets shows name, type, keys and age", "[get]") {
  CliHarness cli;
  AddSecrets(cli.fleet, cli.clock.Now());
  for (const char* kind : {"secrets", "secret", "Secrets"}) {
    INFO(kind);
    auto result = cli.Run({"get", kind});
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK(result.out ==
          "NAME       TYPE         KEYS                         AGE\n"
          "git-auth   basic-auth   password,username            2d2h\n"
          "git-ssh    ssh-auth     known_hosts,ssh-privatekey   42s\n"
          "values     generic      values.yaml                  <unknown>\n");
  }
}

// Secret is a core kind: it has no fleet.cattle.io form.
TEST_CASE("get secrets.fleet.cattle.io is an unknown kind", "[get]") {
  CliHarness cli;
  auto result = cli.Run({"get", "secrets.fleet.cattle.io"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: unknown resource kind \"secrets.fleet.cattle.io\" (want gitrepos, bundles, "
        "clusters, bundledeployments, clustergroups or secrets)\n"
        "Run 'flotilla get --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
}

// -o json: names, types, keys and times as the manager sent them.
TEST_CASE("get secrets -o json prints names, types, keys and times", "[get]") {
  CliHarness cli;
  AddSecrets(cli.fleet, cli.clock.Now());
  auto result = cli.Run({"get", "secrets", "-o", "json"});
  REQUIRE(result.exit_code == 0);
  nlohmann::json json = nlohmann::json::parse(result.out);
  REQUIRE(json["items"].size() == 3);
  CHECK(json["items"][0]["name"] == "git-auth");
  CHECK(json["items"][0]["type"] == "basic-auth");
  CHECK(json["items"][0]["keys"] == nlohmann::json::array({"password", "username"}));
  // int64 is a string in proto3 JSON.
  CHECK(json["items"][0]["created_unix_millis"] ==
        std::to_string(absl::ToUnixMillis(cli.clock.Now() - absl::Hours(50))));
  CHECK(json["items"][2]["created_unix_millis"] == "0");
}

// The new kinds take no filters, and an empty list says so.
TEST_CASE("get clustergroups and secrets reject filters and report an empty list", "[get]") {
  CliHarness cli;
  auto filter = cli.Run({"get", "secrets", "--cluster", "x"});
  CHECK(filter.exit_code == 2);
  CHECK(filter.err ==
        "error: --cluster and --bundle apply to bundledeployments only\n"
        "Run 'flotilla get --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);

  auto groups = cli.Run({"get", "cg"});
  CHECK(groups.exit_code == 0);
  CHECK(groups.err == "No resources found.\n");
  CHECK(cli.Run({"get", "secrets", "-o", "json"}).out == "{\n  \"items\": []\n}\n");
}

}  // namespace
}  // namespace flotilla::cli
