// The parts of Go's standard library whose exact behaviour Fleet's bundle
// discovery depends on, reproduced for the scanner: filepath.Match (GitRepo
// `paths` globs in internal/cmd/cli/apply/apply.go globDirs, and .fleetignore
// entries in internal/bundlereader/loaddirectory.go), filepath.Ext (bundle
// names in driven scans) and utf8.DecodeRuneInString (what Match and
// utf8.Valid decode with).
//
// Pure functions of their arguments; safe to call from any thread.
#pragma once

#include <cstdint>
#include <utility>

#include "absl/strings/string_view.h"

namespace flotilla::common {

// utf8.DecodeRuneInString: the first rune of `s` and its length in bytes.
// An empty string gives {0xFFFD, 0}; an invalid or overlong sequence, a
// surrogate or a value above U+10FFFF gives {0xFFFD, 1}.
std::pair<char32_t, size_t> DecodeRune(absl::string_view s);

// The offset of the first byte of `s` that is not part of valid UTF-8, or
// absl::string_view::npos if all of `s` is valid (utf8.Valid).
size_t FirstInvalidUtf8(absl::string_view s);

enum class GoMatchResult {
  kNoMatch,
  kMatch,
  kBadPattern,  // filepath.ErrBadPattern ("syntax error in pattern")
  kOverBudget,  // `budget` ran out before an answer (never a Go outcome)
};

// filepath.Match on Unix: does all of `name` match the shell pattern?
//   '*'        any run of bytes other than '/'
//   '?'        one character (UTF-8 rune) other than '/'
//   '[' ['^'] { c | '\\' c | lo '-' hi } ']'   a non-empty character class
//   '\\' c     the character c
// Like Go (since 1.16), a malformed pattern is reported as kBadPattern
// whatever `name` is, so GoMatch(p, "", ...) validates p; there is no "**".
// Every step of the match is charged to `*budget`; the work is
// O(len(pattern) * len(name)), and kOverBudget ends it early when a hostile
// pattern/name pair would take longer than the caller allows.
GoMatchResult GoMatch(absl::string_view pattern, absl::string_view name, uint64_t* budget);

// filepath's hasMeta on Unix: does `path` hold any of * ? [ \ ?
bool HasGlobMeta(absl::string_view path);

// filepath.Ext: the suffix of the last element of `path` from its final '.'
// ("" when that element has no '.').
absl::string_view GoExt(absl::string_view path);

}  // namespace flotilla::common
