#include "common/fleet/naming.h"

#include <catch2/catch.hpp>
#include <string>

#include "common/hash.h"

namespace flotilla::common {
namespace {

// md5 hex prefix, as Fleet's names.Hex(s, n).
std::string Hex(const std::string& s, size_t n) { return Md5Hex(s).substr(0, n); }

// Fleet: internal/names/name.go HelmReleaseName, through cli/apply's join of
// GitRepo name and bundle path; the documented example.
TEST_CASE("A bundle name joins the GitRepo name and path with dashes", "[naming]") {
  CHECK(BundleName("one", "multi-cluster/hello-world") == "one-multi-cluster-hello-world");
  CHECK(BundleName("one", "simple") == "one-simple");
  CHECK(BundleName("one", "multi-cluster/hello-world/") == "one-multi-cluster-hello-world");
  CHECK(BundleName("one", "./apps/web") == "one-apps-web");
}

// Fleet: cli/apply (filepath.Join(name, ".")) — the repository root bundle is
// named after the GitRepo alone.
TEST_CASE("The root path gives the GitRepo name itself", "[naming]") {
  CHECK(BundleName("my-repo", ".") == "my-repo");
  CHECK(BundleName("my-repo", "") == "my-repo");
  CHECK(BundleName("my-repo", "./") == "my-repo");
}

// Fleet: internal/names/name.go — an uppercase letter makes Fleet append
// "-" + md5[:8] of the string (after "/" -> "-") before lowercasing, so
// "App" and "app" do not collide.
TEST_CASE("Uppercase input gets a dash and the first 8 hex digits of its md5", "[naming]") {
  // echo -n one-Multi | md5sum -> 5fc7761e6d024dd6f20494405c4c471b
  CHECK(HelmReleaseName("one/Multi") == "one-multi-5fc7761e");
  CHECK(BundleName("one", "Multi") == "one-multi-5fc7761e");
  // echo -n simple-Repo-Path-With-Upper | md5sum -> bc26a078...
  CHECK(BundleName("simple", "Repo/Path-With-Upper") == "simple-repo-path-with-upper-bc26a078");
  CHECK(HelmReleaseName("Hello/World") == "hello-world-" + Hex("Hello-World", 8));
  CHECK(HelmReleaseName("hello/world") == "hello-world");
}

// Fleet: internal/names/name.go — characters outside [a-zA-Z0-9-] also add
// the md5 suffix, then become dashes, runs of dashes collapse and dashes are
// trimmed at both ends.
TEST_CASE("Illegal characters become dashes and add the md5 suffix", "[naming]") {
  // echo -n a_b.c | md5sum -> e279a01063782870fd8c906e037c8c0e
  CHECK(HelmReleaseName("a_b.c") == "a-b-c-e279a010");
  CHECK(BundleName("repo", "dir with space/x") ==
        "repo-dir-with-space-x-" + Hex("repo-dir with space-x", 8));
  CHECK(HelmReleaseName("app/_hidden__dir") == "app-hidden-dir-" + Hex("app-_hidden__dir", 8));
  // Only allowed characters: no suffix, but dashes still collapse and trim.
  CHECK(HelmReleaseName("--a---b--") == "a-b");
  CHECK(HelmReleaseName("/a//b/") == "a-b");
}

// Fleet: internal/names/name.go — when nothing valid is left, the name is
// the first 24 hex digits of the md5 of the original input.
TEST_CASE("Input with nothing valid left falls back to 24 hex digits of its md5", "[naming]") {
  // echo -n "" | md5sum -> d41d8cd98f00b204e9800998ecf8427e
  CHECK(HelmReleaseName("") == "d41d8cd98f00b204e9800998");
  CHECK(HelmReleaseName("///") == Hex("///", 24));
  CHECK(HelmReleaseName("---") == Hex("---", 24));
}

// Fleet: internal/names/name.go Limit(str, 53) — Helm's release-name limit;
// a longer name keeps 47 characters, then "-" and 5 hex digits of the md5 of
// the whole name.
TEST_CASE("Names longer than 53 characters are cut to 53 with a 5-hex-digit hash", "[naming]") {
  const std::string long_path = "multi-cluster/" + std::string(60, 'x');
  const std::string joined = "one-multi-cluster-" + std::string(60, 'x');
  const std::string expected = joined.substr(0, 47) + "-" + Hex(joined, 5);
  CHECK(BundleName("one", long_path) == expected);
  // Computed with hashlib.md5(joined).hexdigest()[:5].
  CHECK(expected == "one-multi-cluster-xxxxxxxxxxxxxxxxxxxxxxxxxxxxx-b1314");
  CHECK(expected.size() == 53);

  const std::string exactly53(53, 'a');
  CHECK(HelmReleaseName(exactly53) == exactly53);
  const std::string fifty4(54, 'a');
  CHECK(HelmReleaseName(fifty4) == std::string(47, 'a') + "-" + Hex(fifty4, 5));

  // Uppercase and long: the md5[:8] suffix is added first, then the cut.
  const std::string upper = "Repo/" + std::string(60, 'y');
  const std::string with_hex =
      "Repo-" + std::string(60, 'y') + "-" + Hex("Repo-" + std::string(60, 'y'), 8);
  std::string lowered = with_hex;
  lowered[0] = 'r';
  CHECK(HelmReleaseName(upper) == lowered.substr(0, 47) + "-" + Hex(lowered, 5));
}

// Fleet: internal/names/name.go Limit — when the cut ends in "-", no second
// dash is added (the result is one character shorter); a count too small for
// the hash just truncates.
TEST_CASE("LimitName does not double the dash when the cut ends in one", "[naming]") {
  const std::string s = std::string(46, 'a') + "-" + std::string(20, 'b');
  const std::string limited = LimitName(s, 53);
  CHECK(limited == std::string(46, 'a') + "-" + Hex(s, 5));
  CHECK(limited.size() == 52);
  CHECK(HelmReleaseName(s) == limited);

  CHECK(LimitName("abc", 3) == "abc");
  CHECK(LimitName("abcdefghij", 10) == "abcdefghij");
  CHECK(LimitName("abcdefghij", 6) == "abcdef");
  CHECK(LimitName("abcdefghij", 7) == "a-" + Hex("abcdefghij", 5));
  CHECK(LimitName("a-cdefghij", 8) == "a-" + Hex("a-cdefghij", 5));
}

}  // namespace
}  // namespace flotilla::common
