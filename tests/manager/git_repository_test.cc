#include "manager/source/git_repository.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/hash.h"
#include "tests/support/git_fixtures.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using flotilla::testing::GitDaemon;
using flotilla::testing::RunCommand;
using flotilla::testing::TempDir;
using flotilla::testing::TestGitRepo;

constexpr absl::Duration kTimeout = absl::Seconds(30);

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

// Runs a shell command that must succeed; returns its output without the
// trailing newline.
std::string Sh(const std::string& command) {
  const flotilla::testing::CommandResult result = RunCommand(command);
  INFO(command << "\n" << result.output);
  REQUIRE(result.exit_code == 0);
  return std::string(absl::StripTrailingAsciiWhitespace(result.output));
}

// A source repository under <tmp>/served/repo (so git daemon can serve
// <tmp>/served) and a cache directory for GitRepository.
struct Fixture {
  TempDir tmp;
  TestGitRepo repo{tmp.Sub("served/repo")};
  std::string cache = tmp.Sub("cache");

  std::unique_ptr<GitRepository> Open(const std::string& url) const {
    return Unwrap(GitRepository::Open(cache, url));
  }
};

std::vector<std::string> Paths(const std::vector<TreeEntry>& entries) {
  std::vector<std::string> paths;
  paths.reserve(entries.size());
  for (const TreeEntry& e : entries) paths.push_back(e.path);
  return paths;
}

const TreeEntry& Find(const std::vector<TreeEntry>& entries, const std::string& path) {
  for (const TreeEntry& e : entries) {
    if (e.path == path) return e;
  }
  FAIL("no entry " << path);
  throw std::logic_error("unreachable");
}

// Scenario: a repository on the local file system is fetched by path and by
// file:// URL; the branch resolves to the commit git itself reports.
TEST_CASE("Fetching a branch from a local path resolves the commit git rev-parse reports",
          "[git]") {
  Fixture f;
  f.repo.WriteFile("README.md", "hello\n");
  const std::string head = f.repo.Commit("first");

  auto by_path = f.Open(f.repo.dir());
  CHECK(Unwrap(by_path->Fetch("main", /*is_revision=*/false, kTimeout)) == head);
  CHECK(Sh("git -C " + f.repo.dir() + " rev-parse main") == head);

  auto by_file_url = f.Open("file://" + f.repo.dir());
  CHECK(Unwrap(by_file_url->Fetch("main", false, kTimeout)) == head);
  CHECK(by_file_url->cache_path() != by_path->cache_path());
}

// Scenario: the cache of a URL lives at <root>/<16 hex of sha256(url)>.git and
// is reopened (not recreated) by a second Open, keeping fetched commits.
TEST_CASE("The cache directory is named after the URL hash and survives reopening", "[git]") {
  Fixture f;
  f.repo.WriteFile("a.txt", "a");
  const std::string head = f.repo.Commit("first");
  const std::string url = f.repo.dir();

  auto first = f.Open(url);
  CHECK(first->url() == url);
  CHECK(first->cache_path() == f.cache + "/" + common::Sha256Hex(url).substr(0, 16) + ".git");
  CHECK(std::filesystem::exists(first->cache_path() + "/HEAD"));
  Unwrap(first->Fetch("main", false, kTimeout));
  first.reset();

  auto second = f.Open(url);
  auto tree = Unwrap(second->Tree(head));
  CHECK(tree->commit() == head);
}

// Scenario: the same repository served by git daemon over git:// resolves to
// the same commit as a local fetch.
TEST_CASE("Fetching a branch over git:// from git daemon resolves the same commit", "[git]") {
  Fixture f;
  f.repo.WriteFile("deploy/app.yaml", "kind: ConfigMap\n");
  const std::string head = f.repo.Commit("first");
  GitDaemon daemon(f.tmp.Sub("served"));

  auto repo = f.Open(daemon.Url("repo"));
  CHECK(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
  auto tree = Unwrap(repo->Tree(head));
  const auto entries = Unwrap(tree->List(""));
  REQUIRE(Paths(entries) == std::vector<std::string>{"deploy/app.yaml"});
  CHECK(Unwrap(tree->Read(entries[0], 1024)) == "kind: ConfigMap\n");
}

// Scenario: a new commit is pushed after the first fetch; fetching again sees
// it, and the tree of the first commit stays readable, even after the
// GitRepository is gone.
TEST_CASE("A second commit is seen after fetching again and older trees stay readable", "[git]") {
  Fixture f;
  GitDaemon daemon(f.tmp.Sub("served"));
  f.repo.WriteFile("a.txt", "one");
  const std::string first = f.repo.Commit("first");

  for (const std::string& url : {f.repo.dir(), daemon.Url("repo")}) {
    SECTION("from " + url.substr(0, 6)) {
      auto repo = f.Open(url);
      REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == first);
      auto old_tree = Unwrap(repo->Tree(first));

      f.repo.WriteFile("a.txt", "two");
      f.repo.WriteFile("b.txt", "bee");
      const std::string second = f.repo.Commit("second");
      REQUIRE(second != first);
      CHECK(Unwrap(repo->Fetch("main", false, kTimeout)) == second);

      auto new_tree = Unwrap(repo->Tree(second));
      repo.reset();
      CHECK(Paths(Unwrap(new_tree->List("."))) == std::vector<std::string>{"a.txt", "b.txt"});
      const auto old_entries = Unwrap(old_tree->List("."));
      REQUIRE(Paths(old_entries) == std::vector<std::string>{"a.txt"});
      CHECK(Unwrap(old_tree->Read(old_entries[0], 100)) == "one");
    }
  }
}

// Scenario: a tree with nested directories and an executable; List of the
// root and of a subdirectory (however spelled) gives repository-relative
// paths, sorted, with sizes from the object headers.
TEST_CASE("Listing returns repository-relative sorted paths with blob sizes", "[git]") {
  Fixture f;
  f.repo.WriteFile("README.md", "hello\n");
  f.repo.WriteFile("apps/web/deploy.yaml", "replicas: 3\n");
  f.repo.WriteFile("apps/web/values/prod.yaml", "x: 1\n");
  f.repo.WriteFile("apps/api.yaml", "api");
  f.repo.WriteFile("apps-extra.txt", "");
  f.repo.WriteFile("run.sh", "#!/bin/sh\n");
  std::filesystem::permissions(f.repo.dir() + "/run.sh", std::filesystem::perms::owner_exec,
                               std::filesystem::perm_options::add);
  const std::string head = f.repo.Commit("tree");

  auto repo = f.Open(f.repo.dir());
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
  auto tree = Unwrap(repo->Tree(head));

  const auto all = Unwrap(tree->List(""));
  CHECK(Paths(all) == std::vector<std::string>{"README.md", "apps-extra.txt", "apps/api.yaml",
                                               "apps/web/deploy.yaml", "apps/web/values/prod.yaml",
                                               "run.sh"});
  CHECK(Find(all, "README.md").size == 6);
  CHECK(Find(all, "apps-extra.txt").size == 0);
  CHECK(Find(all, "apps/web/deploy.yaml").size == 12);
  CHECK(Find(all, "README.md").kind == TreeEntry::Kind::kFile);
  CHECK_FALSE(Find(all, "README.md").executable);
  CHECK(Find(all, "run.sh").executable);
  CHECK(Find(all, "README.md").blob_id ==
        Sh("git -C " + f.repo.dir() + " rev-parse HEAD:README.md"));

  for (const std::string dir : {"apps/web", "/apps/web/", "./apps/web", "apps/web//"}) {
    INFO(dir);
    CHECK(Paths(Unwrap(tree->List(dir))) ==
          std::vector<std::string>{"apps/web/deploy.yaml", "apps/web/values/prod.yaml"});
  }
}

// Scenario: Read returns a blob's bytes, and refuses (from the header, naming
// the path) a blob larger than the limit; a limit equal to the size passes.
TEST_CASE("Reading returns the content and refuses blobs over the size limit", "[git]") {
  Fixture f;
  f.repo.WriteFile("config/big.yaml", std::string(100, 'x'));
  const std::string head = f.repo.Commit("big");
  auto repo = f.Open(f.repo.dir());
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
  auto tree = Unwrap(repo->Tree(head));
  const auto entries = Unwrap(tree->List("config"));
  REQUIRE(entries.size() == 1);

  CHECK(Unwrap(tree->Read(entries[0], 100)) == std::string(100, 'x'));

  const absl::StatusOr<std::string> too_big = tree->Read(entries[0], 99);
  CHECK(too_big.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(too_big.status().message()) ==
        "config/big.yaml: blob of 100 bytes exceeds the limit of 99 bytes");
}

// Scenario: a symlink is listed as a symlink (even one pointing outside the
// repository: judging targets is the caller's job) and reads as its target.
TEST_CASE("A symlink is listed as a symlink and reads as its target", "[git]") {
  Fixture f;
  f.repo.WriteFile("real.yaml", "data");
  std::filesystem::create_symlink("real.yaml", f.repo.dir() + "/link.yaml");
  std::filesystem::create_symlink("../../etc/passwd", f.repo.dir() + "/escape");
  const std::string head = f.repo.Commit("links");
  auto repo = f.Open(f.repo.dir());
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
  auto tree = Unwrap(repo->Tree(head));
  const auto entries = Unwrap(tree->List(""));

  const TreeEntry& link = Find(entries, "link.yaml");
  CHECK(link.kind == TreeEntry::Kind::kSymlink);
  CHECK(link.size == 9);
  CHECK(Unwrap(tree->Read(link, 1024)) == "real.yaml");
  CHECK(Unwrap(tree->Read(Find(entries, "escape"), 1024)) == "../../etc/passwd");
  CHECK(Find(entries, "real.yaml").kind == TreeEntry::Kind::kFile);
}

// Scenario: a gitlink (submodule) entry is listed as a submodule with size 0
// and its commit id; reading it is refused.
TEST_CASE("A submodule is listed as a submodule and cannot be read", "[git]") {
  Fixture f;
  f.repo.WriteFile("a.txt", "a");
  const std::string first = f.repo.Commit("first");
  Sh("git -C " + f.repo.dir() + " update-index --add --cacheinfo 160000," + first + ",sub");
  std::filesystem::create_directories(f.repo.dir() + "/sub");
  const std::string head = f.repo.Commit("add submodule");
  REQUIRE(Sh("git -C " + f.repo.dir() + " ls-tree HEAD sub") == "160000 commit " + first + "\tsub");

  auto repo = f.Open(f.repo.dir());
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
  auto tree = Unwrap(repo->Tree(head));
  const auto entries = Unwrap(tree->List(""));
  REQUIRE(Paths(entries) == std::vector<std::string>{"a.txt", "sub"});
  const TreeEntry& sub = entries[1];
  CHECK(sub.kind == TreeEntry::Kind::kSubmodule);
  CHECK(sub.size == 0);
  CHECK(sub.blob_id == first);

  const absl::StatusOr<std::string> read = tree->Read(sub, 1024);
  CHECK(read.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(read.status().message()) == "sub is a submodule");
}

// Scenario: tree entries whose names are unsafe (a backslash, or "..") are
// refused when listing, naming the full path.
TEST_CASE("Listing refuses tree entries with unsafe names", "[git][security]") {
  Fixture f;
  SECTION("a backslash") {
    f.repo.WriteFile("apps/a\\b.yaml", "x");
    const std::string head = f.repo.Commit("backslash");
    auto repo = f.Open(f.repo.dir());
    REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
    auto tree = Unwrap(repo->Tree(head));
    const auto listed = tree->List("");
    CHECK(listed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(absl::StrContains(listed.status().message(), "unsafe path \"apps/a\\\\b.yaml\""));
  }
  SECTION("a \"..\" entry made with git mktree") {
    f.repo.WriteFile("ok.txt", "ok");
    f.repo.Commit("ok");
    const std::string dir = f.repo.dir();
    const std::string blob = Sh("git -C " + dir + " rev-parse HEAD:ok.txt");
    const std::string inner =
        Sh("printf '100644 blob " + blob + "\\t..\\n' | git -C " + dir + " mktree");
    const std::string outer =
        Sh("printf '040000 tree " + inner + "\\tapps\\n' | git -C " + dir + " mktree");
    const std::string head = Sh("git -C " + dir + " commit-tree " + outer + " -p HEAD -m dotdot");
    Sh("git -C " + dir + " update-ref refs/heads/main " + head);

    auto repo = f.Open(dir);
    REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
    auto tree = Unwrap(repo->Tree(head));
    const auto listed = tree->List("apps");
    CHECK(listed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(listed.status().message()) ==
          "unsafe path \"apps/..\" in commit " + head.substr(0, 12));
  }
}

// Scenario: a branch the remote does not have, including one that existed at
// an earlier fetch and was deleted since, is NotFound naming branch and URL.
TEST_CASE("Fetching a branch that does not exist returns NotFound", "[git]") {
  Fixture f;
  f.repo.WriteFile("a.txt", "a");
  f.repo.Commit("first");
  Sh("git -C " + f.repo.dir() + " branch feature");
  auto repo = f.Open(f.repo.dir());

  const absl::StatusOr<std::string> missing = repo->Fetch("nope", false, kTimeout);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) == "branch \"nope\" not found in " + f.repo.dir());

  REQUIRE(Unwrap(repo->Fetch("feature", false, kTimeout)) == f.repo.Head());
  Sh("git -C " + f.repo.dir() + " branch -D feature");
  const absl::StatusOr<std::string> deleted = repo->Fetch("feature", false, kTimeout);
  CHECK(deleted.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(deleted.status().message()) ==
        "branch \"feature\" not found in " + f.repo.dir());
}

// Scenario: branch names that would change the refspec are refused before
// anything is fetched.
TEST_CASE("Fetching a malformed branch name returns InvalidArgument", "[git]") {
  Fixture f;
  auto repo = f.Open(f.repo.dir());
  for (const std::string ref : {"", "a:b", "*", "a..b", "main\n"}) {
    INFO(ref);
    CHECK(repo->Fetch(ref, false, kTimeout).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

// Scenario: the URL points at no repository, as a local path and as a path
// the git daemon does not serve: Unavailable, with the URL in the message.
TEST_CASE("Fetching from a repository that does not exist returns Unavailable", "[git]") {
  Fixture f;
  f.repo.WriteFile("a.txt", "a");
  f.repo.Commit("first");

  SECTION("a local path") {
    const std::string url = f.tmp.Sub("no/such/repo");
    auto repo = f.Open(url);
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout);
    CHECK(result.status().code() == absl::StatusCode::kUnavailable);
    CHECK(
        absl::StartsWith(result.status().message(), "fetching branch \"main\" from " + url + ": "));
    // libgit2 only picks its local transport for a path that exists.
    CHECK(absl::EndsWith(result.status().message(), ": unsupported URL protocol"));
  }
  SECTION("a git:// path the daemon does not serve") {
    GitDaemon daemon(f.tmp.Sub("served"));
    const std::string url = daemon.Url("missing");
    auto repo = f.Open(url);
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout);
    CHECK(result.status().code() == absl::StatusCode::kUnavailable);
    CHECK(
        absl::StartsWith(result.status().message(), "fetching branch \"main\" from " + url + ": "));
    CHECK(
        absl::EndsWith(result.status().message(), ": remote error: no such repository: /missing"));
  }
  SECTION("a git:// port nobody listens on") {
    const std::string url =
        "git://127.0.0.1:" + std::to_string(flotilla::testing::FreePort()) + "/repo";
    auto repo = f.Open(url);
    const absl::StatusOr<std::string> result = repo->Fetch("main", false, kTimeout);
    CHECK(result.status().code() == absl::StatusCode::kUnavailable);
    CHECK(absl::StrContains(result.status().message(), "Connection refused"));
  }
}

// Scenario: a revision pinned to the full id of an older commit resolves to
// that commit, also from a fresh cache over git://; a full id nobody has is
// NotFound.
TEST_CASE("A pinned full commit id resolves to that older commit", "[git]") {
  Fixture f;
  f.repo.WriteFile("a.txt", "one");
  const std::string old_commit = f.repo.Commit("first");
  f.repo.WriteFile("a.txt", "two");
  const std::string head = f.repo.Commit("second");
  GitDaemon daemon(f.tmp.Sub("served"));

  for (const std::string& url : {f.repo.dir(), daemon.Url("repo")}) {
    INFO(url);
    auto repo = f.Open(url);
    CHECK(Unwrap(repo->Fetch(old_commit, /*is_revision=*/true, kTimeout)) == old_commit);
    auto tree = Unwrap(repo->Tree(old_commit));
    const auto entries = Unwrap(tree->List(""));
    REQUIRE(entries.size() == 1);
    CHECK(Unwrap(tree->Read(entries[0], 10)) == "one");
    CHECK(Unwrap(repo->Fetch(head, true, kTimeout)) == head);

    const std::string unknown(40, 'a');
    const absl::StatusOr<std::string> missing = repo->Fetch(unknown, true, kTimeout);
    CHECK(missing.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(missing.status().message()) ==
          "revision \"" + unknown + "\" not found in " + url);
  }
}

// Scenario: a revision that is a tag (annotated or lightweight) resolves to the
// tagged commit, preferred over a branch of the same name; a branch name works
// as a revision too.
TEST_CASE("A tag given as the revision resolves to the tagged commit", "[git]") {
  Fixture f;
  f.repo.WriteFile("a.txt", "one");
  const std::string tagged = f.repo.Commit("first");
  const std::string dir = f.repo.dir();
  Sh("git -C " + dir + " tag -a v1.0.0 -m release");
  Sh("git -C " + dir + " tag light");
  Sh("git -C " + dir + " tag -a same -m same");
  f.repo.WriteFile("a.txt", "two");
  const std::string head = f.repo.Commit("second");
  Sh("git -C " + dir + " branch same");

  auto repo = f.Open(dir);
  CHECK(Unwrap(repo->Fetch("v1.0.0", true, kTimeout)) == tagged);
  CHECK(Unwrap(repo->Fetch("light", true, kTimeout)) == tagged);
  CHECK(Unwrap(repo->Fetch("same", true, kTimeout)) == tagged);
  CHECK(Unwrap(repo->Fetch("main", true, kTimeout)) == head);
  const absl::StatusOr<std::string> missing = repo->Fetch("v9", true, kTimeout);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(missing.status().message()) == "revision \"v9\" not found in " + dir);
}

// Scenario: listing a directory that does not exist, or a path that is a
// file, is NotFound naming the path and the commit.
TEST_CASE("Listing a directory that does not exist returns NotFound", "[git]") {
  Fixture f;
  f.repo.WriteFile("apps/a.yaml", "a");
  const std::string head = f.repo.Commit("first");
  auto repo = f.Open(f.repo.dir());
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
  auto tree = Unwrap(repo->Tree(head));

  for (const std::string dir : {"missing", "apps/missing", "apps/a.yaml"}) {
    INFO(dir);
    const auto listed = tree->List(dir);
    CHECK(listed.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(listed.status().message()) ==
          "path \"" + dir + "\" not found in commit " + head.substr(0, 12));
  }
}

// Scenario: Tree of a commit that was never fetched is NotFound; a malformed
// id is InvalidArgument.
TEST_CASE("Tree of an unknown commit returns NotFound", "[git]") {
  Fixture f;
  auto repo = f.Open(f.repo.dir());
  CHECK(repo->Tree(std::string(40, 'b')).status().code() == absl::StatusCode::kNotFound);
  CHECK(repo->Tree("abc").status().code() == absl::StatusCode::kInvalidArgument);
}

// Scenario: one CommitTree is listed and read from several threads while the
// GitRepository keeps fetching new commits; every reader sees the same,
// complete snapshot.
TEST_CASE("A commit tree can be read from several threads while fetches go on", "[git]") {
  Fixture f;
  for (int i = 0; i < 20; ++i) {
    f.repo.WriteFile("dir" + std::to_string(i % 4) + "/f" + std::to_string(i), std::to_string(i));
  }
  const std::string head = f.repo.Commit("many");
  auto repo = f.Open(f.repo.dir());
  REQUIRE(Unwrap(repo->Fetch("main", false, kTimeout)) == head);
  std::shared_ptr<const CommitTree> tree = Unwrap(repo->Tree(head));

  std::vector<int> good_rounds(4, 0);
  std::vector<std::thread> readers;
  readers.reserve(4);
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&tree, &good_rounds, t] {
      for (int round = 0; round < 20; ++round) {
        const auto entries = tree->List("");
        if (!entries.ok() || entries->size() != 20) return;
        std::string all;
        for (const TreeEntry& e : *entries) {
          const auto content = tree->Read(e, 100);
          if (!content.ok()) return;
          all += *content;
        }
        if (all.size() != 30) return;  // "0".."9" and "10".."19"
        ++good_rounds[t];
      }
    });
  }
  for (int i = 0; i < 5; ++i) {
    f.repo.WriteFile("more" + std::to_string(i), "x");
    const std::string next = f.repo.Commit("more");
    CHECK(Unwrap(repo->Fetch("main", false, kTimeout)) == next);
  }
  for (std::thread& reader : readers) reader.join();
  CHECK(good_rounds == std::vector<int>(4, 20));
}

// Scenario: the server accepts the TCP connection and then never says a word
// (a listener whose backlog nobody accepts from). The fetch gives up at its
// deadline with DeadlineExceeded instead of hanging.
TEST_CASE("A fetch from a server that never answers fails with DeadlineExceeded", "[git]") {
  Fixture f;
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  REQUIRE(listen(listener, 16) == 0);
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string url = "git://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/repo";

  auto repo = f.Open(url);
  const absl::Time start = absl::Now();
  const absl::StatusOr<std::string> result = repo->Fetch("main", false, absl::Milliseconds(300));
  const absl::Duration took = absl::Now() - start;
  close(listener);

  CHECK(result.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(std::string(result.status().message()) == "fetch from " + url + " timed out after 300ms");
  CHECK(took >= absl::Milliseconds(300));
  CHECK(took < absl::Seconds(10));
}

}  // namespace
}  // namespace flotilla::manager
