// RunKustomize against a real kustomize or kubectl where one is installed
// (FLOTILLA_TEST_KUBECTL names a specific one, e.g. Debian's kubectl 1.20),
// and against small shell scripts standing in for the tool where the test is
// about how the tool is run: its environment, a hang, a flood of output.
#include "common/render/kustomize.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/fs.h"
#include "common/yaml.h"
#include "tests/support/test_util.h"

namespace flotilla::common {
namespace {

using Files = std::map<std::string, std::string>;

// Options for a real tool: $FLOTILLA_TEST_KUBECTL, else kustomize or kubectl
// from PATH; nullopt (with a warning) when there is none.
std::optional<KustomizeOptions> RealTool() {
  KustomizeOptions options;
  if (const char* tool = std::getenv("FLOTILLA_TEST_KUBECTL"); tool != nullptr && *tool) {
    options.binary = tool;
    return options;
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "" : path, ':')) {
    for (const char* name : {"kustomize", "kubectl"}) {
      if (PathExists(std::string(dir) + "/" + name)) return options;
    }
  }
  WARN("neither kustomize nor kubectl is on PATH: skipping a test that needs one");
  return std::nullopt;
}

// A fake tool: a shell script called `name` in `dir`.
std::string FakeTool(const testing::TempDir& dir, const std::string& name,
                     const std::string& body) {
  std::string path = dir.Sub(name);
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  chmod(path.c_str(), 0755);
  return path;
}

// "<kind>/<name>" of every object in a multi-document stream.
std::vector<std::string> Ids(const std::string& yaml) {
  auto docs = ParseYamlDocuments(yaml, "output");
  INFO(docs.status().ToString());
  REQUIRE(docs.ok());
  std::vector<std::string> ids;
  for (const Json& doc : *docs) {
    ids.push_back(doc["kind"].get<std::string>() + "/" +
                  doc["metadata"]["name"].get<std::string>());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string ConfigMap(const std::string& name, const std::string& value = "base") {
  return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name +
         "\ndata:\n  value: " + value + "\n";
}

// A base and two overlays, written the way both kustomize v2.0.3 (Debian's
// kubectl 1.20) and v5 accept: directories under `bases:`.
Files BaseAndOverlays() {
  return {
      {"base/kustomization.yaml", "resources:\n- settings.yaml\n- extra.yaml\n"},
      {"base/settings.yaml", ConfigMap("settings")},
      {"base/extra.yaml", ConfigMap("extra")},
      {"overlays/dev/kustomization.yaml",
       "bases:\n- ../../base\nnamePrefix: dev-\npatchesStrategicMerge:\n- settings.yaml\n"},
      {"overlays/dev/settings.yaml", ConfigMap("settings", "dev")},
      {"overlays/prod/kustomization.yaml", "bases:\n- ../../base\nnamePrefix: prod-\n"},
      {"kustomization.yaml", "bases:\n- overlays/prod\n"},
      {"README.md", "# not yaml at all: [\n"},
  };
}

std::string MustRun(const Files& files, const std::string& dir, const KustomizeOptions& options) {
  auto out = RunKustomize(files, dir, options);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  return *out;
}

std::string Error(const absl::StatusOr<std::string>& out, absl::StatusCode code) {
  INFO(out.status().ToString());
  REQUIRE(out.status().code() == code);
  return std::string(out.status().message());
}

// Fleet: bundlereader/style.go — the kustomization at kustomize.dir decides.
TEST_CASE("HasKustomization looks for the three kustomization file names at the dir",
          "[kustomize]") {
  CHECK(HasKustomization({{"kustomization.yaml", ""}}, ""));
  CHECK(HasKustomization({{"kustomization.yaml", ""}}, "."));
  CHECK(HasKustomization({{"kustomization.yaml", ""}}, "/"));
  CHECK(HasKustomization({{"a/b/kustomization.yml", ""}}, "a/b"));
  CHECK(HasKustomization({{"a/b/Kustomization", ""}}, "./a/b/"));
  CHECK(HasKustomization({{"a/b/kustomization.yaml", ""}}, "/a/b"));
  CHECK_FALSE(HasKustomization({{"a/b/kustomization.yaml", ""}}, ""));
  CHECK_FALSE(HasKustomization({{"kustomization.yaml", ""}}, "a"));
  CHECK_FALSE(HasKustomization({{"a/kustomization.json", ""}}, "a"));
  CHECK_FALSE(HasKustomization({{"kustomization.yaml", ""}}, "a/.."));
}

// The overlay's patch, prefix and base all apply; the root kustomization and
// the other overlay play no part.
TEST_CASE("A base and an overlay build from an in-memory file map", "[kustomize][tool]") {
  auto options = RealTool();
  if (!options) return;
  const std::string out = MustRun(BaseAndOverlays(), "overlays/dev", *options);
  CHECK(Ids(out) == std::vector<std::string>{"ConfigMap/dev-extra", "ConfigMap/dev-settings"});
  auto docs = ParseYamlDocuments(out, "output");
  REQUIRE(docs.ok());
  for (const Json& doc : *docs) {
    const std::string name = doc["metadata"]["name"];
    CHECK(doc["data"]["value"] == (name == "dev-settings" ? "dev" : "base"));
  }
}

// "", "." and "/" all name the root; a leading "/" is ignored as Fleet does.
TEST_CASE("kustomize.dir selects which kustomization is built", "[kustomize][tool]") {
  auto options = RealTool();
  if (!options) return;
  const std::vector<std::string> prod = {"ConfigMap/prod-extra", "ConfigMap/prod-settings"};
  for (const char* dir : {"", ".", "/", "overlays/prod", "/overlays/prod/", "./overlays/prod"}) {
    INFO("dir " << dir);
    CHECK(Ids(MustRun(BaseAndOverlays(), dir, *options)) == prod);
  }
  CHECK(Ids(MustRun(BaseAndOverlays(), "base", *options)) ==
        std::vector<std::string>{"ConfigMap/extra", "ConfigMap/settings"});
}

// kustomization.yml and Kustomization are read by the tool like kustomization.yaml.
TEST_CASE("kustomization.yml and Kustomization build too", "[kustomize][tool]") {
  auto options = RealTool();
  if (!options) return;
  for (const char* name : {"kustomization.yml", "Kustomization"}) {
    INFO(name);
    Files files = {{std::string("app/") + name, "resources:\n- cm.yaml\n"},
                   {"app/cm.yaml", ConfigMap("only")}};
    CHECK(Ids(MustRun(files, "app", *options)) == std::vector<std::string>{"ConfigMap/only"});
  }
}

// The tool's own words, with the file it complains about, and no trace of the
// private directory it ran in.
TEST_CASE("A resource with bad YAML fails with the tool's message", "[kustomize][tool]") {
  auto options = RealTool();
  if (!options) return;
  Files files = {{"app/kustomization.yaml", "resources:\n- cm.yaml\n"},
                 {"app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n"}};
  const std::string message =
      Error(RunKustomize(files, "app", *options), absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(message, "kustomize.dir \"app\": `"));
  CHECK_THAT(message, Catch::Contains("failed (exit status 1)"));
  CHECK_THAT(message, Catch::Contains("cm.yaml"));
  CHECK_THAT(message, Catch::Contains("did not find expected ',' or ']'"));
  CHECK_THAT(message, !Catch::Contains("flotilla-kustomize-"));
}

TEST_CASE("A resource the kustomization names but the bundle lacks is the tool's error",
          "[kustomize][tool]") {
  auto options = RealTool();
  if (!options) return;
  Files files = {{"kustomization.yaml", "resources:\n- missing.yaml\n"}};
  const std::string message =
      Error(RunKustomize(files, "", *options), absl::StatusCode::kInvalidArgument);
  CHECK_THAT(message, Catch::Contains("missing.yaml"));
  CHECK_THAT(message, !Catch::Contains("flotilla-kustomize-"));
}

// A kustomization we cannot parse is reported with its position, before any tool runs.
TEST_CASE("A kustomization that is not YAML names file, line and column", "[kustomize]") {
  KustomizeOptions options;
  options.binary = "/nonexistent/kustomize";
  Files files = {{"app/kustomization.yaml", "resources:\n- a.yaml\n  bad: [\n"}};
  const std::string message =
      Error(RunKustomize(files, "app", options), absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(message, "app/kustomization.yaml:3:"));
}

TEST_CASE("Without kustomize or kubectl on the search path the error says what to install",
          "[kustomize]") {
  testing::TempDir empty_dir;
  Files files = {{"kustomization.yaml", "resources: []\n"}};
  for (const std::string& search : {std::string(), empty_dir.path(), std::string("relative/bin")}) {
    INFO("search path " << search);
    KustomizeOptions options;
    options.search_path = search;
    const std::string message =
        Error(RunKustomize(files, "", options), absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(message, Catch::StartsWith("kustomize.dir \"\" needs `kustomize` or `kubectl` on "
                                          "PATH (Debian: apt-get install kubernetes-client)"));
  }
}

TEST_CASE("A binary that does not exist is refused, naming it", "[kustomize]") {
  Files files = {{"kustomization.yaml", "resources: []\n"}};
  KustomizeOptions options;
  options.binary = "/nonexistent/bin/kustomize";
  CHECK_THAT(Error(RunKustomize(files, "", options), absl::StatusCode::kFailedPrecondition),
             Catch::Contains("\"/nonexistent/bin/kustomize\" is not an executable file"));
  options.binary = "no-such-kustomize";
  options.search_path = "/usr/bin:/bin";
  CHECK_THAT(Error(RunKustomize(files, "", options), absl::StatusCode::kFailedPrecondition),
             Catch::Contains("needs \"no-such-kustomize\", which is not on PATH"));
}

// A standalone kustomize is preferred and run as `kustomize build DIR`; kubectl
// as `kubectl kustomize DIR`. Either way in a clean environment, in a private
// directory that is gone afterwards, with stdin from /dev/null.
TEST_CASE("The tool runs with a clean environment in a private directory", "[kustomize]") {
  testing::TempDir bin;
  const std::string report =
      "echo \"args: $*\"\n"
      "echo \"pwd: $(pwd)\"\n"
      "echo \"mode: $(stat -c %a ..)\"\n"
      "echo \"stdin: $(readlink /proc/self/fd/0)\"\n"
      "echo \"kustomization: $(cat overlays/dev/kustomization.yaml | head -1)\"\n"
      "env | sed 's/^/env: /'\n";
  FakeTool(bin, "kubectl", report);
  Files files = BaseAndOverlays();
  KustomizeOptions options;
  options.search_path = bin.path() + ":/usr/bin:/bin";

  std::string out = MustRun(files, "./overlays/dev", options);
  CHECK_THAT(out, Catch::Contains("args: kustomize overlays/dev\n"));

  FakeTool(bin, "kustomize", report);
  out = MustRun(files, "./overlays/dev", options);
  CHECK_THAT(out, Catch::Contains("args: build overlays/dev\n"));
  CHECK_THAT(out, Catch::Contains("mode: 700\n"));
  CHECK_THAT(out, Catch::Contains("stdin: /dev/null\n"));
  CHECK_THAT(out, Catch::Contains("kustomization: bases:\n"));

  std::string pwd;
  std::map<std::string, std::string> env;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (absl::ConsumePrefix(&line, "pwd: ")) pwd = std::string(line);
    if (absl::ConsumePrefix(&line, "env: ")) {
      std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
      env.insert(kv);
    }
  }
  REQUIRE_FALSE(pwd.empty());
  CHECK_FALSE(PathExists(pwd));
  CHECK(env["PATH"] == options.search_path);
  CHECK(absl::StartsWith(env["HOME"], pwd.substr(0, pwd.rfind('/'))));
  CHECK(env.count("KUBECONFIG") == 0);
  for (const auto& [name, value] : env) {
    INFO(name);
    // sh itself adds PWD, SHLVL and _.
    CHECK((name == "PATH" || name == "HOME" || name == "TMPDIR" || name == "PWD" ||
           name == "SHLVL" || name == "_" || absl::StrContains(name, "_PROXY") ||
           absl::StrContains(name, "_proxy") || absl::StartsWith(name, "GIT_")));
  }
}

// work_root decides where the private directory goes.
TEST_CASE("The private directory goes under work_root", "[kustomize]") {
  testing::TempDir bin, work;
  KustomizeOptions options;
  options.binary = FakeTool(bin, "kustomize", "pwd");
  options.work_root = work.path();
  const std::string pwd(absl::StripAsciiWhitespace(
      MustRun({{"kustomization.yaml", "resources: []\n"}}, "", options)));
  CHECK(absl::StartsWith(pwd, work.path() + "/flotilla-kustomize-"));
  auto left = ListFilesRecursive(work.path());
  REQUIRE(left.ok());
  CHECK(left->empty());
}

// Remote bases are refused by name before anything runs: the fake tool would
// leave a marker.
TEST_CASE("Remote bases and resources are refused before the tool runs", "[kustomize]") {
  testing::TempDir bin;
  KustomizeOptions options;
  options.binary = FakeTool(bin, "kustomize", "touch " + bin.Sub("ran"));
  struct Case {
    std::string kustomization;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"resources:\n- github.com/org/repo//deploy?ref=v1\n",
       "kustomization.yaml: resources entry \"github.com/org/repo//deploy?ref=v1\" is a remote "
       "URL; remote bases and resources are not fetched"},
      {"bases:\n- https://github.com/org/repo.git/deploy\n",
       "bases entry \"https://github.com/org/repo.git/deploy\" is a remote URL"},
      {"components:\n- git@github.com:org/repo.git//c\n",
       "components entry \"git@github.com:org/repo.git//c\" is a remote URL"},
      {"resources:\n- ssh://git@example.com/repo\n", "resources entry \"ssh://"},
      {"resources:\n- file:///etc/kubernetes\n", "resources entry \"file:///etc/kubernetes\""},
      {"resources:\n- git::https://example.com/repo\n", "resources entry \"git::"},
      {"resources:\n- https://example.com/cm.yaml\n", "resources entry \"https://example.com"},
      {"resources:\n- cm.yaml\npatchesStrategicMerge:\n- https://example.com/p.yaml\n",
       "patchesStrategicMerge entry \"https://example.com/p.yaml\" is a remote URL"},
      {"resources:\n- cm.yaml\npatches:\n- path: http://example.com/p.yaml\n",
       "patches entry \"http://example.com/p.yaml\""},
      {"configMapGenerator:\n- name: c\n  files:\n  - key=https://example.com/f\n",
       "configMapGenerator entry \"https://example.com/f\""},
  };
  for (const Case& c : cases) {
    INFO(c.kustomization);
    Files files = {{"kustomization.yaml", c.kustomization}, {"cm.yaml", ConfigMap("cm")}};
    CHECK_THAT(Error(RunKustomize(files, "", options), absl::StatusCode::kInvalidArgument),
               Catch::Contains(c.expected));
  }
  // Found through a local base, and named by the file that holds it.
  Files nested = {{"overlay/kustomization.yaml", "bases:\n- ../base\n"},
                  {"base/kustomization.yaml", "resources:\n- local.yaml\n- gh:org/repo\n"},
                  {"base/local.yaml", ConfigMap("local")}};
  CHECK_THAT(Error(RunKustomize(nested, "overlay", options), absl::StatusCode::kInvalidArgument),
             Catch::StartsWith("base/kustomization.yaml: resources entry \"gh:org/repo\""));
  CHECK_FALSE(PathExists(bin.Sub("ran")));
  // A bundle file whose name reads like user@host is a file: kustomize tries files first.
  Files at_sign = {{"kustomization.yaml", "resources:\n- deploy@v1.yaml\n"},
                   {"deploy@v1.yaml", ConfigMap("cm")}};
  CHECK(RunKustomize(at_sign, "", options).ok());
  RemoveFile(bin.Sub("ran")).IgnoreError();
  // A URL in a literal or an annotation is data, not a reference.
  Files literal = {{"kustomization.yaml",
                    "configMapGenerator:\n- name: c\n  literals:\n  - url=https://example.com\n"
                    "commonAnnotations:\n  docs: https://example.com/docs\n"}};
  CHECK(RunKustomize(literal, "", options).ok());
  CHECK(PathExists(bin.Sub("ran")));
}

// The tool would load a base from anywhere on the host; only the bundle is allowed.
TEST_CASE("Bases outside the bundle are refused before the tool runs", "[kustomize]") {
  KustomizeOptions options;
  options.binary = "/nonexistent/kustomize";
  Files climbs = {{"app/kustomization.yaml", "bases:\n- ../../etc/secrets\n"}};
  CHECK(Error(RunKustomize(climbs, "app", options), absl::StatusCode::kInvalidArgument) ==
        "app/kustomization.yaml: bases entry \"../../etc/secrets\" points outside the bundle");
  Files absolute = {{"kustomization.yaml", "resources:\n- /etc/kubernetes/manifests\n"}};
  CHECK_THAT(Error(RunKustomize(absolute, "", options), absl::StatusCode::kInvalidArgument),
             Catch::Contains("resources entry \"/etc/kubernetes/manifests\" is an absolute path"));
}

TEST_CASE("File paths that are absolute or climb with .. are refused, naming the path",
          "[kustomize]") {
  KustomizeOptions options;
  options.binary = "/nonexistent/kustomize";
  const std::string k = "resources: []\n";
  CHECK_THAT(Error(RunKustomize({{"kustomization.yaml", k}, {"../evil.yaml", ""}}, "", options),
                   absl::StatusCode::kInvalidArgument),
             Catch::Contains("bundle file \"../evil.yaml\" has a \"..\" component"));
  CHECK_THAT(Error(RunKustomize({{"kustomization.yaml", k}, {"a/../../b.yaml", ""}}, "", options),
                   absl::StatusCode::kInvalidArgument),
             Catch::Contains("\"a/../../b.yaml\""));
  CHECK_THAT(Error(RunKustomize({{"kustomization.yaml", k}, {"/etc/passwd", ""}}, "", options),
                   absl::StatusCode::kInvalidArgument),
             Catch::Contains("bundle file \"/etc/passwd\" is absolute"));
  CHECK_THAT(Error(RunKustomize({{"kustomization.yaml", k}}, "../x", options),
                   absl::StatusCode::kInvalidArgument),
             Catch::Contains("kustomize.dir \"../x\" has a \"..\" component"));
  CHECK_THAT(Error(RunKustomize({{"kustomization.yaml", k}}, "app", options),
                   absl::StatusCode::kInvalidArgument),
             Catch::Contains("kustomize.dir \"app\" has no kustomization.yaml"));
  CHECK_THAT(Error(RunKustomize({{"kustomization.yaml", k}, {"a", ""}, {"a/b", ""}}, "", options),
                   absl::StatusCode::kInvalidArgument),
             Catch::Contains("\"a\" is both a file and a directory"));
}

// The script's background sleep is in the tool's process group and goes too.
TEST_CASE("A tool that runs past the timeout is killed with its process group", "[kustomize]") {
  testing::TempDir bin, work;
  KustomizeOptions options;
  options.binary =
      FakeTool(bin, "kustomize", "sleep 60 &\necho $! > " + bin.Sub("pid") + "\nsleep 60");
  options.timeout = absl::Milliseconds(300);
  options.work_root = work.path();
  const absl::Time start = absl::Now();
  const std::string message =
      Error(RunKustomize({{"kustomization.yaml", "resources: []\n"}}, "", options),
            absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - start < absl::Seconds(20));
  CHECK(message ==
        "kustomize.dir \"\": `kustomize build .` did not finish within 300ms and was killed");
  auto pid_text = ReadFile(bin.Sub("pid"));
  REQUIRE(pid_text.ok());
  int pid = 0;
  REQUIRE(absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid_text), &pid));
  // Gone, or a zombie waiting for its new parent to reap it.
  CHECK(testing::PollUntil([&] {
    auto stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
    return !stat.ok() || absl::StrContains(*stat, ") Z ");
  }));
  auto left = ListFilesRecursive(work.path());
  REQUIRE(left.ok());
  CHECK(left->empty());
}

TEST_CASE("Output beyond the cap stops the tool", "[kustomize]") {
  testing::TempDir bin;
  KustomizeOptions options;
  options.max_output_bytes = 100'000;
  Files files = {{"kustomization.yaml", "resources: []\n"}};
  SECTION("a tool that never stops writing") { options.binary = FakeTool(bin, "kustomize", "yes"); }
  SECTION("a tool that writes just too much") {
    options.binary = FakeTool(bin, "kustomize", "head -c 100001 /dev/zero");
  }
  CHECK(Error(RunKustomize(files, "", options), absl::StatusCode::kResourceExhausted) ==
        "kustomize.dir \"\": the output of `kustomize build .` exceeds the limit of 100000 bytes; "
        "it was stopped");
}

TEST_CASE("Output right at the cap is returned whole", "[kustomize]") {
  testing::TempDir bin;
  KustomizeOptions options;
  options.max_output_bytes = 100'000;
  options.binary = FakeTool(bin, "kustomize", "head -c 100000 /dev/zero");
  CHECK(MustRun({{"kustomization.yaml", ""}}, "", options).size() == 100'000);
}

// kubectl ≥ 1.2x wraps its error in a klog line and Go quoting; kustomize v5
// adds deprecation warnings. The message keeps only what went wrong.
TEST_CASE("The tool's stderr is cleaned up and capped", "[kustomize]") {
  testing::TempDir bin;
  KustomizeOptions options;
  Files files = {{"kustomization.yaml", ""}};
  SECTION("a klog line") {
    options.binary = FakeTool(
        bin, "kubectl",
        "echo \"# Warning: 'bases' is deprecated.\" >&2\n"
        "echo 'E1123 05:53:18.522239   23845 run.go:72] \"command failed\" err=\"accumulating "
        "resources: \\\"x\\\" in '\"$(pwd)\"'/base\"' >&2\nexit 1");
    CHECK(Error(RunKustomize(files, "", options), absl::StatusCode::kInvalidArgument) ==
          "kustomize.dir \"\": `kubectl kustomize .` failed (exit status 1): accumulating "
          "resources: \"x\" in base");
  }
  SECTION("a multi-line klog block") {
    options.binary = FakeTool(bin, "kubectl",
                              "printf 'E1123 05:53:29.402624   25236 run.go:72] \"command "
                              "failed\" err=<\\n\\tfirst line\\n\\tsecond line\\n >\\n' >&2\n"
                              "exit 2");
    CHECK(Error(RunKustomize(files, "", options), absl::StatusCode::kInvalidArgument) ==
          "kustomize.dir \"\": `kubectl kustomize .` failed (exit status 2): first line\n"
          "second line");
  }
  SECTION("a flood") {
    options.binary = FakeTool(bin, "kustomize", "yes error | head -c 10000000 >&2\nexit 3");
    const std::string message =
        Error(RunKustomize(files, "", options), absl::StatusCode::kInvalidArgument);
    CHECK_THAT(message, Catch::StartsWith("kustomize.dir \"\": `kustomize build .` failed (exit "
                                          "status 3): error\nerror\n"));
    CHECK_THAT(message, Catch::EndsWith("... (truncated)"));
    CHECK(message.size() < 5000);
  }
  SECTION("silence") {
    options.binary = FakeTool(bin, "kustomize", "exit 4");
    CHECK(Error(RunKustomize(files, "", options), absl::StatusCode::kInvalidArgument) ==
          "kustomize.dir \"\": `kustomize build .` failed (exit status 4): (no output on stderr)");
  }
}

}  // namespace
}  // namespace flotilla::common
