#include "common/scan/repo_path.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/scan/go_filepath.h"

namespace flotilla::common {

absl::string_view DirOf(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? absl::string_view(".") : path.substr(0, slash);
}

absl::string_view BaseOf(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

bool IsUnder(absl::string_view path, absl::string_view dir) {
  if (dir == ".") return true;
  return path.size() >= dir.size() && path.substr(0, dir.size()) == dir &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

absl::string_view RelativeTo(absl::string_view path, absl::string_view dir) {
  if (dir == ".") return path == "." ? absl::string_view() : path;
  return path.size() <= dir.size() ? absl::string_view() : path.substr(dir.size() + 1);
}

std::string JoinPath(absl::string_view dir, absl::string_view rel) {
  if (dir == "." || dir.empty()) return rel.empty() ? "." : std::string(rel);
  if (rel.empty() || rel == ".") return std::string(dir);
  return absl::StrCat(dir, "/", rel);
}

std::vector<std::string> SplitPath(absl::string_view path) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == ".") continue;
    out.emplace_back(part);
  }
  return out;
}

bool CleanRelativePath(absl::string_view path, std::string* out) {
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return false;
      parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  *out = parts.empty() ? "." : absl::StrJoin(parts, "/");
  return true;
}

bool IsHiddenName(absl::string_view name) { return !name.empty() && name[0] == '.'; }

bool HasHiddenComponent(absl::string_view rel) {
  for (absl::string_view part : absl::StrSplit(rel, '/')) {
    if (IsHiddenName(part)) return true;
  }
  return false;
}

bool HasGitComponent(absl::string_view path) {
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == ".git") return true;
  }
  return false;
}

bool IsSafeRepoPath(absl::string_view path) {
  if (path.empty() || path.find_first_of(absl::string_view("\\\0", 2)) != absl::string_view::npos) {
    return false;
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

std::string Printable(absl::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    const unsigned char c = static_cast<unsigned char>(s[0]);
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) {
        absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
      } else {
        out.push_back(static_cast<char>(c));
      }
      s.remove_prefix(1);
      continue;
    }
    const auto [rune, n] = DecodeRune(s);
    if (rune == 0xFFFD && n == 1) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", c));
    } else {
      out.append(s.data(), n);
    }
    s.remove_prefix(n);
  }
  return out;
}

}  // namespace flotilla::common
