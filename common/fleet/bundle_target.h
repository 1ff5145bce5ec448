// Targets: which clusters a GitRepo or a bundle customization applies to.
// Reproduces Fleet's target/matcher/clustermatcher.go and target/builder.go.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/selector.h"
#include "common/yaml.h"

namespace flotilla::common {

// A ClusterGroup as the matcher needs it.
struct ClusterGroupView {
  std::string name;
  std::optional<LabelSelector> selector;  // nullopt: no members (Fleet)
  Labels labels;
};

// A cluster as the matcher sees it.
struct ClusterView {
  std::string name;
  Labels labels;
  // The ClusterGroups whose selector matches this cluster's labels.
  std::vector<const ClusterGroupView*> groups;
  // For templated Helm values (values_template.h).
  std::string namespace_ = "fleet-default";
  Labels annotations;
  Json template_values = Json::object();
};

// One entry of GitRepo.spec.targets, fleet.yaml targetCustomizations or
// overrideTargets. A null selector (absent or `null` or "") is no criterion;
// `{}` matches every cluster.
struct BundleTarget {
  std::string name;
  std::string cluster_name;
  std::optional<LabelSelector> cluster_selector;
  std::string cluster_group;
  std::optional<LabelSelector> cluster_group_selector;
  bool do_not_deploy = false;
  // Deployment options this entry overrides (customizations only), as Fleet
  // field names: {"namespace": ..., "helm": {...}, ...}.
  Json options = Json::object();

  bool HasCriteria() const;
  // All criteria that are set must match; an entry with none matches nothing.
  // clusterName also matches the label management.cattle.io/cluster-display-name.
  bool Matches(const ClusterView& cluster) const;
  Json ToJson() const;
};

// Parses one target entry at JSON pointer `pointer` of `doc`; errors name
// file:line:column. `allow_options` accepts deployment options in the entry.
absl::StatusOr<BundleTarget> ParseBundleTarget(const YamlDocument& doc, const std::string& pointer,
                                               bool allow_options);
// The reverse of BundleTarget::ToJson, for values read back from the store.
absl::StatusOr<BundleTarget> BundleTargetFromJson(const Json& value);

// The deployment option keys Fleet accepts at the top of fleet.yaml and in
// each customization (BundleDeploymentOptions).
bool IsDeploymentOptionKey(absl::string_view key);

}  // namespace flotilla::common
