// Real-world style charts (tests/common/testdata/charts/<name>/), written in
// the style of `helm create` and popular public charts, rendered natively and
// compared with checked-in expected output: what `helm template prod
// <chart> --namespace apps --kube-version v1.28.4 [-f ci-values.yaml]` prints,
// as objects. The comparison is order-insensitive across objects (keyed by
// apiVersion, kind, namespace and name) and exact within each object.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "common/helm/chart.h"
#include "common/helm/render.h"
#include "common/yaml.h"

namespace flotilla::common::helm {
namespace {

namespace fs = std::filesystem;
using Files = std::map<std::string, std::string>;

const std::string kChartsDir = FLOTILLA_SOURCE_DIR "/tests/common/testdata/charts";

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  INFO(path.string());
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Every file under charts/<name>/ as a bundle-relative map ("<name>/...").
Files LoadChartFiles(const std::string& name) {
  Files files;
  fs::path root = fs::path(kChartsDir) / name;
  REQUIRE(fs::is_directory(root));
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = fs::relative(entry.path(), root).generic_string();
    files[name + "/" + rel] = ReadFile(entry.path());
  }
  return files;
}

using ObjectKey = std::tuple<std::string, std::string, std::string, std::string>;

std::string Str(const Json& obj, const char* pointer) {
  Json::json_pointer p(pointer);
  if (!obj.contains(p) || !obj.at(p).is_string()) return "";
  return obj.at(p).get<std::string>();
}

ObjectKey KeyOf(const Json& obj) {
  return {Str(obj, "/apiVersion"), Str(obj, "/kind"), Str(obj, "/metadata/namespace"),
          Str(obj, "/metadata/name")};
}

std::string KeyString(const ObjectKey& key) {
  return std::get<0>(key) + " " + std::get<1>(key) + " " + std::get<2>(key) + "/" +
         std::get<3>(key);
}

std::map<ObjectKey, Json> ByKey(const std::vector<Json>& objects) {
  std::map<ObjectKey, Json> out;
  for (const Json& obj : objects) {
    ObjectKey key = KeyOf(obj);
    INFO("duplicate object " << KeyString(key));
    CHECK(out.count(key) == 0);
    out[key] = obj;
  }
  return out;
}

// Renders charts/<name> (with charts/<name>/<values_file> over values.yaml
// when given) and compares the objects with charts/<expected>.
void CheckChart(const std::string& name, const std::string& values_file,
                const std::string& expected) {
  Files files = LoadChartFiles(name);
  auto chart = LoadChart(files, name);
  INFO(chart.status().ToString());
  REQUIRE(chart.ok());

  RenderOptions options;
  options.release_name = "prod";
  options.release_namespace = "apps";
  options.kube_version = "v1.28.4";
  if (!values_file.empty()) {
    auto values = ParseYaml(ReadFile(fs::path(kChartsDir) / name / values_file), values_file);
    INFO(values.status().ToString());
    REQUIRE(values.ok());
    options.values = *values;
  }
  auto got = RenderObjects(*chart, options);
  INFO(got.status().ToString());
  REQUIRE(got.ok());
  INFO("rendered:\n" << ToYamlDocuments(*got));

  auto want = ParseYamlDocuments(ReadFile(fs::path(kChartsDir) / expected), expected);
  INFO(want.status().ToString());
  REQUIRE(want.ok());

  std::map<ObjectKey, Json> got_by_key = ByKey(*got);
  std::map<ObjectKey, Json> want_by_key = ByKey(*want);
  for (const auto& [key, obj] : want_by_key) {
    INFO("expected object " << KeyString(key));
    auto it = got_by_key.find(key);
    CHECK(it != got_by_key.end());
    if (it == got_by_key.end()) continue;
    INFO("want:\n" << ToYaml(obj) << "got:\n" << ToYaml(it->second));
    CHECK(it->second == obj);
  }
  for (const auto& [key, obj] : got_by_key) {
    INFO("unexpected object " << KeyString(key));
    CHECK(want_by_key.count(key) == 1);
  }
}

TEST_CASE("chart webapp: deployment, service, configmap, optional ingress", "[helm][charts]") {
  SECTION("defaults") { CheckChart("webapp", "", "webapp.expected.yaml"); }
  SECTION("ci values") { CheckChart("webapp", "ci-values.yaml", "webapp.ci.expected.yaml"); }
}

TEST_CASE("chart worker: env from a map, HPA toggle, required image", "[helm][charts]") {
  SECTION("defaults") { CheckChart("worker", "", "worker.expected.yaml"); }
  SECTION("ci values") { CheckChart("worker", "ci-values.yaml", "worker.ci.expected.yaml"); }
}

TEST_CASE("chart platform: subcharts with globals and a dependency condition", "[helm][charts]") {
  SECTION("defaults") { CheckChart("platform", "", "platform.expected.yaml"); }
  SECTION("ci values") { CheckChart("platform", "ci-values.yaml", "platform.ci.expected.yaml"); }
}

TEST_CASE("chart configs: .Files.Get/Glob/AsConfig/AsSecrets, tpl, default, ternary",
          "[helm][charts]") {
  SECTION("defaults") { CheckChart("configs", "", "configs.expected.yaml"); }
  SECTION("ci values") { CheckChart("configs", "ci-values.yaml", "configs.ci.expected.yaml"); }
}

TEST_CASE("chart kvstore: statefulset, headless service, secret with lookup fallback",
          "[helm][charts]") {
  SECTION("defaults") { CheckChart("kvstore", "", "kvstore.expected.yaml"); }
  SECTION("ci values") { CheckChart("kvstore", "ci-values.yaml", "kvstore.ci.expected.yaml"); }
}

// The worker chart's `required` stops the render when the image repository
// is removed by the user's values.
TEST_CASE("chart worker: a removed image repository fails through required", "[helm][charts]") {
  Files files = LoadChartFiles("worker");
  auto chart = LoadChart(files, "worker");
  REQUIRE(chart.ok());
  RenderOptions options;
  options.release_name = "prod";
  options.release_namespace = "apps";
  options.kube_version = "v1.28.4";
  options.values = Json::parse(R"({"image": {"repository": null}})");
  auto got = RenderObjects(*chart, options);
  CHECK(got.status().code() == absl::StatusCode::kInvalidArgument);
  INFO(got.status().message());
  CHECK(got.status().message().find("worker/templates/deployment.yaml:") !=
        absl::string_view::npos);
  CHECK(got.status().message().find("image.repository is required") != absl::string_view::npos);
}

}  // namespace
}  // namespace flotilla::common::helm
