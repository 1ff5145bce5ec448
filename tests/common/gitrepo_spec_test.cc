#include "common/fleet/gitrepo_spec.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"

namespace flotilla::common {
namespace {

using Catch::Matchers::Contains;

constexpr char kHeader[] = "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\n";

GitRepoSpec MustParseRepo(const std::string& text) {
  auto spec = ParseGitRepo(text, "gitrepo.yaml");
  INFO(text);
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  return *spec;
}

// The message of a GitRepo that must be rejected as InvalidArgument.
std::string RepoError(const std::string& text) {
  auto spec = ParseGitRepo(text, "gitrepo.yaml");
  INFO(text);
  REQUIRE(spec.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(spec.status().message());
}

// A GitRepo with `extra_spec` (indented two spaces) under a valid spec.
std::string RepoWithSpec(const std::string& extra_spec) {
  return std::string(kHeader) +
         "metadata:\n  name: sample\nspec:\n  repo: https://example.com/r.git\n" + extra_spec;
}

// Fleet: pkg/apis/fleet.cattle.io/v1alpha1/gitrepo_types.go and
// controller/gitops/reconciler/gitjob.go — defaults: branch master, paths
// ["."], targets [{name: default, clusterGroup: default}], pollingInterval 15s.
TEST_CASE("A minimal GitRepo gets Fleet's defaults", "[gitrepo]") {
  GitRepoSpec spec = MustParseRepo(std::string(kHeader) +
                                   "metadata:\n  name: sample\nspec:\n"
                                   "  repo: https://github.com/rancher/fleet-examples\n");
  CHECK(spec.name == "sample");
  CHECK(spec.namespace_ == "fleet-default");
  CHECK(spec.repo == "https://github.com/rancher/fleet-examples");
  CHECK(spec.branch == "master");
  CHECK(spec.revision.empty());
  CHECK(spec.Ref() == "master");
  CHECK(spec.paths == std::vector<std::string>{"."});
  REQUIRE(spec.targets.size() == 1);
  CHECK(spec.targets[0].name == "default");
  CHECK(spec.targets[0].cluster_group == "default");
  CHECK(spec.targets[0].cluster_name.empty());
  CHECK_FALSE(spec.targets[0].cluster_selector.has_value());
  CHECK(spec.polling_interval == absl::Seconds(15));
  CHECK_FALSE(spec.disable_polling);
  CHECK_FALSE(spec.paused);
  CHECK_FALSE(spec.keep_resources);
  CHECK_FALSE(spec.delete_namespace);
  CHECK(spec.target_namespace.empty());
}

// Every supported field, as the fleet-examples repository writes them.
TEST_CASE("A GitRepo with every supported field parses them all", "[gitrepo]") {
  GitRepoSpec spec = MustParseRepo(std::string(kHeader) + R"(metadata:
  name: multi.cluster-1
  namespace: fleet-local
  labels: {a: b}
spec:
  repo: https://github.com/rancher/fleet-examples
  branch: main
  paths:
  - multi-cluster/helm
  - /single-cluster/manifests
  targets:
  - name: prod
    clusterSelector:
      matchLabels: {env: prod}
  - clusterName: local
  - clusterGroup: edge
    clusterGroupSelector: {matchExpressions: [{key: tier, operator: Exists}]}
  pollingInterval: 1m30s
  disablePolling: true
  paused: yes
  keepResources: true
  deleteNamespace: false
  targetNamespace: apps
status:
  commit: abc
)");
  CHECK(spec.name == "multi.cluster-1");
  CHECK(spec.namespace_ == "fleet-local");
  CHECK(spec.branch == "main");
  CHECK(spec.Ref() == "main");
  CHECK(spec.paths == std::vector<std::string>{"multi-cluster/helm", "single-cluster/manifests"});
  REQUIRE(spec.targets.size() == 3);
  CHECK(spec.targets[0].name == "prod");
  REQUIRE(spec.targets[0].cluster_selector.has_value());
  CHECK(spec.targets[0].cluster_selector->match_labels == Labels{{"env", "prod"}});
  CHECK(spec.targets[1].name.empty());
  CHECK(spec.targets[1].cluster_name == "local");
  CHECK(spec.targets[2].cluster_group == "edge");
  REQUIRE(spec.targets[2].cluster_group_selector.has_value());
  CHECK(spec.targets[2].cluster_group_selector->match_expressions.size() == 1);
  CHECK(spec.polling_interval == absl::Seconds(90));
  CHECK(spec.disable_polling);
  CHECK(spec.paused);
  CHECK(spec.keep_resources);
  CHECK_FALSE(spec.delete_namespace);
  CHECK(spec.target_namespace == "apps");
}

// A pinned revision wins over the branch, and no default branch is invented.
TEST_CASE("A revision is the ref to fetch and suppresses the default branch", "[gitrepo]") {
  GitRepoSpec spec = MustParseRepo(RepoWithSpec("  revision: v1.2.3\n"));
  CHECK(spec.branch.empty());
  CHECK(spec.revision == "v1.2.3");
  CHECK(spec.Ref() == "v1.2.3");

  GitRepoSpec both = MustParseRepo(RepoWithSpec("  branch: dev\n  revision: 0123abcd\n"));
  CHECK(both.branch == "dev");
  CHECK(both.Ref() == "0123abcd");
}

// Fleet: controller/gitops/reconciler/gitjob.go — a leading "/" is stripped
// from each path; "/" alone is the root.
TEST_CASE("Leading slashes are stripped from paths", "[gitrepo]") {
  GitRepoSpec spec = MustParseRepo(RepoWithSpec("  paths: [/a, //b/c, /, simple, 'apps/*']\n"));
  CHECK(spec.paths == std::vector<std::string>{"a", "b/c", ".", "simple", "apps/*"});

  CHECK(RepoError(RepoWithSpec("  paths:\n  - ok\n  - ../outside\n")) ==
        "gitrepo.yaml:9:5: spec.paths[1]: \"../outside\" must stay inside the repository");
  CHECK(RepoError(RepoWithSpec("  paths: [1]\n")) ==
        "gitrepo.yaml:7:11: spec.paths[0]: must be a string");
  CHECK(RepoError(RepoWithSpec("  paths: a\n")) ==
        "gitrepo.yaml:7:10: spec.paths: must be a list of strings");
}

// Strict field validation, like kubectl's: a typo never silently deploys
// something else.
TEST_CASE("An unknown spec field is InvalidArgument naming the field and its position",
          "[gitrepo]") {
  CHECK(RepoError(RepoWithSpec("  brnach: main\n")) ==
        "gitrepo.yaml:7:11: spec.brnach: unknown field");
  CHECK(RepoError(std::string(kHeader) + "metadata: {name: a}\nspec: {repo: r}\nextra: 1\n") ==
        "gitrepo.yaml:5:8: extra: unknown field");
  CHECK(RepoError(RepoWithSpec("  targets:\n  - clusterName: a\n    helm: {}\n")) ==
        "gitrepo.yaml:9:11: helm: unknown field (a target has name, clusterName, "
        "clusterSelector, clusterGroup, clusterGroupSelector)");
}

// Fleet fields Flotilla does not implement are refused with a pointer to the
// compatibility notes, not ignored.
TEST_CASE("Unsupported Fleet fields point at docs/fleet-compat.md", "[gitrepo]") {
  for (const char* field : {"ociRegistrySecret", "imageScanInterval", "imageScanCommit"}) {
    INFO(field);
    std::string msg = RepoError(RepoWithSpec(std::string("  ") + field + ": x\n"));
    CHECK_THAT(msg, Catch::Matchers::StartsWith("gitrepo.yaml:7:"));
    CHECK_THAT(msg, Contains(std::string("spec.") + field +
                             ": is a Fleet field this Flotilla version does not support yet"));
    CHECK_THAT(msg, Contains("(see docs/fleet-compat.md)"));
  }
}

// Fleet: gitrepo_types.go GitRepoSpec — credentials, TLS, sync control and
// lifecycle fields, read as Fleet writes them.
TEST_CASE("Credential, TLS, sync and lifecycle fields are read", "[gitrepo]") {
  // "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", base64.
  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  std::string b64;
  absl::Base64Escape(pem, &b64);
  GitRepoSpec spec = MustParseRepo(RepoWithSpec(
      "  clientSecretName: git-auth\n  helmSecretName: helm-auth\n"
      "  helmSecretNameForPaths: per-path\n  helmRepoURLRegex: '^https://charts\\.example\\.com/'\n"
      "  caBundle: " +
      b64 +
      "\n  insecureSkipTLSVerify: true\n  webhookSecret: hooks\n"
      "  forceSyncGeneration: 3\n  serviceAccount: deployer\n"
      "  correctDrift: {enabled: true, force: true, keepFailHistory: false}\n"
      "  pollingInterval: '0'\n"));
  CHECK(spec.client_secret_name == "git-auth");
  CHECK(spec.helm_secret_name == "helm-auth");
  CHECK(spec.helm_secret_name_for_paths == "per-path");
  CHECK(spec.helm_repo_url_regex == "^https://charts\\.example\\.com/");
  CHECK(spec.ca_bundle == pem);
  CHECK(spec.insecure_skip_tls_verify);
  CHECK(spec.webhook_secret == "hooks");
  CHECK(spec.force_sync_generation == 3);
  CHECK(spec.service_account == "deployer");
  CHECK(spec.correct_drift.enabled);
  CHECK(spec.correct_drift.force);
  CHECK_FALSE(spec.correct_drift.keep_fail_history);
  CHECK(spec.polling_interval == absl::Seconds(15));

  CHECK(RepoError(RepoWithSpec("  caBundle: not-base64!\n")) ==
        "gitrepo.yaml:7:13: spec.caBundle: must be a base64-encoded PEM certificate bundle");
  CHECK(absl::StartsWith(RepoError(RepoWithSpec("  helmRepoURLRegex: 'https://(a|b'\n")),
                         "gitrepo.yaml:7:21: spec.helmRepoURLRegex: is not a valid regular "
                         "expression: "));
  CHECK(RepoError(RepoWithSpec("  forceSyncGeneration: soon\n")) ==
        "gitrepo.yaml:7:24: spec.forceSyncGeneration: must be an integer");
  CHECK(RepoError(RepoWithSpec("  correctDrift: {enabled: true, often: true}\n")) ==
        "gitrepo.yaml:7:40: spec.correctDrift.often: unknown field");
}

// Fleet: gitrepo_types.go BundlePath, cli/apply CreateBundlesDriven — explicit
// bundle directories with an options file relative to the repository root.
TEST_CASE("bundles lists explicit bundle directories with options files", "[gitrepo]") {
  GitRepoSpec spec = MustParseRepo(
      RepoWithSpec("  bundles:\n  - base: /apps/web\n    options: apps/web/prod.yaml\n"
                   "  - base: apps/db\n"));
  REQUIRE(spec.bundles.size() == 2);
  CHECK(spec.bundles[0].base == "apps/web");
  CHECK(spec.bundles[0].options == "apps/web/prod.yaml");
  CHECK(spec.bundles[1].base == "apps/db");
  CHECK(spec.bundles[1].options.empty());

  CHECK(RepoError(RepoWithSpec("  bundles:\n  - options: x.yaml\n")) ==
        "gitrepo.yaml:8:5: spec.bundles[0].base: is required");
  CHECK(RepoError(RepoWithSpec("  bundles:\n  - base: ../out\n")) ==
        "gitrepo.yaml:8:11: spec.bundles[0].base: \"../out\" must stay inside the repository");
  CHECK(RepoError(RepoWithSpec("  bundles:\n  - base: a\n    path: b\n")) ==
        "gitrepo.yaml:9:11: spec.bundles[0].path: unknown field");
}

// Only fleet.cattle.io/v1alpha1 GitRepo objects are accepted.
TEST_CASE("A wrong apiVersion or kind is rejected", "[gitrepo]") {
  CHECK(RepoError("apiVersion: fleet.cattle.io/v1\nkind: GitRepo\nmetadata: {name: a}\n"
                  "spec: {repo: r}\n") ==
        "gitrepo.yaml:1:13: apiVersion: \"fleet.cattle.io/v1\" is not fleet.cattle.io/v1alpha1");
  CHECK(RepoError("apiVersion: fleet.cattle.io/v1alpha1\nkind: Bundle\nmetadata: {name: a}\n"
                  "spec: {repo: r}\n") == "gitrepo.yaml:2:7: kind: \"Bundle\" is not GitRepo");
  CHECK(RepoError("kind: GitRepo\nmetadata: {name: a}\nspec: {repo: r}\n") ==
        "gitrepo.yaml:1:1: apiVersion: \"\" is not fleet.cattle.io/v1alpha1");
  // Non-string values are reported, not thrown.
  CHECK(RepoError("apiVersion: 1\nkind: GitRepo\n") ==
        "gitrepo.yaml:1:13: apiVersion: \"1\" is not fleet.cattle.io/v1alpha1");
  CHECK(RepoError("apiVersion: fleet.cattle.io/v1alpha1\nkind: [GitRepo]\n") ==
        "gitrepo.yaml:2:7: kind: \"[\"GitRepo\"]\" is not GitRepo");
  CHECK(RepoError("- a\n") == "gitrepo.yaml:1:1: GitRepo: must be a mapping");
  CHECK(RepoError("") == "gitrepo.yaml: expected one GitRepo document, found 0");
  CHECK(RepoError(RepoWithSpec("") + "---\n" + RepoWithSpec("")) ==
        "gitrepo.yaml: expected one GitRepo document, found 2");
}

// metadata.name and spec.repo are required.
TEST_CASE("A GitRepo without a name or a repo is rejected", "[gitrepo]") {
  CHECK(RepoError(std::string(kHeader) + "metadata:\n  namespace: x\nspec: {repo: r}\n") ==
        "gitrepo.yaml:4:3: metadata.name: is required");
  CHECK(RepoError(std::string(kHeader) + "spec: {repo: r}\n") ==
        "gitrepo.yaml:1:1: metadata.name: is required");
  CHECK(RepoError(std::string(kHeader) + "metadata: {name: a}\nspec:\n  branch: main\n") ==
        "gitrepo.yaml:5:3: spec.repo: is required");
  CHECK(RepoError(std::string(kHeader) + "metadata: {name: a}\nspec:\n  repo: ''\n") ==
        "gitrepo.yaml:5:3: spec.repo: is required");
  CHECK(RepoError(std::string(kHeader) + "metadata: {name: a}\n") ==
        "gitrepo.yaml:1:1: spec: is required");
  CHECK(RepoError(RepoWithSpec("  branch: [main]\n")) ==
        "gitrepo.yaml:7:11: spec.branch: must be a string");
  CHECK(RepoError(RepoWithSpec("  paused: 1\n")) ==
        "gitrepo.yaml:7:11: spec.paused: must be true or false");
}

// pollingInterval is a Go-style duration of at least one second.
TEST_CASE("pollingInterval accepts durations and rejects anything else", "[gitrepo]") {
  CHECK(MustParseRepo(RepoWithSpec("  pollingInterval: 1h\n")).polling_interval == absl::Hours(1));
  CHECK(MustParseRepo(RepoWithSpec("  pollingInterval: 1s\n")).polling_interval ==
        absl::Seconds(1));
  CHECK(MustParseRepo(RepoWithSpec("  pollingInterval:\n")).polling_interval == absl::Seconds(15));
  const std::string problem =
      ": spec.pollingInterval: must be a duration of at least 1s, like \"15s\", \"1m\" or \"1h\"";
  CHECK(RepoError(RepoWithSpec("  pollingInterval: soon\n")) == "gitrepo.yaml:7:20" + problem);
  CHECK(RepoError(RepoWithSpec("  pollingInterval: 500ms\n")) == "gitrepo.yaml:7:20" + problem);
  CHECK(RepoError(RepoWithSpec("  pollingInterval: 15\n")) == "gitrepo.yaml:7:20" + problem);
  CHECK(RepoError(RepoWithSpec("  pollingInterval: -1m\n")) == "gitrepo.yaml:7:20" + problem);
}

// Kubernetes object names: DNS-1123 subdomain, at most 253 characters.
TEST_CASE("An invalid GitRepo name is rejected", "[gitrepo]") {
  CHECK(RepoError(std::string(kHeader) + "metadata:\n  name: My_Repo\nspec: {repo: r}\n") ==
        "gitrepo.yaml:4:9: metadata.name: GitRepo name \"My_Repo\" is invalid: use lowercase "
        "letters, digits, '-' and '.', starting and ending with a letter or digit (at most 253 "
        "characters)");

  CHECK(ValidateObjectName("GitRepo", "a").ok());
  CHECK(ValidateObjectName("GitRepo", "a.b-c.0").ok());
  CHECK(ValidateObjectName("GitRepo", std::string(253, 'a')).ok());
  for (const std::string& bad :
       {std::string(254, 'a'), std::string(""), std::string("-a"), std::string("a-"),
        std::string(".a"), std::string("A"), std::string("a_b"), std::string("a b")}) {
    INFO(bad);
    auto st = ValidateObjectName("GitRepo", bad);
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(st.message()),
               Catch::Matchers::StartsWith("GitRepo name \"" + bad + "\" is invalid"));
  }
}

}  // namespace
}  // namespace flotilla::common
