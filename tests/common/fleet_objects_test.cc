#include "common/fleet/fleet_objects.h"

#include <catch2/catch.hpp>
#include <string>

namespace flotilla::common {
namespace {

using Catch::Matchers::Contains;

template <typename T>
std::string ErrorOf(const absl::StatusOr<T>& result) {
  REQUIRE_FALSE(result.ok());
  CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

TEST_CASE("DocumentKind reads apiVersion and kind, and refuses other documents", "[objects]") {
  auto k = DocumentKind("apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n", "f.yaml");
  REQUIRE(k.ok());
  CHECK(k->api_version == "v1");
  CHECK(k->kind == "Secret");
  CHECK(ErrorOf(DocumentKind("name: x\n", "f.yaml")) ==
        "f.yaml:1:1: not a Kubernetes object (apiVersion and kind are required)");
  CHECK_THAT(ErrorOf(DocumentKind("- a\n", "f.yaml")), Contains("must be a mapping"));
}

// Fleet: clustergroup_types.go; target/matcher: a null selector has no
// members, {} matches every cluster.
TEST_CASE("A ClusterGroup keeps null and empty selectors apart", "[objects]") {
  auto with = ParseClusterGroup(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\nmetadata:\n  name: prod\n"
      "  labels: {team: a}\nspec:\n  selector:\n    matchLabels: {env: prod}\n",
      "g.yaml");
  REQUIRE(with.ok());
  CHECK(with->name == "prod");
  CHECK(with->labels == Labels{{"team", "a"}});
  REQUIRE(with->selector.has_value());
  CHECK(with->selector->Matches({{"env", "prod"}}));
  CHECK_FALSE(with->selector->Matches({{"env", "dev"}}));

  auto all = ParseClusterGroup(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\nmetadata: {name: all}\n"
      "spec: {selector: {}}\n",
      "g.yaml");
  REQUIRE(all.ok());
  REQUIRE(all->selector.has_value());
  CHECK(all->selector->Empty());

  auto none = ParseClusterGroup(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\nmetadata: {name: none}\n"
      "spec: {selector: null}\n",
      "g.yaml");
  REQUIRE(none.ok());
  CHECK_FALSE(none->selector.has_value());

  CHECK(ErrorOf(ParseClusterGroup("apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\n"
                                  "metadata: {name: g}\nspec: {selectr: {}}\n",
                                  "g.yaml")) == "g.yaml:4:17: spec.selectr: unknown field");
  CHECK_THAT(ErrorOf(ParseClusterGroup("apiVersion: fleet.cattle.io/v1alpha1\nkind: ClusterGroup\n"
                                       "metadata: {name: g}\nspec:\n  selector:\n"
                                       "    matchExpressions: [{key: env, operator: Near}]\n",
                                       "g.yaml")),
             Contains("spec.selector"));
  CHECK(ErrorOf(ParseClusterGroup("apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\n"
                                  "metadata: {name: g}\n",
                                  "g.yaml")) ==
        "g.yaml:2:7: kind: \"Cluster\" is not ClusterGroup");
}

// Fleet: cluster_types.go — the operator-facing fields.
TEST_CASE("A Cluster sets labels, annotations, paused and templateValues", "[objects]") {
  auto c = ParseCluster(
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: edge-1\n"
      "  labels: {env: prod}\n  annotations: {owner: ops}\nspec:\n  paused: true\n"
      "  templateValues:\n    region: eu\n",
      "c.yaml");
  REQUIRE(c.ok());
  CHECK(c->name == "edge-1");
  CHECK(c->labels == Labels{{"env", "prod"}});
  CHECK(c->annotations == Labels{{"owner", "ops"}});
  CHECK(c->paused);
  CHECK(c->template_values == Json{{"region", "eu"}});

  CHECK_THAT(ErrorOf(ParseCluster("apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\n"
                                  "metadata: {name: c}\nspec: {kubeConfigSecret: k}\n",
                                  "c.yaml")),
             Contains("spec.kubeConfigSecret: configures Fleet's own agent deployment"));
  CHECK_THAT(ErrorOf(ParseCluster("apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\n"
                                  "metadata: {name: c, labels: {'bad key!': x}}\n",
                                  "c.yaml")),
             Contains("metadata.labels.bad key!"));
  CHECK(ErrorOf(ParseCluster("apiVersion: fleet.cattle.io/v1alpha1\nkind: Cluster\n"
                             "metadata: {name: c}\nspec: {paused: maybe}\n",
                             "c.yaml")) == "c.yaml:4:16: spec.paused: must be true or false");
}

// k8s.io/api core/v1 Secret: data is base64, stringData plain and wins.
TEST_CASE("Secrets of the three types are read, and never echo a value", "[objects]") {
  auto basic = ParseSecret(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: git-auth}\n"
      "type: kubernetes.io/basic-auth\ndata:\n  username: Z2l0\n  password: c2VjcmV0\n",
      "s.yaml");
  REQUIRE(basic.ok());
  CHECK(basic->type == "basic-auth");
  CHECK(basic->data.at("username") == "git");
  CHECK(basic->data.at("password") == "secret");

  auto ssh = ParseSecret(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: git-ssh}\ntype: kubernetes.io/ssh-auth\n"
      "stringData:\n  ssh-privatekey: KEY\n  known_hosts: host ssh-ed25519 AAAA\n",
      "s.yaml");
  REQUIRE(ssh.ok());
  CHECK(ssh->type == "ssh-auth");
  CHECK(ssh->data.at("known_hosts") == "host ssh-ed25519 AAAA");

  auto opaque = ParseSecret(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: hooks}\n"
      "data: {github: c2VjcmV0}\nstringData: {github: plain}\n",
      "s.yaml");
  REQUIRE(opaque.ok());
  CHECK(opaque->type == "generic");
  CHECK(opaque->data.at("github") == "plain");

  std::string bad_b64 = ErrorOf(ParseSecret(
      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {token: 'hunter2!!'}\n", "s.yaml"));
  CHECK(bad_b64 == "s.yaml:4:15: data.token: must be base64 (use stringData for plain text)");
  CHECK_THAT(bad_b64, !Contains("hunter2"));
  CHECK(ErrorOf(ParseSecret("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
                            "type: kubernetes.io/basic-auth\nstringData: {username: u}\n",
                            "s.yaml")) ==
        "s.yaml:5:13: data.password: is required for type kubernetes.io/basic-auth");
  CHECK_THAT(ErrorOf(ParseSecret("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
                                 "type: kubernetes.io/tls\nstringData: {a: b}\n",
                                 "s.yaml")),
             Contains("\"kubernetes.io/tls\" is not supported"));
  CHECK_THAT(ErrorOf(ParseSecret("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
                                 "type: kubernetes.io/ssh-auth\n"
                                 "stringData: {ssh-privatekey: k, password: p}\n",
                                 "s.yaml")),
             Contains("data.password: is not a key of kubernetes.io/ssh-auth"));
  CHECK(ErrorOf(ParseSecret("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", "s.yaml")) ==
        "s.yaml:1:1: data: an Opaque secret needs at least one key");
}

}  // namespace
}  // namespace flotilla::common
