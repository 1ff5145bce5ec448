#include "common/scan/fleetignore.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/scan/repo_path.h"

namespace flotilla::common {
namespace {

// bufio.Scanner's default token limit: a longer line ends Fleet's reading.
constexpr size_t kMaxLineBytes = 64 * 1024 - 1;

// RE2's \s: [\t\n\f\r ].
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; }

// Fleet replaces `([^\\])\s+$` with "$1". The leftmost match starts at the
// character before the trailing whitespace when that is not a backslash;
// otherwise at the first trailing whitespace character, if at least one more
// follows it.
absl::string_view TrimTrailingSpace(absl::string_view line) {
  size_t start = line.size();
  while (start > 0 && IsSpace(line[start - 1])) --start;
  const size_t run = line.size() - start;
  if (run == 0) return line;
  if (start > 0 && line[start - 1] != '\\') return line.substr(0, start);
  if (run >= 2) return line.substr(0, start + 1);
  return line;
}

// Fleet's regexp `^.+/\*`: a "/*" anywhere after the first character.
bool IsDirectoriesOnly(absl::string_view pattern) {
  for (size_t i = 1; i + 1 < pattern.size(); ++i) {
    if (pattern[i] == '/' && pattern[i + 1] == '*') return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::vector<FleetIgnoreRule>> ParseFleetIgnore(absl::string_view text,
                                                              absl::string_view filename,
                                                              uint64_t* budget) {
  std::vector<FleetIgnoreRule> rules;
  int line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t newline = text.find('\n');
    absl::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == absl::string_view::npos ? text.size() : newline + 1);
    if (line.size() > kMaxLineBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(filename, ":", line_number, ": line longer than ", kMaxLineBytes, " bytes"));
    }
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    line = TrimTrailingSpace(line);
    if (line.empty() || line[0] == '#') continue;
    FleetIgnoreRule rule;
    rule.pattern = std::string(line);
    rule.line = line_number;
    if (IsDirectoriesOnly(line)) {
      // Compared as a plain string, so never malformed.
      rule.directories_only = true;
      absl::string_view dir = line;
      if (absl::EndsWith(dir, "/*")) dir.remove_suffix(2);
      rule.directory = std::string(dir);
    } else {
      switch (GoMatch(line, "", budget)) {
        case GoMatchResult::kBadPattern:
          return absl::InvalidArgumentError(absl::StrCat(
              filename, ":", line_number, ": syntax error in pattern \"", Printable(line), "\""));
        case GoMatchResult::kOverBudget:
          return absl::InvalidArgumentError(
              absl::StrCat(filename, ":", line_number, ": pattern too expensive to evaluate"));
        default:
          break;
      }
    }
    rules.push_back(std::move(rule));
  }
  return rules;
}

GoMatchResult FleetIgnoreMatches(const FleetIgnoreRule& rule, absl::string_view name, bool is_dir,
                                 uint64_t* budget) {
  if (rule.directories_only) {
    return is_dir && name == rule.directory ? GoMatchResult::kMatch : GoMatchResult::kNoMatch;
  }
  return GoMatch(rule.pattern, name, budget);
}

}  // namespace flotilla::common
