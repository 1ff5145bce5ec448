// .fleetignore files, read and applied as Fleet does
// (internal/bundlereader/loaddirectory.go: readFleetIgnore, ignoreTree.isIgnored).
//
// A .fleetignore in a directory of a bundle holds one filepath.Match pattern
// per line. Its rules apply to every file and directory below that directory
// (inherited by subdirectories, never by parents or siblings), and each rule
// is matched against an entry's own name, never against a path: "x.yaml"
// ignores every x.yaml below, "sub/x.yaml" ignores nothing. A rule of the
// form "name/*" ignores the directories called "name" (at any depth below)
// and never a file. "!" negation and "**" do not exist.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/scan/go_filepath.h"

namespace flotilla::common {

struct FleetIgnoreRule {
  std::string pattern;
  int line = 0;  // 1-based line in its .fleetignore
  // Fleet's isAllFilesInDirPattern: any "/*" after the first character.
  // Such a rule matches only directories named `directory` (the pattern
  // without a trailing "/*"), compared as a plain string.
  bool directories_only = false;
  std::string directory;
};

// Reads the rules of one .fleetignore (`filename` is used in errors only):
// lines end at "\n" with one "\r" before it dropped (bufio.ScanLines);
// trailing whitespace is trimmed unless escaped with "\" (Fleet's regexp
// `([^\\])\s+$`); empty lines and lines starting with "#" are skipped ("\#"
// matches a literal "#").
// InvalidArgument "<filename>:<line>: ..." for a malformed pattern (Fleet
// fails the bundle on it too, at the first entry it checks) or a line longer
// than 65535 bytes (Fleet's line reader stops there silently). Validation is
// charged to `budget` like matching.
absl::StatusOr<std::vector<FleetIgnoreRule>> ParseFleetIgnore(absl::string_view text,
                                                              absl::string_view filename,
                                                              uint64_t* budget);

// Does `rule` ignore the entry named `name` (its base name), a directory when
// `is_dir`? kBadPattern cannot happen for a parsed rule.
GoMatchResult FleetIgnoreMatches(const FleetIgnoreRule& rule, absl::string_view name, bool is_dir,
                                 uint64_t* budget);

}  // namespace flotilla::common
