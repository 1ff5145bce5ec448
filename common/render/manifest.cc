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
#include "common/helm/chart_source.h"
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
// The objects come in Helm's install order, namespaces not yet applied.
absl::StatusOr<std::vector<Json>> RenderChartObjects(const RenderInput& input,
                                                     const std::string& dir) {
  ASSIGN_OR_RETURN(helm::Chart chart, helm::LoadChart(input.files, dir));
  RETURN_IF_ERROR(helm::CheckDependencies(chart));
  helm::RenderOptions options;
  options.release_name = HelmString(input.options, "releaseName");
  if (options.release_name.empty()) options.release_name = HelmReleaseName(input.bundle_name);
  options.release_namespace = EffectiveDefaultNamespace(input.options);
  const Json& helm = HelmOptions(input.options);
  if (helm.contains("values") && helm["values"].is_object()) options.values = helm["values"];
  options.skip_schema_validation = helm.value("skipSchemaValidation", Json(false)) == Json(true);
  return helm::RenderObjects(chart, options);
}

std::string ChartWhere(const std::string& dir) {
  return absl::StrCat("helm chart ", dir.empty() ? std::string(".") : dir);
}

absl::Status RenderHelmBundle(const RenderInput& input, const std::string& dir,
                              RenderedManifest& out) {
  ASSIGN_OR_RETURN(std::vector<Json> objects, RenderChartObjects(input, dir));
  return AppendObjects(objects, ChartWhere(dir), input.options, out);
}

// Builds the kustomization at kustomize.dir, then applies the namespace rules
// to its output. `files` is what the tool sees.
absl::Status RenderKustomization(const BundleFiles& files, const RenderInput& input,
                                 const std::string& kustomize_dir, RenderedManifest& out) {
  ASSIGN_OR_RETURN(std::string built, RunKustomize(files, kustomize_dir, input.kustomize));
  std::string where =
      absl::StrCat("kustomize build ", kustomize_dir.empty() ? std::string(".") : kustomize_dir);
  ASSIGN_OR_RETURN(std::vector<Json> docs, ParseYamlDocuments(built, where));
  return AppendObjects(docs, where, input.options, out);
}

// Fleet's Helm post-renderer (internal/helmdeployer/postrender.go,
// kustomize/kustomize.go): the chart's output is written as
// `<kustomize.dir>/fleet-manifests.yaml` (replacing a bundle file of that
// name), and, when it holds any object, "fleet-manifests.yaml" is prepended to
// the kustomization's resources unless already listed there. What kustomize
// builds replaces the chart's objects.
absl::Status RenderHelmKustomizeBundle(const RenderInput& input, const std::string& chart_dir,
                                       const std::string& kustomize_dir, RenderedManifest& out) {
  constexpr absl::string_view kManifests = "fleet-manifests.yaml";
  ASSIGN_OR_RETURN(std::vector<Json> objects, RenderChartObjects(input, chart_dir));
  std::optional<std::string> kfile = KustomizationFile(input.files, kustomize_dir);
  if (!kfile.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kustomize.dir \"", kustomize_dir, "\" has no kustomization"));
  }
  const size_t slash = kfile->rfind('/');
  const std::string manifests_path = slash == std::string::npos
                                         ? std::string(kManifests)
                                         : absl::StrCat(kfile->substr(0, slash + 1), kManifests);

  BundleFiles files = input.files;
  files[manifests_path] = objects.empty() ? std::string() : ToYamlDocuments(objects);
  if (!objects.empty()) {
    ASSIGN_OR_RETURN(Json kustomization, ParseYaml(files[*kfile], *kfile));
    if (kustomization.is_null()) kustomization = Json::object();
    if (!kustomization.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat(*kfile, ": a kustomization must be a mapping"));
    }
    Json& resources = kustomization["resources"];
    if (resources.is_null()) resources = Json::array();
    if (!resources.is_array()) {
      // Fleet would replace it with [fleet-manifests.yaml]; kustomize itself
      // rejects such a kustomization.
      return absl::InvalidArgumentError(
          absl::StrCat(*kfile, ": resources must be a list (the Helm output is added to it as ",
                       kManifests, ")"));
    }
    bool listed = false;
    for (const Json& entry : resources) {
      listed = listed || (entry.is_string() && entry.get_ref<const std::string&>() == kManifests);
    }
    if (!listed) resources.insert(resources.begin(), std::string(kManifests));
    files[*kfile] = ToYaml(kustomization);
  }
  return RenderKustomization(files, input, kustomize_dir, out);
}

}  // namespace

std::string RenderKind(const RenderInput& input) {
  if (ChartDir(input).has_value() || helm::IsRemoteChart(HelmOptions(input.options))) {
    return "helm";
  }
  if (HasKustomization(input.files, KustomizeDir(input.options))) return "kustomize";
  return "yaml";
}

absl::StatusOr<RenderedManifest> RenderBundle(const RenderInput& input) {
  RenderedManifest out;
  const std::string kustomize_dir = KustomizeDir(input.options);
  std::optional<std::string> chart_dir = ChartDir(input);
  if (chart_dir.has_value()) {
    if (HasKustomization(input.files, kustomize_dir)) {
      RETURN_IF_ERROR(RenderHelmKustomizeBundle(input, *chart_dir, kustomize_dir, out));
    } else {
      RETURN_IF_ERROR(RenderHelmBundle(input, *chart_dir, out));
    }
  } else if (helm::IsRemoteChart(HelmOptions(input.options))) {
    // Callers download remote charts into the bundle first
    // (helm::AddRemoteChartToBundle); rendering never goes to the network.
    return absl::UnimplementedError(absl::StrCat(
        "helm chart \"", HelmString(input.options, "chart"), "\" (repo \"",
        HelmString(input.options, "repo"),
        "\") was not fetched into the bundle before rendering; RenderBundle renders only "
        "charts inside the bundle (see helm::AddRemoteChartToBundle)"));
  } else if (HasKustomization(input.files, kustomize_dir)) {
    // Fleet (bundlereader/style.go): a kustomization at kustomize.dir makes
    // this a kustomize bundle; overlays and plain manifests do not apply.
    RETURN_IF_ERROR(RenderKustomization(input.files, input, kustomize_dir, out));
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
