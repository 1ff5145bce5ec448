// The chart download settings a bundle gets from its GitRepo's Helm secrets
// (manager/controller/chart_credentials.h), each rule after Fleet's gitjob
// and `fleet apply` (internal/cmd/controller/gitops/reconciler/gitjob.go,
// internal/cmd/cli/apply/apply.go setAuthByPath).
#include "manager/controller/chart_credentials.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/support/test_pki.h"

namespace flotilla::manager {
namespace {

using common::helm::ChartSourceOptions;

// An in-memory secret store.
struct Secrets {
  std::map<std::string, SecretRecord> by_name;

  void Add(const std::string& name, std::map<std::string, std::string> data) {
    SecretRecord r;
    r.name = name;
    r.type = "generic";
    r.data = std::move(data);
    by_name[name] = r;
  }
  SecretLookup Lookup() const {
    return [this](const std::string& name) -> absl::StatusOr<std::optional<SecretRecord>> {
      auto it = by_name.find(name);
      if (it == by_name.end()) return std::optional<SecretRecord>();
      return std::optional<SecretRecord>(it->second);
    };
  }
};

ChartSourceOptions ManagerDefaults() {
  ChartSourceOptions options;
  options.mirrors.push_back({"https://charts.example.com/", "/srv/charts"});
  options.timeout = absl::Seconds(7);
  return options;
}

TEST_CASE("without helm secrets a bundle gets the manager's settings and no credentials",
          "[chart-credentials]") {
  Secrets secrets;
  common::GitRepoSpec spec;
  spec.helm_repo_url_regex = "https://charts\\.example\\.com";
  spec.insecure_skip_tls_verify = true;  // the GitRepo's covers chart downloads too
  auto options = ChartSourceForBundle(ManagerDefaults(), spec, "web", secrets.Lookup());
  REQUIRE(options.ok());
  CHECK(options->mirrors.size() == 1);
  CHECK(options->timeout == absl::Seconds(7));
  CHECK(options->username.empty());
  CHECK(options->password.empty());
  CHECK(options->credentials_url_regex == "https://charts\\.example\\.com");
  CHECK(options->insecure_skip_tls_verify);
}

TEST_CASE("helmSecretName gives username, password, cacerts and insecureSkipVerify",
          "[chart-credentials]") {
  testing::TestPki pki;
  Secrets secrets;
  secrets.Add("helm", {{"username", "u"},
                       {"password", "p"},
                       {"cacerts", pki.ca_pem},
                       {"insecureSkipVerify", "true"},
                       {"ssh-privatekey", "unused for http charts"}});
  common::GitRepoSpec spec;
  spec.helm_secret_name = "helm";
  auto options = ChartSourceForBundle(ManagerDefaults(), spec, "web", secrets.Lookup());
  REQUIRE(options.ok());
  CHECK(options->username == "u");
  CHECK(options->password == "p");
  CHECK(options->ca_bundle_pem == pki.ca_pem);
  CHECK(options->insecure_skip_tls_verify);

  secrets.Add("helm", {{"username", "u"}, {"insecureSkipVerify", "F"}});
  options = ChartSourceForBundle(ManagerDefaults(), spec, "web", secrets.Lookup());
  REQUIRE(options.ok());
  CHECK_FALSE(options->insecure_skip_tls_verify);
  CHECK(options->ca_bundle_pem.empty());
}

TEST_CASE("helmSecretName problems name the secret and the key, never a value",
          "[chart-credentials]") {
  Secrets secrets;
  common::GitRepoSpec spec;
  spec.helm_secret_name = "helm";
  auto missing = ChartSourceForBundle(ManagerDefaults(), spec, "web", secrets.Lookup());
  CHECK(missing.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(missing.status().message() ==
        "helmSecretName: secret \"helm\" does not exist (create it with `flotilla secret create "
        "basic-auth|generic helm ...` or `flotilla apply -f`)");

  secrets.Add("helm", {{"cacerts", "hunter2"}});
  auto bad_ca = ChartSourceForBundle(ManagerDefaults(), spec, "web", secrets.Lookup());
  CHECK(bad_ca.status().message() ==
        "helmSecretName: secret \"helm\" key \"cacerts\" is not a PEM certificate bundle");

  secrets.Add("helm", {{"insecureSkipVerify", "yes please"}});
  auto bad_bool = ChartSourceForBundle(ManagerDefaults(), spec, "web", secrets.Lookup());
  CHECK(bad_bool.status().message() ==
        "helmSecretName: secret \"helm\" key \"insecureSkipVerify\" must be true or false");
}

TEST_CASE("helmSecretNameForPaths picks the bundle's entry: exact path, else the first glob",
          "[chart-credentials]") {
  testing::TestPki pki;
  Secrets secrets;
  secrets.Add("by-path", {{"secrets-path.yaml",
                           absl::StrCat("apps/web:\n  username: web\n  password: pw\n"
                                        "  caBundle: ",
                                        absl::Base64Escape(pki.ca_pem),
                                        "\n"
                                        "apps/*:\n  username: any-app\n  insecureSkipVerify: true\n"
                                        "apps/[a-c]*:\n  username: a-to-c\n"
                                        "legacy:\n  username: l\n  sshPrivateKey: eA==\n")}});
  // helmSecretName is ignored when ForPaths is set.
  secrets.Add("plain", {{"username", "plain"}});
  common::GitRepoSpec spec;
  spec.helm_secret_name_for_paths = "by-path";
  spec.helm_secret_name = "plain";
  auto for_path = [&](const std::string& path) {
    auto options = ChartSourceForBundle(ManagerDefaults(), spec, path, secrets.Lookup());
    REQUIRE(options.ok());
    return *options;
  };
  ChartSourceOptions web = for_path("apps/web");
  CHECK(web.username == "web");
  CHECK(web.password == "pw");
  CHECK(web.ca_bundle_pem == pki.ca_pem);
  CHECK_FALSE(web.insecure_skip_tls_verify);
  // "apps/*" sorts before "apps/[a-c]*", so it wins for "apps/api" too.
  CHECK(for_path("apps/api").username == "any-app");
  CHECK(for_path("apps/api").insecure_skip_tls_verify);
  CHECK(for_path("legacy").username == "l");
  // No entry: no credentials, and not helmSecretName's either.
  CHECK(for_path("other").username.empty());
  CHECK(for_path(".").username.empty());
}

TEST_CASE("a malformed secrets-path.yaml is an error naming the secret and the entry",
          "[chart-credentials]") {
  Secrets secrets;
  common::GitRepoSpec spec;
  spec.helm_secret_name_for_paths = "by-path";
  auto error_for = [&](const std::map<std::string, std::string>& data) {
    secrets.Add("by-path", data);
    auto options = ChartSourceForBundle(ManagerDefaults(), spec, "apps/web", secrets.Lookup());
    REQUIRE_FALSE(options.ok());
    CHECK(options.status().code() == absl::StatusCode::kFailedPrecondition);
    return std::string(options.status().message());
  };
  CHECK(error_for({{"username", "x"}}) ==
        "helmSecretNameForPaths: secret \"by-path\" has no key \"secrets-path.yaml\"");
  CHECK(absl::StartsWith(error_for({{"secrets-path.yaml", "apps/web: [unclosed"}}),
                         "helmSecretNameForPaths: secret \"by-path\" key \"secrets-path.yaml\" "
                         "does not parse: "));
  CHECK(error_for({{"secrets-path.yaml", "- a list\n"}}) ==
        "helmSecretNameForPaths: secret \"by-path\" key \"secrets-path.yaml\" must map bundle "
        "paths to credentials");
  CHECK(error_for({{"secrets-path.yaml", "apps/web:\n  user: typo\n"}}) ==
        "helmSecretNameForPaths: secret \"by-path\" key \"secrets-path.yaml\": path "
        "\"apps/web\": unknown field \"user\" (known: username, password, caBundle, "
        "insecureSkipVerify)");
  CHECK(error_for({{"secrets-path.yaml", "apps/web:\n  caBundle: hunter2\n"}}) ==
        "helmSecretNameForPaths: secret \"by-path\" key \"secrets-path.yaml\": path "
        "\"apps/web\": caBundle must be a (base64-encoded) PEM certificate bundle");
  CHECK(error_for({{"secrets-path.yaml", "apps/[:\n  username: x\n"}}) ==
        "helmSecretNameForPaths: secret \"by-path\" key \"secrets-path.yaml\": path pattern "
        "\"apps/[\" is not a valid glob");
  CHECK(error_for({{"secrets-path.yaml", "apps/web: just a string\n"}}) ==
        "helmSecretNameForPaths: secret \"by-path\" key \"secrets-path.yaml\": path "
        "\"apps/web\": must be a map of username, password, caBundle, ...");
}

}  // namespace
}  // namespace flotilla::manager
