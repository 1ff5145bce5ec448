// Rendering a bundle's resource files into the objects a cluster should run.
// Render types: Kustomize (kustomize.h), plain YAML/JSON manifests with
// Fleet's yaml.overlays (overlays.h), Helm charts (common/helm/). Fleet's
// namespace rules apply to every object.
// Shared by the manager and `flotilla render`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/render/kustomize.h"
#include "common/yaml.h"

namespace flotilla::common {

struct RenderInput {
  std::string bundle_name;
  // Resource files, bundle-relative path -> content.
  std::map<std::string, std::string> files;
  // Merged deployment options (Fleet field names).
  Json options = Json::object();
  // How kustomize.dir bundles are built (the tool, its timeout).
  KustomizeOptions kustomize;
};

struct RenderedManifest {
  std::vector<Json> objects;  // in file order, then document order
  std::string yaml;           // the objects as one multi-document stream
  std::string hash;           // sha256 hex of `yaml`: the content id
};

// A bundle with Chart.yaml at the options' helm.chart (a directory in the
// bundle) or, without it, at the root is a Helm chart rendered natively
// (common/helm/): release helm.releaseName or the bundle name, values
// helm.values over the chart's values.yaml. A chart from a URL or helm.repo,
// or a chart together with a kustomization, is Unimplemented for now
// (docs/helm-compat.md). Else a bundle with a kustomization at the options'
// kustomize.dir is built with kustomize (kustomize.h). Otherwise: applies the overlays named by the
// options' yaml.overlays (overlays.h), then
// renders every *.yaml, *.yml and *.json file except fleet.yaml / fleet.yml
// and the overlays/ directory, skipping documents without a kind. (A
// *_patch.* file outside overlays/ is an ordinary manifest, as in Fleet.)
// Namespaces: `namespace` forces every object into it (a cluster-scoped object
// is then an error); otherwise objects without a namespace get
// defaultNamespace, else "default". Errors are InvalidArgument and name the
// file (and line:column for YAML errors), or the overlay file that failed.
absl::StatusOr<RenderedManifest> RenderBundle(const RenderInput& input);

// Which of RenderBundle's paths `input` takes, decided from file names and
// options only (nothing is parsed): "helm" (a chart in the bundle, or a
// remote one), "kustomize", or "yaml". The `kind` label of
// flotilla_render_duration_seconds.
std::string RenderKind(const RenderInput& input);

// Whether objects of this kind have no namespace (built-in Kubernetes kinds
// and the CRDs of common projects; unknown kinds count as namespaced).
bool IsClusterScoped(const std::string& api_version, const std::string& kind);

// Files the plain-YAML renderer reads as manifests.
bool IsManifestFile(const std::string& path);

}  // namespace flotilla::common
