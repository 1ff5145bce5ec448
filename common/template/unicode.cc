#include "common/template/unicode.h"

#include <locale.h>
#include <wctype.h>

namespace flotilla::common::tmpl {

namespace {

// glibc's built-in C.UTF-8 locale, used only through the *_l functions so the
// process locale does not matter. Null if unavailable: then only ASCII is
// classified.
locale_t Utf8Locale() {
  static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return loc;
}

wctrans_t TitleTrans() {
  static wctrans_t t = Utf8Locale() ? wctrans_l("totitle", Utf8Locale()) : wctrans_t();
  return t;
}

}  // namespace

bool ValidRune(int32_t r) { return r >= 0 && r <= kMaxRune && !(r >= 0xD800 && r <= 0xDFFF); }

int32_t DecodeRune(absl::string_view s, size_t* width) {
  if (s.empty()) {
    *width = 0;
    return kRuneError;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  unsigned char c0 = p[0];
  if (c0 < 0x80) {
    *width = 1;
    return c0;
  }
  *width = 1;
  size_t need;
  int32_t r;
  int32_t min;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    need = 2;
    r = c0 & 0x1F;
    min = 0x80;
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    need = 3;
    r = c0 & 0x0F;
    min = 0x800;
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    need = 4;
    r = c0 & 0x07;
    min = 0x10000;
  } else {
    return kRuneError;
  }
  if (s.size() < need) return kRuneError;
  for (size_t i = 1; i < need; ++i) {
    if ((p[i] & 0xC0) != 0x80) return kRuneError;
    r = (r << 6) | (p[i] & 0x3F);
  }
  if (r < min || r > kMaxRune || (r >= 0xD800 && r <= 0xDFFF)) return kRuneError;
  *width = need;
  return r;
}

int32_t DecodeLastRune(absl::string_view s, size_t* width) {
  if (s.empty()) {
    *width = 0;
    return kRuneError;
  }
  size_t start = s.size() - 1;
  size_t lim = s.size() >= 4 ? s.size() - 4 : 0;
  while (start > lim && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  size_t w;
  int32_t r = DecodeRune(s.substr(start), &w);
  if (start + w != s.size()) {
    *width = 1;
    return kRuneError;
  }
  *width = w;
  return r;
}

void AppendRune(std::string* out, int32_t r) {
  if (!ValidRune(r)) r = kRuneError;
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

std::string RuneToString(int32_t r) {
  std::string s;
  AppendRune(&s, r);
  return s;
}

size_t RuneCount(absl::string_view s) {
  size_t n = 0;
  while (!s.empty()) {
    size_t w;
    DecodeRune(s, &w);
    s.remove_prefix(w);
    ++n;
  }
  return n;
}

bool ValidUtf8(absl::string_view s) {
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    if (r == kRuneError && w == 1) return false;
    s.remove_prefix(w);
  }
  return true;
}

bool IsSpace(int32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200A;
  }
}

bool IsUpper(int32_t r) {
  if (r < 0x80) return r >= 'A' && r <= 'Z';
  locale_t loc = Utf8Locale();
  return loc != nullptr && iswupper_l(static_cast<wint_t>(r), loc) != 0 && !IsTitle(r);
}

bool IsLower(int32_t r) {
  if (r < 0x80) return r >= 'a' && r <= 'z';
  locale_t loc = Utf8Locale();
  return loc != nullptr && iswlower_l(static_cast<wint_t>(r), loc) != 0;
}

bool IsTitle(int32_t r) {
  // The Lt category: a handful of digraphs and Greek letters with iota.
  return r == 0x01C5 || r == 0x01C8 || r == 0x01CB || r == 0x01F2 || (r >= 0x1F88 && r <= 0x1F8F) ||
         (r >= 0x1F98 && r <= 0x1F9F) || (r >= 0x1FA8 && r <= 0x1FAF) || r == 0x1FBC ||
         r == 0x1FCC || r == 0x1FFC;
}

bool IsLetter(int32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
  locale_t loc = Utf8Locale();
  return loc != nullptr && iswalpha_l(static_cast<wint_t>(r), loc) != 0;
}

bool IsDigit(int32_t r) {
  if (r < 0x80) return r >= '0' && r <= '9';
  locale_t loc = Utf8Locale();
  return loc != nullptr && iswdigit_l(static_cast<wint_t>(r), loc) != 0;
}

bool IsNumber(int32_t r) {
  if (r < 0x80) return r >= '0' && r <= '9';
  // Superscripts and vulgar fractions of Latin-1 (No); other scripts' digits
  // are classed as letters by glibc and read as letters here.
  return r == 0xB2 || r == 0xB3 || r == 0xB9 || (r >= 0xBC && r <= 0xBE) || IsDigit(r);
}

bool IsPunct(int32_t r) {
  if (r < 0x80) {
    switch (r) {
      case '!':
      case '"':
      case '#':
      case '%':
      case '&':
      case '\'':
      case '(':
      case ')':
      case '*':
      case ',':
      case '-':
      case '.':
      case '/':
      case ':':
      case ';':
      case '?':
      case '@':
      case '[':
      case '\\':
      case ']':
      case '_':
      case '{':
      case '}':
        return true;
      default:
        return false;
    }
  }
  locale_t loc = Utf8Locale();
  return loc != nullptr && iswpunct_l(static_cast<wint_t>(r), loc) != 0;
}

// Format characters (Cf) and private use (Co), which Go does not count as
// printable but glibc does.
bool IsFormatOrPrivate(int32_t r) {
  struct Range {
    int32_t lo, hi;
  };
  static constexpr Range kRanges[] = {
      {0x00AD, 0x00AD},   {0x0600, 0x0605},    {0x061C, 0x061C},   {0x06DD, 0x06DD},
      {0x070F, 0x070F},   {0x08E2, 0x08E2},    {0x180E, 0x180E},   {0x200B, 0x200F},
      {0x202A, 0x202E},   {0x2060, 0x2064},    {0x2066, 0x206F},   {0xE000, 0xF8FF},
      {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},    {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
      {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3},  {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
      {0xE0020, 0xE007F}, {0xF0000, 0x10FFFF},
  };
  for (const Range& range : kRanges) {
    if (r >= range.lo && r <= range.hi) return true;
  }
  return false;
}

bool IsPrint(int32_t r) {
  if (r < 0x80) return r >= 0x20 && r < 0x7F;
  if (IsSpace(r) || IsFormatOrPrivate(r)) return false;
  if (!ValidRune(r)) return false;
  locale_t loc = Utf8Locale();
  return loc != nullptr && iswprint_l(static_cast<wint_t>(r), loc) != 0;
}

int32_t ToUpper(int32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') ? r - 32 : r;
  locale_t loc = Utf8Locale();
  return loc == nullptr ? r : static_cast<int32_t>(towupper_l(static_cast<wint_t>(r), loc));
}

int32_t ToLower(int32_t r) {
  if (r < 0x80) return (r >= 'A' && r <= 'Z') ? r + 32 : r;
  locale_t loc = Utf8Locale();
  return loc == nullptr ? r : static_cast<int32_t>(towlower_l(static_cast<wint_t>(r), loc));
}

int32_t ToTitle(int32_t r) {
  if (r < 0x80) return ToUpper(r);
  locale_t loc = Utf8Locale();
  if (loc == nullptr) return r;
  wctrans_t t = TitleTrans();
  if (t == wctrans_t()) return ToUpper(r);
  return static_cast<int32_t>(towctrans_l(static_cast<wint_t>(r), t, loc));
}

namespace {

template <typename F>
std::string MapRunes(absl::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    if (r == kRuneError && w == 1) {
      // Go's strings.Map replaces invalid bytes with U+FFFD.
      AppendRune(&out, kRuneError);
    } else {
      AppendRune(&out, f(r));
    }
    s.remove_prefix(w);
  }
  return out;
}

}  // namespace

std::string StrToUpper(absl::string_view s) {
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return out;
  }
  return MapRunes(s, ToUpper);
}

std::string StrToLower(absl::string_view s) {
  bool ascii = true;
  for (char c : s) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
  }
  return MapRunes(s, ToLower);
}

absl::string_view TrimSpace(absl::string_view s) {
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeRune(s, &w);
    if (!IsSpace(r)) break;
    s.remove_prefix(w);
  }
  while (!s.empty()) {
    size_t w;
    int32_t r = DecodeLastRune(s, &w);
    if (!IsSpace(r)) break;
    s.remove_suffix(w);
  }
  return s;
}

}  // namespace flotilla::common::tmpl
