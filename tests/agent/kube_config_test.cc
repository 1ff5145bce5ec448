// Reading the Kubernetes API server's address and credentials
// (agent/apply/kube/kube_config.h): kubeconfig files as kubectl reads them
// (https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/)
// and the in-cluster service account mount
// (https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/).
#include "agent/apply/kube/kube_config.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/hash.h"
#include "tests/support/test_util.h"

namespace flotilla::agent::kube {
namespace {

using testing::TempDir;

void Write(const std::string& path, const std::string& text) {
  REQUIRE(common::WriteFileAtomic(path, text).ok());
}

TEST_CASE("a kubeconfig's current context gives server, CA, token and namespace", "[kube-config]") {
  TempDir dir;
  Write(dir.Sub("ca.crt"), "CA PEM");
  Write(dir.Sub("kubeconfig"), absl::StrCat(R"(apiVersion: v1
kind: Config
current-context: prod
contexts:
- name: dev
  context: {cluster: dev, user: dev}
- name: prod
  context: {cluster: prod, user: deployer, namespace: apps}
clusters:
- name: dev
  cluster: {server: "https://dev.example:6443", insecure-skip-tls-verify: true}
- name: prod
  cluster:
    server: https://prod.example:6443/
    certificate-authority: ca.crt
users:
- name: dev
  user:
    client-certificate-data: )",
                                            common::Base64Encode("CERT"), R"(
    client-key-data: )",
                                            common::Base64Encode("KEY"), R"(
- name: deployer
  user: {token: abc123}
)"));
  auto prod = LoadKubeconfig(dir.Sub("kubeconfig"));
  REQUIRE(prod.ok());
  CHECK(prod->server == "https://prod.example:6443");
  CHECK(prod->ca_pem == "CA PEM");  // relative to the kubeconfig's directory
  CHECK(prod->token == "abc123");
  CHECK(prod->default_namespace == "apps");
  CHECK_FALSE(prod->insecure_skip_tls_verify);

  auto dev = LoadKubeconfig(dir.Sub("kubeconfig"), "dev");
  REQUIRE(dev.ok());
  CHECK(dev->server == "https://dev.example:6443");
  CHECK(dev->insecure_skip_tls_verify);
  CHECK(dev->client_cert_pem == "CERT");
  CHECK(dev->client_key_pem == "KEY");
  CHECK(dev->default_namespace == "default");
}

TEST_CASE("a kubeconfig user may read its token from a file and use an exec plugin",
          "[kube-config]") {
  TempDir dir;
  Write(dir.Sub("token"), "from-file\n");
  Write(dir.Sub("kubeconfig"), R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
users:
- name: u
  user:
    tokenFile: token
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: get-token
      args: [--cluster, k]
      env: [{name: REGION, value: eu}]
)");
  auto config = LoadKubeconfig(dir.Sub("kubeconfig"));
  REQUIRE(config.ok());
  CHECK(config->token_file == dir.Sub("token"));
  CHECK(config->token == "from-file\n");
  REQUIRE(config->exec.has_value());
  CHECK(config->exec->command == "get-token");
  CHECK(config->exec->args == std::vector<std::string>{"--cluster", "k"});
  CHECK(config->exec->env.size() == 1);
}

// client-go runs a plugin command with a slash relative to the kubeconfig's
// directory; the user's as/as-uid/as-groups become the impersonation.
TEST_CASE("a kubeconfig's exec plugin options and impersonation are read", "[kube-config]") {
  TempDir dir;
  Write(dir.Sub("kubeconfig"), R"(current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
users:
- name: u
  user:
    as: jane
    as-uid: "1234"
    as-groups: [developers, system:authenticated]
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: ./bin/get-token
      interactiveMode: Never
      provideClusterInfo: true
      installHint: see https://example.com/get-token
)");
  auto config = LoadKubeconfig(dir.Sub("kubeconfig"));
  REQUIRE(config.ok());
  REQUIRE(config->exec.has_value());
  CHECK(config->exec->command == dir.Sub("./bin/get-token"));
  CHECK(config->exec->api_version == "client.authentication.k8s.io/v1beta1");
  CHECK(config->exec->interactive_mode == "Never");
  CHECK(config->exec->provide_cluster_info);
  CHECK(config->exec->install_hint == "see https://example.com/get-token");
  REQUIRE(config->impersonate.has_value());
  CHECK(*config->impersonate ==
        Impersonation{"jane", "1234", {"developers", "system:authenticated"}});
}

TEST_CASE("a malformed kubeconfig names the file and the field", "[kube-config]") {
  TempDir dir;
  const std::string path = dir.Sub("kubeconfig");
  auto error_for = [&](const std::string& text, const std::string& context = "") {
    Write(path, text);
    auto config = LoadKubeconfig(path, context);
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
    return std::string(config.status().message());
  };
  const std::string base = R"(contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://k:6443"}}]
users: [{name: u, user: {token: t}}]
)";
  CHECK(error_for(base) == path + ": current-context: is not set (choose a context explicitly)");
  CHECK(error_for(base, "other") == path + ": contexts: no context named \"other\"");
  CHECK(error_for("current-context: c\ncontexts: [{name: c, context: {cluster: x}}]\n") ==
        path + ": contexts[c].cluster: no cluster named \"x\"");
  CHECK(error_for("current-context: c\ncontexts: [{name: c, context: {cluster: k}}]\n"
                  "clusters: [{name: k, cluster: {server: \"k:6443\"}}]\n") ==
        path + ": clusters[k].server: \"k:6443\" is not an http(s) URL");
  CHECK(error_for("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                  "clusters: [{name: k, cluster: {server: \"https://k\"}}]\n"
                  "users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]\n") ==
        path + ": users[u]: client-certificate and client-key must be given together");
  CHECK(error_for("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                  "clusters: [{name: k, cluster: {server: \"https://k\", "
                  "certificate-authority: missing.crt}}]\n") ==
        path + ": clusters[k].certificate-authority: cannot open " + dir.Sub("missing.crt") +
            ": No such file or directory");
  CHECK(error_for("current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                  "clusters: [{name: k, cluster: {server: \"https://k\"}}]\n"
                  "users: [{name: u, user: {username: a, password: b}}]\n") ==
        path +
            ": users[u].username: is not supported (use a token, a client certificate or an "
            "exec plugin)");
  const std::string user_prefix =
      "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
      "clusters: [{name: k, cluster: {server: \"https://k\"}}]\n";
  CHECK(error_for(user_prefix + "users: [{name: u, user: {exec: {command: x}}}]\n") ==
        path +
            ": users[u].exec.apiVersion: \"\" is not client.authentication.k8s.io/v1 or "
            "v1beta1");
  CHECK(error_for(user_prefix +
                  "users: [{name: u, user: {exec: {command: x, interactiveMode: Sometimes, "
                  "apiVersion: client.authentication.k8s.io/v1}}}]\n") ==
        path +
            ": users[u].exec.interactiveMode: \"Sometimes\" is not Never, IfAvailable or "
            "Always");
  CHECK(error_for(user_prefix + "users: [{name: u, user: {token: t, as-groups: [g]}}]\n") ==
        path + ": users[u]: as-groups and as-uid need `as` (the user to impersonate)");
  CHECK(error_for(user_prefix +
                  "users: [{name: u, user: {token: t, as: jane, as-user-extra: {k: [v]}}}]\n") ==
        path + ": users[u].as-user-extra: is not supported (only as, as-uid and as-groups are)");
  CHECK(absl::StrContains(error_for("current-context: [unclosed"), path));
}

TEST_CASE("the in-cluster configuration reads the service account mount", "[kube-config]") {
  TempDir dir;
  Write(dir.Sub("token"), "sa-token");
  Write(dir.Sub("ca.crt"), "CLUSTER CA");
  Write(dir.Sub("namespace"), "flotilla-system\n");
  setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = InClusterConfig(dir.path());
  REQUIRE(config.ok());
  CHECK(config->server == "https://10.0.0.1:443");
  CHECK(config->token_file == dir.Sub("token"));
  CHECK(config->ca_pem == "CLUSTER CA");
  CHECK(config->default_namespace == "flotilla-system");

  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  CHECK(InClusterConfig(dir.path())->server == "https://[fd00::1]:443");

  auto no_token = InClusterConfig(dir.Sub("missing"));
  CHECK(no_token.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(absl::StartsWith(no_token.status().message(), "in-cluster service account token: "));

  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  auto outside = InClusterConfig(dir.path());
  CHECK(outside.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(outside.status().message() ==
        "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "are not set (outside a cluster, use --target kube:KUBECONFIG)");
}

}  // namespace
}  // namespace flotilla::agent::kube
