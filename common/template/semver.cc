#include "common/template/semver.h"

#include <re2/re2.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/template/strconv.h"

namespace flotilla::common::tmpl {

namespace {

// The library's own patterns (constraints.go), so that what is accepted and
// how it splits is the same.
constexpr char kOps[] = R"(=||!=|>|<|>=|=>|<=|=<|~|~>|\^)";
constexpr char kCv[] = R"(v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?)"
                       R"((-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?)"
                       R"((\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?)";

RE2::Options QuietOptions() {
  RE2::Options o;
  o.set_log_errors(false);
  return o;
}

const RE2& ConstraintRegex() {
  static const RE2* re =
      new RE2(absl::StrCat(R"(^\s*()", kOps, R"()\s*()", kCv, R"()\s*$)"), QuietOptions());
  return *re;
}

const RE2& RangeRegex() {
  static const RE2* re =
      new RE2(absl::StrCat(R"(\s*()", kCv, R"()\s+-\s+()", kCv, R"()\s*)"), QuietOptions());
  return *re;
}

const RE2& FindRegex() {
  static const RE2* re = new RE2(absl::StrCat("(", kOps, R"()\s*()", kCv, ")"), QuietOptions());
  return *re;
}

const RE2& ValidRegex() {
  static const RE2* re =
      new RE2(absl::StrCat(R"(^(\s*()", kOps, R"()\s*()", kCv, R"()\s*)((?:\s+|,\s*)()", kOps,
                           R"()\s*()", kCv, R"()\s*)*$)"),
              QuietOptions());
  return *re;
}

bool ContainsOnly(absl::string_view s, bool allow_letters) {
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') ||
              (allow_letters && (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '-'));
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<uint64_t> ParseSegment(absl::string_view s) {
  ParseError err;
  uint64_t v = GoParseUint(s, 10, &err);
  if (err == ParseError::kRange) {
    return absl::InvalidArgumentError(
        absl::StrCat("Error parsing version segment: strconv.ParseUint: parsing ", GoQuote(s),
                     ": value out of range"));
  }
  if (err != ParseError::kNone) return absl::InvalidArgumentError("Invalid Semantic Version");
  return v;
}

re2::StringPiece SP(absl::string_view s) { return re2::StringPiece(s.data(), s.size()); }
absl::string_view AV(re2::StringPiece s) { return absl::string_view(s.data(), s.size()); }

bool IsX(absl::string_view s) { return s == "x" || s == "*" || s == "X"; }

int ComparePrePart(absl::string_view s, absl::string_view o) {
  if (s == o) return 0;
  if (s.empty()) return o.empty() ? 1 : -1;
  if (o.empty()) return 1;
  ParseError e1, e2;
  uint64_t oi = GoParseUint(o, 10, &e1);
  uint64_t si = GoParseUint(s, 10, &e2);
  bool o_num = e1 == ParseError::kNone;
  bool s_num = e2 == ParseError::kNone;
  if (!o_num && !s_num) return s > o ? 1 : -1;
  if (!o_num) return -1;
  if (!s_num) return 1;
  return si > oi ? 1 : -1;
}

int ComparePrerelease(absl::string_view a, absl::string_view b) {
  std::vector<absl::string_view> sp = absl::StrSplit(a, '.');
  std::vector<absl::string_view> op = absl::StrSplit(b, '.');
  size_t l = std::max(sp.size(), op.size());
  for (size_t i = 0; i < l; ++i) {
    absl::string_view s = i < sp.size() ? sp[i] : absl::string_view();
    absl::string_view o = i < op.size() ? op[i] : absl::string_view();
    int d = ComparePrePart(s, o);
    if (d != 0) return d;
  }
  return 0;
}

int CompareSegment(uint64_t a, uint64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

using Part = SemverConstraint::Part;

bool PrereleaseExcluded(const SemverVersion& v, const Part& c) {
  return !v.prerelease.empty() && c.version.prerelease.empty();
}

bool Tilde(const SemverVersion& v, const Part& c) {
  if (PrereleaseExcluded(v, c)) return false;
  if (CompareSemver(v, c.version) < 0) return false;
  if (c.version.major == 0 && c.version.minor == 0 && c.version.patch == 0 && !c.minor_dirty &&
      !c.patch_dirty) {
    return true;
  }
  if (v.major != c.version.major) return false;
  if (v.minor != c.version.minor && !c.minor_dirty) return false;
  return true;
}

bool CheckPart(const SemverVersion& v, const Part& c) {
  const SemverVersion& con = c.version;
  const std::string& op = c.op;
  if (op.empty() || op == "=") {
    if (PrereleaseExcluded(v, c)) return false;
    if (c.dirty) return Tilde(v, c);
    return CompareSemver(v, con) == 0;
  }
  if (op == "!=") {
    if (c.dirty) {
      if (!v.prerelease.empty() && con.prerelease.empty()) return false;
      if (con.major != v.major) return true;
      if (con.minor != v.minor && !c.minor_dirty) return true;
      if (c.minor_dirty) return false;
      if (con.patch != v.patch && !c.patch_dirty) return true;
      if (c.patch_dirty) {
        if (!v.prerelease.empty() || !con.prerelease.empty()) {
          return ComparePrerelease(v.prerelease, con.prerelease) != 0;
        }
        return false;
      }
    }
    return CompareSemver(v, con) != 0;
  }
  if (op == ">") {
    if (PrereleaseExcluded(v, c)) return false;
    if (!c.dirty) return CompareSemver(v, con) == 1;
    if (v.major > con.major) return true;
    if (v.major < con.major) return false;
    if (c.minor_dirty) return false;
    if (c.patch_dirty) return v.minor > con.minor;
    return CompareSemver(v, con) == 1;
  }
  if (op == "<") {
    if (PrereleaseExcluded(v, c)) return false;
    return CompareSemver(v, con) < 0;
  }
  if (op == ">=" || op == "=>") {
    if (PrereleaseExcluded(v, c)) return false;
    return CompareSemver(v, con) >= 0;
  }
  if (op == "<=" || op == "=<") {
    if (PrereleaseExcluded(v, c)) return false;
    if (!c.dirty) return CompareSemver(v, con) <= 0;
    if (v.major > con.major) return false;
    if (v.major == con.major && v.minor > con.minor && !c.minor_dirty) return false;
    return true;
  }
  if (op == "~" || op == "~>") return Tilde(v, c);
  if (op == "^") {
    if (PrereleaseExcluded(v, c)) return false;
    if (CompareSemver(v, con) < 0) return false;
    if (con.major > 0 || c.minor_dirty) return v.major == con.major;
    if (con.major == 0 && v.major > 0) return false;
    if (con.minor > 0 || c.patch_dirty) return v.minor == con.minor;
    if (con.minor == 0 && v.minor > 0) return false;
    return con.patch == v.patch;
  }
  return false;
}

absl::StatusOr<Part> ParsePart(absl::string_view s) {
  std::string m[12];
  if (!RE2::FullMatch(SP(s), ConstraintRegex(), &m[1], &m[2], &m[3], &m[4], &m[5], &m[6], &m[7],
                      &m[8], &m[9], &m[10], &m[11])) {
    return absl::InvalidArgumentError(absl::StrCat("improper constraint: ", s));
  }
  Part p;
  p.op = m[1];
  p.orig = m[2];
  std::string ver = m[2];
  if (IsX(m[3]) || m[3].empty()) {
    ver = absl::StrCat("0.0.0", m[6]);
    p.dirty = true;
  } else if (IsX(absl::StripPrefix(m[4], ".")) || m[4].empty()) {
    p.minor_dirty = true;
    p.dirty = true;
    ver = absl::StrCat(m[3], ".0.0", m[6]);
  } else if (IsX(absl::StripPrefix(m[5], ".")) || m[5].empty()) {
    p.dirty = true;
    p.patch_dirty = true;
    ver = absl::StrCat(m[3], m[4], ".0", m[6]);
  }
  absl::StatusOr<SemverVersion> v = ParseSemver(ver);
  if (!v.ok()) return absl::InvalidArgumentError("constraint Parser Error");
  p.version = *v;
  return p;
}

std::string RewriteRange(absl::string_view in) {
  std::string out(in);
  // Find successive matches; replace each first occurrence in the output.
  absl::string_view rest = in;
  while (true) {
    re2::StringPiece groups[21];
    if (!RangeRegex().Match(SP(rest), 0, rest.size(), RE2::UNANCHORED, groups, 21)) break;
    std::string from(AV(groups[0]));
    std::string repl = absl::StrCat(">= ", AV(groups[1]), ", <= ", AV(groups[11]));
    size_t at = out.find(from);
    if (at != std::string::npos) out.replace(at, from.size(), repl);
    size_t consumed = static_cast<size_t>(groups[0].data() - rest.data()) + groups[0].size();
    if (consumed == 0) break;
    rest.remove_prefix(consumed);
  }
  return out;
}

}  // namespace

std::string SemverVersion::String() const {
  std::string s = absl::StrCat(major, ".", minor, ".", patch);
  if (!prerelease.empty()) absl::StrAppend(&s, "-", prerelease);
  if (!metadata.empty()) absl::StrAppend(&s, "+", metadata);
  return s;
}

absl::StatusOr<SemverVersion> ParseSemver(absl::string_view text) {
  const absl::Status invalid = absl::InvalidArgumentError("Invalid Semantic Version");
  SemverVersion v;
  v.original = std::string(text);
  absl::string_view s = text;
  if (absl::StartsWith(s, "v")) s.remove_prefix(1);
  // Split off +metadata and -prerelease (the numeric part has neither).
  size_t plus = s.find('+');
  absl::string_view meta;
  if (plus != absl::string_view::npos) {
    meta = s.substr(plus + 1);
    s = s.substr(0, plus);
    if (meta.empty()) return invalid;
  }
  size_t dash = s.find('-');
  absl::string_view pre;
  bool has_pre = dash != absl::string_view::npos;
  if (has_pre) {
    pre = s.substr(dash + 1);
    s = s.substr(0, dash);
    if (pre.empty()) return invalid;
  }
  std::vector<absl::string_view> nums = absl::StrSplit(s, '.');
  if (nums.empty() || nums.size() > 3) return invalid;
  for (absl::string_view n : nums) {
    if (n.empty() || !ContainsOnly(n, false)) return invalid;
  }
  ASSIGN_OR_RETURN(v.major, ParseSegment(nums[0]));
  if (nums.size() > 1) {
    ASSIGN_OR_RETURN(v.minor, ParseSegment(nums[1]));
  }
  if (nums.size() > 2) {
    ASSIGN_OR_RETURN(v.patch, ParseSegment(nums[2]));
  }
  auto valid_ids = [](absl::string_view ids) {
    for (absl::string_view p : absl::StrSplit(ids, '.')) {
      if (p.empty() || !ContainsOnly(p, true)) return false;
    }
    return true;
  };
  if (has_pre) {
    if (!valid_ids(pre)) return invalid;
    for (absl::string_view p : absl::StrSplit(pre, '.')) {
      if (ContainsOnly(p, false) && p.size() > 1 && p[0] == '0') {
        return absl::InvalidArgumentError("Version segment starts with 0");
      }
    }
    v.prerelease = std::string(pre);
  }
  if (plus != absl::string_view::npos) {
    if (!valid_ids(meta)) return invalid;
    v.metadata = std::string(meta);
  }
  return v;
}

int CompareSemver(const SemverVersion& a, const SemverVersion& b) {
  if (int d = CompareSegment(a.major, b.major); d != 0) return d;
  if (int d = CompareSegment(a.minor, b.minor); d != 0) return d;
  if (int d = CompareSegment(a.patch, b.patch); d != 0) return d;
  if (a.prerelease.empty() && b.prerelease.empty()) return 0;
  if (a.prerelease.empty()) return 1;
  if (b.prerelease.empty()) return -1;
  return ComparePrerelease(a.prerelease, b.prerelease);
}

absl::StatusOr<SemverConstraint> SemverConstraint::Parse(absl::string_view text) {
  std::string c = RewriteRange(text);
  SemverConstraint out;
  for (absl::string_view group : absl::StrSplit(c, "||")) {
    if (!RE2::FullMatch(SP(group), ValidRegex())) {
      return absl::InvalidArgumentError(absl::StrCat("improper constraint: ", group));
    }
    std::vector<std::string> parts;
    absl::string_view rest = group;
    absl::string_view m;
    while (!rest.empty()) {
      re2::StringPiece groups[1];
      if (!FindRegex().Match(SP(rest), 0, rest.size(), RE2::UNANCHORED, groups, 1)) break;
      m = AV(groups[0]);
      parts.emplace_back(m);
      size_t consumed = static_cast<size_t>(m.data() - rest.data()) + m.size();
      if (consumed == 0) break;
      rest.remove_prefix(consumed);
    }
    if (parts.empty()) parts.emplace_back(group);
    std::vector<Part> ands;
    for (const std::string& p : parts) {
      ASSIGN_OR_RETURN(Part part, ParsePart(p));
      ands.push_back(std::move(part));
    }
    out.ors_.push_back(std::move(ands));
  }
  return out;
}

bool SemverConstraint::Check(const SemverVersion& v) const {
  for (const std::vector<Part>& group : ors_) {
    bool joy = true;
    for (const Part& c : group) {
      if (!CheckPart(v, c)) {
        joy = false;
        break;
      }
    }
    if (joy) return true;
  }
  return false;
}

}  // namespace flotilla::common::tmpl
