#include "common/render/manifest.h"

#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fleet/naming.h"
#include "common/fleet/options.h"
#include "common/hash.h"
#include "common/helm/archive.h"
#include "common/helm/chart.h"
#include "common/helm/render.h"
#include "common/render/kustomize.h"
#include "common/render/overlays.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

absl::string_view BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? absl::string_view(path)
                                    : absl::string_view(path).substr(slash + 1);
}

absl::Status PlaceInNamespace(Json& obj, const Json& options, const std::string& file) {
  std::string kind = obj.value("kind", "");
  std::string api = obj.value("apiVersion", "");
  Json& meta = obj["metadata"];
  std::string name = meta.is_object() ? meta.value("name", "") : "";
  bool cluster_scoped = IsClusterScoped(api, kind);
  std::string forced = options.is_object() ? options.value("namespace", "") : "";
  if (!forced.empty()) {
    if (cluster_scoped) {
      return absl::InvalidArgumentError(absl::StrCat(
          file, ": ", kind, " ", name, " is cluster-scoped, but the bundle sets namespace \"",
          forced, "\" which forces every object into one namespace"));
    }
    meta["namespace"] = forced;
    return absl::OkStatus();
  }
  if (cluster_scoped) {
    meta.erase("namespace");
    return absl::OkStatus();
  }
  if (!meta.contains("namespace") || !meta["namespace"].is_string() ||
      meta["namespace"].get_ref<const std::string&>().empty()) {
    meta["namespace"] = EffectiveDefaultNamespace(options);
  }
  return absl::OkStatus();
}

}  // namespace

bool IsManifestFile(const std::string& path) {
  absl::string_view base = BaseName(path);
  if (base == "fleet.yaml" || base == "fleet.yml") return false;
  if (absl::StartsWith(path, "overlays/")) return false;
  return absl::EndsWith(base, ".yaml") || absl::EndsWith(base, ".yml") ||
         absl::EndsWith(base, ".json");
}

bool IsClusterScoped(const std::string& api_version, const std::string& kind) {
  static const std::set<std::string> kClusterKinds = {"Namespace",
                                                      "Node",
                                                      "PersistentVolume",
                                                      "ClusterRole",
                                                      "ClusterRoleBinding",
                                                      "CustomResourceDefinition",
                                                      "StorageClass",
                                                      "PriorityClass",
                                                      "IngressClass",
                                                      "RuntimeClass",
                                                      "CSIDriver",
                                                      "CSINode",
                                                      "VolumeAttachment",
                                                      "APIService",
                                                      "ValidatingWebhookConfiguration",
                                                      "MutatingWebhookConfiguration",
                                                      "ValidatingAdmissionPolicy",
                                                      "ValidatingAdmissionPolicyBinding",
                                                      "PodSecurityPolicy",
                                                      "CertificateSigningRequest",
                                                      "FlowSchema",
                                                      "PriorityLevelConfiguration",
                                                      "ComponentStatus",
                                                      "ClusterIssuer",
                                                      "ClusterGroup",
                                                      "ClusterRegistrationToken",
                                                      "GitRepoRestriction",
                                                      "BundleNamespaceMapping"};
  (void)api_version;
  return kClusterKinds.count(kind) > 0;
}

namespace {

// Adds the objects of one parsed stream (`where` names its source) after the
// checks every object must pass and Fleet's namespace rules.
absl::Status AppendObjects(std::vector<Json>& docs, const std::string& where_prefix,
                           const Json& options, RenderedManifest& out) {
  for (size_t i = 0; i < docs.size(); ++i) {
    Json& doc = docs[i];
    if (!doc.is_object() || !doc.contains("kind")) continue;  // Fleet skips these
    std::vector<Json> objects;
    if (doc["kind"] == "List" && doc.contains("items") && doc["items"].is_array()) {
      for (auto& item : doc["items"]) objects.push_back(std::move(item));
    } else {
      objects.push_back(std::move(doc));
    }
    for (Json& obj : objects) {
      std::string where = absl::StrCat(where_prefix, " (document ", i + 1, ")");
      if (!obj.is_object() || !obj["kind"].is_string() || obj["kind"].get<std::string>().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": kind must be a string"));
      }
      if (!obj.contains("apiVersion") || !obj["apiVersion"].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", obj["kind"].get<std::string>(), " has no apiVersion"));
      }
      if (!obj.contains("metadata") || !obj["metadata"].is_object() ||
          !obj["metadata"].contains("name") || !obj["metadata"]["name"].is_string() ||
          obj["metadata"]["name"].get<std::string>().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", obj["kind"].get<std::string>(), " has no metadata.name"));
      }
      RETURN_IF_ERROR(PlaceInNamespace(obj, options, where_prefix));
      out.objects.push_back(std::move(obj));
    }
  }
  return absl::OkStatus();
}

// fleet.yaml kustomize.dir ("" = the bundle root).
std::string KustomizeDir(const Json& options) {
  if (!options.is_object() || !options.contains("kustomize")) return "";
  const Json& k = options["kustomize"];
  return k.is_object() && k.contains("dir") && k["dir"].is_string() ? k["dir"].get<std::string>()
                                                                    : "";
}

// The options' helm section ({} when absent).
const Json& HelmOptions(const Json& options) {
  static const Json* kEmpty = new Json(Json::object());
  if (!options.is_object() || !options.contains("helm") || !options["helm"].is_object()) {
    return *kEmpty;
  }
  return options["helm"];
}

std::string HelmString(const Json& options, const char* key) {
  const Json& helm = HelmOptions(options);
  return helm.contains(key) && helm[key].is_string() ? helm[key].get<std::string>() : "";
}

// Fleet (bundlereader/style.go): the bundle is a Helm chart when Chart.yaml
// sits at helm.chart (a directory in the bundle), when helm.chart names a
// packed chart (.tgz) in the bundle, or, without helm.chart, when Chart.yaml
// is at the root. Returns the chart directory or archive ("" = root), or
// nullopt.
std::optional<std::string> ChartDir(const RenderInput& input) {
  std::string chart = HelmString(input.options, "chart");
  while (absl::StartsWith(chart, "./")) chart.erase(0, 2);
  while (!chart.empty() && chart.back() == '/') chart.pop_back();
  if (chart == ".") chart.clear();
  if (helm::IsChartArchiveName(chart) && input.files.count(chart) > 0) return chart;
  const std::string chart_yaml = chart.empty() ? "Chart.yaml" : chart + "/Chart.yaml";
  if (input.files.count(chart_yaml) > 0) return chart;
  return std::nullopt;
}

// Renders the chart at `dir` as the Fleet agent's Helm install would
// (internal/helmdeployer): release name helm.releaseName, else the bundle
// name through HelmReleaseName; release namespace by Fleet's namespace rules.
absl::Status RenderHelmBundle(const RenderInput& input, const std::string& dir,
                              RenderedManifest& out) {
  ASSIGN_OR_RETURN(helm::Chart chart, helm::LoadChart(input.files, dir));
  helm::RenderOptions options;
  options.release_name = HelmString(input.options, "releaseName");
  if (options.release_name.empty()) options.release_name = HelmReleaseName(input.bundle_name);
  options.release_namespace = EffectiveDefaultNamespace(input.options);
  const Json& helm = HelmOptions(input.options);
  if (helm.contains("values") && helm["values"].is_object()) options.values = helm["values"];
  ASSIGN_OR_RETURN(std::vector<Json> objects, helm::RenderObjects(chart, options));
  std::string where = absl::StrCat("helm chart ", dir.empty() ? std::string(".") : dir);
  return AppendObjects(objects, where, input.options, out);
}

}  // namespace

absl::StatusOr<RenderedManifest> RenderBundle(const RenderInput& input) {
  RenderedManifest out;
  const std::string kustomize_dir = KustomizeDir(input.options);
  std::optional<std::string> chart_dir = ChartDir(input);
  if (chart_dir.has_value()) {
    if (HasKustomization(input.files, kustomize_dir)) {
      // Fleet hands the chart's output to kustomize as fleet-manifests.yaml
      // (helmdeployer/kustomize); not done yet (docs/helm-compat.md).
      return absl::UnimplementedError(
          "a Helm chart together with a kustomization (Helm output post-rendered by kustomize) "
          "is not supported yet");
    }
    RETURN_IF_ERROR(RenderHelmBundle(input, *chart_dir, out));
  } else if (!HelmString(input.options, "repo").empty() ||
             (!HelmString(input.options, "chart").empty() &&
              absl::StrContains(HelmString(input.options, "chart"), "://"))) {
    return absl::UnimplementedError(
        absl::StrCat("helm chart \"", HelmString(input.options, "chart"),
                     "\" from a URL or repository (repo \"", HelmString(input.options, "repo"),
                     "\") is not supported yet; only chart directories "
                     "inside the bundle"));
  } else if (HasKustomization(input.files, kustomize_dir)) {
    // Fleet (bundlereader/style.go): a kustomization at kustomize.dir makes
    // this a kustomize bundle; overlays and plain manifests do not apply.
    ASSIGN_OR_RETURN(std::string built, RunKustomize(input.files, kustomize_dir, input.kustomize));
    std::string where =
        absl::StrCat("kustomize build ", kustomize_dir.empty() ? std::string(".") : kustomize_dir);
    ASSIGN_OR_RETURN(std::vector<Json> docs, ParseYamlDocuments(built, where));
    RETURN_IF_ERROR(AppendObjects(docs, where, input.options, out));
  } else {
    // Fleet applies overlays to the files before anything is parsed
    // (internal/helmdeployer/render/helm.go HelmChart -> patch.Process).
    ASSIGN_OR_RETURN(std::vector<std::string> overlays, OverlayNames(input.options));
    ASSIGN_OR_RETURN(BundleFiles files, ApplyOverlays(input.files, overlays));
    for (const auto& [path, content] : files) {
      if (!IsManifestFile(path)) continue;
      ASSIGN_OR_RETURN(std::vector<Json> docs, ParseYamlDocuments(content, path));
      RETURN_IF_ERROR(AppendObjects(docs, path, input.options, out));
    }
  }
  out.yaml = ToYamlDocuments(out.objects);
  out.hash = Sha256Hex(out.yaml);
  return out;
}

}  // namespace flotilla::common
