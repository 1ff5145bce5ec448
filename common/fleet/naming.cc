#include "common/fleet/naming.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/hash.h"

namespace flotilla::common {
namespace {

constexpr size_t kMaxHelmReleaseNameLen = 53;

bool Allowed(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-'; }

std::string Md5Prefix(absl::string_view s, size_t n) { return Md5Hex(s).substr(0, n); }

// ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ (the DNS label form; it also satisfies
// Helm's release-name pattern).
bool DnsLabelSafe(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
          absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return s.front() != '-' && s.back() != '-';
}

}  // namespace

std::string LimitName(absl::string_view s, size_t count) {
  if (s.size() <= count) return std::string(s);
  constexpr size_t kHexLen = 5;
  std::string separator = "-";
  if (count <= kHexLen + separator.size()) return std::string(s.substr(0, count));
  size_t keep = count - kHexLen - separator.size();
  if (s[keep - 1] == '-') separator.clear();
  return absl::StrCat(s.substr(0, keep), separator, Md5Prefix(s, kHexLen));
}

std::string HelmReleaseName(absl::string_view input) {
  std::string str = absl::StrReplaceAll(input, {{"/", "-"}});
  bool need_hex = str != absl::AsciiStrToLower(str);
  for (char c : str) need_hex = need_hex || !Allowed(c);
  if (need_hex) str = absl::StrCat(str, "-", Md5Prefix(str, 8));
  absl::AsciiStrToLower(&str);
  // Runs of disallowed characters and of dashes become one dash.
  std::string clean;
  for (char c : str) {
    char out = Allowed(c) ? c : '-';
    if (out == '-' && !clean.empty() && clean.back() == '-') continue;
    clean.push_back(out);
  }
  size_t b = clean.find_first_not_of('-');
  size_t e = clean.find_last_not_of('-');
  clean = b == std::string::npos ? "" : clean.substr(b, e - b + 1);
  if (DnsLabelSafe(clean)) return LimitName(clean, kMaxHelmReleaseNameLen);
  return Md5Prefix(input, 24);
}

std::string BundleName(absl::string_view gitrepo, absl::string_view path) {
  std::string p(path);
  while (!p.empty() && (p.back() == '/')) p.pop_back();
  while (p.rfind("./", 0) == 0) p.erase(0, 2);
  if (p.empty() || p == ".") return HelmReleaseName(gitrepo);
  return HelmReleaseName(absl::StrCat(gitrepo, "/", p));
}

}  // namespace flotilla::common
