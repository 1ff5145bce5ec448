// The Kubernetes applier against a real API server (KUBECONFIG, its current
// context, or FLOTILLA_KUBE_CONTEXT): the scenarios the API double covers in
// tests/agent/kube_applier_test.cc, plus what only real controllers show
// (a Deployment rolling out). Everything goes into a fresh namespace
// flotilla-it-<random>, deleted at the end. Use a disposable cluster (kind,
// k3d, minikube): the run creates and deletes objects there.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "agent/apply/kube/kube_applier.h"
#include "agent/apply/kube/kube_client.h"
#include "agent/apply/kube/kube_config.h"

namespace flotilla::agent::kube {
namespace {

using nlohmann::json;

std::string RandomSuffix() {
  std::random_device rd;
  std::mt19937 gen(rd());
  std::uniform_int_distribution<int> dist(0, 35);
  std::string out;
  for (int i = 0; i < 6; ++i) out += "abcdefghijklmnopqrstuvwxyz0123456789"[dist(gen)];
  return out;
}

std::unique_ptr<KubeClient> Client() {
  const char* context = std::getenv("FLOTILLA_KUBE_CONTEXT");
  auto config = LoadKubeconfig(std::getenv("KUBECONFIG"), context ? context : "");
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  auto client = KubeClient::Create(*config);
  INFO(client.status().ToString());
  REQUIRE(client.ok());
  return *std::move(client);
}

// A namespace for one test case, deleted with everything in it at the end.
struct Scratch {
  Scratch() : ns("flotilla-it-" + RandomSuffix()), admin(Client()) {
    applier = std::make_unique<KubeApplier>(Client());
  }
  ~Scratch() {
    (void)admin->Call("DELETE", absl::StrCat("/api/v1/namespaces/", ns));
    (void)admin->Call("DELETE",
                      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                      "widgets.it.flotilla.dev");
  }
  ApplyRequest Request(std::vector<json> objects, std::vector<ObjectRef> previously = {}) const {
    ApplyRequest r;
    r.bundle_deployment_id = "it-web";
    r.deployment_id = "s-it:1";
    r.objects = std::move(objects);
    r.previously_applied = std::move(previously);
    r.release_namespace = ns;
    return r;
  }
  CheckRequest Check(std::vector<json> desired) const {
    CheckRequest r;
    r.bundle_deployment_id = "it-web";
    r.desired = std::move(desired);
    r.release_namespace = ns;
    return r;
  }
  json ConfigMap(const std::string& name, const std::string& color) const {
    return {{"apiVersion", "v1"},
            {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"namespace", ns}}},
            {"data", {{"color", color}}}};
  }
  json Deployment(const std::string& name) const {
    return json::parse(absl::StrCat(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":")",
                                    name, R"(","namespace":")", ns, R"("},
      "spec":{"replicas":1,"selector":{"matchLabels":{"app":")",
                                    name, R"("}},
        "template":{"metadata":{"labels":{"app":")",
                                    name, R"("}},
          "spec":{"containers":[{"name":"pause","image":"registry.k8s.io/pause:3.9"}]}}}})"));
  }
  // An edit by someone else: a JSON merge patch under another field manager.
  void Edit(const std::string& path, const json& patch) {
    auto st = admin->Call("PATCH", absl::StrCat(path, "?fieldManager=kubectl-edit"), patch.dump(),
                          "application/merge-patch+json");
    INFO(st.status().ToString());
    REQUIRE(st.ok());
  }

  std::string ns;
  std::unique_ptr<KubeClient> admin;
  std::unique_ptr<KubeApplier> applier;
};

TEST_CASE("real cluster: apply, re-apply without writes, prune", "[kube-real]") {
  Scratch s;
  auto first = s.applier->Apply(s.Request({s.ConfigMap("a", "blue"), s.ConfigMap("b", "red")}));
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(first->written == 2);
  auto again = s.applier->Apply(s.Request({s.ConfigMap("a", "blue"), s.ConfigMap("b", "red")}));
  REQUIRE(again.ok());
  CHECK(again->written == 0);
  auto pruned = s.applier->Apply(s.Request({s.ConfigMap("a", "blue")}, first->applied));
  REQUIRE(pruned.ok());
  CHECK(pruned->pruned == 1);
  // Background deletion of a ConfigMap is immediate enough to see at once.
  CHECK(s.admin->Call("GET", absl::StrCat("/api/v1/namespaces/", s.ns, "/configmaps/b"))
            .status()
            .code() == absl::StatusCode::kNotFound);
}

TEST_CASE("real cluster: drift is detected with a patch, a conflict named, and corrected by force",
          "[kube-real]") {
  Scratch s;
  const std::vector<json> desired = {s.ConfigMap("web", "blue")};
  REQUIRE(s.applier->Apply(s.Request(desired)).ok());
  auto clean = s.applier->Check(s.Check(desired));
  REQUIRE(clean.ok());
  CHECK(clean->modified.empty());

  s.Edit(absl::StrCat("/api/v1/namespaces/", s.ns, "/configmaps/web"),
         {{"data", {{"color", "red"}}}});
  auto drifted = s.applier->Check(s.Check(desired));
  REQUIRE(drifted.ok());
  REQUIRE(drifted->modified.size() == 1);
  CHECK(drifted->modified[0].message == R"(modified {"data":{"color":"blue"}})");

  auto conflict = s.applier->Apply(s.Request(desired));
  CHECK(conflict.status().code() == absl::StatusCode::kAborted);
  ApplyRequest forced = s.Request(desired);
  forced.force = true;
  REQUIRE(s.applier->Apply(forced).ok());
  CHECK(s.applier->Check(s.Check(desired))->modified.empty());

  // comparePatches: the field is not compared.
  s.Edit(absl::StrCat("/api/v1/namespaces/", s.ns, "/configmaps/web"),
         {{"data", {{"color", "green"}}}});
  CheckRequest check = s.Check(desired);
  ComparePatch patch;
  patch.api_version = "v1";
  patch.kind = "ConfigMap";
  patch.json_pointers = {"/data/color"};
  check.compare_patches = {patch};
  CHECK(s.applier->Check(check)->modified.empty());
}

TEST_CASE("real cluster: a Deployment is NotReady until its controller rolls it out",
          "[kube-real]") {
  Scratch s;
  const std::vector<json> desired = {s.Deployment("web")};
  REQUIRE(s.applier->Apply(s.Request(desired)).ok());
  // Poll with a deadline: the real controllers take their time.
  const absl::Time deadline = absl::Now() + absl::Minutes(3);
  std::string last;
  bool ready = false;
  while (absl::Now() < deadline) {
    auto result = s.applier->Check(s.Check(desired));
    REQUIRE(result.ok());
    if (result->non_ready.empty()) {
      ready = true;
      break;
    }
    last = result->non_ready[0].message;
    usleep(500 * 1000);  // polling a real cluster, not waiting for a test event
  }
  INFO("last reason: " << last);
  CHECK(ready);
}

TEST_CASE("real cluster: a CRD first, then its objects; an unknown kind names itself",
          "[kube-real]") {
  Scratch s;
  json crd = json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1",
    "kind":"CustomResourceDefinition","metadata":{"name":"widgets.it.flotilla.dev"},
    "spec":{"group":"it.flotilla.dev","scope":"Namespaced",
      "names":{"plural":"widgets","singular":"widget","kind":"Widget"},
      "versions":[{"name":"v1","served":true,"storage":true,
        "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})");
  json widget = {{"apiVersion", "it.flotilla.dev/v1"},
                 {"kind", "Widget"},
                 {"metadata", {{"name", "w"}, {"namespace", s.ns}}},
                 {"spec", {{"size", 3}}}};
  // The CRD may take a moment to be served: retry the apply until then.
  const absl::Time deadline = absl::Now() + absl::Minutes(1);
  absl::StatusOr<ApplyResult> applied = absl::UnknownError("not tried");
  while (absl::Now() < deadline) {
    applied = s.applier->Apply(s.Request({widget, crd}));
    if (applied.ok()) break;
    usleep(500 * 1000);
  }
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());

  json gadget = {{"apiVersion", "it.flotilla.dev/v1"},
                 {"kind", "Gadget"},
                 {"metadata", {{"name", "g"}, {"namespace", s.ns}}}};
  auto missing = s.applier->Apply(s.Request({gadget}));
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(
      absl::StrContains(missing.status().message(), "is its CustomResourceDefinition installed?"));
}

}  // namespace
}  // namespace flotilla::agent::kube
