// The agent's Kubernetes applier (agent/apply/kube/) against the API server
// double in tests/support/kube_api_double.h, over real HTTPS: server-side
// apply, namespaces and CRDs first, the inventory, re-apply without writes,
// pruning, drift, conflicts, retries and token rotation.
#include "agent/apply/kube/kube_applier.h"

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/apply/kube/kube_client.h"
#include "common/fs.h"
#include "tests/support/kube_api_double.h"
#include "tests/support/test_util.h"

namespace flotilla::agent::kube {
namespace {

using nlohmann::json;
using testing::KubeApiDouble;

// A client of `api`, recording the waits between retries instead of sleeping.
struct Connected {
  explicit Connected(KubeApiDouble& api, const std::string& token = "test-token") {
    KubeConfig config;
    config.server = api.url();
    config.ca_pem = api.ca_pem();
    config.token = token;
    config.source = "test";
    KubeClientOptions options;
    options.sleep = [this](absl::Duration d) { waits.push_back(d); };
    auto c = KubeClient::Create(config, options);
    REQUIRE(c.ok());
    client = c->get();
    applier = std::make_unique<KubeApplier>(*std::move(c));
  }
  std::vector<absl::Duration> waits;
  KubeClient* client = nullptr;
  std::unique_ptr<KubeApplier> applier;
};

json ConfigMap(const std::string& ns, const std::string& name, const std::string& color) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"color", color}}}};
}

json Deployment(const std::string& ns, const std::string& name) {
  return json::parse(absl::StrCat(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":")",
                                  name, R"(","namespace":")", ns, R"("},
    "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
      "template":{"metadata":{"labels":{"app":"web"}},
        "spec":{"containers":[{"name":"web","image":"nginx:1.25"}]}}}})"));
}

ApplyRequest Request(std::vector<json> objects, std::vector<ObjectRef> previously = {}) {
  ApplyRequest r;
  r.bundle_deployment_id = "apps-web";
  r.deployment_id = "s-abc:123";
  r.objects = std::move(objects);
  r.previously_applied = std::move(previously);
  r.release_namespace = "apps";
  return r;
}

TEST_CASE("apply creates the namespace, then the objects with the inventory, by server-side apply",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  auto result =
      c.applier->Apply(Request({ConfigMap("apps", "web", "blue"), Deployment("apps", "web")}));
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  CHECK(result->applied.size() == 2);
  CHECK(result->written == 2);
  REQUIRE(api.Get("v1", "Namespace", "", "apps").has_value());
  auto cm = api.Get("v1", "ConfigMap", "apps", "web");
  REQUIRE(cm.has_value());
  CHECK((*cm)["data"]["color"] == "blue");
  CHECK((*cm)["metadata"]["labels"][kInventoryLabel] == "apps-web");
  CHECK((*cm)["metadata"]["annotations"][kDeploymentIdAnnotation] == "s-abc:123");
  bool applied_by_agent = false;
  for (const json& m : (*cm)["metadata"]["managedFields"]) {
    applied_by_agent =
        applied_by_agent || (m["manager"] == kFieldManager && m["operation"] == "Apply");
  }
  CHECK(applied_by_agent);
  bool used_apply_patch = false;
  for (const std::string& r : api.requests()) {
    used_apply_patch =
        used_apply_patch ||
        absl::StartsWith(
            r, "PATCH /api/v1/namespaces/apps/configmaps/web?fieldManager=flotilla-agent");
  }
  CHECK(used_apply_patch);

  // The same request again changes nothing on the server.
  const int writes = api.writes();
  auto again =
      c.applier->Apply(Request({ConfigMap("apps", "web", "blue"), Deployment("apps", "web")}));
  REQUIRE(again.ok());
  CHECK(again->written == 0);
  CHECK(api.writes() == writes);
}

TEST_CASE("objects a deployment no longer has are pruned; CRDs and keepResources stay",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  const json crd =
      json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
    "metadata":{"name":"widgets.example.com"},
    "spec":{"group":"example.com","scope":"Namespaced",
      "names":{"kind":"Widget","plural":"widgets","singular":"widget"},
      "versions":[{"name":"v1","served":true,"storage":true,
        "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})");
  const json widget = json::parse(R"({"apiVersion":"example.com/v1","kind":"Widget",
    "metadata":{"name":"w","namespace":"apps"},"spec":{"size":3}})");
  // The custom resource comes before its CRD in the request; the CRD goes first.
  auto first = c.applier->Apply(
      Request({widget, ConfigMap("apps", "a", "x"), ConfigMap("apps", "b", "y"), crd}));
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(first->applied.size() == 4);
  REQUIRE(api.Get("example.com/v1", "Widget", "apps", "w").has_value());

  auto second = c.applier->Apply(Request({ConfigMap("apps", "a", "x")}, first->applied));
  REQUIRE(second.ok());
  CHECK(second->pruned == 2);  // b and the widget; the CRD is kept
  CHECK_FALSE(api.Get("v1", "ConfigMap", "apps", "b").has_value());
  CHECK_FALSE(api.Get("example.com/v1", "Widget", "apps", "w").has_value());
  CHECK(api.Get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com")
            .has_value());
  bool background = false;
  for (const std::string& r : api.requests()) {
    background = background ||
                 r == "DELETE /api/v1/namespaces/apps/configmaps/b?propagationPolicy=Background";
  }
  CHECK(background);

  ApplyRequest keep = Request({}, second->applied);
  keep.keep_resources = true;
  REQUIRE(c.applier->Apply(keep).ok());
  CHECK(api.Get("v1", "ConfigMap", "apps", "a").has_value());

  // Removing the deployment deletes its objects, but not a CRD.
  REQUIRE(c.applier->Remove({first->applied}).ok());
  CHECK_FALSE(api.Get("v1", "ConfigMap", "apps", "a").has_value());
  CHECK(api.Get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com")
            .has_value());
}

CheckRequest Check(std::vector<json> desired) {
  CheckRequest r;
  r.bundle_deployment_id = "apps-web";
  r.desired = std::move(desired);
  r.release_namespace = "apps";
  return r;
}

// Status a Deployment's controller reports once all `n` replicas run the
// current template.
json RolledOut(int n) {
  return {{"observedGeneration", 1},
          {"replicas", n},
          {"updatedReplicas", n},
          {"readyReplicas", n},
          {"availableReplicas", n},
          {"conditions",
           {{{"type", "Available"}, {"status", "True"}},
            {{"type", "Progressing"}, {"status", "True"}, {"reason", "NewReplicaSetAvailable"}}}}};
}

TEST_CASE("drift is a missing object or a changed field; fields others add are not drift",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  const std::vector<json> desired = {ConfigMap("apps", "web", "blue"), Deployment("apps", "web")};
  REQUIRE(c.applier->Apply(Request(desired)).ok());
  api.SetStatus("apps/v1", "Deployment", "apps", "web", RolledOut(2));
  auto clean = c.applier->Check(Check(desired));
  REQUIRE(clean.ok());
  CHECK(clean->modified.empty());
  CHECK(clean->non_ready.empty());

  // A controller's status and an added annotation are not drift.
  json annotated = *api.Get("v1", "ConfigMap", "apps", "web");
  annotated["metadata"]["annotations"]["note"] = "by hand";
  api.Put(annotated);
  CHECK(c.applier->Check(Check(desired))->modified.empty());

  json edited = *api.Get("v1", "ConfigMap", "apps", "web");
  edited["data"]["color"] = "red";
  api.Put(edited);
  auto drifted = c.applier->Check(Check(desired));
  REQUIRE(drifted.ok());
  REQUIRE(drifted->modified.size() == 1);
  CHECK(drifted->modified[0].ref.ToString() == "ConfigMap apps/web");
  CHECK(drifted->modified[0].message == R"(modified {"data":{"color":"blue"}})");

  api.Remove("apps/v1", "Deployment", "apps", "web");
  drifted = c.applier->Check(Check(desired));
  REQUIRE(drifted->modified.size() == 2);
  CHECK(drifted->modified[1] ==
        ResourceProblem{{"apps/v1", "Deployment", "apps", "web"}, "missing"});

  // Correcting: applying again with force takes the field back.
  ApplyRequest fix = Request(desired);
  fix.force = true;
  REQUIRE(c.applier->Apply(fix).ok());
  CHECK(c.applier->Check(Check(desired))->modified.empty());
}

TEST_CASE("an object without the inventory label is not ours; one of ours not desired is extra",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  REQUIRE(
      c.applier->Apply(Request({ConfigMap("apps", "a", "1"), ConfigMap("apps", "b", "2")})).ok());
  json a = *api.Get("v1", "ConfigMap", "apps", "a");
  a["metadata"]["labels"].erase(kInventoryLabel);
  api.Put(a);

  // "b" is still labelled ours but the deployment no longer has it.
  auto result = c.applier->Check(Check({ConfigMap("apps", "a", "1")}));
  REQUIRE(result.ok());
  REQUIRE(result->modified.size() == 2);
  CHECK(result->modified[0] ==
        ResourceProblem{{"v1", "ConfigMap", "apps", "a"}, "not owned by us"});
  CHECK(result->modified[1] == ResourceProblem{{"v1", "ConfigMap", "apps", "b"}, "extra"});
  // One list per kind and namespace, by the label.
  bool listed = false;
  for (const std::string& r : api.requests()) {
    listed = listed || r == "GET /api/v1/namespaces/apps/configmaps?labelSelector=flotilla.dev%2F"
                            "bundle-deployment%3Dapps-web";
  }
  CHECK(listed);
}

TEST_CASE("comparePatches leave fields, or whole objects, out of the drift check",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  const std::vector<json> desired = {ConfigMap("apps", "web", "blue"), Deployment("apps", "web")};
  REQUIRE(c.applier->Apply(Request(desired)).ok());
  api.SetStatus("apps/v1", "Deployment", "apps", "web", RolledOut(2));
  // An autoscaler changes replicas; someone deletes the ConfigMap.
  json scaled = *api.Get("apps/v1", "Deployment", "apps", "web");
  scaled["spec"]["replicas"] = 5;
  api.Put(scaled);
  json status = RolledOut(5);
  status["observedGeneration"] =
      (*api.Get("apps/v1", "Deployment", "apps", "web"))["metadata"]["generation"];
  api.SetStatus("apps/v1", "Deployment", "apps", "web", status);
  api.Remove("v1", "ConfigMap", "apps", "web");
  REQUIRE(c.applier->Check(Check(desired))->modified.size() == 2);

  CheckRequest check = Check(desired);
  ComparePatch replicas;
  replicas.api_version = "apps/v1";
  replicas.kind = "Deployment";
  replicas.name = "web";
  replicas.namespace_ = "apps";
  replicas.json_pointers = {"/spec/replicas"};
  ComparePatch ignore;
  ignore.api_version = "v1";
  ignore.kind = "ConfigMap";
  ignore.name = "w.b";
  ignore.ignore = true;
  check.compare_patches = {replicas, ignore};
  auto result = c.applier->Check(check);
  REQUIRE(result.ok());
  CHECK(result->modified.empty());
  CHECK(result->non_ready.empty());

  // Another namespace in the entry: not this object.
  check.compare_patches[0].namespace_ = "other";
  REQUIRE(c.applier->Check(check)->modified.size() == 1);
  CHECK(c.applier->Check(check)->modified[0].message == R"(modified {"spec":{"replicas":2}})");
}

TEST_CASE("readiness follows the status the controllers report", "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  const std::vector<json> desired = {Deployment("apps", "web")};
  REQUIRE(c.applier->Apply(Request(desired)).ok());

  auto not_ready = [&]() -> std::string {
    auto result = c.applier->Check(Check(desired));
    REQUIRE(result.ok());
    if (result->non_ready.empty()) return "";
    CHECK(result->non_ready[0].ref.ToString() == "Deployment apps/web");
    return result->non_ready[0].message;
  };
  // Nothing reported yet: no replicas.
  CHECK(not_ready() == "Replicas: 0/2");
  json status = RolledOut(2);
  status["updatedReplicas"] = 1;
  api.SetStatus("apps/v1", "Deployment", "apps", "web", status);
  CHECK(not_ready() == "Updated: 1/2");
  status["updatedReplicas"] = 2;
  status["availableReplicas"] = 1;
  api.SetStatus("apps/v1", "Deployment", "apps", "web", status);
  CHECK(not_ready() == "Available: 1/2");
  api.SetStatus("apps/v1", "Deployment", "apps", "web", RolledOut(2));
  CHECK(not_ready().empty());

  // A new template: generation 2 not yet observed.
  json changed = Deployment("apps", "web");
  changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.26";
  REQUIRE(c.applier->Apply(Request({changed})).ok());
  CHECK(absl::StartsWith(not_ready(), "waiting for the controller to observe generation 2"));

  // The rollout is stuck: an error.
  status = RolledOut(2);
  status["observedGeneration"] = 2;
  status["conditions"][1] = {{"type", "Progressing"},
                             {"status", "False"},
                             {"reason", "ProgressDeadlineExceeded"},
                             {"message", "ReplicaSet \"web-2\" has timed out progressing."}};
  api.SetStatus("apps/v1", "Deployment", "apps", "web", status);
  CHECK(not_ready() ==
        "error: ProgressDeadlineExceeded: ReplicaSet \"web-2\" has timed out progressing.");

  // ignore.conditions takes the condition out of the judgement.
  CheckRequest check = Check({changed});
  check.ignore_conditions = {{{"type", "Progressing"}, {"status", "False"}}};
  CHECK(c.applier->Check(check)->non_ready.empty());
}

TEST_CASE("an object that exists and is not this deployment's needs takeOwnership",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  // Made by hand (kubectl), and another deployment's.
  api.Put(ConfigMap("apps", "handmade", "red"));
  ApplyRequest other = Request({ConfigMap("apps", "shared", "blue")});
  other.bundle_deployment_id = "apps-other";
  REQUIRE(c.applier->Apply(other).ok());

  auto refused = c.applier->Apply(Request({ConfigMap("apps", "handmade", "blue")}));
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused.status().message() ==
        "ConfigMap apps/handmade already exists and is not managed by Flotilla; set "
        "takeOwnership: true in fleet.yaml to adopt it");
  refused = c.applier->Apply(Request({ConfigMap("apps", "shared", "green")}));
  CHECK(refused.status().message() ==
        "ConfigMap apps/shared already exists and belongs to bundle deployment apps-other; set "
        "takeOwnership: true in fleet.yaml to adopt it");
  CHECK((*api.Get("v1", "ConfigMap", "apps", "handmade"))["data"]["color"] == "red");

  ApplyRequest adopt = Request({ConfigMap("apps", "handmade", "blue")});
  adopt.take_ownership = true;
  auto adopted_result = c.applier->Apply(adopt);
  INFO(adopted_result.status().ToString());
  REQUIRE(adopted_result.ok());
  json adopted = *api.Get("v1", "ConfigMap", "apps", "handmade");
  CHECK(adopted["data"]["color"] == "blue");
  CHECK(adopted["metadata"]["labels"][kInventoryLabel] == "apps-web");
  // Ours from now on: applying again needs no takeOwnership.
  REQUIRE(
      c.applier->Apply(Request({ConfigMap("apps", "handmade", "green")}, {*RefOf(adopted)})).ok());
}

TEST_CASE("deleteNamespace deletes the namespace after the objects, never default or kube-*",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  auto applied = c.applier->Apply(Request({ConfigMap("apps", "web", "blue")}));
  REQUIRE(applied.ok());
  REQUIRE(c.applier->Remove({applied->applied, false, "apps"}).ok());
  CHECK_FALSE(api.Get("v1", "Namespace", "", "apps").has_value());

  ApplyRequest in_default = Request({ConfigMap("default", "web", "blue")});
  applied = c.applier->Apply(in_default);
  REQUIRE(applied.ok());
  REQUIRE(c.applier->Remove({applied->applied, false, "default"}).ok());
  CHECK(api.Get("v1", "Namespace", "", "default").has_value());
}

TEST_CASE("a serviceAccount must exist in the agent's namespace; writes then impersonate it",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  ApplyRequest r = Request({ConfigMap("apps", "web", "blue")});
  r.service_account = "deployer";
  auto missing = c.applier->Apply(r);
  CHECK(missing.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(missing.status().message() ==
        "serviceAccount deployer: no such ServiceAccount in namespace default (the agent's); "
        "create it there with the rights the bundle needs");
  CHECK_FALSE(api.Get("v1", "ConfigMap", "apps", "web").has_value());

  api.Put({{"apiVersion", "v1"},
           {"kind", "ServiceAccount"},
           {"metadata", {{"name", "deployer"}, {"namespace", "default"}}}});
  auto applied = c.applier->Apply(r);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  CHECK(api.Get("v1", "ConfigMap", "apps", "web").has_value());
  RemoveRequest removal{applied->applied};
  removal.service_account = "deployer";
  REQUIRE(c.applier->Remove(removal).ok());
  CHECK_FALSE(api.Get("v1", "ConfigMap", "apps", "web").has_value());
}

TEST_CASE("a field another manager owns is a conflict naming the object, unless forced",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  REQUIRE(c.applier->Apply(Request({ConfigMap("apps", "web", "blue")})).ok());
  json edited = *api.Get("v1", "ConfigMap", "apps", "web");
  edited["data"]["color"] = "red";
  api.Put(edited);
  auto conflict = c.applier->Apply(Request({ConfigMap("apps", "web", "green")}));
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().code() == absl::StatusCode::kAborted);
  CHECK(absl::StartsWith(conflict.status().message(), "ConfigMap apps/web: PATCH "));
  CHECK(absl::StrContains(conflict.status().message(), "HTTP 409"));
  CHECK(absl::StrContains(conflict.status().message(), "conflict"));

  ApplyRequest forced = Request({ConfigMap("apps", "web", "green")});
  forced.force = true;
  REQUIRE(c.applier->Apply(forced).ok());
  CHECK((*api.Get("v1", "ConfigMap", "apps", "web"))["data"]["color"] == "green");
}

TEST_CASE("the release namespace gets the bundle's namespace labels and annotations",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  ApplyRequest r = Request({ConfigMap("apps", "web", "blue")});
  r.namespace_labels = {{"team", "web"}, {"pod-security.kubernetes.io/enforce", "privileged"}};
  r.namespace_annotations = {{"owner", "ops"}};
  REQUIRE(c.applier->Apply(r).ok());
  auto ns = api.Get("v1", "Namespace", "", "apps");
  REQUIRE(ns.has_value());
  CHECK((*ns)["metadata"]["labels"]["team"] == "web");
  // Pod security stays the cluster's decision, as in Fleet.
  CHECK_FALSE((*ns)["metadata"]["labels"].contains("pod-security.kubernetes.io/enforce"));
  CHECK((*ns)["metadata"]["annotations"]["owner"] == "ops");
}

TEST_CASE("a kind the API server does not serve is an error naming it", "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  json gadget = {{"apiVersion", "example.com/v1"},
                 {"kind", "Gadget"},
                 {"metadata", {{"name", "g"}, {"namespace", "apps"}}}};
  auto result = c.applier->Apply(Request({gadget}));
  CHECK(result.status().code() == absl::StatusCode::kNotFound);
  CHECK(result.status().message() ==
        "Gadget apps/g: the API server does not serve kind Gadget in example.com/v1 (is its "
        "CustomResourceDefinition installed?)");
}

TEST_CASE("the client retries 429 and 5xx, honouring Retry-After, and reports the API's message",
          "[kube-client]") {
  KubeApiDouble api;
  Connected c(api);
  api.FailNext("GET", "/api/v1/namespaces", 429, "too many requests", 1, 3);
  api.FailNext("GET", "/api/v1/namespaces", 503, "etcd leader changed", 1);
  auto list = c.client->Call("GET", "/api/v1/namespaces");
  INFO(list.status().ToString());
  REQUIRE(list.ok());
  REQUIRE(c.waits.size() == 2);
  CHECK(c.waits[0] == absl::Seconds(3));         // Retry-After
  CHECK(c.waits[1] == absl::Milliseconds(400));  // the doubled backoff

  api.FailNext("GET", "/api/v1/namespaces", 500, "internal error", 5);  // = max_attempts
  auto down = c.client->Call("GET", "/api/v1/namespaces");
  CHECK(down.status().code() == absl::StatusCode::kUnavailable);
  CHECK(down.status().message() ==
        "GET /api/v1/namespaces: HTTP 500: internal error (after 5 attempts)");

  api.FailNext("PATCH", "/api/v1/namespaces/apps/configmaps/web", 422,
               "ConfigMap \"web\" is invalid: data: Invalid value");
  auto invalid = c.applier->Apply(Request({ConfigMap("apps", "web", "blue")}));
  CHECK(invalid.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(invalid.status().message(),
                          "HTTP 422: ConfigMap \"web\" is invalid: data: Invalid value"));
}

TEST_CASE("a wrong token is Unauthenticated; a rotated token file is read again", "[kube-client]") {
  KubeApiDouble api;
  {
    Connected wrong(api, "not-the-token");
    auto denied = wrong.client->Call("GET", "/api/v1/namespaces");
    CHECK(denied.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(absl::StartsWith(denied.status().message(), "GET /api/v1/namespaces: HTTP 401"));
  }
  testing::TempDir dir;
  REQUIRE(common::WriteFileAtomic(dir.Sub("token"), "test-token\n").ok());
  KubeConfig config;
  config.server = api.url();
  config.ca_pem = api.ca_pem();
  config.token_file = dir.Sub("token");
  auto client = KubeClient::Create(config);
  REQUIRE(client.ok());
  REQUIRE((*client)->Call("GET", "/api/v1/namespaces").ok());
  api.SetToken("rotated");
  REQUIRE(common::WriteFileAtomic(dir.Sub("token"), "rotated\n").ok());
  auto after = (*client)->Call("GET", "/api/v1/namespaces");
  INFO(after.status().ToString());
  CHECK(after.ok());
}

}  // namespace
}  // namespace flotilla::agent::kube
