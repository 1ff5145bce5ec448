#include "common/render/strategic_merge.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"

namespace flotilla::common {
namespace {

Json Y(const std::string& text) {
  auto v = ParseYaml(text, "test");
  INFO(v.status().ToString());
  REQUIRE(v.ok());
  return *v;
}

Json MustMerge(const Json& original, const Json& patch) {
  auto out = StrategicMergePatch(original, patch);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return *out;
}

std::string MergeError(const Json& original, const Json& patch) {
  auto out = StrategicMergePatch(original, patch);
  REQUIRE(out.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(out.status().message());
}

// A Deployment whose pod spec is `pod_spec` (YAML flow map).
Json Deployment(const std::string& pod_spec) {
  return Y(
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
      "spec: {replicas: 1, template: {spec: " +
      pod_spec + "}}\n");
}

Json PodSpecPatch(const std::string& pod_spec) {
  return Y("spec: {template: {spec: " + pod_spec + "}}");
}

const Json& PodSpecOf(const Json& deployment) { return deployment["spec"]["template"]["spec"]; }

// k8s.io/api core/v1 types.go: PodSpec.containers patchMergeKey "name",
// Container.ports "containerPort", env "name", volumeMounts "mountPath";
// fields without tags (image, args) are replaced.
TEST_CASE("Containers merge by name and their ports, env and mounts by their keys", "[strategic]") {
  Json original = Deployment(R"({containers: [
    {name: app, image: app:1, args: [--a, --b],
     ports: [{containerPort: 80, name: http}, {containerPort: 443}],
     env: [{name: A, value: '1'}, {name: B, value: '2'}],
     volumeMounts: [{mountPath: /data, name: data}]},
    {name: side, image: side:1}]})");
  Json out = MustMerge(original, PodSpecPatch(R"({containers: [
    {name: app, image: app:2, args: [--c],
     ports: [{containerPort: 80, protocol: TCP}],
     env: [{name: B, value: '20'}, {name: C, value: '3'}],
     volumeMounts: [{mountPath: /data, readOnly: true}]}]})"));
  CHECK(PodSpecOf(out)["containers"] == Y(R"([
    {name: app, image: app:2, args: [--c],
     ports: [{containerPort: 80, name: http, protocol: TCP}, {containerPort: 443}],
     env: [{name: A, value: '1'}, {name: B, value: '20'}, {name: C, value: '3'}],
     volumeMounts: [{mountPath: /data, name: data, readOnly: true}]},
    {name: side, image: side:1}])"));
  CHECK(out["spec"]["replicas"] == 1);
}

// patch.go mergeSortedSlice: an item the live list does not have goes before
// the remaining live items; items the patch names keep the patch's order.
TEST_CASE("New list items come first, then the live items in their order", "[strategic]") {
  Json original = Deployment("{containers: [{name: a}, {name: b}]}");
  CHECK(PodSpecOf(MustMerge(original, PodSpecPatch("{containers: [{name: c}]}")))["containers"] ==
        Y("[{name: c}, {name: a}, {name: b}]"));
  CHECK(PodSpecOf(MustMerge(original,
                            PodSpecPatch("{containers: [{name: b, image: x}]}")))["containers"] ==
        Y("[{name: a}, {name: b, image: x}]"));
}

// apimachinery strategicpatch/patch_test.go customStrategicMergePatchTestCaseData
// "preserve the order from the patch in a merging list" (1 and 2), with
// containers standing in for the test's mergingList.
TEST_CASE("Kubernetes' order-preserving cases give Kubernetes' results", "[strategic]") {
  Json original = Deployment("{containers: [{name: '1'}, {name: '2', image: b}, {name: '3'}]}");
  CHECK(PodSpecOf(MustMerge(original,
                            PodSpecPatch("{containers: [{name: '3', image: c}, {name: '1', image: "
                                         "a}, {name: '2', tty: true}]}")))["containers"] ==
        Y("[{name: '3', image: c}, {name: '1', image: a}, {name: '2', image: b, tty: true}]"));
  CHECK(PodSpecOf(MustMerge(original, PodSpecPatch("{containers: [{name: '3', image: c}, {name: "
                                                   "'1', image: a}]}")))["containers"] ==
        Y("[{name: '2', image: b}, {name: '3', image: c}, {name: '1', image: a}]"));
}

// ObjectMeta.finalizers has patchStrategy "merge" and no key: a union of
// scalars (patch_test.go "unique scalars when merging lists", "preserve the
// order from the patch in a merging int list").
TEST_CASE("Lists of scalars with the merge strategy are unioned", "[strategic]") {
  Json cm = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: ['1', '2']}\n");
  CHECK(MustMerge(cm, Y("metadata: {finalizers: ['2', '3']}"))["metadata"]["finalizers"] ==
        Json{"1", "2", "3"});
  Json three =
      Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: ['1', '2', "
        "'3']}\n");
  CHECK(MustMerge(three, Y("metadata: {finalizers: ['3', '1']}"))["metadata"]["finalizers"] ==
        Json{"2", "3", "1"});
  CHECK(MustMerge(three, Y("metadata: {finalizers: ['3', '1', '2']}"))["metadata"]["finalizers"] ==
        Json{"3", "1", "2"});
}

// Lists without a patchStrategy tag (tolerations, args, ClusterRole rules,
// custom fields) are replaced whole; maps merge; null deletes.
TEST_CASE("Untagged lists are replaced, maps merge and null deletes", "[strategic]") {
  Json original = Deployment(
      "{tolerations: [{key: a, operator: Exists}], nodeSelector: {disk: ssd, zone: a}, "
      "containers: [{name: app}]}");
  Json out = MustMerge(original, PodSpecPatch("{tolerations: [{key: b, operator: Exists}], "
                                              "nodeSelector: {zone: null, arch: arm64}}"));
  CHECK(PodSpecOf(out)["tolerations"] == Y("[{key: b, operator: Exists}]"));
  CHECK(PodSpecOf(out)["nodeSelector"] == Json{{"disk", "ssd"}, {"arch", "arm64"}});

  Json role =
      Y("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\n"
        "rules: [{verbs: [get]}, {verbs: [list]}]\n");
  CHECK(MustMerge(role, Y("rules: [{verbs: [watch]}]"))["rules"] == Y("[{verbs: [watch]}]"));

  // A new key's nulls are dropped; a key whose type changes takes the patch.
  Json svc = Y("apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {type: ClusterIP}\n");
  Json patched = MustMerge(svc, Y("spec: {type: {weird: true}, extra: {a: null, b: 1}}"));
  CHECK(patched["spec"] == Y("{type: {weird: true}, extra: {b: 1}}"));
}

// core/v1 ServiceSpec.ports patchMergeKey "port"; ServiceAccount.secrets
// "name"; PodSpec volumes, imagePullSecrets "name", hostAliases "ip",
// topologySpreadConstraints "topologyKey"; initContainers "name".
TEST_CASE("Service ports merge by port and pod lists by their keys", "[strategic]") {
  Json svc =
      Y("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
        "spec: {ports: [{port: 80, targetPort: 8080}, {port: 443}]}\n");
  CHECK(MustMerge(svc, Y("spec: {ports: [{port: 80, nodePort: 30080}]}"))["spec"]["ports"] ==
        Y("[{port: 80, targetPort: 8080, nodePort: 30080}, {port: 443}]"));

  Json sa =
      Y("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: s}\n"
        "secrets: [{name: a}]\n");
  CHECK(MustMerge(sa, Y("secrets: [{name: b}]"))["secrets"] == Y("[{name: b}, {name: a}]"));

  Json original = Deployment(R"({
    volumes: [{name: data, emptyDir: {}}],
    imagePullSecrets: [{name: reg1}],
    hostAliases: [{ip: 10.0.0.1, hostnames: [a]}],
    topologySpreadConstraints: [{topologyKey: zone, maxSkew: 1}],
    initContainers: [{name: init, image: i:1}]})");
  Json out = MustMerge(original, PodSpecPatch(R"({
    volumes: [{name: data, emptyDir: {medium: Memory}}],
    imagePullSecrets: [{name: reg2}],
    hostAliases: [{ip: 10.0.0.1, hostnames: [b]}],
    topologySpreadConstraints: [{topologyKey: zone, maxSkew: 2}],
    initContainers: [{name: init, image: i:2}]})"));
  const Json& spec = PodSpecOf(out);
  CHECK(spec["volumes"] == Y("[{name: data, emptyDir: {medium: Memory}}]"));
  CHECK(spec["imagePullSecrets"] == Y("[{name: reg2}, {name: reg1}]"));
  CHECK(spec["hostAliases"] == Y("[{ip: 10.0.0.1, hostnames: [b]}]"));
  CHECK(spec["topologySpreadConstraints"] == Y("[{topologyKey: zone, maxSkew: 2}]"));
  CHECK(spec["initContainers"] == Y("[{name: init, image: i:2}]"));
}

// The pod template is found the same way in every workload kind.
TEST_CASE("Pod templates merge in every workload kind", "[strategic]") {
  const std::string patch = "{containers: [{name: app, image: app:2}]}";
  for (const std::string kind : {"StatefulSet", "DaemonSet", "ReplicaSet"}) {
    Json obj = Y("apiVersion: apps/v1\nkind: " + kind +
                 "\nmetadata: {name: x}\n"
                 "spec: {template: {spec: {containers: [{name: app, image: app:1}, {name: b}]}}}");
    CHECK(MustMerge(obj, PodSpecPatch(patch))["spec"]["template"]["spec"]["containers"] ==
          Y("[{name: app, image: app:2}, {name: b}]"));
  }
  Json cron = Y(R"(apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: app, image: app:1}, {name: b}]
)");
  Json out = MustMerge(cron, Y("spec: {jobTemplate: {spec: {template: {spec: " + patch + "}}}}"));
  CHECK(out["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"] ==
        Y("[{name: app, image: app:2}, {name: b}]"));

  Json pod =
      Y("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec: {containers: [{name: app, image: app:1}, {name: b}]}\n");
  CHECK(MustMerge(pod, Y("spec: " + patch))["spec"]["containers"] ==
        Y("[{name: app, image: app:2}, {name: b}]"));

  // A custom resource has no tags: its containers list is replaced.
  Json widget =
      Y("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
        "spec: {template: {spec: {containers: [{name: app}, {name: b}]}}}\n");
  CHECK(MustMerge(widget, PodSpecPatch(patch))["spec"]["template"]["spec"]["containers"] ==
        Y("[{name: app, image: app:2}]"));
}

// policy/v1 PodDisruptionBudgetSpec.selector has patchStrategy "replace";
// policy/v1beta1's has none and merges.
TEST_CASE("A PodDisruptionBudget selector is replaced in policy/v1 only", "[strategic]") {
  const std::string body =
      "\nkind: PodDisruptionBudget\nmetadata: {name: p}\n"
      "spec: {selector: {matchLabels: {app: web, tier: fe}}}\n";
  Json patch = Y("spec: {selector: {matchLabels: {app: api}}}");
  CHECK(MustMerge(Y("apiVersion: policy/v1" + body), patch)["spec"]["selector"] ==
        Y("{matchLabels: {app: api}}"));
  CHECK(MustMerge(Y("apiVersion: policy/v1beta1" + body), patch)["spec"]["selector"] ==
        Y("{matchLabels: {app: api, tier: fe}}"));
}

// patch.go mergeSliceWithSpecialElements, handleDirectiveInMergeMap and the
// custom test cases "delete all items from merging list", "delete map from
// nested map", "delete all keys from map", "add key and delete all keys from
// map", "delete all duplicate entries in a merging list".
TEST_CASE("$patch delete and replace work on list items, lists and maps", "[strategic]") {
  Json original =
      Deployment("{containers: [{name: a}, {name: a}, {name: b, image: x}, {name: c}, {name: c}]}");
  CHECK(PodSpecOf(MustMerge(original, PodSpecPatch("{containers: [{name: a, $patch: delete}, "
                                                   "{name: c, $patch: delete}]}")))["containers"] ==
        Y("[{name: b, image: x}]"));
  CHECK(PodSpecOf(
            MustMerge(original, PodSpecPatch("{containers: [{$patch: replace}]}")))["containers"] ==
        Json::array());
  CHECK(PodSpecOf(MustMerge(original, PodSpecPatch("{containers: [{name: z}, {$patch: "
                                                   "replace}]}")))["containers"] ==
        Y("[{name: z}]"));

  Json sel =
      Y("apiVersion: v1\nkind: Service\nmetadata: {name: s}\n"
        "spec: {selector: {a: '1', b: '1'}, type: NodePort}\n");
  CHECK(MustMerge(sel, Y("spec: {selector: {$patch: delete}}"))["spec"] ==
        Y("{selector: {}, type: NodePort}"));
  CHECK(MustMerge(sel, Y("spec: {selector: {c: '3', $patch: replace}}"))["spec"] ==
        Y("{selector: {c: '3'}, type: NodePort}"));
  CHECK(MustMerge(sel, Y("{$patch: replace, other: a}")) == Y("{other: a}"));
  CHECK(MustMerge(sel, Y("{$patch: delete}")) == Json::object());
  // A directive map for a key the original lacks adds nothing.
  CHECK_FALSE(MustMerge(sel, Y("spec: {extra: {$patch: delete}}"))["spec"].contains("extra"));
}

// Kubernetes refuses `$patch: merge` in lists and unknown directives.
TEST_CASE("Unknown or unsupported $patch directives are InvalidArgument", "[strategic]") {
  Json original = Deployment("{containers: [{name: a}]}");
  CHECK(MergeError(original, PodSpecPatch("{containers: [{name: a, $patch: merge}]}")) ==
        "spec.template.spec.containers: $patch: merge is not supported on list items "
        "(Kubernetes: \"merging lists cannot yet be specified in the patch\")");
  CHECK(MergeError(original, PodSpecPatch("{containers: [{name: a, $patch: zap}]}")) ==
        "spec.template.spec.containers: unknown $patch directive \"zap\"");
  CHECK(MergeError(original, Y("spec: {template: {$patch: merge}}")) ==
        "spec.template: unknown $patch directive \"merge\" on a map (use replace or delete)");
}

// patch.go mergeSliceWithoutSpecialElements: every item of a merged list of
// maps needs the merge key; a list of maps without a key cannot merge.
TEST_CASE("A list item without its merge key is InvalidArgument naming the path", "[strategic]") {
  Json original = Deployment("{containers: [{name: a, ports: [{containerPort: 80}]}]}");
  CHECK(MergeError(original, PodSpecPatch("{containers: [{image: x}]}")) ==
        "spec.template.spec.containers: list item {\"image\":\"x\"} has no merge key \"name\"");
  CHECK(MergeError(original, PodSpecPatch("{containers: [{name: a, ports: [{name: http}]}]}")) ==
        "spec.template.spec.containers[name=a].ports: list item {\"name\":\"http\"} has no merge "
        "key \"containerPort\"");
  CHECK(MergeError(original, PodSpecPatch("{containers: [a]}")) ==
        "spec.template.spec.containers: list items are not all of one type");
  Json cm = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a]}\n");
  CHECK(MergeError(cm, Y("metadata: {finalizers: [[b]]}")) ==
        "metadata.finalizers: list items are not all of one type");
  Json lists = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [[a]]}\n");
  CHECK(MergeError(lists, Y("metadata: {finalizers: [[b]]}")) ==
        "metadata.finalizers: lists of lists are not supported");
}

// patch.go applyRetainKeysDirective (test cases "retainKeys map should clear
// defaulted field", "retainKeys map adds a field"): keys the original has
// but $retainKeys does not list are cleared; the patch may set only listed
// keys.
TEST_CASE("$retainKeys clears unlisted keys and checks the patch", "[strategic]") {
  Json original = Y(R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1}
)");
  Json out = MustMerge(original, Y("spec: {strategy: {$retainKeys: [type], type: Recreate}}"));
  CHECK(out["spec"]["strategy"] == Json{{"type", "Recreate"}});
  CHECK(MergeError(original, Y("spec: {strategy: {$retainKeys: [type], rollingUpdate: {}}}")) ==
        "spec.strategy: the patch sets \"rollingUpdate\", which $retainKeys does not list");
  CHECK(MergeError(original, Y("spec: {strategy: {$retainKeys: type}}")) ==
        "spec.strategy: $retainKeys must be a list of field names");

  // On list items too (PodSpec.volumes is merge,retainKeys).
  Json vols = Deployment("{volumes: [{name: v, emptyDir: {}}]}");
  CHECK(
      PodSpecOf(MustMerge(vols, PodSpecPatch("{volumes: [{name: v, $retainKeys: [name, "
                                             "configMap], configMap: {name: c}}]}")))["volumes"] ==
      Y("[{name: v, configMap: {name: c}}]"));
}

// patch.go preprocessDeletionListForMerging / deleteFromSlice
// ("$deleteFromPrimitiveList should delete item from a list with/without
// merge patch strategy", "... of nonexistent item ... should not add").
TEST_CASE("$deleteFromPrimitiveList removes scalars from a list", "[strategic]") {
  Json cm =
      Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a, b, c]}\n"
        "spec: {args: [x1, x2]}\n");
  Json out = MustMerge(cm, Y("metadata: {$deleteFromPrimitiveList/finalizers: [b, z]}\n"
                             "spec: {$deleteFromPrimitiveList/args: [x1], "
                             "$deleteFromPrimitiveList/missing: [q]}"));
  CHECK(out["metadata"]["finalizers"] == Json{"a", "c"});
  CHECK(out["spec"]["args"] == Json{"x2"});
  CHECK_FALSE(out["spec"].contains("missing"));
  CHECK(MergeError(cm, Y("metadata: {$deleteFromPrimitiveListfinalizers: [b]}")) ==
        "metadata: invalid directive \"$deleteFromPrimitiveListfinalizers\" (expected "
        "\"$deleteFromPrimitiveList/<field>\")");
}

// patch.go mergePatchIntoOriginal (test cases "merge lists of maps" and
// "add an item in a list and preserve order", three-way patch applied to
// "current"): $setElementOrder sets the order of the merged list.
TEST_CASE("$setElementOrder orders the merged list", "[strategic]") {
  Json current = Deployment(
      "{containers: [{name: '1', tty: true}, {name: '2', image: b, tty: "
      "false}]}");
  Json out = MustMerge(current, PodSpecPatch(R"({
    $setElementOrder/containers: [{name: '4'}, {name: '1'}, {name: '2'}, {name: '3'}],
    containers: [{name: '4', image: d}, {name: '3', image: c}]})"));
  CHECK(PodSpecOf(out)["containers"] == Y(R"([{name: '4', image: d}, {name: '1', tty: true},
    {name: '2', image: b, tty: false}, {name: '3', image: c}])"));

  // Only the order changes when the patch has no list.
  Json reordered =
      MustMerge(current, PodSpecPatch("{$setElementOrder/containers: [{name: '2'}, {name: "
                                      "'1'}]}"));
  CHECK(PodSpecOf(reordered)["containers"] ==
        Y("[{name: '2', image: b, tty: false}, {name: '1', tty: true}]"));

  // Primitive lists too.
  Json cm = Y("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, finalizers: [a, b]}\n");
  CHECK(MustMerge(cm, Y("metadata: {$setElementOrder/finalizers: [c, b, a], finalizers: "
                        "[c]}"))["metadata"]["finalizers"] == Json{"c", "b", "a"});

  CHECK(MergeError(current, PodSpecPatch("{$setElementOrder/containers: [{name: '1'}], "
                                         "containers: [{name: '5'}]}")) ==
        "spec.template.spec.containers: the order of the patch list [{\"name\":\"5\"}] does not "
        "match its $setElementOrder list [{\"name\":\"1\"}]");
}

// Errors for inputs that are not maps.
TEST_CASE("A strategic merge patch needs two maps", "[strategic]") {
  CHECK(MergeError(Json::array(), Json::object()) == "the patched document is not a map");
  CHECK(MergeError(Json::object(), Json::array()) == "a strategic merge patch must be a map");
}

}  // namespace
}  // namespace flotilla::common
