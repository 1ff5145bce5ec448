// Fleet parity on Fleet's own examples: `flotilla render` (the real binary)
// for env=dev|test|prod must produce the same objects Fleet produced
// (FLOTILLA_FLEET_EXAMPLES/tests/expected/<case>/<env>-output.yaml, made by
// `fleet test`). Objects are compared parsed, keyed by apiVersion, kind,
// namespace and name, without Fleet's own objectset.rio.cattle.io/* labels
// and annotations (and the maps they leave empty).
//
// Nothing from that folder is copied into the repository; without the
// variable the test is skipped with a warning. The cases whose chart is a
// GitHub release URL get the same chart as multi-cluster/helm, packed by
// `tar czf` as guestbook-0.0.1.tgz and served from loopback through
// `--chart-mirror`.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/yaml.h"
#include "tests/support/e2e_process.h"
#include "tests/support/static_http_server.h"
#include "tests/support/test_util.h"

namespace flotilla::testing {
namespace {

using common::Json;

// Plain manifests, kustomize, the Helm chart directories rendered natively,
// and the charts from a URL (through the mirror map and a loopback server).
// single-cluster/helm-multi-chart needs charts from the internet.
constexpr const char* kCases[] = {
    "multi-cluster/manifests",       "single-cluster/manifests",
    "single-cluster/kustomize",      "multi-cluster/helm",
    "single-cluster/helm",           "multi-cluster/helm-external",
    "single-cluster/helm-kustomize",
};

// Where fleet-examples' URL-based cases download their chart from.
constexpr const char* kChartReleases =
    "https://github.com/rancher/fleet-examples/releases/download/";

void StripFleetMetadata(Json& object) {
  if (!object.contains("metadata") || !object["metadata"].is_object()) return;
  Json& meta = object["metadata"];
  for (const char* field : {"labels", "annotations"}) {
    if (!meta.contains(field) || !meta[field].is_object()) continue;
    Json kept = Json::object();
    for (const auto& [k, v] : meta[field].items()) {
      if (!absl::StartsWith(k, "objectset.rio.cattle.io/")) kept[k] = v;
    }
    if (kept.empty()) {
      meta.erase(field);
    } else {
      meta[field] = kept;
    }
  }
}

std::string KeyOf(const Json& object) {
  auto text = [&](const Json& j, const char* k) {
    return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : "";
  };
  const Json& meta = object.contains("metadata") ? object["metadata"] : Json();
  return absl::StrCat(text(object, "apiVersion"), " ", text(object, "kind"), " ",
                      text(meta, "namespace"), "/", text(meta, "name"));
}

// Parsed objects by key; documents without a kind are not objects.
std::map<std::string, Json> ObjectsOf(const std::string& yaml, const std::string& what) {
  auto docs = common::ParseYamlDocuments(yaml, what);
  INFO(what << ": " << docs.status().ToString());
  REQUIRE(docs.ok());
  std::map<std::string, Json> objects;
  for (Json& doc : *docs) {
    if (!doc.is_object() || !doc.contains("kind")) continue;
    StripFleetMetadata(doc);
    std::string key = KeyOf(doc);
    INFO(what << ": duplicate object " << key);
    REQUIRE(objects.emplace(key, doc).second);
  }
  return objects;
}

TEST_CASE("flotilla render matches Fleet's expected output for fleet-examples",
          "[e2e][fleet-examples]") {
  const char* root_env = std::getenv("FLOTILLA_FLEET_EXAMPLES");
  if (root_env == nullptr || *root_env == '\0') {
    WARN("FLOTILLA_FLEET_EXAMPLES is not set: skipping the fleet-examples comparison");
    return;
  }
  const std::string root = root_env;

  // guestbook-0.0.1.tgz: multi-cluster/helm packed under a guestbook/ directory.
  TempDir tmp;
  CommandResult tar = RunCommand(absl::StrCat("mkdir -p ", tmp.Sub("src"), " && cp -r ", root,
                                              "/multi-cluster/helm ", tmp.Sub("src/guestbook"),
                                              " && tar czf ", tmp.Sub("guestbook-0.0.1.tgz"),
                                              " -C ", tmp.Sub("src"), " guestbook"));
  INFO(tar.output);
  REQUIRE(tar.exit_code == 0);
  auto tgz = common::ReadFile(tmp.Sub("guestbook-0.0.1.tgz"));
  REQUIRE(tgz.ok());
  StaticHttpServer charts;
  charts.Serve("/example/guestbook-0.0.1.tgz", *tgz);
  const std::string mirror = absl::StrCat(kChartReleases, "=", charts.Url("/"));

  for (const char* c : kCases) {
    for (const char* env : {"dev", "test", "prod"}) {
      const std::string dir = absl::StrCat(root, "/", c);
      const std::string expected_path =
          absl::StrCat(root, "/tests/expected/", c, "/", env, "-output.yaml");
      INFO("case " << c << ", env=" << env);
      auto expected_yaml = common::ReadFile(expected_path);
      REQUIRE(expected_yaml.ok());

      RunResult run = RunBinary(BinaryPath("flotilla"),
                                {"render", dir, "--label", absl::StrCat("env=", env), "-o", "yaml",
                                 "--chart-mirror", mirror},
                                absl::Seconds(120));
      INFO("stderr: " << run.err);
      REQUIRE(run.exit_code == 0);

      auto got = ObjectsOf(run.out, "flotilla render output");
      auto want = ObjectsOf(*expected_yaml, expected_path);
      for (const auto& [key, object] : want) {
        INFO("object " << key);
        auto it = got.find(key);
        CHECK(it != got.end());
        if (it != got.end()) {
          INFO("want:\n" << common::ToYaml(object) << "got:\n" << common::ToYaml(it->second));
          CHECK(it->second == object);
        }
      }
      for (const auto& [key, object] : got) {
        INFO("object " << key << " is not in Fleet's output");
        CHECK(want.count(key) == 1);
      }
    }
  }
}

}  // namespace
}  // namespace flotilla::testing
