// Native Helm chart rendering (common/helm/): chart loading from a bundle's
// files, values coalescing with subchart scopes and globals, the built-in
// objects, Helm's functions, and the errors a chart author sees. Expected
// outputs are what `helm template` (Helm 3, pkg/engine and pkg/chartutil)
// prints for the same chart.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_replace.h"
#include "common/helm/chart.h"
#include "common/helm/render.h"
#include "common/render/manifest.h"
#include "common/yaml.h"

namespace flotilla::common::helm {
namespace {

using Files = std::map<std::string, std::string>;

Chart MustLoad(const Files& files, const std::string& dir = "") {
  auto chart = LoadChart(files, dir);
  INFO(chart.status().ToString());
  REQUIRE(chart.ok());
  return *chart;
}

// The rendered text of each template, by name.
std::map<std::string, std::string> MustRender(const Chart& chart, RenderOptions options = {}) {
  if (options.release_name.empty()) options.release_name = "rel";
  auto out = RenderTemplates(chart, options);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  std::map<std::string, std::string> by_name;
  for (const auto& t : *out) by_name[t.name] = t.content;
  return by_name;
}

// Renders one template `text` in a chart named "demo" with `values_yaml`.
std::string RenderOne(const std::string& text, const std::string& values_yaml = "",
                      Files extra = {}) {
  Files files = {
      {"Chart.yaml", "apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: \"4.5\"\n"},
      {"values.yaml", values_yaml},
      {"templates/t.yaml", text}};
  for (auto& [k, v] : extra) files[k] = v;
  auto rendered = MustRender(MustLoad(files));
  return rendered["demo/templates/t.yaml"];
}

absl::Status RenderStatus(const std::string& text, const std::string& values_yaml = "") {
  Files files = {{"Chart.yaml", "apiVersion: v2\nname: demo\nversion: 1.2.3\n"},
                 {"values.yaml", values_yaml},
                 {"templates/t.yaml", text}};
  RenderOptions options;
  options.release_name = "rel";
  return RenderTemplates(MustLoad(files), options).status();
}

// A chart directory inside a bundle: Chart.yaml, values, templates with a
// partial and NOTES.txt, other files, .helmignore and a subchart directory.
TEST_CASE("a chart directory loads its metadata, values, templates, files and subcharts",
          "[helm]") {
  Files bundle = {
      {"fleet.yaml", "helm:\n  chart: ./chart\n"},
      {"chart/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\ntype: application\n"},
      {"chart/values.yaml", "replicas: 2\n"},
      {"chart/templates/_helpers.tpl", "{{ define \"x\" }}x{{ end }}"},
      {"chart/templates/NOTES.txt", "thanks"},
      {"chart/templates/cm.yaml", "kind: ConfigMap"},
      {"chart/files/a.conf", "a=1\n"},
      {"chart/secret.key", "k"},
      {"chart/.helmignore", "# comment\n*.key\n"},
      {"chart/charts/db/Chart.yaml", "apiVersion: v1\nname: db\nversion: 2.0.0\n"},
      {"chart/charts/db/templates/svc.yaml", "kind: Service"},
      {"chart/charts/notachart/README.md", "no Chart.yaml here"},
  };
  Chart chart = MustLoad(bundle, "chart");
  CHECK(chart.name == "app");
  CHECK(chart.values == Json({{"replicas", 2}}));
  REQUIRE(chart.templates.size() == 3);
  CHECK(chart.templates[0].name == "templates/NOTES.txt");
  REQUIRE(chart.files.size() == 2);
  CHECK(chart.files[0].name == ".helmignore");
  CHECK(chart.files[1].name == "files/a.conf");
  REQUIRE(chart.subcharts.size() == 1);
  CHECK(chart.subcharts[0].name == "db");

  // Partials and NOTES.txt are not rendered; subchart templates are named
  // under the parent's path.
  auto rendered = MustRender(chart);
  CHECK(rendered.size() == 2);
  CHECK(rendered.count("app/templates/cm.yaml") == 1);
  CHECK(rendered.count("app/charts/db/templates/svc.yaml") == 1);
}

// Bad Chart.yaml files name the file and the problem.
TEST_CASE("a chart with a bad Chart.yaml fails naming the file", "[helm]") {
  auto missing = LoadChart({{"charts/x/values.yaml", ""}}, "charts/x");
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(missing.status().message() == "charts/x/Chart.yaml: not found");

  auto no_name = LoadChart({{"Chart.yaml", "apiVersion: v2\nversion: 1.0.0\n"}}, "");
  CHECK(no_name.status().message() == "Chart.yaml: chart.metadata.name is required");

  auto bad_api = LoadChart({{"Chart.yaml", "apiVersion: v3\nname: x\nversion: 1\n"}}, "");
  CHECK(bad_api.status().message() == "Chart.yaml: apiVersion \"v3\" is not v1 or v2");
}

// .helmignore: base-name globs anywhere, path globs, directories, negation.
TEST_CASE(".helmignore rules drop files by base name, path and directory", "[helm]") {
  IgnoreRules rules = IgnoreRules::Parse("*.bak\nsecrets/\n/docs/*.md\n!keep.bak\n");
  CHECK(rules.Ignored("a.bak"));
  CHECK(rules.Ignored("files/deep/b.bak"));
  CHECK(rules.Ignored("secrets/token"));
  CHECK(rules.Ignored("docs/readme.md"));
  CHECK_FALSE(rules.Ignored("docs/sub/readme.md"));
  CHECK_FALSE(rules.Ignored("values.yaml"));
  CHECK(rules.Ignored("templates/.hidden.yaml"));  // Helm's default rule
}

TEST_CASE("Files.Glob patterns follow gobwas/glob with / as separator", "[helm]") {
  CHECK(GlobMatch("files/*.conf", "files/a.conf"));
  CHECK_FALSE(GlobMatch("files/*.conf", "files/sub/a.conf"));
  CHECK(GlobMatch("files/**.conf", "files/sub/a.conf"));
  CHECK(GlobMatch("files/{a,b}.conf", "files/b.conf"));
  CHECK(GlobMatch("files/[ab]?.conf", "files/a1.conf"));
  CHECK_FALSE(GlobMatch("files/[!ab]?.conf", "files/a1.conf"));
}

// chartutil.CoalesceValues: user values over chart defaults, a user null
// deletes a default, each subchart sees its own section over its defaults,
// and the parent's globals reach every subchart.
TEST_CASE("values coalesce over defaults, scope subcharts and propagate globals", "[helm]") {
  Files files = {
      {"Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n"},
      {"values.yaml",
       "image: {repo: nginx, tag: \"1.0\"}\nremoveMe: x\nglobal: {region: eu}\n"
       "db: {size: 10}\n"},
      {"templates/app.yaml",
       "{{ .Values.image.repo }}:{{ .Values.image.tag }} {{ .Values.removeMe }} "
       "{{ .Values.global.region }}/{{ .Values.global.tier }}"},
      {"charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n"},
      {"charts/db/values.yaml", "size: 1\nuser: admin\nglobal: {region: us, own: yes}\n"},
      {"charts/db/templates/db.yaml",
       "{{ .Values.size }} {{ .Values.user }} {{ .Values.global.region }} {{ .Values.global.own }}"
       " {{ .Values.global.tier }} {{ .Values.image }} {{ .Chart.Name }}"},
  };
  RenderOptions options;
  options.values = Json::parse(R"({"image": {"tag": "2.0"}, "removeMe": null,
                                   "global": {"tier": "gold"}, "db": {"user": "root"}})");
  auto out = MustRender(MustLoad(files), options);
  CHECK(out["app/templates/app.yaml"] == "nginx:2.0  eu/gold");
  CHECK(out["app/charts/db/templates/db.yaml"] == "10 root eu true gold  db");
}

// A dependency whose condition is false is not rendered.
TEST_CASE("a subchart whose dependency condition is false is skipped", "[helm]") {
  Files files = {
      {"Chart.yaml",
       "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: db\n  version: 1.0.0\n"
       "  condition: db.enabled\n"},
      {"values.yaml", "db: {enabled: false}\n"},
      {"templates/app.yaml", "app"},
      {"charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n"},
      {"charts/db/templates/db.yaml", "db"},
  };
  CHECK(MustRender(MustLoad(files)).size() == 1);
  RenderOptions on;
  on.values = Json::parse(R"({"db": {"enabled": true}})");
  CHECK(MustRender(MustLoad(files), on).size() == 2);
}

TEST_CASE(".Release, .Chart, .Capabilities and .Template read as in helm template", "[helm]") {
  Files files = {
      {"Chart.yaml",
       "apiVersion: v2\nname: demo\nversion: 1.2.3\nappVersion: \"4.5\"\ntype: application\n"
       "description: A demo\nkeywords: [a, b]\n"},
      {"templates/t.yaml",
       "{{ .Release.Name }} {{ .Release.Namespace }} {{ .Release.Service }} "
       "{{ .Release.IsInstall }} {{ .Release.IsUpgrade }} {{ .Release.Revision }}\n"
       "{{ .Chart.Name }} {{ .Chart.Version }} {{ .Chart.AppVersion }} {{ .Chart.APIVersion }} "
       "{{ .Chart.Type }} {{ .Chart.Description }} {{ .Chart.Keywords }} [{{ .Chart.Home }}]\n"
       "{{ .Capabilities.KubeVersion.Version }} {{ .Capabilities.KubeVersion.Major }} "
       "{{ .Capabilities.KubeVersion.Minor }} {{ .Capabilities.APIVersions.Has \"apps/v1\" }} "
       "{{ .Capabilities.APIVersions.Has \"apps/v1/Deployment\" }} "
       "{{ .Capabilities.APIVersions.Has \"example.com/v1\" }} "
       "{{ semverCompare \">=1.21-0\" .Capabilities.KubeVersion.GitVersion }}\n"
       "{{ .Template.Name }} {{ .Template.BasePath }}"},
  };
  RenderOptions options;
  options.release_name = "web";
  options.release_namespace = "prod";
  options.kube_version = "v1.25.0";
  auto out = MustRender(MustLoad(files), options);
  CHECK(out["demo/templates/t.yaml"] ==
        "web prod Helm true false 1\n"
        "demo 1.2.3 4.5 v2 application A demo [a b] []\n"
        "v1.25.0 1 25 true true false true\n"
        "demo/templates/t.yaml demo/templates");
}

TEST_CASE(".Files offers Get, Lines, Glob, AsConfig and AsSecrets", "[helm]") {
  Files extra = {{"files/a.conf", "a=1\n"}, {"files/b.conf", "b=2\nc=3\n"}, {"other.txt", "x"}};
  CHECK(RenderOne("{{ .Files.Get \"files/a.conf\" | trim }}|{{ .Files.Get \"nope\" }}", "",
                  extra) == "a=1|");
  CHECK(RenderOne("{{ range .Files.Lines \"files/b.conf\" }}[{{ . }}]{{ end }}", "", extra) ==
        "[b=2][c=3]");
  CHECK(RenderOne("{{ range $p, $_ := .Files.Glob \"files/*\" }}{{ $p }};{{ end }}", "", extra) ==
        "files/a.conf;files/b.conf;");
  // yaml-cpp leaves a blank line after a literal block where go-yaml does not;
  // the YAML reads the same (the last value loses its newline to toYaml's
  // trim, as in Helm).
  auto config = ParseYaml(RenderOne("{{ (.Files.Glob \"files/*\").AsConfig }}", "", extra), "c");
  REQUIRE(config.ok());
  CHECK(*config == Json({{"a.conf", "a=1\n"}, {"b.conf", "b=2\nc=3"}}));
  CHECK(RenderOne("{{ (.Files.Glob \"other.txt\").AsSecrets }}", "", extra) == "other.txt: eA==");
}

// The idioms of every chart: named templates through include piped to
// nindent, toYaml of a values subtree, tpl over a values string.
TEST_CASE("include, nindent, toYaml and tpl render as in Helm", "[helm]") {
  Files extra = {{"templates/_helpers.tpl",
                  "{{- define \"demo.labels\" -}}\napp: {{ .Chart.Name }}\n"
                  "release: {{ .Release.Name }}\n{{- end }}"}};
  std::string text =
      "metadata:\n  labels:\n    {{- include \"demo.labels\" . | nindent 4 }}\n"
      "spec:\n  resources:\n    {{- toYaml .Values.resources | nindent 4 }}\n"
      "  host: {{ tpl .Values.host . }}\n"
      "  count: {{ .Values.count }}\n  big: {{ .Values.big }}\n";
  std::string values =
      "resources:\n  limits: {cpu: 100m, memory: 1Gi}\n  replicas: 3\n"
      "host: \"{{ .Release.Name }}.example.com\"\ncount: 3\nbig: 1000000\n";
  CHECK(RenderOne(text, values, extra) ==
        "metadata:\n  labels:\n    app: demo\n    release: rel\n"
        "spec:\n  resources:\n    limits:\n      cpu: 100m\n      memory: 1Gi\n    replicas: 3\n"
        "  host: rel.example.com\n  count: 3\n  big: 1e+06\n");
}

TEST_CASE("toYaml trims its trailing newline; fromYaml, toJson, fromJson and toToml convert",
          "[helm]") {
  CHECK(RenderOne("[{{ toYaml .Values.list }}]", "list: [a, 1]\n") == "[- a\n- 1]");
  CHECK(RenderOne("{{ (fromYaml \"a: {b: 2}\").a.b }}") == "2");
  CHECK(RenderOne("{{ (fromYaml \"- 1\").Error | empty | not }}") == "true");
  CHECK(RenderOne("{{ index (fromYamlArray \"[x, z]\") 1 }}") == "z");
  CHECK(RenderOne("{{ toJson .Values }}", "b: [1, true]\na: x\n") == R"({"a":"x","b":[1,true]})");
  CHECK(RenderOne("{{ (fromJson \"{\\\"a\\\": 1}\").a }}") == "1");
  CHECK(RenderOne("{{ toToml .Values }}", "name: x\nport: 80\nsub: {k: v}\n") ==
        "name = \"x\"\nport = 80\n\n[sub]\nk = \"v\"\n");
  CHECK(RenderOne("{{ lookup \"v1\" \"Secret\" \"ns\" \"s\" | len }}") == "0");
}

// missingkey=zero and Helm's removal of "<no value>".
TEST_CASE("missing values print nothing, not <no value>", "[helm]") {
  CHECK(RenderOne("[{{ .Values.nope }}][{{ .Values.a }}]", "a: 1\n") == "[][1]");
  CHECK(RenderOne("{{ if .Values.nope }}yes{{ else }}no{{ end }}") == "no");
}

// `required` stops the render with the author's message, naming the template
// and the position of the call.
TEST_CASE("a missing required value fails naming the template and the value", "[helm]") {
  absl::Status st = RenderStatus(
      "a: 1\nimage: {{ required \"image.repository is required\" "
      ".Values.image.repository }}\n",
      "image: {}\n");
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  INFO(st.message());
  CHECK(st.message().find("demo/templates/t.yaml:2:") != absl::string_view::npos);
  CHECK(st.message().find("image.repository is required") != absl::string_view::npos);
  CHECK(RenderOne("{{ required \"x\" .Values.v }}", "v: ok\n") == "ok");

  absl::Status failed = RenderStatus("{{ fail \"unsupported mode\" }}");
  CHECK(failed.message().find("unsupported mode") != absl::string_view::npos);
}

// A named template that includes itself is stopped by the depth limit with a
// clear error, in bounded time.
TEST_CASE("include recursion without end is stopped with a depth error", "[helm]") {
  absl::Status st = RenderStatus(
      "{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}"
      "{{ include \"loop\" . }}");
  CHECK(st.code() == absl::StatusCode::kResourceExhausted);
  INFO(st.message());
  CHECK(st.message().find("exceeded maximum template depth") != absl::string_view::npos);
}

TEST_CASE("an unknown function is a render error, not a blank", "[helm]") {
  absl::Status st = RenderStatus("{{ noSuchFunc 1 }}");
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(st.message().find("function \"noSuchFunc\" not defined") != absl::string_view::npos);
  // Helm removes env and expandenv from Sprig.
  CHECK(RenderStatus("{{ env \"HOME\" }}").message().find("function \"env\" not defined") !=
        absl::string_view::npos);
}

// RenderObjects splits documents, drops empty ones and sorts by Helm's
// install order.
TEST_CASE("rendered objects are split, empty documents dropped, in install order", "[helm]") {
  Files files = {
      {"Chart.yaml", "apiVersion: v2\nname: demo\nversion: 1.0.0\n"},
      {"templates/a.yaml",
       "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n---\n# only a comment\n---\n"
       "{{ if false }}kind: Secret{{ end }}\n"},
      {"templates/b.yaml",
       "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n---\n"
       "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n"},
  };
  RenderOptions options;
  options.release_name = "rel";
  auto objects = RenderObjects(MustLoad(files), options);
  REQUIRE(objects.ok());
  std::vector<std::string> kinds;
  for (const Json& o : *objects) kinds.push_back(o["kind"].get<std::string>());
  CHECK(kinds == std::vector<std::string>{"Namespace", "ServiceAccount", "Deployment"});
}

// The bundle integration: Chart.yaml at helm.chart makes a Helm bundle; the
// release name defaults to the bundle name and the namespace follows Fleet's
// rules (namespace > defaultNamespace > default).
TEST_CASE("RenderBundle renders a chart at helm.chart with Fleet's release name and namespace",
          "[helm]") {
  RenderInput in;
  in.bundle_name = "test-mychart";
  in.files = {
      {"chart/Chart.yaml", "apiVersion: v2\nname: mychart\nversion: 0.1.0\n"},
      {"chart/values.yaml", "replicas: 1\n"},
      {"chart/templates/cm.yaml",
       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n"
       "data:\n  ns: {{ .Release.Namespace }}\n  replicas: \"{{ .Values.replicas }}\"\n"},
      {"chart/templates/role.yaml",
       "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
       "metadata: {name: {{ .Release.Name }}}\n"},
  };
  in.options = Json::parse(R"({"defaultNamespace": "apps", "helm": {"chart": "./chart",
                               "values": {"replicas": 3}}})");
  auto out = RenderBundle(in);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  REQUIRE(out->objects.size() == 2);
  // Install order: ConfigMap before ClusterRole; a cluster-scoped object
  // gets no namespace.
  CHECK(out->objects[0]["metadata"]["name"] == "test-mychart-cm");
  CHECK(out->objects[0]["metadata"]["namespace"] == "apps");
  CHECK(out->objects[0]["data"] == Json::parse(R"({"ns": "apps", "replicas": "3"})"));
  CHECK(out->objects[1]["kind"] == "ClusterRole");
  CHECK(out->objects[1]["metadata"] == Json::parse(R"({"name": "test-mychart"})"));

  in.options["helm"]["releaseName"] = "web";
  in.options["namespace"] = "forced";
  in.files.erase("chart/templates/role.yaml");
  out = RenderBundle(in);
  REQUIRE(out.ok());
  CHECK(out->objects[0]["metadata"]["name"] == "web-cm");
  CHECK(out->objects[0]["metadata"]["namespace"] == "forced");
  CHECK(out->objects[0]["data"]["ns"] == "forced");
}

// A chart with a kustomization is covered in render_test.cc.
TEST_CASE("RenderBundle reports charts from URLs as not supported yet", "[helm]") {
  RenderInput remote;
  remote.bundle_name = "b";
  remote.files = {{"fleet.yaml", "helm: {}\n"}};
  remote.options = Json::parse(R"({"helm": {"chart": "https://example.com/c-1.0.0.tgz"}})");
  CHECK(RenderBundle(remote).status().code() == absl::StatusCode::kUnimplemented);
}

// Dependency tags: disabled when none of its tags is true and one is false;
// a condition that resolves overrides the tags.
TEST_CASE("a dependency is switched off by its tags, conditions winning", "[helm]") {
  Files files = {
      {"Chart.yaml",
       "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
       "- name: db\n  version: 1.0.0\n  tags: [backend, storage]\n"
       "- name: ui\n  version: 1.0.0\n  tags: [frontend]\n  condition: ui.enabled\n"},
      {"values.yaml", "tags: {backend: false}\n"},
      {"templates/app.yaml", "app"},
      {"charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n"},
      {"charts/db/templates/db.yaml", "db"},
      {"charts/ui/Chart.yaml", "apiVersion: v2\nname: ui\nversion: 1.0.0\n"},
      {"charts/ui/templates/ui.yaml", "ui"},
  };
  auto out = MustRender(MustLoad(files));
  CHECK(out.count("app/charts/db/templates/db.yaml") == 0);
  CHECK(out.count("app/charts/ui/templates/ui.yaml") == 1);
  // One true tag is enough.
  RenderOptions options;
  options.values = Json::parse(R"({"tags": {"storage": true, "frontend": false}})");
  out = MustRender(MustLoad(files), options);
  CHECK(out.count("app/charts/db/templates/db.yaml") == 1);
  CHECK(out.count("app/charts/ui/templates/ui.yaml") == 0);
  // The condition decides over the tags.
  options.values = Json::parse(R"({"tags": {"frontend": false}, "ui": {"enabled": true}})");
  out = MustRender(MustLoad(files), options);
  CHECK(out.count("app/charts/ui/templates/ui.yaml") == 1);
  // Disabled subcharts are left out of the coalesced values' scopes too.
  options.values = Json::parse(R"({"tags": {"storage": true, "frontend": false}})");
  Json values = CoalesceValues(MustLoad(files), options.values);
  CHECK(values.contains("db"));
  CHECK_FALSE(values.contains("ui"));
}

// An alias names the subchart: its values key, its template path and, as
// Helm copies the chart under the alias, .Chart.Name. One chart can be
// used twice.
TEST_CASE("an aliased dependency is scoped and named by its alias", "[helm]") {
  Files files = {
      {"Chart.yaml",
       "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
       "- name: db\n  version: 1.0.0\n  alias: primary\n"
       "- name: db\n  version: 1.0.0\n  alias: replica\n  condition: replica.enabled\n"},
      {"values.yaml", "primary: {size: 10}\nreplica: {size: 5, enabled: true}\ndb: {size: 1}\n"},
      {"charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n"},
      {"charts/db/values.yaml", "size: 0\nrole: db\n"},
      {"charts/db/templates/db.yaml", "{{ .Chart.Name }} {{ .Values.size }} {{ .Values.role }}"},
  };
  auto out = MustRender(MustLoad(files));
  CHECK(out.size() == 2);
  CHECK(out["app/charts/primary/templates/db.yaml"] == "primary 10 db");
  CHECK(out["app/charts/replica/templates/db.yaml"] == "replica 5 db");
  RenderOptions off;
  off.values = Json::parse(R"({"replica": {"enabled": false}})");
  out = MustRender(MustLoad(files), off);
  CHECK(out.size() == 1);
  CHECK(out.count("app/charts/primary/templates/db.yaml") == 1);
}

// import-values: a name imports the child's exports.<name> at the parent's
// root; {child, parent} imports a child table under a parent path. The
// parent's own values win over imported ones, the user's over both.
TEST_CASE("import-values bring child values into the parent, parent values winning", "[helm]") {
  Files files = {
      {"Chart.yaml",
       "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
       "- name: db\n  version: 1.0.0\n  import-values:\n  - data\n"
       "  - child: service\n    parent: imported.svc\n"},
      {"values.yaml", "port: 9999\nimported: {svc: {type: NodePort}}\n"},
      {"templates/app.yaml",
       "{{ .Values.port }} {{ .Values.user }} {{ .Values.mode }} {{ .Values.imported.svc.type }} "
       "{{ .Values.imported.svc.name }}"},
      {"charts/db/Chart.yaml", "apiVersion: v2\nname: db\nversion: 1.0.0\n"},
      {"charts/db/values.yaml",
       "exports:\n  data: {port: 5432, user: admin, mode: rw}\n"
       "service: {type: ClusterIP, name: db-svc}\n"},
      {"charts/db/templates/db.yaml", "{{ .Values.service.type }}"},
  };
  auto out = MustRender(MustLoad(files));
  CHECK(out["app/templates/app.yaml"] == "9999 admin rw NodePort db-svc");
  CHECK(out["app/charts/db/templates/db.yaml"] == "ClusterIP");
  RenderOptions options;
  options.values = Json::parse(R"({"mode": "ro"})");
  out = MustRender(MustLoad(files), options);
  CHECK(out["app/templates/app.yaml"] == "9999 admin ro NodePort db-svc");
}

// crds/: installed unrendered before everything else, the chart's first,
// then each enabled subchart's; only .yaml/.yml/.json; still in .Files.
TEST_CASE("crds/ files come first, unrendered, for enabled charts", "[helm]") {
  const std::string crd =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
      "metadata:\n  name: NAME.example.com\n  annotations: {note: \"{{ not rendered }}\"}\n";
  Files files = {
      {"Chart.yaml",
       "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
       "- name: extra\n  version: 1.0.0\n  condition: extra.enabled\n"},
      {"values.yaml", "extra: {enabled: false}\n"},
      {"crds/widgets.yaml", absl::StrReplaceAll(crd, {{"NAME", "widgets"}})},
      {"crds/README.md", "not a manifest"},
      {"templates/cm.yaml",
       "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n---\n"
       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
       "data: {n: '{{ len (.Files.Glob \"crds/*\") }}'}\n"},
      {"charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 1.0.0\n"},
      {"charts/sub/crds/gadgets.yml", absl::StrReplaceAll(crd, {{"NAME", "gadgets"}}) + "---\n" +
                                          absl::StrReplaceAll(crd, {{"NAME", "gizmos"}})},
      {"charts/extra/Chart.yaml", "apiVersion: v2\nname: extra\nversion: 1.0.0\n"},
      {"charts/extra/crds/things.json",
       R"({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "things.example.com"}})"},
  };
  RenderOptions options;
  options.release_name = "rel";
  auto objects = RenderObjects(MustLoad(files), options);
  INFO(objects.status().ToString());
  REQUIRE(objects.ok());
  std::vector<std::string> names;
  for (const Json& o : *objects) names.push_back(o["metadata"]["name"].get<std::string>());
  CHECK(names == std::vector<std::string>{"widgets.example.com", "gadgets.example.com",
                                          "gizmos.example.com", "ns", "cm"});
  CHECK((*objects)[0]["metadata"]["annotations"]["note"] == "{{ not rendered }}");
  CHECK((*objects)[4]["data"]["n"] == "2");
  options.values = Json::parse(R"({"extra": {"enabled": true}})");
  objects = RenderObjects(MustLoad(files), options);
  REQUIRE(objects.ok());
  REQUIRE(objects->size() == 6);
  CHECK((*objects)[3]["metadata"]["name"] == "things.example.com");
}

}  // namespace
}  // namespace flotilla::common::helm
