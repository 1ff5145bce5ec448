#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/fleet/bundle_spec.h"

namespace flotilla::common {
namespace {

using Op = LabelSelectorRequirement::Op;

BundleSpec MustParseSpec(const std::string& text) {
  auto spec = ParseBundleSpec(text, "fleet.yaml");
  INFO(text);
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  return *spec;
}

// The message of a fleet.yaml that must be rejected as InvalidArgument.
std::string SpecError(const std::string& text) {
  auto spec = ParseBundleSpec(text, "fleet.yaml");
  INFO(text);
  REQUIRE(spec.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(spec.status().message());
}

// Fleet: pkg/apis/fleet.cattle.io/v1alpha1/fleetyaml.go — the top-level
// fields, deployment options and targetCustomizations of a full fleet.yaml;
// keys Fleet does not know are ignored, at the top and in customizations.
TEST_CASE("A full fleet.yaml parses into name, labels, options and customizations", "[fleet]") {
  BundleSpec spec = MustParseSpec(R"(# bundle options
name: custom-name
labels:
  team: platform
  example.com/tier: backend
defaultNamespace: apps
namespace: forced
helm:
  releaseName: web
  values:
    replicas: 2
unknownTopLevel: ignored
targetCustomizations:
- name: prod
  clusterSelector:
    matchLabels:
      env: prod
    matchExpressions:
    - key: region
      operator: In
      values: [eu, us]
  helm:
    values:
      replicas: 5
  notAFleetKey: ignored
- clusterName: local
  namespace: local-ns
- name: skip-dev
  clusterGroup: dev
  doNotDeploy: true
)");
  CHECK(spec.name == "custom-name");
  CHECK(spec.labels == Labels{{"team", "platform"}, {"example.com/tier", "backend"}});
  CHECK(spec.options == Json::parse(R"({
    "defaultNamespace": "apps", "namespace": "forced",
    "helm": {"releaseName": "web", "values": {"replicas": 2}}})"));
  CHECK(spec.target_customization_mode == "FirstMatch");
  CHECK(spec.override_targets.empty());
  CHECK_FALSE(spec.paused);

  REQUIRE(spec.target_customizations.size() == 3);
  const BundleTarget& prod = spec.target_customizations[0];
  CHECK(prod.name == "prod");
  REQUIRE(prod.cluster_selector.has_value());
  CHECK(prod.cluster_selector->match_labels == Labels{{"env", "prod"}});
  REQUIRE(prod.cluster_selector->match_expressions.size() == 1);
  CHECK(prod.cluster_selector->match_expressions[0].key == "region");
  CHECK(prod.cluster_selector->match_expressions[0].op == Op::kIn);
  CHECK(prod.cluster_selector->match_expressions[0].values == std::vector<std::string>{"eu", "us"});
  CHECK(prod.options == Json::parse(R"({"helm": {"values": {"replicas": 5}}})"));
  CHECK_FALSE(prod.do_not_deploy);

  const BundleTarget& local = spec.target_customizations[1];
  CHECK(local.name == "target001");
  CHECK(local.cluster_name == "local");
  CHECK_FALSE(local.cluster_selector.has_value());
  CHECK(local.options == Json{{"namespace", "local-ns"}});

  const BundleTarget& skip = spec.target_customizations[2];
  CHECK(skip.name == "skip-dev");
  CHECK(skip.cluster_group == "dev");
  CHECK(skip.do_not_deploy);
  CHECK(skip.options == Json::object());
}

// Fleet: pkg/apis/fleet.cattle.io/v1alpha1/fleetyaml.go (and cli/apply's
// bundle reader) — an unnamed customization is "target%03d" of its index.
TEST_CASE("Unnamed customizations are named target000, target001, ... by position", "[fleet]") {
  BundleSpec spec = MustParseSpec(
      "targetCustomizations:\n- clusterName: a\n- name: named\n  clusterName: b\n"
      "- clusterName: c\n- name: ''\n  clusterName: d\n");
  REQUIRE(spec.target_customizations.size() == 4);
  CHECK(spec.target_customizations[0].name == "target000");
  CHECK(spec.target_customizations[1].name == "named");
  CHECK(spec.target_customizations[2].name == "target002");
  CHECK(spec.target_customizations[3].name == "target003");
}

// A bundle directory without fleet.yaml (or with an empty one) gets defaults.
TEST_CASE("An empty fleet.yaml gives the default spec", "[fleet]") {
  for (const char* text : {"", "# only comments\n", "---\n", "null\n"}) {
    INFO(text);
    BundleSpec spec = MustParseSpec(text);
    CHECK(spec.name.empty());
    CHECK(spec.labels.empty());
    CHECK(spec.options == Json::object());
    CHECK(spec.target_customizations.empty());
    CHECK(spec.target_customization_mode == "FirstMatch");
    CHECK(spec.ToJson() == Json::object());
  }
}

// A YAML syntax error names fleet.yaml with its line and column.
TEST_CASE("A fleet.yaml syntax error reads fleet.yaml:LINE:COL", "[fleet]") {
  CHECK(SpecError("defaultNamespace: apps\nhelm:\n  releaseName: web\n   chart: x\n") ==
        "fleet.yaml:4:9: illegal map value");
  CHECK(SpecError("name: a\nname: b\n") == "fleet.yaml:2:1: duplicate key \"name\"");
  CHECK(SpecError("name: a\n---\nname: b\n") == "fleet.yaml: expected one YAML document, found 2");
}

// A value of the wrong type names the position of the value and the field.
TEST_CASE("A fleet.yaml type error reads fleet.yaml:LINE:COL: field: problem", "[fleet]") {
  CHECK(SpecError("defaultNamespace: demo\nnamespace: [a]\n") ==
        "fleet.yaml:2:12: namespace: must be a string");
  CHECK(SpecError("name: [x]\n") == "fleet.yaml:1:7: name: must be a string");
  CHECK(SpecError("helm: chart\n") == "fleet.yaml:1:7: helm: must be a mapping");
  CHECK(SpecError("keepResources: maybe\n") ==
        "fleet.yaml:1:16: keepResources: must be true or false");
  CHECK(SpecError("forceSyncGeneration: 1.5\n") ==
        "fleet.yaml:1:22: forceSyncGeneration: must be an integer");
  CHECK(SpecError("namespaceLabels:\n  a: {b: c}\n") ==
        "fleet.yaml:2:6: namespaceLabels.a: must be a string");
  CHECK(SpecError("namespace: Bad_NS\n") ==
        "fleet.yaml:1:12: namespace: \"Bad_NS\" is not a valid namespace name");
  CHECK(SpecError("labels:\n  team: [x]\n") == "fleet.yaml:2:9: labels.team: must be a string");
  CHECK(SpecError("labels: [x]\n") == "fleet.yaml:1:9: labels: must be a mapping of strings");
  CHECK_THAT(SpecError("labels:\n  bad key: v\n"),
             Catch::Matchers::StartsWith("fleet.yaml:2:12: labels: label key \"bad key\""));
  CHECK(SpecError("targetCustomizationMode: Sometimes\n") ==
        "fleet.yaml:1:26: targetCustomizationMode: must be FirstMatch or AllMatches");
  CHECK(SpecError("paused: 1\n") == "fleet.yaml:1:9: paused: must be true or false");
  CHECK(SpecError("- a\n") == "fleet.yaml:1:1: fleet.yaml: must be a mapping");
  // YAML 1.1: "yes" is a boolean, so this one is fine.
  CHECK(MustParseSpec("keepResources: yes\n").options == Json{{"keepResources", true}});
}

// Errors inside a customization point at the customization's own lines.
TEST_CASE("A type error inside targetCustomizations names its exact position", "[fleet]") {
  CHECK(SpecError("targetCustomizations: {a: b}\n") ==
        "fleet.yaml:1:23: targetCustomizations: must be a list");
  CHECK(SpecError("targetCustomizations:\n- just-a-string\n") ==
        "fleet.yaml:2:3: target: must be a mapping");
  CHECK(SpecError("targetCustomizations:\n- name: a\n  clusterName: [x]\n") ==
        "fleet.yaml:3:16: clusterName: must be a string");
  CHECK(SpecError("targetCustomizations:\n- name: a\n  namespace: [a]\n") ==
        "fleet.yaml:3:14: namespace: must be a string");
  CHECK(SpecError("targetCustomizations:\n- name: a\n  doNotDeploy: sure\n") ==
        "fleet.yaml:3:16: doNotDeploy: must be true or false");
  CHECK(
      SpecError("targetCustomizations:\n- clusterSelector:\n    matchLabels:\n      env: [a]\n") ==
      "fleet.yaml:3:5: clusterSelector.matchLabels.env: value must be a string");
  CHECK(SpecError("targetCustomizations:\n- clusterSelector:\n    matchExpressions:\n"
                  "    - {key: env, operator: Like, values: [a]}\n") ==
        "fleet.yaml:3:5: clusterSelector.matchExpressions[0].operator: \"Like\" is not one of In, "
        "NotIn, Exists, DoesNotExist");
}

// Fleet: imageScans is an error unless image scanning is enabled; Flotilla
// never enables it. An empty list is harmless.
TEST_CASE("imageScans is rejected unless it is empty", "[fleet]") {
  CHECK(SpecError("name: a\nimageScans:\n- policy: {semver: {range: '*'}}\n") ==
        "fleet.yaml:3:1: imageScans: image scanning is not enabled in this manager");
  CHECK(MustParseSpec("imageScans: []\n").name.empty());
  CHECK(MustParseSpec("imageScans:\n").name.empty());
}

// Fleet v0.16: targetCustomizationMode, plus paused, dependsOn and
// rolloutStrategy, which are bundle-wide and never per target.
TEST_CASE("Bundle-wide fields paused, dependsOn, rolloutStrategy and the mode parse", "[fleet]") {
  BundleSpec spec = MustParseSpec(
      "targetCustomizationMode: AllMatches\npaused: true\n"
      "dependsOn:\n- name: base\n- selector: {matchLabels: {tier: db}}\n"
      "rolloutStrategy:\n  maxUnavailable: 10%\n  autoPartitionSize: 5\n");
  CHECK(spec.target_customization_mode == "AllMatches");
  CHECK(spec.paused);
  CHECK(spec.depends_on ==
        Json::parse(R"([{"name": "base"}, {"selector": {"matchLabels": {"tier": "db"}}}])"));
  CHECK(spec.rollout_strategy ==
        Json::parse(R"({"maxUnavailable": "10%", "autoPartitionSize": 5})"));
  CHECK(spec.options == Json::object());
}

// Fleet: overrideTargets replace the GitRepo targets; they are plain targets,
// so deployment options in them are refused rather than silently dropped.
TEST_CASE("overrideTargets parse as targets and refuse deployment options", "[fleet]") {
  BundleSpec spec = MustParseSpec(
      "overrideTargets:\n- name: only-local\n  clusterName: local\n"
      "- clusterSelector: {matchLabels: {env: test}}\n");
  REQUIRE(spec.override_targets.size() == 2);
  CHECK(spec.override_targets[0].name == "only-local");
  CHECK(spec.override_targets[0].cluster_name == "local");
  CHECK(spec.override_targets[1].name == "target001");
  REQUIRE(spec.override_targets[1].cluster_selector.has_value());
  CHECK(spec.override_targets[1].cluster_selector->match_labels == Labels{{"env", "test"}});

  CHECK(SpecError("overrideTargets:\n- clusterName: a\n  helm: {}\n") ==
        "fleet.yaml:3:9: helm: unknown field (a target has name, clusterName, clusterSelector, "
        "clusterGroup, clusterGroupSelector)");
}

// The manager stores a parsed spec as JSON and reads it back.
TEST_CASE("BundleSpec survives ToJson and FromJson", "[fleet]") {
  BundleSpec spec = MustParseSpec(
      "name: nm\nlabels: {a: b}\ndefaultNamespace: d\ntargetCustomizationMode: AllMatches\n"
      "paused: true\ndependsOn: [{name: x}]\nrolloutStrategy: {maxUnavailable: 1}\n"
      "targetCustomizations:\n- name: t\n  clusterSelector: {}\n  doNotDeploy: true\n"
      "- clusterGroup: g\n  helm: {values: {a: 1}}\n"
      "overrideTargets:\n- clusterName: c\n");
  Json stored = spec.ToJson();
  CHECK(stored == Json::parse(R"({
    "name": "nm", "labels": {"a": "b"}, "defaultNamespace": "d",
    "targetCustomizationMode": "AllMatches", "paused": true, "dependsOn": [{"name": "x"}],
    "rolloutStrategy": {"maxUnavailable": 1},
    "targetCustomizations": [
      {"name": "t", "clusterSelector": {}, "doNotDeploy": true},
      {"name": "target001", "clusterGroup": "g", "helm": {"values": {"a": 1}}}],
    "overrideTargets": [{"name": "target000", "clusterName": "c"}]})"));
  auto back = BundleSpec::FromJson(stored);
  REQUIRE(back.ok());
  CHECK(back->ToJson() == stored);
  REQUIRE(back->target_customizations.size() == 2);
  CHECK(back->target_customizations[0].cluster_selector.has_value());
  CHECK(back->target_customizations[0].cluster_selector->Empty());

  auto bad = BundleSpec::FromJson(Json{{"namespace", 5}});
  REQUIRE(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()) == "stored bundle spec: namespace: must be a string");
}

}  // namespace
}  // namespace flotilla::common
