#include "common/render/manifest.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fleet/options.h"
#include "common/hash.h"
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

}  // namespace

absl::StatusOr<RenderedManifest> RenderBundle(const RenderInput& input) {
  RenderedManifest out;
  const std::string kustomize_dir = KustomizeDir(input.options);
  if (HasKustomization(input.files, kustomize_dir)) {
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
