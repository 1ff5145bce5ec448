#include "common/template/strconv.h"

#include <locale.h>
#include <stdlib.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/ascii.h"
#include "common/template/unicode.h"

namespace flotilla::common::tmpl {

namespace {

constexpr char kLowerHex[] = "0123456789abcdef";

void AppendEscapedRune(std::string* out, int32_t r, char quote, bool ascii_only) {
  if (r == quote || r == '\\') {
    out->push_back('\\');
    AppendRune(out, r);
    return;
  }
  if (ascii_only) {
    if (r < 0x80 && IsPrint(r)) {
      out->push_back(static_cast<char>(r));
      return;
    }
  } else if (IsPrint(r)) {
    AppendRune(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out->append("\\a");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '\v':
      out->append("\\v");
      return;
    default:
      break;
  }
  if (r < ' ' || r == 0x7F) {
    out->append("\\x");
    out->push_back(kLowerHex[(r >> 4) & 0xF]);
    out->push_back(kLowerHex[r & 0xF]);
    return;
  }
  if (!ValidRune(r)) r = kRuneError;
  if (r < 0x10000) {
    out->append("\\u");
    for (int s = 12; s >= 0; s -= 4) out->push_back(kLowerHex[(r >> s) & 0xF]);
  } else {
    out->append("\\U");
    for (int s = 28; s >= 0; s -= 4) out->push_back(kLowerHex[(r >> s) & 0xF]);
  }
}

int Unhex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// strconv.UnquoteChar. Returns false on a syntax error.
bool UnquoteChar(absl::string_view* s, char quote, int32_t* value, bool* multibyte) {
  *multibyte = false;
  if (s->empty()) return false;
  char c = (*s)[0];
  if (c == quote && (quote == '\'' || quote == '"')) return false;
  if (static_cast<unsigned char>(c) >= 0x80) {
    size_t w;
    *value = DecodeRune(*s, &w);
    s->remove_prefix(w);
    *multibyte = true;
    return true;
  }
  if (c != '\\') {
    *value = static_cast<unsigned char>(c);
    s->remove_prefix(1);
    return true;
  }
  if (s->size() <= 1) return false;
  c = (*s)[1];
  s->remove_prefix(2);
  switch (c) {
    case 'a':
      *value = '\a';
      return true;
    case 'b':
      *value = '\b';
      return true;
    case 'f':
      *value = '\f';
      return true;
    case 'n':
      *value = '\n';
      return true;
    case 'r':
      *value = '\r';
      return true;
    case 't':
      *value = '\t';
      return true;
    case 'v':
      *value = '\v';
      return true;
    case 'x':
    case 'u':
    case 'U': {
      size_t n = c == 'x' ? 2 : (c == 'u' ? 4 : 8);
      if (s->size() < n) return false;
      int32_t v = 0;
      for (size_t j = 0; j < n; ++j) {
        int x = Unhex((*s)[j]);
        if (x < 0) return false;
        v = (v << 4) | x;
      }
      s->remove_prefix(n);
      if (c == 'x') {
        *value = v;
        return true;
      }
      if (!ValidRune(v)) return false;
      *value = v;
      *multibyte = true;
      return true;
    }
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7': {
      int32_t v = c - '0';
      if (s->size() < 2) return false;
      for (size_t j = 0; j < 2; ++j) {
        int x = (*s)[j] - '0';
        if (x < 0 || x > 7) return false;
        v = (v << 3) | x;
      }
      s->remove_prefix(2);
      if (v > 255) return false;
      *value = v;
      return true;
    }
    case '\\':
      *value = '\\';
      return true;
    case '\'':
    case '"':
      if (c != quote) return false;
      *value = c;
      return true;
    default:
      return false;
  }
}

char Lower(char c) { return static_cast<char>(c | ('x' - 'X')); }

bool UnderscoreOk(absl::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' &&
      (Lower(s[1]) == 'b' || Lower(s[1]) == 'o' || Lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = Lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    char c = s[i];
    if ((c >= '0' && c <= '9') || (hex && Lower(c) >= 'a' && Lower(c) <= 'f')) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// Shortest or rounded decimal digits of |f|: value = 0.d * 10^dp.
struct Digits {
  std::string d;  // no leading or trailing zeros; empty for zero
  int dp = 0;
};

Digits ParseScientific(const char* begin, const char* end) {
  Digits out;
  const char* e = std::find(begin, end, 'e');
  for (const char* p = begin; p < e; ++p) {
    if (*p >= '0' && *p <= '9') out.d.push_back(*p);
  }
  int exp = 0;
  std::from_chars(e + 1 + (e[1] == '+' ? 1 : 0), end, exp);
  size_t first = out.d.find_first_not_of('0');
  if (first == std::string::npos) return Digits{};
  out.d.erase(0, first);
  while (!out.d.empty() && out.d.back() == '0') out.d.pop_back();
  out.dp = exp + 1;
  return out;
}

Digits ShortestDigits(double a) {
  if (a == 0) return Digits{};
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::scientific);
  return ParseScientific(buf, r.ptr);
}

Digits RoundedDigits(double a, int n) {
  if (a == 0) return Digits{};
  char buf[1200];
  auto r =
      std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::scientific, std::max(n - 1, 0));
  return ParseScientific(buf, r.ptr);
}

void FmtE(std::string* dst, bool neg, const Digits& d, int prec, char fmt) {
  if (neg) dst->push_back('-');
  dst->push_back(d.d.empty() ? '0' : d.d[0]);
  if (prec > 0) {
    dst->push_back('.');
    int i = 1;
    int m = std::min(static_cast<int>(d.d.size()), prec + 1);
    if (i < m) {
      dst->append(d.d, i, m - i);
      i = m;
    }
    for (; i <= prec; ++i) dst->push_back('0');
  }
  dst->push_back(fmt);
  int exp = d.dp - 1;
  if (d.d.empty()) exp = 0;
  dst->push_back(exp < 0 ? '-' : '+');
  if (exp < 0) exp = -exp;
  if (exp < 10) {
    dst->push_back('0');
    dst->push_back(static_cast<char>('0' + exp));
  } else if (exp < 100) {
    dst->push_back(static_cast<char>('0' + exp / 10));
    dst->push_back(static_cast<char>('0' + exp % 10));
  } else {
    dst->push_back(static_cast<char>('0' + exp / 100));
    dst->push_back(static_cast<char>('0' + (exp / 10) % 10));
    dst->push_back(static_cast<char>('0' + exp % 10));
  }
}

void FmtF(std::string* dst, bool neg, const Digits& d, int prec) {
  if (neg) dst->push_back('-');
  int nd = static_cast<int>(d.d.size());
  if (d.dp > 0) {
    int m = std::min(nd, d.dp);
    dst->append(d.d, 0, m);
    for (; m < d.dp; ++m) dst->push_back('0');
  } else {
    dst->push_back('0');
  }
  if (prec > 0) {
    dst->push_back('.');
    for (int i = 1; i <= prec; ++i) {
      int j = d.dp + i - 1;
      dst->push_back(j >= 0 && j < nd ? d.d[j] : '0');
    }
  }
}

std::string FormatHexFloat(double f, char fmt, int prec) {
  std::string out;
  if (std::signbit(f)) out.push_back('-');
  double a = std::fabs(f);
  char buf[64];
  std::to_chars_result r;
  if (prec < 0) {
    r = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::hex);
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::hex, prec);
  }
  std::string body(buf, r.ptr);
  size_t p = body.find('p');
  std::string mant = body.substr(0, p);
  std::string exp = body.substr(p + 1);
  char sign = exp[0];
  std::string digits = exp.substr(1);
  if (digits.size() < 2) digits.insert(0, 2 - digits.size(), '0');
  out += "0x" + mant + "p" + sign + digits;
  if (fmt == 'X') out = absl::AsciiStrToUpper(out);
  return out;
}

std::string FormatBinaryFloat(double f) {
  uint64_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  bool neg = (bits >> 63) != 0;
  int exp = static_cast<int>((bits >> 52) & 0x7FF);
  uint64_t mant = bits & ((uint64_t{1} << 52) - 1);
  if (exp == 0) {
    exp = 1;
  } else {
    mant |= uint64_t{1} << 52;
  }
  exp -= 1023 + 52;
  std::string out = neg ? "-" : "";
  out += std::to_string(mant);
  out += "p";
  if (exp >= 0) out += "+";
  out += std::to_string(exp);
  return out;
}

}  // namespace

std::string GoQuote(absl::string_view s, bool ascii_only) {
  std::string out = "\"";
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    if (w == 1 && r == kRuneError) {
      out.append("\\x");
      out.push_back(kLowerHex[(static_cast<unsigned char>(s[0]) >> 4) & 0xF]);
      out.push_back(kLowerHex[static_cast<unsigned char>(s[0]) & 0xF]);
    } else {
      AppendEscapedRune(&out, r, '"', ascii_only);
    }
    s.remove_prefix(w);
  }
  out.push_back('"');
  return out;
}

std::string GoQuoteRune(int32_t r, bool ascii_only) {
  if (!ValidRune(r)) r = kRuneError;
  std::string out = "'";
  AppendEscapedRune(&out, r, '\'', ascii_only);
  out.push_back('\'');
  return out;
}

bool CanBackquote(absl::string_view s) {
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    s.remove_prefix(w);
    if (w > 1) {
      if (r == 0xFEFF) return false;
      continue;
    }
    if (r == kRuneError) return false;
    if ((r < ' ' && r != '\t') || r == '`' || r == 0x7F) return false;
  }
  return true;
}

absl::StatusOr<std::string> GoUnquote(absl::string_view in) {
  const absl::Status syntax = absl::InvalidArgumentError("invalid syntax");
  if (in.size() < 2) return syntax;
  char quote = in[0];
  if (quote == '`') {
    if (in.back() != '`') return syntax;
    absl::string_view body = in.substr(1, in.size() - 2);
    if (body.find('`') != absl::string_view::npos) return syntax;
    std::string out;
    for (char c : body) {
      if (c != '\r') out.push_back(c);
    }
    return out;
  }
  if (quote != '"' && quote != '\'') return syntax;
  absl::string_view s = in.substr(1);
  std::string out;
  while (!s.empty() && s[0] != quote) {
    if (s[0] == '\n') return syntax;
    int32_t r;
    bool multibyte;
    if (!UnquoteChar(&s, quote, &r, &multibyte)) return syntax;
    if (r < 0x80 || !multibyte) {
      out.push_back(static_cast<char>(r));
    } else {
      AppendRune(&out, r);
    }
    if (quote == '\'') break;
  }
  if (s.empty() || s[0] != quote) return syntax;
  s.remove_prefix(1);
  if (!s.empty()) return syntax;
  return out;
}

uint64_t GoParseUint(absl::string_view s, int base, ParseError* err) {
  *err = ParseError::kNone;
  if (s.empty()) {
    *err = ParseError::kSyntax;
    return 0;
  }
  bool base0 = base == 0;
  absl::string_view s0 = s;
  if (base == 0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && Lower(s[1]) == 'b') {
        base = 2;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && Lower(s[1]) == 'o') {
        base = 8;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && Lower(s[1]) == 'x') {
        base = 16;
        s.remove_prefix(2);
      } else {
        base = 8;
        s.remove_prefix(1);
      }
    }
  } else if (base < 2 || base > 36) {
    *err = ParseError::kSyntax;
    return 0;
  }
  bool underscores = false;
  uint64_t n = 0;
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  const uint64_t cutoff = max / static_cast<uint64_t>(base) + 1;
  for (char c : s) {
    int d;
    if (c == '_' && base0) {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (Lower(c) >= 'a' && Lower(c) <= 'z') {
      d = Lower(c) - 'a' + 10;
    } else {
      *err = ParseError::kSyntax;
      return 0;
    }
    if (d >= base) {
      *err = ParseError::kSyntax;
      return 0;
    }
    if (n >= cutoff) {
      *err = ParseError::kRange;
      return max;
    }
    n *= static_cast<uint64_t>(base);
    uint64_t n1 = n + static_cast<uint64_t>(d);
    if (n1 < n) {
      *err = ParseError::kRange;
      return max;
    }
    n = n1;
  }
  if (underscores && !UnderscoreOk(s0)) {
    *err = ParseError::kSyntax;
    return 0;
  }
  return n;
}

int64_t GoParseInt(absl::string_view s, int base, ParseError* err) {
  *err = ParseError::kNone;
  if (s.empty()) {
    *err = ParseError::kSyntax;
    return 0;
  }
  bool neg = false;
  if (s[0] == '+') {
    s.remove_prefix(1);
  } else if (s[0] == '-') {
    neg = true;
    s.remove_prefix(1);
  }
  uint64_t un = GoParseUint(s, base, err);
  if (*err == ParseError::kSyntax) return 0;
  const uint64_t cutoff = uint64_t{1} << 63;
  if (*err == ParseError::kRange || (!neg && un >= cutoff) || (neg && un > cutoff)) {
    *err = ParseError::kRange;
    return neg ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  if (neg) return un == cutoff ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(un);
  return static_cast<int64_t>(un);
}

double GoParseFloat(absl::string_view s, ParseError* err) {
  *err = ParseError::kNone;
  absl::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  std::string lower = absl::AsciiStrToLower(body);
  if (lower == "inf" || lower == "infinity") {
    return neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
  }
  if (lower == "nan") return std::numeric_limits<double>::quiet_NaN();
  // Validate Go's float syntax, then let strtod convert the cleaned text.
  size_t i = 0;
  bool hex = false;
  std::string clean = neg ? "-" : "";
  if (body.size() > 2 && body[0] == '0' && Lower(body[1]) == 'x') {
    hex = true;
    clean += "0x";
    i = 2;
  }
  bool underscores = false;
  bool saw_digits = false;
  bool saw_dot = false;
  for (; i < body.size(); ++i) {
    char c = body[i];
    if (c == '_') {
      underscores = true;
      continue;
    }
    if (c == '.') {
      if (saw_dot) break;
      saw_dot = true;
      clean.push_back(c);
      continue;
    }
    if ((c >= '0' && c <= '9') || (hex && Lower(c) >= 'a' && Lower(c) <= 'f')) {
      saw_digits = true;
      clean.push_back(c);
      continue;
    }
    break;
  }
  if (!saw_digits) {
    *err = ParseError::kSyntax;
    return 0;
  }
  if (i < body.size() && Lower(body[i]) == (hex ? 'p' : 'e')) {
    clean.push_back(hex ? 'p' : 'e');
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) clean.push_back(body[i++]);
    bool exp_digits = false;
    for (; i < body.size(); ++i) {
      char c = body[i];
      if (c == '_') {
        underscores = true;
        continue;
      }
      if (c < '0' || c > '9') break;
      exp_digits = true;
      clean.push_back(c);
    }
    if (!exp_digits) {
      *err = ParseError::kSyntax;
      return 0;
    }
  } else if (hex) {
    *err = ParseError::kSyntax;  // hex mantissa requires a 'p' exponent
    return 0;
  }
  if (i != body.size() || (underscores && !UnderscoreOk(s))) {
    *err = ParseError::kSyntax;
    return 0;
  }
  static locale_t c_locale = newlocale(LC_ALL_MASK, "C", static_cast<locale_t>(nullptr));
  double v = strtod_l(clean.c_str(), nullptr, c_locale);
  if (std::isinf(v)) *err = ParseError::kRange;
  return v;
}

std::string GoFormatFloat(double f, char fmt, int prec) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  if (fmt == 'x' || fmt == 'X') return FormatHexFloat(f, fmt, prec);
  if (fmt == 'b') return FormatBinaryFloat(f);
  bool neg = std::signbit(f);
  double a = std::fabs(f);
  std::string out;
  bool shortest = prec < 0;
  if (fmt == 'f' || fmt == 'F') {
    if (shortest) {
      Digits d = ShortestDigits(a);
      FmtF(&out, neg, d, std::max(static_cast<int>(d.d.size()) - d.dp, 0));
      return out;
    }
    char buf[1400];
    auto r = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::fixed, prec);
    if (neg) out.push_back('-');
    out.append(buf, r.ptr);
    return out;
  }
  Digits d;
  if (shortest) {
    d = ShortestDigits(a);
    if (fmt == 'e' || fmt == 'E') {
      prec = std::max(static_cast<int>(d.d.size()) - 1, 0);
    } else {
      prec = static_cast<int>(d.d.size());
    }
  } else if (fmt == 'e' || fmt == 'E') {
    d = RoundedDigits(a, prec + 1);
  } else {
    if (prec == 0) prec = 1;
    d = RoundedDigits(a, prec);
  }
  if (fmt == 'e' || fmt == 'E') {
    FmtE(&out, neg, d, prec, fmt);
    return out;
  }
  // 'g' / 'G'
  int nd = static_cast<int>(d.d.size());
  int eprec = prec;
  if (eprec > nd && nd >= d.dp) eprec = nd;
  if (shortest) eprec = 6;
  int exp = d.dp - 1;
  if (exp < -4 || exp >= eprec) {
    if (prec > nd) prec = nd;
    FmtE(&out, neg, d, prec - 1, fmt == 'g' ? 'e' : 'E');
    return out;
  }
  if (prec > d.dp) prec = nd;
  FmtF(&out, neg, d, std::max(prec - d.dp, 0));
  return out;
}

std::string GoFormatUint(uint64_t u, int base) {
  if (u == 0) return "0";
  std::string out;
  while (u > 0) {
    out.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[u % static_cast<uint64_t>(base)]);
    u /= static_cast<uint64_t>(base);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string GoFormatInt(int64_t i, int base) {
  if (i < 0) {
    uint64_t u = static_cast<uint64_t>(-(i + 1)) + 1;
    return "-" + GoFormatUint(u, base);
  }
  return GoFormatUint(static_cast<uint64_t>(i), base);
}

}  // namespace flotilla::common::tmpl
