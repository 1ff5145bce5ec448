#include "manager/scan/scanner.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/fleet/naming.h"
#include "common/hash.h"
#include "manager/source/git_repository.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using flotilla::testing::TempDir;
using flotilla::testing::TestGitRepo;
using Files = std::map<std::string, std::string>;

constexpr absl::Duration kTimeout = absl::Seconds(30);

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

// A GitRepo named `name` on branch main, parsed from YAML as a user would
// write it (so `paths` go through the parser's own normalisation too).
common::GitRepoSpec GitRepo(const std::string& name, const std::vector<std::string>& paths = {}) {
  std::string yaml =
      absl::StrCat("apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: ", name,
                   "\nspec:\n  repo: /unused\n  branch: main\n");
  if (!paths.empty()) {
    absl::StrAppend(&yaml, "  paths:\n");
    for (const std::string& p : paths) absl::StrAppend(&yaml, "  - \"", p, "\"\n");
  }
  return Unwrap(common::ParseGitRepo(yaml, "gitrepo.yaml"));
}

// A working repository; Tree() commits it and reads the commit back through
// GitRepository, exactly as the manager does.
struct Fixture {
  TempDir tmp;
  TestGitRepo repo{tmp.Sub("repo")};

  std::unique_ptr<CommitTree> Tree() {
    const std::string head = repo.Commit("scan me");
    auto git = Unwrap(GitRepository::Open(tmp.Sub("cache"), repo.dir()));
    REQUIRE(Unwrap(git->Fetch("main", /*is_revision=*/false, kTimeout)) == head);
    return Unwrap(git->Tree(head));
  }

  std::vector<ScannedBundle> Scan(const common::GitRepoSpec& spec, const ScanLimits& limits = {}) {
    auto tree = Tree();
    return Unwrap(ScanCommit(*tree, spec, limits));
  }
};

std::vector<std::string> PathsOf(const std::vector<ScannedBundle>& bundles) {
  std::vector<std::string> out;
  out.reserve(bundles.size());
  for (const ScannedBundle& b : bundles) out.push_back(b.path);
  return out;
}

const ScannedBundle& At(const std::vector<ScannedBundle>& bundles, const std::string& path) {
  for (const ScannedBundle& b : bundles) {
    if (b.path == path) return b;
  }
  FAIL("no bundle at " << path << "; bundles at: " << absl::StrJoin(PathsOf(bundles), ", "));
  throw std::logic_error("unreachable");
}

// Scenario: a repository with YAML at its root, bundles nested inside each
// other, a fleet.yml spelling, hidden files and directories. Every directory
// with fleet.yaml/fleet.yml is a bundle and so is the root; each bundle owns
// the files below it except hidden ones, its own fleet.yaml and whatever a
// nested bundle owns.
TEST_CASE("Every directory with a fleet.yaml is a bundle and owns the files below it",
          "[scanner]") {
  Fixture f;
  f.repo.WriteFile("README.md", "# repo\n");
  f.repo.WriteFile("deploy.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("apps/shared.yaml", "kind: Secret\n");
  f.repo.WriteFile("apps/web/fleet.yaml", "defaultNamespace: web\n");
  f.repo.WriteFile("apps/web/deployment.yaml", "kind: Deployment\n");
  f.repo.WriteFile("apps/web/config/extra.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("apps/web/.hidden.yaml", "kind: Secret\n");
  f.repo.WriteFile("apps/web/.secret/key.yaml", "kind: Secret\n");
  f.repo.WriteFile("apps/web/api/fleet.yml", "namespace: api\n");
  f.repo.WriteFile("apps/web/api/svc.yaml", "kind: Service\n");
  f.repo.WriteFile("apps/db/fleet.yaml", "labels:\n  tier: data\n");
  f.repo.WriteFile("apps/db/db.yaml", "kind: StatefulSet\n");
  f.repo.WriteFile(".github/fleet.yaml", "name: not-a-bundle\n");
  f.repo.WriteFile(".github/ci.yaml", "on: push\n");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{".", "apps/db", "apps/web", "apps/web/api"});
  for (const ScannedBundle& b : bundles) {
    INFO(b.path);
    CHECK(b.error.empty());
  }
  CHECK(At(bundles, ".").files == Files{{"README.md", "# repo\n"},
                                        {"apps/shared.yaml", "kind: Secret\n"},
                                        {"deploy.yaml", "kind: ConfigMap\n"}});
  CHECK(At(bundles, "apps/web").files == Files{{"config/extra.yaml", "kind: ConfigMap\n"},
                                               {"deployment.yaml", "kind: Deployment\n"}});
  CHECK(At(bundles, "apps/web/api").files == Files{{"svc.yaml", "kind: Service\n"}});
  CHECK(At(bundles, "apps/db").files == Files{{"db.yaml", "kind: StatefulSet\n"}});

  // Each bundle's own fleet.yaml (or fleet.yml) becomes its spec.
  CHECK(At(bundles, "apps/web").spec.options == common::Json{{"defaultNamespace", "web"}});
  CHECK(At(bundles, "apps/web/api").spec.options == common::Json{{"namespace", "api"}});
  CHECK(At(bundles, "apps/db").spec.labels == common::Labels{{"tier", "data"}});
  CHECK(At(bundles, ".").spec.options == common::Json::object());
}

// Scenario (Fleet apply.go shouldCreateBundleForThisPath): the path root is a
// bundle only with a fleet.yaml of its own or YAML somewhere below it outside
// bundle directories; hidden YAML and other file types do not count.
TEST_CASE("The root is a bundle only when it holds YAML outside bundle directories", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("README.md", "docs\n");
  f.repo.WriteFile("notes/todo.txt", "later\n");
  f.repo.WriteFile(".ci/pipeline.yaml", "steps: []\n");
  f.repo.WriteFile("apps/web/fleet.yaml", "");
  f.repo.WriteFile("apps/web/app.yaml", "kind: Pod\n");

  SECTION("no YAML outside bundles: only the fleet.yaml directory") {
    const auto bundles = f.Scan(GitRepo("one"));
    CHECK(PathsOf(bundles) == std::vector<std::string>{"apps/web"});
  }
  SECTION("YAML deep below the root makes the root a bundle") {
    f.repo.WriteFile("manifests/base/cm.yml", "kind: ConfigMap\n");
    const auto bundles = f.Scan(GitRepo("one"));
    REQUIRE(PathsOf(bundles) == std::vector<std::string>{".", "apps/web"});
    CHECK(At(bundles, ".").files == Files{{"README.md", "docs\n"},
                                          {"manifests/base/cm.yml", "kind: ConfigMap\n"},
                                          {"notes/todo.txt", "later\n"}});
  }
  SECTION("a fleet.yaml at the root makes it a bundle without other YAML") {
    f.repo.WriteFile("fleet.yaml", "defaultNamespace: root\n");
    const auto bundles = f.Scan(GitRepo("one"));
    REQUIRE(PathsOf(bundles) == std::vector<std::string>{".", "apps/web"});
    CHECK(At(bundles, ".").spec.options == common::Json{{"defaultNamespace", "root"}});
    CHECK(At(bundles, ".").files == Files{{"README.md", "docs\n"}, {"notes/todo.txt", "later\n"}});
  }
}

// Scenario (Fleet names/name.go HelmReleaseName): bundle names join the
// GitRepo name and the directory with dashes; the root is the GitRepo name;
// uppercase gets an md5 suffix, long names are cut to 53 characters; a
// fleet.yaml `name` wins.
TEST_CASE("Bundles get Fleet's derived names unless fleet.yaml sets a name", "[scanner]") {
  Fixture f;
  const std::string long_dir = "multi-cluster/" + std::string(60, 'x');
  f.repo.WriteFile("root.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("multi-cluster/hello-world/fleet.yaml", "");
  f.repo.WriteFile("Upper/App/fleet.yaml", "");
  f.repo.WriteFile(long_dir + "/fleet.yaml", "");
  f.repo.WriteFile("renamed/fleet.yaml", "name: my-own-name\n");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(bundles.size() == 5);
  CHECK(At(bundles, ".").name == "one");
  CHECK(At(bundles, "multi-cluster/hello-world").name == "one-multi-cluster-hello-world");
  CHECK(At(bundles, "Upper/App").name ==
        "one-upper-app-" + common::Md5Hex("one-Upper-App").substr(0, 8));
  const std::string joined = "one-multi-cluster-" + std::string(60, 'x');
  CHECK(At(bundles, long_dir).name ==
        joined.substr(0, 47) + "-" + common::Md5Hex(joined).substr(0, 5));
  CHECK(At(bundles, long_dir).name.size() == 53);
  CHECK(At(bundles, "renamed").name == "my-own-name");
  for (const ScannedBundle& b : bundles) {
    INFO(b.path);
    CHECK(b.name == (b.path == "renamed" ? "my-own-name" : common::BundleName("one", b.path)));
    CHECK(b.error.empty());
  }
}

// Scenario: a fleet.yaml `name` that is no valid Kubernetes name is an error
// on that bundle, naming the file and the field.
TEST_CASE("An invalid fleet.yaml name is an error on that bundle only", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("bad/fleet.yaml", "name: Not_Valid\n");
  f.repo.WriteFile("bad/cm.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("good/fleet.yaml", "name: fine\n");
  f.repo.WriteFile("good/cm.yaml", "kind: ConfigMap\n");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"bad", "good"});
  CHECK(At(bundles, "bad").name == "one-bad");
  CHECK(At(bundles, "bad").error ==
        "bad/fleet.yaml: name: bundle name \"Not_Valid\" is invalid: use lowercase letters, "
        "digits, '-' and '.', starting and ending with a letter or digit (at most 253 "
        "characters)");
  CHECK(At(bundles, "bad").files.empty());
  CHECK(At(bundles, "good").name == "fine");
  CHECK(At(bundles, "good").error.empty());
  CHECK(At(bundles, "good").files == Files{{"cm.yaml", "kind: ConfigMap\n"}});
}

// Scenario: "a-b" and "a/b" both derive the name "one-a-b", and two
// fleet.yaml files pick the same `name`: every directory involved is an error
// (neither silently replaces the other); other bundles are untouched.
TEST_CASE("Two directories with the same bundle name are both errors", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("a-b/fleet.yaml", "");
  f.repo.WriteFile("a-b/x.yaml", "kind: A\n");
  f.repo.WriteFile("a/b/fleet.yaml", "");
  f.repo.WriteFile("a/b/x.yaml", "kind: B\n");
  f.repo.WriteFile("p/fleet.yaml", "name: same\n");
  f.repo.WriteFile("q/fleet.yaml", "name: same\n");
  f.repo.WriteFile("ok/fleet.yaml", "");
  f.repo.WriteFile("ok/x.yaml", "kind: C\n");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"a-b", "a/b", "ok", "p", "q"});
  for (const std::string path : {"a-b", "a/b"}) {
    INFO(path);
    CHECK(At(bundles, path).name == "one-a-b");
    CHECK(At(bundles, path).error ==
          "bundle name \"one-a-b\" is used by more than one directory (a-b, a/b); set a "
          "distinct `name` in fleet.yaml");
    CHECK(At(bundles, path).files.empty());
  }
  for (const std::string path : {"p", "q"}) {
    INFO(path);
    CHECK(At(bundles, path).error ==
          "bundle name \"same\" is used by more than one directory (p, q); set a distinct "
          "`name` in fleet.yaml");
  }
  CHECK(At(bundles, "ok").error.empty());
  CHECK(At(bundles, "ok").files == Files{{"x.yaml", "kind: C\n"}});
}

// Scenario: GitRepo `paths` restrict the scan to those directories. A leading
// "/" (stripped by the parser), "./" and a trailing "/" all name the same
// directory; a path without fleet.yaml but with YAML is itself a bundle named
// after it; overlapping paths do not produce a bundle twice.
TEST_CASE("Only the configured paths are scanned, however they are spelled", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("root.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("apps/web/fleet.yaml", "");
  f.repo.WriteFile("apps/web/app.yaml", "kind: Deployment\n");
  f.repo.WriteFile("apps/api/fleet.yaml", "");
  f.repo.WriteFile("apps/api/api.yaml", "kind: Service\n");
  f.repo.WriteFile("infra/cm.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("infra/sub/more.yaml", "kind: Secret\n");
  f.repo.WriteFile("other/fleet.yaml", "");
  auto tree = f.Tree();

  SECTION("one nested path") {
    for (const std::string spelling : {"apps/web", "/apps/web", "./apps/web", "apps/web/"}) {
      INFO(spelling);
      const auto bundles = Unwrap(ScanCommit(*tree, GitRepo("one", {spelling})));
      REQUIRE(PathsOf(bundles) == std::vector<std::string>{"apps/web"});
      CHECK(bundles[0].name == "one-apps-web");
      CHECK(bundles[0].files == Files{{"app.yaml", "kind: Deployment\n"}});
    }
  }
  SECTION("a path root without fleet.yaml is a bundle when it holds YAML") {
    const auto bundles = Unwrap(ScanCommit(*tree, GitRepo("one", {"infra"})));
    REQUIRE(PathsOf(bundles) == std::vector<std::string>{"infra"});
    CHECK(bundles[0].name == "one-infra");
    CHECK(bundles[0].files ==
          Files{{"cm.yaml", "kind: ConfigMap\n"}, {"sub/more.yaml", "kind: Secret\n"}});
  }
  SECTION("several paths, overlapping") {
    const auto bundles =
        Unwrap(ScanCommit(*tree, GitRepo("one", {"apps", "apps/web", "infra", "/infra/"})));
    // "apps" has no YAML of its own outside its bundle directories.
    CHECK(PathsOf(bundles) == std::vector<std::string>{"apps/api", "apps/web", "infra"});
  }
  SECTION("no paths means the whole repository") {
    const auto bundles = Unwrap(ScanCommit(*tree, GitRepo("one")));
    CHECK(PathsOf(bundles) == std::vector<std::string>{".", "apps/api", "apps/web", "other"});
    CHECK(At(bundles, ".").files == Files{{"infra/cm.yaml", "kind: ConfigMap\n"},
                                          {"infra/sub/more.yaml", "kind: Secret\n"},
                                          {"root.yaml", "kind: ConfigMap\n"}});
  }
}

// Scenario: one bundle's fleet.yaml is malformed (a duplicate key, a YAML
// syntax error, a field of the wrong type). The error names file:line:column
// and clears that bundle's files; the other bundles of the commit scan fine.
TEST_CASE("A malformed fleet.yaml is reported on its bundle only, with file:line:column",
          "[scanner]") {
  Fixture f;
  f.repo.WriteFile("apps/good/fleet.yaml", "defaultNamespace: good\n");
  f.repo.WriteFile("apps/good/cm.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("apps/bad/cm.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("root.yaml", "kind: ConfigMap\n");

  std::string fleet_yaml;
  std::string expected;
  SECTION("a duplicate key") {
    fleet_yaml = "defaultNamespace: a\ndefaultNamespace: b\n";
    expected = "apps/bad/fleet.yaml:2:1: duplicate key \"defaultNamespace\"";
  }
  SECTION("a field of the wrong type") {
    fleet_yaml = "labels:\n  team: [x]\n";
    expected = "apps/bad/fleet.yaml:2:9: labels.team: must be a string";
  }
  SECTION("a YAML syntax error") {
    fleet_yaml = "defaultNamespace: ok\nlabels: {team: x\n";
    expected = "";  // yaml-cpp's own wording; checked by pattern below
  }
  f.repo.WriteFile("apps/bad/fleet.yaml", fleet_yaml);

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{".", "apps/bad", "apps/good"});
  const ScannedBundle& bad = At(bundles, "apps/bad");
  CHECK(bad.name == "one-apps-bad");
  if (expected.empty()) {
    CHECK_THAT(bad.error, Catch::Matches(R"(apps/bad/fleet\.yaml:[0-9]+:[0-9]+: .+)"));
  } else {
    CHECK(bad.error == expected);
  }
  CHECK(bad.files.empty());

  CHECK(At(bundles, "apps/good").error.empty());
  CHECK(At(bundles, "apps/good").spec.options == common::Json{{"defaultNamespace", "good"}});
  CHECK(At(bundles, "apps/good").files == Files{{"cm.yaml", "kind: ConfigMap\n"}});
  CHECK(At(bundles, ".").error.empty());
  CHECK(At(bundles, ".").files == Files{{"root.yaml", "kind: ConfigMap\n"}});
}

// Scenario: a configured path that is missing from the commit (or is a file,
// not a directory) is a problem with the scan as a whole: the call fails with
// NotFound naming the path and the commit, not a bundle error.
TEST_CASE("A configured path that does not exist fails the whole scan", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("apps/web/fleet.yaml", "");
  f.repo.WriteFile("apps/web/app.yaml", "kind: Pod\n");
  auto tree = f.Tree();
  const std::string commit12 = tree->commit().substr(0, 12);

  for (const std::string missing : {"missing", "apps/missing", "apps/web/app.yaml"}) {
    INFO(missing);
    const auto result = ScanCommit(*tree, GitRepo("one", {"apps/web", missing}));
    CHECK(result.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(result.status().message()) ==
          "path \"" + missing + "\" not found in commit " + commit12);
  }
}

// Scenario: ScanLimits.max_file_bytes. A resource file (or a fleet.yaml) over
// the limit makes its bundle an error naming the file and both sizes; a file
// exactly at the limit is fine, and other bundles are unaffected.
TEST_CASE("A file over the size limit is an error on its bundle naming the file", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("big/fleet.yaml", "");
  f.repo.WriteFile("big/small.yaml", "kind: A\n");
  f.repo.WriteFile("big/large.yaml", std::string(101, 'x'));
  f.repo.WriteFile("bigspec/fleet.yaml", "labels:\n  a: " + std::string(120, 'y') + "\n");
  f.repo.WriteFile("bigspec/cm.yaml", "kind: B\n");
  f.repo.WriteFile("edge/fleet.yaml", "");
  f.repo.WriteFile("edge/exact.yaml", std::string(100, 'z'));
  ScanLimits limits;
  limits.max_file_bytes = 100;

  const auto bundles = f.Scan(GitRepo("one"), limits);

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"big", "bigspec", "edge"});
  CHECK(At(bundles, "big").error ==
        "big/large.yaml: blob of 101 bytes exceeds the limit of 100 bytes");
  CHECK(At(bundles, "big").files.empty());
  CHECK(At(bundles, "bigspec").error ==
        "bigspec/fleet.yaml: blob of 134 bytes exceeds the limit of 100 bytes");
  CHECK(At(bundles, "bigspec").files.empty());
  CHECK(At(bundles, "edge").error.empty());
  CHECK(At(bundles, "edge").files == Files{{"exact.yaml", std::string(100, 'z')}});
}

// Scenario: ScanLimits.max_bundle_bytes. The resource files of one bundle add
// up past the limit: the bundle is an error naming the file at which the
// limit was crossed. A bundle exactly at the limit (its fleet.yaml does not
// count) is fine.
TEST_CASE("A bundle over the total size limit is an error naming the file that crossed it",
          "[scanner]") {
  Fixture f;
  f.repo.WriteFile("big/fleet.yaml", "defaultNamespace: big\n");
  f.repo.WriteFile("big/a.yaml", std::string(100, 'a'));
  f.repo.WriteFile("big/b.yaml", std::string(100, 'b'));
  f.repo.WriteFile("big/c.yaml", std::string(100, 'c'));
  f.repo.WriteFile("fits/fleet.yaml", "defaultNamespace: fits\n");
  f.repo.WriteFile("fits/a.yaml", std::string(150, 'a'));
  f.repo.WriteFile("fits/b.yaml", std::string(100, 'b'));
  ScanLimits limits;
  limits.max_bundle_bytes = 250;

  const auto bundles = f.Scan(GitRepo("one"), limits);

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"big", "fits"});
  CHECK(At(bundles, "big").error ==
        "bundle big is larger than the limit of 250 bytes (at big/c.yaml)");
  CHECK(At(bundles, "big").files.empty());
  CHECK(At(bundles, "fits").error.empty());
  CHECK(At(bundles, "fits").files.size() == 2);
}

// Scenario: ScanLimits.max_bundles. A commit with exactly as many bundles as
// allowed scans; one more fails the whole call with InvalidArgument.
TEST_CASE("More bundles than max_bundles fails the scan", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("root.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("a/fleet.yaml", "");
  f.repo.WriteFile("b/fleet.yaml", "");
  auto tree = f.Tree();
  ScanLimits limits;

  limits.max_bundles = 3;
  CHECK(Unwrap(ScanCommit(*tree, GitRepo("one"), limits)).size() == 3);

  limits.max_bundles = 2;
  const auto too_many = ScanCommit(*tree, GitRepo("one"), limits);
  CHECK(too_many.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(too_many.status().message()) == "repository has more than 2 bundles");

  // The limit counts the bundles of the configured paths only.
  CHECK(Unwrap(ScanCommit(*tree, GitRepo("one", {"a", "b"}), limits)).size() == 2);
}

// Scenario: a symlink inside a bundle to a file of the same bundle is read as
// that file; one leaving the bundle is an error on the bundle naming the link.
TEST_CASE("Symlinks are followed only to files inside the same bundle", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("app/fleet.yaml", "");
  f.repo.WriteFile("app/real.yaml", "kind: ConfigMap\n");
  std::filesystem::create_symlink("real.yaml", f.repo.dir() + "/app/alias.yaml");
  f.repo.WriteFile("leaky/fleet.yaml", "");
  f.repo.WriteFile("leaky/ok.yaml", "kind: Secret\n");
  std::filesystem::create_symlink("../app/real.yaml", f.repo.dir() + "/leaky/stolen.yaml");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"app", "leaky"});
  CHECK(At(bundles, "app").error.empty());
  CHECK(At(bundles, "app").files ==
        Files{{"alias.yaml", "kind: ConfigMap\n"}, {"real.yaml", "kind: ConfigMap\n"}});
  CHECK(At(bundles, "leaky").error ==
        "leaky/stolen.yaml: symlink to \"../app/real.yaml\" points outside the bundle or to no "
        "file");
  CHECK(At(bundles, "leaky").files.empty());
}

}  // namespace
}  // namespace flotilla::manager
