#include "common/render/patch.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "common/render/strategic_merge.h"

namespace flotilla::common {
namespace {

Json Y(const std::string& text) {
  auto v = ParseYaml(text, "test");
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  return *v;
}

Json MustPatch(const Json& original, const Json& patch) {
  auto out = ApplyPatch(original, patch);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return *out;
}

std::string PatchError(const Json& original, const Json& patch) {
  auto out = ApplyPatch(original, patch);
  REQUIRE(out.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(out.status().message());
}

Json Obj(const std::string& api_version, const std::string& kind) {
  return Json{{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", "x"}}}};
}

// rancher/wrangler pkg/patch/style.go GetPatchStyle: a list is a JSON patch;
// a built-in kind (client-go's scheme.Scheme.New succeeds) other than
// CustomResourceDefinition gets a strategic merge patch; anything else, and a
// document without kind or version (gvk.Detect), a merge patch.
TEST_CASE("The patch type follows wrangler's GetPatchStyle", "[patch]") {
  Json map_patch = Json::object();
  CHECK(DetectPatchType(Obj("apps/v1", "Deployment"), Json::array()) == PatchType::kJsonPatch);
  CHECK(DetectPatchType(Obj("example.com/v1", "Widget"), Json::array()) == PatchType::kJsonPatch);
  CHECK(DetectPatchType(Obj("apps/v1", "Deployment"), map_patch) ==
        PatchType::kStrategicMergePatch);
  CHECK(DetectPatchType(Obj("v1", "Service"), map_patch) == PatchType::kStrategicMergePatch);
  CHECK(DetectPatchType(Obj("v1", "ConfigMapList"), map_patch) == PatchType::kStrategicMergePatch);
  CHECK(DetectPatchType(Obj("extensions/v1beta1", "Ingress"), map_patch) ==
        PatchType::kStrategicMergePatch);
  CHECK(DetectPatchType(Obj("batch/v1", "CronJob"), map_patch) == PatchType::kStrategicMergePatch);
  CHECK(DetectPatchType(Obj("rbac.authorization.k8s.io/v1", "ClusterRole"), map_patch) ==
        PatchType::kStrategicMergePatch);
  // Not in client-go's scheme: CRDs (apiextensions) and APIService
  // (apiregistration) are separate clientsets; custom resources; kinds of
  // another group version.
  CHECK(DetectPatchType(Obj("apiextensions.k8s.io/v1", "CustomResourceDefinition"), map_patch) ==
        PatchType::kMergePatch);
  CHECK(DetectPatchType(Obj("apiregistration.k8s.io/v1", "APIService"), map_patch) ==
        PatchType::kMergePatch);
  CHECK(DetectPatchType(Obj("example.com/v1", "Widget"), map_patch) == PatchType::kMergePatch);
  CHECK(DetectPatchType(Obj("v1", "Deployment"), map_patch) == PatchType::kMergePatch);
  CHECK(DetectPatchType(Obj("apps/v1", "Service"), map_patch) == PatchType::kMergePatch);
  // gvk.Detect needs a kind and a version.
  CHECK(DetectPatchType(Json{{"kind", "Service"}}, map_patch) == PatchType::kMergePatch);
  CHECK(DetectPatchType(Json{{"apiVersion", "v1"}}, map_patch) == PatchType::kMergePatch);
  CHECK(DetectPatchType(Obj("apps/", "Deployment"), map_patch) == PatchType::kMergePatch);
  CHECK(DetectPatchType(Obj("a/apps/v1", "Deployment"), map_patch) == PatchType::kMergePatch);
  CHECK(DetectPatchType(Json{{"replicas", 3}}, map_patch) == PatchType::kMergePatch);

  CHECK(IsBuiltinKind("v1", "List"));
  CHECK(IsBuiltinKind("apps/v1", "DeploymentList"));
  CHECK_FALSE(IsBuiltinKind("apps/v1", "List"));
  CHECK_FALSE(IsBuiltinKind("apps/v1", ""));
}

// RFC 6902 through nlohmann::json::patch, one operation at a time so that
// an error names the operation.
TEST_CASE("A JSON patch applies RFC 6902 operations in order", "[patch]") {
  Json svc = Y(R"(apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}, {port: 443}]
  selector: {app: web}
)");
  Json out = MustPatch(svc, Y(R"(
- {op: replace, path: /spec/ports/0/port, value: 8080}
- {op: add, path: /spec/ports/-, value: {port: 9090}}
- {op: remove, path: /spec/selector/app}
- {op: add, path: /metadata/labels, value: {a/b: c}}
- {op: test, path: /metadata/labels/a~1b, value: c}
- {op: copy, from: /metadata/name, path: /metadata/labels/name}
- {op: move, from: /spec/ports/1, path: /spec/ports/0}
)"));
  CHECK(out["spec"] == Y("ports: [{port: 443}, {port: 8080}, {port: 9090}]\nselector: {}\n"));
  CHECK(out["metadata"]["labels"] == Json{{"a/b", "c"}, {"name", "web"}});
}

// evanphx/json-patch (what Fleet uses) accepts negative indices by default,
// counting from the end of the list.
TEST_CASE("A JSON patch accepts negative list indices counting from the end", "[patch]") {
  Json doc = Json{{"items", {"a", "b", "c"}}};
  CHECK(ApplyJsonPatch(doc, Y("[{op: remove, path: /items/-1}]"))->at("items") == Json{"a", "b"});
  CHECK(ApplyJsonPatch(doc, Y("[{op: replace, path: /items/-3, value: z}]"))->at("items") ==
        Json{"z", "b", "c"});
  CHECK(ApplyJsonPatch(doc, Y("[{op: add, path: /items/-1, value: x}]"))->at("items") ==
        Json{"a", "b", "x", "c"});
  auto too_far = ApplyJsonPatch(doc, Y("[{op: remove, path: /items/-4}]"));
  CHECK(too_far.status().code() == absl::StatusCode::kInvalidArgument);
}

// A failing operation is named by its 0-based index, op and path.
TEST_CASE("A failing JSON patch op is InvalidArgument with its index", "[patch]") {
  Json cm = Obj("v1", "ConfigMap");
  CHECK(PatchError(cm, Y("[{op: add, path: /data, value: {}}, {op: remove, path: /data/x}]")) ==
        "JSON patch: op 1 (remove /data/x): key 'x' not found");
  CHECK(PatchError(cm, Y("[{op: test, path: /kind, value: Secret}]")) ==
        "JSON patch: op 0 (test /kind): unsuccessful: {\"op\":\"test\",\"path\":\"/kind\","
        "\"value\":\"Secret\"}");
  CHECK(PatchError(cm, Y("[{op: frobnicate, path: /kind}]")) ==
        "JSON patch: op 0 (frobnicate /kind): operation value 'frobnicate' is invalid");
  CHECK(PatchError(cm, Y("[{op: add, path: /a/b, value: 1}]")) ==
        "JSON patch: op 0 (add /a/b): key 'a' not found");
  CHECK(PatchError(cm, Y("[{op: add, path: /x}]")) ==
        "JSON patch: op 0 (add /x): operation 'add' must have member 'value'");
  CHECK(PatchError(cm, Y("[remove]")) ==
        "JSON patch: op 0: an operation must be a map, not a string");
}

// RFC 7386 (evanphx/json-patch MergePatch in Fleet) for kinds outside the
// built-in scheme: maps merge, lists and scalars replace, null deletes.
TEST_CASE("A merge patch on a custom resource replaces lists and deletes nulls", "[patch]") {
  Json widget = Y(R"(apiVersion: example.com/v1
kind: Widget
metadata: {name: w, labels: {a: '1', b: '2'}}
spec:
  containers: [{name: app, image: app:1}, {name: side, image: side:1}]
  size: 3
)");
  Json out = MustPatch(widget, Y(R"(metadata:
  labels: {b: null, c: '3'}
spec:
  containers: [{name: app, image: app:2}]
  size: null
  extra: {nested: {gone: null, kept: 1}}
)"));
  CHECK(out == Y(R"(apiVersion: example.com/v1
kind: Widget
metadata: {name: w, labels: {a: '1', c: '3'}}
spec:
  containers: [{name: app, image: app:2}]
  extra: {nested: {kept: 1}}
)"));
  // A CustomResourceDefinition is merge-patched too: its lists are replaced.
  Json crd =
      Y("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: c, finalizers: [a]}\n");
  CHECK(MustPatch(crd, Y("metadata: {finalizers: [b]}"))["metadata"]["finalizers"] == Json{"b"});
}

// The same patch on a built-in kind merges containers by name (strategic).
TEST_CASE("A map patch on a Deployment is a strategic merge patch", "[patch]") {
  Json deploy = Y(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers: [{name: app, image: app:1}, {name: side, image: side:1}]
)");
  Json out = MustPatch(deploy, Y("spec: {template: {spec: {containers: [{name: app, image: "
                                 "app:2}]}}}"));
  CHECK(out["spec"]["template"]["spec"]["containers"] ==
        Y("[{name: app, image: app:2}, {name: side, image: side:1}]"));
}

// Fleet fails when the patched document is not a map (gvk.Detect cannot
// decode it); a patch must be a map or a list.
TEST_CASE("ApplyPatch refuses scalar patches and map patches of non-maps", "[patch]") {
  CHECK(PatchError(Obj("v1", "ConfigMap"), Json(3)) ==
        "a patch must be a map (merge or strategic merge patch) or a list (JSON patch), not a "
        "number");
  CHECK(PatchError(Json::array(), Json::object()) ==
        "merge patch: the patched document is an array, not a map");
  CHECK(MustPatch(Json{1, 2}, Y("[{op: add, path: /-, value: 3}]")) == Json{1, 2, 3});
  CHECK(PatchTypeName(PatchType::kStrategicMergePatch) == "strategic merge patch");
}

}  // namespace
}  // namespace flotilla::common
