#include "common/selector.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "common/yaml.h"

namespace flotilla::common {
namespace {

using Op = LabelSelectorRequirement::Op;

// A selector parsed from its YAML form; the input must be valid.
LabelSelector MustParseSelector(const std::string& yaml) {
  auto json = ParseYaml(yaml, "selector.yaml");
  REQUIRE(json.ok());
  auto sel = ParseLabelSelector(*json, "sel");
  INFO(yaml);
  REQUIRE(sel.ok());
  return *sel;
}

// The error message of a selector that must be rejected as InvalidArgument.
std::string SelectorError(const std::string& yaml, const std::string& where) {
  auto json = ParseYaml(yaml, "selector.yaml");
  REQUIRE(json.ok());
  auto sel = ParseLabelSelector(*json, where);
  INFO(yaml);
  REQUIRE(sel.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(sel.status().message());
}

std::string StringError(const std::string& text) {
  auto sel = ParseSelectorString(text);
  INFO(text);
  REQUIRE(sel.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(sel.status().message());
}

// metav1.LabelSelector semantics (k8s.io/apimachinery labels.Selector): every
// matchLabels entry must be present with that value.
TEST_CASE("matchLabels requires every listed label with its exact value", "[selector]") {
  LabelSelector sel = MustParseSelector("matchLabels: {env: prod, region: eu}");
  CHECK(sel.Matches({{"env", "prod"}, {"region", "eu"}}));
  CHECK(sel.Matches({{"env", "prod"}, {"region", "eu"}, {"extra", "x"}}));
  CHECK_FALSE(sel.Matches({{"env", "prod"}}));
  CHECK_FALSE(sel.Matches({{"env", "prod"}, {"region", "us"}}));
  CHECK_FALSE(sel.Matches({}));
}

// In / NotIn / Exists / DoesNotExist as Kubernetes defines them; NotIn and
// DoesNotExist match a cluster that lacks the label.
TEST_CASE("matchExpressions implement In, NotIn, Exists and DoesNotExist", "[selector]") {
  LabelSelector in =
      MustParseSelector("matchExpressions:\n- {key: env, operator: In, values: [prod, staging]}\n");
  CHECK(in.Matches({{"env", "prod"}}));
  CHECK(in.Matches({{"env", "staging"}}));
  CHECK_FALSE(in.Matches({{"env", "dev"}}));
  CHECK_FALSE(in.Matches({}));

  LabelSelector not_in =
      MustParseSelector("matchExpressions:\n- {key: env, operator: NotIn, values: [dev]}\n");
  CHECK(not_in.Matches({{"env", "prod"}}));
  CHECK(not_in.Matches({}));
  CHECK_FALSE(not_in.Matches({{"env", "dev"}}));

  LabelSelector exists = MustParseSelector("matchExpressions:\n- {key: gpu, operator: Exists}\n");
  CHECK(exists.Matches({{"gpu", ""}}));
  CHECK(exists.Matches({{"gpu", "a100"}}));
  CHECK_FALSE(exists.Matches({{"cpu", "x"}}));

  LabelSelector absent =
      MustParseSelector("matchExpressions:\n- {key: gpu, operator: DoesNotExist, values: []}\n");
  CHECK(absent.Matches({}));
  CHECK(absent.Matches({{"cpu", "x"}}));
  CHECK_FALSE(absent.Matches({{"gpu", ""}}));

  // matchLabels and all expressions are ANDed.
  LabelSelector both = MustParseSelector(
      "matchLabels: {env: prod}\nmatchExpressions:\n- {key: gpu, operator: Exists}\n"
      "- {key: tier, operator: NotIn, values: [web]}\n");
  CHECK(both.Matches({{"env", "prod"}, {"gpu", "1"}}));
  CHECK_FALSE(both.Matches({{"env", "prod"}, {"gpu", "1"}, {"tier", "web"}}));
  CHECK_FALSE(both.Matches({{"env", "dev"}, {"gpu", "1"}}));
  CHECK_FALSE(both.Matches({{"env", "prod"}}));
}

// `{}` (and null matchLabels/matchExpressions) selects every object.
TEST_CASE("An empty selector matches every label set", "[selector]") {
  for (const char* yaml : {"{}", "matchLabels: {}", "matchLabels: null\nmatchExpressions: []"}) {
    INFO(yaml);
    LabelSelector sel = MustParseSelector(yaml);
    CHECK(sel.Empty());
    CHECK(sel.Matches({}));
    CHECK(sel.Matches({{"any", "thing"}}));
    CHECK(sel.ToJson() == Json::object());
    CHECK(sel.ToString().empty());
  }
}

// Bad selectors are InvalidArgument, and the message names the field path
// (prefixed by the caller's `where`).
TEST_CASE("Invalid selectors are rejected with the offending field path", "[selector]") {
  const std::string w = "fleet.yaml: targetCustomizations[1].clusterSelector";
  CHECK(SelectorError("matchExpressions:\n- {key: env, operator: Equals, values: [a]}\n", w) ==
        w + ".matchExpressions[0].operator: \"Equals\" is not one of In, NotIn, Exists, "
            "DoesNotExist");
  CHECK(SelectorError("matchExpressions:\n- {key: a, operator: Exists}\n"
                      "- {key: env, values: [a]}\n",
                      w) ==
        w + ".matchExpressions[1].operator: \"\" is not one of In, NotIn, Exists, DoesNotExist");
  CHECK(SelectorError("matchExpressions:\n- {key: env, operator: In}\n", w) ==
        w + ".matchExpressions[0]: operator In needs at least one value");
  CHECK(SelectorError("matchExpressions:\n- {key: env, operator: NotIn, values: []}\n", w) ==
        w + ".matchExpressions[0]: operator NotIn needs at least one value");
  CHECK(SelectorError("matchExpressions:\n- {key: env, operator: Exists, values: [a]}\n", w) ==
        w + ".matchExpressions[0]: operator Exists takes no values");
  CHECK(SelectorError("matchExpressions:\n- {key: env, operator: In, values: a}\n", w) ==
        w + ".matchExpressions[0].values: must be a list");
  CHECK(SelectorError("matchExpressions:\n- {key: env, operator: In, values: [1]}\n", w) ==
        w + ".matchExpressions[0].values: must be strings");
  // YAML 1.1: a plain y is the boolean true, as kubectl would read it too.
  CHECK(SelectorError("matchExpressions:\n- {key: env, operator: In, values: [x, y]}\n", w) ==
        w + ".matchExpressions[0].values: must be strings");
  CHECK(SelectorError("matchExpressions:\n- {operator: Exists}\n", w) ==
        w + ".matchExpressions[0]: needs a string \"key\"");
  CHECK(SelectorError("matchExpressions: {key: a}\n", w) ==
        w + ".matchExpressions: must be a list");
  CHECK(SelectorError("matchLabels: {env: 1}\n", w) ==
        w + ".matchLabels.env: value must be a string");
  CHECK(SelectorError("matchLabels: [a]\n", w) == w + ".matchLabels: must be a mapping");
  CHECK(SelectorError("matchLabel: {env: prod}\n", w) ==
        w + ": unknown field \"matchLabel\" (expected matchLabels, matchExpressions)");
  CHECK(SelectorError("[a]", w) == w + ": must be a mapping");
}

// The JSON and kubectl string forms of a parsed selector.
TEST_CASE("A selector converts back to its JSON and kubectl string forms", "[selector]") {
  LabelSelector sel = MustParseSelector(
      "matchLabels: {b: '2', a: '1'}\nmatchExpressions:\n"
      "- {key: env, operator: In, values: [x, z]}\n- {key: tier, operator: NotIn, values: [web]}\n"
      "- {key: gpu, operator: Exists}\n- {key: old, operator: DoesNotExist}\n");
  CHECK(sel.ToString() == "a=1,b=2,env in (x,z),tier notin (web),gpu,!old");
  CHECK(sel.ToJson() == Json::parse(R"({
    "matchLabels": {"a": "1", "b": "2"},
    "matchExpressions": [
      {"key": "env", "operator": "In", "values": ["x", "z"]},
      {"key": "tier", "operator": "NotIn", "values": ["web"]},
      {"key": "gpu", "operator": "Exists"},
      {"key": "old", "operator": "DoesNotExist"}]})"));
  auto again = ParseLabelSelector(sel.ToJson(), "again");
  REQUIRE(again.ok());
  CHECK(again->ToString() == sel.ToString());
}

// kubectl -l syntax (k8s.io/apimachinery labels.Parse): =, ==, !=, in, notin,
// bare key (exists) and !key (does not exist).
TEST_CASE("ParseSelectorString accepts every kubectl selector form", "[selector]") {
  auto eq = ParseSelectorString("env=prod");
  REQUIRE(eq.ok());
  CHECK(eq->match_labels == Labels{{"env", "prod"}});
  CHECK(eq->match_expressions.empty());

  auto eqeq = ParseSelectorString(" env == prod ");
  REQUIRE(eqeq.ok());
  CHECK(eqeq->match_labels == Labels{{"env", "prod"}});

  auto ne = ParseSelectorString("env!=dev");
  REQUIRE(ne.ok());
  REQUIRE(ne->match_expressions.size() == 1);
  CHECK(ne->match_expressions[0].key == "env");
  CHECK(ne->match_expressions[0].op == Op::kNotIn);
  CHECK(ne->match_expressions[0].values == std::vector<std::string>{"dev"});
  CHECK(ne->Matches({}));
  CHECK_FALSE(ne->Matches({{"env", "dev"}}));

  auto in = ParseSelectorString("env in (prod, staging)");
  REQUIRE(in.ok());
  REQUIRE(in->match_expressions.size() == 1);
  CHECK(in->match_expressions[0].op == Op::kIn);
  CHECK(in->match_expressions[0].values == std::vector<std::string>{"prod", "staging"});

  auto notin = ParseSelectorString("tier notin (web)");
  REQUIRE(notin.ok());
  REQUIRE(notin->match_expressions.size() == 1);
  CHECK(notin->match_expressions[0].op == Op::kNotIn);
  CHECK(notin->match_expressions[0].values == std::vector<std::string>{"web"});

  auto exists = ParseSelectorString("gpu");
  REQUIRE(exists.ok());
  REQUIRE(exists->match_expressions.size() == 1);
  CHECK(exists->match_expressions[0].key == "gpu");
  CHECK(exists->match_expressions[0].op == Op::kExists);
  CHECK(exists->match_expressions[0].values.empty());

  auto absent = ParseSelectorString("!gpu");
  REQUIRE(absent.ok());
  REQUIRE(absent->match_expressions.size() == 1);
  CHECK(absent->match_expressions[0].key == "gpu");
  CHECK(absent->match_expressions[0].op == Op::kDoesNotExist);

  auto all = ParseSelectorString("a=b,env in (x,y),!d,example.com/role");
  REQUIRE(all.ok());
  CHECK(all->ToString() == "a=b,env in (x,y),!d,example.com/role");
  CHECK(all->Matches({{"a", "b"}, {"env", "y"}, {"example.com/role", ""}}));
  CHECK_FALSE(all->Matches({{"a", "b"}, {"env", "y"}, {"example.com/role", ""}, {"d", "1"}}));

  auto empty = ParseSelectorString("");
  REQUIRE(empty.ok());
  CHECK(empty->Empty());
  auto blank = ParseSelectorString("   ");
  REQUIRE(blank.ok());
  CHECK(blank->Empty());
}

// Malformed kubectl selectors are InvalidArgument with the reason.
TEST_CASE("ParseSelectorString rejects malformed selectors", "[selector]") {
  CHECK(StringError("env in (a,b") == "selector \"env in (a,b\": unbalanced parentheses");
  CHECK(StringError("env in prod") ==
        "selector term \"env in prod\": values must be in parentheses");
  CHECK(StringError("a=b,,c") == "selector \"a=b,,c\": empty term");
  CHECK(StringError("a=b,") == "selector \"a=b,\": empty term");
  CHECK_THAT(StringError("-bad=x"), Catch::Matchers::StartsWith("label key \"-bad\": name must"));
  CHECK_THAT(StringError("a=b c"),
             Catch::Matchers::StartsWith("label \"a\": value \"b c\" must be at most 63"));
  CHECK_THAT(StringError("env in (ok, -no)"),
             Catch::Matchers::StartsWith("label \"env\": value \"-no\""));
  CHECK_THAT(StringError("!"), Catch::Matchers::StartsWith("label key \"\": name must"));
  CHECK_THAT(StringError("Bad.Prefix/x"),
             Catch::Matchers::StartsWith("label key \"Bad.Prefix/x\": prefix must be a DNS"));
}

// Label keys: optional DNS-subdomain prefix (≤253, lowercase) and a name of at
// most 63 characters of [A-Za-z0-9._-], alphanumeric at both ends
// (k8s.io/apimachinery validation.IsQualifiedName).
TEST_CASE("ValidateLabelKey enforces the Kubernetes qualified-name rules", "[selector]") {
  const std::string name63(63, 'a');
  CHECK(ValidateLabelKey(name63).ok());
  CHECK(ValidateLabelKey("A.b_c-9").ok());
  CHECK(ValidateLabelKey("example.com/" + name63).ok());
  CHECK(ValidateLabelKey("management.cattle.io/cluster-display-name").ok());
  // A 253-character prefix of 63-character DNS labels.
  const std::string label63(63, 'p');
  const std::string prefix253 =
      label63 + "." + label63 + "." + label63 + "." + std::string(61, 'p');
  REQUIRE(prefix253.size() == 253);
  CHECK(ValidateLabelKey(prefix253 + "/x").ok());

  for (const std::string& bad :
       {std::string(64, 'a'), std::string(""), std::string("-a"), std::string("a-"),
        std::string("a b"), std::string("a/"), std::string("ex.com/" + std::string(64, 'a'))}) {
    INFO(bad);
    auto st = ValidateLabelKey(bad);
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(st.message()) ==
          "label key \"" + bad +
              "\": name must be 1-63 characters of [A-Za-z0-9._-], starting and ending with a "
              "letter or digit");
  }
  for (const std::string& bad :
       {std::string("/a"), std::string("Example.com/a"), std::string("ex_ample.com/a"),
        std::string("ex..com/a"), prefix253 + "p/x", std::string(64, 'p') + ".com/x"}) {
    INFO(bad);
    auto st = ValidateLabelKey(bad);
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(st.message()) ==
          "label key \"" + bad + "\": prefix must be a DNS subdomain (lowercase, at most 253)");
  }
}

// Label values: empty, or at most 63 characters of [A-Za-z0-9._-],
// alphanumeric at both ends.
TEST_CASE("ValidateLabelValue allows empty values and enforces 63 characters", "[selector]") {
  CHECK(ValidateLabelValue("k", "").ok());
  CHECK(ValidateLabelValue("k", std::string(63, 'v')).ok());
  CHECK(ValidateLabelValue("k", "A.b_c-9").ok());
  CHECK(ValidateLabelValue("k", "1").ok());
  for (const std::string& bad : {std::string(64, 'v'), std::string("-v"), std::string("v_"),
                                 std::string("a b"), std::string("a/b")}) {
    INFO(bad);
    auto st = ValidateLabelValue("k", bad);
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(st.message()) ==
          "label \"k\": value \"" + bad +
              "\" must be at most 63 characters of [A-Za-z0-9._-], starting and ending with a "
              "letter or digit");
  }
}

}  // namespace
}  // namespace flotilla::common
