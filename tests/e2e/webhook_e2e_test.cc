// Git push webhooks end to end: the real manager and CLI, a repository served
// by git daemon, a GitRepo that polls only hourly, and GitHub-style pushes to
// POST /webhooks. A forged signature gets 401 and changes nothing; a signed
// push makes the manager fetch the new commit at once.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tests/support/e2e_process.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

using Json = nlohmann::json;

std::string HmacSha256Hex(const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(len)));
}

// A GitHub push event for `url`, branch main, new commit `commit`.
std::string GitHubPush(const std::string& url, const std::string& commit) {
  Json body = {
      {"ref", "refs/heads/main"},
      {"after", commit},
      {"repository", {{"html_url", url}, {"clone_url", url}, {"full_name", "team/fleet"}}}};
  return body.dump();
}

using Reply = HttpResponse;

Reply PostWebhook(const std::string& http_address, const std::string& body,
                  const std::string& signature) {
  return HttpRequest(http_address, "POST", "/webhooks",
                     {{"Content-Type", "application/json"},
                      {"X-GitHub-Event", "push"},
                      {"X-GitHub-Delivery", "d-1"},
                      {"X-Hub-Signature-256", "sha256=" + signature}},
                     body);
}

std::string GitRepoCommit(const ManagerProcess& manager) {
  auto repos = manager.TryGetJson("gitrepos");
  if (!repos || repos->empty()) return "";
  return (*repos)[0].value("commit", "");
}

TEST_CASE("A signed push webhook fetches at once and a forged one changes nothing",
          "[e2e][webhook]") {
  TempDir tmp;
  TestGitRepo repo(tmp.Sub("git/fleet"));
  repo.WriteFile("app/fleet.yaml", "defaultNamespace: app\n");
  repo.WriteFile("app/cm.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: '1'\n");
  const std::string first = repo.Commit("v1");
  GitDaemon daemon(tmp.Sub("git"));
  ManagerProcess manager(tmp.Sub("manager"));

  RunResult secret = manager.Cli({"secret", "create", "generic", "hooks", "--from-literal",
                                  "github=correct horse battery staple"});
  INFO(secret.err);
  REQUIRE(secret.exit_code == 0);
  const std::string gitrepo_path = tmp.Sub("gitrepo.yaml");
  std::ofstream(gitrepo_path) << absl::StrCat(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: hooked\nspec:\n"
      "  repo: ",
      daemon.Url("fleet"),
      "\n  branch: main\n  pollingInterval: 1h\n  webhookSecret: hooks\n"
      "  targets:\n  - clusterSelector: {}\n");
  RunResult applied = manager.Cli({"apply", "-f", gitrepo_path});
  INFO(applied.err);
  REQUIRE(applied.exit_code == 0);
  REQUIRE(PollEvery(absl::Milliseconds(100), absl::Seconds(30),
                    [&] { return GitRepoCommit(manager) == first; }));

  repo.WriteFile("app/cm.yaml",
                 "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  v: '2'\n");
  const std::string second = repo.Commit("v2");
  const std::string body = GitHubPush(daemon.Url("fleet"), second);

  // Forged: signed with another key. Refused, and the GitRepo stays put.
  Reply forged = PostWebhook(manager.http_address(), body, HmacSha256Hex("guess", body));
  CHECK(forged.status == 401);
  // Not signed at all.
  Reply unsigned_push = PostWebhook(manager.http_address(), body, "");
  CHECK(unsigned_push.status == 401);
  // Not a webhook at all.
  Reply garbage = PostWebhook(manager.http_address(), "{not json", "00");
  CHECK(garbage.status == 400);
  CHECK(GitRepoCommit(manager) == first);

  // Signed with the secret: fetched now, not in an hour.
  Reply signed_push = PostWebhook(manager.http_address(), body,
                                  HmacSha256Hex("correct horse battery staple", body));
  INFO(signed_push.body);
  CHECK(signed_push.status == 200);
  CHECK(PollEvery(absl::Milliseconds(100), absl::Seconds(30),
                  [&] { return GitRepoCommit(manager) == second; }));
  INFO(manager.process().LogTail());
  CHECK_THAT(manager.process().Log(), Catch::Matchers::Contains("webhook refused"));
  CHECK_THAT(manager.process().Log(), !Catch::Matchers::Contains("correct horse battery staple"));
}

}  // namespace
}  // namespace flotilla::testing
