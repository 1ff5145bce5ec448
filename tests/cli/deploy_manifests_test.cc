// deploy/: the checked-in Kubernetes manifests and Dockerfiles, read from the
// source tree and held to the SECURITY.md §3 baseline (deploy/README.md,
// "Policy rules checked") and to the flags the binaries really have.
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/agent_manifest.h"
#include "common/fs.h"
#include "common/yaml.h"
#include "tests/cli/manifest_policy.h"
#include "tests/support/test_util.h"

namespace flotilla::cli {
namespace {

using common::Json;
using testing::PolicyFindings;

std::string SourceFile(const std::string& relative) {
  absl::StatusOr<std::string> text = common::ReadFile(FLOTILLA_SOURCE_DIR "/" + relative);
  INFO(relative);
  REQUIRE(text.ok());
  return *text;
}

std::vector<Json> SourceYaml(const std::string& relative) {
  absl::StatusOr<std::vector<Json>> docs =
      common::ParseYamlDocuments(SourceFile(relative), relative);
  INFO((docs.ok() ? "" : std::string(docs.status().message())));
  REQUIRE(docs.ok());
  return *docs;
}

const Json& Find(const std::vector<Json>& objects, const std::string& kind) {
  for (const Json& object : objects) {
    if (object["kind"] == kind) return object;
  }
  FAIL("no " << kind);
  static const Json none;
  return none;
}

// The "--flag-name" part of every "--flag-name=value" argument.
std::vector<std::string> FlagNames(const Json& args) {
  std::vector<std::string> names;
  for (const Json& arg : args) {
    std::string text = arg.get<std::string>();
    names.push_back(text.substr(0, text.find('=')));
  }
  return names;
}

// Every flag a manifest passes is one the binary defines (ABSL_FLAG with
// dashes as underscores; the agent's --label is parsed by hand).
void CheckFlagsExist(const std::vector<std::string>& flags, const std::string& main_cc) {
  std::string source = SourceFile(main_cc);
  for (const std::string& flag : flags) {
    std::string name = std::string(absl::StripPrefix(flag, "--"));
    std::replace(name.begin(), name.end(), '-', '_');
    INFO(main_cc << " defines " << flag);
    CHECK((absl::StrContains(source, absl::StrCat(", ", name, ",")) || name == "label"));
  }
}

// `flotilla agent-manifest --template` is the one source of the agent's
// install; the file must be exactly its output.
TEST_CASE("deploy/kubernetes/agent.yaml is what `flotilla agent-manifest --template` prints",
          "[deploy]") {
  INFO(
      "regenerate it: build/ci/cli/flotilla agent-manifest --template > "
      "deploy/kubernetes/agent.yaml");
  CHECK(SourceFile("deploy/kubernetes/agent.yaml") == AgentManifestTemplateYaml());
}

TEST_CASE("the agent template passes every baseline policy rule", "[deploy]") {
  std::vector<std::string> findings = PolicyFindings(SourceYaml("deploy/kubernetes/agent.yaml"));
  INFO(absl::StrJoin(findings, "\n"));
  CHECK(findings.empty());
}

TEST_CASE("the manager manifest passes every baseline policy rule", "[deploy]") {
  std::vector<std::string> findings = PolicyFindings(SourceYaml("deploy/kubernetes/manager.yaml"));
  INFO(absl::StrJoin(findings, "\n"));
  CHECK(findings.empty());
}

// One SQLite writer, a persistent data dir, the manager's real flags, and
// the HTTP port's health endpoints as probes.
TEST_CASE("the manager runs once, on its volume, with its real flags and health probes",
          "[deploy]") {
  std::vector<Json> objects = SourceYaml("deploy/kubernetes/manager.yaml");
  std::vector<std::string> kinds;
  for (const Json& object : objects) {
    CHECK((object["kind"] == "Namespace" || object["metadata"]["namespace"] == "flotilla-system"));
    kinds.push_back(object["kind"].get<std::string>());
  }
  CHECK(kinds == std::vector<std::string>{"Namespace", "ServiceAccount", "PersistentVolumeClaim",
                                          "Deployment", "Service", "NetworkPolicy"});
  CHECK(Find(objects, "ServiceAccount")["automountServiceAccountToken"] == false);

  const Json& deployment = Find(objects, "Deployment");
  CHECK(deployment["spec"]["replicas"] == 1);
  CHECK(deployment["spec"]["strategy"]["type"] == "Recreate");
  const Json& pod = deployment["spec"]["template"]["spec"];
  CHECK(pod["securityContext"]["runAsUser"] == kImageUid);
  CHECK(pod["securityContext"]["fsGroup"] == kImageUid);
  const Json& container = pod["containers"][0];
  const Json& args = container["args"];
  for (const char* arg :
       {"--data-dir=/var/lib/flotilla", "--listen=0.0.0.0:7443", "--http-listen=0.0.0.0:7080"}) {
    CHECK(std::count(args.begin(), args.end(), Json(arg)) == 1);
  }
  CheckFlagsExist(FlagNames(args), "manager/main.cc");
  CHECK(container["readinessProbe"]["httpGet"] == Json{{"path", "/readyz"}, {"port", "http"}});
  CHECK(container["livenessProbe"]["httpGet"] == Json{{"path", "/healthz"}, {"port", "http"}});
  CHECK(container["volumeMounts"][0] == Json{{"name", "data"}, {"mountPath", "/var/lib/flotilla"}});
  CHECK(pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "flotilla-manager-data");

  const Json& service = Find(objects, "Service");
  CHECK(service["spec"]["type"] == "ClusterIP");
  std::set<int> ports;
  for (const Json& port : service["spec"]["ports"]) ports.insert(port["port"].get<int>());
  CHECK(ports == std::set<int>{7443, 7080});

  // 7443 open to all (agents dial in), 7080 only from selected peers; egress
  // DNS and Git/Helm ports only.
  const Json& policy = Find(objects, "NetworkPolicy")["spec"];
  CHECK(policy["policyTypes"] == Json::array({"Ingress", "Egress"}));
  for (const Json& rule : policy["ingress"]) {
    int port = rule["ports"][0]["port"].get<int>();
    if (port == 7443) CHECK_FALSE(rule.contains("from"));
    if (port == 7080) CHECK(rule["from"].size() == 2);
  }
  std::set<int> egress;
  for (const Json& rule : policy["egress"]) {
    for (const Json& port : rule["ports"]) egress.insert(port["port"].get<int>());
  }
  CHECK(egress == std::set<int>{53, 443, 22, 9418});
}

// The agent's arguments are flags flotilla-agent has.
TEST_CASE("the agent template passes only flags flotilla-agent defines", "[deploy]") {
  std::vector<Json> objects = SourceYaml("deploy/kubernetes/agent.yaml");
  const Json& args =
      Find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]["args"];
  CheckFlagsExist(FlagNames(args), "agent/main.cc");
}

// The images: Debian 12 slim, the UID the manifests run as, and the build
// packages scripts/install-deps installs.
TEST_CASE("the Dockerfiles build on debian:12-slim and run as the manifests' UID", "[deploy]") {
  std::string install_deps = SourceFile("scripts/install-deps");
  size_t start = install_deps.find("PACKAGES=(");
  REQUIRE(start != std::string::npos);
  std::string list = install_deps.substr(start + 10, install_deps.find(')', start) - start - 10);
  std::set<std::string> deps;
  for (absl::string_view word : absl::StrSplit(list, absl::ByAnyChar(" \n"), absl::SkipEmpty())) {
    deps.insert(std::string(word));
  }

  for (const char* file : {"deploy/docker/manager.Dockerfile", "deploy/docker/agent.Dockerfile"}) {
    INFO(file);
    std::string text = SourceFile(file);
    CHECK(absl::StrContains(text, "ARG DEBIAN_IMAGE=debian:12-slim\n"));
    CHECK(absl::StrContains(text, absl::StrCat("\nUSER ", kImageUid, ":", kImageUid, "\n")));
    CHECK(absl::StrContains(text, "-DCMAKE_BUILD_TYPE=Release"));
    CHECK_FALSE(absl::StrContains(text, ":latest"));
    // The build stage installs every -dev package of install-deps and nothing
    // it does not list.
    std::string build = text.substr(0, text.find("# ---- runtime"));
    std::set<std::string> installed;
    std::smatch match;
    std::regex package(R"(\b([a-z0-9][a-z0-9+.-]*-dev|build-essential|cmake|ninja-build|)"
                       R"(pkg-config|protobuf-compiler(-grpc)?)\b)");
    for (auto it = std::sregex_iterator(build.begin(), build.end(), package);
         it != std::sregex_iterator(); ++it) {
      installed.insert((*it)[1]);
    }
    CHECK(installed.size() >= 15);
    for (const std::string& p : installed) {
      INFO(p << " is installed by " << file << " but not by scripts/install-deps");
      CHECK(deps.count(p) == 1);
    }
    for (const std::string& p : deps) {
      if (absl::EndsWith(p, "-dev")) {
        INFO(p << " is in scripts/install-deps but not in " << file);
        CHECK(installed.count(p) == 1);
      }
    }
  }
}

// The runtime stage of each image must install the Debian package of every
// shared library its binary links (objdump NEEDED, dpkg -S), apart from what
// debian:12-slim itself has: a missing one only shows when the image runs.
TEST_CASE("the runtime images install every shared library their binaries link", "[deploy]") {
  const std::set<std::string> in_base_image = {"libc6", "libc6-i386", "libgcc-s1", "libstdc++6"};
  for (const auto& [file, binary] :
       {std::pair{"deploy/docker/manager.Dockerfile", "manager/flotilla-manager"},
        std::pair{"deploy/docker/agent.Dockerfile", "agent/flotilla-agent"}}) {
    INFO(file << " / " << binary);
    const std::string text = SourceFile(file);
    const std::string runtime = text.substr(text.find("# ---- runtime"));
    std::set<std::string> installed;
    for (absl::string_view word :
         absl::StrSplit(runtime, absl::ByAnyChar(" \n\\"), absl::SkipEmpty())) {
      installed.insert(std::string(word));
    }
    const std::string path = absl::StrCat(FLOTILLA_BINARY_DIR, "/", binary);
    ::flotilla::testing::CommandResult needed = ::flotilla::testing::RunCommand(absl::StrCat(
        "objdump -p ", path,
        " | awk '/NEEDED/{print $2}' | while read l; do dpkg -S \"*/$l\" 2>/dev/null | "
        "head -1 | cut -d: -f1; done | sort -u"));
    INFO(needed.output);
    REQUIRE(needed.exit_code == 0);
    int packages = 0;
    for (absl::string_view package : absl::StrSplit(needed.output, '\n', absl::SkipEmpty())) {
      ++packages;
      if (in_base_image.count(std::string(package)) > 0) continue;
      INFO(package << " is linked but not installed by the runtime stage");
      CHECK(installed.count(std::string(package)) == 1);
    }
    CHECK(packages >= 10);
  }
}

}  // namespace
}  // namespace flotilla::cli
