#include "common/render/overlays.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "common/fleet/bundle_spec.h"
#include "common/fleet/options.h"
#include "common/render/manifest.h"

namespace flotilla::common {
namespace {

BundleFiles MustApply(const BundleFiles& files, const std::vector<std::string>& overlays) {
  auto out = ApplyOverlays(files, overlays);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return *out;
}

std::string ApplyError(const BundleFiles& files, const std::vector<std::string>& overlays) {
  auto out = ApplyOverlays(files, overlays);
  REQUIRE(out.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(out.status().message());
}

// The parsed documents of one file.
std::vector<Json> Docs(const std::string& text) {
  auto docs = ParseYamlDocuments(text, "test");
  INFO(docs.status().ToString());
  REQUIRE(docs.ok());
  return *docs;
}

std::string Deployment(const std::string& name, int replicas) {
  return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name +
         "\nspec:\n  replicas: " + std::to_string(replicas) +
         "\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n";
}

std::string ConfigMap(const std::string& name, const std::string& value) {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
         "\ndata:\n  key: " + value + "\n";
}

// Fleet: internal/helmdeployer/render/patch/patch.go isPatchFile — the first
// "_patch." in the base name marks a patch; the target keeps the directory
// and the patch's own extension.
TEST_CASE("A patch file names its target by dropping the first _patch from its base name",
          "[overlays]") {
  CHECK(PatchTarget("frontend-deployment_patch.yaml") == "frontend-deployment.yaml");
  CHECK(PatchTarget("sub/dir/web_patch.yml") == "sub/dir/web.yml");
  CHECK(PatchTarget("x_patch.json") == "x.json");
  CHECK(PatchTarget("a_patch.b_patch.yaml") == "a.b_patch.yaml");
  CHECK(PatchTarget("notes_patch.txt") == "notes.txt");
  CHECK_FALSE(PatchTarget("web.yaml").has_value());
  CHECK_FALSE(PatchTarget("web_patch").has_value());
  CHECK_FALSE(PatchTarget("dir_patch.d/web.yaml").has_value());
  CHECK_FALSE(PatchTarget("web-patch.yaml").has_value());
}

// Fleet: patch.go patchContent — overlays/<name>/F replaces F at the same
// relative path (also in a subdirectory), adds F when it is new, and an empty
// file leaves F empty; Process then drops everything under overlays/.
TEST_CASE("Overlay files replace, add and empty bundle files; overlays/ is dropped", "[overlays]") {
  BundleFiles files = {
      {"cm.yaml", ConfigMap("cm", "base")},
      {"sub/other.yaml", ConfigMap("other", "base")},
      {"gone.yaml", ConfigMap("gone", "base")},
      {"overlays/prod/cm.yaml", ConfigMap("cm", "prod")},
      {"overlays/prod/sub/other.yaml", ConfigMap("other", "prod")},
      {"overlays/prod/sub/new.yaml", ConfigMap("new", "prod")},
      {"overlays/prod/gone.yaml", ""},
      {"overlays/unused/cm.yaml", ConfigMap("cm", "unused")},
  };
  BundleFiles out = MustApply(files, {"prod"});
  CHECK(out == BundleFiles{{"cm.yaml", ConfigMap("cm", "prod")},
                           {"gone.yaml", ""},
                           {"sub/new.yaml", ConfigMap("new", "prod")},
                           {"sub/other.yaml", ConfigMap("other", "prod")}});

  // The empty file renders nothing: the ConfigMap "gone" is removed.
  RenderInput in;
  in.files = files;
  in.options = Json{{"yaml", {{"overlays", {"prod"}}}}};
  auto rendered = RenderBundle(in);
  REQUIRE(rendered.ok());
  std::vector<std::string> names;
  for (const auto& o : rendered->objects) names.push_back(o["metadata"]["name"].get<std::string>());
  CHECK(names == std::vector<std::string>{"cm", "new", "other"});
  CHECK(rendered->objects[0]["data"]["key"] == "prod");
}

// Fleet: patch.go — an overlay name with no overlays/<name>/ files matches
// nothing and changes nothing, without an error; with no overlays at all the
// overlays/ directory is still dropped.
TEST_CASE("An overlay name without an overlays directory changes nothing", "[overlays]") {
  BundleFiles files = {{"cm.yaml", ConfigMap("cm", "base")},
                       {"overlays/prod/cm.yaml", ConfigMap("cm", "prod")},
                       {"overlays/prod-extra/cm.yaml", ConfigMap("cm", "extra")}};
  BundleFiles base_only = {{"cm.yaml", ConfigMap("cm", "base")}};
  CHECK(MustApply(files, {"missing"}) == base_only);
  CHECK(MustApply(files, {"pro"}) == base_only);  // a prefix of a name is not the name
  CHECK(MustApply(files, {}) == base_only);
  CHECK(MustApply(files, {""}) == base_only);
}

// Fleet: patch.go patchContent loops over the overlays in the order given,
// each one applying to the result of the ones before; options.go appends the
// overlays of each matching customization.
TEST_CASE("Several overlays apply in list order, each to the result of the previous one",
          "[overlays]") {
  BundleFiles files = {
      {"web.yaml", Deployment("web", 1)},
      {"overlays/big/web.yaml", Deployment("web", 10)},
      {"overlays/scale3/web_patch.yaml", "spec:\n  replicas: 3\n"},
  };
  auto replicas = [](const BundleFiles& out) {
    return Docs(out.at("web.yaml")).at(0)["spec"]["replicas"].get<int>();
  };
  CHECK(replicas(MustApply(files, {"big", "scale3"})) == 3);
  CHECK(replicas(MustApply(files, {"scale3", "big"})) == 10);
  CHECK(replicas(MustApply(files, {"scale3"})) == 3);
  CHECK(replicas(MustApply(files, {"big"})) == 10);
}

// Fleet walks a Go map, so within one overlay the order of a replacement
// and a patch of the same file is random; Flotilla replaces first, then
// patches (each in path order), so the patch sees the overlay's own file.
TEST_CASE("Within one overlay replacements apply before patches", "[overlays]") {
  BundleFiles files = {
      {"web.yaml", Deployment("web", 1)},
      {"overlays/prod/web.yaml", Deployment("web", 5)},
      {"overlays/prod/web_patch.yaml", "metadata:\n  labels:\n    tier: prod\n"},
  };
  Json web = Docs(MustApply(files, {"prod"}).at("web.yaml")).at(0);
  CHECK(web["spec"]["replicas"] == 5);
  CHECK(web["metadata"]["labels"] == Json{{"tier", "prod"}});
}

// Fleet: patch.go — "failed to find base file %s to patch" when the target
// of a _patch file does not exist.
TEST_CASE("A patch whose target file does not exist is InvalidArgument naming both", "[overlays]") {
  BundleFiles files = {{"web.yaml", Deployment("web", 1)},
                       {"overlays/prod/sub/web_patch.yaml", "spec:\n  replicas: 3\n"}};
  CHECK(ApplyError(files, {"prod"}) ==
        "overlays/prod/sub/web_patch.yaml: there is no file sub/web.yaml to patch");

  // The target keeps the patch's extension: web_patch.yml patches web.yml.
  BundleFiles other_ext = {{"web.yaml", Deployment("web", 1)},
                           {"overlays/prod/web_patch.yml", "spec:\n  replicas: 3\n"}};
  CHECK(ApplyError(other_ext, {"prod"}) ==
        "overlays/prod/web_patch.yml: there is no file web.yml to patch");

  // A file another overlay emptied can no longer be patched.
  BundleFiles emptied = {{"web.yaml", Deployment("web", 1)},
                         {"overlays/a/web.yaml", ""},
                         {"overlays/b/web_patch.yaml", "spec:\n  replicas: 3\n"}};
  CHECK(ApplyError(emptied, {"a", "b"}) ==
        "overlays/b/web_patch.yaml: web.yaml has no document to patch");
}

// Malformed YAML in a patch names the overlay file with line and column;
// a patch that does not apply names the file, the target and the JSON patch
// op.
TEST_CASE("Malformed or failing patches are InvalidArgument naming the overlay file",
          "[overlays]") {
  BundleFiles bad_yaml = {{"web.yaml", Deployment("web", 1)},
                          {"overlays/prod/web_patch.yaml", "spec:\n  replicas: 3\n bad: x\n"}};
  CHECK(ApplyError(bad_yaml, {"prod"}) == "overlays/prod/web_patch.yaml:3:2: end of map not found");

  BundleFiles bad_op = {{"web.yaml", Deployment("web", 1)},
                        {"overlays/prod/web_patch.yaml",
                         "- op: replace\n  path: /spec/replicas\n  value: 2\n"
                         "- op: remove\n  path: /spec/paused\n"}};
  CHECK(ApplyError(bad_op, {"prod"}) ==
        "overlays/prod/web_patch.yaml: cannot patch web.yaml (Deployment web): JSON patch: op 1 "
        "(remove /spec/paused): key 'paused' not found");

  BundleFiles scalar = {{"web.yaml", Deployment("web", 1)},
                        {"overlays/prod/web_patch.yaml", "just text\n"}};
  CHECK(ApplyError(scalar, {"prod"}) ==
        "overlays/prod/web_patch.yaml: cannot patch web.yaml (Deployment web): a patch must be "
        "a map (merge or strategic merge patch) or a list (JSON patch), not a string");

  BundleFiles bad_target = {{"web.yaml", "a: [\n"}, {"overlays/prod/web_patch.yaml", "spec: {}\n"}};
  std::string msg = ApplyError(bad_target, {"prod"});
  CHECK(absl::StartsWith(msg, "overlays/prod/web_patch.yaml: patching web.yaml: web.yaml:"));

  // The error reaches RenderBundle's caller unchanged.
  RenderInput in;
  in.files = bad_op;
  in.options = Json{{"yaml", {{"overlays", {"prod"}}}}};
  auto rendered = RenderBundle(in);
  REQUIRE(rendered.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(rendered.status().message(), "op 1 (remove /spec/paused)"));
}

// Fleet patches only the first document of F (and loses the others);
// Flotilla applies a patch to the documents it names and keeps the rest.
TEST_CASE("In a multi-document file a patch applies to the documents it names", "[overlays]") {
  std::string all = Deployment("web", 1) + "---\n" + ConfigMap("settings", "base") + "---\n" +
                    Deployment("worker", 1);
  BundleFiles files = {
      {"app.yaml", all},
      {"overlays/named/app_patch.yaml",
       "kind: Deployment\nmetadata:\n  name: worker\nspec:\n  replicas: 4\n"},
      {"overlays/kind/app_patch.yaml", "kind: Deployment\nspec:\n  paused: true\n"},
      {"overlays/anon/app_patch.yaml", "spec:\n  replicas: 7\n"},
      {"overlays/nomatch/app_patch.yaml",
       "kind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 2\n"},
      {"overlays/json/app_patch.yaml",
       "- op: add\n  path: /metadata/labels\n  value: {patched: 'yes'}\n"}};

  std::vector<Json> named = Docs(MustApply(files, {"named"}).at("app.yaml"));
  REQUIRE(named.size() == 3);
  CHECK(named[0]["spec"]["replicas"] == 1);
  CHECK(named[1]["data"]["key"] == "base");
  CHECK(named[2]["spec"]["replicas"] == 4);

  // kind alone picks every Deployment.
  std::vector<Json> by_kind = Docs(MustApply(files, {"kind"}).at("app.yaml"));
  CHECK(by_kind[0]["spec"]["paused"] == true);
  CHECK_FALSE(by_kind[1].contains("spec"));
  CHECK(by_kind[2]["spec"]["paused"] == true);

  // Without kind or name (and for a JSON patch) the first document, as in Fleet.
  std::vector<Json> anon = Docs(MustApply(files, {"anon"}).at("app.yaml"));
  CHECK(anon[0]["spec"]["replicas"] == 7);
  CHECK(anon[2]["spec"]["replicas"] == 1);
  std::vector<Json> json = Docs(MustApply(files, {"json"}).at("app.yaml"));
  CHECK(json[0]["metadata"]["labels"] == Json{{"patched", "yes"}});
  CHECK_FALSE(json[2]["metadata"].contains("labels"));

  CHECK(ApplyError(files, {"nomatch"}) ==
        "overlays/nomatch/app_patch.yaml: no document in app.yaml is a Deployment named "
        "\"api\" to patch");

  // A single-document file is patched whatever the patch names, as in Fleet.
  BundleFiles single = {{"web.yaml", Deployment("web", 1)},
                        {"overlays/o/web_patch.yaml",
                         "kind: Deployment\nmetadata:\n  name: other\nspec:\n  replicas: 2\n"}};
  Json web = Docs(MustApply(single, {"o"}).at("web.yaml")).at(0);
  CHECK(web["metadata"]["name"] == "other");
  CHECK(web["spec"]["replicas"] == 2);
}

// Fleet reads only the first document of a patch file; Flotilla applies each
// document in turn, and an empty patch file changes nothing.
TEST_CASE("Each document of a patch file is applied in turn", "[overlays]") {
  std::string all = Deployment("web", 1) + "---\n" + Deployment("worker", 1);
  BundleFiles files = {{"app.yaml", all},
                       {"overlays/o/app_patch.yaml",
                        "kind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n---\n"
                        "kind: Deployment\nmetadata: {name: worker}\nspec: {replicas: 3}\n"},
                       {"overlays/empty/app_patch.yaml", "# nothing yet\n"}};
  std::vector<Json> docs = Docs(MustApply(files, {"o"}).at("app.yaml"));
  CHECK(docs[0]["spec"]["replicas"] == 2);
  CHECK(docs[1]["spec"]["replicas"] == 3);
  CHECK(MustApply(files, {"empty"}).at("app.yaml") == all);
}

// Fleet: options.go Merge appends yaml.overlays; RenderBundle reads them from
// the merged options and applies them before parsing, and namespaces are
// set on the overlaid objects.
TEST_CASE("RenderBundle applies yaml.overlays from the options before rendering", "[overlays]") {
  RenderInput in;
  in.files = {{"web.yaml", Deployment("web", 1)},
              {"overlays/scale/web_patch.yaml", "spec:\n  replicas: 3\n"},
              {"overlays/extra/cm.yaml", ConfigMap("extra", "x")}};
  in.options = Json{{"defaultNamespace", "apps"}, {"yaml", {{"overlays", {"scale", "extra"}}}}};
  auto out = RenderBundle(in);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  REQUIRE(out->objects.size() == 2);
  CHECK(out->objects[0]["kind"] == "ConfigMap");
  CHECK(out->objects[0]["metadata"]["namespace"] == "apps");
  CHECK(out->objects[1]["spec"]["replicas"] == 3);
  CHECK(out->objects[1]["metadata"]["namespace"] == "apps");

  RenderInput plain = in;
  plain.options = Json{{"defaultNamespace", "apps"}};
  auto base = RenderBundle(plain);
  REQUIRE(base.ok());
  CHECK(base->objects.size() == 1);
  CHECK(base->hash != out->hash);
}

// A patched file is written back as YAML and parsed again with the same
// YAML 1.1 rules as every manifest: quoted strings that look like other
// types stay strings, and unquoted scalars keep their YAML 1.1 meaning (Fleet
// decodes patched files with yaml.v3, where `yes` stays a string).
TEST_CASE("A patched file keeps its scalar types through the rewrite", "[overlays]") {
  RenderInput in;
  in.files = {{"cm.yaml",
               "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
               "data: {flag: yes, mode: '0755'}\n"},
              {"overlays/o/cm_patch.yaml",
               "data: {a: 'yes', b: '0755', c: '1.0', d: 'null', e: '~', f: '', g: 010}\n"}};
  in.options = Json{{"yaml", {{"overlays", {"o"}}}}};
  auto out = RenderBundle(in);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  CHECK(out->objects.at(0)["data"] == Json{{"a", "yes"},
                                           {"b", "0755"},
                                           {"c", "1.0"},
                                           {"d", "null"},
                                           {"e", "~"},
                                           {"f", ""},
                                           {"g", 8},
                                           {"flag", true},
                                           {"mode", "0755"}});
}

// yaml.overlays must be a list of names.
TEST_CASE("Malformed yaml.overlays options are InvalidArgument", "[overlays]") {
  auto names = OverlayNames(Json{{"yaml", {{"overlays", {"a", "b"}}}}});
  REQUIRE(names.ok());
  CHECK(*names == std::vector<std::string>{"a", "b"});
  CHECK(OverlayNames(Json::object())->empty());
  CHECK(OverlayNames(Json{{"yaml", nullptr}})->empty());
  CHECK(OverlayNames(Json{{"yaml", {{"overlays", nullptr}}}})->empty());
  CHECK(OverlayNames(Json{{"yaml", {{"overlays", "a"}}}}).status().message() ==
        "yaml.overlays: must be a list of overlay names");
  CHECK(OverlayNames(Json{{"yaml", {{"overlays", {"a", 3}}}}}).status().message() ==
        "yaml.overlays[1]: must be a string, not 3");
  CHECK(OverlayNames(Json{{"yaml", "x"}}).status().message() == "yaml: must be a map");
}

// ---------------------------------------------------------------------------
// rancher/fleet-examples multi-cluster/manifests against the output of
// `fleet test` (FLOTILLA_FLEET_EXAMPLES names the folder holding both).

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Drops Fleet's objectset.rio.cattle.io/ labels and annotations, and the
// maps that leaves empty.
Json WithoutObjectsetKeys(Json obj) {
  Json& meta = obj["metadata"];
  for (const char* field : {"labels", "annotations"}) {
    if (!meta.contains(field)) continue;
    Json& m = meta[field];
    for (auto it = m.begin(); it != m.end();) {
      it = absl::StartsWith(it.key(), "objectset.rio.cattle.io/") ? m.erase(it) : std::next(it);
    }
    if (m.empty()) meta.erase(field);
  }
  return obj;
}

// apiVersion/kind/namespace/name -> object.
std::map<std::string, Json> ById(const std::vector<Json>& objects) {
  std::map<std::string, Json> out;
  for (const Json& o : objects) {
    const Json& meta = o["metadata"];
    out[o.value("apiVersion", "") + "/" + o.value("kind", "") + "/" + meta.value("namespace", "") +
        "/" + meta.value("name", "")] = WithoutObjectsetKeys(o);
  }
  return out;
}

// fleet-examples multi-cluster/manifests: dev (noreplication), test (scale3)
// and prod (servicelb, scale3) render exactly what `fleet test` printed.
TEST_CASE("fleet-examples multi-cluster/manifests renders Fleet's output for dev, test and prod",
          "[overlays][fleet-examples]") {
  const char* root = std::getenv("FLOTILLA_FLEET_EXAMPLES");
  if (root == nullptr || *root == '\0') {
    WARN("FLOTILLA_FLEET_EXAMPLES is not set: skipping the fleet-examples comparison");
    return;
  }
  std::filesystem::path dir = std::filesystem::path(root) / "multi-cluster/manifests";
  std::filesystem::path expected_dir =
      std::filesystem::path(root) / "tests/expected/multi-cluster/manifests";
  REQUIRE(std::filesystem::is_directory(dir));

  BundleFiles files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = std::filesystem::relative(entry.path(), dir).generic_string();
    if (rel != "fleet.yaml") files[rel] = ReadFile(entry.path());
  }
  auto spec = ParseBundleSpec(ReadFile(dir / "fleet.yaml"), "fleet.yaml");
  REQUIRE(spec.ok());
  REQUIRE(spec->target_customizations.size() == 3);

  for (const BundleTarget& target : spec->target_customizations) {
    SECTION(target.name) {
      RenderInput in;
      in.bundle_name = "test";
      in.files = files;
      in.options = MergeOptions(spec->options, target.options);
      CHECK(in.options["namespace"] == "fleet-mc-manifest-example");
      auto rendered = RenderBundle(in);
      INFO(rendered.status().ToString());
      REQUIRE(rendered.ok());

      auto expected =
          ParseYamlDocuments(ReadFile(expected_dir / (target.name + "-output.yaml")), "expected");
      REQUIRE(expected.ok());
      REQUIRE(!expected->empty());
      std::map<std::string, Json> got = ById(rendered->objects);
      std::map<std::string, Json> want = ById(*expected);
      for (const auto& [id, obj] : want) {
        INFO(id);
        REQUIRE(got.count(id) == 1);
        CHECK(got[id].dump(2) == obj.dump(2));
      }
      CHECK(got.size() == want.size());
    }
  }
}

}  // namespace
}  // namespace flotilla::common
