#include "common/scan/scanner.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/fleet/naming.h"
#include "common/hash.h"
#include "common/scan/fleetignore.h"
#include "common/scan/go_filepath.h"
#include "manager/source/git_repository.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

// The scanner is common code (common/scan); these tests drive it through the
// manager's GitRepository.
using namespace ::flotilla::common;  // NOLINT(google-build-using-namespace)

using flotilla::testing::RunCommand;
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

  std::unique_ptr<CommitTree> Tree() { return TreeAt(repo.Commit("scan me")); }

  // The tree of `head` (already the tip of main), without committing again.
  std::unique_ptr<CommitTree> TreeAt(const std::string& head) {
    auto git = Unwrap(GitRepository::Open(tmp.Sub("cache"), repo.dir()));
    REQUIRE(Unwrap(git->Fetch("main", /*is_revision=*/false, kTimeout)) == head);
    return Unwrap(git->Tree(head));
  }

  // A symlink at `link` (repository-relative) whose target is `target`.
  void Symlink(const std::string& target, const std::string& link) {
    const std::filesystem::path path = std::filesystem::path(repo.dir()) / link;
    std::filesystem::create_directories(path.parent_path());
    std::filesystem::create_symlink(target, path);
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

const ScannedBundle& Named(const std::vector<ScannedBundle>& bundles, const std::string& name) {
  for (const ScannedBundle& b : bundles) {
    if (b.name == name) return b;
  }
  FAIL("no bundle named " << name);
  throw std::logic_error("unreachable");
}

std::vector<std::string> NamesOf(const std::vector<ScannedBundle>& bundles) {
  std::vector<std::string> out;
  out.reserve(bundles.size());
  for (const ScannedBundle& b : bundles) out.push_back(b.name);
  return out;
}

// Runs a shell command that must succeed; returns its output without the
// trailing newline.
std::string Sh(const std::string& command) {
  const flotilla::testing::CommandResult result = RunCommand(command);
  INFO(command << "\n" << result.output);
  REQUIRE(result.exit_code == 0);
  return std::string(absl::StripTrailingAsciiWhitespace(result.output));
}

// A GitRepo named "one" with explicit `bundles` entries {base, options}
// ("" leaves options out), and `paths` too when given.
common::GitRepoSpec DrivenGitRepo(const std::vector<std::pair<std::string, std::string>>& bundles,
                                  const std::vector<std::string>& paths = {}) {
  std::string yaml =
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata:\n  name: one\nspec:\n"
      "  repo: /unused\n  branch: main\n  bundles:\n";
  for (const auto& [base, options] : bundles) {
    absl::StrAppend(&yaml, "  - base: \"", base, "\"\n");
    if (!options.empty()) absl::StrAppend(&yaml, "    options: \"", options, "\"\n");
  }
  if (!paths.empty()) {
    absl::StrAppend(&yaml, "  paths:\n");
    for (const std::string& p : paths) absl::StrAppend(&yaml, "  - \"", p, "\"\n");
  }
  return Unwrap(common::ParseGitRepo(yaml, "gitrepo.yaml"));
}

// A CommitTree double for what a real commit cannot hold (GitRepository
// refuses to list unsafe entry names) and for watching what the scanner
// reads. Entries are files unless added otherwise.
class FakeCommitTree : public CommitTree {
 public:
  void Add(const std::string& path, const std::string& content,
           TreeEntry::Kind kind = TreeEntry::Kind::kFile) {
    AddSized(path, content, content.size(), kind);
  }
  // An entry whose object header claims `size` bytes.
  void AddSized(const std::string& path, const std::string& content, uint64_t size,
                TreeEntry::Kind kind = TreeEntry::Kind::kFile) {
    TreeEntry e;
    e.path = path;
    e.blob_id = absl::StrCat("blob", blobs_.size());
    e.size = size;
    e.kind = kind;
    blobs_[e.blob_id] = content;
    entries_.push_back(std::move(e));
  }
  // Every path read so far, in order.
  const std::vector<std::string>& reads() const { return reads_; }

  const std::string& commit() const override { return commit_; }
  absl::StatusOr<std::vector<TreeEntry>> List(std::string_view dir) const override {
    const std::string d(dir);
    std::vector<TreeEntry> out;
    for (const TreeEntry& e : entries_) {
      if (d.empty() || d == "." || absl::StartsWith(e.path, d + "/")) out.push_back(e);
    }
    if (out.empty() && !d.empty() && d != ".") {
      return absl::NotFoundError(absl::StrCat("path \"", d, "\" not found"));
    }
    std::sort(out.begin(), out.end(),
              [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
    return out;
  }
  absl::StatusOr<std::string> Read(const TreeEntry& entry, uint64_t max_size) const override {
    reads_.push_back(entry.path);
    if (entry.size > max_size) {
      return absl::InvalidArgumentError(absl::StrCat(entry.path, ": blob of ", entry.size,
                                                     " bytes exceeds the limit of ", max_size,
                                                     " bytes"));
    }
    return blobs_.at(entry.blob_id);
  }

 private:
  const std::string commit_ = std::string(40, 'f');
  std::vector<TreeEntry> entries_;
  std::map<std::string, std::string> blobs_;
  mutable std::vector<std::string> reads_;
};

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
// bundle directories; other file types do not count, nor does hidden YAML
// (Fleet's hasSubDirectoryWithResourcesAndWithoutFleetYaml counts it, then
// reads no hidden file into the bundle: a documented difference).
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

// Scenario (Go path/filepath match.go, which Fleet calls for `paths` globs in
// apply.go globDirs and for .fleetignore rules in loaddirectory.go): Go's own
// Match test table, Unix flavour. A malformed pattern is an error whatever
// the name, so matching against "" validates a pattern.
TEST_CASE("Glob matching follows Go's filepath.Match exactly", "[scanner][glob]") {
  struct Case {
    std::string pattern, name;
    GoMatchResult want;
  };
  const GoMatchResult yes = GoMatchResult::kMatch;
  const GoMatchResult no = GoMatchResult::kNoMatch;
  const GoMatchResult bad = GoMatchResult::kBadPattern;
  const std::vector<Case> cases = {
      {"abc", "abc", yes},
      {"*", "abc", yes},
      {"*c", "abc", yes},
      {"a*", "a", yes},
      {"a*", "abc", yes},
      {"a*", "ab/c", no},
      {"a*/b", "abc/b", yes},
      {"a*/b", "a/c/b", no},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", yes},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", yes},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", no},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", no},
      {"a*b?c*x", "abxbbxdbxebxczzx", yes},
      {"a*b?c*x", "abxbbxdbxebxczzy", no},
      {"ab[c]", "abc", yes},
      {"ab[b-d]", "abc", yes},
      {"ab[e-g]", "abc", no},
      {"ab[^c]", "abc", no},
      {"ab[^b-d]", "abc", no},
      {"ab[^e-g]", "abc", yes},
      {"a\\*b", "a*b", yes},
      {"a\\*b", "ab", no},
      {"a?b", "a\u263ab", yes},
      {"a[^a]b", "a\u263ab", yes},
      {"a???b", "a\u263ab", no},
      {"a[^a][^a][^a]b", "a\u263ab", no},
      {"[a-\u03b6]*", "\u03b1", yes},
      {"*[a-\u03b6]", "A", no},
      {"a?b", "a/b", no},
      {"a*b", "a/b", no},
      {"[\\]a]", "]", yes},
      {"[\\-]", "-", yes},
      {"[x\\-]", "x", yes},
      {"[x\\-]", "-", yes},
      {"[x\\-]", "z", no},
      {"[\\-x]", "x", yes},
      {"[\\-x]", "-", yes},
      {"[\\-x]", "a", no},
      {"[]a]", "]", bad},
      {"[-]", "-", bad},
      {"[x-]", "x", bad},
      {"[x-]", "-", bad},
      {"[x-]", "z", bad},
      {"[-x]", "x", bad},
      {"[-x]", "-", bad},
      {"[-x]", "a", bad},
      {"\\", "a", bad},
      {"[a-b-c]", "a", bad},
      {"[", "a", bad},
      {"[^", "a", bad},
      {"[^bc", "a", bad},
      {"a[", "a", bad},
      {"a[", "ab", bad},
      {"a[", "x", bad},
      {"a/b[", "x", bad},
      {"*x", "xxx", yes},
      // No "**": it is two stars, neither crossing a '/'.
      {"**", "a/b", no},
      {"apps/**", "apps/web", yes},
      // Malformed patterns fail even against the empty name.
      {"a[", "", bad},
      {"*[", "", bad},
      {"ok", "", no},
  };
  for (const Case& c : cases) {
    INFO("Match(" << c.pattern << ", " << c.name << ")");
    uint64_t budget = 1'000'000;
    CHECK(GoMatch(c.pattern, c.name, &budget) == c.want);
  }
  // A pattern/name pair costing more steps than allowed stops early.
  uint64_t budget = 50;
  CHECK(GoMatch("*a*a*a*a*a*a*b", std::string(200, 'a'), &budget) == GoMatchResult::kOverBudget);
}

// Scenario (Fleet apply.go globDirs: filepath.Glob, then directories only):
// `paths` entries with *, ? or [...] select directories of the commit, each
// of which is then walked as a path root. A glob that matches nothing is
// skipped as in Fleet, while a literal path that is missing still fails the
// scan (see the NotFound test above); a malformed glob fails with Fleet's
// message.
TEST_CASE("Globs in GitRepo paths select directories of the commit", "[scanner][glob]") {
  Fixture f;
  f.repo.WriteFile("apps/web/fleet.yaml", "");
  f.repo.WriteFile("apps/web/app.yaml", "kind: Deployment\n");
  f.repo.WriteFile("apps/api/fleet.yaml", "");
  f.repo.WriteFile("apps/api/api.yaml", "kind: Service\n");
  f.repo.WriteFile("apps/db/db.yaml", "kind: StatefulSet\n");  // a path root with YAML
  f.repo.WriteFile("apps/docs/README.md", "docs\n");           // a path root without YAML
  f.repo.WriteFile("apps/README.md", "# apps\n");              // a file, not a directory
  f.repo.WriteFile("infra/prod/cm.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("infra/prod/deep/fleet.yaml", "");
  f.repo.WriteFile("infra/prod/deep/x.yaml", "kind: Secret\n");
  auto tree = f.Tree();
  auto scan = [&](const std::vector<std::string>& paths) {
    return Unwrap(ScanCommit(*tree, GitRepo("one", paths)));
  };

  SECTION("a star per level") {
    const auto bundles = scan({"apps/*"});
    CHECK(PathsOf(bundles) == std::vector<std::string>{"apps/api", "apps/db", "apps/web"});
    CHECK(At(bundles, "apps/db").name == "one-apps-db");
    CHECK(At(bundles, "apps/db").files == Files{{"db.yaml", "kind: StatefulSet\n"}});
  }
  SECTION("'**' is not recursive: it matches one level like '*'") {
    CHECK(PathsOf(scan({"apps/**"})) ==
          std::vector<std::string>{"apps/api", "apps/db", "apps/web"});
  }
  SECTION("character classes, '?' and a leading '/'") {
    CHECK(PathsOf(scan({"apps/[a-c]*"})) == std::vector<std::string>{"apps/api"});
    CHECK(PathsOf(scan({"/apps/?eb"})) == std::vector<std::string>{"apps/web"});
    CHECK(PathsOf(scan({"apps/[^w]*"})) == std::vector<std::string>{"apps/api", "apps/db"});
  }
  SECTION("a glob before a literal component; each match is walked recursively") {
    const auto bundles = scan({"*/prod"});
    CHECK(PathsOf(bundles) == std::vector<std::string>{"infra/prod", "infra/prod/deep"});
    CHECK(At(bundles, "infra/prod").files == Files{{"cm.yaml", "kind: ConfigMap\n"}});
  }
  SECTION("a glob matching nothing, or only files, is skipped") {
    CHECK(PathsOf(scan({"nothing/*", "apps/z*", "apps/*.md", "apps/web"})) ==
          std::vector<std::string>{"apps/web"});
    CHECK(scan({"apps/*.md"}).empty());
  }
  SECTION("a malformed glob fails the scan") {
    const auto result = ScanCommit(*tree, GitRepo("one", {"apps/web", "apps/["}));
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(result.status().message()) ==
          "invalid path glob apps/[: syntax error in pattern");
  }
}

// Scenario (Go filepath.Glob sorts the names of each directory it reads):
// matches come level by level, so "a/x" precedes "a-b/x" although '-' sorts
// before '/' in a plain string comparison.
TEST_CASE("Glob matches come in filepath.Glob's level-by-level order", "[scanner][glob]") {
  Fixture f;
  f.repo.WriteFile("a-b/x/cm.yaml", "kind: A\n");
  f.repo.WriteFile("a/x/cm.yaml", "kind: B\n");
  f.repo.WriteFile("a/y/cm.yaml", "kind: C\n");

  const auto bundles = f.Scan(GitRepo("one", {"*/*"}));

  CHECK(PathsOf(bundles) == std::vector<std::string>{"a/x", "a/y", "a-b/x"});
}

// Scenario (Fleet apply.go CreateBundlesDriven and bundleFromDir, read.go
// NewBundle, resources.go ignoreApplyConfigs, gitops/reconciler/gitjob.go):
// GitRepo `bundles` replace the scan of `paths`. Each {base, options} is one
// bundle; `options` is relative to base and replaces fleet.yaml; the bundle
// name joins GitRepo, base and the options file without its extension. Base
// is not searched for nested bundles, and the files of a nested fleet.yaml
// directory are left out as Fleet's renderer leaves them out. Only the
// bundle's own options file (and fleet.yaml) is excluded: other options
// files in base are resources, as in Fleet.
TEST_CASE("GitRepo bundles make one bundle per base, with an options file relative to it",
          "[scanner][driven]") {
  Fixture f;
  f.repo.WriteFile("app/fleet.yaml", "defaultNamespace: app\n");
  f.repo.WriteFile("app/dev.yaml", "defaultNamespace: dev\n");
  f.repo.WriteFile("app/prod.yaml", "defaultNamespace: prod\n");
  f.repo.WriteFile("app/deploy.yaml", "kind: Deployment\n");
  f.repo.WriteFile("app/opts/staging.yml", "defaultNamespace: staging\n");
  f.repo.WriteFile("app/nested/fleet.yaml", "defaultNamespace: nested\n");
  f.repo.WriteFile("app/nested/x.yaml", "kind: Secret\n");
  f.repo.WriteFile("plain/cm.yaml", "kind: ConfigMap\n");

  const auto bundles = f.Scan(DrivenGitRepo({{"app", ""},
                                             {"app", "dev.yaml"},
                                             {"/app/", "opts/staging.yml"},
                                             {"plain", ""},
                                             {"app/nested", ""}},
                                            /*paths=*/{"does-not-matter"}));

  REQUIRE(NamesOf(bundles) == std::vector<std::string>{"one-app", "one-app-dev",
                                                       "one-app-opts-staging", "one-plain",
                                                       "one-app-nested"});
  for (const ScannedBundle& b : bundles) {
    INFO(b.name);
    CHECK(b.error.empty());
  }
  const ScannedBundle& app = Named(bundles, "one-app");
  CHECK(app.path == "app");
  CHECK(app.spec_file == "app/fleet.yaml");
  CHECK(app.spec.options == common::Json{{"defaultNamespace", "app"}});
  CHECK(app.files == Files{{"deploy.yaml", "kind: Deployment\n"},
                           {"dev.yaml", "defaultNamespace: dev\n"},
                           {"opts/staging.yml", "defaultNamespace: staging\n"},
                           {"prod.yaml", "defaultNamespace: prod\n"}});

  const ScannedBundle& dev = Named(bundles, "one-app-dev");
  CHECK(dev.path == "app");
  CHECK(dev.spec_file == "app/dev.yaml");
  CHECK(dev.spec.options == common::Json{{"defaultNamespace", "dev"}});
  CHECK(dev.files == Files{{"deploy.yaml", "kind: Deployment\n"},
                           {"opts/staging.yml", "defaultNamespace: staging\n"},
                           {"prod.yaml", "defaultNamespace: prod\n"}});

  const ScannedBundle& staging = Named(bundles, "one-app-opts-staging");
  CHECK(staging.spec_file == "app/opts/staging.yml");
  CHECK(staging.spec.options == common::Json{{"defaultNamespace", "staging"}});
  CHECK(staging.files.count("opts/staging.yml") == 0);
  CHECK(staging.files.count("dev.yaml") == 1);

  const ScannedBundle& plain = Named(bundles, "one-plain");
  CHECK(plain.spec_file.empty());
  CHECK(plain.spec.options == common::Json::object());
  CHECK(plain.files == Files{{"cm.yaml", "kind: ConfigMap\n"}});

  const ScannedBundle& nested = Named(bundles, "one-app-nested");
  CHECK(nested.path == "app/nested");
  CHECK(nested.files == Files{{"x.yaml", "kind: Secret\n"}});
}

// Scenario (Fleet apply.go CreateBundlesDriven fails the whole apply when a
// base or options file cannot be read): a missing base or options file
// fails the scan with NotFound naming the entry; the same {base, options}
// listed twice is one bundle; two entries that derive the same name are
// both errors.
TEST_CASE("GitRepo bundles: a missing base or options file fails the scan, naming it",
          "[scanner][driven]") {
  Fixture f;
  f.repo.WriteFile("app/fleet.yaml", "");
  f.repo.WriteFile("app/cm.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("a-b/cm.yaml", "kind: A\n");
  f.repo.WriteFile("a/b/cm.yaml", "kind: B\n");
  f.repo.WriteFile(".fleet/fleet.yaml", "defaultNamespace: hidden\n");
  f.repo.WriteFile(".fleet/cm.yaml", "kind: C\n");
  auto tree = f.Tree();
  const std::string commit12 = tree->commit().substr(0, 12);

  SECTION("a missing base") {
    const auto result = ScanCommit(*tree, DrivenGitRepo({{"app", ""}, {"nope", ""}}));
    CHECK(result.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(result.status().message()) ==
          "bundles[1].base: path \"nope\" not found in commit " + commit12);
  }
  SECTION("a missing options file") {
    const auto result = ScanCommit(*tree, DrivenGitRepo({{"app", "missing.yaml"}}));
    CHECK(result.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(result.status().message()) ==
          "bundles[0].options: \"missing.yaml\" not found in \"app\" in commit " + commit12);
  }
  SECTION("a hidden base: its fleet.yaml is read, none of its files (as Fleet)") {
    const auto bundles = Unwrap(ScanCommit(*tree, DrivenGitRepo({{".fleet", ""}})));
    REQUIRE(bundles.size() == 1);
    CHECK(bundles[0].error.empty());
    CHECK(bundles[0].name == common::HelmReleaseName("one/.fleet"));
    CHECK(bundles[0].spec.options == common::Json{{"defaultNamespace", "hidden"}});
    CHECK(bundles[0].files.empty());
  }
  SECTION("the same bundle twice, and two bundles with one name") {
    const auto bundles = Unwrap(
        ScanCommit(*tree, DrivenGitRepo({{"app", ""}, {"./app", ""}, {"a-b", ""}, {"a/b", ""}})));
    REQUIRE(PathsOf(bundles) == std::vector<std::string>{"app", "a-b", "a/b"});
    CHECK(bundles[0].error.empty());
    for (size_t i : {1, 2}) {
      CHECK(bundles[i].error ==
            "bundle name \"one-a-b\" is used by more than one bundle (a-b, a/b); set a distinct "
            "`name` in fleet.yaml");
    }
  }
}

// Scenario (Fleet read.go setupIOReader opens fleet.yaml first and falls
// back to fleet.yml): with both present fleet.yaml is the spec; neither is a
// resource (Fleet would ship fleet.yml as a resource that its renderer then
// drops).
TEST_CASE("With both fleet.yaml and fleet.yml, fleet.yaml is the spec and neither is a resource",
          "[scanner]") {
  Fixture f;
  f.repo.WriteFile("app/fleet.yaml", "defaultNamespace: from-yaml\n");
  f.repo.WriteFile("app/fleet.yml", "defaultNamespace: from-yml\n");
  f.repo.WriteFile("app/cm.yaml", "kind: ConfigMap\n");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"app"});
  CHECK(bundles[0].spec_file == "app/fleet.yaml");
  CHECK(bundles[0].spec.options == common::Json{{"defaultNamespace", "from-yaml"}});
  CHECK(bundles[0].files == Files{{"cm.yaml", "kind: ConfigMap\n"}});
}

// Scenario (Fleet loaddirectory.go readFleetIgnore and ignoreTree.isIgnored,
// and its loaddirectory_test.go cases): each .fleetignore rule is matched
// with filepath.Match against an entry's own name (never a path), in the
// directory of the .fleetignore and all below it, never above or beside it;
// "name/*" ignores directories called name at any depth and no file;
// comments, "\#", trailing spaces (kept when escaped) and CRLF as Fleet reads
// them. A .fleetignore above the bundle directory has no effect on it.
TEST_CASE(".fleetignore rules match entry names and are inherited downwards only",
          "[scanner][fleetignore]") {
  Fixture f;
  f.repo.WriteFile(".fleetignore", "keep.yaml\n");
  f.repo.WriteFile("root.yaml", "kind: Root\n");
  f.repo.WriteFile("keep.yaml", "ignored at the root\n");
  f.repo.WriteFile("app/fleet.yaml", "");
  f.repo.WriteFile("app/.fleetignore",
                   "# a comment\n"
                   "\\#literal.yaml\n"
                   "skip.yaml\n"
                   "sub/keep.yaml\n"
                   "*.tmp\n"
                   "logs/*\n"
                   "trailing.yaml   \n"
                   "escaped.yaml\\ \r\n");
  const std::map<std::string, bool> files = {
      {"keep.yaml", true},        {"#literal.yaml", false},
      {"skip.yaml", false},       {"sub/skip.yaml", false},
      {"sub/keep.yaml", true},    {"a.tmp", false},
      {"sub/b.tmp", false},       {"logs/x.yaml", false},
      {"sub/logs/y.yaml", false}, {"other/logs", true},
      {"logs2/z.yaml", true},     {"trailing.yaml", false},
      {"escaped.yaml ", false},   {"escaped.yaml", true},
      {"sub/local.yaml", false},  {"sub/deeper/local.yaml", false},
      {"local.yaml", true},       {"other/local.yaml", true},
      {"sub2/local.yaml", true},
  };
  f.repo.WriteFile("app/sub/.fleetignore", "local.yaml\n");
  Files expected;
  for (const auto& [path, kept] : files) {
    f.repo.WriteFile("app/" + path, "content of " + path);
    if (kept) expected[path] = "content of " + path;
  }

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{".", "app"});
  CHECK(At(bundles, "app").error.empty());
  CHECK(At(bundles, "app").files == expected);
  CHECK(At(bundles, ".").files == Files{{"root.yaml", "kind: Root\n"}});
}

// Scenario (Fleet loaddirectory.go: a malformed rule makes filepath.Match fail
// and with it the bundle; "name/*" rules are compared as strings and never
// fail): the bad .fleetignore is an error on its bundle naming file and
// line; too many rules in force, or rules too costly to match, are errors
// too; other bundles are unaffected.
TEST_CASE("A bad .fleetignore is an error on its bundle only", "[scanner][fleetignore]") {
  Fixture f;
  f.repo.WriteFile("bad/fleet.yaml", "");
  f.repo.WriteFile("bad/.fleetignore", "ok.yaml\n[\n");
  f.repo.WriteFile("bad/cm.yaml", "kind: A\n");
  f.repo.WriteFile("dironly/fleet.yaml", "");
  f.repo.WriteFile("dironly/.fleetignore", "x[/*\n");
  f.repo.WriteFile("dironly/x[/a.yaml", "kind: Ignored\n");
  f.repo.WriteFile("dironly/b.yaml", "kind: B\n");
  std::string many;
  for (int i = 0; i < 600; ++i) absl::StrAppend(&many, "rule", i, "\n");
  f.repo.WriteFile("many/fleet.yaml", "");
  f.repo.WriteFile("many/.fleetignore", many);
  f.repo.WriteFile("many/sub/.fleetignore", many);
  f.repo.WriteFile("many/sub/cm.yaml", "kind: C\n");
  f.repo.WriteFile("costly/fleet.yaml", "");
  // Each name costs Go's matcher ~100 positions x ~50 bytes.
  f.repo.WriteFile("costly/.fleetignore", "*" + std::string(50, 'a') + "b\n");
  for (int i = 0; i < 20; ++i) {
    f.repo.WriteFile(absl::StrCat("costly/", std::string(100, 'a'), i, ".yaml"), "kind: D\n");
  }
  ScanLimits limits;
  limits.max_match_steps = 20'000;

  const auto bundles = f.Scan(GitRepo("one"), limits);

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"bad", "costly", "dironly", "many"});
  CHECK(At(bundles, "bad").error == "bad/.fleetignore:2: syntax error in pattern \"[\"");
  CHECK(At(bundles, "bad").files.empty());
  CHECK(At(bundles, "dironly").error.empty());
  CHECK(At(bundles, "dironly").files == Files{{"b.yaml", "kind: B\n"}});
  CHECK(At(bundles, "many").error ==
        "many/sub/.fleetignore: more than 1000 .fleetignore rules apply in this directory");
  CHECK(At(bundles, "costly").error ==
        "bundle costly: .fleetignore rules need more than 20000 matching steps");
}

// Scenario (Fleet apply.go walks every directory except .git; bundlereader
// GetContent skips hidden files and directories, and a bundle directory
// whose own name is hidden yields no files): a fleet.yaml directory below a
// hidden one is still a bundle, one whose own name is hidden is not, and
// hidden content never reaches a parent bundle. A glob matches hidden names
// as Go's does, with the same outcome.
TEST_CASE("Hidden directories: nested bundles below them count, their files do not", "[scanner]") {
  Fixture f;
  f.repo.WriteFile("apps/fleet.yaml", "");
  f.repo.WriteFile("apps/a.yaml", "kind: A\n");
  f.repo.WriteFile("apps/.old/stale.yaml", "kind: Stale\n");
  f.repo.WriteFile("apps/.old/web/fleet.yaml", "");
  f.repo.WriteFile("apps/.old/web/cm.yaml", "kind: Web\n");
  f.repo.WriteFile(".hidden/fleet.yaml", "");
  f.repo.WriteFile(".hidden/x.yaml", "kind: X\n");
  auto tree = f.Tree();

  for (const std::string path : {".", "*"}) {
    INFO(path);
    const auto bundles = Unwrap(ScanCommit(*tree, GitRepo("one", {path})));
    REQUIRE(PathsOf(bundles) == std::vector<std::string>{"apps", "apps/.old/web"});
    CHECK(At(bundles, "apps").files == Files{{"a.yaml", "kind: A\n"}});
    CHECK(At(bundles, "apps/.old/web").name == common::BundleName("one", "apps/.old/web"));
    CHECK(At(bundles, "apps/.old/web").files == Files{{"cm.yaml", "kind: Web\n"}});
  }
}

// Scenario (Fleet resources.go: helm.valuesFiles of the root and of each
// target customization are read relative to the bundle directory and merged
// into helm.values in order, the last file winning; ignoreApplyConfigs keeps
// them out of the resources by their path and by their base name, so a
// root-level file of the same name is left out too).
TEST_CASE("Values files are merged into helm.values and left out of the resources",
          "[scanner][values]") {
  Fixture f;
  f.repo.WriteFile("chart/fleet.yaml",
                   "helm:\n"
                   "  values:\n"
                   "    replicas: 1\n"
                   "    image: {repo: r, tag: a}\n"
                   "  valuesFiles:\n"
                   "  - values/base.yaml\n"
                   "  - values/prod.yaml\n"
                   "  - ../shared/common.yaml\n"
                   "targetCustomizations:\n"
                   "- name: eu\n"
                   "  clusterSelector: {matchLabels: {region: eu}}\n"
                   "  helm:\n"
                   "    valuesFiles: [values/eu.yaml]\n");
  f.repo.WriteFile("chart/values/base.yaml", "image: {tag: b}\nlist: [1]\n");
  f.repo.WriteFile("chart/values/prod.yaml", "image: {tag: c}\nlist: [2]\n");
  f.repo.WriteFile("chart/values/eu.yaml", "region: eu\n");
  f.repo.WriteFile("chart/values/other.yaml", "other: true\n");
  f.repo.WriteFile("chart/prod.yaml", "same base name as a values file\n");
  f.repo.WriteFile("chart/sub/prod.yaml", "kept\n");
  f.repo.WriteFile("chart/templates/cm.yaml", "kind: ConfigMap\n");
  f.repo.WriteFile("shared/common.md", "not YAML, so the root is no bundle\n");
  f.repo.WriteFile("shared/common.yml", "unused\n");
  f.repo.WriteFile("shared/common.yaml", "common: true\n");
  f.repo.WriteFile("missing/fleet.yaml", "helm:\n  valuesFiles: [nope.yaml]\n");
  f.repo.WriteFile("list/fleet.yaml", "helm:\n  valuesFiles: [values.yaml]\n");
  f.repo.WriteFile("list/values.yaml", "- a\n");
  f.repo.WriteFile("notalist/fleet.yaml", "helm:\n  valuesFiles: values.yaml\n");

  const auto bundles = f.Scan(GitRepo("one", {"chart", "missing", "list", "notalist"}));

  const ScannedBundle& chart = At(bundles, "chart");
  CHECK(chart.error.empty());
  CHECK(chart.spec.options["helm"]["values"] ==
        common::Json::parse(
            R"({"common": true, "image": {"repo": "r", "tag": "c"}, "list": [2], "replicas": 1})"));
  REQUIRE(chart.spec.target_customizations.size() == 1);
  CHECK(chart.spec.target_customizations[0].options["helm"]["values"] ==
        common::Json{{"region", "eu"}});
  CHECK(chart.files == Files{{"sub/prod.yaml", "kept\n"},
                             {"templates/cm.yaml", "kind: ConfigMap\n"},
                             {"values/other.yaml", "other: true\n"}});

  CHECK(At(bundles, "missing").error ==
        "missing/fleet.yaml: helm.valuesFiles[0]: missing/nope.yaml: no such file");
  CHECK(At(bundles, "list").error == "list/values.yaml: values file must be a mapping");
  CHECK(At(bundles, "notalist").error ==
        "notalist/fleet.yaml: helm.valuesFiles: must be a list of strings");
}

// Scenario (Fleet loaddirectory.go GetContent: filepath.EvalSymlinks, then
// the resolved path must stay inside the bundle directory; a link to a
// directory fails when read; read.go opens fleet.yaml with os.Open, which
// follows links): chains, links through linked directories and links that
// pass outside and come back are followed; each bad link is an error on its
// own bundle naming the link.
TEST_CASE("Symlinks resolve like EvalSymlinks and must end inside the bundle",
          "[scanner][symlink]") {
  Fixture f;
  f.repo.WriteFile("app/fleet.yaml", "");
  f.repo.WriteFile("app/real.yaml", "kind: Real\n");
  f.repo.WriteFile("app/.hidden.yaml", "kind: Hidden\n");
  f.repo.WriteFile("app/sub/real2.yaml", "kind: Real2\n");
  f.Symlink("b.yaml", "app/a.yaml");  // a chain: a -> b -> sub/real2
  f.Symlink("sub/real2.yaml", "app/b.yaml");
  f.Symlink("../app/real.yaml", "app/round.yaml");   // out of the bundle and back
  f.Symlink(".hidden.yaml", "app/shown.yaml");       // to a hidden file of the bundle
  f.Symlink("sub", "app/.dirlink");                  // hidden itself, so not a resource
  f.Symlink(".dirlink/real2.yaml", "app/via.yaml");  // through a linked directory
  f.repo.WriteFile("shared/options.txt", "defaultNamespace: shared\n");
  f.repo.WriteFile("cfg/cm.yaml", "kind: Cfg\n");
  f.Symlink("../shared/options.txt", "cfg/fleet.yaml");
  f.repo.WriteFile("dir/fleet.yaml", "");
  f.repo.WriteFile("dir/sub/x.yaml", "kind: X\n");
  f.Symlink("sub", "dir/d");
  f.repo.WriteFile("dangling/fleet.yaml", "");
  f.Symlink("missing.yaml", "dangling/x.yaml");
  f.repo.WriteFile("absolute/fleet.yaml", "");
  f.Symlink("/etc/passwd", "absolute/x.yaml");
  f.repo.WriteFile("escape/fleet.yaml", "");
  f.Symlink("../../../../etc/passwd", "escape/x.yaml");
  f.repo.WriteFile("loop/fleet.yaml", "");
  f.Symlink("b.yaml", "loop/a.yaml");
  f.Symlink("a.yaml", "loop/b.yaml");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) ==
          std::vector<std::string>{"absolute", "app", "cfg", "dangling", "dir", "escape", "loop"});
  CHECK(At(bundles, "app").error.empty());
  CHECK(At(bundles, "app").files == Files{{"a.yaml", "kind: Real2\n"},
                                          {"b.yaml", "kind: Real2\n"},
                                          {"real.yaml", "kind: Real\n"},
                                          {"round.yaml", "kind: Real\n"},
                                          {"shown.yaml", "kind: Hidden\n"},
                                          {"sub/real2.yaml", "kind: Real2\n"},
                                          {"via.yaml", "kind: Real2\n"}});
  CHECK(At(bundles, "cfg").error.empty());
  CHECK(At(bundles, "cfg").spec.options == common::Json{{"defaultNamespace", "shared"}});
  CHECK(At(bundles, "cfg").files == Files{{"cm.yaml", "kind: Cfg\n"}});
  CHECK(At(bundles, "dir").error == "dir/d: symlink to \"sub\" points to a directory");
  CHECK(At(bundles, "dangling").error ==
        "dangling/x.yaml: symlink to \"missing.yaml\" points outside the bundle or to no file");
  CHECK(At(bundles, "absolute").error ==
        "absolute/x.yaml: symlink to \"/etc/passwd\" points outside the bundle or to no file");
  CHECK(At(bundles, "escape").error ==
        "escape/x.yaml: symlink to \"../../../../etc/passwd\" points outside the bundle or to no "
        "file");
  CHECK(At(bundles, "loop").error ==
        "loop/a.yaml: symlink to \"b.yaml\": too many levels of symbolic links");
  for (const std::string path : {"dir", "dangling", "absolute", "escape", "loop"}) {
    INFO(path);
    CHECK(At(bundles, path).files.empty());
  }
}

// Scenario (SECURITY.md §4; Fleet's gitcloner would clone submodules into
// the bundle): a submodule (gitlink) among a bundle's files is an error on
// that bundle naming it; one that is hidden or .fleetignored is not read and
// not an error; other bundles are unaffected.
TEST_CASE("A submodule in a bundle is an error naming it", "[scanner][security]") {
  Fixture f;
  f.repo.WriteFile("mod/fleet.yaml", "");
  f.repo.WriteFile("mod/cm.yaml", "kind: A\n");
  f.repo.WriteFile("quiet/fleet.yaml", "");
  f.repo.WriteFile("quiet/.fleetignore", "vendored\n");
  f.repo.WriteFile("quiet/cm.yaml", "kind: B\n");
  const std::string first = f.repo.Commit("first");
  for (const std::string path : {"mod/lib", "quiet/.git-modules/lib", "quiet/vendored"}) {
    Sh("git -C " + f.repo.dir() + " update-index --add --cacheinfo 160000," + first + "," + path);
    std::filesystem::create_directories(f.repo.dir() + "/" + path);
  }

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"mod", "quiet"});
  CHECK(At(bundles, "mod").error == "mod/lib: submodules are not supported in bundles");
  CHECK(At(bundles, "mod").files.empty());
  CHECK(At(bundles, "quiet").error.empty());
  CHECK(At(bundles, "quiet").files == Files{{"cm.yaml", "kind: B\n"}});
}

// Scenario (SECURITY.md §5; Go's YAML decoder rejects invalid UTF-8, and a
// proto string must be UTF-8): a file or directory name that is not UTF-8,
// or a *.yaml/*.yml/*.json file or fleet.yaml whose content is not, is an
// error on its bundle naming the file (escaped) and, for content,
// line:column. Binary content in other files is kept (Fleet stores such
// files base64+gz). A BOM and CRLF line ends in fleet.yaml are fine.
TEST_CASE("Invalid UTF-8 in names or YAML content is a clear error on that bundle",
          "[scanner][security]") {
  Fixture f;
  f.repo.WriteFile("name/fleet.yaml", "");
  f.repo.WriteFile("name/bad\xff.yaml", "kind: A\n");
  f.repo.WriteFile("content/fleet.yaml", "");
  f.repo.WriteFile("content/cm.yaml", "kind: ConfigMap\ndata:\n  x: \"\xc3\x28\"\n");
  f.repo.WriteFile("spec/fleet.yaml", "labels:\n  a: \"\xe2\x82\"\n");
  f.repo.WriteFile("dir\xfe/fleet.yaml", "");
  f.repo.WriteFile("binary/fleet.yaml",
                   "\xef\xbb\xbf"
                   "defaultNamespace: bom\r\nlabels:\r\n  a: b\r\n");
  f.repo.WriteFile("binary/logo.png", std::string("\x89PNG\r\n\x1a\n\xff\x00", 10));
  f.repo.WriteFile("binary/.hidden\xff", "never read\n");

  const auto bundles = f.Scan(GitRepo("one"));

  REQUIRE(PathsOf(bundles) ==
          std::vector<std::string>{"binary", "content", "dir\\xfe", "name", "spec"});
  CHECK(At(bundles, "name").error == "name/bad\\xff.yaml: file name is not valid UTF-8");
  CHECK(At(bundles, "content").error == "content/cm.yaml:3:7: invalid UTF-8 (byte 0xc3)");
  CHECK(At(bundles, "spec").error == "spec/fleet.yaml:2:7: invalid UTF-8 (byte 0xe2)");
  CHECK(At(bundles, "dir\\xfe").error == "dir\\xfe: directory name is not valid UTF-8");
  CHECK(At(bundles, "dir\\xfe").name == common::BundleName("one", "dir\xfe"));
  const ScannedBundle& binary = At(bundles, "binary");
  CHECK(binary.error.empty());
  CHECK(binary.spec.options == common::Json{{"defaultNamespace", "bom"}});
  CHECK(binary.spec.labels == common::Labels{{"a", "b"}});
  CHECK(binary.files == Files{{"logo.png", std::string("\x89PNG\r\n\x1a\n\xff\x00", 10)}});
}

// Scenario (SECURITY.md §5, common/yaml.h limits): a fleet.yaml alias bomb
// (a billion nodes once expanded) and 10,000-deep nesting, in fleet.yaml and
// in a values file, are errors on their bundles within bounded time; the
// scan neither crashes nor runs away, and the good bundle is unaffected.
TEST_CASE("YAML alias bombs and 10,000-deep nesting are bounded errors", "[scanner][security]") {
  Fixture f;
  std::string bomb =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    const char prev = static_cast<char>(c - 1);
    absl::StrAppend(&bomb, std::string(1, c), ": &", std::string(1, c), " [");
    for (int i = 0; i < 9; ++i) absl::StrAppend(&bomb, i ? "," : "", "*", std::string(1, prev));
    absl::StrAppend(&bomb, "]\n");
  }
  const std::string deep = "labels: " + std::string(10'000, '[') + std::string(10'000, ']') + "\n";
  f.repo.WriteFile("bomb/fleet.yaml", bomb);
  f.repo.WriteFile("bomb/cm.yaml", "kind: A\n");
  f.repo.WriteFile("deep/fleet.yaml", deep);
  f.repo.WriteFile("deepvalues/fleet.yaml", "helm:\n  valuesFiles: [values.yaml]\n");
  f.repo.WriteFile("deepvalues/values.yaml",
                   "x: " + std::string(10'000, '[') + std::string(10'000, ']') + "\n");
  f.repo.WriteFile("good/fleet.yaml", "defaultNamespace: good\n");
  f.repo.WriteFile("good/cm.yaml", "kind: B\n");
  auto tree = f.Tree();

  const auto start = std::chrono::steady_clock::now();
  const auto bundles = Unwrap(ScanCommit(*tree, GitRepo("one")));
  const auto elapsed = std::chrono::steady_clock::now() - start;

  CHECK(elapsed < std::chrono::seconds(20));
  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"bomb", "deep", "deepvalues", "good"});
  CHECK_THAT(At(bundles, "bomb").error,
             Catch::Matches(R"(bomb/fleet\.yaml:[0-9]+:[0-9]+: document expands to more than )"
                            R"([0-9]+ nodes \(alias bomb\?\))"));
  CHECK_THAT(
      At(bundles, "deep").error,
      Catch::Matches(R"(deep/fleet\.yaml:[0-9]+:[0-9]+: nesting deeper than [0-9]+ levels)"));
  CHECK_THAT(At(bundles, "deepvalues").error,
             Catch::Matches(
                 R"(deepvalues/values\.yaml:[0-9]+:[0-9]+: nesting deeper than [0-9]+ levels)"));
  CHECK(At(bundles, "good").error.empty());
  CHECK(At(bundles, "good").files == Files{{"cm.yaml", "kind: B\n"}});
}

// Scenario (SECURITY.md §4): GitRepository refuses to list a tree holding an
// entry named ".." (made here with git mktree). Through the current
// CommitTree interface the scanner cannot tell which bundle holds it, so a
// scan that lists that part of the tree fails naming the path, while a scan
// of other paths is unaffected.
TEST_CASE("A '..' tree entry fails a scan that lists it and no other", "[scanner][security]") {
  Fixture f;
  f.repo.WriteFile("ok/fleet.yaml", "");
  f.repo.WriteFile("ok/cm.yaml", "kind: A\n");
  f.repo.Commit("ok");
  const std::string dir = f.repo.dir();
  const std::string blob = Sh("git -C " + dir + " rev-parse HEAD:ok/cm.yaml");
  const std::string ok_tree = Sh("git -C " + dir + " rev-parse HEAD:ok");
  const std::string inner =
      Sh("printf '100644 blob " + blob + "\\t..\\n' | git -C " + dir + " mktree");
  const std::string outer = Sh("printf '040000 tree " + inner + "\\tapps\\n040000 tree " + ok_tree +
                               "\\tok\\n' | git -C " + dir + " mktree");
  const std::string head = Sh("git -C " + dir + " commit-tree " + outer + " -p HEAD -m dotdot");
  Sh("git -C " + dir + " update-ref refs/heads/main " + head);
  auto tree = f.TreeAt(head);

  const auto whole = ScanCommit(*tree, GitRepo("one"));
  CHECK(whole.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(whole.status().message()) ==
        "unsafe path \"apps/..\" in commit " + head.substr(0, 12));

  const auto bundles = Unwrap(ScanCommit(*tree, GitRepo("one", {"ok"})));
  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"ok"});
  CHECK(bundles[0].files == Files{{"cm.yaml", "kind: A\n"}});
}

// Scenario (SECURITY.md §4, defence in depth): a CommitTree that does hand
// out unsafe paths (absolute, "..", a backslash) gets each reported on the
// bundle holding it, naming the path; the other bundles scan normally.
TEST_CASE("Unsafe entry paths are errors on the bundle holding them", "[scanner][security]") {
  FakeCommitTree tree;
  tree.Add("fleet.yaml", "");
  tree.Add("/etc/passwd", "root:x:0:0\n");
  tree.Add("good/fleet.yaml", "");
  tree.Add("good/cm.yaml", "kind: A\n");
  tree.Add("bad/fleet.yaml", "");
  tree.Add("bad/../../etc/shadow", "secret\n");
  tree.Add("win/fleet.yaml", "");
  tree.Add("win/a\\b.yaml", "kind: B\n");

  const auto bundles = Unwrap(ScanCommit(tree, GitRepo("one")));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{".", "bad", "good", "win"});
  const std::string unsafe =
      ": unsafe path (absolute, empty, \".\" or \"..\" component, backslash or NUL) in the "
      "commit tree";
  CHECK(At(bundles, ".").error == "/etc/passwd" + unsafe);
  CHECK(At(bundles, "bad").error == "bad/../../etc/shadow" + unsafe);
  CHECK(At(bundles, "win").error == "win/a\\b.yaml" + unsafe);
  CHECK(At(bundles, "good").error.empty());
  CHECK(At(bundles, "good").files == Files{{"cm.yaml", "kind: A\n"}});
}

// Scenario (SECURITY.md §4: blob sizes are checked from the object header
// before reading): a bundle whose files add up past max_bundle_bytes, or
// that holds a blob claiming 10 GiB, is an error without any of its resource
// blobs being read; only the fleet.yaml files were read.
TEST_CASE("Size limits are enforced from object headers before any content is read",
          "[scanner][security]") {
  FakeCommitTree tree;
  tree.Add("big/fleet.yaml", "");
  tree.Add("big/a.yaml", std::string(200, 'a'));
  tree.Add("big/b.yaml", std::string(200, 'b'));
  tree.Add("huge/fleet.yaml", "");
  tree.AddSized("huge/disk.img", "", uint64_t{10} << 30);
  ScanLimits limits;
  limits.max_bundle_bytes = 300;

  const auto bundles = Unwrap(ScanCommit(tree, GitRepo("one"), limits));

  REQUIRE(PathsOf(bundles) == std::vector<std::string>{"big", "huge"});
  CHECK(At(bundles, "big").error ==
        "bundle big is larger than the limit of 300 bytes (at big/b.yaml)");
  CHECK(At(bundles, "huge").error ==
        "huge/disk.img: blob of 10737418240 bytes exceeds the limit of 4194304 bytes");
  CHECK(tree.reads() == std::vector<std::string>{"big/fleet.yaml", "huge/fleet.yaml"});
}

}  // namespace
}  // namespace flotilla::manager
