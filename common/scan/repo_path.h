// Repository-relative paths as the scanner handles them: '/'-separated, no
// leading '/', "." for the root. Helpers only; no I/O.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace flotilla::common {

// "a/b/c" -> "a/b"; "a" -> ".".
absl::string_view DirOf(absl::string_view path);
// "a/b/c" -> "c".
absl::string_view BaseOf(absl::string_view path);
// Is `path` at or below directory `dir` ("." holds everything)?
bool IsUnder(absl::string_view path, absl::string_view dir);
// `path` relative to `dir` (which must hold it); "" for `dir` itself.
absl::string_view RelativeTo(absl::string_view path, absl::string_view dir);
// `dir` + "/" + `rel`, with "." as the root on either side.
std::string JoinPath(absl::string_view dir, absl::string_view rel);
// The non-empty components of `path`, "." ones dropped.
std::vector<std::string> SplitPath(absl::string_view path);
// Lexical cleaning of a relative path (".", "" and "x/.." removed); false if
// a ".." would climb above the start. "" cleans to ".".
bool CleanRelativePath(absl::string_view path, std::string* out);

// A name starting with "." (Fleet skips these).
bool IsHiddenName(absl::string_view name);
// Does any component of `rel` start with "."?
bool HasHiddenComponent(absl::string_view rel);
// Is any component of `path` exactly ".git"?
bool HasGitComponent(absl::string_view path);

// A tree entry path that can be trusted: not empty, not absolute, no "",
// "." or ".." component, no backslash and no NUL.
bool IsSafeRepoPath(absl::string_view path);

// `s` for messages: invalid UTF-8 bytes and control characters become
// \xNN, so a hostile name cannot break a log line, JSON or a proto string.
std::string Printable(absl::string_view s);

}  // namespace flotilla::common
