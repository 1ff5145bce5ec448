// Sprig's regular expression functions (sprig/regex.go) over RE2, whose
// syntax is Go's regexp syntax. Matching loops, empty-match handling and
// "$1"/"${name}" replacement templates follow Go's regexp package.
#include <re2/re2.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/sprig_internal.h"
#include "common/template/strconv.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;

re2::StringPiece SP(absl::string_view s) { return re2::StringPiece(s.data(), s.size()); }

std::string GoRegexpErrorText(const RE2& re) {
  switch (re.error_code()) {
    case RE2::ErrorBadEscape:
      return "invalid escape sequence";
    case RE2::ErrorBadCharClass:
      return "invalid character class";
    case RE2::ErrorBadCharRange:
      return "invalid character class range";
    case RE2::ErrorMissingBracket:
      return "missing closing ]";
    case RE2::ErrorMissingParen:
      return "missing closing )";
    case RE2::ErrorTrailingBackslash:
      return "trailing backslash at end of expression";
    case RE2::ErrorRepeatArgument:
      return "missing argument to repetition operator";
    case RE2::ErrorRepeatSize:
      return "invalid repeat count";
    case RE2::ErrorRepeatOp:
      return "invalid nested repetition operator";
    case RE2::ErrorBadPerlOp:
      return "invalid or unsupported Perl syntax";
    case RE2::ErrorBadUTF8:
      return "invalid UTF-8";
    case RE2::ErrorBadNamedCapture:
      return "invalid named capture";
    case RE2::ErrorPatternTooLarge:
      return "expression too large";
    default:
      return re.error();
  }
}

// regexp.Compile: the error reads like Go's.
absl::StatusOr<std::unique_ptr<RE2>> Compile(absl::string_view pattern) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_max_mem(64 << 20);
  auto re = std::make_unique<RE2>(SP(pattern), o);
  if (!re->ok()) {
    std::string arg = re->error_arg();
    if (arg.empty()) arg = std::string(pattern);
    return absl::InvalidArgumentError(
        absl::StrCat("error parsing regexp: ", GoRegexpErrorText(*re), ": `", arg, "`"));
  }
  return re;
}

// regexp.MustCompile's panic text.
absl::Status MustCompileError(absl::string_view pattern, const absl::Status& err) {
  std::string quoted = CanBackquote(pattern) ? absl::StrCat("`", pattern, "`") : GoQuote(pattern);
  return absl::InvalidArgumentError(absl::StrCat("regexp: Compile(", quoted, "): ", err.message()));
}

absl::StatusOr<std::unique_ptr<RE2>> MustCompile(absl::string_view pattern) {
  absl::StatusOr<std::unique_ptr<RE2>> re = Compile(pattern);
  if (!re.ok()) return MustCompileError(pattern, re.status());
  return re;
}

struct Match {
  size_t begin;
  size_t end;
  std::vector<re2::StringPiece> groups;
};

// regexp's allMatches: successive non-overlapping matches; an empty match
// right after a previous match is skipped; n < 0 means all.
std::vector<Match> AllMatches(const RE2& re, absl::string_view s, int64_t n, bool groups,
                              CallContext& ctx, absl::Status* status) {
  std::vector<Match> out;
  if (n < 0) n = static_cast<int64_t>(s.size()) + 1;
  int nsub = groups ? re.NumberOfCapturingGroups() + 1 : 1;
  std::vector<re2::StringPiece> sub(static_cast<size_t>(nsub));
  size_t pos = 0;
  int64_t prev_end = -1;
  int64_t found = 0;
  while (found < n && pos <= s.size()) {
    if (!re.Match(SP(s), pos, s.size(), RE2::UNANCHORED, sub.data(), nsub)) break;
    size_t b = static_cast<size_t>(sub[0].data() - s.data());
    size_t e = b + sub[0].size();
    bool accept = true;
    if (e == pos) {
      if (static_cast<int64_t>(b) == prev_end) accept = false;
      size_t w = 0;
      if (pos < s.size()) DecodeRune(s.substr(pos), &w);
      pos = w > 0 ? pos + w : s.size() + 1;
    } else {
      pos = e;
    }
    prev_end = static_cast<int64_t>(e);
    if (accept) {
      out.push_back(Match{b, e, sub});
      ++found;
      if (out.size() % 1024 == 0) {
        *status = ChargeElements(ctx, 1024);
        if (!status->ok()) return out;
      }
    }
  }
  return out;
}

// regexp's expand for "$1", "${1}", "$name", "${name}" and "$$".
void Expand(std::string* dst, absl::string_view tmpl, const RE2& re, absl::string_view src,
            const std::vector<re2::StringPiece>& match) {
  const std::map<std::string, int>& names = re.NamedCapturingGroups();
  while (!tmpl.empty()) {
    size_t dollar = tmpl.find('$');
    if (dollar == absl::string_view::npos) break;
    dst->append(tmpl.data(), dollar);
    tmpl.remove_prefix(dollar + 1);
    if (!tmpl.empty() && tmpl[0] == '$') {
      dst->push_back('$');
      tmpl.remove_prefix(1);
      continue;
    }
    // extract
    absl::string_view str = tmpl;
    bool brace = false;
    if (!str.empty() && str[0] == '{') {
      brace = true;
      str.remove_prefix(1);
    }
    size_t i = 0;
    while (i < str.size()) {
      size_t w;
      int32_t r = DecodeRune(str.substr(i), &w);
      if (!IsLetter(r) && !IsDigit(r) && r != '_') break;
      i += w;
    }
    bool ok = i > 0;
    absl::string_view name = str.substr(0, i);
    if (ok && brace) {
      if (i >= str.size() || str[i] != '}') {
        ok = false;
      } else {
        ++i;
      }
    }
    if (!ok) {
      dst->push_back('$');
      continue;
    }
    tmpl = str.substr(i);
    int num = 0;
    for (char c : name) {
      if (c < '0' || c > '9' || num >= 100000000) {
        num = -1;
        break;
      }
      num = num * 10 + (c - '0');
    }
    if (name.size() > 1 && name[0] == '0') num = -1;
    int index = num;
    if (num < 0) {
      auto it = names.find(std::string(name));
      index = it == names.end() ? -1 : it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < match.size() &&
        match[static_cast<size_t>(index)].data() != nullptr) {
      dst->append(match[static_cast<size_t>(index)].data(),
                  match[static_cast<size_t>(index)].size());
    }
  }
  dst->append(tmpl.data(), tmpl.size());
  (void)src;
}

// regexp's replaceAll.
absl::StatusOr<std::string> ReplaceAll(const RE2& re, absl::string_view src, absl::string_view repl,
                                       bool literal, CallContext& ctx) {
  std::string buf;
  size_t last_end = 0;
  size_t search = 0;
  int nsub = literal ? 1 : re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sub(static_cast<size_t>(nsub));
  int64_t count = 0;
  while (search <= src.size()) {
    if (!re.Match(SP(src), search, src.size(), RE2::UNANCHORED, sub.data(), nsub)) break;
    size_t a0 = static_cast<size_t>(sub[0].data() - src.data());
    size_t a1 = a0 + sub[0].size();
    buf.append(src.data() + last_end, a0 - last_end);
    if (a1 > last_end || a0 == 0) {
      if (literal) {
        buf.append(repl.data(), repl.size());
      } else {
        Expand(&buf, repl, re, src, sub);
      }
    }
    if (buf.size() > ctx.limits().max_output_bytes) return CheckStringSize(ctx, buf.size());
    if (++count % 1024 == 0) RETURN_IF_ERROR(ChargeElements(ctx, 1024));
    last_end = a1;
    size_t w = 0;
    if (search < src.size()) DecodeRune(src.substr(search), &w);
    if (search + w > a1) {
      search += w;
    } else if (search + 1 > a1) {
      ++search;
    } else {
      search = a1;
    }
  }
  buf.append(src.data() + last_end, src.size() - last_end);
  return buf;
}

std::vector<std::string> FindAll(const RE2& re, absl::string_view s, int64_t n, CallContext& ctx,
                                 absl::Status* status) {
  std::vector<std::string> out;
  if (n == 0) return out;
  for (const Match& m : AllMatches(re, s, n, false, ctx, status)) {
    out.emplace_back(s.substr(m.begin, m.end - m.begin));
  }
  return out;
}

// regexp's Split.
std::vector<std::string> Split(const RE2& re, const std::string& pattern, absl::string_view s,
                               int64_t n, CallContext& ctx, absl::Status* status) {
  std::vector<std::string> out;
  if (n == 0) return out;
  if (!pattern.empty() && s.empty()) return {""};
  std::vector<Match> matches = AllMatches(re, s, n, false, ctx, status);
  size_t beg = 0;
  size_t end = 0;
  for (const Match& m : matches) {
    if (n > 0 && static_cast<int64_t>(out.size()) == n - 1) break;
    end = m.begin;
    if (m.end != 0) out.emplace_back(s.substr(beg, end - beg));
    beg = m.end;
  }
  if (end != s.size()) out.emplace_back(s.substr(beg));
  return out;
}

std::string QuoteMeta(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (absl::string_view("\\.+*?()|[]{}^$").find(c) != absl::string_view::npos) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

Value Str(std::string s) { return Value::String(std::move(s)); }

}  // namespace

void AddRegexFunctions(FuncMap* m, const Env&) {
  m->Add("regexMatch", Sig({PT::kString, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           absl::StatusOr<std::unique_ptr<RE2>> re = Compile(a[0].str());
           if (!re.ok()) return Value::Bool(false);
           return Value::Bool(RE2::PartialMatch(SP(a[1].str()), **re));
         });
  m->Add("mustRegexMatch", Sig({PT::kString, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(std::unique_ptr<RE2> re, Compile(a[0].str()));
           return Value::Bool(RE2::PartialMatch(SP(a[1].str()), *re));
         });
  auto find_all = [](bool must) {
    return [must](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
      absl::StatusOr<std::unique_ptr<RE2>> re =
          must ? Compile(a[0].str()) : MustCompile(a[0].str());
      if (!re.ok()) return re.status();
      absl::Status status;
      std::vector<std::string> found = FindAll(**re, a[1].str(), a[2].int_value(), ctx, &status);
      RETURN_IF_ERROR(status);
      if (a[2].int_value() == 0) return Value::NilList(ElemType::kString);
      return StringList(std::move(found));
    };
  };
  m->Add("regexFindAll", Sig({PT::kString, PT::kString, PT::kInt}), find_all(false));
  m->Add("mustRegexFindAll", Sig({PT::kString, PT::kString, PT::kInt}), find_all(true));
  auto find = [](bool must) {
    return [must](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
      absl::StatusOr<std::unique_ptr<RE2>> re =
          must ? Compile(a[0].str()) : MustCompile(a[0].str());
      if (!re.ok()) return re.status();
      re2::StringPiece match;
      if (!(*re)->Match(SP(a[1].str()), 0, a[1].str().size(), RE2::UNANCHORED, &match, 1)) {
        return Str("");
      }
      return Str(std::string(match.data(), match.size()));
    };
  };
  m->Add("regexFind", Sig({PT::kString, PT::kString}), find(false));
  m->Add("mustRegexFind", Sig({PT::kString, PT::kString}), find(true));
  auto replace = [](bool must, bool literal) {
    return [must, literal](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
      absl::StatusOr<std::unique_ptr<RE2>> re =
          must ? Compile(a[0].str()) : MustCompile(a[0].str());
      if (!re.ok()) return re.status();
      ASSIGN_OR_RETURN(std::string out, ReplaceAll(**re, a[1].str(), a[2].str(), literal, ctx));
      return Str(std::move(out));
    };
  };
  m->Add("regexReplaceAll", Sig({PT::kString, PT::kString, PT::kString}), replace(false, false));
  m->Add("mustRegexReplaceAll", Sig({PT::kString, PT::kString, PT::kString}), replace(true, false));
  m->Add("regexReplaceAllLiteral", Sig({PT::kString, PT::kString, PT::kString}),
         replace(false, true));
  m->Add("mustRegexReplaceAllLiteral", Sig({PT::kString, PT::kString, PT::kString}),
         replace(true, true));
  auto split = [](bool must) {
    return [must](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
      absl::StatusOr<std::unique_ptr<RE2>> re =
          must ? Compile(a[0].str()) : MustCompile(a[0].str());
      if (!re.ok()) return re.status();
      absl::Status status;
      std::vector<std::string> parts =
          Split(**re, a[0].str(), a[1].str(), a[2].int_value(), ctx, &status);
      RETURN_IF_ERROR(status);
      if (a[2].int_value() == 0) return Value::NilList(ElemType::kString);
      return StringList(std::move(parts));
    };
  };
  m->Add("regexSplit", Sig({PT::kString, PT::kString, PT::kInt}), split(false));
  m->Add("mustRegexSplit", Sig({PT::kString, PT::kString, PT::kInt}), split(true));
  m->Add("regexQuoteMeta", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(QuoteMeta(a[0].str())));
  });
}

}  // namespace flotilla::common::tmpl::sprig
