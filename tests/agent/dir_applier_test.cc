#include "agent/apply/dir_applier.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/yaml.h"

namespace flotilla::agent {
namespace {

using Json = nlohmann::json;

// A fresh directory under $TMPDIR, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/dir_applier_test.XXXXXX";
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Json ConfigMap(const std::string& ns, const std::string& name, const std::string& value) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"data", {{"key", value}}}};
}

Json Deployment(const std::string& ns, const std::string& name) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"replicas", 2}}}};
}

Json ClusterRole(const std::string& name) {
  return {{"apiVersion", "rbac.authorization.k8s.io/v1"},
          {"kind", "ClusterRole"},
          {"metadata", {{"name", name}}},
          {"rules", Json::array()}};
}

ObjectRef Ref(const Json& object) {
  auto ref = RefOf(object);
  REQUIRE(ref.ok());
  return *ref;
}

std::string Read(const std::string& path) {
  auto data = common::ReadFile(path);
  REQUIRE(data.ok());
  return *data;
}

std::vector<std::string> Files(const std::string& root) {
  auto files = common::ListFilesRecursive(root);
  REQUIRE(files.ok());
  return *files;
}

// Every entry (files and directories) below `root`, relative, sorted.
std::vector<std::string> Entries(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    out.push_back(std::filesystem::relative(e.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

ApplyRequest Request(std::vector<Json> objects, std::vector<ObjectRef> previously_applied = {}) {
  ApplyRequest request;
  request.bundle_deployment_id = "bd-1";
  request.deployment_id = "d-1";
  request.objects = std::move(objects);
  request.previously_applied = std::move(previously_applied);
  return request;
}

// A fresh directory receives a namespaced ConfigMap and Deployment: each lands
// in <root>/<namespace>/<kind lowercased>/<name>.yaml holding its YAML.
TEST_CASE("Applying a bundle writes one YAML file per object at its documented path") {
  ScratchDir tmp;
  std::string root = tmp.path() + "/cluster";
  DirApplier applier(root);
  Json cm = ConfigMap("default", "settings", "a");
  Json deploy = Deployment("web", "api");

  auto result = applier.Apply(Request({deploy, cm}));

  REQUIRE(result.ok());
  CHECK(result->written == 2);
  CHECK(result->pruned == 0);
  CHECK(result->applied == std::vector<ObjectRef>{Ref(cm), Ref(deploy)});
  CHECK(Files(root) ==
        std::vector<std::string>{"default/configmap/settings.yaml", "web/deployment/api.yaml"});
  CHECK(Read(root + "/default/configmap/settings.yaml") == common::ToYaml(cm));
  CHECK(Read(root + "/web/deployment/api.yaml") == common::ToYaml(deploy));
  CHECK(applier.PathFor(Ref(cm)) == root + "/default/configmap/settings.yaml");
}

// The agent re-applies the same request (e.g. after a reconnect): nothing on
// disk changes, so nothing is written.
TEST_CASE("Re-applying the same request writes nothing") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  ApplyRequest request = Request({ConfigMap("default", "settings", "a"), Deployment("web", "api")});
  REQUIRE(applier.Apply(request).ok());

  auto again = applier.Apply(request);

  REQUIRE(again.ok());
  CHECK(again->written == 0);
  CHECK(again->pruned == 0);
  CHECK(again->applied.size() == 2);
}

// A new bundle version changes one object's data: only that file is rewritten.
TEST_CASE("A changed object is rewritten and the unchanged ones are not") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  REQUIRE(applier.Apply(Request({ConfigMap("default", "settings", "a"), Deployment("web", "api")}))
              .ok());
  Json changed = ConfigMap("default", "settings", "b");

  auto result = applier.Apply(Request({changed, Deployment("web", "api")}));

  REQUIRE(result.ok());
  CHECK(result->written == 1);
  CHECK(Read(tmp.path() + "/default/configmap/settings.yaml") == common::ToYaml(changed));
}

// The new bundle version no longer has the Deployment: its file goes, and so
// do the directories it leaves empty.
TEST_CASE("An object dropped from the bundle is pruned together with its empty directories") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  Json cm = ConfigMap("default", "settings", "a");
  Json deploy = Deployment("web", "api");
  auto first = applier.Apply(Request({cm, deploy}));
  REQUIRE(first.ok());

  auto second = applier.Apply(Request({cm}, first->applied));

  REQUIRE(second.ok());
  CHECK(second->pruned == 1);
  CHECK(second->written == 0);
  CHECK(second->applied == std::vector<ObjectRef>{Ref(cm)});
  CHECK(Entries(tmp.path()) == std::vector<std::string>{"default", "default/configmap",
                                                        "default/configmap/settings.yaml"});
}

// Same as above but the bundle sets keepResources: the dropped object stays.
TEST_CASE("With keep_resources an object dropped from the bundle stays on disk") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  Json cm = ConfigMap("default", "settings", "a");
  auto first = applier.Apply(Request({cm, Deployment("web", "api")}));
  REQUIRE(first.ok());
  ApplyRequest request = Request({cm}, first->applied);
  request.keep_resources = true;

  auto second = applier.Apply(request);

  REQUIRE(second.ok());
  CHECK(second->pruned == 0);
  CHECK(second->applied == std::vector<ObjectRef>{Ref(cm)});
  CHECK(common::PathExists(tmp.path() + "/web/deployment/api.yaml"));
}

// A Deployment moves from extensions/v1beta1 to apps/v1: it is the same object
// (same file), so it is rewritten, not pruned.
TEST_CASE("An object whose apiVersion changed is rewritten and not pruned") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  Json old_deploy = Deployment("web", "api");
  old_deploy["apiVersion"] = "extensions/v1beta1";
  auto first = applier.Apply(Request({old_deploy}));
  REQUIRE(first.ok());
  Json deploy = Deployment("web", "api");

  auto second = applier.Apply(Request({deploy}, first->applied));

  REQUIRE(second.ok());
  CHECK(second->pruned == 0);
  CHECK(second->written == 1);
  CHECK(Read(tmp.path() + "/web/deployment/api.yaml") == common::ToYaml(deploy));
}

// Objects without a namespace (ClusterRole) live under <root>/_cluster.
TEST_CASE("Cluster-scoped objects are written under _cluster") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  Json role = ClusterRole("reader");

  auto result = applier.Apply(Request({role}));

  REQUIRE(result.ok());
  CHECK(result->applied[0].namespace_.empty());
  CHECK(result->applied[0].ToString() == "ClusterRole reader");
  CHECK(Files(tmp.path()) == std::vector<std::string>{"_cluster/clusterrole/reader.yaml"});
  CHECK(Read(tmp.path() + "/_cluster/clusterrole/reader.yaml") == common::ToYaml(role));
}

// Objects come from Git, so a bundle may try path traversal through a name,
// namespace or kind. The whole request is rejected, naming the object, and
// nothing is written inside or outside the root.
TEST_CASE("Objects whose name, namespace or kind is not a safe path component are rejected") {
  struct Case {
    std::string kind;
    std::string ns;
    std::string name;
    std::string fragment;
  };
  auto c =
      GENERATE(Case{"ConfigMap", "default", "../x", "apply ConfigMap default/../x: invalid name"},
               Case{"ConfigMap", "default", "a/b", "apply ConfigMap default/a/b: invalid name"},
               Case{"ConfigMap", "default", "..", "apply ConfigMap default/..: invalid name"},
               Case{"ConfigMap", "default", ".", "apply ConfigMap default/.: invalid name"},
               Case{"ConfigMap", "default", "a\\b", "invalid name"},
               Case{"ConfigMap", "default", std::string("a\0b", 3), "invalid name"},
               Case{"ConfigMap", "default", "", "ConfigMap has no metadata.name"},
               Case{"ConfigMap", "../..", "x", "apply ConfigMap ../../x: invalid namespace"},
               Case{"ConfigMap", "..", "x", "invalid namespace"},
               Case{"ConfigMap", "_cluster", "x", "invalid namespace"},
               Case{"../../etc", "default", "x", "apply ../../etc default/x: invalid kind"},
               Case{"..", "", "x", "apply .. x: invalid kind"});
  CAPTURE(c.kind, c.ns, c.name);
  ScratchDir tmp;
  std::string root = tmp.path() + "/cluster";
  DirApplier applier(root);
  Json bad = {{"apiVersion", "v1"}, {"kind", c.kind}, {"metadata", {{"name", c.name}}}};
  if (!c.ns.empty()) bad["metadata"]["namespace"] = c.ns;

  auto result = applier.Apply(Request({ConfigMap("default", "fine", "a"), bad}));

  REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(result.status().message()), Catch::Contains(c.fragment));
  CHECK(Entries(tmp.path()) == std::vector<std::string>{"cluster"});
}

// A tampered state file hands back a previously applied ref that points
// outside the root: pruning refuses it and the file outside survives.
TEST_CASE("Pruning refuses a previously applied ref that escapes the root") {
  ScratchDir tmp;
  std::string root = tmp.path() + "/cluster";
  DirApplier applier(root);
  REQUIRE(common::WriteFileAtomic(tmp.path() + "/victim.yaml", "keep me").ok());
  ObjectRef escape{"v1", "ConfigMap", "default", "../../../victim"};

  auto result = applier.Apply(Request({ConfigMap("default", "fine", "a")}, {escape}));

  REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(result.status().message()),
             Catch::StartsWith("prune ConfigMap default/../../../victim: invalid name"));
  CHECK(Read(tmp.path() + "/victim.yaml") == "keep me");
  CHECK(applier.Remove({{escape}}).code() == absl::StatusCode::kInvalidArgument);
  CHECK(Read(tmp.path() + "/victim.yaml") == "keep me");
}

// Two objects of one bundle that would share a file are rejected rather than
// one silently overwriting the other.
TEST_CASE("Two objects that map to the same file are rejected") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());

  auto result = applier.Apply(
      Request({ConfigMap("default", "settings", "a"), ConfigMap("default", "settings", "b")}));

  REQUIRE(result.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(result.status().message()),
             Catch::Contains("apply ConfigMap default/settings: same object as"));
  CHECK(Files(tmp.path()).empty());
}

// After an apply, someone edits one file by hand and deletes another; a third
// is untouched. Check names exactly the first two, with what differs; before
// that, nothing.
TEST_CASE("Check reports hand-edited and deleted objects and nothing when in sync") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  Json cm = ConfigMap("default", "settings", "a");
  Json deploy = Deployment("web", "api");
  Json role = ClusterRole("reader");
  CheckRequest check;
  check.desired = {cm, deploy, role};
  REQUIRE(applier.Apply(Request(check.desired)).ok());

  auto in_sync = applier.Check(check);
  REQUIRE(in_sync.ok());
  CHECK(in_sync->modified.empty());
  CHECK(in_sync->non_ready.empty());

  Json edited = deploy;
  edited["spec"]["replicas"] = 9;
  REQUIRE(common::WriteFileAtomic(applier.PathFor(Ref(deploy)), common::ToYaml(edited)).ok());
  REQUIRE(common::RemoveFile(applier.PathFor(Ref(cm))).ok());

  auto drifted = applier.Check(check);
  REQUIRE(drifted.ok());
  REQUIRE(drifted->modified.size() == 2);
  CHECK(drifted->modified[0] == ResourceProblem{Ref(cm), "missing"});
  CHECK(drifted->modified[1].ref == Ref(deploy));
  CHECK(drifted->modified[1].message ==
        absl::StrCat("modified {\"spec\":{\"replicas\":", deploy["spec"]["replicas"].dump(), "}}"));
  CHECK(drifted->non_ready.empty());
}

// diff.comparePatches: a field removed by a jsonPointer or a remove
// operation is not compared; an "ignore" operation leaves the object out.
TEST_CASE("Check honours comparePatches on a directory target") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  Json cm = ConfigMap("default", "settings", "a");
  Json deploy = Deployment("web", "api");
  CheckRequest check;
  check.desired = {cm, deploy};
  REQUIRE(applier.Apply(Request(check.desired)).ok());
  Json edited = deploy;
  edited["spec"]["replicas"] = 9;
  REQUIRE(common::WriteFileAtomic(applier.PathFor(Ref(deploy)), common::ToYaml(edited)).ok());
  REQUIRE(common::RemoveFile(applier.PathFor(Ref(cm))).ok());
  REQUIRE(applier.Check(check)->modified.size() == 2);

  ComparePatch replicas;
  replicas.api_version = "apps/v1";
  replicas.kind = "Deployment";
  replicas.name = "api";
  replicas.operations = Json::parse(R"([{"op": "remove", "path": "/spec/replicas"}])");
  ComparePatch ignore_cm;
  ignore_cm.api_version = "v1";
  ignore_cm.kind = "Config*";
  ignore_cm.name = "^sett";
  ignore_cm.ignore = true;
  check.compare_patches = {replicas, ignore_cm};
  auto result = applier.Check(check);
  REQUIRE(result.ok());
  CHECK(result->modified.empty());

  // The same by jsonPointers, and a pointer to a field that is not there
  // changes nothing.
  replicas.operations = Json::array();
  replicas.json_pointers = {"/spec/replicas", "/spec/nothing/here"};
  check.compare_patches = {replicas, ignore_cm};
  CHECK(applier.Check(check)->modified.empty());
  // Another name: compared again.
  replicas.name = "other";
  check.compare_patches = {replicas, ignore_cm};
  CHECK(applier.Check(check)->modified.size() == 1);
}

// A BundleDeployment is deleted: its objects' files and the directories they
// leave empty go; with keep_resources they stay.
TEST_CASE("Remove deletes the objects' files unless keep_resources") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  auto applied = applier.Apply(Request({ConfigMap("default", "settings", "a"), ClusterRole("r")}));
  REQUIRE(applied.ok());

  REQUIRE(applier.Remove({applied->applied, /*keep_resources=*/true}).ok());
  CHECK(Files(tmp.path()).size() == 2);

  REQUIRE(applier.Remove({applied->applied, /*keep_resources=*/false}).ok());
  CHECK(Entries(tmp.path()).empty());
  // Removing what is already gone is not an error.
  CHECK(applier.Remove({applied->applied}).ok());
}

// deleteNamespace: the namespace's directory goes with everything in it
// (as Kubernetes deletes a namespace's objects); default and kube-* never.
TEST_CASE("Remove with deleteNamespace removes the namespace, never default or kube-*") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  auto applied = applier.Apply(Request({ConfigMap("team", "settings", "a")}));
  REQUIRE(applied.ok());
  REQUIRE(applier
              .Apply(Request({ConfigMap("team", "other", "b"), ConfigMap("default", "d", "c"),
                              ConfigMap("kube-public", "k", "d")}))
              .ok());

  RemoveRequest removal{applied->applied, false, "team"};
  REQUIRE(applier.Remove(removal).ok());
  CHECK_FALSE(common::PathExists(tmp.path() + "/team"));
  for (const char* ns : {"default", "kube-public"}) {
    REQUIRE(applier.Remove({{}, false, ns}).ok());
    CHECK(common::PathExists(tmp.path() + "/" + ns));
  }
  auto bad = applier.Remove({{}, false, "../x"});
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad.message()), Catch::Contains("deleteNamespace"));
}

// A rendered manifest without kind, apiVersion or metadata.name cannot be
// placed anywhere; RefOf says which part is missing.
TEST_CASE("RefOf rejects an object without kind, apiVersion or metadata.name") {
  Json no_kind = {{"apiVersion", "v1"}, {"metadata", {{"name", "x"}}}};
  Json no_version = {{"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}};
  Json no_name = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", Json::object()}};
  Json not_object = Json::array();

  auto k = RefOf(no_kind);
  CHECK(k.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(k.status().message() == "object x has no kind");
  auto v = RefOf(no_version);
  CHECK(v.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(v.status().message() == "ConfigMap x has no apiVersion");
  auto n = RefOf(no_name);
  CHECK(n.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(n.status().message() == "ConfigMap has no metadata.name");
  CHECK(RefOf(not_object).status().code() == absl::StatusCode::kInvalidArgument);

  auto ok = RefOf(ConfigMap("default", "x", "a"));
  REQUIRE(ok.ok());
  CHECK(*ok == ObjectRef{"v1", "ConfigMap", "default", "x"});
  CHECK(ok->ToString() == "ConfigMap default/x");
}

// Applying reports errors from the filesystem with the object's name: here a
// directory sits where the object's file should be.
TEST_CASE("A write failure midway names the object") {
  ScratchDir tmp;
  DirApplier applier(tmp.path());
  std::filesystem::create_directories(tmp.path() + "/default/configmap/settings.yaml");

  auto result = applier.Apply(Request({ConfigMap("default", "settings", "a")}));

  REQUIRE(result.status().code() == absl::StatusCode::kInternal);
  CHECK_THAT(std::string(result.status().message()),
             Catch::StartsWith("apply ConfigMap default/settings: cannot read "));
}

}  // namespace
}  // namespace flotilla::agent
