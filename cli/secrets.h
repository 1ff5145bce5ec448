// Kubernetes v1 Secret documents as `flotilla secret create` builds them,
// checked locally so that a bad key never reaches the manager.
#pragma once

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace flotilla::cli {

// The Kubernetes types `secret create` makes, and the keys they hold.
inline constexpr char kBasicAuthType[] = "kubernetes.io/basic-auth";  // username, password
inline constexpr char kSshAuthType[] = "kubernetes.io/ssh-auth";      // ssh-privatekey, known_hosts
inline constexpr char kOpaqueType[] = "Opaque";                       // any keys

// A Secret data key as Kubernetes accepts it (IsConfigMapKey): 1 to 253
// characters from [-._a-zA-Z0-9], neither "." nor "..", not starting "..".
// InvalidArgument naming the key (never a value) otherwise.
absl::Status ValidateSecretKey(absl::string_view key);

// {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": NAME},
//  "type": TYPE, "data": {KEY: base64(VALUE), ...}} as indented JSON, which
// the manager reads as YAML. Values are base64 so any bytes survive.
std::string SecretDocument(absl::string_view name, absl::string_view type,
                           const std::map<std::string, std::string>& data);

}  // namespace flotilla::cli
