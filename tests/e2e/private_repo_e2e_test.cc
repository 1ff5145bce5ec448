// A private repository end to end: the real manager and CLI, `git
// http-backend` behind a loopback HTTP server that demands Basic auth, and
// the credentials supplied as a secret named by the GitRepo's
// clientSecretName. Wrong credentials are reported on the GitRepo without
// the password appearing anywhere; fixing the secret recovers.
#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/support/e2e_process.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/git_http_server.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

std::optional<nlohmann::json> OnlyGitRepo(const ManagerProcess& manager) {
  auto repos = manager.TryGetJson("gitrepos");
  if (!repos || repos->size() != 1) return std::nullopt;
  return (*repos)[0];
}

void CreateSecret(const ManagerProcess& manager, const TempDir& tmp, const std::string& password) {
  const std::string file = tmp.Sub("password.txt");
  std::ofstream(file) << password << "\n";
  RunResult r = manager.Cli({"secret", "create", "basic-auth", "git-auth", "--username", "fleet",
                             "--password-file", file});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

TEST_CASE("A private repository is fetched with the secret its GitRepo names", "[e2e][git-auth]") {
  TempDir tmp;
  TestGitRepo repo(tmp.Sub("git/fleet"));
  repo.WriteFile("app/fleet.yaml", "defaultNamespace: app\n");
  repo.WriteFile("app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n");
  const std::string head = repo.Commit("app");
  GitHttpServer::Options options;
  options.project_root = tmp.Sub("git");
  options.username = "fleet";
  options.password = "s3cret-Passw0rd";
  GitHttpServer server(options);
  ManagerProcess manager(tmp.Sub("manager"));

  // A wrong password first: the GitRepo shows an authentication error that
  // names the secret, never the password.
  CreateSecret(manager, tmp, "wrong-guess");
  const std::string gitrepo = tmp.Sub("gitrepo.yaml");
  std::ofstream(gitrepo) << absl::StrCat(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: private\nspec:\n"
      "  repo: ",
      server.Url("fleet"),
      "\n  branch: main\n  pollingInterval: 1s\n  clientSecretName: git-auth\n"
      "  targets:\n  - clusterSelector: {}\n");
  RunResult applied = manager.Cli({"apply", "-f", gitrepo});
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  std::string error;
  CHECK(PollEvery(absl::Milliseconds(100), absl::Seconds(30), [&] {
    auto g = OnlyGitRepo(manager);
    if (!g) return false;
    error = g->value("error", "");
    return !error.empty();
  }));
  CHECK_THAT(error, Catch::Matchers::Contains("authentication"));
  CHECK_THAT(error, Catch::Matchers::Contains("git-auth"));
  CHECK_THAT(error, !Catch::Matchers::Contains("wrong-guess"));
  CHECK_THAT(manager.process().Log(), !Catch::Matchers::Contains("wrong-guess"));

  // The right password: the next poll fetches the commit and the error clears.
  CreateSecret(manager, tmp, "s3cret-Passw0rd");
  CHECK(PollEvery(absl::Milliseconds(100), absl::Seconds(30), [&] {
    auto g = OnlyGitRepo(manager);
    return g && g->value("applied_commit", "") == head && g->value("error", "").empty();
  }));
  auto bundles = manager.GetJson("bundles");
  REQUIRE(bundles.size() == 1);
  CHECK((*bundles.begin()).value("name", "") == "private-app");
  CHECK_THAT(manager.process().Log(), !Catch::Matchers::Contains("s3cret-Passw0rd"));

  // In use: the secret cannot be deleted from under the GitRepo.
  RunResult del = manager.Cli({"delete", "secret", "git-auth"});
  CHECK(del.exit_code == 1);
  CHECK_THAT(del.err, Catch::Matchers::Contains("still used by gitrepo(s) private"));
}

}  // namespace
}  // namespace flotilla::testing
