#include <catch2/catch.hpp>
#include <string>

#include "cli/resource_printer.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

constexpr char kTwoGitRepos[] =
    "apiVersion: fleet.cattle.io/v1alpha1\n"
    "kind: GitRepo\n"
    "metadata:\n"
    "  name: simple\n"
    "spec:\n"
    "  repo: https://github.com/rancher/fleet-examples\n"
    "---\n"
    "apiVersion: fleet.cattle.io/v1alpha1\n"
    "kind: GitRepo\n"
    "metadata:\n"
    "  name: helm\n"
    "spec:\n"
    "  repo: https://github.com/rancher/fleet-examples\n"
    "  paths: [single-cluster/helm]\n";

// The text after `prefix` up to the end of its line, "" when absent.
std::string LineValue(const std::string& yaml, const std::string& prefix) {
  size_t at = yaml.find(prefix);
  if (at == std::string::npos) return "";
  size_t start = at + prefix.size();
  return yaml.substr(start, yaml.find('\n', start) - start);
}

// The manager answers with the document's kind and metadata.name; the fake
// does the same. "simple" is new, any other name an update.
absl::StatusOr<v1::ApplyResponse> NameFromYaml(const v1::ApplyRequest& request) {
  std::string name = LineValue(request.yaml(), "\n  name: ");
  if (name.empty()) return absl::InvalidArgumentError("metadata.name is required");
  v1::ApplyResponse response;
  response.set_kind(LineValue(request.yaml(), "kind: "));
  response.set_name(name);
  response.set_outcome(name == "simple" ? v1::APPLY_OUTCOME_CREATED : v1::APPLY_OUTCOME_CONFIGURED);
  return response;
}

// Two documents in one file: one Apply each, one line of output each.
TEST_CASE("apply with two documents makes two calls and prints two lines", "[apply]") {
  CliHarness cli;
  cli.fleet.apply = NameFromYaml;
  std::string file = cli.dir.Write("gitrepos.yaml", kTwoGitRepos);
  auto result = cli.Run({"apply", "-f", file});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out ==
        "gitrepo.fleet.cattle.io/simple created\n"
        "gitrepo.fleet.cattle.io/helm configured\n");
  REQUIRE(cli.fleet.apply_requests.size() == 2);
  CHECK(cli.fleet.apply_requests[0].yaml() ==
        "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: simple\nspec:\n"
        "  repo: https://github.com/rancher/fleet-examples\n");
  CHECK(cli.fleet.apply_requests[1].yaml().find("  name: helm\n") != std::string::npos);
}

// kubectl apply -f - reads stdin.
TEST_CASE("apply -f - reads the documents from stdin", "[apply]") {
  CliHarness cli;
  cli.fleet.apply = NameFromYaml;
  auto result = cli.Run({"apply", "-f", "-"}, kTwoGitRepos);
  CHECK(result.exit_code == 0);
  CHECK(cli.fleet.apply_requests.size() == 2);
}

// A missing file is a usage error: nothing is read, nothing is sent.
TEST_CASE("apply with a missing file exits 2 naming the path", "[apply]") {
  CliHarness cli;
  std::string missing = cli.dir.Path("nope.yaml");
  auto result = cli.Run({"apply", "-f", missing});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err == "error: cannot read " + missing +
                          ": No such file or directory\n"
                          "Run 'flotilla apply --help' for usage.\n");
  CHECK(cli.factory.connections.empty());
}

// The second file is missing: the first is not applied either.
TEST_CASE("apply reads every file before applying any", "[apply]") {
  CliHarness cli;
  std::string good = cli.dir.Write("good.yaml", kTwoGitRepos);
  auto result = cli.Run({"apply", "-f", good, "-f", cli.dir.Path("nope.yaml")});
  CHECK(result.exit_code == 2);
  CHECK(cli.fleet.apply_requests.empty());
}

// The manager rejects the first document; the second is still applied.
TEST_CASE("apply reports a rejected document with its code and goes on", "[apply]") {
  CliHarness cli;
  cli.fleet.apply = [](const v1::ApplyRequest& request) -> absl::StatusOr<v1::ApplyResponse> {
    if (request.yaml().find("name: simple") != std::string::npos) {
      return absl::InvalidArgumentError("spec.repo: unsupported scheme");
    }
    return NameFromYaml(request);
  };
  std::string file = cli.dir.Write("gitrepos.yaml", kTwoGitRepos);
  auto result = cli.Run({"apply", "-f", file});
  CHECK(result.exit_code == 1);
  CHECK(result.out == "gitrepo.fleet.cattle.io/helm configured\n");
  CHECK(result.err ==
        "error: INVALID_ARGUMENT: spec.repo: unsupported scheme (" + file + ", document 1)\n");
}

// A token the manager does not accept fails every document alike: the run
// stops at the first one, with exit 4.
TEST_CASE("apply stops at the first document when the token is rejected", "[apply]") {
  CliHarness cli;
  cli.fleet.error = absl::UnauthenticatedError("invalid, expired or revoked API token");
  auto result = cli.Run({"apply", "-f", "-"}, kTwoGitRepos);
  CHECK(result.exit_code == 4);
  CHECK(cli.fleet.apply_requests.size() == 1);
  CHECK(result.err ==
        "error: UNAUTHENTICATED: invalid, expired or revoked API token (stdin, document 1)\n"
        "Check the API token in --token-file / FLOTILLA_TOKEN_FILE.\n");
}

// A role may be denied one document and not another: the run goes on, and a
// denial outranks other failures in the exit code.
TEST_CASE("apply goes on past a PERMISSION_DENIED document and exits 4", "[apply]") {
  CliHarness cli;
  cli.fleet.apply = [](const v1::ApplyRequest& request) -> absl::StatusOr<v1::ApplyResponse> {
    if (request.yaml().find("name: simple") != std::string::npos) {
      return absl::PermissionDeniedError("role deployer may not call Apply");
    }
    return absl::InvalidArgumentError("spec.repo: unsupported scheme");
  };
  auto result = cli.Run({"apply", "-f", "-"}, kTwoGitRepos);
  CHECK(result.exit_code == 4);
  CHECK(cli.fleet.apply_requests.size() == 2);
  CHECK(result.err ==
        "error: PERMISSION_DENIED: role deployer may not call Apply (stdin, document 1)\n"
        "The API token in --token-file / FLOTILLA_TOKEN_FILE may not do this: use a token whose "
        "role allows it.\n"
        "error: INVALID_ARGUMENT: spec.repo: unsupported scheme (stdin, document 2)\n");
}

// An unreachable manager stops the run at the first document.
TEST_CASE("apply stops at the first document when the manager is unreachable", "[apply]") {
  CliHarness cli;
  cli.fleet.error = absl::UnavailableError("failed to connect to all addresses");
  auto result = cli.Run({"apply", "-f", "-"}, kTwoGitRepos);
  CHECK(result.exit_code == 3);
  CHECK(cli.fleet.apply_requests.size() == 1);
  CHECK(result.err ==
        "error: cannot reach the manager at 127.0.0.1:7443: UNAVAILABLE: failed to connect to "
        "all addresses (stdin, document 1)\n");
}

// Forgetting -f, or giving a file with nothing in it.
TEST_CASE("apply without -f or with an empty file is a usage error", "[apply]") {
  CliHarness cli;
  auto no_file = cli.Run({"apply"});
  CHECK(no_file.exit_code == 2);
  CHECK(no_file.err == "error: apply needs -f FILE\nRun 'flotilla apply --help' for usage.\n");

  std::string empty = cli.dir.Write("empty.yaml", "---\n# nothing\n---\n");
  auto no_docs = cli.Run({"apply", "-f", empty});
  CHECK(no_docs.exit_code == 2);
  CHECK(no_docs.err ==
        "error: " + empty + " has no documents\nRun 'flotilla apply --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
}

// Applying the stored document again changes nothing, and says so like kubectl.
TEST_CASE("apply reports an unchanged GitRepo as unchanged", "[apply]") {
  CliHarness cli;
  cli.fleet.apply = [](const v1::ApplyRequest&) -> absl::StatusOr<v1::ApplyResponse> {
    v1::ApplyResponse response;
    response.set_kind("GitRepo");
    response.set_name("simple");
    response.set_outcome(v1::APPLY_OUTCOME_UNCHANGED);
    return response;
  };
  auto result = cli.Run({"apply", "-f", "-"}, kTwoGitRepos);
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "gitrepo.fleet.cattle.io/simple unchanged\n"
        "gitrepo.fleet.cattle.io/simple unchanged\n");
}

constexpr char kEveryKind[] =
    "apiVersion: fleet.cattle.io/v1alpha1\n"
    "kind: ClusterGroup\n"
    "metadata:\n"
    "  name: simple\n"
    "spec:\n"
    "  selector:\n"
    "    matchLabels: {env: prod}\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: Secret\n"
    "metadata:\n"
    "  name: git-auth\n"
    "type: kubernetes.io/basic-auth\n"
    "stringData: {username: bot, password: pw}\n"
    "---\n"
    "apiVersion: fleet.cattle.io/v1alpha1\n"
    "kind: Cluster\n"
    "metadata:\n"
    "  name: prod-eu-1\n"
    "spec:\n"
    "  paused: true\n"
    "---\n"
    "apiVersion: fleet.cattle.io/v1alpha1\n"
    "kind: GitRepo\n"
    "metadata:\n"
    "  name: helm\n"
    "spec:\n"
    "  repo: https://github.com/rancher/fleet-examples\n"
    "  clientSecretName: git-auth\n";

// One file with a ClusterGroup, a Secret, a Cluster and a GitRepo: each goes
// to Apply as it is, and each line names the kind the manager reports.
TEST_CASE("apply prints each kind as kubectl names it", "[apply]") {
  CliHarness cli;
  cli.fleet.apply = NameFromYaml;
  auto result = cli.Run({"apply", "-f", cli.dir.Write("all.yaml", kEveryKind)});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out ==
        "clustergroup.fleet.cattle.io/simple created\n"
        "secret/git-auth configured\n"
        "cluster.fleet.cattle.io/prod-eu-1 configured\n"
        "gitrepo.fleet.cattle.io/helm configured\n");
  REQUIRE(cli.fleet.apply_requests.size() == 4);
  CHECK(cli.fleet.apply_requests[1].yaml() ==
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: git-auth\n"
        "type: kubernetes.io/basic-auth\nstringData: {username: bot, password: pw}\n");
}

// The manager refuses kinds it does not manage; the CLI passes its answer on
// and applies the rest.
TEST_CASE("apply passes the manager's refusal of an unknown kind on and goes on", "[apply]") {
  CliHarness cli;
  cli.fleet.apply = [](const v1::ApplyRequest& request) -> absl::StatusOr<v1::ApplyResponse> {
    if (request.yaml().find("kind: ConfigMap") != std::string::npos) {
      return absl::InvalidArgumentError(
          "cannot apply v1 ConfigMap: flotilla applies fleet.cattle.io/v1alpha1 GitRepo, "
          "ClusterGroup and Cluster, and v1 Secret");
    }
    return NameFromYaml(request);
  };
  auto result = cli.Run(
      {"apply", "-f", "-"},
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n---\n" + std::string(kTwoGitRepos));
  CHECK(result.exit_code == 1);
  CHECK(result.out ==
        "gitrepo.fleet.cattle.io/simple created\n"
        "gitrepo.fleet.cattle.io/helm configured\n");
  CHECK(result.err ==
        "error: INVALID_ARGUMENT: cannot apply v1 ConfigMap: flotilla applies "
        "fleet.cattle.io/v1alpha1 GitRepo, ClusterGroup and Cluster, and v1 Secret (stdin, "
        "document 1)\n");
}

// How each kind the manager may answer with is written.
TEST_CASE("ResourceRef names Fleet kinds with their group and Secrets without", "[apply]") {
  CHECK(ResourceRef("GitRepo", "a") == "gitrepo.fleet.cattle.io/a");
  CHECK(ResourceRef("ClusterGroup", "a") == "clustergroup.fleet.cattle.io/a");
  CHECK(ResourceRef("Cluster", "a") == "cluster.fleet.cattle.io/a");
  CHECK(ResourceRef("Secret", "a") == "secret/a");
  CHECK(ResourceRef("secret", "a") == "secret/a");
  CHECK(ResourceRef("Widget", "a") == "widget/a");
}

}  // namespace
}  // namespace flotilla::cli

namespace flotilla::cli::testing {
namespace {

// apply --wait: after the GitRepo is applied it polls GetGitRepo and prints
// a progress line until the GitRepo is fetched and every deployment is
// Ready; it needs no polling when the first answer is converged.
TEST_CASE("apply --wait prints progress until the GitRepo is ready", "[apply]") {
  CliHarness cli;
  const std::string file =
      cli.dir.Write("repo.yaml",
                    "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: apps\n"
                    "spec:\n  repo: https://g.example/apps\n");
  cli.fleet.apply = [](const v1::ApplyRequest&) -> absl::StatusOr<v1::ApplyResponse> {
    v1::ApplyResponse r;
    r.set_kind("GitRepo");
    r.set_name("apps");
    r.set_outcome(v1::APPLY_OUTCOME_CREATED);
    return r;
  };
  v1::GitRepo ready;
  ready.set_name("apps");
  ready.set_commit("0123456789abcdef0123");
  ready.set_applied_commit("0123456789abcdef0123");
  ready.mutable_summary()->set_ready(3);
  ready.mutable_summary()->set_desired_ready(3);
  cli.fleet.answers["GetGitRepo"] = ready.SerializeAsString();
  auto result = cli.Run({"apply", "-f", file, "--wait", "--timeout", "30s"});
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "gitrepo.fleet.cattle.io/apps created\n"
        "gitrepo/apps: 3/3 bundle deployments ready, commit 0123456789ab\n"
        "all GitRepos ready\n");
  REQUIRE(cli.fleet.requests.size() == 1);
  CHECK(cli.fleet.requests[0] == "GetGitRepo: name: \"apps\"");
}

TEST_CASE("apply --timeout needs --wait and a positive duration", "[apply]") {
  CliHarness cli;
  const std::string file = cli.dir.Write("x.yaml", "kind: GitRepo\n");
  auto alone = cli.Run({"apply", "-f", file, "--timeout", "1m"});
  CHECK(alone.exit_code == 2);
  CHECK_THAT(alone.err, Catch::Contains("--timeout needs --wait"));
  auto bad = cli.Run({"apply", "-f", file, "--wait", "--timeout", "soon"});
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("invalid --timeout \"soon\""));
  CHECK(cli.fleet.calls == 0);
}

}  // namespace
}  // namespace flotilla::cli::testing
