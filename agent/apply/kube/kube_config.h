// Where the agent's Kubernetes API server is and how to authenticate to it:
// the in-cluster service account (the agent as a Deployment) or a kubeconfig
// file (the agent outside the cluster, tests, development).
//
// Reference: https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/
// and https://kubernetes.io/docs/concepts/configuration/organize-cluster-access-kubeconfig/
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace flotilla::agent::kube {

// An exec credential plugin (users[].user.exec), run to obtain a token or a
// client certificate (client.authentication.k8s.io ExecCredential; see
// agent/apply/kube/exec_credential.h).
struct ExecPlugin {
  // An absolute path, a name looked up on PATH, or (from a kubeconfig) a
  // relative path with a slash, made absolute against the kubeconfig's
  // directory as client-go does.
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  // Never, IfAvailable or Always; empty = IfAvailable (v1beta1's default; v1
  // requires the field, but the agent never has a terminal either way).
  std::string interactive_mode;
  // Whether KUBERNETES_EXEC_INFO carries spec.cluster (server, CA, insecure).
  bool provide_cluster_info = false;
  // Shown when the command cannot be found.
  std::string install_hint;
};

// Whom requests act as: Impersonate-User / -Uid / -Group headers
// (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation).
// The authenticated user needs the `impersonate` verb on users (or
// serviceaccounts), uids and groups.
struct Impersonation {
  std::string user;
  std::string uid;  // optional
  std::vector<std::string> groups;
  bool operator==(const Impersonation&) const = default;
};

struct KubeConfig {
  // https://host:port, without a trailing slash.
  std::string server;
  // PEM CA certificates for the server; empty = the system's trust store.
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  // Bearer token, or a file re-read when it changes (a projected service
  // account token is rotated by the kubelet).
  std::string token;
  std::string token_file;
  // Client certificate authentication (PEM).
  std::string client_cert_pem;
  std::string client_key_pem;
  // Exec credential plugin; used when no token or certificate is given.
  std::optional<ExecPlugin> exec;
  // The kubeconfig user's `as`, `as-uid` and `as-groups`.
  std::optional<Impersonation> impersonate;
  // The namespace of the service account (in-cluster) or of the context.
  std::string default_namespace;
  // Where the configuration came from, for messages.
  std::string source;
};

// The in-cluster configuration: KUBERNETES_SERVICE_HOST / _PORT from the
// environment and `root`/token, ca.crt, namespace (root defaults to the
// service account mount). FailedPrecondition naming what is missing when the
// agent is not running in a pod.
absl::StatusOr<KubeConfig> InClusterConfig(
    const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

// A kubeconfig file: the context `context` (empty = current-context), its
// cluster (server, certificate-authority-data or certificate-authority,
// insecure-skip-tls-verify) and user (token, tokenFile, client-certificate
// and client-key, inline or as files, exec, and impersonation with as,
// as-uid and as-groups; as-user-extra is refused). Relative file paths are
// relative to the kubeconfig's directory. InvalidArgument naming the file and
// the field for anything malformed or missing.
absl::StatusOr<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context = "");

// The identity of the service account `ns`/`name`: user
// system:serviceaccount:<ns>:<name> and no groups. For a service account
// user sent without groups the API server adds the account's fixed groups
// (system:serviceaccounts, system:serviceaccounts:<ns>) itself, so the agent
// needs `impersonate` on `serviceaccounts` only, not on `groups`
// (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#user-impersonation).
Impersonation ServiceAccountUser(const std::string& ns, const std::string& name);

}  // namespace flotilla::agent::kube
