// `get -o wide` and `-o yaml` for every kind, and the -o values themselves.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/resource_printer.h"
#include "common/yaml.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

void AddGitRepos(testing::FakeFleet& fleet) {
  v1::GitRepo* simple = fleet.gitrepos.add_gitrepos();
  simple->set_name("simple");
  simple->set_repo("https://g.example/a");
  simple->set_branch("main");
  simple->set_commit("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
  simple->set_ready_bundle_deployments(2);
  simple->set_desired_bundle_deployments(2);
  v1::GitRepo* pinned = fleet.gitrepos.add_gitrepos();
  pinned->set_name("pinned");
  pinned->set_repo("https://g.example/b");
  pinned->set_branch("main");
  pinned->set_revision("v1.2.0");
  pinned->set_error("no auth");
}

void AddBundles(testing::FakeFleet& fleet) {
  v1::Bundle* ok = fleet.bundles.add_bundles();
  ok->set_name("simple-simple");
  ok->set_gitrepo_name("simple");
  ok->set_path("simple");
  ok->set_commit("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
  ok->set_ready(2);
  ok->set_desired(2);
  ok->set_state(v1::READY);
  v1::Bundle* failing = fleet.bundles.add_bundles();
  failing->set_name("simple-helm");
  failing->set_gitrepo_name("simple");
  failing->set_path("charts/web");
  failing->set_commit("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
  failing->set_ready(1);
  failing->set_desired(2);
  failing->set_state(v1::ERR_APPLIED);
}

void AddClusters(testing::FakeFleet& fleet, absl::Time now) {
  v1::Cluster* prod = fleet.clusters.add_clusters();
  prod->set_id("c-1");
  prod->set_name("prod-eu-1");
  (*prod->mutable_labels())["env"] = "prod";
  prod->set_connected(true);
  prod->set_last_seen_unix_millis(absl::ToUnixMillis(now - absl::Seconds(5)));
  prod->set_agent_version("0.9.0");
  prod->set_cert_not_after_unix_millis(absl::ToUnixMillis(now + absl::Hours(24 * 30)));
  prod->set_state(v1::READY);
  prod->set_ready_bundles(3);
  prod->set_desired_bundles(3);
  v1::Cluster* staging = fleet.clusters.add_clusters();
  staging->set_id("c-2");
  staging->set_name("staging");
  staging->set_desired_bundles(2);
}

void AddBundleDeployments(testing::FakeFleet& fleet) {
  v1::BundleDeployment* ready = fleet.bundle_deployments.add_bundle_deployments();
  ready->set_bundle_name("simple-simple");
  ready->set_cluster_id("c-1");
  ready->set_cluster_name("prod-eu-1");
  ready->set_deployment_id("s-0123456789abcdef0123:deadbeef");
  ready->set_applied_deployment_id("s-0123456789abcdef0123:deadbeef");
  ready->set_state(v1::READY);
  v1::BundleDeployment* waiting = fleet.bundle_deployments.add_bundle_deployments();
  waiting->set_bundle_name("simple-helm");
  waiting->set_cluster_id("c-2");
  waiting->set_cluster_name("staging");
  waiting->set_deployment_id("s-fedcba9876543210fedc:0011");
  waiting->set_applied_deployment_id("s-0000aaaa:prev");
  waiting->set_state(v1::WAIT_APPLIED);
  waiting->set_message("waiting for agent");
}

void AddClusterGroups(testing::FakeFleet& fleet) {
  v1::ClusterGroup* edge = fleet.cluster_groups.add_cluster_groups();
  edge->set_name("edge");
  edge->set_has_selector(true);
  edge->set_selector("tier=edge");
  edge->set_cluster_count(15);
  edge->set_ready_clusters(2);
  for (int i = 1; i <= 10; ++i) edge->add_non_ready_clusters("e" + std::to_string(i));
  (*edge->mutable_labels())["team"] = "edge";
}

void AddSecrets(testing::FakeFleet& fleet, absl::Time now) {
  v1::Secret* basic = fleet.secrets.add_secrets();
  basic->set_name("git-auth");
  basic->set_type("basic-auth");
  basic->add_keys("password");
  basic->add_keys("username");
  basic->set_created_unix_millis(absl::ToUnixMillis(now - absl::Hours(50)));
  basic->set_updated_unix_millis(absl::ToUnixMillis(now - absl::Minutes(5)));
  v1::Secret* values = fleet.secrets.add_secrets();
  values->set_name("values");
  values->set_type("generic");
  values->add_keys("values.yaml");
}

// Every kind's fixture, by the name `get` takes.
CliHarness& WithEverything(CliHarness& cli) {
  AddGitRepos(cli.fleet);
  AddBundles(cli.fleet);
  AddClusters(cli.fleet, cli.clock.Now());
  AddBundleDeployments(cli.fleet);
  AddClusterGroups(cli.fleet);
  AddSecrets(cli.fleet, cli.clock.Now());
  return cli;
}

// Wide adds where the GitRepo checks out (the revision wins over the branch)
// and the whole commit.
TEST_CASE("get gitrepos -o wide adds BRANCH/REVISION and the whole commit", "[get][output]") {
  CliHarness cli;
  AddGitRepos(cli.fleet);
  auto result = cli.Run({"get", "gitrepos", "-o", "wide"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(
      result.out ==
      "NAME     REPO                  BRANCH/REVISION   COMMIT                                     "
      "BUNDLEDEPLOYMENTS-READY   STATUS\n"
      "simple   https://g.example/a   main              a1b2c3d4e5f60718293a4b5c6d7e8f9012345678   "
      "2/2\n"
      "pinned   https://g.example/b   v1.2.0                                                       "
      "0/0                       no auth\n");
}

TEST_CASE("get bundles -o wide adds PATH and COMMIT", "[get][output]") {
  CliHarness cli;
  AddBundles(cli.fleet);
  auto result = cli.Run({"get", "bundles", "-owide"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "NAME            GITREPO   PATH         COMMIT                                     "
        "BUNDLEDEPLOYMENTS-READY   STATUS\n"
        "simple-simple   simple    simple       a1b2c3d4e5f60718293a4b5c6d7e8f9012345678   2/2\n"
        "simple-helm     simple    charts/web   a1b2c3d4e5f60718293a4b5c6d7e8f9012345678   1/2"
        "                       ErrApplied\n");
}

// The certificate expiry is absolute (RFC 3339 UTC); a cluster that never
// checked in has no agent version and no certificate time.
TEST_CASE("get clusters -o wide adds AGENT-VERSION and CERT-EXPIRES", "[get][output]") {
  CliHarness cli;
  AddClusters(cli.fleet, cli.clock.Now());
  auto result = cli.Run({"get", "clusters", "--output=wide"});
  CHECK(result.exit_code == 0);
  // The harness clock is 2023-11-14T22:13:20Z; 30 days later:
  CHECK(result.out ==
        "NAME        BUNDLES-READY   CONNECTED   LAST-SEEN   STATUS        AGENT-VERSION   "
        "CERT-EXPIRES           LABELS\n"
        "prod-eu-1   3/3             true        5s          Ready         0.9.0           "
        "2023-12-14T22:13:20Z   env=prod\n"
        "staging     0/2             false       <never>     WaitCheckIn                   "
        "<unknown>              <none>\n");
}

TEST_CASE("get bundledeployments -o wide shows whole deployment and applied ids", "[get][output]") {
  CliHarness cli;
  AddBundleDeployments(cli.fleet);
  auto result = cli.Run({"get", "bd", "-o", "wide"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "BUNDLE          CLUSTER     DEPLOYMENT-ID                     APPLIED-ID                "
        "        STATUS        MESSAGE\n"
        "simple-simple   prod-eu-1   s-0123456789abcdef0123:deadbeef   "
        "s-0123456789abcdef0123:deadbeef   Ready\n"
        "simple-helm     staging     s-fedcba9876543210fedc:0011       s-0000aaaa:prev           "
        "        WaitApplied   waiting for agent\n");
}

// The table names 3 non-ready clusters; wide names all the manager sent and
// counts the rest.
TEST_CASE("get clustergroups -o wide names every non-ready cluster the manager sent",
          "[get][output]") {
  CliHarness cli;
  AddClusterGroups(cli.fleet);
  CHECK(cli.Run({"get", "cg"}).out ==
        "NAME   CLUSTERS-READY   SELECTOR    NON-READY           LABELS\n"
        "edge   2/15             tier=edge   e1,e2,e3,+10 more   team=edge\n");
  auto result = cli.Run({"get", "cg", "-o", "wide"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "NAME   CLUSTERS-READY   SELECTOR    NON-READY                                LABELS\n"
        "edge   2/15             tier=edge   e1,e2,e3,e4,e5,e6,e7,e8,e9,e10,+3 more   "
        "team=edge\n");
}

TEST_CASE("get secrets -o wide adds UPDATED", "[get][output]") {
  CliHarness cli;
  AddSecrets(cli.fleet, cli.clock.Now());
  auto result = cli.Run({"get", "secrets", "-o", "wide"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "NAME       TYPE         KEYS                AGE         UPDATED\n"
        "git-auth   basic-auth   password,username   2d2h        5m\n"
        "values     generic      values.yaml         <unknown>   <unknown>\n");
}

// YAML carries exactly what JSON does: proto field names, defaults included,
// enums by name, int64 as (quoted) strings.
TEST_CASE("get -o yaml prints each kind's items as YAML", "[get][output]") {
  CliHarness cli;
  WithEverything(cli);
  CHECK(cli.Run({"get", "gitrepos", "-o", "yaml"}).out ==
        "items:\n"
        "  - applied_commit: \"\"\n"
        "    branch: main\n"
        "    bundle_count: 0\n"
        "    commit: a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\n"
        "    conditions: []\n"
        "    desired_bundle_deployments: 2\n"
        "    desired_ready_clusters: 0\n"
        "    display_state: \"\"\n"
        "    error: \"\"\n"
        "    labels: {}\n"
        "    last_fetch_unix_millis: \"0\"\n"
        "    name: simple\n"
        "    paths: []\n"
        "    paused: false\n"
        "    polling_interval_seconds: \"0\"\n"
        "    ready_bundle_deployments: 2\n"
        "    ready_clusters: 0\n"
        "    repo: https://g.example/a\n"
        "    revision: \"\"\n"
        "    spec_yaml: \"\"\n"
        "    workspace: \"\"\n"
        "  - applied_commit: \"\"\n"
        "    branch: main\n"
        "    bundle_count: 0\n"
        "    commit: \"\"\n"
        "    conditions: []\n"
        "    desired_bundle_deployments: 0\n"
        "    desired_ready_clusters: 0\n"
        "    display_state: \"\"\n"
        "    error: no auth\n"
        "    labels: {}\n"
        "    last_fetch_unix_millis: \"0\"\n"
        "    name: pinned\n"
        "    paths: []\n"
        "    paused: false\n"
        "    polling_interval_seconds: \"0\"\n"
        "    ready_bundle_deployments: 0\n"
        "    ready_clusters: 0\n"
        "    repo: https://g.example/b\n"
        "    revision: v1.2.0\n"
        "    spec_yaml: \"\"\n"
        "    workspace: \"\"\n");
  CHECK(cli.Run({"get", "bundles", "-o", "yaml"}).out ==
        "items:\n"
        "  - commit: a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\n"
        "    desired: 2\n"
        "    error: \"\"\n"
        "    gitrepo_name: simple\n"
        "    labels: {}\n"
        "    max_unavailable: 0\n"
        "    max_unavailable_partitions: 0\n"
        "    name: simple-simple\n"
        "    partitions: []\n"
        "    path: simple\n"
        "    paused: false\n"
        "    ready: 2\n"
        "    ready_message: \"\"\n"
        "    resource_count: 0\n"
        "    state: READY\n"
        "    unavailable: 0\n"
        "    unavailable_partitions: 0\n"
        "    workspace: \"\"\n"
        "  - commit: a1b2c3d4e5f60718293a4b5c6d7e8f9012345678\n"
        "    desired: 2\n"
        "    error: \"\"\n"
        "    gitrepo_name: simple\n"
        "    labels: {}\n"
        "    max_unavailable: 0\n"
        "    max_unavailable_partitions: 0\n"
        "    name: simple-helm\n"
        "    partitions: []\n"
        "    path: charts/web\n"
        "    paused: false\n"
        "    ready: 1\n"
        "    ready_message: \"\"\n"
        "    resource_count: 0\n"
        "    state: ERR_APPLIED\n"
        "    unavailable: 0\n"
        "    unavailable_partitions: 0\n"
        "    workspace: \"\"\n");
  const std::string seen = std::to_string(absl::ToUnixMillis(cli.clock.Now() - absl::Seconds(5)));
  const std::string expires =
      std::to_string(absl::ToUnixMillis(cli.clock.Now() + absl::Hours(24 * 30)));
  CHECK(cli.Run({"get", "clusters", "-o", "yaml"}).out ==
        "items:\n"
        "  - agent_version: 0.9.0\n"
        "    annotations: {}\n"
        "    cert_not_after_unix_millis: \"" +
            expires +
            "\"\n"
            "    connected: true\n"
            "    created_unix_millis: \"0\"\n"
            "    desired_bundles: 3\n"
            "    desired_ready_gitrepos: 0\n"
            "    display_state: \"\"\n"
            "    id: c-1\n"
            "    labels:\n"
            "      env: prod\n"
            "    last_seen_unix_millis: \"" +
            seen +
            "\"\n"
            "    name: prod-eu-1\n"
            "    offline: false\n"
            "    paused: false\n"
            "    ready_bundles: 3\n"
            "    ready_gitrepos: 0\n"
            "    ready_message: \"\"\n"
            "    revoked: false\n"
            "    state: READY\n"
            "  - agent_version: \"\"\n"
            "    annotations: {}\n"
            "    cert_not_after_unix_millis: \"0\"\n"
            "    connected: false\n"
            "    created_unix_millis: \"0\"\n"
            "    desired_bundles: 2\n"
            "    desired_ready_gitrepos: 0\n"
            "    display_state: \"\"\n"
            "    id: c-2\n"
            "    labels: {}\n"
            "    last_seen_unix_millis: \"0\"\n"
            "    name: staging\n"
            "    offline: false\n"
            "    paused: false\n"
            "    ready_bundles: 0\n"
            "    ready_gitrepos: 0\n"
            "    ready_message: \"\"\n"
            "    revoked: false\n"
            "    state: STATE_UNSPECIFIED\n");
  CHECK(cli.Run({"get", "bundledeployments", "-o", "yaml"}).out ==
        "items:\n"
        "  - applied_deployment_id: s-0123456789abcdef0123:deadbeef\n"
        "    bundle_name: simple-simple\n"
        "    cluster_id: c-1\n"
        "    cluster_name: prod-eu-1\n"
        "    deployment_id: s-0123456789abcdef0123:deadbeef\n"
        "    gitrepo_name: \"\"\n"
        "    message: \"\"\n"
        "    modified: []\n"
        "    non_ready: []\n"
        "    staged_deployment_id: \"\"\n"
        "    state: READY\n"
        "    status_unix_millis: \"0\"\n"
        "  - applied_deployment_id: s-0000aaaa:prev\n"
        "    bundle_name: simple-helm\n"
        "    cluster_id: c-2\n"
        "    cluster_name: staging\n"
        "    deployment_id: s-fedcba9876543210fedc:0011\n"
        "    gitrepo_name: \"\"\n"
        "    message: waiting for agent\n"
        "    modified: []\n"
        "    non_ready: []\n"
        "    staged_deployment_id: \"\"\n"
        "    state: WAIT_APPLIED\n"
        "    status_unix_millis: \"0\"\n");
  CHECK(cli.Run({"get", "clustergroups", "-o", "yaml"}).out ==
        "items:\n"
        "  - cluster_count: 15\n"
        "    display_ready_clusters: \"\"\n"
        "    display_state: \"\"\n"
        "    has_selector: true\n"
        "    labels:\n"
        "      team: edge\n"
        "    name: edge\n"
        "    non_ready_clusters:\n"
        "      - e1\n"
        "      - e2\n"
        "      - e3\n"
        "      - e4\n"
        "      - e5\n"
        "      - e6\n"
        "      - e7\n"
        "      - e8\n"
        "      - e9\n"
        "      - e10\n"
        "    ready_clusters: 2\n"
        "    selector: tier=edge\n");
  const std::string created = std::to_string(absl::ToUnixMillis(cli.clock.Now() - absl::Hours(50)));
  const std::string updated =
      std::to_string(absl::ToUnixMillis(cli.clock.Now() - absl::Minutes(5)));
  CHECK(cli.Run({"get", "secrets", "-o", "yaml"}).out ==
        "items:\n"
        "  - created_unix_millis: \"" +
            created +
            "\"\n"
            "    keys:\n"
            "      - password\n"
            "      - username\n"
            "    name: git-auth\n"
            "    type: basic-auth\n"
            "    updated_unix_millis: \"" +
            updated +
            "\"\n"
            "  - created_unix_millis: \"0\"\n"
            "    keys:\n"
            "      - values.yaml\n"
            "    name: values\n"
            "    type: generic\n"
            "    updated_unix_millis: \"0\"\n");
}

// Whatever the kind, reading the YAML back gives the JSON document.
TEST_CASE("get -o yaml holds the same fields and values as -o json for every kind",
          "[get][output]") {
  CliHarness cli;
  WithEverything(cli);
  for (const char* kind : kResourceKindNames) {
    INFO(kind);
    auto json = cli.Run({"get", kind, "-o", "json"});
    auto yaml = cli.Run({"get", kind, "-o", "yaml"});
    REQUIRE(json.exit_code == 0);
    REQUIRE(yaml.exit_code == 0);
    absl::StatusOr<common::Json> parsed = common::ParseYaml(yaml.out, "stdout");
    REQUIRE(parsed.ok());
    CHECK(*parsed == nlohmann::json::parse(json.out));
    CHECK(parsed->at("items").size() > 0);
  }
}

// Nothing to list: YAML's empty list; wide tables say so on stderr like tables.
TEST_CASE("get -o yaml and -o wide of an empty list", "[get][output]") {
  CliHarness cli;
  auto yaml = cli.Run({"get", "clusters", "-o", "yaml"});
  CHECK(yaml.exit_code == 0);
  CHECK(yaml.out == "items: []\n");
  auto wide = cli.Run({"get", "secrets", "-o", "wide"});
  CHECK(wide.exit_code == 0);
  CHECK(wide.out.empty());
  CHECK(wide.err == "No resources found.\n");
}

// An unknown -o is caught before connecting, naming every allowed value.
TEST_CASE("An unknown -o value is a usage error listing table, wide, json and yaml",
          "[get][output]") {
  CliHarness cli;
  for (const char* format : {"xml", "YAML", "", "name"}) {
    INFO(format);
    auto result = cli.Run({"get", "gitrepos", "-o", format});
    CHECK(result.exit_code == 2);
    CHECK(result.err == std::string("error: unknown output format \"") + format +
                            "\" (want table, wide, json or yaml)\n"
                            "Run 'flotilla get --help' for usage.\n");
  }
  CHECK(cli.factory.connections.empty());
  CHECK(ParseOutputFormat("table").value() == OutputFormat::kTable);
  CHECK(ParseOutputFormat("wide").value() == OutputFormat::kWide);
  CHECK(ParseOutputFormat("json").value() == OutputFormat::kJson);
  CHECK(ParseOutputFormat("yaml").value() == OutputFormat::kYaml);
}

}  // namespace
}  // namespace flotilla::cli
