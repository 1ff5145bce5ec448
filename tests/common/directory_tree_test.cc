#include "common/scan/directory_tree.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/scan/commit_tree.h"
#include "common/scan/scanner.h"
#include "tests/support/test_util.h"

namespace flotilla::common {
namespace {

using flotilla::testing::TempDir;
using Kind = TreeEntry::Kind;

template <typename T>
T Unwrap(absl::StatusOr<T> result) {
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *std::move(result);
}

// Writes `content` to `rel` below `root`, creating directories on the way.
void Write(const TempDir& root, const std::string& rel, const std::string& content,
           mode_t mode = 0644) {
  const std::filesystem::path path = root.Sub(rel);
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  REQUIRE(chmod(path.c_str(), mode) == 0);
}

// A symlink at `rel` below `root` whose target text is `target`.
void Symlink(const TempDir& root, const std::string& target, const std::string& rel) {
  const std::filesystem::path path = root.Sub(rel);
  std::filesystem::create_directories(path.parent_path());
  std::filesystem::create_symlink(target, path);
}

std::unique_ptr<DirectoryTree> OpenTree(const std::string& root) {
  return Unwrap(DirectoryTree::Open(root));
}

std::vector<std::string> PathsOf(const std::vector<TreeEntry>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const TreeEntry& e : entries) out.push_back(e.path);
  return out;
}

const TreeEntry& At(const std::vector<TreeEntry>& entries, const std::string& path) {
  for (const TreeEntry& e : entries) {
    if (e.path == path) return e;
  }
  FAIL("no entry " << path);
  throw std::logic_error("unreachable");
}

// A small checkout: files at several depths, names that sort differently by
// component and by whole path ("a-b.yaml" sorts before "a/..." since '-' <
// '/'), and an empty directory, which Git could not hold either.
void WriteSampleTree(const TempDir& root) {
  Write(root, "b.yaml", "b: 1\n");
  Write(root, "a-b.yaml", "ab: 1\n");
  Write(root, "a/z.yaml", "z: 1\n");
  Write(root, "a/b/c.txt", "c\n");
  Write(root, "a/b/d/e.json", "{}\n");
  std::filesystem::create_directories(root.Sub("empty/deeper"));
}

// The whole directory, every level, in one sorted listing; only files.
TEST_CASE("DirectoryTree lists every file below the root, recursively and sorted by path",
          "[directory_tree]") {
  TempDir tmp;
  WriteSampleTree(tmp);
  auto tree = OpenTree(tmp.path());
  CHECK(tree->commit() == "local");
  std::vector<TreeEntry> entries = Unwrap(tree->List(""));
  CHECK(PathsOf(entries) ==
        std::vector<std::string>{"a-b.yaml", "a/b/c.txt", "a/b/d/e.json", "a/z.yaml", "b.yaml"});
  for (const TreeEntry& e : entries) {
    INFO(e.path);
    CHECK(e.kind == Kind::kFile);
    CHECK(e.blob_id.empty());  // a directory has no object ids
  }
}

// "" and "." are the root; a subdirectory lists what is below it with
// root-relative paths; a trailing slash changes nothing.
TEST_CASE(
    "DirectoryTree List takes the root as \"\" or \".\" and a subdirectory with or without "
    "a trailing slash",
    "[directory_tree]") {
  TempDir tmp;
  WriteSampleTree(tmp);
  auto tree = OpenTree(tmp.path());
  const std::vector<std::string> all = PathsOf(Unwrap(tree->List("")));
  CHECK(PathsOf(Unwrap(tree->List("."))) == all);

  const std::vector<std::string> below_a = {"a/b/c.txt", "a/b/d/e.json", "a/z.yaml"};
  CHECK(PathsOf(Unwrap(tree->List("a"))) == below_a);
  CHECK(PathsOf(Unwrap(tree->List("a/"))) == below_a);
  CHECK(PathsOf(Unwrap(tree->List("a//"))) == below_a);
  CHECK(PathsOf(Unwrap(tree->List("a/b"))) ==
        std::vector<std::string>{"a/b/c.txt", "a/b/d/e.json"});
  CHECK(PathsOf(Unwrap(tree->List("a/b/d/"))) == std::vector<std::string>{"a/b/d/e.json"});
  // A directory with no files below it exists, and is empty.
  CHECK(Unwrap(tree->List("empty")).empty());
}

// What is not a directory of the tree is NotFound, in the words the scanner
// passes on ("bundles[0].base: ...").
TEST_CASE("DirectoryTree List of a missing directory or of a file is NotFound naming it",
          "[directory_tree]") {
  TempDir tmp;
  WriteSampleTree(tmp);
  auto tree = OpenTree(tmp.path());
  SECTION("a missing directory") {
    auto listed = tree->List("nope/deeper");
    CHECK(listed.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(listed.status().message()) ==
          absl::StrCat("\"nope/deeper\" is not a directory in ", tmp.path()));
  }
  SECTION("a file") {
    auto listed = tree->List("a/z.yaml");
    CHECK(listed.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(listed.status().message()) ==
          absl::StrCat("\"a/z.yaml\" is not a directory in ", tmp.path()));
  }
}

// The tree never lists anything outside its root, even when `..` would land
// back inside it.
TEST_CASE("DirectoryTree List refuses a dir with a \"..\" component", "[directory_tree]") {
  TempDir tmp;
  WriteSampleTree(tmp);
  // Below "a", ".." would be the temp directory itself: there, but not
  // inside the tree.
  auto tree = OpenTree(tmp.Sub("a"));
  for (const std::string dir : {"..", "../", "b/../..", "b/.."}) {
    INFO(dir);
    auto listed = tree->List(dir);
    CHECK(listed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(listed.status().message()) ==
          absl::StrCat("path \"", dir, "\" leaves the directory"));
  }
}

// A checkout's repository (a `.git` directory, or a `.git` file in a
// worktree or submodule, at any depth) is never content; names that merely
// start with ".git" are.
TEST_CASE("DirectoryTree skips .git directories and files at any depth", "[directory_tree]") {
  TempDir tmp;
  Write(tmp, ".git/HEAD", "ref: refs/heads/main\n");
  Write(tmp, ".git/objects/ab/cdef", "blob");
  Write(tmp, "sub/.git", "gitdir: ../.git/modules/sub\n");
  Write(tmp, "sub/app.yaml", "a: 1\n");
  Write(tmp, ".gitignore", "*.tmp\n");
  Write(tmp, ".github/workflows/ci.yaml", "on: push\n");
  auto tree = OpenTree(tmp.path());
  CHECK(PathsOf(Unwrap(tree->List(""))) ==
        std::vector<std::string>{".github/workflows/ci.yaml", ".gitignore", "sub/app.yaml"});
  CHECK(PathsOf(Unwrap(tree->List("sub"))) == std::vector<std::string>{"sub/app.yaml"});
}

// Symlinks are entries of their own, as in a Git tree: a link to a file, to
// a directory or to nothing, with the link's own size (its target's
// length). A link to a directory is never walked into, neither while
// listing its parent nor when named as the directory to list.
TEST_CASE("DirectoryTree lists symlinks as symlinks and never descends into them",
          "[directory_tree]") {
  TempDir tmp;
  WriteSampleTree(tmp);
  Symlink(tmp, "a/z.yaml", "to-file.yaml");
  Symlink(tmp, "a", "to-dir");
  Symlink(tmp, "b", "a/to-sibling-dir");
  Symlink(tmp, "missing.yaml", "dangling.yaml");
  Symlink(tmp, "/etc", "to-etc");
  auto tree = OpenTree(tmp.path());
  std::vector<TreeEntry> entries = Unwrap(tree->List(""));
  CHECK(PathsOf(entries) == std::vector<std::string>{"a-b.yaml", "a/b/c.txt", "a/b/d/e.json",
                                                     "a/to-sibling-dir", "a/z.yaml", "b.yaml",
                                                     "dangling.yaml", "to-dir", "to-etc",
                                                     "to-file.yaml"});
  const std::map<std::string, std::string> links = {{"to-file.yaml", "a/z.yaml"},
                                                    {"to-dir", "a"},
                                                    {"a/to-sibling-dir", "b"},
                                                    {"dangling.yaml", "missing.yaml"},
                                                    {"to-etc", "/etc"}};
  for (const auto& [path, target] : links) {
    INFO(path);
    const TreeEntry& e = At(entries, path);
    CHECK(e.kind == Kind::kSymlink);
    CHECK(e.size == target.size());  // lstat: the link, not what it points to
    CHECK_FALSE(e.executable);
  }
  // Named as the directory to list, a link to a directory is not one.
  auto through_link = tree->List("to-dir");
  CHECK(through_link.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(through_link.status().message()) ==
        absl::StrCat("\"to-dir\" is not a directory in ", tmp.path()));
  CHECK(tree->List("to-etc").status().code() == absl::StatusCode::kNotFound);
}

// Sizes come from lstat, as a Git tree's from the object header; the
// executable bit is the owner's, as Git records 100755.
TEST_CASE("DirectoryTree reports file sizes and the executable bit", "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "five.txt", "12345");
  Write(tmp, "empty.txt", "");
  Write(tmp, "bin/run.sh", "#!/bin/sh\necho hi\n", 0755);
  Write(tmp, "bin/owner-only.sh", "#!/bin/sh\n", 0744);
  Write(tmp, "bin/group-only.sh", "#!/bin/sh\n", 0654);
  Write(tmp, "bin/read-only.txt", "r", 0444);
  std::vector<TreeEntry> entries = Unwrap(OpenTree(tmp.path())->List(""));
  CHECK(At(entries, "five.txt").size == 5);
  CHECK(At(entries, "empty.txt").size == 0);
  CHECK(At(entries, "bin/run.sh").size == 18);
  CHECK_FALSE(At(entries, "five.txt").executable);
  CHECK_FALSE(At(entries, "empty.txt").executable);
  CHECK(At(entries, "bin/run.sh").executable);
  CHECK(At(entries, "bin/owner-only.sh").executable);
  CHECK_FALSE(At(entries, "bin/group-only.sh").executable);
  CHECK_FALSE(At(entries, "bin/read-only.txt").executable);
}

// Nothing Git could hold (a FIFO here) is listed; it would block a reader.
TEST_CASE("DirectoryTree leaves out FIFOs and other special files", "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "app.yaml", "a: 1\n");
  REQUIRE(mkfifo(tmp.Sub("pipe.yaml").c_str(), 0644) == 0);
  CHECK(PathsOf(Unwrap(OpenTree(tmp.path())->List(""))) == std::vector<std::string>{"app.yaml"});
}

// A name a Git tree could not carry safely fails the listing, naming it.
TEST_CASE("DirectoryTree List refuses a file name with a backslash, naming its path",
          "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "sub/a\\b.yaml", "a: 1\n");
  auto listed = OpenTree(tmp.path())->List("");
  CHECK(listed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(listed.status().message()) == "unsafe file name \"sub/a\\b.yaml\"");
}

// Read gives a file's bytes (binary included) and a symlink's target text,
// whatever the target is.
TEST_CASE("DirectoryTree Read returns file content and symlink targets", "[directory_tree]") {
  TempDir tmp;
  const std::string binary("\x00\x01\xff\n", 4);
  Write(tmp, "a/z.yaml", "z: 1\n");
  Write(tmp, "blob.bin", binary);
  Symlink(tmp, "a/z.yaml", "to-file.yaml");
  Symlink(tmp, "a", "to-dir");
  Symlink(tmp, "../../nowhere", "a/dangling");
  auto tree = OpenTree(tmp.path());
  std::vector<TreeEntry> entries = Unwrap(tree->List(""));
  CHECK(Unwrap(tree->Read(At(entries, "a/z.yaml"), 1024)) == "z: 1\n");
  CHECK(Unwrap(tree->Read(At(entries, "blob.bin"), 1024)) == binary);
  CHECK(Unwrap(tree->Read(At(entries, "to-file.yaml"), 1024)) == "a/z.yaml");
  CHECK(Unwrap(tree->Read(At(entries, "to-dir"), 1024)) == "a");
  CHECK(Unwrap(tree->Read(At(entries, "a/dangling"), 1024)) == "../../nowhere");
  // Exactly at the limit is allowed, for files and for link targets.
  CHECK(Unwrap(tree->Read(At(entries, "a/z.yaml"), 5)) == "z: 1\n");
  CHECK(Unwrap(tree->Read(At(entries, "to-file.yaml"), 8)) == "a/z.yaml");
}

// The limit is checked from lstat before anything is read: a sparse file of
// 64 GiB is refused at once (reading it first would exhaust memory).
TEST_CASE("DirectoryTree Read refuses an object over the limit before reading it, naming the path",
          "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "sub/five.txt", "12345");
  Symlink(tmp, "sub/five.txt", "link.txt");
  auto tree = OpenTree(tmp.path());
  std::vector<TreeEntry> entries = Unwrap(tree->List(""));

  auto file = tree->Read(At(entries, "sub/five.txt"), 4);
  CHECK(file.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(file.status().message()) == "sub/five.txt is 5 bytes, over the limit of 4");

  auto link = tree->Read(At(entries, "link.txt"), 11);
  CHECK(link.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(link.status().message()) == "link.txt is 12 bytes, over the limit of 11");

  const uint64_t huge = uint64_t{1} << 36;
  Write(tmp, "huge.bin", "");
  std::error_code ec;
  std::filesystem::resize_file(tmp.Sub("huge.bin"), huge, ec);
  if (ec) {
    WARN("cannot make a sparse file here (" << ec.message() << "): skipping that part");
    return;
  }
  TreeEntry big;
  big.path = "huge.bin";
  big.size = 0;  // stale: Read must look at the file as it is now
  auto read = tree->Read(big, 1 << 20);
  CHECK(read.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(read.status().message()) ==
        absl::StrCat("huge.bin is ", huge, " bytes, over the limit of ", 1 << 20));
}

// A file listed, then removed before it is read (a checkout changing under
// `flotilla render`): NotFound naming the path, not a crash or empty content.
TEST_CASE("DirectoryTree Read of a file that vanished after listing is NotFound naming it",
          "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "a/gone.yaml", "x: 1\n");
  Symlink(tmp, "gone.yaml", "a/gone-link");
  auto tree = OpenTree(tmp.path());
  std::vector<TreeEntry> entries = Unwrap(tree->List(""));
  const TreeEntry file = At(entries, "a/gone.yaml");
  const TreeEntry link = At(entries, "a/gone-link");
  std::filesystem::remove(tmp.Sub("a/gone.yaml"));
  std::filesystem::remove(tmp.Sub("a/gone-link"));

  auto read_file = tree->Read(file, 1024);
  CHECK(read_file.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(read_file.status().message()) == "a/gone.yaml: No such file or directory");
  auto read_link = tree->Read(link, 1024);
  CHECK(read_link.status().code() == absl::StatusCode::kNotFound);
  CHECK(std::string(read_link.status().message()) == "a/gone-link: No such file or directory");
}

// Open checks the root once, with errors that name it.
TEST_CASE("DirectoryTree Open of a missing path or a file fails naming the path",
          "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "file.yaml", "a: 1\n");
  SECTION("a missing path is NotFound") {
    auto opened = DirectoryTree::Open(tmp.Sub("missing/dir"));
    CHECK(opened.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(opened.status().message()) ==
          tmp.Sub("missing/dir") + ": No such file or directory");
  }
  SECTION("a file is FailedPrecondition") {
    auto opened = DirectoryTree::Open(tmp.Sub("file.yaml"));
    CHECK(opened.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(std::string(opened.status().message()) == tmp.Sub("file.yaml") + ": not a directory");
  }
  SECTION("a root with trailing slashes is the same directory") {
    auto tree = OpenTree(tmp.path() + "//");
    CHECK(PathsOf(Unwrap(tree->List(""))) == std::vector<std::string>{"file.yaml"});
    auto missing = tree->List("nope");
    CHECK(std::string(missing.status().message()) ==
          absl::StrCat("\"nope\" is not a directory in ", tmp.path()));
  }
}

// `flotilla render`'s scan: the real scanner over a DirectoryTree, with the
// directory as the one driven bundle ({base: "."}), as render_command.cc
// sets it up. The bundle gets its fleet.yaml, its resources (a symlink read
// as its target), and not: hidden files and directories, a nested bundle
// directory, what .fleetignore rules out, or the checkout's .git.
TEST_CASE("ScanCommit over a DirectoryTree reads the directory as one bundle", "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "fleet.yaml", "defaultNamespace: apps\nlabels:\n  team: web\n");
  Write(tmp, "cm.yaml", "kind: ConfigMap\n");
  Write(tmp, "deploy/web.yaml", "kind: Deployment\n");
  Write(tmp, "deploy/notes.md", "# notes\n");
  Write(tmp, "README.md", "# readme\n");
  Write(tmp, "scratch/tmp.yaml", "kind: Secret\n");
  Write(tmp, "keep/scratch.yaml", "kind: Service\n");
  Write(tmp, ".fleetignore", "*.md\nscratch/*\n");
  Write(tmp, ".hidden.yaml", "kind: Hidden\n");
  Write(tmp, ".config/x.yaml", "kind: HiddenDir\n");
  Write(tmp, "nested/fleet.yaml", "defaultNamespace: nested\n");
  Write(tmp, "nested/n.yaml", "kind: Nested\n");
  Write(tmp, ".git/HEAD", "ref: refs/heads/main\n");
  Symlink(tmp, "cm.yaml", "alias.yaml");

  GitRepoSpec gitrepo;
  gitrepo.name = "local-dir";
  gitrepo.bundles.push_back(BundlePath{".", ""});
  auto tree = OpenTree(tmp.path());
  std::vector<ScannedBundle> bundles = Unwrap(ScanCommit(*tree, gitrepo));
  REQUIRE(bundles.size() == 1);
  const ScannedBundle& b = bundles[0];
  INFO(b.error);
  CHECK(b.error.empty());
  CHECK(b.path == ".");
  CHECK(b.name == "local-dir");
  CHECK(b.spec_file == "fleet.yaml");
  CHECK(b.spec.options.value("defaultNamespace", "") == "apps");
  CHECK(b.spec.labels == Labels{{"team", "web"}});
  CHECK(b.files == std::map<std::string, std::string>{{"alias.yaml", "kind: ConfigMap\n"},
                                                      {"cm.yaml", "kind: ConfigMap\n"},
                                                      {"deploy/web.yaml", "kind: Deployment\n"},
                                                      {"keep/scratch.yaml", "kind: Service\n"}});
}

// A problem inside the bundle is the bundle's error, naming the file, line
// and column; the scan itself succeeds.
TEST_CASE("ScanCommit over a DirectoryTree reports a malformed fleet.yaml on the bundle",
          "[directory_tree]") {
  TempDir tmp;
  Write(tmp, "fleet.yaml", "defaultNamespace: apps\ntargetCustomizations: [1]\n");
  Write(tmp, "cm.yaml", "kind: ConfigMap\n");
  GitRepoSpec gitrepo;
  gitrepo.name = "local-dir";
  gitrepo.bundles.push_back(BundlePath{".", ""});
  std::vector<ScannedBundle> bundles = Unwrap(ScanCommit(*OpenTree(tmp.path()), gitrepo));
  REQUIRE(bundles.size() == 1);
  CHECK(bundles[0].error == "fleet.yaml:2:24: target: must be a mapping");
  CHECK(bundles[0].files.empty());
}

// A root given as a symlink is the directory it names; a symlink on the way
// down to `dir` is never followed.
TEST_CASE("DirectoryTree resolves a symlinked root and follows no symlink below it",
          "[directory_tree]") {
  TempDir tmp;
  WriteSampleTree(tmp);
  REQUIRE(symlink(tmp.Sub("a").c_str(), tmp.Sub("link-to-a").c_str()) == 0);
  auto tree = OpenTree(tmp.Sub("link-to-a"));
  auto listed = tree->List(".");
  REQUIRE(listed.ok());
  CHECK_FALSE(listed->empty());

  REQUIRE(symlink(tmp.path().c_str(), tmp.Sub("a/out").c_str()) == 0);
  auto through = OpenTree(tmp.Sub("a"))->List("out/a");
  CHECK(through.status().code() == absl::StatusCode::kNotFound);
  TreeEntry escape;
  escape.path = "../a/x";
  CHECK(OpenTree(tmp.Sub("a"))->Read(escape, 100).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flotilla::common
