// End to end for the `flotilla` CLI: the real flotilla, flotilla-manager and
// flotilla-agent binaries on loopback with real TLS and a real SQLite store,
// two agents with directory targets (env=dev, env=prod) and a GitRepo served
// by `git daemon`.
//
// One manager and fleet is built once and shared by the sections (the CI
// machine has two cores); each section leaves the fleet as the next one
// expects it (a paused object is resumed, a deleted one re-created). Nothing
// sleeps blind: every wait polls an observable outcome with a deadline, and a
// timeout fails with the manager's and agents' log tails.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tests/support/e2e_process.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Labels = std::map<std::string, std::string>;
using RoleSet = std::set<std::string>;

// Generous for a loaded 2-core CI machine; on success nothing waits this long.
constexpr absl::Duration kDeadline = absl::Seconds(45);
constexpr absl::Duration kPollInterval = absl::Milliseconds(150);

constexpr int kExitOk = 0;
constexpr int kExitServerError = 1;
constexpr int kExitNotAuthorized = 4;

constexpr char kGitRepoName[] = "shop";
constexpr char kBundle[] = "shop-apps-web";
constexpr char kDev[] = "dev";
constexpr char kProd[] = "prod";
// A ClusterGroup that exists throughout (describe reads it).
constexpr char kProdGroup[] = "prod-clusters";

const std::vector<std::string>& Roles() {
  static const auto* roles =
      new std::vector<std::string>{"viewer", "deployer", "cluster-admin", "admin"};
  return *roles;
}

// docs/access.md's columns.
const RoleSet kEveryRole = {"viewer", "deployer", "cluster-admin", "admin"};
const RoleSet kDeployers = {"deployer", "admin"};
const RoleSet kClusterOperators = {"deployer", "cluster-admin", "admin"};
const RoleSet kClusterAdmins = {"cluster-admin", "admin"};
const RoleSet kAdmins = {"admin"};

// ------------------------------------------------------------ documents

constexpr char kWebFleetYaml[] = "defaultNamespace: web\n";
constexpr char kWebConfigMap[] = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
data:
  log-level: info
)";

std::string GitRepoYaml(const std::string& url) {
  return absl::StrReplaceAll(R"(apiVersion: fleet.cattle.io/v1alpha1
kind: GitRepo
metadata:
  name: NAME
  namespace: fleet-default
spec:
  repo: URL
  branch: main
  paths:
  - apps
  pollingInterval: 1s
  targets:
  - name: shop
    clusterSelector:
      matchLabels:
        group: shop
)",
                             {{"NAME", kGitRepoName}, {"URL", url}});
}

std::string ClusterGroupYaml(const std::string& name, const std::string& env) {
  return absl::StrReplaceAll(R"(apiVersion: fleet.cattle.io/v1alpha1
kind: ClusterGroup
metadata:
  name: NAME
spec:
  selector:
    matchLabels:
      env: ENV
)",
                             {{"NAME", name}, {"ENV", env}});
}

// ------------------------------------------------------------ output helpers

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

// A table's rows (header first) split into whitespace-separated cells; every
// cell of the clusters table is one word.
std::vector<std::vector<std::string>> TableRows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  for (const std::string& line : Lines(text)) {
    rows.push_back(absl::StrSplit(line, ' ', absl::SkipWhitespace()));
  }
  return rows;
}

// The "items" of a `{"items": [...]}` document; null when it is not one.
Json Items(const std::string& text) {
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object() || !parsed.contains("items") || !parsed["items"].is_array()) {
    return Json();
  }
  return parsed["items"];
}

// The JSON documents `get -o json -w` has printed so far, in order; one still
// being written is left out. The Process log starts with a "=== argv" line.
std::vector<Json> JsonDocuments(const std::string& log) {
  std::vector<Json> documents;
  const size_t header_end = log.find('\n');
  if (header_end == std::string::npos) return documents;
  std::istringstream in(log.substr(header_end + 1));
  for (;;) {
    in >> std::ws;
    if (in.peek() == std::char_traits<char>::eof()) break;
    try {
      Json document;
      in >> document;
      documents.push_back(std::move(document));
    } catch (const Json::exception&) {
      break;
    }
  }
  return documents;
}

// "flt1.<id>.<secret>" / "flta.<id>.<secret>" -> id.
std::string TokenId(const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  return parts.size() == 3 ? parts[1] : "";
}

std::string Describe(const RunResult& r) {
  return absl::StrCat("exit ", r.exit_code, "\nstdout:\n", r.out, "\nstderr:\n", r.err);
}

// ------------------------------------------------------------ the fixture

// An API token the CLI reads from a file.
struct ApiToken {
  std::string id;
  std::string file;
};

// A manager, two agents (dev: env=dev, prod: env=prod, both group=shop), the
// GitRepo "shop" deploying bundle shop-apps-web to both, and the ClusterGroup
// prod-clusters. The constructor returns once both deployments are Ready.
class CliFleet {
 public:
  CliFleet()
      : repo_(tmp_.Sub("git/fleet")),
        daemon_(tmp_.Sub("git")),
        manager_(std::make_unique<ManagerProcess>(tmp_.Sub("manager"))) {
    repo_.WriteFile("apps/web/fleet.yaml", kWebFleetYaml);
    repo_.WriteFile("apps/web/configmap.yaml", kWebConfigMap);
    repo_.Commit("web settings");
    registration_token_ = manager_->CreateToken({"--ttl", "1h"});
    StartAgent(kDev, {{"env", "dev"}, {"group", "shop"}});
    StartAgent(kProd, {{"env", "prod"}, {"group", "shop"}});
    ApplyAsAdmin(GitRepoYaml(daemon_.Url("fleet")));
    ApplyAsAdmin(ClusterGroupYaml(kProdGroup, "prod"));
    AwaitReady();
  }

  ManagerProcess& manager() { return *manager_; }
  TempDir& tmp() { return tmp_; }

  // `flotilla --server ... --ca-file ... --token-file token_file args`.
  RunResult Cli(const std::string& token_file, const std::vector<std::string>& args) const {
    std::vector<std::string> all = CliFlags(token_file);
    all.insert(all.end(), args.begin(), args.end());
    return RunBinary(BinaryPath("flotilla"), all);
  }
  // The flags that point the CLI at this manager with `token_file`.
  std::vector<std::string> CliFlags(const std::string& token_file) const {
    return {"--server",          manager_->grpc_address(), "--ca-file",
            manager_->ca_file(), "--token-file",           token_file};
  }
  // The same with the admin token from the data dir; REQUIREs exit 0.
  RunResult Admin(const std::vector<std::string>& args) {
    RunResult r = manager_->Cli(args);
    INFO("flotilla " << absl::StrJoin(args, " ") << " (admin)\n" << Describe(r));
    REQUIRE(r.exit_code == kExitOk);
    return r;
  }

  // Writes `content` to a new file under the TempDir (mode 0600).
  std::string WriteFile(const std::string& name, const std::string& content) {
    const std::string path = tmp_.Sub(name);
    std::ofstream(path) << content;
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return path;
  }

  void ApplyAsAdmin(const std::string& yaml) {
    Admin({"apply", "-f", WriteFile(absl::StrCat("doc-", ++files_, ".yaml"), yaml)});
  }

  // A new API token for `role` (created with the admin token), in a file.
  ApiToken CreateApiToken(const std::string& role, const std::string& workspace = "*") {
    RunResult r = Admin({"token", "create", "--api", "--role", role, "--workspace", workspace,
                         "--description", "cli-e2e " + role});
    const std::string token(absl::StripAsciiWhitespace(r.out.substr(0, r.out.find('\n'))));
    REQUIRE(absl::StartsWith(token, "flta."));
    CHECK(absl::StrContains(r.out, "role: " + role + "\n"));
    CHECK(absl::StrContains(r.out, "workspace: " + workspace + "\n"));
    ApiToken out{TokenId(token), WriteFile(absl::StrCat("token-", ++files_), token + "\n")};
    CHECK(absl::StrContains(r.out, "id: " + out.id + "\n"));
    return out;
  }

  // The id of a new registration token (created with the admin token).
  std::string CreateRegistrationTokenId() {
    RunResult r = Admin({"token", "create", "--ttl", "10m"});
    return TokenId(std::string(absl::StripAsciiWhitespace(r.out.substr(0, r.out.find('\n')))));
  }

  // Starts an agent and waits until its cluster is connected.
  void StartAgent(const std::string& name, const Labels& labels) {
    AgentOptions options;
    options.name = name;
    options.labels = labels;
    options.token = registration_token_;
    options.state_dir = tmp_.Sub("agents/" + name + "/state");
    options.target_dir = tmp_.Sub("agents/" + name + "/target");
    options.log_path = tmp_.Sub("agents/" + name + ".log");
    fs::create_directories(tmp_.Sub("agents/" + name));
    agents_[name] = std::make_unique<AgentProcess>(*manager_, std::move(options));
    Await("cluster " + name + " to connect", [&] {
      if (!agents_[name]->process().Running()) {
        FAIL("agent " << name << " exited with "
                      << agents_[name]->process().exit_code().value_or(-1) << ":\n"
                      << agents_[name]->process().LogTail());
      }
      std::optional<Json> clusters = manager_->TryGetJson("clusters");
      if (!clusters.has_value()) return false;
      detail_ = clusters->dump();
      for (const Json& c : *clusters) {
        if (c.value("name", "") == name && c.value("connected", false)) return true;
      }
      return false;
    });
  }

  // Polls `done` until it holds; on timeout fails with `what`, the detail the
  // predicate left in `detail_` and the log tails.
  void Await(const std::string& what, const std::function<bool()>& done) {
    detail_.clear();
    if (PollEvery(kPollInterval, kDeadline, done)) return;
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

  // Waits until `flotilla get bundledeployments -o json` shows shop-apps-web
  // Ready (current deployment applied) on dev and prod, and both clusters
  // are Ready.
  void AwaitReady() {
    const std::set<std::pair<std::string, std::string>> want = {{kBundle, kDev}, {kBundle, kProd}};
    Await("shop-apps-web to be Ready on dev and prod", [&] {
      std::optional<Json> bds = manager_->TryGetJson("bundledeployments");
      std::optional<Json> clusters = manager_->TryGetJson("clusters");
      if (!bds.has_value() || !clusters.has_value()) return false;
      detail_ = bds->dump() + "\n" + clusters->dump();
      std::set<std::pair<std::string, std::string>> got;
      bool ready = true;
      for (const Json& bd : *bds) {
        got.emplace(bd.value("bundle_name", ""), bd.value("cluster_name", ""));
        ready = ready && bd.value("state", "") == "READY" &&
                !bd.value("deployment_id", "").empty() &&
                bd.value("applied_deployment_id", "") == bd.value("deployment_id", "");
      }
      for (const Json& c : *clusters) ready = ready && c.value("state", "") == "READY";
      return ready && got == want && clusters->size() == 2;
    });
  }

  std::string detail_;

 private:
  TempDir tmp_;
  TestGitRepo repo_;
  GitDaemon daemon_;
  std::unique_ptr<ManagerProcess> manager_;
  std::string registration_token_;
  std::map<std::string, std::unique_ptr<AgentProcess>> agents_;
  int files_ = 0;
};

// ------------------------------------------------------------ the matrix

// One CLI command of the authorization matrix.
struct MatrixRow {
  // The RPC(s) it makes, for failure messages.
  std::string calls;
  // docs/access.md: the roles that may run it.
  RoleSet allowed;
  // Its arguments for a run with `role`'s token. May first prepare state with
  // the admin token, so that every allowed run finds what it needs (the
  // object a delete removes is re-created before each run).
  std::function<std::vector<std::string>(const std::string& role)> args;
  // An allowed run ends NOT_FOUND (exit 1): authorization passed, and the
  // object it names does not exist.
  bool allowed_means_not_found = false;
};

std::vector<MatrixRow> Matrix(CliFleet& fleet) {
  auto fixed = [](std::vector<std::string> args) {
    return [args](const std::string&) { return args; };
  };
  const std::string group_file =
      fleet.WriteFile("matrix-clustergroup.yaml", ClusterGroupYaml("matrix-group", "dev"));
  const std::string doomed_group_file =
      fleet.WriteFile("doomed-clustergroup.yaml", ClusterGroupYaml("doomed-group", "dev"));
  return {
      {"ListGitRepos", kEveryRole, fixed({"get", "gitrepos"})},
      {"ListBundles", kEveryRole, fixed({"get", "bundles"})},
      {"ListClusters", kEveryRole, fixed({"get", "clusters"})},
      {"ListBundleDeployments", kEveryRole, fixed({"get", "bundledeployments"})},
      {"ListClusterGroups", kEveryRole, fixed({"get", "clustergroups"})},
      {"ListSecrets", kAdmins, fixed({"get", "secrets"})},
      {"GetGitRepo, ListBundleDeployments, ListAudit", kEveryRole,
       fixed({"describe", "gitrepo", kGitRepoName})},
      {"GetBundle, ListBundleDeployments, ListAudit", kEveryRole,
       fixed({"describe", "bundle", kBundle})},
      {"GetCluster, ListBundleDeployments, ListAudit", kEveryRole,
       fixed({"describe", "cluster", kDev})},
      {"GetClusterGroup, ListAudit", kEveryRole, fixed({"describe", "clustergroup", kProdGroup})},
      {"Apply (ClusterGroup)", kAdmins, fixed({"apply", "-f", group_file})},
      {"Delete (ClusterGroup)", kAdmins,
       [&fleet, doomed_group_file](const std::string&) {
         fleet.Admin({"apply", "-f", doomed_group_file});
         return std::vector<std::string>{"delete", "clustergroup", "doomed-group"};
       }},
      {"LabelCluster", kClusterAdmins,
       [](const std::string& role) {
         return std::vector<std::string>{"label", "cluster", kDev, "matrix=" + role};
       }},
      {"SetPaused (GitRepo)", kDeployers, fixed({"pause", "gitrepo", kGitRepoName})},
      {"SetPaused (GitRepo)", kDeployers, fixed({"resume", "gitrepo", kGitRepoName})},
      {"SetPaused (cluster)", kClusterOperators, fixed({"pause", "cluster", kDev})},
      {"SetPaused (cluster)", kClusterOperators, fixed({"resume", "cluster", kDev})},
      {"Resync", kDeployers, fixed({"resync", "gitrepo", kGitRepoName})},
      {"CreateRegistrationToken", kClusterAdmins, fixed({"token", "create", "--ttl", "10m"})},
      {"ListRegistrationTokens", kClusterAdmins, fixed({"token", "list"})},
      {"RevokeRegistrationToken", kClusterAdmins,
       [&fleet](const std::string&) {
         return std::vector<std::string>{"token", "revoke", fleet.CreateRegistrationTokenId()};
       }},
      {"CreateApiToken", kAdmins, fixed({"token", "create", "--api", "--role", "viewer"})},
      {"ListApiTokens", kAdmins, fixed({"token", "list", "--api"})},
      {"RevokeApiToken", kAdmins,
       [&fleet](const std::string&) {
         return std::vector<std::string>{"token", "revoke", "--api",
                                         fleet.CreateApiToken("viewer").id};
       }},
      {"Apply (Secret)", kAdmins,
       [](const std::string& role) {
         return std::vector<std::string>{"secret",        "create",         "generic",
                                         "matrix-secret", "--from-literal", "made-by=" + role};
       }},
      {"ListAudit", kEveryRole, fixed({"audit"})},
      {"ListAudit (verify)", kEveryRole, fixed({"audit", "verify"})},
      {"RevokeCluster", kClusterAdmins,
       [](const std::string& role) {
         return std::vector<std::string>{"cluster", "revoke", "no-such-cluster-" + role};
       },
       /*allowed_means_not_found=*/true},
  };
}

// ------------------------------------------------------------ scenarios

// An operator drives a running fleet (a manager, agents labelled env=dev and
// env=prod, a GitRepo applied with `flotilla apply -f`) with the CLI: the
// tables and JSON documents describe it, `get -w` prints what changes, every
// command is allowed exactly to the roles docs/access.md names (the others get
// PERMISSION_DENIED and exit 4), a workspace token cannot touch another
// workspace, a revoked token is refused, and the audit log's chain verifies.
TEST_CASE("The CLI against a real manager reads, watches and is authorized per role",
          "[e2e][cli-e2e]") {
  // Built once, shared by every section (Catch runs the body once per section).
  static std::unique_ptr<CliFleet> shared;
  if (shared == nullptr) shared = std::make_unique<CliFleet>();
  CliFleet& fleet = *shared;
  ManagerProcess& manager = fleet.manager();

  SECTION("get and describe print tables and JSON documents") {
    RunResult table = fleet.Admin({"get", "clusters"});
    std::vector<std::vector<std::string>> rows = TableRows(table.out);
    INFO(table.out);
    REQUIRE(rows.size() == 3);
    CHECK(rows[0] == std::vector<std::string>{"NAME", "BUNDLES-READY", "CONNECTED", "LAST-SEEN",
                                              "STATUS", "LABELS"});
    std::map<std::string, std::vector<std::string>> by_name;
    for (size_t i = 1; i < rows.size(); ++i) by_name[rows[i][0]] = rows[i];
    REQUIRE(by_name.size() == 2);
    for (const std::string name : {kDev, kProd}) {
      INFO("cluster " << name);
      REQUIRE(by_name.contains(name));
      REQUIRE(by_name[name].size() == 6);
      CHECK(by_name[name][1] == "1/1");
      CHECK(by_name[name][2] == "true");
      CHECK(by_name[name][4] == "Ready");
      CHECK(by_name[name][5] == absl::StrCat("env=", name, ",group=shop"));
    }

    RunResult prod = fleet.Admin({"get", "clusters", "-l", "env=prod", "-o", "json"});
    Json prod_items = Items(prod.out);
    INFO(prod.out);
    REQUIRE(prod_items.is_array());
    REQUIRE(prod_items.size() == 1);
    CHECK(prod_items[0]["name"] == kProd);
    CHECK(prod_items[0]["labels"]["env"] == "prod");
    CHECK(prod_items[0]["connected"] == true);
    CHECK(prod_items[0]["state"] == "READY");

    RunResult bundle = fleet.Admin({"get", "bundles", kBundle, "-o", "json"});
    Json bundle_items = Items(bundle.out);
    INFO(bundle.out);
    REQUIRE(bundle_items.is_array());
    REQUIRE(bundle_items.size() == 1);
    CHECK(bundle_items[0]["name"] == kBundle);
    CHECK(bundle_items[0]["gitrepo_name"] == kGitRepoName);
    CHECK(bundle_items[0]["summary"]["desired_ready"] == 2);
    CHECK(bundle_items[0]["summary"]["ready"] == 2);

    RunResult missing = manager.Cli({"get", "clusters", "nosuch"});
    INFO(Describe(missing));
    CHECK(missing.exit_code == kExitServerError);
    CHECK(absl::StrContains(missing.err, "NOT_FOUND"));
    CHECK(absl::StrContains(missing.err, "nosuch"));
    CHECK(missing.out.empty());

    RunResult described = fleet.Admin({"describe", "bundle", kBundle});
    const std::string& text = described.out;
    INFO(text);
    CHECK(absl::StrContains(text, "Name: shop-apps-web\n"));
    CHECK(absl::StrContains(text, "GitRepo: shop\n"));
    CHECK(absl::StrContains(text, "Ready: 2/2\n"));
    const size_t summary = text.find("Summary:\n");
    const size_t deployments = text.find("Deployments:\n");
    const size_t events = text.find("Events:\n");
    REQUIRE(summary != std::string::npos);
    REQUIRE(deployments != std::string::npos);
    REQUIRE(events != std::string::npos);
    CHECK(summary < deployments);
    CHECK(deployments < events);
    CHECK(absl::StrContains(text.substr(summary), "Desired ready: 2\n"));
    // The Deployments table: a header and one Ready row per cluster.
    std::vector<std::vector<std::string>> deployment_rows =
        TableRows(text.substr(deployments + 13, events - deployments - 13));
    REQUIRE(deployment_rows.size() == 3);
    CHECK(deployment_rows[0] == std::vector<std::string>{"BUNDLE", "CLUSTER", "STATE", "DEPLOYMENT",
                                                         "STAGED", "APPLIED", "MESSAGE"});
    std::set<std::string> clusters;
    for (size_t i = 1; i < deployment_rows.size(); ++i) {
      REQUIRE(deployment_rows[i].size() >= 3);
      CHECK(deployment_rows[i][0] == kBundle);
      CHECK(deployment_rows[i][2] == "Ready");
      clusters.insert(deployment_rows[i][1]);
    }
    CHECK(clusters == std::set<std::string>{kDev, kProd});
    // Events: the GitRepo's audit rows, the admin's apply among them.
    CHECK(absl::StrContains(text.substr(events), "gitrepo.apply"));
  }

  SECTION("get -w prints a changed cluster again, as a table row and as JSON") {
    const std::vector<std::string> flags = fleet.CliFlags(manager.token_file());
    std::vector<std::string> table_args = flags;
    table_args.insert(table_args.end(), {"get", "clusters", "-w", "--watch-interval", "200ms"});
    std::vector<std::string> json_args = flags;
    json_args.insert(json_args.end(),
                     {"get", "clusters", "-o", "json", "-w", "--watch-interval", "200ms"});
    Process table_watch(BinaryPath("flotilla"), table_args, fleet.tmp().Sub("watch-table.log"));
    Process json_watch(BinaryPath("flotilla"), json_args, fleet.tmp().Sub("watch-json.log"));

    // The first table: the header and both clusters.
    size_t initial_end = 0;
    fleet.Await("get -w's first table", [&] {
      if (!table_watch.Running()) FAIL("get -w exited:\n" << table_watch.Log());
      const std::string log = table_watch.Log();
      fleet.detail_ = log;
      bool dev = false;
      bool prod = false;
      for (const std::string& line : Lines(log)) {
        dev = dev || absl::StartsWith(line, "dev ");
        prod = prod || absl::StartsWith(line, "prod ");
      }
      initial_end = log.size();
      return absl::StrContains(log, "NAME ") && dev && prod;
    });
    fleet.Await("get -o json -w's first document", [&] {
      if (!json_watch.Running()) FAIL("get -o json -w exited:\n" << json_watch.Log());
      std::vector<Json> documents = JsonDocuments(json_watch.Log());
      fleet.detail_ = json_watch.Log();
      return !documents.empty() && documents[0]["items"].size() == 2;
    });
    const size_t json_initial = JsonDocuments(json_watch.Log()).size();
    CHECK_FALSE(absl::StrContains(table_watch.Log().substr(0, initial_end), "team=blue"));

    RunResult labelled = fleet.Admin({"label", "cluster", kDev, "team=blue"});
    CHECK(labelled.out == "cluster/dev labeled\n");

    std::string new_row;
    fleet.Await("get -w to print dev again with team=blue", [&] {
      const std::string log = table_watch.Log();
      fleet.detail_ = log;
      for (const std::string& line : Lines(log.substr(initial_end))) {
        if (absl::StartsWith(line, "dev ") && absl::StrContains(line, "team=blue")) {
          new_row = line;
          return true;
        }
      }
      return false;
    });
    // Only what changed: the header is printed once.
    const std::string table_log = table_watch.Log();
    INFO(table_log);
    CHECK(TableRows(new_row).back().back() == "env=dev,group=shop,team=blue");
    size_t headers = 0;
    for (const std::string& line : Lines(table_log)) {
      headers += absl::StartsWith(line, "NAME ") ? 1 : 0;
    }
    CHECK(headers == 1);

    fleet.Await("get -o json -w to print dev again with team=blue", [&] {
      std::vector<Json> documents = JsonDocuments(json_watch.Log());
      fleet.detail_ = json_watch.Log();
      for (size_t i = json_initial; i < documents.size(); ++i) {
        for (const Json& item : documents[i]["items"]) {
          if (item.value("name", "") == kDev &&
              item.value("labels", Json::object()).value("team", "") == "blue") {
            return true;
          }
        }
      }
      return false;
    });
    CHECK(table_watch.Running());
    CHECK(json_watch.Running());
    table_watch.Stop();
    json_watch.Stop();
  }

  SECTION("every command is allowed to exactly the roles docs/access.md names") {
    std::map<std::string, ApiToken> tokens;
    for (const std::string& role : Roles()) tokens[role] = fleet.CreateApiToken(role);

    for (const MatrixRow& row : Matrix(fleet)) {
      for (const std::string& role : Roles()) {
        const std::vector<std::string> args = row.args(role);
        RunResult r = fleet.Cli(tokens[role].file, args);
        const bool allowed = row.allowed.contains(role);
        INFO("flotilla " << absl::StrJoin(args, " ") << " with a " << role << " token ("
                         << row.calls << ", " << (allowed ? "allowed" : "denied") << ")\n"
                         << Describe(r));
        if (!allowed) {
          CHECK(r.exit_code == kExitNotAuthorized);
          CHECK(absl::StrContains(r.err, "PERMISSION_DENIED"));
          CHECK(absl::StrContains(r.err, "role " + role + " may not call"));
        } else if (row.allowed_means_not_found) {
          CHECK(r.exit_code == kExitServerError);
          CHECK(absl::StrContains(r.err, "NOT_FOUND"));
        } else {
          CHECK(r.exit_code == kExitOk);
        }
      }
    }

    // A refused call changes nothing, so the viewer appears in no audit row;
    // the admin's token (its last run of each mutation) does.
    RunResult audit = fleet.Admin({"audit", "-o", "json"});
    Json events = Items(audit.out);
    REQUIRE(events.is_array());
    std::set<std::string> actions_by_admin;
    for (const Json& e : events) {
      CHECK(e.value("actor", "") != "token:" + tokens["viewer"].id);
      if (e.value("actor", "") == "token:" + tokens["admin"].id) {
        actions_by_admin.insert(e.value("action", ""));
      }
    }
    INFO(audit.out);
    CHECK(actions_by_admin.contains("apitoken.revoke"));
    CHECK(actions_by_admin.contains("registrationtoken.revoke"));

    // The paused objects were resumed; the matrix-made ones are as the last
    // allowed run left them.
    std::optional<Json> dev;
    for (const Json& c : manager.GetJson("clusters")) {
      if (c.value("name", "") == kDev) dev = c;
    }
    REQUIRE(dev.has_value());
    CHECK((*dev)["labels"]["matrix"] == "admin");
    CHECK((*dev)["paused"] == false);
    std::set<std::string> groups;
    for (const Json& g : manager.GetJson("clustergroups")) groups.insert(g.value("name", ""));
    CHECK(groups == std::set<std::string>{kProdGroup, "matrix-group"});
  }

  SECTION("a workspace token, a revoked token and audit verify") {
    // A deployer limited to workspace "other" sees none of fleet-default's
    // GitRepos, still reads the fleet-wide clusters, and may not pause shop.
    ApiToken other = fleet.CreateApiToken("deployer", "other");
    RunResult listed = fleet.Cli(other.file, {"get", "gitrepos", "-o", "json"});
    INFO(Describe(listed));
    CHECK(listed.exit_code == kExitOk);
    CHECK(Items(listed.out) == Json::array());
    RunResult clusters = fleet.Cli(other.file, {"get", "clusters", "-o", "json"});
    CHECK(clusters.exit_code == kExitOk);
    CHECK(Items(clusters.out).size() == 2);
    RunResult paused = fleet.Cli(other.file, {"pause", "gitrepo", kGitRepoName});
    INFO(Describe(paused));
    CHECK(paused.exit_code == kExitNotAuthorized);
    CHECK(absl::StrContains(paused.err, "PERMISSION_DENIED"));
    CHECK(absl::StrContains(paused.err, "limited to workspace other"));
    CHECK(paused.out.empty());
    RunResult shop = fleet.Admin({"get", "gitrepos", kGitRepoName, "-o", "json"});
    CHECK(Items(shop.out)[0]["paused"] == false);

    // A revoked API token is refused at once.
    ApiToken doomed = fleet.CreateApiToken("viewer");
    RunResult before = fleet.Cli(doomed.file, {"get", "clusters"});
    INFO(Describe(before));
    CHECK(before.exit_code == kExitOk);
    RunResult revoked = fleet.Admin({"token", "revoke", "--api", doomed.id});
    CHECK(revoked.out == "apitoken/" + doomed.id + " revoked\n");
    RunResult after = fleet.Cli(doomed.file, {"get", "clusters"});
    INFO(Describe(after));
    CHECK(after.exit_code == kExitNotAuthorized);
    CHECK(absl::StrContains(after.err, "UNAUTHENTICATED"));
    CHECK(after.out.empty());

    // A cluster-admin revokes a real (throwaway) cluster.
    fleet.StartAgent("spare", {{"env", "spare"}});
    ApiToken cluster_admin = fleet.CreateApiToken("cluster-admin");
    RunResult revoke = fleet.Cli(cluster_admin.file, {"cluster", "revoke", "spare"});
    INFO(Describe(revoke));
    CHECK(revoke.exit_code == kExitOk);
    CHECK(revoke.out == "cluster.fleet.cattle.io/spare revoked\n");
    RunResult spare = fleet.Admin({"get", "clusters", "spare", "-o", "json"});
    INFO(spare.out);
    CHECK(Items(spare.out)[0]["revoked"] == true);

    // The audit log's hash chain verifies on the client, over every row.
    RunResult all = fleet.Admin({"audit", "-o", "json"});
    const size_t rows = Items(all.out).size();
    RunResult verified = fleet.Cli(cluster_admin.file, {"audit", "verify"});
    INFO(Describe(verified));
    CHECK(verified.exit_code == kExitOk);
    std::smatch match;
    REQUIRE(std::regex_search(verified.out, match,
                              std::regex(R"(^audit log intact: (\d+) rows verified\n$)")));
    size_t checked = 0;
    REQUIRE(absl::SimpleAtoi(match[1].str(), &checked));
    CHECK(rows > 0);
    CHECK(checked >= rows);
  }
}

}  // namespace
}  // namespace flotilla::testing
