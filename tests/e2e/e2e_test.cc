// End to end: the real flotilla-manager, flotilla-agent and flotilla binaries on
// loopback, with real TLS, a real SQLite store and a repository served by
// `git daemon`. Agents use directory targets, so what "runs on a cluster" is
// the set of files in its directory.
//
// Each TEST_CASE starts its own manager, daemon and agents in its own TempDir.
// Nothing sleeps blind: every wait polls an observable outcome with a deadline,
// and a timeout fails with the manager's and agents' log tails.
#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/yaml.h"
#include "tests/support/e2e_process.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Labels = std::map<std::string, std::string>;

// Generous for a loaded 2-core CI machine; on success nothing waits this long.
constexpr absl::Duration kDeadline = absl::Seconds(45);
constexpr absl::Duration kPollInterval = absl::Milliseconds(150);

// ------------------------------------------------------------ the repository

constexpr char kGitRepoName[] = "shop";
constexpr char kWebBundle[] = "shop-apps-web";
constexpr char kConfigBundle[] = "shop-apps-config";
constexpr char kAuditBundle[] = "shop-apps-audit";

// web: everywhere; objects land in "web", on env=prod in "web-prod".
constexpr char kWebFleetYaml[] = R"(defaultNamespace: web
labels:
  app: web
targetCustomizations:
- name: prod
  clusterSelector:
    matchLabels:
      env: prod
  namespace: web-prod
)";

std::string WebDeployment(const std::string& image) {
  return absl::StrReplaceAll(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: IMAGE
)",
                             {{"IMAGE", image}});
}

constexpr char kWebService[] = R"(apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
  - port: 80
)";

// config: everywhere, the same; includes a cluster-scoped Namespace.
constexpr char kConfigFleetYaml[] = "defaultNamespace: platform\n";

std::string ConfigMap(const std::string& log_level) {
  return absl::StrCat(R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  log-level: )",
                      log_level, "\n");
}

constexpr char kNamespace[] = R"(apiVersion: v1
kind: Namespace
metadata:
  name: platform
)";

// audit: only on env=prod (every other cluster is excluded by doNotDeploy).
constexpr char kAuditFleetYaml[] = R"(defaultNamespace: audit
targetCustomizations:
- name: not-prod
  clusterSelector:
    matchExpressions:
    - key: env
      operator: NotIn
      values: [prod]
  doNotDeploy: true
)";

constexpr char kAuditDeployment[] = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: audit-shipper
spec:
  replicas: 1
  selector:
    matchLabels:
      app: audit-shipper
  template:
    metadata:
      labels:
        app: audit-shipper
    spec:
      containers:
      - name: shipper
        image: fluent/fluent-bit:3.0
)";

void SeedRepo(TestGitRepo& repo) {
  repo.WriteFile("README.md", "A fleet repository for the Flotilla end-to-end tests.\n");
  repo.WriteFile("apps/web/fleet.yaml", kWebFleetYaml);
  repo.WriteFile("apps/web/deployment.yaml", WebDeployment("nginx:1.27"));
  repo.WriteFile("apps/web/service.yaml", kWebService);
  repo.WriteFile("apps/config/fleet.yaml", kConfigFleetYaml);
  repo.WriteFile("apps/config/configmap.yaml", ConfigMap("info"));
  repo.WriteFile("apps/config/namespace.yaml", kNamespace);
  repo.WriteFile("apps/audit/fleet.yaml", kAuditFleetYaml);
  repo.WriteFile("apps/audit/deployment.yaml", kAuditDeployment);
  repo.Commit("web, config and a prod-only audit shipper");
}

// The files a cluster labelled env=`env` holds for the seeded repository.
std::vector<std::string> ExpectedFiles(const std::string& env, bool with_service = true) {
  const std::string web_ns = env == "prod" ? "web-prod" : "web";
  std::vector<std::string> files = {"_cluster/namespace/platform.yaml",
                                    "platform/configmap/settings.yaml",
                                    web_ns + "/deployment/web.yaml"};
  if (with_service) files.push_back(web_ns + "/service/web.yaml");
  if (env == "prod") files.push_back("audit/deployment/audit-shipper.yaml");
  std::sort(files.begin(), files.end());
  return files;
}

// The GitRepo selecting clusters by `selector_yaml` (a clusterSelector body,
// indented by 6).
std::string GitRepoYaml(const std::string& url, const std::string& selector_yaml,
                        const std::string& extra_spec = "") {
  return absl::StrCat(R"(apiVersion: fleet.cattle.io/v1alpha1
kind: GitRepo
metadata:
  name: )",
                      kGitRepoName, R"(
  namespace: fleet-default
spec:
  repo: )",
                      url, R"(
  branch: main
  paths:
  - apps
  pollingInterval: 1s
)",
                      extra_spec, R"(  targets:
  - name: shop
    clusterSelector:
)",
                      selector_yaml);
}

constexpr char kGroupSelector[] = R"(      matchLabels:
        group: shop
)";

constexpr char kEnvSelector[] = R"(      matchExpressions:
      - key: env
        operator: In
        values: [dev, test, prod]
)";

// ------------------------------------------------------------ the fixture

// An integer field of a proto message printed as JSON: proto3 prints 64-bit
// integers as strings, 32-bit ones as numbers.
int64_t JsonInt(const Json& object, const std::string& key) {
  if (!object.contains(key)) return 0;
  const Json& v = object[key];
  if (v.is_number_integer()) return v.get<int64_t>();
  int64_t parsed = 0;
  if (v.is_string() && absl::SimpleAtoi(v.get<std::string>(), &parsed)) return parsed;
  return 0;
}

// A parsed Kubernetes object read back from an agent's directory.
Json ReadObject(const std::string& path) {
  INFO("reading " << path);
  REQUIRE(fs::is_regular_file(path));
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  absl::StatusOr<Json> parsed = common::ParseYaml(text, path);
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  return *parsed;
}

// One test's world: a TempDir holding a git repository (served by git
// daemon), a manager, and agents that are started on demand.
class Fleet {
 public:
  Fleet()
      : repo_(tmp_.Sub("git/fleet")),
        daemon_(tmp_.Sub("git")),
        manager_(std::make_unique<ManagerProcess>(tmp_.Sub("manager"))) {}

  TempDir& tmp() { return tmp_; }
  TestGitRepo& repo() { return repo_; }
  ManagerProcess& manager() { return *manager_; }
  std::string RepoUrl() const { return daemon_.Url("fleet"); }
  AgentProcess& agent(const std::string& name) { return *agents_.at(name); }

  // A registration token shared by the agents AddAgent starts.
  const std::string& Token() {
    if (token_.empty()) token_ = manager_->CreateToken({"--ttl", "1h"});
    return token_;
  }

  AgentOptions Options(const std::string& name, const Labels& labels) {
    AgentOptions options;
    options.name = name;
    options.labels = labels;
    options.state_dir = tmp_.Sub("agents/" + name + "/state");
    options.target_dir = tmp_.Sub("agents/" + name + "/target");
    options.log_path = tmp_.Sub("agents/" + name + ".log");
    fs::create_directories(tmp_.Sub("agents/" + name));
    return options;
  }

  // Starts an agent labelled env=`env`, group=shop, and waits until its
  // cluster is connected.
  AgentProcess& AddAgent(const std::string& name, const std::string& env) {
    AgentOptions options = Options(name, {{"env", env}, {"group", "shop"}});
    options.token = Token();
    return AddAgent(std::move(options));
  }
  AgentProcess& AddAgent(AgentOptions options) {
    const std::string name = options.name;
    agents_[name] = std::make_unique<AgentProcess>(*manager_, std::move(options));
    AwaitConnected(name, true);
    return *agents_[name];
  }

  // Polls `done` until it holds; on timeout fails with `what`, the detail the
  // predicate left in `detail_` and the log tails.
  void Await(const std::string& what, const std::function<bool()>& done) {
    detail_.clear();
    const absl::Time start = absl::Now();
    if (PollEvery(kPollInterval, kDeadline, done)) {
      UNSCOPED_INFO("waited " << absl::FormatDuration(absl::Now() - start) << " for " << what);
      return;
    }
    FAIL("timed out after " << absl::FormatDuration(kDeadline) << " waiting for " << what
                            << "\nlast seen: " << detail_ << "\n"
                            << Logs());
  }

  std::string Logs() {
    std::string logs = "--- manager log tail:\n" + manager_->process().LogTail(60);
    for (auto& [name, agent] : agents_) {
      absl::StrAppend(&logs, "--- agent ", name, " log tail:\n", agent->process().LogTail(25));
    }
    return logs;
  }

  std::optional<Json> FindItem(const std::string& kind, const std::string& key,
                               const std::string& value) {
    std::optional<Json> items = manager_->TryGetJson(kind);
    if (!items.has_value()) {
      detail_ = "flotilla get " + kind + " failed";
      return std::nullopt;
    }
    detail_ = items->dump();
    for (const Json& item : *items) {
      if (item.value(key, "") == value) return item;
    }
    return std::nullopt;
  }

  std::optional<Json> Cluster(const std::string& name) {
    return FindItem("clusters", "name", name);
  }
  std::optional<Json> GitRepo() { return FindItem("gitrepos", "name", kGitRepoName); }

  void AwaitConnected(const std::string& name, bool connected) {
    Await(absl::StrCat("cluster ", name, connected ? " to connect" : " to disconnect"), [&] {
      if (agents_.contains(name) && connected && !agents_[name]->process().Running()) {
        FAIL("agent " << name << " exited with "
                      << agents_[name]->process().exit_code().value_or(-1) << ":\n"
                      << agents_[name]->process().LogTail());
      }
      std::optional<Json> cluster = Cluster(name);
      return cluster.has_value() && cluster->value("connected", false) == connected;
    });
  }

  void Apply(const std::string& yaml) {
    const std::string path = tmp_.Sub("gitrepo-" + std::to_string(++applies_) + ".yaml");
    std::ofstream(path) << yaml;
    RunResult r = manager_->Cli({"apply", "-f", path});
    INFO("flotilla apply -f " << path << "\nstdout: " << r.out << "\nstderr: " << r.err);
    REQUIRE(r.exit_code == 0);
  }

  // Waits until the GitRepo has fetched and stored `commit`.
  void AwaitCommit(const std::string& commit) {
    Await("GitRepo to apply commit " + commit, [&] {
      std::optional<Json> g = GitRepo();
      return g.has_value() && g->value("commit", "") == commit &&
             g->value("applied_commit", "") == commit;
    });
  }

  // Waits until the bundle deployments are exactly `expected` (bundle ->
  // clusters), each READY with its current deployment applied.
  void AwaitReady(const std::map<std::string, std::set<std::string>>& expected) {
    std::set<std::pair<std::string, std::string>> want;
    for (const auto& [bundle, clusters] : expected) {
      for (const std::string& cluster : clusters) want.emplace(bundle, cluster);
    }
    Await("every bundle deployment to be READY", [&] {
      std::optional<Json> bds = manager_->TryGetJson("bundledeployments");
      if (!bds.has_value()) return false;
      detail_ = bds->dump();
      std::set<std::pair<std::string, std::string>> got;
      bool ready = true;
      for (const Json& bd : *bds) {
        got.emplace(bd.value("bundle_name", ""), bd.value("cluster_name", ""));
        ready = ready && bd.value("state", "") == "READY" &&
                !bd.value("deployment_id", "").empty() &&
                bd.value("applied_deployment_id", "") == bd.value("deployment_id", "");
      }
      return ready && got == want;
    });
  }

  // The seeded repository's deployments for clusters named after their env.
  static std::map<std::string, std::set<std::string>> SeededDeployments(
      const std::vector<std::string>& envs) {
    std::map<std::string, std::set<std::string>> expected;
    for (const std::string& env : envs) {
      expected[kWebBundle].insert(env);
      expected[kConfigBundle].insert(env);
      if (env == "prod") expected[kAuditBundle].insert(env);
    }
    return expected;
  }

  // Seeds the repository, starts agents named dev/test/prod (as asked) and
  // applies the GitRepo; returns once every deployment is READY.
  void StartSeeded(const std::vector<std::string>& envs,
                   const std::string& selector = kGroupSelector) {
    SeedRepo(repo_);
    for (const std::string& env : envs) AddAgent(env, env);
    Apply(GitRepoYaml(RepoUrl(), selector));
    AwaitCommit(repo_.Head());
    AwaitReady(SeededDeployments(envs));
  }

  std::vector<std::string> Files(const std::string& agent) {
    return ListFiles(agents_.at(agent)->target_dir());
  }
  Json Object(const std::string& agent, const std::string& rel) {
    return ReadObject(agents_.at(agent)->target_dir() + "/" + rel);
  }

  std::string detail_;

 private:
  TempDir tmp_;
  TestGitRepo repo_;
  GitDaemon daemon_;
  std::unique_ptr<ManagerProcess> manager_;
  std::map<std::string, std::unique_ptr<AgentProcess>> agents_;
  std::string token_;
  int applies_ = 0;
};

std::string Joined(const std::vector<std::string>& v) { return absl::StrJoin(v, "\n  "); }

#define REQUIRE_FILES(fleet, agent, expected)                                            \
  do {                                                                                   \
    const std::vector<std::string> got_files_ = (fleet).Files(agent);                    \
    const std::vector<std::string> want_files_ = (expected);                             \
    INFO("cluster " << (agent) << " holds:\n  " << Joined(got_files_) << "\nwanted:\n  " \
                    << Joined(want_files_));                                             \
    REQUIRE(got_files_ == want_files_);                                                  \
  } while (false)

// ------------------------------------------------------------ scenarios

// Three agents labelled env=dev, env=test and env=prod register with one
// token; a GitRepo served by git daemon targets all three by a matchExpressions
// selector. Each cluster's directory ends up holding exactly the bundle
// objects meant for it: the prod customization moves web into web-prod, the
// prod-only bundle lands on prod alone, cluster-scoped objects go to _cluster.
TEST_CASE("A GitRepo reaches three labelled clusters with per-cluster customizations", "[e2e]") {
  Fleet fleet;
  fleet.StartSeeded({"dev", "test", "prod"}, kEnvSelector);

  for (const std::string env : {"dev", "test", "prod"}) {
    REQUIRE_FILES(fleet, env, ExpectedFiles(env));
    const std::string web_ns = env == "prod" ? "web-prod" : "web";
    Json deployment = fleet.Object(env, web_ns + "/deployment/web.yaml");
    CHECK(deployment["metadata"]["namespace"] == web_ns);
    CHECK(deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27");
    Json service = fleet.Object(env, web_ns + "/service/web.yaml");
    CHECK(service["metadata"]["namespace"] == web_ns);
    Json config = fleet.Object(env, "platform/configmap/settings.yaml");
    CHECK(config["metadata"]["namespace"] == "platform");
    CHECK(config["data"]["log-level"] == "info");
    Json ns = fleet.Object(env, "_cluster/namespace/platform.yaml");
    CHECK(ns["kind"] == "Namespace");
    CHECK_FALSE(ns["metadata"].contains("namespace"));
  }

  // The status every operator interface reports agrees.
  std::optional<Json> gitrepo = fleet.GitRepo();
  REQUIRE(gitrepo.has_value());
  CHECK(gitrepo->value("error", "") == "");
  CHECK(gitrepo->value("repo", "") == fleet.RepoUrl());
  Json clusters = fleet.manager().GetJson("clusters");
  REQUIRE(clusters.size() == 3);
  for (const Json& cluster : clusters) {
    CHECK(cluster.value("connected", false));
    CHECK(cluster["labels"]["env"] == cluster.value("name", ""));
    CHECK(cluster["labels"]["group"] == "shop");
  }
  std::map<std::string, std::string> bundles;
  for (const Json& bundle : fleet.manager().GetJson("bundles")) {
    bundles[bundle.value("name", "")] = bundle.value("gitrepo_name", "");
  }
  CHECK(bundles == std::map<std::string, std::string>{{kAuditBundle, kGitRepoName},
                                                      {kConfigBundle, kGitRepoName},
                                                      {kWebBundle, kGitRepoName}});

  HttpResponse healthz = fleet.manager().Get("/healthz");
  CHECK(healthz.status == 200);
  CHECK(absl::StrContains(healthz.body, "ok"));
  CHECK(fleet.manager().Get("/readyz").status == 200);
  CHECK(fleet.manager().Metric("flotilla_agents_connected") == 3.0);
  CHECK(fleet.manager().MetricSum("flotilla_clusters") == 3.0);
  CHECK(fleet.manager().MetricSum("flotilla_clusters", {{"connected", "true"}}) == 3.0);
  // Metrics carry no per-cluster labels: web and config at least, for each
  // of the three clusters.
  std::optional<double> sent = fleet.manager().Metric("flotilla_stream_contents_sent_total");
  REQUIRE(sent.has_value());
  CHECK(*sent >= 6.0);

  // The table a human reads names every bundle deployment as Ready.
  RunResult table = fleet.manager().Cli({"get", "bundledeployments"});
  REQUIRE(table.exit_code == 0);
  CHECK(absl::StrContains(table.out, "BUNDLE"));
  CHECK(absl::StrContains(table.out, kAuditBundle));
  CHECK(absl::StrContains(table.out, "Ready"));
}

// A commit that edits one manifest and deletes another is pushed: the edit
// reaches every targeted cluster, the deleted Service disappears from every
// directory, and the untouched bundle's files are not rewritten.
TEST_CASE("A pushed commit updates every targeted cluster and prunes removed objects", "[e2e]") {
  Fleet fleet;
  fleet.StartSeeded({"dev", "test", "prod"});
  std::map<std::string, std::map<std::string, int64_t>> before;
  for (const std::string env : {"dev", "test", "prod"}) {
    before[env] = ModTimes(fleet.agent(env).target_dir());
  }

  fleet.repo().WriteFile("apps/web/deployment.yaml", WebDeployment("nginx:1.28"));
  fleet.repo().RemoveFile("apps/web/service.yaml");
  const std::string commit = fleet.repo().Commit("web: nginx 1.28, no Service");
  fleet.AwaitCommit(commit);
  fleet.AwaitReady(Fleet::SeededDeployments({"dev", "test", "prod"}));

  for (const std::string env : {"dev", "test", "prod"}) {
    INFO("cluster " << env);
    REQUIRE_FILES(fleet, env, ExpectedFiles(env, /*with_service=*/false));
    const std::string web_ns = env == "prod" ? "web-prod" : "web";
    Json deployment = fleet.Object(env, web_ns + "/deployment/web.yaml");
    CHECK(deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28");
    // The config bundle did not change, so its files were left alone.
    std::map<std::string, int64_t> now = ModTimes(fleet.agent(env).target_dir());
    CHECK(now["platform/configmap/settings.yaml"] ==
          before[env]["platform/configmap/settings.yaml"]);
    CHECK(now["_cluster/namespace/platform.yaml"] ==
          before[env]["_cluster/namespace/platform.yaml"]);
  }
}

// An operator relabels the dev cluster env=prod: the prod-only bundle moves
// onto it and web moves into web-prod (the prod customization), while the real
// prod cluster is untouched. Removing the env label takes the prod-only bundle
// away again and puts web back in its default namespace.
TEST_CASE("Relabelling a cluster moves prod-only bundles onto it and off it again", "[e2e]") {
  Fleet fleet;
  fleet.StartSeeded({"dev", "prod"});
  const std::map<std::string, std::string> prod_before = ReadTree(fleet.agent("prod").target_dir());
  REQUIRE_FILES(fleet, "dev", ExpectedFiles("dev"));

  RunResult r = fleet.manager().Cli({"label", "cluster", "dev", "env=prod"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  fleet.AwaitReady({{kWebBundle, {"dev", "prod"}},
                    {kConfigBundle, {"dev", "prod"}},
                    {kAuditBundle, {"dev", "prod"}}});
  REQUIRE_FILES(fleet, "dev", ExpectedFiles("prod"));
  CHECK(fleet.Object("dev", "web-prod/deployment/web.yaml")["metadata"]["namespace"] == "web-prod");
  std::optional<Json> dev = fleet.Cluster("dev");
  REQUIRE(dev.has_value());
  CHECK((*dev)["labels"]["env"] == "prod");

  r = fleet.manager().Cli({"label", "cluster", "dev", "env-"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  fleet.AwaitReady(
      {{kWebBundle, {"dev", "prod"}}, {kConfigBundle, {"dev", "prod"}}, {kAuditBundle, {"prod"}}});
  REQUIRE_FILES(fleet, "dev", ExpectedFiles("dev"));  // no env label: like dev
  dev = fleet.Cluster("dev");
  REQUIRE(dev.has_value());
  CHECK_FALSE((*dev)["labels"].contains("env"));
  CHECK((*dev)["labels"]["group"] == "shop");

  CHECK(ReadTree(fleet.agent("prod").target_dir()) == prod_before);
}

// The dev agent is killed with SIGKILL and started again from its state dir
// (no token). Once it has reconnected and everything is READY again, the
// manager has sent it no manifest content (the counter did not move) and its
// directory is byte-for-byte and mtime-for-mtime what it was. A later commit
// then costs exactly one content blob per cluster.
TEST_CASE("A killed and restarted agent resumes without anything being re-sent", "[e2e]") {
  Fleet fleet;
  fleet.StartSeeded({"dev", "prod"});
  // The counter has no cluster label (docs/metrics.md): prod's agent keeps
  // running untouched, so any movement would be dev's.
  const std::optional<double> sent_before =
      fleet.manager().Metric("flotilla_stream_contents_sent_total");
  REQUIRE(sent_before.has_value());
  REQUIRE(*sent_before >= 4.0);
  const std::string target = fleet.agent("dev").target_dir();
  const std::map<std::string, std::string> tree_before = ReadTree(target);
  const std::map<std::string, int64_t> mtimes_before = ModTimes(target);
  std::optional<Json> dev = fleet.Cluster("dev");
  REQUIRE(dev.has_value());
  const std::string cluster_id = dev->value("id", "");

  CHECK(fleet.agent("dev").process().Kill() == 128 + SIGKILL);
  fleet.AwaitConnected("dev", false);
  const int64_t restarted_ms = absl::ToUnixMillis(absl::Now());
  fleet.agent("dev").Restart();
  fleet.AwaitConnected("dev", true);
  fleet.Await("the restarted agent to check in", [&] {
    std::optional<Json> c = fleet.Cluster("dev");
    return c.has_value() && JsonInt(*c, "last_seen_unix_millis") >= restarted_ms;
  });
  fleet.AwaitReady(Fleet::SeededDeployments({"dev", "prod"}));

  CHECK(fleet.manager().Metric("flotilla_stream_contents_sent_total") == sent_before);
  CHECK(ReadTree(target) == tree_before);
  CHECK(ModTimes(target) == mtimes_before);
  dev = fleet.Cluster("dev");
  REQUIRE(dev.has_value());
  CHECK(dev->value("id", "") == cluster_id);  // the same cluster, not a new one
  CHECK(fleet.manager().GetJson("clusters").size() == 2);
  CHECK(fleet.agent("prod").process().Running());

  // The stream works, and what it sends is exactly what changed: a commit to
  // config costs one content blob for each of dev and prod, and web's files
  // are not touched. (This also
  // proves the reconnect handshake was over when the counter was read above.)
  fleet.repo().WriteFile("apps/config/configmap.yaml", ConfigMap("debug"));
  const std::string commit = fleet.repo().Commit("config: debug logging");
  fleet.AwaitCommit(commit);
  fleet.AwaitReady(Fleet::SeededDeployments({"dev", "prod"}));
  CHECK(fleet.Object("dev", "platform/configmap/settings.yaml")["data"]["log-level"] == "debug");
  CHECK(fleet.manager().Metric("flotilla_stream_contents_sent_total") == *sent_before + 2);
  const std::map<std::string, int64_t> mtimes_after = ModTimes(target);
  CHECK(mtimes_after.at("web/deployment/web.yaml") == mtimes_before.at("web/deployment/web.yaml"));
  CHECK(mtimes_after.at("web/service/web.yaml") == mtimes_before.at("web/service/web.yaml"));
}

// --health-listen: /healthz while the run loop moves, /readyz while the
// stream to the manager is up; a stopped manager turns readiness off, not
// liveness (restarting the agent would not help).
TEST_CASE("The agent's probes: live while running, ready while connected", "[e2e]") {
  Fleet fleet;
  AgentOptions options = fleet.Options("probed", {{"env", "dev"}});
  options.token = fleet.Token();
  options.health = true;
  AgentProcess& agent = fleet.AddAgent(std::move(options));
  const std::string health = agent.HealthAddress();
  CHECK(HttpGet(health, "/healthz").status == 200);
  fleet.Await("/readyz to answer 200", [&] { return HttpGet(health, "/readyz").status == 200; });
  CHECK(HttpGet(health, "/metrics").status == 404);  // nothing else is served

  fleet.manager().process().Stop();
  fleet.Await("/readyz to answer 503", [&] { return HttpGet(health, "/readyz").status == 503; });
  CHECK(HttpGet(health, "/readyz").body == "not connected to the manager\n");
  CHECK(HttpGet(health, "/healthz").status == 200);
}

// A commit breaks apps/web/fleet.yaml. The GitRepo's error names the file,
// line and column; web keeps its last good version on every cluster while a
// later commit to the config bundle still deploys. Fixing the file recovers.
TEST_CASE("A malformed fleet.yaml is reported by position and loses nothing", "[e2e][bad-input]") {
  Fleet fleet;
  fleet.StartSeeded({"dev", "prod"});
  const std::map<std::string, std::string> dev_web_before =
      ReadTree(fleet.agent("dev").target_dir() + "/web");
  const std::map<std::string, std::string> prod_web_before =
      ReadTree(fleet.agent("prod").target_dir() + "/web-prod");

  // An unclosed flow mapping on line 6.
  fleet.repo().WriteFile("apps/web/fleet.yaml", R"(defaultNamespace: web
targetCustomizations:
- name: prod
  namespace: web-prod
  clusterSelector:
    matchLabels: {env: prod
)");
  fleet.repo().WriteFile("apps/web/deployment.yaml", WebDeployment("nginx:1.29"));
  const std::string broken = fleet.repo().Commit("break web's fleet.yaml");
  std::string error;
  fleet.Await("the GitRepo to report the broken fleet.yaml", [&] {
    std::optional<Json> g = fleet.GitRepo();
    if (!g.has_value() || g->value("commit", "") != broken) return false;
    error = g->value("error", "");
    return !error.empty();
  });
  INFO("GitRepo error: " << error);
  CHECK(std::regex_search(error, std::regex(R"(apps/web/fleet\.yaml:\d+:\d+)")));

  // A later commit to the other bundle still deploys everywhere.
  fleet.repo().WriteFile("apps/config/configmap.yaml", ConfigMap("debug"));
  const std::string config_commit = fleet.repo().Commit("config: debug logging");
  fleet.Await("the config change to reach dev and prod", [&] {
    for (const std::string env : {"dev", "prod"}) {
      std::map<std::string, std::string> tree = ReadTree(fleet.agent(env).target_dir());
      auto it = tree.find("platform/configmap/settings.yaml");
      if (it == tree.end() || !absl::StrContains(it->second, "debug")) return false;
    }
    return true;
  });
  fleet.AwaitReady(Fleet::SeededDeployments({"dev", "prod"}));
  std::optional<Json> g = fleet.GitRepo();
  REQUIRE(g.has_value());
  CHECK(g->value("commit", "") == config_commit);
  CHECK(std::regex_search(g->value("error", ""), std::regex(R"(apps/web/fleet\.yaml:\d+:\d+)")));
  // web's last good version stayed, the broken commit's image never arrived.
  CHECK(ReadTree(fleet.agent("dev").target_dir() + "/web") == dev_web_before);
  CHECK(ReadTree(fleet.agent("prod").target_dir() + "/web-prod") == prod_web_before);
  REQUIRE_FILES(fleet, "dev", ExpectedFiles("dev"));
  REQUIRE_FILES(fleet, "prod", ExpectedFiles("prod"));

  // Fixing the file clears the error and deploys the pending change.
  fleet.repo().WriteFile("apps/web/fleet.yaml", kWebFleetYaml);
  const std::string fixed = fleet.repo().Commit("fix web's fleet.yaml");
  fleet.AwaitCommit(fixed);
  fleet.Await("the GitRepo error to clear", [&] {
    std::optional<Json> repo = fleet.GitRepo();
    return repo.has_value() && repo->value("error", "x").empty();
  });
  fleet.AwaitReady(Fleet::SeededDeployments({"dev", "prod"}));
  CHECK(
      fleet.Object(
          "dev", "web/deployment/web.yaml")["spec"]["template"]["spec"]["containers"][0]["image"] ==
      "nginx:1.29");
}

// `flotilla apply` of a GitRepo with a misspelt spec field is refused (exit 1,
// "unknown field" naming it), for a new GitRepo and for an update of an
// existing one, and changes nothing: no new GitRepo, the old spec intact.
TEST_CASE("A GitRepo with an unknown field is refused and changes nothing", "[e2e][bad-input]") {
  Fleet fleet;
  fleet.StartSeeded({"dev"});
  const Json before = fleet.manager().GetJson("gitrepos");
  REQUIRE(before.size() == 1);
  const std::map<std::string, std::string> tree_before = ReadTree(fleet.agent("dev").target_dir());

  const std::string path = fleet.tmp().Sub("typo.yaml");
  // An update of "shop" pointing elsewhere, with a typo.
  std::ofstream(path) << GitRepoYaml(fleet.RepoUrl() + "-elsewhere", kGroupSelector,
                                     "  pollingIntervall: 5s\n");
  RunResult r = fleet.manager().Cli({"apply", "-f", path});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(absl::StrContains(r.err, "unknown field"));
  CHECK(absl::StrContains(r.err, "pollingIntervall"));

  // A new GitRepo with a typo is not created.
  const std::string new_path = fleet.tmp().Sub("typo-new.yaml");
  std::ofstream(new_path) << absl::StrReplaceAll(
      GitRepoYaml(fleet.RepoUrl(), kGroupSelector, "  brnach: main\n"),
      {{"name: shop", "name: shop-two"}});
  r = fleet.manager().Cli({"apply", "-f", new_path});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(absl::StrContains(r.err, "unknown field"));
  CHECK(absl::StrContains(r.err, "brnach"));

  const Json after = fleet.manager().GetJson("gitrepos");
  REQUIRE(after.size() == 1);
  for (const char* field : {"name", "repo", "branch", "paths", "polling_interval_seconds",
                            "spec_yaml", "commit", "error"}) {
    INFO("GitRepo field " << field);
    CHECK(after[0][field] == before[0][field]);
  }
  CHECK(fleet.manager().GetJson("bundledeployments").size() == 2);
  CHECK(ReadTree(fleet.agent("dev").target_dir()) == tree_before);
}

// Registration refuses bad tokens with a message naming the problem, and no
// cluster is added: an expired token (--ttl 1s, used after it expired), a
// --max-uses 1 token used a second time, a token the manager never issued, and
// a name another cluster already has. A kubeconfig that does not exist is
// refused up front, before registering.
TEST_CASE("Registration refuses expired or reused or forged tokens and taken names",
          "[e2e][bad-input]") {
  Fleet fleet;
  const std::string expired = fleet.manager().CreateToken({"--ttl", "1s"});
  const absl::Time created = absl::Now();
  const std::string once = fleet.manager().CreateToken({"--max-uses", "1"});
  REQUIRE(!expired.empty());
  REQUIRE(!once.empty());

  // The single-use token registers its first agent.
  AgentOptions first = fleet.Options("first", {{"env", "dev"}});
  first.token = once;
  first.token_in_file = true;
  fleet.AddAgent(std::move(first));

  // Runs an agent that must fail to register; returns its log.
  auto refused = [&](const std::string& dir_name, const std::string& token,
                     const std::string& name = "") {
    AgentOptions options = fleet.Options(dir_name, {{"env", "dev"}});
    if (!name.empty()) options.name = name;
    options.token = token;
    AgentProcess agent(fleet.manager(), options);
    const std::optional<int> code = agent.process().WaitForExit(kDeadline);
    const std::string log = agent.process().Log();
    INFO("agent " << options.name << " log:\n" << log);
    REQUIRE(code.has_value());
    CHECK(*code != 0);
    CHECK(ListFiles(options.target_dir).empty());
    return absl::AsciiStrToLower(log);
  };

  std::string log = refused("reused", once);
  CHECK((absl::StrContains(log, "used") || absl::StrContains(log, "uses")));

  // Poll the clock (not the agent) until the 1s token has certainly expired.
  PollUntil([&] { return absl::Now() - created > absl::Milliseconds(1500); }, absl::Seconds(5));
  log = refused("late", expired);
  CHECK(absl::StrContains(log, "expired"));

  // A real token's id with a secret the manager never issued.
  const std::string fresh = fleet.manager().CreateToken();
  std::string forged = fresh;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  log = refused("forger", forged);
  CHECK((absl::StrContains(log, "not valid") || absl::StrContains(log, "invalid") ||
         absl::StrContains(log, "unknown")));

  log = refused("first-again", fresh, "first");  // a fresh state dir, a taken name
  CHECK((absl::StrContains(log, "taken") || absl::StrContains(log, "exists") ||
         absl::StrContains(log, "already")));

  {
    AgentOptions options = fleet.Options("kube", {{"env", "dev"}});
    std::vector<std::string> args = {"--manager",   fleet.manager().grpc_address(),
                                     "--token",     fresh,
                                     "--ca-file",   fleet.manager().ca_file(),
                                     "--state-dir", options.state_dir,
                                     "--name",      "kube",
                                     "--target",    "kube:" + options.state_dir + "/no-kubeconfig"};
    RunResult r = RunBinary(BinaryPath("flotilla-agent"), args);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code != 0);
    const std::string message = absl::AsciiStrToLower(r.out + r.err);
    CHECK(absl::StrContains(message, "--target kube:"));
    CHECK(absl::StrContains(message, "no-kubeconfig"));
  }

  const Json clusters = fleet.manager().GetJson("clusters");
  INFO(clusters.dump());
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].value("name", "") == "first");
  CHECK(fleet.manager().MetricSum("flotilla_clusters") == 1.0);
}

// Agent B's state dir is copied and its cert.pem replaced by agent A's, so the
// copy holds A's certificate with B's key. Started in place of B, it never
// connects as anyone: it gets no assignments (its directory stays empty), A's
// cluster sees no second connection and nothing is sent for it.
TEST_CASE("An agent presenting another cluster's certificate gets nothing", "[e2e][bad-input]") {
  Fleet fleet;
  fleet.StartSeeded({"dev", "test"});

  // B (test) goes away; its clone with A's (dev's) certificate takes its place.
  fleet.agent("test").process().Stop();
  fleet.AwaitConnected("test", false);
  fleet.Await("the manager to count one connected agent",
              [&] { return fleet.manager().Metric("flotilla_agents_connected") == 1.0; });
  const std::optional<double> sent_before =
      fleet.manager().Metric("flotilla_stream_contents_sent_total");
  const std::map<std::string, std::string> dev_tree = ReadTree(fleet.agent("dev").target_dir());
  std::optional<Json> dev_before = fleet.Cluster("dev");
  REQUIRE(dev_before.has_value());

  AgentOptions impostor = fleet.Options("impostor", {{"env", "test"}, {"group", "shop"}});
  impostor.name = "test";
  fs::copy(fleet.agent("test").state_dir(), impostor.state_dir, fs::copy_options::recursive);
  fs::copy_file(fleet.agent("dev").state_dir() + "/cert.pem", impostor.state_dir + "/cert.pem",
                fs::copy_options::overwrite_existing);
  AgentProcess agent(fleet.manager(), impostor);

  // Wait until it has visibly tried and failed (it gives up or logs errors).
  fleet.Await("the impostor to fail", [&] {
    if (!agent.process().Running()) return true;
    const std::string log = absl::AsciiStrToLower(agent.process().Log());
    fleet.detail_ = agent.process().LogTail(10);
    return absl::StrContains(log, "ended") || absl::StrContains(log, "error") ||
           absl::StrContains(log, "fail") || absl::StrContains(log, "mismatch") ||
           absl::StrContains(log, "refused");
  });
  INFO("impostor log:\n" << agent.process().LogTail());
  CHECK(ListFiles(impostor.target_dir).empty());
  CHECK(fleet.manager().Metric("flotilla_agents_connected") == 1.0);
  CHECK(fleet.manager().Metric("flotilla_stream_contents_sent_total") == sent_before);
  std::optional<Json> test = fleet.Cluster("test");
  REQUIRE(test.has_value());
  CHECK_FALSE(test->value("connected", true));
  std::optional<Json> dev = fleet.Cluster("dev");
  REQUIRE(dev.has_value());
  CHECK(dev->value("connected", false));
  CHECK(dev->value("id", "") == dev_before->value("id", ""));
  CHECK(fleet.manager().GetJson("clusters").size() == 2);
  CHECK(ReadTree(fleet.agent("dev").target_dir()) == dev_tree);
}

// An agent registered with another manager (its own key, and a certificate
// that manager's CA signed for a cluster also named "dev") is pointed at this
// manager. It is never taken for this manager's "dev": it gets no assignments
// although its labels match the GitRepo, no cluster is added, and the real dev
// stays connected with nothing re-sent.
TEST_CASE("An agent with a certificate from another manager is refused", "[e2e][bad-input]") {
  Fleet fleet;
  fleet.StartSeeded({"dev"});
  const std::optional<double> sent_before =
      fleet.manager().Metric("flotilla_stream_contents_sent_total");
  std::optional<Json> dev_before = fleet.Cluster("dev");
  REQUIRE(dev_before.has_value());

  ManagerProcess other(fleet.tmp().Sub("other-manager"));
  AgentOptions options = fleet.Options("foreign", {{"env", "prod"}, {"group", "shop"}});
  options.name = "dev";
  options.token = other.CreateToken();
  {
    AgentProcess registering(other, options);
    fleet.Await("the agent to register with the other manager", [&] {
      std::optional<Json> clusters = other.TryGetJson("clusters");
      return clusters.has_value() && clusters->size() == 1 &&
             (*clusters)[0].value("connected", false);
    });
    registering.process().Stop();
  }
  options.token.clear();
  options.log_path = fleet.tmp().Sub("agents/foreign-here.log");
  AgentProcess foreign(fleet.manager(), options);
  fleet.Await("the foreign agent to be turned away", [&] {
    if (!foreign.process().Running()) return true;
    const std::string log = absl::AsciiStrToLower(foreign.process().Log());
    fleet.detail_ = foreign.process().LogTail(10);
    return absl::StrContains(log, "ended") || absl::StrContains(log, "error") ||
           absl::StrContains(log, "fail");
  });
  INFO("foreign agent log:\n" << foreign.process().LogTail());
  CHECK(ListFiles(options.target_dir).empty());
  const Json clusters = fleet.manager().GetJson("clusters");
  REQUIRE(clusters.size() == 1);
  CHECK(clusters[0].value("id", "") == dev_before->value("id", ""));
  CHECK(clusters[0].value("connected", false));
  CHECK(clusters[0]["labels"]["env"] == "dev");
  CHECK(fleet.manager().Metric("flotilla_agents_connected") == 1.0);
  CHECK(fleet.manager().Metric("flotilla_stream_contents_sent_total") == sent_before);
  REQUIRE_FILES(fleet, "dev", ExpectedFiles("dev"));
}

// The repository vanishes from the git daemon's base path. The GitRepo reports
// the fetch failure, while every cluster keeps its last applied files and
// READY state. Moving it back (with a new commit) recovers.
TEST_CASE("A repository that disappears is reported and the clusters keep their files",
          "[e2e][bad-input]") {
  Fleet fleet;
  fleet.StartSeeded({"dev", "prod"});
  const std::map<std::string, std::string> dev_tree = ReadTree(fleet.agent("dev").target_dir());
  const std::map<std::string, std::string> prod_tree = ReadTree(fleet.agent("prod").target_dir());
  const std::string served = fleet.tmp().Sub("git/fleet");
  const std::string away = fleet.tmp().Sub("away");
  fs::rename(served, away);

  std::string error;
  fleet.Await("the GitRepo to report the failed fetch", [&] {
    std::optional<Json> g = fleet.GitRepo();
    if (!g.has_value()) return false;
    error = g->value("error", "");
    return !error.empty();
  });
  INFO("GitRepo error: " << error);
  CHECK((absl::StrContains(absl::AsciiStrToLower(error), "fetch") ||
         absl::StrContains(error, fleet.RepoUrl())));
  CHECK(ReadTree(fleet.agent("dev").target_dir()) == dev_tree);
  CHECK(ReadTree(fleet.agent("prod").target_dir()) == prod_tree);
  fleet.AwaitReady(Fleet::SeededDeployments({"dev", "prod"}));
  CHECK(fleet.manager().GetJson("bundles").size() == 3);

  fs::rename(away, served);
  fleet.repo().WriteFile("apps/config/configmap.yaml", ConfigMap("warn"));
  const std::string commit = fleet.repo().Commit("config: warn");
  fleet.AwaitCommit(commit);
  fleet.Await("the GitRepo error to clear", [&] {
    std::optional<Json> g = fleet.GitRepo();
    return g.has_value() && g->value("error", "x").empty();
  });
  fleet.AwaitReady(Fleet::SeededDeployments({"dev", "prod"}));
  CHECK(fleet.Object("prod", "platform/configmap/settings.yaml")["data"]["log-level"] == "warn");
}

}  // namespace
}  // namespace flotilla::testing
