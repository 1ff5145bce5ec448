#include "common/fleet/values_template.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/sprig.h"
#include "common/template/template.h"

namespace flotilla::common {
namespace {

constexpr absl::string_view kClusterLabelPrefix = "global.fleet.clusterLabels.";
constexpr int kMaxLabelValueDepth = 50;

// wrangler's yaml.CleanAnnotationsForExport: keys under these prefixes are
// Kubernetes' and Fleet's bookkeeping, not the user's.
bool Bookkeeping(absl::string_view key) {
  for (absl::string_view prefix : {"kubectl.kubernetes.io/", "objectset.rio.cattle.io/",
                                   "fleet.cattle.io/", "management.cattle.io/"}) {
    if (absl::StartsWith(key, prefix)) return true;
  }
  return false;
}

absl::Status ReplaceLabelValues(Json& map, const Labels& labels, int depth) {
  if (depth > kMaxLabelValueDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat("helm.values: maximum recursion depth of ", kMaxLabelValueDepth,
                     " exceeded for cluster label prefix processing, too many nested values"));
  }
  for (auto& [key, value] : map.items()) {
    if (value.is_string() &&
        absl::StartsWith(value.get_ref<const std::string&>(), kClusterLabelPrefix)) {
      std::string label = value.get<std::string>().substr(kClusterLabelPrefix.size());
      auto it = labels.find(label);
      value = it == labels.end() ? std::string() : it->second;
    } else if (value.is_object()) {
      RETURN_IF_ERROR(ReplaceLabelValues(value, labels, depth + 1));
    } else if (value.is_array()) {
      for (Json& item : value) {
        if (item.is_object()) RETURN_IF_ERROR(ReplaceLabelValues(item, labels, depth + 1));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RenderTemplate(const std::string& text, const Json& context,
                                           const std::string& what) {
  tmpl::Options options;
  options.left_delim = "${";
  options.right_delim = "}";
  options.missing_key = tmpl::MissingKey::kError;
  // Go decodes the YAML into interface{}: numbers are float64 there.
  options.json_numbers_as_float64 = true;
  tmpl::TemplateSet set(options, tmpl::FleetTemplateFunctions());
  if (auto st = set.Parse("values", text); !st.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to parse helm values template", what, ": ", st.message()));
  }
  auto out = set.Execute("values", context);
  if (!out.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("failed to render helm values template", what, ": ", out.status().message()));
  }
  return *out;
}

}  // namespace

absl::Status PreprocessHelmValues(Json& options, const ClusterView& cluster) {
  if (!options.is_object() || !options.contains("helm") || !options["helm"].is_object()) {
    return absl::OkStatus();
  }
  Json helm = options["helm"];
  Json values =
      helm.contains("values") && helm["values"].is_object() ? helm["values"] : Json::object();
  const bool has_template_values =
      helm.contains("templateValues") && helm["templateValues"].is_object();
  if (!has_template_values && values.empty()) return absl::OkStatus();

  Labels labels;
  for (const auto& [k, v] : cluster.labels) {
    // Fleet keeps its own and Rancher's labels for ClusterLabels.
    if (!Bookkeeping(k) || absl::StartsWith(k, "fleet.cattle.io/") ||
        absl::StartsWith(k, "management.cattle.io/")) {
      labels[k] = v;
    }
  }
  Labels annotations;
  for (const auto& [k, v] : cluster.annotations) {
    if (!Bookkeeping(k)) annotations[k] = v;
  }
  RETURN_IF_ERROR(ReplaceLabelValues(values, labels, 0));

  if (!helm.value("disablePreProcess", false)) {
    Json context = {{"ClusterNamespace", cluster.namespace_},
                    {"ClusterName", cluster.name},
                    {"ClusterLabels", labels},
                    {"ClusterAnnotations", annotations},
                    {"ClusterValues", cluster.template_values.is_object() ? cluster.template_values
                                                                          : Json::object()}};
    ASSIGN_OR_RETURN(std::string rendered, RenderTemplate(ToYaml(values), context, ""));
    auto parsed = ParseYaml(rendered, "rendered helm values");
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "failed to interpret rendered template as helm values: ", parsed.status().message()));
    }
    values = parsed->is_object() ? *parsed : Json::object();
    if (has_template_values) {
      for (const auto& [key, text] : helm["templateValues"].items()) {
        if (!text.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat("helm.templateValues.", key, ": must be a string"));
        }
        ASSIGN_OR_RETURN(std::string out,
                         RenderTemplate(text.get<std::string>(), context, absl::StrCat(" ", key)));
        auto value = ParseYaml(out, absl::StrCat("helm.templateValues.", key));
        if (!value.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("failed to interpret rendered template as helm values: ", out, ": ",
                           value.status().message()));
        }
        values[key] = *value;
      }
    }
  }
  options["helm"]["values"] = values;
  return absl::OkStatus();
}

}  // namespace flotilla::common
