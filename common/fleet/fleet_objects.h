// The other objects `flotilla apply -f` accepts besides GitRepo, read from
// the YAML Fleet users already have:
//   - fleet.cattle.io/v1alpha1 ClusterGroup: a named selector over clusters;
//   - fleet.cattle.io/v1alpha1 Cluster: labels, annotations, paused and
//     templateValues of a registered cluster (Flotilla clusters are created by
//     agent registration, never by apply);
//   - v1 Secret (kubernetes.io/basic-auth, kubernetes.io/ssh-auth, Opaque):
//     credentials the manager uses for Git (clientSecretName), Helm and
//     webhooks.
// Unknown fields are errors, as for GitRepo. Errors read
// "<filename>:<line>:<column>: <field>: <problem>".
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/selector.h"
#include "common/yaml.h"

namespace flotilla::common {

// The kind of a single YAML document ("GitRepo", "Secret", ...), or an error
// naming the file if it is not one object with apiVersion and kind.
struct ObjectKind {
  std::string api_version;
  std::string kind;
};
absl::StatusOr<ObjectKind> DocumentKind(absl::string_view text, absl::string_view filename);

struct ClusterGroupSpec {
  std::string name;
  std::optional<LabelSelector> selector;  // nullopt: no members (Fleet)
  Labels labels;
};
absl::StatusOr<ClusterGroupSpec> ParseClusterGroup(absl::string_view text,
                                                   absl::string_view filename);

struct ClusterSpec {
  std::string name;  // the registered cluster's name
  Labels labels;
  Labels annotations;
  bool paused = false;
  Json template_values = Json::object();
};
absl::StatusOr<ClusterSpec> ParseCluster(absl::string_view text, absl::string_view filename);

struct SecretSpec {
  std::string name;
  // "basic-auth" (username, password), "ssh-auth" (ssh-privatekey, optional
  // known_hosts), "generic" (Opaque: any keys).
  std::string type;
  std::map<std::string, std::string> data;  // decoded values
};
// Reads `data` (base64) and `stringData` (plain; wins on the same key), and
// checks the keys each type requires.
absl::StatusOr<SecretSpec> ParseSecret(absl::string_view text, absl::string_view filename);

}  // namespace flotilla::common
