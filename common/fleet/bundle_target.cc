#include "common/fleet/bundle_target.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

constexpr std::array<absl::string_view, 17> kOptionKeys = {"defaultNamespace",
                                                           "namespace",
                                                           "serviceAccount",
                                                           "keepResources",
                                                           "deleteNamespace",
                                                           "deleteCRDResources",
                                                           "forceSyncGeneration",
                                                           "namespaceLabels",
                                                           "namespaceAnnotations",
                                                           "ignore",
                                                           "diff",
                                                           "correctDrift",
                                                           "kustomize",
                                                           "yaml",
                                                           "helm",
                                                           "downstreamResources",
                                                           "overwrites"};

constexpr absl::string_view kDisplayNameLabel = "management.cattle.io/cluster-display-name";

absl::Status FieldError(const YamlDocument& doc, const std::string& pointer,
                        absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(doc.Where(pointer), ": ", field, ": ", problem));
}

// A "null" selector: absent, null, or "" (Fleet drops these from the criteria).
bool IsNullSelector(const Json& v) {
  return v.is_null() || (v.is_string() && v.get<std::string>().empty());
}

absl::StatusOr<std::optional<LabelSelector>> SelectorAt(const YamlDocument& doc,
                                                        const std::string& pointer, const Json& v,
                                                        absl::string_view field) {
  if (IsNullSelector(v)) return std::optional<LabelSelector>();
  auto sel = ParseLabelSelector(v, field);
  if (!sel.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(doc.Where(pointer), ": ", sel.status().message()));
  return std::optional<LabelSelector>(std::move(*sel));
}

}  // namespace

bool IsDeploymentOptionKey(absl::string_view key) {
  for (auto k : kOptionKeys) {
    if (k == key) return true;
  }
  return false;
}

// Validates the types of the deployment options Flotilla reads itself.
absl::Status ValidateOptions(const YamlDocument& doc, const std::string& pointer,
                             const Json& options, absl::string_view where) {
  for (const auto& [k, v] : options.items()) {
    std::string at = absl::StrCat(pointer, "/", k);
    std::string field = where.empty() ? k : absl::StrCat(where, ".", k);
    if (v.is_null()) continue;
    if (k == "defaultNamespace" || k == "namespace" || k == "serviceAccount") {
      if (!v.is_string()) return FieldError(doc, at, field, "must be a string");
    } else if (k == "keepResources" || k == "deleteNamespace" || k == "deleteCRDResources") {
      if (!v.is_boolean()) return FieldError(doc, at, field, "must be true or false");
    } else if (k == "namespaceLabels" || k == "namespaceAnnotations") {
      if (!v.is_object()) return FieldError(doc, at, field, "must be a mapping of strings");
      for (const auto& [lk, lv] : v.items()) {
        if (!lv.is_string()) {
          return FieldError(doc, absl::StrCat(at, "/", lk), absl::StrCat(field, ".", lk),
                            "must be a string");
        }
      }
    } else if (k == "forceSyncGeneration") {
      if (!v.is_number_integer()) return FieldError(doc, at, field, "must be an integer");
    } else if (k == "helm" || k == "kustomize" || k == "yaml" || k == "diff" ||
               k == "correctDrift" || k == "ignore") {
      if (!v.is_object()) return FieldError(doc, at, field, "must be a mapping");
    } else if (k == "downstreamResources") {
      if (!v.is_array()) return FieldError(doc, at, field, "must be a list");
    }
  }
  if (options.contains("namespace") && options["namespace"].is_string()) {
    const std::string& ns = options["namespace"].get_ref<const std::string&>();
    if (!ns.empty()) {
      auto st = ValidateLabelValue("namespace", ns);
      if (!st.ok() || ns.find('.') != std::string::npos || ns.find('_') != std::string::npos) {
        return FieldError(doc, absl::StrCat(pointer, "/namespace"),
                          where.empty() ? "namespace" : absl::StrCat(where, ".namespace"),
                          absl::StrCat("\"", ns, "\" is not a valid namespace name"));
      }
    }
  }
  return absl::OkStatus();
}

bool BundleTarget::HasCriteria() const {
  return !cluster_name.empty() || cluster_selector.has_value() || !cluster_group.empty() ||
         cluster_group_selector.has_value();
}

bool BundleTarget::Matches(const ClusterView& cluster) const {
  if (!HasCriteria()) return false;
  if (!cluster_name.empty()) {
    auto it = cluster.labels.find(std::string(kDisplayNameLabel));
    bool by_label = it != cluster.labels.end() && it->second == cluster_name;
    if (cluster.name != cluster_name && !by_label) return false;
  }
  if (cluster_selector && !cluster_selector->Matches(cluster.labels)) return false;
  if (!cluster_group.empty()) {
    bool found = false;
    for (const auto* g : cluster.groups) found = found || g->name == cluster_group;
    if (!found) return false;
  }
  if (cluster_group_selector) {
    bool found = false;
    for (const auto* g : cluster.groups) {
      found = found || cluster_group_selector->Matches(g->labels);
    }
    if (!found) return false;
  }
  return true;
}

Json BundleTarget::ToJson() const {
  Json out = Json::object();
  if (!name.empty()) out["name"] = name;
  if (!cluster_name.empty()) out["clusterName"] = cluster_name;
  if (cluster_selector) out["clusterSelector"] = cluster_selector->ToJson();
  if (!cluster_group.empty()) out["clusterGroup"] = cluster_group;
  if (cluster_group_selector) out["clusterGroupSelector"] = cluster_group_selector->ToJson();
  if (do_not_deploy) out["doNotDeploy"] = true;
  for (const auto& [k, v] : options.items()) out[k] = v;
  return out;
}

absl::StatusOr<BundleTarget> ParseBundleTarget(const YamlDocument& doc, const std::string& pointer,
                                               bool allow_options) {
  const Json& v = doc.value.at(Json::json_pointer(pointer));
  if (!v.is_object()) return FieldError(doc, pointer, "target", "must be a mapping");
  BundleTarget t;
  for (const auto& [k, fv] : v.items()) {
    std::string at = absl::StrCat(pointer, "/", k);
    auto string_field = [&](std::string* out) -> absl::Status {
      if (fv.is_null()) return absl::OkStatus();
      if (!fv.is_string()) return FieldError(doc, at, k, "must be a string");
      *out = fv.get<std::string>();
      return absl::OkStatus();
    };
    if (k == "name") {
      RETURN_IF_ERROR(string_field(&t.name));
    } else if (k == "clusterName") {
      RETURN_IF_ERROR(string_field(&t.cluster_name));
    } else if (k == "clusterGroup") {
      RETURN_IF_ERROR(string_field(&t.cluster_group));
    } else if (k == "clusterSelector") {
      ASSIGN_OR_RETURN(t.cluster_selector, SelectorAt(doc, at, fv, "clusterSelector"));
    } else if (k == "clusterGroupSelector") {
      ASSIGN_OR_RETURN(t.cluster_group_selector, SelectorAt(doc, at, fv, "clusterGroupSelector"));
    } else if (k == "doNotDeploy") {
      if (!fv.is_null() && !fv.is_boolean()) {
        return FieldError(doc, at, k, "must be true or false");
      }
      t.do_not_deploy = fv.is_boolean() && fv.get<bool>();
    } else if (allow_options && IsDeploymentOptionKey(k)) {
      t.options[k] = fv;
    } else if (!allow_options) {
      return FieldError(doc, at, k,
                        "unknown field (a target has name, clusterName, clusterSelector, "
                        "clusterGroup, clusterGroupSelector)");
    }
    // Unknown keys in a customization are ignored, as Fleet ignores them.
  }
  if (allow_options) RETURN_IF_ERROR(ValidateOptions(doc, pointer, t.options, ""));
  return t;
}

absl::StatusOr<BundleTarget> BundleTargetFromJson(const Json& value) {
  YamlDocument doc;
  doc.filename = "stored target";
  doc.value = value;
  return ParseBundleTarget(doc, "", true);
}

}  // namespace flotilla::common
