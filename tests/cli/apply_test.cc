#include <catch2/catch.hpp>
#include <string>

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

// The manager names the GitRepo after metadata.name; the fake does the same.
// The first document is new, the second an update of an existing GitRepo.
absl::StatusOr<v1::ApplyGitRepoResponse> NameFromYaml(const v1::ApplyGitRepoRequest& request) {
  const std::string& yaml = request.yaml();
  size_t at = yaml.find("  name: ");
  if (at == std::string::npos) return absl::InvalidArgumentError("metadata.name is required");
  size_t start = at + 8;
  v1::ApplyGitRepoResponse response;
  std::string name = yaml.substr(start, yaml.find('\n', start) - start);
  response.mutable_gitrepo()->set_name(name);
  response.set_outcome(name == "simple" ? v1::APPLY_OUTCOME_CREATED : v1::APPLY_OUTCOME_CONFIGURED);
  return response;
}

// Two documents in one file: one ApplyGitRepo each, one line of output each.
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
  cli.fleet.apply =
      [](const v1::ApplyGitRepoRequest& request) -> absl::StatusOr<v1::ApplyGitRepoResponse> {
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
  cli.fleet.apply = [](const v1::ApplyGitRepoRequest&) -> absl::StatusOr<v1::ApplyGitRepoResponse> {
    v1::ApplyGitRepoResponse response;
    response.mutable_gitrepo()->set_name("simple");
    response.set_outcome(v1::APPLY_OUTCOME_UNCHANGED);
    return response;
  };
  auto result = cli.Run({"apply", "-f", "-"}, kTwoGitRepos);
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "gitrepo.fleet.cattle.io/simple unchanged\n"
        "gitrepo.fleet.cattle.io/simple unchanged\n");
}

}  // namespace
}  // namespace flotilla::cli
