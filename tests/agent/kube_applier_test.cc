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
  REQUIRE(c.applier->Remove(first->applied, false).ok());
  CHECK_FALSE(api.Get("v1", "ConfigMap", "apps", "a").has_value());
  CHECK(api.Get("apiextensions.k8s.io/v1", "CustomResourceDefinition", "", "widgets.example.com")
            .has_value());
}

TEST_CASE("drift is a missing object or a changed field; fields others add are not drift",
          "[kube-applier]") {
  KubeApiDouble api;
  Connected c(api);
  const std::vector<json> desired = {ConfigMap("apps", "web", "blue"), Deployment("apps", "web")};
  REQUIRE(c.applier->Apply(Request(desired)).ok());
  CHECK(c.applier->Drifted(desired)->empty());

  // A controller's status and an added annotation are not drift.
  api.SetStatus("apps/v1", "Deployment", "apps", "web", {{"replicas", 2}});
  json annotated = *api.Get("v1", "ConfigMap", "apps", "web");
  annotated["metadata"]["annotations"]["note"] = "by hand";
  api.Put(annotated);
  CHECK(c.applier->Drifted(desired)->empty());

  json edited = *api.Get("v1", "ConfigMap", "apps", "web");
  edited["data"]["color"] = "red";
  api.Put(edited);
  auto drifted = c.applier->Drifted(desired);
  REQUIRE(drifted.ok());
  REQUIRE(drifted->size() == 1);
  CHECK(drifted->front().ToString() == "ConfigMap apps/web");

  api.Remove("apps/v1", "Deployment", "apps", "web");
  CHECK(c.applier->Drifted(desired)->size() == 2);

  // Correcting: applying again with force takes the field back.
  ApplyRequest fix = Request(desired);
  fix.force = true;
  REQUIRE(c.applier->Apply(fix).ok());
  CHECK(c.applier->Drifted(desired)->empty());
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
  r.namespace_labels = {{"team", "web"}};
  r.namespace_annotations = {{"owner", "ops"}};
  REQUIRE(c.applier->Apply(r).ok());
  auto ns = api.Get("v1", "Namespace", "", "apps");
  REQUIRE(ns.has_value());
  CHECK((*ns)["metadata"]["labels"]["team"] == "web");
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
