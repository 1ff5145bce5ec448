#include "common/fleet/targeting.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/fleet/bundle_spec.h"
#include "common/fleet/bundle_target.h"
#include "common/fleet/options.h"
#include "common/hash.h"

namespace flotilla::common {
namespace {

// One target entry parsed from YAML, as fleet.yaml or a GitRepo would hold it.
BundleTarget Target(const std::string& yaml, bool allow_options = true) {
  auto docs = ParseYamlDocumentsWithPositions(yaml, "target.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 1);
  auto t = ParseBundleTarget((*docs)[0], "", allow_options);
  INFO(yaml);
  INFO(t.status().ToString());
  REQUIRE(t.ok());
  return *t;
}

BundleSpec Spec(const std::string& fleet_yaml) {
  auto spec = ParseBundleSpec(fleet_yaml, "fleet.yaml");
  INFO(fleet_yaml);
  INFO(spec.status().ToString());
  REQUIRE(spec.ok());
  return *spec;
}

ClusterView Cluster(const std::string& name, Labels labels = {},
                    std::vector<const ClusterGroupView*> groups = {}) {
  ClusterView c;
  c.name = name;
  c.labels = std::move(labels);
  c.groups = std::move(groups);
  return c;
}

// The GitRepo default: [{name: default, clusterGroup: default}].
std::vector<BundleTarget> AllClustersTargets() {
  return {Target("name: all\nclusterSelector: {}\n", false)};
}

// --- BundleTarget matching ---------------------------------------------------

// Fleet: internal/cmd/controller/target/matcher/clustermatcher.go — a null
// (or "") selector is dropped from the criteria, `{}` matches every cluster.
TEST_CASE("A null selector is no criterion and {} matches every cluster", "[targeting]") {
  const ClusterGroupView group{"g", LabelSelector{}, {}};
  BundleTarget null_sel = Target("clusterSelector: null\nclusterGroup: g\n");
  CHECK_FALSE(null_sel.cluster_selector.has_value());
  CHECK(null_sel.Matches(Cluster("c1", {{"any", "x"}}, {&group})));
  CHECK_FALSE(null_sel.Matches(Cluster("c2")));

  BundleTarget empty_string = Target("clusterSelector: ''\nclusterName: c1\n");
  CHECK_FALSE(empty_string.cluster_selector.has_value());
  CHECK(empty_string.Matches(Cluster("c1")));

  BundleTarget all = Target("clusterSelector: {}\n");
  REQUIRE(all.cluster_selector.has_value());
  CHECK(all.Matches(Cluster("anything")));
  CHECK(all.Matches(Cluster("labelled", {{"env", "prod"}})));

  // A selector that is only null is no criterion at all: it matches nothing.
  BundleTarget only_null = Target("name: x\nclusterSelector: null\nclusterGroupSelector: ''\n");
  CHECK_FALSE(only_null.HasCriteria());
  CHECK_FALSE(only_null.Matches(Cluster("c1")));
}

// Fleet: matcher/clustermatcher.go — an entry without criteria matches no
// cluster, even one named like the entry.
TEST_CASE("A target with no criteria matches nothing", "[targeting]") {
  BundleTarget t = Target("name: c1\ndoNotDeploy: false\nhelm: {values: {a: 1}}\n");
  CHECK_FALSE(t.HasCriteria());
  CHECK_FALSE(t.Matches(Cluster("c1")));
  CHECK_FALSE(t.Matches(Cluster("c2", {{"env", "prod"}})));
}

// Fleet: matcher/clustermatcher.go — every criterion that is set must match.
TEST_CASE("All criteria of a target are ANDed", "[targeting]") {
  LabelSelector edge_sel;
  edge_sel.match_labels = {{"tier", "edge"}};
  const ClusterGroupView edge{"edge", edge_sel, {{"kind", "edge"}}};
  const ClusterGroupView core{"core", LabelSelector{}, {{"kind", "core"}}};
  BundleTarget t = Target(
      "clusterName: c1\nclusterSelector: {matchLabels: {env: prod}}\nclusterGroup: edge\n"
      "clusterGroupSelector: {matchLabels: {kind: edge}}\n");
  CHECK(t.Matches(Cluster("c1", {{"env", "prod"}}, {&edge})));
  CHECK_FALSE(t.Matches(Cluster("c2", {{"env", "prod"}}, {&edge})));
  CHECK_FALSE(t.Matches(Cluster("c1", {{"env", "dev"}}, {&edge})));
  CHECK_FALSE(t.Matches(Cluster("c1", {{"env", "prod"}}, {&core})));
  CHECK_FALSE(t.Matches(Cluster("c1", {{"env", "prod"}}, {})));
}

// Fleet: matcher/clustermatcher.go — clusterName also matches the Rancher
// display-name label.
TEST_CASE("clusterName also matches the cluster-display-name label", "[targeting]") {
  BundleTarget t = Target("clusterName: production-eu\n");
  CHECK(t.Matches(Cluster("production-eu")));
  CHECK(t.Matches(
      Cluster("c-m-8x2k", {{"management.cattle.io/cluster-display-name", "production-eu"}})));
  CHECK_FALSE(
      t.Matches(Cluster("c-m-8x2k", {{"management.cattle.io/cluster-display-name", "other"}})));
  CHECK_FALSE(t.Matches(Cluster("c-m-8x2k", {{"cluster-display-name", "production-eu"}})));
}

// Fleet: target/clustergroups.go — a cluster's groups are resolved by the
// caller (ClusterView.groups); clusterGroup matches by group name and
// clusterGroupSelector by the group's own labels.
TEST_CASE("clusterGroup and clusterGroupSelector match through ClusterView.groups", "[targeting]") {
  const ClusterGroupView dev{"dev", LabelSelector{}, {{"stage", "dev"}}};
  const ClusterGroupView prod{"prod", LabelSelector{}, {{"stage", "prod"}}};
  BundleTarget by_name = Target("clusterGroup: prod\n");
  CHECK(by_name.Matches(Cluster("c", {}, {&dev, &prod})));
  CHECK_FALSE(by_name.Matches(Cluster("c", {}, {&dev})));
  CHECK_FALSE(by_name.Matches(Cluster("prod")));

  BundleTarget by_labels = Target("clusterGroupSelector: {matchLabels: {stage: dev}}\n");
  CHECK(by_labels.Matches(Cluster("c", {}, {&prod, &dev})));
  CHECK_FALSE(by_labels.Matches(Cluster("c", {{"stage", "dev"}}, {&prod})));
}

// Targets are stored as JSON and read back unchanged.
TEST_CASE("A target survives ToJson and BundleTargetFromJson", "[targeting]") {
  BundleTarget t = Target(
      "name: t\nclusterName: c\nclusterSelector: {matchLabels: {a: b}}\nclusterGroup: g\n"
      "clusterGroupSelector: {}\ndoNotDeploy: true\nnamespace: ns\n");
  Json j = t.ToJson();
  CHECK(j == Json::parse(R"({"name": "t", "clusterName": "c",
    "clusterSelector": {"matchLabels": {"a": "b"}}, "clusterGroup": "g",
    "clusterGroupSelector": {}, "doNotDeploy": true, "namespace": "ns"})"));
  auto back = BundleTargetFromJson(j);
  REQUIRE(back.ok());
  CHECK(back->ToJson() == j);
  CHECK(IsDeploymentOptionKey("helm"));
  CHECK(IsDeploymentOptionKey("defaultNamespace"));
  CHECK_FALSE(IsDeploymentOptionKey("clusterName"));
  CHECK_FALSE(IsDeploymentOptionKey("paused"));
}

// --- MergeOptions --------------------------------------------------------------

// Fleet: internal/cmd/controller/options/calculate.go Merge — strings
// override only when the customization sets them non-empty.
TEST_CASE("MergeOptions overrides strings only with non-empty values", "[targeting]") {
  Json base = Json::parse(R"({"defaultNamespace": "a", "namespace": "b", "serviceAccount": "s",
    "helm": {"chart": "c", "repo": "r", "version": "1.0", "releaseName": "rel"},
    "kustomize": {"dir": "k"}})");
  Json custom = Json::parse(R"({"defaultNamespace": "", "namespace": "override",
    "helm": {"chart": "", "version": "2.0"}, "kustomize": {"dir": ""}})");
  CHECK(MergeOptions(base, custom) == Json::parse(R"({"defaultNamespace": "a",
    "namespace": "override", "serviceAccount": "s",
    "helm": {"chart": "c", "repo": "r", "version": "2.0", "releaseName": "rel"},
    "kustomize": {"dir": "k"}})"));
  CHECK(MergeOptions(base, Json::object()) == base);
  CHECK(MergeOptions(Json::object(), Json{{"serviceAccount", "x"}}) ==
        Json{{"serviceAccount", "x"}});
}

// Fleet: options/calculate.go Merge — booleans are ORed, so a customization
// can switch keepResources or helm.force on but never off.
TEST_CASE("MergeOptions ORs booleans so a customization cannot switch one off", "[targeting]") {
  Json base = Json::parse(R"({"keepResources": true, "helm": {"force": false, "atomic": true}})");
  Json custom = Json::parse(R"({"keepResources": false,
    "helm": {"force": true, "atomic": false, "takeOwnership": false}})");
  CHECK(MergeOptions(base, custom) == Json::parse(R"({"keepResources": true,
    "helm": {"force": true, "atomic": true, "takeOwnership": false}})"));
  CHECK(MergeOptions(Json::object(), Json{{"keepResources", true}}) ==
        Json{{"keepResources", true}});
  // A malformed non-boolean base value does not throw; the customization wins.
  CHECK(MergeOptions(Json{{"helm", {{"force", "yes"}}}}, Json{{"helm", {{"force", true}}}}) ==
        Json{{"helm", {{"force", true}}}});
}

// Fleet: options/calculate.go Merge (wrangler data.MergeMaps) — helm.values
// merge map by map; lists and scalars, null included, replace.
TEST_CASE("MergeOptions deep-merges helm.values", "[targeting]") {
  Json base = Json::parse(R"({"helm": {"values": {
    "image": {"repo": "nginx", "tag": "1.0"}, "list": [1, 2], "drop": {"x": 1}, "keep": 1}}})");
  Json custom = Json::parse(R"({"helm": {"values": {
    "image": {"tag": "2.0", "pull": "Always"}, "list": [3], "drop": null, "new": {"a": 1}}}})");
  CHECK(MergeOptions(base, custom) == Json::parse(R"({"helm": {"values": {
    "image": {"repo": "nginx", "tag": "2.0", "pull": "Always"}, "list": [3], "drop": null,
    "keep": 1, "new": {"a": 1}}}})"));
  // No values in the customization leaves the base values alone.
  CHECK(MergeOptions(base, Json{{"helm", {{"values", nullptr}}}}) == base);
  CHECK(DeepMerge(Json{{"a", 1}}, nullptr) == Json{{"a", 1}});
  CHECK(DeepMerge(Json{{"a", {{"b", 1}}}}, Json{{"a", 2}}) == Json{{"a", 2}});
}

// Fleet: options/calculate.go Merge — templateValues keys are overwritten
// one by one, valuesFrom and comparePatches are unioned.
TEST_CASE("MergeOptions overwrites templateValues keys and unions valuesFrom and comparePatches",
          "[targeting]") {
  Json from_a = Json::parse(R"({"configMapKeyRef": {"name": "a", "key": "values.yaml"}})");
  Json from_b = Json::parse(R"({"secretKeyRef": {"name": "b", "key": "values.yaml"}})");
  Json patch = Json::parse(R"({"kind": "Service", "name": "s", "jsonPointers": ["/spec"]})");
  Json base = {{"helm", {{"templateValues", {{"a", "1"}, {"b", "2"}}}, {"valuesFrom", {from_a}}}},
               {"diff", {{"comparePatches", {patch}}}}};
  Json custom = {{"helm", {{"templateValues", {{"b", "3"}}}, {"valuesFrom", {from_a, from_b}}}},
                 {"diff", {{"comparePatches", {patch}}}}};
  Json merged = MergeOptions(base, custom);
  CHECK(merged["helm"]["templateValues"] == Json{{"a", "1"}, {"b", "3"}});
  CHECK(merged["helm"]["valuesFrom"] == Json::array({from_a, from_b}));
  CHECK(merged["diff"]["comparePatches"] == Json::array({patch}));
}

// Fleet: options/calculate.go Merge — yaml.overlays are appended.
TEST_CASE("MergeOptions appends yaml.overlays", "[targeting]") {
  Json merged = MergeOptions(Json::parse(R"({"yaml": {"overlays": ["base"]}})"),
                             Json::parse(R"({"yaml": {"overlays": ["prod", "eu"]}})"));
  CHECK(merged == Json::parse(R"({"yaml": {"overlays": ["base", "prod", "eu"]}})"));
  CHECK(MergeOptions(Json::object(), Json::parse(R"({"yaml": {"overlays": ["x"]}})")) ==
        Json::parse(R"({"yaml": {"overlays": ["x"]}})"));
}

// Fleet: options/calculate.go Merge — correctDrift is replaced as a whole.
TEST_CASE("MergeOptions replaces correctDrift", "[targeting]") {
  Json merged = MergeOptions(Json::parse(R"({"correctDrift": {"enabled": true, "force": true}})"),
                             Json::parse(R"({"correctDrift": {"enabled": false}})"));
  CHECK(merged == Json::parse(R"({"correctDrift": {"enabled": false}})"));
}

// Fleet: options/calculate.go Merge — helm.timeoutSeconds > 0 overrides,
// 0 keeps the base, < 0 resets it to 0.
TEST_CASE("MergeOptions applies timeoutSeconds only when positive and resets it when negative",
          "[targeting]") {
  Json base = Json::parse(R"({"helm": {"timeoutSeconds": 30}})");
  CHECK(MergeOptions(base, Json::parse(R"({"helm": {"timeoutSeconds": 60}})")) ==
        Json::parse(R"({"helm": {"timeoutSeconds": 60}})"));
  CHECK(MergeOptions(base, Json::parse(R"({"helm": {"timeoutSeconds": 0}})")) == base);
  CHECK(MergeOptions(base, Json::parse(R"({"helm": {"timeoutSeconds": -1}})")) ==
        Json::parse(R"({"helm": {"timeoutSeconds": 0}})"));
}

// Fleet: FLEET-SEMANTICS §1 — deleteNamespace (and ignore) are never set
// per target.
TEST_CASE("MergeOptions never takes deleteNamespace or ignore from a customization",
          "[targeting]") {
  Json custom = Json::parse(R"({"deleteNamespace": true, "ignore": {"conditions": [{"a": "b"}]},
    "namespace": "x"})");
  CHECK(MergeOptions(Json::object(), custom) == Json{{"namespace", "x"}});
  Json base = Json::parse(R"({"deleteNamespace": false})");
  CHECK(MergeOptions(base, custom) ==
        Json::parse(R"({"deleteNamespace": false, "namespace": "x"})"));
}

// Fleet: options/calculate.go DeploymentID — diff and correctDrift do not
// change the options hash, so they never cause a redeploy.
TEST_CASE("OptionsHash ignores diff and correctDrift", "[targeting]") {
  Json opts = Json::parse(R"({"namespace": "a", "helm": {"values": {"x": 1}}})");
  Json with_extras = opts;
  with_extras["diff"] = Json::parse(R"({"comparePatches": [{"kind": "X"}]})");
  with_extras["correctDrift"] = Json::parse(R"({"enabled": true})");
  CHECK(OptionsHash(with_extras) == OptionsHash(opts));
  CHECK(OptionsHash(opts) == Sha256Hex(R"({"helm":{"values":{"x":1}},"namespace":"a"})"));
  CHECK(OptionsHash(opts).size() == 64);
  Json changed = opts;
  changed["helm"]["values"]["x"] = 2;
  CHECK(OptionsHash(changed) != OptionsHash(opts));
  CHECK(OptionsHash(Json::object()) == Sha256Hex("{}"));
  CHECK(OptionsHash(nullptr) == Sha256Hex("{}"));
}

// Fleet: manifestID + ":" + options hash, with Fleet's "s-" content prefix.
TEST_CASE("DeploymentId is s-<content hash>:<options hash>", "[targeting]") {
  CHECK(DeploymentId("abc123", "def456") == "s-abc123:def456");
  CHECK(DeploymentId("", "") == "s-:");
}

// Fleet: internal/namespaces/namespaces.go — namespace > defaultNamespace >
// "default".
TEST_CASE("EffectiveDefaultNamespace prefers namespace, then defaultNamespace", "[targeting]") {
  CHECK(EffectiveDefaultNamespace(Json::object()) == "default");
  CHECK(EffectiveDefaultNamespace(Json{{"defaultNamespace", "dn"}}) == "dn");
  CHECK(EffectiveDefaultNamespace(Json{{"defaultNamespace", "dn"}, {"namespace", "ns"}}) == "ns");
  CHECK(EffectiveDefaultNamespace(Json{{"defaultNamespace", "dn"}, {"namespace", ""}}) == "dn");
  CHECK(EffectiveDefaultNamespace(nullptr) == "default");
}

// --- DecideTarget ---------------------------------------------------------------

// Fleet: internal/cmd/controller/target/builder.go — FirstMatch (the default)
// applies only the first matching customization.
TEST_CASE("FirstMatch applies only the first matching customization", "[targeting]") {
  BundleSpec spec = Spec(R"(defaultNamespace: base
helm: {values: {replicas: 1, region: none}}
targetCustomizations:
- name: prod
  clusterSelector: {matchLabels: {env: prod}}
  helm: {values: {replicas: 3}}
- name: eu
  clusterSelector: {matchLabels: {region: eu}}
  helm: {values: {region: eu}}
)");
  TargetDecision d =
      DecideTarget(AllClustersTargets(), spec, Cluster("c1", {{"env", "prod"}, {"region", "eu"}}));
  CHECK(d.deploy);
  CHECK(d.customization == "prod");
  CHECK(d.reason == "matched target \"all\", customization prod");
  CHECK(d.options == Json::parse(R"({"defaultNamespace": "base",
    "helm": {"values": {"replicas": 3, "region": "none"}}})"));

  TargetDecision plain = DecideTarget(AllClustersTargets(), spec, Cluster("c2"));
  CHECK(plain.deploy);
  CHECK(plain.customization.empty());
  CHECK(plain.reason == "matched target \"all\"");
  CHECK(plain.options == spec.options);
}

// Fleet: target/builder.go — AllMatches merges every matching customization
// in list order.
TEST_CASE("AllMatches merges every matching customization in order", "[targeting]") {
  BundleSpec spec = Spec(R"(targetCustomizationMode: AllMatches
helm: {values: {replicas: 1, region: none}}
targetCustomizations:
- name: prod
  clusterSelector: {matchLabels: {env: prod}}
  helm: {values: {replicas: 3}}
- name: other
  clusterName: nobody
  helm: {values: {replicas: 99}}
- name: eu
  clusterSelector: {matchLabels: {region: eu}}
  helm: {values: {region: eu, replicas: 5}}
)");
  TargetDecision d =
      DecideTarget(AllClustersTargets(), spec, Cluster("c1", {{"env", "prod"}, {"region", "eu"}}));
  CHECK(d.deploy);
  CHECK(d.customization == "prod,eu");
  CHECK(d.reason == "matched target \"all\", customization prod,eu");
  CHECK(d.options == Json::parse(R"({"helm": {"values": {"replicas": 5, "region": "eu"}}})"));
}

// Fleet: target/builder.go — a matching doNotDeploy excludes the cluster: the
// first match in FirstMatch mode, any match in AllMatches mode.
TEST_CASE("doNotDeploy excludes the cluster in either mode", "[targeting]") {
  const std::string customizations = R"(targetCustomizations:
- name: prod
  clusterSelector: {matchLabels: {env: prod}}
  helm: {values: {replicas: 3}}
- name: skip-eu
  clusterSelector: {matchLabels: {region: eu}}
  doNotDeploy: true
)";
  const ClusterView eu_prod = Cluster("c1", {{"env", "prod"}, {"region", "eu"}});
  const ClusterView eu_dev = Cluster("c2", {{"env", "dev"}, {"region", "eu"}});

  BundleSpec first = Spec(customizations);
  TargetDecision first_prod = DecideTarget(AllClustersTargets(), first, eu_prod);
  CHECK(first_prod.deploy);  // "prod" is the first match; skip-eu is never reached
  CHECK(first_prod.customization == "prod");
  TargetDecision first_dev = DecideTarget(AllClustersTargets(), first, eu_dev);
  CHECK_FALSE(first_dev.deploy);
  CHECK(first_dev.customization == "skip-eu");
  CHECK(first_dev.reason == "customization \"skip-eu\" sets doNotDeploy for cluster \"c2\"");

  BundleSpec all = Spec("targetCustomizationMode: AllMatches\n" + customizations);
  TargetDecision all_prod = DecideTarget(AllClustersTargets(), all, eu_prod);
  CHECK_FALSE(all_prod.deploy);
  CHECK(all_prod.reason == "customization \"skip-eu\" sets doNotDeploy for cluster \"c1\"");
  CHECK(all_prod.options == Json::object());

  // doNotDeploy on the GitRepo target itself.
  std::vector<BundleTarget> targets = {
      Target("name: no-local\nclusterName: local\ndoNotDeploy: true\n", false),
      Target("name: rest\nclusterSelector: {}\n", false)};
  TargetDecision local = DecideTarget(targets, Spec(""), Cluster("local"));
  CHECK_FALSE(local.deploy);
  CHECK(local.reason == "target \"no-local\" sets doNotDeploy for cluster \"local\"");
  CHECK(DecideTarget(targets, Spec(""), Cluster("remote")).deploy);
}

// Fleet: target/builder.go + bundlematch.go — overrideTargets replace the
// GitRepo targets, but the GitRepo targets still restrict where the bundle
// may go (targetRestrictions).
TEST_CASE("overrideTargets replace the GitRepo targets but stay restricted by them",
          "[targeting]") {
  std::vector<BundleTarget> gitrepo_targets = {
      Target("name: prod-only\nclusterSelector: {matchLabels: {env: prod}}\n", false)};
  BundleSpec spec = Spec(R"(overrideTargets:
- name: eu
  clusterSelector: {matchLabels: {region: eu}}
)");
  // Matches the override and the restriction.
  TargetDecision both =
      DecideTarget(gitrepo_targets, spec, Cluster("c1", {{"env", "prod"}, {"region", "eu"}}));
  CHECK(both.deploy);
  CHECK(both.reason == "matched target \"eu\"");
  // Matches the GitRepo target but not the override: the override replaced it.
  TargetDecision replaced =
      DecideTarget(gitrepo_targets, spec, Cluster("c2", {{"env", "prod"}, {"region", "us"}}));
  CHECK_FALSE(replaced.deploy);
  CHECK(replaced.reason == "cluster \"c2\" matches none of the fleet.yaml overrideTargets");
  // Matches the override but not the GitRepo restriction.
  TargetDecision restricted =
      DecideTarget(gitrepo_targets, spec, Cluster("c3", {{"env", "dev"}, {"region", "eu"}}));
  CHECK_FALSE(restricted.deploy);
  CHECK(restricted.reason ==
        "cluster \"c3\" matches overrideTargets but none of the GitRepo targets, which restrict "
        "where its bundles may go");
}

// Fleet: target/builder.go — customizations never add clusters; a cluster
// that matches no target gets nothing, and the reason names it.
TEST_CASE("A cluster matching no target is not deployed and the reason names it", "[targeting]") {
  std::vector<BundleTarget> targets = {Target("clusterGroup: default\n", false)};
  BundleSpec spec = Spec(R"(targetCustomizations:
- name: lonely
  clusterName: lonely
  helm: {values: {a: 1}}
)");
  TargetDecision d = DecideTarget(targets, spec, Cluster("lonely"));
  CHECK_FALSE(d.deploy);
  CHECK(d.reason == "cluster \"lonely\" matches none of the GitRepo targets");
  CHECK(d.customization.empty());
  CHECK(d.options == Json::object());

  TargetDecision none = DecideTarget({}, Spec(""), Cluster("c"));
  CHECK_FALSE(none.deploy);
  CHECK(none.reason == "cluster \"c\" matches none of the GitRepo targets");
}

// Fleet: internal/bundlereader/read.go copies the GitRepo's settings onto
// every bundle it reads; targetNamespace also overrides every target.
TEST_CASE("GitRepo settings apply to every bundle and targetNamespace wins everywhere",
          "[targeting]") {
  BundleSpec spec = Spec(
      "namespace: mine\nserviceAccount: own\n"
      "targetCustomizations:\n- name: eu\n  clusterSelector: {matchLabels: {region: eu}}\n"
      "  namespace: eu-ns\n");
  GitRepoSpec repo;
  repo.target_namespace = "forced";
  repo.service_account = "deployer";
  repo.keep_resources = true;
  repo.correct_drift.enabled = true;
  repo.force_sync_generation = 2;
  BundleSpec out = WithGitRepoSettings(spec, repo);
  CHECK(out.options["namespace"] == "forced");
  CHECK(out.options["serviceAccount"] == "deployer");
  CHECK(out.options["keepResources"] == true);
  CHECK(out.options["correctDrift"]["enabled"] == true);
  CHECK(out.options["forceSyncGeneration"] == 2);
  REQUIRE(out.target_customizations.size() == 1);
  CHECK(out.target_customizations[0].options["namespace"] == "forced");

  // What a matching customization leaves after the merge.
  CHECK(MergeOptions(out.options, out.target_customizations[0].options)["namespace"] == "forced");

  // Nothing set on the GitRepo: the bundle is unchanged.
  BundleSpec same = WithGitRepoSettings(spec, GitRepoSpec{});
  CHECK(same.options == spec.options);
}

}  // namespace
}  // namespace flotilla::common
