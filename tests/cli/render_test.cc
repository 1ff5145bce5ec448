// `flotilla render DIR`: a bundle directory rendered offline for a cluster
// described by flags, through the whole CLI (RunCli) with captured streams.
// No manager takes part: every test checks that no connection was made.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "common/yaml.h"
#include "tests/cli/fake_fleet_api.h"
#include "tests/support/static_http_server.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;
using testing::CliResult;

constexpr char kUsageHint[] = "Run 'flotilla render --help' for usage.\n";

// A bundle directory under construction.
class BundleDir {
 public:
  const std::string& path() const { return tmp_.path(); }

  // Writes `content` to bundle-relative `rel`, creating directories.
  void Write(const std::string& rel, const std::string& content) const {
    const std::filesystem::path file = tmp_.Sub(rel);
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary | std::ios::trunc) << content;
  }

 private:
  ::flotilla::testing::TempDir tmp_;
};

std::string ConfigMap(const std::string& name, const std::string& color) {
  return absl::StrCat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ", name,
                      "\ndata:\n  color: ", color, "\n");
}

// Runs `flotilla render DIR args...` and checks that nothing tried to reach a
// manager.
CliResult Render(CliHarness& cli, const std::string& dir, std::vector<std::string> args = {}) {
  args.insert(args.begin(), {"render", dir});
  CliResult result = cli.Run(args);
  CHECK(cli.factory.connections.empty());
  CHECK(cli.fleet.calls == 0);
  return result;
}

// A bundle whose customizations pick overlays and namespaces by label:
//  - "prod" (env=prod) applies overlay prod: overlays/prod/cm.yaml replaces
//    cm.yaml, overlays/prod/deploy_patch.yaml patches deploy.yaml;
//  - "any-env" (any env label) sets defaultNamespace other.
// FirstMatch (the default mode): env=prod gets "prod" only.
void WriteCustomizedBundle(const BundleDir& dir) {
  dir.Write("fleet.yaml",
            "defaultNamespace: apps\n"
            "targetCustomizations:\n"
            "- name: prod\n"
            "  clusterSelector:\n"
            "    matchLabels:\n"
            "      env: prod\n"
            "  yaml:\n"
            "    overlays:\n"
            "    - prod\n"
            "- name: any-env\n"
            "  clusterSelector:\n"
            "    matchExpressions:\n"
            "    - {key: env, operator: Exists}\n"
            "  defaultNamespace: other\n");
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  dir.Write("deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n"
            "  replicas: 1\n");
  dir.Write("overlays/prod/cm.yaml", ConfigMap("web", "red"));
  dir.Write("overlays/prod/deploy_patch.yaml", "spec:\n  replicas: 3\n");
}

// The YAML of WriteCustomizedBundle's two objects.
std::string CustomizedYaml(const std::string& ns, const std::string& color, int replicas) {
  return absl::StrCat("apiVersion: v1\ndata:\n  color: ", color,
                      "\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: ", ns,
                      "\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
                      "  namespace: ",
                      ns, "\nspec:\n  replicas: ", replicas, "\n");
}

// Fleet's namespace rules on a plain bundle: objects without a namespace get
// defaultNamespace, an explicit one stays, cluster-scoped objects have none.
// fleet.yaml, hidden files and non-manifests are not rendered. No manager,
// CA or token is needed.
TEST_CASE("render prints a plain bundle as YAML with Fleet's namespace rules", "[render]") {
  CliHarness cli;
  cli.env.clear();  // no server, CA or token configured: none is needed
  BundleDir dir;
  dir.Write("fleet.yaml", "defaultNamespace: apps\n");
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  dir.Write("pinned.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: pinned\n");
  dir.Write("role.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
            "  name: reader\n  namespace: ignored\n");
  dir.Write("README.md", "# not a manifest\n");
  dir.Write(".hidden.yaml", ConfigMap("hidden", "black"));
  CliResult result = Render(cli, dir.path());
  CHECK(result.err.empty());
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "apiVersion: v1\ndata:\n  color: blue\nkind: ConfigMap\nmetadata:\n  name: web\n"
        "  namespace: apps\n"
        "---\n"
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: pinned\n"
        "---\n"
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
        "  name: reader\n");
}

// Without fleet.yaml a directory of manifests is still a bundle: objects go
// to "default".
TEST_CASE("render of a directory without fleet.yaml puts objects in the default namespace",
          "[render]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("sub/cm.yaml", ConfigMap("web", "blue"));
  CliResult result = Render(cli, dir.path());
  CHECK(result.err.empty());
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "apiVersion: v1\ndata:\n  color: blue\nkind: ConfigMap\nmetadata:\n  name: web\n"
        "  namespace: default\n");
}

// --label describes the cluster; the first matching customization applies
// (FirstMatch), with its overlays: a file of the same name replaces, a
// *_patch.yaml patches. The overlays/ directory itself is never rendered.
TEST_CASE("render --label selects the first matching customization and applies its overlays",
          "[render]") {
  CliHarness cli;
  BundleDir dir;
  WriteCustomizedBundle(dir);
  SECTION("no labels: no customization") {
    CliResult result = Render(cli, dir.path());
    CHECK(result.err.empty());
    CHECK(result.exit_code == 0);
    CHECK(result.out == CustomizedYaml("apps", "blue", 1));
  }
  SECTION("env=prod: customization prod only, with overlay prod") {
    CliResult result = Render(cli, dir.path(), {"--label", "env=prod"});
    CHECK(result.err.empty());
    CHECK(result.exit_code == 0);
    CHECK(result.out == CustomizedYaml("apps", "red", 3));
  }
  SECTION("env=dev and another label, short flag: customization any-env") {
    CliResult result = Render(cli, dir.path(), {"-l", "env=dev", "-l", "region=eu"});
    CHECK(result.err.empty());
    CHECK(result.exit_code == 0);
    CHECK(result.out == CustomizedYaml("other", "blue", 1));
  }
}

// -o json: the objects as a v1 List, as `kubectl get -o json` prints many.
TEST_CASE("render -o json prints a v1 List of the rendered objects", "[render]") {
  CliHarness cli;
  BundleDir dir;
  WriteCustomizedBundle(dir);
  CliResult result = Render(cli, dir.path(), {"-o", "json", "--label", "env=prod"});
  CHECK(result.err.empty());
  CHECK(result.exit_code == 0);
  REQUIRE(!result.out.empty());
  CHECK(result.out.back() == '\n');
  const common::Json list = common::Json::parse(result.out);
  CHECK(list["apiVersion"] == "v1");
  CHECK(list["kind"] == "List");
  REQUIRE(list["items"].is_array());
  REQUIRE(list["items"].size() == 2);
  CHECK(list["items"][0] == common::Json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
      "metadata": {"name": "web", "namespace": "apps"}, "data": {"color": "red"}})"));
  CHECK(list["items"][1] == common::Json::parse(R"({"apiVersion": "apps/v1", "kind": "Deployment",
      "metadata": {"name": "web", "namespace": "apps"}, "spec": {"replicas": 3}})"));
  // --output and -o yaml are the same flag.
  CliHarness again;
  CliResult yaml = Render(again, dir.path(), {"--output", "yaml", "--label", "env=prod"});
  CHECK(yaml.exit_code == 0);
  CHECK(yaml.out == CustomizedYaml("apps", "red", 3));
}

// A cluster the bundle excludes gets nothing; that is no error, and stderr
// says which customization excluded it (and the bundle, by the
// --gitrepo-name it derives from).
TEST_CASE("render for a doNotDeploy customization prints nothing, names it and exits 0",
          "[render]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("fleet.yaml",
            "targetCustomizations:\n"
            "- name: frozen\n"
            "  clusterSelector:\n"
            "    matchLabels: {env: frozen}\n"
            "  doNotDeploy: true\n");
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  CliResult result = Render(cli, dir.path(), {"--label", "env=frozen"});
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "bundle test is not deployed to this cluster: customization \"frozen\" sets doNotDeploy "
        "for cluster \"local\"\n");

  CliResult named =
      Render(cli, dir.path(),
             {"--label", "env=frozen", "--cluster-name", "edge-1", "--gitrepo-name", "shop"});
  CHECK(named.exit_code == 0);
  CHECK(named.out.empty());
  CHECK(named.err ==
        "bundle shop is not deployed to this cluster: customization \"frozen\" sets doNotDeploy "
        "for cluster \"edge-1\"\n");

  CliResult other = Render(cli, dir.path(), {"--label", "env=prod"});
  CHECK(other.exit_code == 0);
  CHECK(other.err.empty());
  CHECK_FALSE(other.out.empty());
}

// overrideTargets replace the (allow-all) GitRepo targets: a cluster they
// do not match gets nothing, with the reason.
TEST_CASE("render for a cluster outside overrideTargets prints nothing and the reason, exit 0",
          "[render]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("fleet.yaml",
            "overrideTargets:\n"
            "- name: only-eu\n"
            "  clusterSelector:\n"
            "    matchLabels: {region: eu}\n");
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  CliResult result = Render(cli, dir.path(), {"--label", "region=us"});
  CHECK(result.exit_code == 0);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "bundle test is not deployed to this cluster: cluster \"local\" matches none of the "
        "fleet.yaml overrideTargets\n");

  CliResult eu = Render(cli, dir.path(), {"--label", "region=eu"});
  CHECK(eu.exit_code == 0);
  CHECK(eu.err.empty());
  CHECK(eu.out ==
        "apiVersion: v1\ndata:\n  color: blue\nkind: ConfigMap\nmetadata:\n  name: web\n"
        "  namespace: default\n");
}

// clusterName targets match the --cluster-name given (default "local").
TEST_CASE("render --cluster-name selects a clusterName customization", "[render]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("fleet.yaml",
            "targetCustomizations:\n"
            "- name: edge\n"
            "  clusterName: edge-1\n"
            "  namespace: edge\n"
            "- name: home\n"
            "  clusterName: local\n"
            "  namespace: home\n");
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  auto cm_in = [](const std::string& ns) {
    return absl::StrCat(
        "apiVersion: v1\ndata:\n  color: blue\nkind: ConfigMap\nmetadata:\n  name: web\n"
        "  namespace: ",
        ns, "\n");
  };
  CHECK(Render(cli, dir.path(), {"--cluster-name", "edge-1"}).out == cm_in("edge"));
  CHECK(Render(cli, dir.path()).out == cm_in("home"));
  CHECK(Render(cli, dir.path(), {"--cluster-name", "edge-2"}).out == cm_in("default"));
}

// A broken fleet.yaml is the user's to fix: exit 1, file:line:column.
TEST_CASE("render of a malformed fleet.yaml exits 1 naming file, line and column", "[render]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  SECTION("a field of the wrong type") {
    dir.Write("fleet.yaml", "defaultNamespace: apps\ntargetCustomizations: [1]\n");
    CliResult result = Render(cli, dir.path());
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK(result.err == "error: fleet.yaml:2:24: target: must be a mapping\n");
  }
  SECTION("YAML that does not parse") {
    dir.Write("fleet.yaml", "defaultNamespace: apps\nlabels: {team: web\n");
    CliResult result = Render(cli, dir.path());
    CHECK(result.exit_code == 1);
    CHECK(result.out.empty());
    CHECK_THAT(result.err, Catch::Matches("error: fleet\\.yaml:[0-9]+:[0-9]+: [^\n]+\n"));
  }
}

// `namespace` forces every object into one namespace; a cluster-scoped
// object cannot go there. Nothing is printed on stdout.
TEST_CASE("render of a cluster-scoped object under a forced namespace exits 1 naming it",
          "[render]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("fleet.yaml", "namespace: team\n");
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  dir.Write("role.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
            "  name: reader\n");
  CliResult result = Render(cli, dir.path());
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: bundle test: role.yaml: ClusterRole reader is cluster-scoped, but the bundle "
        "sets namespace \"team\" which forces every object into one namespace\n");
}

// Usage errors: exit 2, the message and the hint, and nothing rendered.
TEST_CASE("render usage errors exit 2 with the exact message", "[render]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  dir.Write("file.yaml", ConfigMap("x", "y"));
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"render"}, "render needs a bundle DIR"},
      {{"render", dir.path(), dir.path()}, "render takes one bundle DIR"},
      {{"render", dir.path(), "-o", "xml"}, "unknown output format \"xml\" (want yaml or json)"},
      {{"render", dir.path(), "--label", "nokey"},
       "invalid label \"nokey\": missing \"=\" (want KEY=VALUE)"},
      {{"render", dir.path(), "-l", "env=prod", "-l", "env=dev"},
       "label key \"env\" given twice (\"env=prod\" and \"env=dev\")"},
      {{"render", dir.path() + "/missing"}, dir.path() + "/missing: No such file or directory"},
      {{"render", dir.path() + "/file.yaml"}, dir.path() + "/file.yaml: not a directory"},
      {{"render", dir.path(), "--chart-mirror", "nothing"},
       "chart mirror \"nothing\" is not PREFIX=REPLACEMENT"},
      {{"render", dir.path(), "--helm-username", "u"},
       "--helm-username needs --helm-repo-url-regex: credentials are sent only to chart "
       "repositories matching it"},
      {{"render", dir.path(), "--helm-password-file", "pw"},
       "--helm-password-file needs --helm-username"},
      {{"render", dir.path(), "--helm-repo-url-regex", "(x"},
       "helmRepoURLRegex \"(x\" is not a valid regular expression: missing ): (x"},
      {{"render", dir.path(), "--helm-ca-file", dir.path() + "/cm.yaml"},
       "--helm-ca-file: " + dir.path() + "/cm.yaml holds no PEM certificate"},
  };
  for (const Case& c : cases) {
    INFO(c.args.back());
    CliResult result = cli.Run(c.args);
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    CHECK(result.err == absl::StrCat("error: ", c.message, "\n", kUsageHint));
  }
  CHECK(cli.factory.connections.empty());
  CHECK(cli.fleet.calls == 0);
}

// A chart from a private HTTPS chart repository: --helm-ca-file trusts its
// CA, and the credentials go where --helm-repo-url-regex allows.
TEST_CASE("render fetches a chart from a private https repository with the --helm flags",
          "[render]") {
  ::flotilla::testing::TempDir charts;
  std::filesystem::create_directories(charts.Sub("src/web/templates"));
  std::ofstream(charts.Sub("src/web/Chart.yaml")) << "apiVersion: v2\nname: web\nversion: 1.0.0\n";
  std::ofstream(charts.Sub("src/web/templates/cm.yaml"))
      << "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n";
  auto tar = ::flotilla::testing::RunCommand(
      absl::StrCat("tar czf ", charts.Sub("web.tgz"), " -C ", charts.Sub("src"), " web"));
  REQUIRE(tar.exit_code == 0);
  ::flotilla::testing::TestPki pki;
  std::ofstream(charts.Sub("ca.pem")) << pki.ca_pem;
  std::ofstream(charts.Sub("password")) << "s3cret\n";
  ::flotilla::testing::StaticHttpServer server({.tls_cert_pem = pki.cert_pem,
                                                .tls_key_pem = pki.key_pem,
                                                .username = "charts",
                                                .password = "s3cret"});
  server.Serve("/repo/index.yaml",
               "apiVersion: v1\nentries:\n  web:\n  - version: 1.0.0\n    urls: [web.tgz]\n");
  std::ifstream in(charts.Sub("web.tgz"), std::ios::binary);
  server.Serve("/repo/web.tgz", std::string(std::istreambuf_iterator<char>(in), {}));

  CliHarness cli;
  BundleDir dir;
  dir.Write("fleet.yaml", absl::StrCat("helm:\n  repo: ", server.Url("/repo"),
                                       "\n  chart: web\n  releaseName: private\n"));
  const std::vector<std::string> trust = {"--helm-ca-file", charts.Sub("ca.pem")};
  std::vector<std::string> args = trust;
  CliResult anonymous = Render(cli, dir.path(), args);
  CHECK(anonymous.exit_code == 1);
  CHECK(anonymous.err == absl::StrCat("error: bundle test: helm chart: ",
                                      server.Url("/repo/index.yaml"), ": HTTP status 401\n"));

  args.insert(args.end(), {"--helm-username", "charts", "--helm-password-file",
                           charts.Sub("password"), "--helm-repo-url-regex", "https://127"});
  CliResult ok = Render(cli, dir.path(), args);
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out ==
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: private\n  namespace: default\n");

  // Without the CA the server's certificate is refused; blind trust accepts it.
  args.erase(args.begin(), args.begin() + 2);
  CliResult untrusted = Render(cli, dir.path(), args);
  CHECK(untrusted.exit_code == 1);
  CHECK_THAT(untrusted.err, Catch::Matchers::Contains(server.Url("/repo/index.yaml")));
  args.push_back("--helm-insecure-skip-tls");
  CHECK(Render(cli, dir.path(), args).exit_code == 0);
}

// Whether a kustomize or kubectl binary is on $PATH (RunKustomize's own
// search); warns when there is none.
bool KustomizeToolOnPath() {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "" : path, ':')) {
    for (const char* name : {"kustomize", "kubectl"}) {
      const std::string candidate = absl::StrCat(dir, "/", name);
      if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return true;
    }
  }
  WARN("neither kustomize nor kubectl is on PATH: skipping a test that needs one");
  return false;
}

// A kustomize.dir bundle is built by the tool; the plain manifests beside it
// are not rendered, and Fleet's namespace rules apply to what it builds.
TEST_CASE("render builds a kustomize.dir bundle with kustomize or kubectl", "[render][kustomize]") {
  if (!KustomizeToolOnPath()) return;
  CliHarness cli;
  BundleDir dir;
  dir.Write("fleet.yaml", "defaultNamespace: apps\nkustomize:\n  dir: env/prod\n");
  dir.Write("plain.yaml", ConfigMap("plain", "white"));
  dir.Write("env/prod/kustomization.yaml", "namePrefix: prod-\nresources:\n- cm.yaml\n");
  dir.Write("env/prod/cm.yaml", ConfigMap("web", "green"));
  CliResult result = Render(cli, dir.path());
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out ==
        "apiVersion: v1\ndata:\n  color: green\nkind: ConfigMap\nmetadata:\n  name: prod-web\n"
        "  namespace: apps\n");
}

// --kustomize names the tool; one that does not exist fails the render
// (exit 1) and the message names it. Runs without any tool installed.
TEST_CASE("render --kustomize with a missing binary exits 1 naming it", "[render][kustomize]") {
  CliHarness cli;
  BundleDir dir;
  dir.Write("kustomization.yaml", "resources:\n- cm.yaml\n");
  dir.Write("cm.yaml", ConfigMap("web", "blue"));
  CliResult result = Render(cli, dir.path(), {"--kustomize", "/nonexistent"});
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: bundle test: kustomize.dir \"\": the kustomize tool \"/nonexistent\" is not an "
        "executable file\n");
}

}  // namespace
}  // namespace flotilla::cli
