// Fleet: internal/cmd/controller/target/builder.go preprocessHelmValues,
// processLabelValues, processTemplateValues, processTemplateValuesData.
#include "common/fleet/values_template.h"

#include <catch2/catch.hpp>
#include <string>

namespace flotilla::common {
namespace {

using Catch::Matchers::Contains;

ClusterView Cluster() {
  ClusterView c;
  c.name = "edge-1";
  c.labels = {{"env", "prod"}, {"region", "eu"}, {"kubectl.kubernetes.io/x", "hidden"}};
  c.annotations = {{"owner", "ops"}};
  c.template_values = {{"replicas", 3}, {"tier", "gold"}};
  return c;
}

Json WithValues(const Json& values) { return Json{{"helm", {{"values", values}}}}; }

TEST_CASE("global.fleet.clusterLabels.X becomes the cluster's label value", "[values]") {
  Json options = WithValues({{"env", "global.fleet.clusterLabels.env"},
                             {"nested", {{"zone", "global.fleet.clusterLabels.region"}}},
                             {"list", Json::array({{{"x", "global.fleet.clusterLabels.env"}}})},
                             {"missing", "global.fleet.clusterLabels.nope"}});
  REQUIRE(PreprocessHelmValues(options, Cluster()).ok());
  const Json& v = options["helm"]["values"];
  CHECK(v["env"] == "prod");
  CHECK(v["nested"]["zone"] == "eu");
  CHECK(v["list"][0]["x"] == "prod");
  CHECK(v["missing"] == "");
}

TEST_CASE("${ } templates render over the cluster's name, labels and values", "[values]") {
  Json options = WithValues({{"name", "${ .ClusterName }"},
                             {"region", "${ .ClusterLabels.region | upper }"},
                             {"owner", "${ index .ClusterAnnotations \"owner\" }"},
                             {"replicas", "${ .ClusterValues.replicas }"},
                             {"hidden", "${ hasKey .ClusterLabels \"kubectl.kubernetes.io/x\" }"}});
  REQUIRE(PreprocessHelmValues(options, Cluster()).ok());
  const Json& v = options["helm"]["values"];
  CHECK(v["name"] == "edge-1");
  CHECK(v["region"] == "EU");
  CHECK(v["owner"] == "ops");
  CHECK(v["replicas"] == 3);  // read back as YAML: a number
  CHECK(v["hidden"] == false);
}

TEST_CASE("templateValues render to YAML and overwrite values", "[values]") {
  Json options = {
      {"helm",
       {{"values", {{"tier", "bronze"}, {"keep", 1}}},
        {"templateValues",
         {{"tier", "${ .ClusterValues.tier }"}, {"list", "[${ .ClusterLabels.env }, x]"}}}}}};
  REQUIRE(PreprocessHelmValues(options, Cluster()).ok());
  const Json& v = options["helm"]["values"];
  CHECK(v["tier"] == "gold");
  CHECK(v["keep"] == 1);
  CHECK(v["list"] == Json::array({"prod", "x"}));
}

TEST_CASE("disablePreProcess keeps ${ } text but still replaces label values", "[values]") {
  Json options = {
      {"helm",
       {{"disablePreProcess", true},
        {"values", {{"a", "${ .ClusterName }"}, {"b", "global.fleet.clusterLabels.env"}}}}}};
  REQUIRE(PreprocessHelmValues(options, Cluster()).ok());
  CHECK(options["helm"]["values"]["a"] == "${ .ClusterName }");
  CHECK(options["helm"]["values"]["b"] == "prod");
}

TEST_CASE("Template errors name the problem and change nothing", "[values]") {
  Json missing = WithValues({{"a", "${ .ClusterLabels.nope.deeper }"}});
  Json before = missing;
  absl::Status st = PreprocessHelmValues(missing, Cluster());
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()), Contains("failed to render helm values template"));
  CHECK(missing == before);

  Json env = WithValues({{"a", "${ env \"HOME\" }"}});
  st = PreprocessHelmValues(env, Cluster());
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(st.message()), Contains("function \"env\" not defined"));

  Json deep = Json::object();
  Json* at = &deep;
  for (int i = 0; i < 60; ++i) at = &((*at)["n"] = Json::object());
  (*at)["x"] = "global.fleet.clusterLabels.env";
  Json options = WithValues(deep);
  st = PreprocessHelmValues(options, Cluster());
  CHECK_THAT(std::string(st.message()), Contains("maximum recursion depth of 50"));
}

TEST_CASE("Options without Helm values are left alone", "[values]") {
  Json options = {{"namespace", "x"}};
  REQUIRE(PreprocessHelmValues(options, Cluster()).ok());
  CHECK(options == Json{{"namespace", "x"}});
}

}  // namespace
}  // namespace flotilla::common
