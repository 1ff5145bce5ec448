// Semantic versions and version constraints with the rules of
// github.com/Masterminds/semver/v3 (what Sprig's `semver` and `semverCompare`
// use, and what Helm uses for chart version ranges).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::common::tmpl {

struct SemverVersion {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::string prerelease;
  std::string metadata;
  std::string original;  // the text it was parsed from

  // "MAJOR.MINOR.PATCH[-pre][+meta]" (without a leading "v").
  std::string String() const;
};

// Parses loosely as NewVersion does: an optional "v", missing minor or patch
// parts read as 0 ("1.2" is 1.2.0). Errors read like the library's
// ("Invalid Semantic Version").
absl::StatusOr<SemverVersion> ParseSemver(absl::string_view text);

// -1, 0 or 1. Build metadata is ignored; a prerelease sorts before the release.
int CompareSemver(const SemverVersion& a, const SemverVersion& b);

// A constraint such as ">=1.2.3 <2.0.0", "^1.2", "~1.2", "1.2.x", "1.2 - 1.4"
// or "<1.0 || >=2.0". Commas or spaces join ANDed parts; "||" separates ORs.
class SemverConstraint {
 public:
  static absl::StatusOr<SemverConstraint> Parse(absl::string_view text);
  bool Check(const SemverVersion& v) const;

  struct Part {
    std::string op;
    SemverVersion version;
    std::string orig;
    bool dirty = false;
    bool minor_dirty = false;
    bool patch_dirty = false;
  };

 private:
  std::vector<std::vector<Part>> ors_;
};

}  // namespace flotilla::common::tmpl
