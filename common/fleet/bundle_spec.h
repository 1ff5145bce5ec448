// fleet.yaml: a bundle's options, labels and per-target customizations.
// Field names and meanings are Fleet's (FLEET-SEMANTICS.md §1); keys Fleet
// does not know are ignored, as Fleet ignores them.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/fleet/bundle_target.h"
#include "common/yaml.h"

namespace flotilla::common {

struct BundleSpec {
  std::string name;  // overrides the derived bundle name when set
  Labels labels;
  // Root deployment options (Fleet field names).
  Json options = Json::object();
  std::vector<BundleTarget> target_customizations;
  // "FirstMatch" (default) or "AllMatches".
  std::string target_customization_mode = "FirstMatch";
  // Replaces the GitRepo targets for this bundle when non-empty.
  std::vector<BundleTarget> override_targets;
  bool paused = false;
  Json depends_on = Json::array();
  Json rollout_strategy = Json::object();

  Json ToJson() const;
  static absl::StatusOr<BundleSpec> FromJson(const Json& value);
};

// Parses fleet.yaml text. A missing/empty file gives the default spec.
// InvalidArgument errors read "<filename>:<line>:<column>: <field>: <problem>".
absl::StatusOr<BundleSpec> ParseBundleSpec(absl::string_view text, absl::string_view filename);

}  // namespace flotilla::common
