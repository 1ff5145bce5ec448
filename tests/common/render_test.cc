#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/hash.h"
#include "common/render/manifest.h"

namespace flotilla::common {
namespace {

RenderedManifest MustRender(const RenderInput& in) {
  auto out = RenderBundle(in);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return *out;
}

std::string RenderError(const RenderInput& in) {
  auto out = RenderBundle(in);
  REQUIRE(out.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(out.status().message());
}

// "<kind>/<namespace>/<name>" of every rendered object, in order.
std::vector<std::string> Ids(const RenderedManifest& m) {
  std::vector<std::string> ids;
  for (const auto& o : m.objects) {
    const Json& meta = o["metadata"];
    ids.push_back(o["kind"].get<std::string>() + "/" + meta.value("namespace", "-") + "/" +
                  meta["name"].get<std::string>());
  }
  return ids;
}

std::string ConfigMap(const std::string& name, const std::string& ns = "") {
  std::string y = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n";
  if (!ns.empty()) y += "  namespace: " + ns + "\n";
  return y + "data:\n  key: value\n";
}

// Fleet: internal/bundlereader + helmdeployer raw-YAML rendering — every
// manifest file, in path order, each document in file order.
TEST_CASE("Multi-document files render in file order, then document order", "[render]") {
  RenderInput in;
  in.bundle_name = "b";
  in.files["b.yaml"] = ConfigMap("b1") + "---\n" + ConfigMap("b2");
  in.files["a.yaml"] = ConfigMap("a1") + "---\n" + ConfigMap("a2") + "---\n" + ConfigMap("a3");
  in.files["sub/c.yml"] = ConfigMap("c1");
  in.files["d.json"] = R"({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "d1"}})";
  RenderedManifest m = MustRender(in);
  CHECK(Ids(m) == std::vector<std::string>{"ConfigMap/default/a1", "ConfigMap/default/a2",
                                           "ConfigMap/default/a3", "ConfigMap/default/b1",
                                           "ConfigMap/default/b2", "ConfigMap/default/d1",
                                           "ConfigMap/default/c1"});
  CHECK(m.yaml == ToYamlDocuments(m.objects));
  CHECK(m.objects[0] == Json::parse(R"({"apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "a1", "namespace": "default"}, "data": {"key": "value"}})"));
}

// Fleet: bundlereader — documents without a kind (values files, empty
// documents, comments) are skipped.
TEST_CASE("Documents without a kind are skipped", "[render]") {
  RenderInput in;
  in.files["mixed.yaml"] = "# comment only\n---\nfoo: bar\n---\n" + ConfigMap("kept") +
                           "---\n- a\n- b\n---\n'scalar'\n---\n";
  in.files["values.yaml"] = "replicas: 3\nimage: nginx\n";
  RenderedManifest m = MustRender(in);
  CHECK(Ids(m) == std::vector<std::string>{"ConfigMap/default/kept"});

  RenderInput nothing;
  nothing.files["values.yaml"] = "a: 1\n";
  RenderedManifest empty = MustRender(nothing);
  CHECK(empty.objects.empty());
  CHECK(empty.yaml.empty());
  CHECK(empty.hash == Sha256Hex(""));
}

// Fleet: internal/helmdeployer/render/helm.go manifests() — fleet.yaml is
// options, not a manifest; render/patch/patch.go Process drops overlays/
// (whose files modify other files). A *_patch.* file outside overlays/ is not
// special there: it is rendered like any other manifest.
TEST_CASE("fleet.yaml and overlays/ are not rendered, a top-level *_patch file is", "[render]") {
  RenderInput in;
  in.bundle_name = "b";
  in.files["fleet.yaml"] = ConfigMap("from-fleet-yaml");
  in.files["fleet.yml"] = ConfigMap("from-fleet-yml");
  in.files["nested/fleet.yaml"] = ConfigMap("nested-fleet");
  in.files["overlays/prod/cm.yaml"] = ConfigMap("from-overlay");
  in.files["overlays/prod/cm_patch.yaml"] = "data: {key: patched}\n";
  in.files["cm_patch.yaml"] = ConfigMap("from-patch");
  in.files["README.md"] = "kind: ConfigMap\n";
  in.files["script.sh"] = "echo hi\n";
  in.files["cm.yaml"] = ConfigMap("real");
  RenderedManifest m = MustRender(in);
  CHECK(Ids(m) ==
        std::vector<std::string>{"ConfigMap/default/real", "ConfigMap/default/from-patch"});

  CHECK(IsManifestFile("a.yaml"));
  CHECK(IsManifestFile("a.yml"));
  CHECK(IsManifestFile("a.json"));
  CHECK(IsManifestFile("deep/dir/patch.yaml"));
  CHECK(IsManifestFile("sub/overlays/x.yaml"));
  CHECK(IsManifestFile("x_patch.yml"));
  CHECK_FALSE(IsManifestFile("fleet.yaml"));
  CHECK_FALSE(IsManifestFile("dir/fleet.yml"));
  CHECK_FALSE(IsManifestFile("overlays/x.yaml"));
  CHECK_FALSE(IsManifestFile("README.md"));
  CHECK_FALSE(IsManifestFile("yaml"));
}

// Fleet: internal/namespaces/namespaces.go — objects without a namespace get
// defaultNamespace, else "default"; an object's own namespace is kept.
TEST_CASE("Objects without a namespace get defaultNamespace, else default", "[render]") {
  RenderInput in;
  in.files["a.yaml"] = ConfigMap("no-ns") + "---\n" + ConfigMap("own-ns", "mine");
  CHECK(Ids(MustRender(in)) ==
        std::vector<std::string>{"ConfigMap/default/no-ns", "ConfigMap/mine/own-ns"});

  in.options = Json{{"defaultNamespace", "apps"}};
  CHECK(Ids(MustRender(in)) ==
        std::vector<std::string>{"ConfigMap/apps/no-ns", "ConfigMap/mine/own-ns"});

  in.options = Json{{"defaultNamespace", ""}};
  CHECK(Ids(MustRender(in)) ==
        std::vector<std::string>{"ConfigMap/default/no-ns", "ConfigMap/mine/own-ns"});
}

// Fleet: FLEET-SEMANTICS §1 — `namespace` forces every object into it and
// wins over defaultNamespace and the object's own namespace.
TEST_CASE("namespace forces every object into it, over defaultNamespace", "[render]") {
  RenderInput in;
  in.files["a.yaml"] = ConfigMap("no-ns") + "---\n" + ConfigMap("own-ns", "mine");
  in.options = Json{{"defaultNamespace", "apps"}, {"namespace", "forced"}};
  CHECK(Ids(MustRender(in)) ==
        std::vector<std::string>{"ConfigMap/forced/no-ns", "ConfigMap/forced/own-ns"});
}

// Cluster-scoped objects have no namespace; a stray one is dropped.
TEST_CASE("Cluster-scoped objects are kept without a namespace", "[render]") {
  RenderInput in;
  in.files["rbac.yaml"] =
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n"
      "  namespace: stray\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n";
  in.options = Json{{"defaultNamespace", "apps"}};
  RenderedManifest m = MustRender(in);
  CHECK(Ids(m) == std::vector<std::string>{"ClusterRole/-/reader", "Namespace/-/apps"});
  CHECK(m.objects[0]["metadata"] == Json{{"name", "reader"}});

  CHECK(IsClusterScoped("apiextensions.k8s.io/v1", "CustomResourceDefinition"));
  CHECK(IsClusterScoped("cert-manager.io/v1", "ClusterIssuer"));
  CHECK_FALSE(IsClusterScoped("apps/v1", "Deployment"));
  CHECK_FALSE(IsClusterScoped("example.com/v1", "Widget"));
}

// Fleet: FLEET-SEMANTICS §1 — with `namespace` set, any cluster-scoped object
// fails the render; the error names the file and the object.
TEST_CASE("namespace with a cluster-scoped object is InvalidArgument naming file and object",
          "[render]") {
  RenderInput in;
  in.files["a.yaml"] = ConfigMap("fine");
  in.files["rbac.yaml"] =
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n";
  in.options = Json{{"namespace", "forced"}};
  CHECK(RenderError(in) ==
        "rbac.yaml: ClusterRole reader is cluster-scoped, but the bundle sets namespace "
        "\"forced\" which forces every object into one namespace");
}

// Every object needs a name (and an apiVersion); the error names the file
// and the document.
TEST_CASE("An object without metadata.name is InvalidArgument", "[render]") {
  RenderInput in;
  in.files["cm.yaml"] = ConfigMap("first") + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n";
  CHECK(RenderError(in) == "cm.yaml (document 2): ConfigMap has no metadata.name");

  RenderInput no_meta;
  no_meta.files["x.yaml"] = "apiVersion: v1\nkind: Secret\n";
  CHECK(RenderError(no_meta) == "x.yaml (document 1): Secret has no metadata.name");

  RenderInput no_api;
  no_api.files["x.yaml"] = "kind: Secret\nmetadata: {name: s}\n";
  CHECK(RenderError(no_api) == "x.yaml (document 1): Secret has no apiVersion");

  RenderInput bad_kind;
  bad_kind.files["x.yaml"] = "apiVersion: v1\nkind: [Secret]\nmetadata: {name: s}\n";
  CHECK(RenderError(bad_kind) == "x.yaml (document 1): kind must be a string");
}

// A YAML error in a manifest names the file, line and column.
TEST_CASE("A YAML error in a manifest names file:line:col", "[render]") {
  RenderInput in;
  in.files["ok.yaml"] = ConfigMap("fine");
  in.files["dir/broken.yaml"] = "apiVersion: v1\nkind: ConfigMap\n metadata: x\n";
  CHECK(RenderError(in) == "dir/broken.yaml:3:10: illegal map value");

  RenderInput dup;
  dup.files["dup.yaml"] = "apiVersion: v1\nkind: ConfigMap\nkind: Secret\n";
  CHECK(RenderError(dup) == "dup.yaml:3:1: duplicate key \"kind\"");
}

// The content id is sha256 of the rendered YAML: it changes with the
// manifests, not with files that are not rendered.
TEST_CASE("The hash is sha256 of the YAML and changes only with rendered content", "[render]") {
  RenderInput in;
  in.files["cm.yaml"] = ConfigMap("a");
  in.files["README.md"] = "docs\n";
  in.files["fleet.yaml"] = "defaultNamespace: x\n";
  RenderedManifest base = MustRender(in);
  CHECK(base.hash == Sha256Hex(base.yaml));
  CHECK(base.hash.size() == 64);
  CHECK(base.yaml ==
        "apiVersion: v1\ndata:\n  key: value\nkind: ConfigMap\nmetadata:\n  name: a\n"
        "  namespace: default\n");

  RenderInput unrelated = in;
  unrelated.files["README.md"] = "other docs\n";
  unrelated.files["fleet.yaml"] = "defaultNamespace: y\n";
  unrelated.files["values.yaml"] = "no: kind\n";
  unrelated.files["overlays/prod/cm.yaml"] = ConfigMap("overlay");  // not selected
  unrelated.files["cm.yaml"] = "# a comment\n" + ConfigMap("a");
  CHECK(MustRender(unrelated).hash == base.hash);

  RenderInput changed = in;
  changed.files["cm.yaml"] = ConfigMap("b");
  CHECK(MustRender(changed).hash != base.hash);

  RenderInput other_ns = in;
  other_ns.options = Json{{"defaultNamespace", "apps"}};
  CHECK(MustRender(other_ns).hash != base.hash);
}

// kubectl's v1 List: its items are rendered as separate objects.
TEST_CASE("A v1 List is expanded into its items", "[render]") {
  RenderInput in;
  in.files["list.yaml"] = R"(apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: one}
- apiVersion: v1
  kind: Service
  metadata: {name: two, namespace: web}
)";
  in.files["z.yaml"] = ConfigMap("after");
  RenderedManifest m = MustRender(in);
  CHECK(Ids(m) == std::vector<std::string>{"ConfigMap/default/one", "Service/web/two",
                                           "ConfigMap/default/after"});

  RenderInput bad_item;
  bad_item.files["list.yaml"] =
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n";
  CHECK(RenderError(bad_item) == "list.yaml (document 1): ConfigMap has no metadata.name");
}

// Fleet: bundlereader/style.go — a kustomization at kustomize.dir makes a
// kustomize bundle: its build output is what deploys, overlays do not apply,
// and the namespace rules apply to the built objects.
TEST_CASE("A kustomization at kustomize.dir is built, then the namespace rules apply", "[render]") {
  if (std::system("command -v kubectl >/dev/null 2>&1 || command -v kustomize >/dev/null 2>&1") !=
      0) {
    WARN("neither kubectl nor kustomize is on PATH: skipping");
    return;
  }
  RenderInput in;
  in.files["deploy/kustomization.yaml"] = "resources:\n- cm.yaml\nnamePrefix: k-\n";
  in.files["deploy/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n";
  in.files["plain.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n";
  in.options = {{"kustomize", {{"dir", "deploy"}}}, {"namespace", "forced"}};
  RenderedManifest out = MustRender(in);
  REQUIRE(out.objects.size() == 1);
  CHECK(out.objects[0]["metadata"]["name"] == "k-app");
  CHECK(out.objects[0]["metadata"]["namespace"] == "forced");

  // Without a kustomization there, the bundle is plain YAML again.
  in.options = {{"kustomize", {{"dir", "elsewhere"}}}};
  CHECK(MustRender(in).objects.size() == 2);

  // A broken kustomization is a render error naming the tool's complaint.
  in.files["deploy/kustomization.yaml"] = "resources:\n- missing.yaml\n";
  in.options = {{"kustomize", {{"dir", "deploy"}}}};
  CHECK_THAT(RenderError(in), Catch::Matchers::Contains("missing.yaml"));
}

// Fleet: internal/helmdeployer/postrender.go and kustomize/kustomize.go — a
// chart together with a kustomization at kustomize.dir: the chart's output is
// written as <kustomize.dir>/fleet-manifests.yaml and prepended to the
// kustomization's resources; what kustomize builds replaces the chart objects.
RenderInput ChartWithKustomization() {
  RenderInput in;
  in.bundle_name = "b";
  in.files["chart/Chart.yaml"] = "apiVersion: v2\nname: c\nversion: 1.0.0\n";
  in.files["chart/templates/cm.yaml"] =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
      "data:\n  ns: {{ .Release.Namespace }}\n";
  in.files["deploy/kustomization.yaml"] =
      "# comment\nnamePrefix: k-\ncommonLabels:\n  team: blue\nresources:\n- extra.yaml\n";
  in.files["deploy/extra.yaml"] = ConfigMap("extra");
  in.options = {{"helm", {{"chart", "chart"}, {"releaseName", "web"}}},
                {"kustomize", {{"dir", "deploy"}}},
                {"defaultNamespace", "apps"}};
  return in;
}

TEST_CASE("A chart with a kustomization whose resources is not a list is InvalidArgument",
          "[render]") {
  RenderInput in = ChartWithKustomization();
  in.files["deploy/kustomization.yaml"] = "resources: extra.yaml\n";
  CHECK_THAT(RenderError(in),
             Catch::Matchers::Contains("deploy/kustomization.yaml: resources must be a list"));
  in.files["deploy/kustomization.yaml"] = "- extra.yaml\n";
  CHECK_THAT(RenderError(in), Catch::Matchers::Contains("must be a mapping"));
}

TEST_CASE("A chart's output is passed to kustomize as fleet-manifests.yaml", "[render]") {
  if (std::system("command -v kubectl >/dev/null 2>&1 || command -v kustomize >/dev/null 2>&1") !=
      0) {
    WARN("neither kubectl nor kustomize is on PATH: skipping");
    return;
  }
  RenderInput in = ChartWithKustomization();
  RenderedManifest out = MustRender(in);
  // The kustomization's transforms apply to the chart's objects, which are not
  // kept untransformed besides; the namespace rules apply afterwards.
  std::vector<std::string> ids = Ids(out);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"ConfigMap/apps/k-extra", "ConfigMap/apps/k-web-cm"});
  for (const Json& o : out.objects) {
    CHECK(o["metadata"]["labels"]["team"] == "blue");
    if (o["metadata"]["name"] == "k-web-cm") CHECK(o["data"]["ns"] == "apps");
  }

  // Already listed: not added twice (kustomize would refuse a duplicate); a
  // bundle file of that name is replaced by the chart's output.
  in.files["deploy/kustomization.yaml"] = "namePrefix: k-\nresources: [fleet-manifests.yaml]\n";
  in.files["deploy/fleet-manifests.yaml"] = ConfigMap("stale");
  CHECK(Ids(MustRender(in)) == std::vector<std::string>{"ConfigMap/apps/k-web-cm"});

  // No resources at all; namespace forces every object.
  in.files.erase("deploy/fleet-manifests.yaml");
  in.files["deploy/kustomization.yaml"] = "nameSuffix: -s\n";
  in.options["namespace"] = "forced";
  CHECK(Ids(MustRender(in)) == std::vector<std::string>{"ConfigMap/forced/web-cm-s"});

  // Without a kustomization at kustomize.dir, the chart renders alone.
  in.options["kustomize"]["dir"] = "elsewhere";
  CHECK(Ids(MustRender(in)) == std::vector<std::string>{"ConfigMap/forced/web-cm"});
}

}  // namespace
}  // namespace flotilla::common
