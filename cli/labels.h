// Kubernetes label syntax: what `flotilla label` and `token create --label`
// accept, checked before anything is sent to the manager.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace flotilla::cli {

// A label key is Kubernetes' qualified name: an optional prefix (a lowercase
// DNS subdomain of at most 253 characters) and "/", then a name of 1 to 63
// characters from [A-Za-z0-9-_.] that starts and ends alphanumeric.
// InvalidArgument naming the key otherwise.
absl::Status ValidateLabelKey(absl::string_view key);

// A label value is empty, or at most 63 characters from [A-Za-z0-9-_.] that
// start and end alphanumeric. InvalidArgument naming the value otherwise.
absl::Status ValidateLabelValue(absl::string_view key, absl::string_view value);

// What `flotilla label cluster NAME ...` asks for.
struct LabelChanges {
  std::map<std::string, std::string> set;
  std::vector<std::string> remove;  // in the order given
};

// Parses "key=value" (set) and "key-" (remove) arguments. InvalidArgument
// naming the argument when it has neither form, when a key or value is
// invalid, or when a key appears twice.
absl::StatusOr<LabelChanges> ParseLabelChanges(absl::Span<const std::string> args);

// Parses "key=value" arguments only (removal makes no sense there), as for
// `token create --label`.
absl::StatusOr<std::map<std::string, std::string>> ParseLabelAssignments(
    absl::Span<const std::string> args);

}  // namespace flotilla::cli
