// /metrics end to end: a real controller on a real SQLite store syncs a real
// Git repository, the manager's HttpServer serves FleetMetrics::Scrape() on
// loopback, and the body fetched over HTTP must pass the strict text-format
// parser and carry every series docs/metrics.md documents, with values that
// match what was done.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/tls/pki.h"
#include "flotilla/v1/agent.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/server/agent_service.h"
#include "manager/server/fleet_metrics.h"
#include "manager/server/http_server.h"
#include "manager/server/registrar.h"
#include "manager/store/sqlite_store.h"
#include "tests/support/e2e_process.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/prom_text.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using flotilla::testing::PromExposition;
using flotilla::testing::PromLabels;

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

std::string GitRepoYaml(const std::string& name, const std::string& repo) {
  return absl::StrCat("apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: ",
                      name, "\nspec:\n  repo: ", repo,
                      "\n  branch: main\n  targets:\n  - clusterSelector:\n      matchLabels:\n"
                      "        env: prod\n");
}

// One documented series: a row of docs/metrics.md's table.
struct DocumentedSeries {
  std::string name;
  std::string type;
};

// The rows of docs/metrics.md's series table ("| `name` | type | ...").
std::vector<DocumentedSeries> ReadDocumentedSeries() {
  const std::string path = std::string(FLOTILLA_SOURCE_DIR) + "/docs/metrics.md";
  std::ifstream in(path);
  INFO("reading " << path);
  REQUIRE(in.good());
  std::vector<DocumentedSeries> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, "| `flotilla_")) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    REQUIRE(cells.size() >= 4);
    std::string name(absl::StripAsciiWhitespace(cells[1]));
    name = std::string(absl::StripSuffix(absl::StripPrefix(name, "`"), "`"));
    out.push_back({name, std::string(absl::StripAsciiWhitespace(cells[2]))});
  }
  return out;
}

// A manager as main.cc wires it, minus gRPC: store, controller, agent
// service and registrar recording into the process-wide registry, and the
// HTTP server serving FleetMetrics on 127.0.0.1:0.
class MetricsHarness {
 public:
  MetricsHarness() : repo_(tmp_.Sub("source")) {
    store_ = Unwrap(SqliteStore::Open(tmp_.Sub("flotilla.db")));
    ControllerOptions options;
    options.git_cache_dir = tmp_.Sub("git-cache");
    options.fetch_timeout = absl::Seconds(30);
    controller_ = std::make_unique<FleetController>(store_.get(), &clock_, options);
    RequireOk(controller_->Load());
    agent_ca_ = std::make_unique<common::CertificateAuthority>(
        Unwrap(common::CertificateAuthority::Create("metrics test agent CA", clock_)));
    RegistrarOptions registrar_options;
    registrar_options.trust_domain = "flotilla.test";
    registrar_ = std::make_unique<Registrar>(store_.get(), controller_.get(), agent_ca_.get(),
                                             &clock_, registrar_options);
    agents_ = std::make_unique<AgentServiceImpl>(controller_.get(), registrar_.get(),
                                                 &common::DefaultMetrics());
    metrics_ =
        std::make_unique<FleetMetrics>(controller_.get(), &common::DefaultMetrics(), "0.1.0-test");
    http_ =
        std::make_unique<HttpServer>([this] { return metrics_->Scrape(); }, [] { return true; });
    port_ = Unwrap(http_->Start("127.0.0.1", 0));
  }
  ~MetricsHarness() { http_->Stop(); }

  void Register(const std::string& id, const std::map<std::string, std::string>& labels) {
    ClusterRecord c;
    c.id = id;
    c.name = "name-" + id;
    c.labels = labels;
    c.created = clock_.Now();
    RequireOk(store_->Write([&](Tx& tx) { return tx.InsertCluster(c); }));
    RequireOk(controller_->AddCluster(c));
  }

  // GET /metrics over HTTP, parsed strictly.
  PromExposition Scrape() {
    testing::HttpResponse response =
        testing::HttpGet(absl::StrCat("127.0.0.1:", port_), "/metrics");
    INFO(response.body);
    REQUIRE(response.status == 200);
    auto parsed = PromExposition::Parse(response.body);
    INFO(parsed.status().ToString());
    REQUIRE(parsed.ok());
    return *std::move(parsed);
  }

  testing::TempDir tmp_;
  testing::TestGitRepo repo_;
  common::SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<FleetController> controller_;
  std::unique_ptr<common::CertificateAuthority> agent_ca_;
  std::unique_ptr<Registrar> registrar_;
  std::unique_ptr<AgentServiceImpl> agents_;
  std::unique_ptr<FleetMetrics> metrics_;
  std::unique_ptr<HttpServer> http_;
  int port_ = 0;
};

// Scenario: two prod clusters; a GitRepo with one plain-YAML bundle syncs
// and a second GitRepo's remote does not exist. prod-1's agent connects and
// reports its deployment Ready; prod-2's agent never checks in and, eleven
// minutes on, counts as offline. The scrape over HTTP parses strictly and
// says exactly that: one fetch failed (reason "fetch"), fetches, a yaml
// render and store transactions were timed, and the fleet gauges count the
// bundle, the deployments and the clusters by state.
TEST_CASE("The /metrics endpoint parses strictly and counts what the manager did", "[metrics]") {
  MetricsHarness h;
  common::MetricsRegistry& registry = common::DefaultMetrics();
  // The registry is process-wide: other tests in this binary record too, so
  // counters are compared with what they were before this scenario.
  const double fetches_before = static_cast<double>(
      registry.GetHistogram("flotilla_gitrepo_fetch_duration_seconds", {}).count);
  const double errors_before =
      registry.Get("flotilla_gitrepo_fetch_errors_total", {{"reason", "fetch"}});
  const double yaml_renders_before = static_cast<double>(
      registry.GetHistogram("flotilla_render_duration_seconds", {{"kind", "yaml"}}).count);
  const double writes_before = static_cast<double>(
      registry.GetHistogram("flotilla_store_transaction_duration_seconds", {{"kind", "write"}})
          .count);

  h.Register("c-1", {{"env", "prod"}});
  h.Register("c-2", {{"env", "prod"}});
  h.repo_.WriteFile("web/fleet.yaml", "defaultNamespace: web\n");
  h.repo_.WriteFile("web/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  k: v\n");
  h.repo_.Commit("web");
  Unwrap(h.controller_->ApplyGitRepo(GitRepoYaml("apps", h.repo_.dir()), "token:test"));
  RequireOk(h.controller_->SyncGitRepo("apps"));
  Unwrap(
      h.controller_->ApplyGitRepo(GitRepoYaml("broken", h.tmp_.Sub("no-such-repo")), "token:test"));
  const absl::Status broken = h.controller_->SyncGitRepo("broken");
  INFO(broken.ToString());
  REQUIRE_FALSE(broken.ok());

  std::string deployment_id;
  for (const auto& bd : h.controller_->BundleDeployments()) {
    if (bd.cluster_id == "c-1") deployment_id = bd.deployment_id;
  }
  REQUIRE_FALSE(deployment_id.empty());
  h.controller_->SetConnected("c-1", true, "0.1.0-test");
  flotilla::v1::BundleDeploymentStatus status;
  status.set_bundle_deployment_id("apps-web");
  status.set_applied_deployment_id(deployment_id);
  status.set_state(flotilla::v1::READY);
  status.set_ready(true);
  RequireOk(h.controller_->ReportStatus("c-1", {status}));
  h.clock_.Advance(absl::Minutes(11));

  PromExposition m = h.Scrape();

  // Recorded where it happened.
  CHECK(m.Value("flotilla_gitrepo_fetch_duration_seconds_count") == fetches_before + 2);
  CHECK(m.Value("flotilla_gitrepo_fetch_errors_total", {{"reason", "fetch"}}) == errors_before + 1);
  CHECK(m.Value("flotilla_render_duration_seconds_count", {{"kind", "yaml"}}) >=
        yaml_renders_before + 1);
  CHECK(m.Value("flotilla_store_transaction_duration_seconds_count", {{"kind", "write"}}) >=
        writes_before + 4);  // 2 clusters, a GitRepo apply, a scan, a status batch
  CHECK(m.Value("flotilla_store_transaction_duration_seconds_count", {{"kind", "read"}}) >= 1);
  CHECK(*m.Value("flotilla_store_transaction_duration_seconds_sum", {{"kind", "write"}}) > 0);
  CHECK(m.Value("flotilla_store_transaction_errors_total", {{"kind", "write"}}).has_value());

  // Computed at scrape time from this controller.
  CHECK(m.Value("flotilla_gitrepos") == 2.0);
  CHECK(m.Value("flotilla_bundles", {{"state", "WaitApplied"}}) == 1.0);
  CHECK(m.Sum("flotilla_bundles") == 1.0);
  CHECK(m.Value("flotilla_bundledeployments", {{"state", "Ready"}}) == 1.0);
  CHECK(m.Value("flotilla_bundledeployments", {{"state", "WaitApplied"}}) == 1.0);
  CHECK(m.Value("flotilla_bundledeployments", {{"state", "ErrApplied"}}) == 0.0);
  CHECK(m.Sum("flotilla_bundledeployments") == 2.0);
  CHECK(m.Value("flotilla_clusters", {{"state", "Ready"}, {"connected", "true"}}) == 1.0);
  CHECK(m.Value("flotilla_clusters", {{"state", "WaitCheckIn"}, {"connected", "false"}}) == 1.0);
  CHECK(m.Sum("flotilla_clusters") == 2.0);
  CHECK(m.Value("flotilla_clusters_offline") == 1.0);
  CHECK(m.Value("flotilla_agents_connected") == 1.0);
  CHECK(m.Value("flotilla_agent_streams") == 0.0);
  CHECK(m.Value("flotilla_build_info", {{"version", "0.1.0-test"}}) == 1.0);

  // The gauges follow the controller: prod-1's agent goes away.
  h.controller_->SetConnected("c-1", false, "");
  PromExposition later = h.Scrape();
  CHECK(later.Value("flotilla_clusters", {{"state", "Ready"}, {"connected", "true"}}) == 0.0);
  CHECK(later.Value("flotilla_clusters", {{"state", "Ready"}, {"connected", "false"}}) == 1.0);
  CHECK(later.Value("flotilla_agents_connected") == 0.0);
}

// docs/metrics.md cannot drift: every series it documents is in a live
// scrape with the documented type, and every flotilla_ family the manager
// exports is documented. No label anywhere names a cluster or a bundle.
TEST_CASE("Every series in docs/metrics.md is exported and every exported series is documented",
          "[metrics]") {
  MetricsHarness h;
  h.Register("c-1", {{"env", "prod"}});
  PromExposition m = h.Scrape();

  const std::vector<DocumentedSeries> documented = ReadDocumentedSeries();
  REQUIRE(documented.size() >= 20);
  std::set<std::string> documented_names;
  for (const DocumentedSeries& series : documented) {
    INFO("documented series " << series.name);
    documented_names.insert(series.name);
    const testing::PromFamily* family = m.Family(series.name);
    REQUIRE(family != nullptr);
    CHECK(family->type == series.type);
    CHECK_FALSE(family->help.empty());
    CHECK_FALSE(family->samples.empty());  // exported from the start, at zero if need be
  }
  for (const auto& [name, family] : m.families()) {
    if (!absl::StartsWith(name, "flotilla_")) continue;
    INFO("exported family " << name);
    CHECK(documented_names.count(name) == 1);
    for (const testing::PromSample& sample : family.samples) {
      for (const auto& [label, value] : sample.labels) {
        CHECK(label != "cluster");
        CHECK(label != "bundle");
        CHECK(value != "c-1");
      }
    }
  }
}

// Two scrapes racing each other and the pipeline each render one valid
// exposition (the fleet gauges are cleared and re-set under one lock).
TEST_CASE("Concurrent scrapes each return a valid exposition", "[metrics]") {
  MetricsHarness h;
  h.Register("c-1", {{"env", "prod"}});
  std::vector<std::string> bodies(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < bodies.size(); ++i) {
    threads.emplace_back([&h, &bodies, i] {
      bodies[i] = testing::HttpGet(absl::StrCat("127.0.0.1:", h.port_), "/metrics").body;
    });
  }
  h.Register("c-2", {{"env", "dev"}});
  for (auto& t : threads) t.join();
  for (const std::string& body : bodies) {
    auto parsed = PromExposition::Parse(body);
    INFO(parsed.status().ToString());
    REQUIRE(parsed.ok());
    const double clusters = parsed->Sum("flotilla_clusters");
    CHECK((clusters == 1.0 || clusters == 2.0));
  }
}

}  // namespace
}  // namespace flotilla::manager
