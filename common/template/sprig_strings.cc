// Sprig's string functions (sprig/strings.go, functions.go), with the
// helpers they use from Go's strings package, Masterminds/goutils and
// huandu/xstrings.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "common/template/format.h"
#include "common/template/sprig_internal.h"
#include "common/template/strconv.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;

Value Str(std::string s) { return Value::String(std::move(s)); }

std::vector<int32_t> Runes(absl::string_view s) {
  std::vector<int32_t> out;
  while (!s.empty()) {
    size_t w;
    out.push_back(DecodeRune(s, &w));
    s.remove_prefix(w);
  }
  return out;
}

std::string FromRunes(const std::vector<int32_t>& runes) {
  std::string out;
  for (int32_t r : runes) AppendRune(&out, r);
  return out;
}

// strings.Trim with a cutset of runes.
std::string Trim(absl::string_view s, absl::string_view cutset) {
  std::vector<int32_t> cut = Runes(cutset);
  auto in_cut = [&](int32_t r) { return std::find(cut.begin(), cut.end(), r) != cut.end(); };
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    if (!in_cut(r)) break;
    s.remove_prefix(w);
  }
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeLastRune(s, &w);
    if (!in_cut(r)) break;
    s.remove_suffix(w);
  }
  return std::string(s);
}

// strings.Title's word separators.
bool IsSeparator(int32_t r) {
  if (r <= 0x7F) {
    return !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
             r == '_');
  }
  if (IsLetter(r) || IsDigit(r)) return false;
  return IsSpace(r);
}

std::string Title(absl::string_view s) {
  std::string out;
  int32_t prev = ' ';
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    AppendRune(&out, IsSeparator(prev) ? ToTitle(r) : r);
    prev = r;
    s.remove_prefix(w);
  }
  return out;
}

// goutils.Uncapitalize: lower-case the first letter of each word.
std::string Untitle(absl::string_view s) {
  std::vector<int32_t> runes = Runes(s);
  bool next = true;
  for (int32_t& r : runes) {
    if (IsSpace(r)) {
      next = true;
    } else if (next) {
      r = ToLower(r);
      next = false;
    }
  }
  return FromRunes(runes);
}

// goutils.SwapCase: word-based; a lower-case letter starting a word becomes
// title case.
std::string SwapCase(absl::string_view s) {
  std::vector<int32_t> runes = Runes(s);
  bool whitespace = true;
  for (int32_t& r : runes) {
    if (IsUpper(r) || IsTitle(r)) {
      r = ToLower(r);
      whitespace = false;
    } else if (IsLower(r)) {
      r = whitespace ? ToTitle(r) : ToUpper(r);
      whitespace = false;
    } else {
      whitespace = IsSpace(r);
    }
  }
  return FromRunes(runes);
}

// goutils.DeleteWhiteSpace works byte by byte: a byte of a multi-byte
// character is re-encoded as the Latin-1 character of that value.
std::string NoSpace(absl::string_view s) {
  std::string out;
  bool changed = false;
  for (char c : s) {
    int32_t r = static_cast<unsigned char>(c);
    if (IsSpace(r)) {
      changed = true;
      continue;
    }
    if (r >= 0x80) changed = true;
    AppendRune(&out, r);
  }
  return changed ? out : std::string(s);
}

// goutils.Initials (byte-based, like NoSpace).
std::string Initials(absl::string_view s) {
  std::string out;
  bool last_was_gap = true;
  for (char c : s) {
    int32_t r = static_cast<unsigned char>(c);
    if (IsSpace(r)) {
      last_was_gap = true;
    } else if (last_was_gap) {
      AppendRune(&out, r);
      last_was_gap = false;
    }
  }
  return out;
}

// goutils.AbbreviateFull.
absl::StatusOr<std::string> AbbreviateFull(absl::string_view str, int offset, int max_width) {
  if (str.empty()) return std::string();
  if (max_width < 4) {
    return absl::InvalidArgumentError(
        "stringutils illegal argument: Minimum abbreviation width is 4");
  }
  int len = static_cast<int>(str.size());
  if (len <= max_width) return std::string(str);
  if (offset > len) offset = len;
  if (len - offset < max_width - 3) offset = len - (max_width - 3);
  if (offset <= 4) return absl::StrCat(str.substr(0, static_cast<size_t>(max_width - 3)), "...");
  if (max_width < 7) {
    return absl::InvalidArgumentError(
        "stringutils illegal argument: Minimum abbreviation width with offset is 7");
  }
  if (offset + max_width - 3 < len) {
    absl::StatusOr<std::string> rest =
        AbbreviateFull(str.substr(static_cast<size_t>(offset)), 0, max_width - 3);
    return absl::StrCat("...", rest.ok() ? *rest : "");
  }
  return absl::StrCat("...", str.substr(static_cast<size_t>(len - (max_width - 3))));
}

// goutils.WrapCustom (byte-based).
std::string WrapCustom(absl::string_view str, int wrap_length, std::string new_line,
                       bool wrap_long_words) {
  if (str.empty()) return "";
  if (new_line.empty()) new_line = "\n";
  if (wrap_length < 1) wrap_length = 1;
  size_t wl = static_cast<size_t>(wrap_length);
  size_t len = str.size();
  size_t offset = 0;
  std::string out;
  while (len - offset > wl) {
    if (str[offset] == ' ') {
      ++offset;
      continue;
    }
    size_t end = wl + offset + 1;
    size_t space = str.substr(offset, end - offset).rfind(' ');
    if (space != absl::string_view::npos) {
      size_t at = space + offset;
      out.append(str.data() + offset, at - offset);
      out += new_line;
      offset = at + 1;
    } else if (wrap_long_words) {
      out.append(str.data() + offset, wl);
      out += new_line;
      offset += wl;
    } else {
      size_t e = wl + offset;
      size_t idx = str.substr(e).find(' ');
      if (idx != absl::string_view::npos) {
        size_t at = idx + e;
        out.append(str.data() + offset, at - offset);
        out += new_line;
        offset = at + 1;
      } else {
        out.append(str.data() + offset, len - offset);
        offset = len;
      }
    }
  }
  out.append(str.data() + offset, len - offset);
  return out;
}

// --- xstrings v1.5 case conversion ---

bool IsConnector(int32_t r) { return r == '-' || r == '_' || IsSpace(r); }

// xstrings.ToPascalCase (Sprig's camelcase).
std::string PascalCase(absl::string_view str) {
  if (str.empty()) return "";
  std::string out;
  bool first_upper = false;
  int32_t r0 = 0, r1;
  size_t size = 0;
  while (!str.empty()) {
    r0 = DecodeRune(str, &size);
    str.remove_prefix(size);
    if (!IsConnector(r0)) {
      first_upper = IsUpper(r0);
      r0 = ToUpper(r0);
      break;
    }
    AppendRune(&out, r0);
  }
  if (str.empty()) {
    if (size != 0 && !IsConnector(r0)) AppendRune(&out, r0);
    return out;
  }
  while (!str.empty()) {
    r1 = r0;
    r0 = DecodeRune(str, &size);
    str.remove_prefix(size);
    if (IsConnector(r0) && IsConnector(r1)) {
      AppendRune(&out, r1);
      continue;
    }
    if (IsConnector(r1)) {
      first_upper = IsUpper(r0);
      r0 = ToUpper(r0);
    } else {
      if (first_upper) {
        if (IsUpper(r0)) {
          r0 = ToLower(r0);
        } else {
          first_upper = false;
        }
      }
      AppendRune(&out, r1);
    }
  }
  AppendRune(&out, r0);
  return out;
}

enum class WordType { kInvalid, kNumber, kUpperCase, kAlphabet, kConnector, kPunct, kOther };

struct Word {
  WordType type = WordType::kInvalid;
  absl::string_view word;
  absl::string_view remaining;
};

bool IsAlphabet(int32_t r) { return IsLetter(r); }

int32_t NextValidRune(absl::string_view s, int32_t prev, size_t* size) {
  *size = 0;
  while (!s.empty()) {
    size_t sz;
    int32_t r = DecodeRune(s, &sz);
    *size += sz;
    if (!(r == kRuneError && sz == 1)) return r;
    s.remove_prefix(sz);
  }
  return prev;
}

Word NextWord(absl::string_view str) {
  Word w;
  if (str.empty()) return w;
  size_t offset = 0;
  absl::string_view remaining = str;
  size_t size;
  int32_t r = NextValidRune(remaining, kRuneError, &size);
  offset += size;
  if (r == kRuneError) {
    w.type = WordType::kInvalid;
    w.word = str.substr(0, offset);
    w.remaining = str.substr(offset);
    return w;
  }
  auto advance_while = [&](auto pred) {
    while (!remaining.empty()) {
      r = NextValidRune(remaining, r, &size);
      if (!pred(r)) break;
      offset += size;
      remaining.remove_prefix(size);
    }
  };
  if (IsConnector(r)) {
    w.type = WordType::kConnector;
    remaining.remove_prefix(size);
    advance_while([](int32_t c) { return IsConnector(c); });
  } else if (IsPunct(r)) {
    w.type = WordType::kPunct;
    remaining.remove_prefix(size);
    advance_while([](int32_t c) { return IsPunct(c); });
  } else if (IsUpper(r)) {
    w.type = WordType::kUpperCase;
    remaining.remove_prefix(size);
    if (!remaining.empty()) {
      r = NextValidRune(remaining, r, &size);
      if (IsUpper(r)) {
        size_t prev_size = size;
        offset += size;
        remaining.remove_prefix(size);
        while (!remaining.empty()) {
          r = NextValidRune(remaining, r, &size);
          if (!IsUpper(r)) break;
          prev_size = size;
          offset += size;
          remaining.remove_prefix(size);
        }
        if (!remaining.empty() && IsAlphabet(r)) {
          offset -= prev_size;
          remaining = str.substr(offset);
        }
      } else if (IsAlphabet(r)) {
        offset += size;
        remaining.remove_prefix(size);
        advance_while([](int32_t c) { return IsAlphabet(c) && !IsUpper(c); });
      }
    }
  } else if (IsAlphabet(r)) {
    w.type = WordType::kAlphabet;
    remaining.remove_prefix(size);
    advance_while([](int32_t c) { return IsAlphabet(c) && !IsUpper(c); });
  } else if (IsNumber(r)) {
    w.type = WordType::kNumber;
    remaining.remove_prefix(size);
    advance_while([](int32_t c) { return IsNumber(c); });
  } else {
    w.type = WordType::kOther;
    remaining.remove_prefix(size);
    while (!remaining.empty()) {
      r = NextValidRune(remaining, r, &size);
      if (size == 0 || IsConnector(r) || IsAlphabet(r) || IsNumber(r) || IsPunct(r)) break;
      offset += size;
      remaining.remove_prefix(size);
    }
  }
  w.word = str.substr(0, offset);
  w.remaining = remaining;
  return w;
}

void ToLowerWord(std::string* buf, WordType wt, absl::string_view s, int32_t connector) {
  if (wt != WordType::kUpperCase && wt != WordType::kConnector) {
    buf->append(s.data(), s.size());
    return;
  }
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    s.remove_prefix(w);
    if (IsConnector(r)) {
      AppendRune(buf, connector);
    } else if (IsUpper(r)) {
      AppendRune(buf, ToLower(r));
    } else {
      AppendRune(buf, r);
    }
  }
}

// xstrings' camelCaseToLowerCase (snakecase, kebabcase).
std::string CamelToLower(absl::string_view str, int32_t connector) {
  if (str.empty()) return "";
  std::string buf;
  Word w = NextWord(str);
  while (!w.remaining.empty()) {
    if (w.type != WordType::kConnector) ToLowerWord(&buf, w.type, w.word, connector);
    WordType prev = w.type;
    absl::string_view last = w.word;
    w = NextWord(w.remaining);
    switch (prev) {
      case WordType::kNumber:
        while (w.type == WordType::kAlphabet || w.type == WordType::kNumber) {
          ToLowerWord(&buf, w.type, w.word, connector);
          w = NextWord(w.remaining);
        }
        if (w.type != WordType::kInvalid && w.type != WordType::kPunct &&
            w.type != WordType::kConnector) {
          AppendRune(&buf, connector);
        }
        break;
      case WordType::kConnector:
        ToLowerWord(&buf, prev, last, connector);
        break;
      case WordType::kPunct:
        break;
      default: {
        if (w.type != WordType::kNumber) {
          if (w.type != WordType::kConnector && w.type != WordType::kPunct) {
            AppendRune(&buf, connector);
          }
          break;
        }
        if (w.remaining.empty()) break;
        absl::string_view number = w.word;
        w = NextWord(w.remaining);
        if (w.type != WordType::kAlphabet) {
          ToLowerWord(&buf, WordType::kNumber, number, connector);
          if (w.type != WordType::kConnector && w.type != WordType::kPunct) {
            AppendRune(&buf, connector);
          }
          break;
        }
        AppendRune(&buf, connector);
        ToLowerWord(&buf, WordType::kNumber, number, connector);
        while (w.type == WordType::kAlphabet || w.type == WordType::kNumber) {
          ToLowerWord(&buf, w.type, w.word, connector);
          w = NextWord(w.remaining);
        }
        if (w.type != WordType::kInvalid && w.type != WordType::kConnector &&
            w.type != WordType::kPunct) {
          AppendRune(&buf, connector);
        }
        break;
      }
    }
  }
  ToLowerWord(&buf, w.type, w.word, connector);
  return buf;
}

// strings.SplitN (n < 0: all).
std::vector<std::string> SplitN(absl::string_view s, absl::string_view sep, int n) {
  std::vector<std::string> out;
  if (n == 0) return out;
  if (sep.empty()) {
    while (!s.empty() && (n < 0 || static_cast<int>(out.size()) < n - 1)) {
      size_t w;
      DecodeRune(s, &w);
      out.emplace_back(s.substr(0, w));
      s.remove_prefix(w);
    }
    if (!s.empty()) out.emplace_back(s);
    return out;
  }
  while (n < 0 || static_cast<int>(out.size()) < n - 1) {
    size_t i = s.find(sep);
    if (i == absl::string_view::npos) break;
    out.emplace_back(s.substr(0, i));
    s.remove_prefix(i + sep.size());
  }
  out.emplace_back(s);
  return out;
}

// strings.Replace(s, old, new, -1).
std::string ReplaceAll(absl::string_view s, absl::string_view old, absl::string_view repl) {
  if (old.empty()) {
    std::string out(repl);
    while (!s.empty()) {
      size_t w;
      DecodeRune(s, &w);
      out.append(s.data(), w);
      out.append(repl.data(), repl.size());
      s.remove_prefix(w);
    }
    return out;
  }
  return absl::StrReplaceAll(s, {{old, repl}});
}

Value IndexedMap(const std::vector<std::string>& parts) {
  std::map<std::string, Value> m;
  for (size_t i = 0; i < parts.size(); ++i) {
    m.emplace(absl::StrCat("_", i), Value::String(parts[i]));
  }
  return Value::Map(std::move(m), ElemType::kString);
}

std::string SliceBoundsError(int64_t a, int64_t b, bool has_a, size_t len) {
  if (!has_a) {
    if (b < 0) return absl::StrCat("runtime error: slice bounds out of range [:", b, "]");
    return absl::StrCat("runtime error: slice bounds out of range [:", b, "] with length ", len);
  }
  return absl::StrCat("runtime error: slice bounds out of range [", a, ":", b, "]");
}

}  // namespace

void AddStringFunctions(FuncMap* m, const Env& env) {
  auto s1 = [](std::string (*f)(absl::string_view)) {
    return [f](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
      return Str(f(a[0].str()));
    };
  };
  m->Add("hello", Sig({}),
         [](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> { return Str("Hello!"); });
  m->Add("trim", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(std::string(TrimSpace(a[0].str()))));
  });
  auto trim_all = [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
    return Str(Trim(a[1].str(), a[0].str()));
  };
  m->Add("trimAll", Sig({PT::kString, PT::kString}), trim_all);
  m->Add("trimall", Sig({PT::kString, PT::kString}), trim_all);
  m->Add("trimSuffix", Sig({PT::kString, PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(std::string(absl::StripSuffix(a[1].str(), a[0].str()))));
  });
  m->Add("trimPrefix", Sig({PT::kString, PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(std::string(absl::StripPrefix(a[1].str(), a[0].str()))));
  });
  m->Add("upper", Sig({PT::kString}), s1(&StrToUpper));
  m->Add("lower", Sig({PT::kString}), s1(&StrToLower));
  m->Add("title", Sig({PT::kString}), s1(&Title));
  m->Add("untitle", Sig({PT::kString}), s1(&Untitle));
  m->Add("swapcase", Sig({PT::kString}), s1(&SwapCase));
  m->Add("nospace", Sig({PT::kString}), s1(&NoSpace));
  m->Add("initials", Sig({PT::kString}), s1(&Initials));
  m->Add("camelcase", Sig({PT::kString}), s1(&PascalCase));
  m->Add("snakecase", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(CamelToLower(a[0].str(), '_')));
  });
  m->Add("kebabcase", Sig({PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(CamelToLower(a[0].str(), '-')));
  });
  m->Add("shuffle", Sig({PT::kString}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           std::vector<int32_t> runes = Runes(a[0].str());
           for (size_t i = runes.size(); i > 1; --i) {
             size_t j = RandomBelow(*env.random, i);
             std::swap(runes[i - 1], runes[j]);
           }
           return Str(FromRunes(runes));
         });
  m->Add(
      "repeat", Sig({PT::kInt, PT::kString}),
      [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
        int64_t count = a[0].int_value();
        const std::string& s = a[1].str();
        if (count < 0) return absl::InvalidArgumentError("strings: negative Repeat count");
        if (!s.empty() && static_cast<uint64_t>(count) > ctx.limits().max_output_bytes / s.size()) {
          return CheckStringSize(ctx, ctx.limits().max_output_bytes + 1);
        }
        std::string out;
        out.reserve(s.size() * static_cast<size_t>(count));
        for (int64_t i = 0; i < count; ++i) out += s;
        return Str(std::move(out));
      });
  m->Add("substr", Sig({PT::kInt, PT::kInt, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int64_t start = a[0].int_value();
           int64_t end = a[1].int_value();
           const std::string& s = a[2].str();
           auto len = static_cast<int64_t>(s.size());
           if (start < 0) {
             if (end < 0 || end > len) {
               return absl::InvalidArgumentError(SliceBoundsError(0, end, false, s.size()));
             }
             return Str(s.substr(0, static_cast<size_t>(end)));
           }
           if (end < 0 || end > len) {
             if (start > len) {
               return absl::InvalidArgumentError(SliceBoundsError(start, len, true, s.size()));
             }
             return Str(s.substr(static_cast<size_t>(start)));
           }
           if (start > end) {
             return absl::InvalidArgumentError(SliceBoundsError(start, end, true, s.size()));
           }
           return Str(s.substr(static_cast<size_t>(start), static_cast<size_t>(end - start)));
         });
  m->Add("trunc", Sig({PT::kInt, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int64_t c = a[0].int_value();
           const std::string& s = a[1].str();
           auto len = static_cast<int64_t>(s.size());
           if (c < 0 && len + c > 0) return Str(s.substr(static_cast<size_t>(len + c)));
           if (c >= 0 && len > c) return Str(s.substr(0, static_cast<size_t>(c)));
           return Str(s);
         });
  m->Add("abbrev", Sig({PT::kInt, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int64_t width = a[0].int_value();
           if (width < 4) return Str(a[1].str());
           absl::StatusOr<std::string> r =
               AbbreviateFull(a[1].str(), 0, static_cast<int>(std::min<int64_t>(width, INT32_MAX)));
           return Str(r.ok() ? *r : "");
         });
  m->Add("abbrevboth", Sig({PT::kInt, PT::kInt, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int64_t left = a[0].int_value();
           int64_t right = a[1].int_value();
           if (right < 4 || (left > 0 && right < 7)) return Str(a[2].str());
           absl::StatusOr<std::string> r = AbbreviateFull(
               a[2].str(), static_cast<int>(std::clamp<int64_t>(left, INT32_MIN, INT32_MAX)),
               static_cast<int>(std::min<int64_t>(right, INT32_MAX)));
           return Str(r.ok() ? *r : "");
         });
  m->Add("wrap", Sig({PT::kInt, PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           int l = static_cast<int>(std::clamp<int64_t>(a[0].int_value(), 0, INT32_MAX));
           return Str(WrapCustom(a[1].str(), l, "", false));
         });
  m->Add("wrapWith", Sig({PT::kInt, PT::kString, PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           int l = static_cast<int>(std::clamp<int64_t>(a[0].int_value(), 0, INT32_MAX));
           std::string out = WrapCustom(a[2].str(), l, a[1].str(), true);
           RETURN_IF_ERROR(CheckStringSize(ctx, out.size()));
           return Str(std::move(out));
         });
  m->Add("contains", Sig({PT::kString, PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Bool(absl::StrContains(a[1].str(), a[0].str())));
  });
  m->Add("hasPrefix", Sig({PT::kString, PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Bool(absl::StartsWith(a[1].str(), a[0].str())));
  });
  m->Add("hasSuffix", Sig({PT::kString, PT::kString}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Value::Bool(absl::EndsWith(a[1].str(), a[0].str())));
  });
  m->Add("quote", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           std::vector<std::string> out;
           for (const Value& v : a) {
             if (!v.is_nilish()) out.push_back(GoQuote(Strval(v)));
           }
           return Str(absl::StrJoin(out, " "));
         });
  m->Add("squote", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           std::vector<std::string> out;
           for (const Value& v : a) {
             if (!v.is_nilish()) out.push_back(absl::StrCat("'", FormatV(v), "'"));
           }
           return Str(absl::StrJoin(out, " "));
         });
  m->Add("cat", VariadicSig({PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::vector<std::string> out;
           size_t total = 0;
           for (const Value& v : a) {
             if (v.is_nilish()) continue;
             out.push_back(FormatV(v));
             total += out.back().size() + 1;
           }
           RETURN_IF_ERROR(CheckStringSize(ctx, total));
           return Str(absl::StrJoin(out, " "));
         });
  auto indent = [](int64_t spaces, const std::string& v, CallContext& ctx,
                   bool leading_newline) -> absl::StatusOr<Value> {
    if (spaces < 0) spaces = 0;
    size_t lines = static_cast<size_t>(std::count(v.begin(), v.end(), '\n')) + 1;
    if (static_cast<uint64_t>(spaces) > ctx.limits().max_output_bytes / lines) {
      return CheckStringSize(ctx, ctx.limits().max_output_bytes + 1);
    }
    RETURN_IF_ERROR(CheckStringSize(ctx, v.size() + lines * static_cast<size_t>(spaces)));
    std::string pad(static_cast<size_t>(spaces), ' ');
    std::string out = leading_newline ? "\n" + pad : pad;
    for (char c : v) {
      out.push_back(c);
      if (c == '\n') out += pad;
    }
    return Str(std::move(out));
  };
  m->Add("indent", Sig({PT::kInt, PT::kString}), [indent](std::vector<Value>& a, CallContext& ctx) {
    return indent(a[0].int_value(), a[1].str(), ctx, false);
  });
  m->Add("nindent", Sig({PT::kInt, PT::kString}),
         [indent](std::vector<Value>& a, CallContext& ctx) {
           return indent(a[0].int_value(), a[1].str(), ctx, true);
         });
  m->Add("replace", Sig({PT::kString, PT::kString, PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           const std::string& old = a[0].str();
           const std::string& repl = a[1].str();
           const std::string& src = a[2].str();
           if (repl.size() > old.size()) {
             size_t n = old.empty() ? RuneCount(src) + 1 : src.size() / old.size();
             RETURN_IF_ERROR(CheckStringSize(ctx, src.size() + n * (repl.size() - old.size())));
           }
           return Str(ReplaceAll(src, old, repl));
         });
  m->Add("plural", Sig({PT::kString, PT::kString, PT::kInt}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           return a[2].int_value() == 1 ? a[0] : a[1];
         });
  m->Add("toString", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(Strval(a[0])));
  });
  m->Add("toStrings", Sig({PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           if (a[0].is_list() && a[0].elem_type() == ElemType::kString) return a[0];
           RETURN_IF_ERROR(ChargeElements(ctx, a[0].Len()));
           return StringList(StrSlice(a[0]));
         });
  m->Add("split", Sig({PT::kString, PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::vector<std::string> parts = SplitN(a[1].str(), a[0].str(), -1);
           RETURN_IF_ERROR(ChargeElements(ctx, parts.size()));
           return IndexedMap(parts);
         });
  m->Add("splitn", Sig({PT::kString, PT::kInt, PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           int64_t n = a[1].int_value();
           std::vector<std::string> parts = SplitN(
               a[2].str(), a[0].str(), static_cast<int>(std::clamp<int64_t>(n, -1, INT32_MAX)));
           RETURN_IF_ERROR(ChargeElements(ctx, parts.size()));
           return IndexedMap(parts);
         });
  m->Add("splitList", Sig({PT::kString, PT::kString}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           std::vector<std::string> parts = SplitN(a[1].str(), a[0].str(), -1);
           RETURN_IF_ERROR(ChargeElements(ctx, parts.size()));
           return StringList(std::move(parts));
         });
  m->Add("join", Sig({PT::kString, PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(ChargeElements(ctx, a[1].Len()));
           std::vector<std::string> parts = StrSlice(a[1]);
           size_t total = 0;
           for (const std::string& p : parts) total += p.size() + a[0].str().size();
           RETURN_IF_ERROR(CheckStringSize(ctx, total));
           return Str(absl::StrJoin(parts, a[0].str()));
         });
  m->Add("sortAlpha", Sig({PT::kAny}),
         [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
           if (!a[0].is_list()) return StringList({Strval(a[0])});
           RETURN_IF_ERROR(ChargeElements(ctx, a[0].Len()));
           std::vector<std::string> parts = StrSlice(a[0]);
           std::sort(parts.begin(), parts.end());
           return StringList(std::move(parts));
         });
}

}  // namespace flotilla::common::tmpl::sprig
