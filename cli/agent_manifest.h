// The Kubernetes objects that install a Flotilla agent on a downstream
// cluster, as `flotilla agent-manifest` prints them and as
// deploy/kubernetes/agent.yaml holds them (with placeholders). One function
// builds both, so the checked-in template and the CLI's output cannot drift
// apart (tests/cli/deploy_manifests_test.cc compares them).
//
// What gets installed, in apply order: Namespace, ServiceAccount (no
// automounted token), the ClusterRole `flotilla-agent-base` (explicit kinds and
// verbs, aggregated), the aggregating ClusterRole `flotilla-agent`, its
// ClusterRoleBinding, the Secret `flotilla-agent-bootstrap` (registration
// token, manager CA), the PersistentVolumeClaim for the agent's identity and
// state, and the Deployment. deploy/README.md explains each choice.
//
// Pure functions: no I/O, no clock. Errors are InvalidArgument naming the
// flag and what is wrong; a token is never echoed back.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/yaml.h"

namespace flotilla::cli {

inline constexpr char kAgentDefaultNamespace[] = "flotilla-agent";
// The UID and GID the images run as (deploy/docker/*.Dockerfile, USER).
inline constexpr int kImageUid = 10001;
// Where the agent pod keeps its key, certificate and applied state.
inline constexpr char kAgentStateDir[] = "/var/lib/flotilla-agent";
// Label that makes a ClusterRole's rules part of the agent's rights.
inline constexpr char kAgentAggregateLabel[] = "flotilla.dev/aggregate-to-agent";

// ghcr.io/flotilla/flotilla-agent:<CLI version>. No registry publishes it:
// operators build it from deploy/docker/agent.Dockerfile.
std::string DefaultAgentImage();

struct AgentManifestOptions {
  std::string token;    // flt1.<id>.<secret> from `flotilla token create`
  std::string manager;  // HOST:PORT the agent dials (a name in the manager's --server-names)
  std::string name;     // proposed cluster name; empty: the token's or the manager's choice
  std::map<std::string, std::string> labels;  // proposed cluster labels
  // Exactly one of these: the manager CA certificate (PEM, put in the
  // bootstrap Secret) or its pin "sha256:<64 lowercase hex>".
  std::string ca_pem;
  std::string ca_pin;
  std::string image;       // empty: DefaultAgentImage()
  std::string namespace_;  // empty: kAgentDefaultNamespace
};

// flt1.<id>.<secret>, as the manager mints them (the id and a secret of at
// least 32 characters, both base64url). The message says what is wrong
// without echoing the token.
absl::Status ValidateRegistrationToken(absl::string_view token);
// HOST:PORT or [IPv6]:PORT with a port from 1 to 65535, no scheme, no path.
absl::Status ValidateManagerAddress(absl::string_view address);
// sha256:<64 lowercase hex digits>, what `flotilla token create` prints.
absl::Status ValidateCaPin(absl::string_view pin);
// An image reference with a tag other than "latest", or a digest
// ("registry:5000/app" has no tag).
absl::Status ValidateImageReference(absl::string_view image);
// A DNS-1123 label, and neither "default" nor "kube-system".
absl::Status ValidateNamespaceName(absl::string_view name);

// Validates every option, then returns the objects in apply order.
absl::StatusOr<std::vector<common::Json>> AgentManifestObjects(const AgentManifestOptions& options);

// The same objects as one multi-document YAML stream, after a comment header
// that says what it is and that it holds a token (not for Git).
absl::StatusOr<std::string> AgentManifestYaml(const AgentManifestOptions& options);

// deploy/kubernetes/agent.yaml: the same objects with placeholders for the
// token, the manager address and the CA, and a header that says how to fill
// them in. `image` and `namespace_` as in AgentManifestOptions (empty: the
// defaults); the caller validates them.
std::string AgentManifestTemplateYaml(absl::string_view image = "",
                                      absl::string_view namespace_ = "");

}  // namespace flotilla::cli
