#include "common/template/time_format.h"

#include <cstdlib>
#include <limits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/template/strconv.h"

namespace flotilla::common::tmpl {

namespace {

enum Std {
  kNone = 0,
  kLongMonth,
  kMonth,
  kNumMonth,
  kZeroMonth,
  kLongWeekDay,
  kWeekDay,
  kDay,
  kUnderDay,
  kZeroDay,
  kUnderYearDay,
  kZeroYearDay,
  kHour,
  kHour12,
  kZeroHour12,
  kMinute,
  kZeroMinute,
  kSecond,
  kZeroSecond,
  kLongYear,
  kYear,
  kPM,
  kpm,
  kTZ,
  kISO8601TZ,
  kISO8601SecondsTZ,
  kISO8601ShortTZ,
  kISO8601ColonTZ,
  kISO8601ColonSecondsTZ,
  kNumTZ,
  kNumSecondsTz,
  kNumShortTZ,
  kNumColonTZ,
  kNumColonSecondsTZ,
  kFracSecond0,
  kFracSecond9,
};

// The ISO 8601 zone forms write (and read) a zero offset as "Z".
bool IsIsoZone(Std std) {
  return std == kISO8601TZ || std == kISO8601ColonTZ || std == kISO8601SecondsTZ ||
         std == kISO8601ShortTZ || std == kISO8601ColonSecondsTZ;
}

struct Chunk {
  absl::string_view prefix;
  Std std = kNone;
  absl::string_view suffix;
  int frac_digits = 0;
  char frac_sep = '.';
};

bool StartsWithLower(absl::string_view s) { return !s.empty() && s[0] >= 'a' && s[0] <= 'z'; }

bool IsDigitAt(absl::string_view s, size_t i) { return i < s.size() && s[i] >= '0' && s[i] <= '9'; }

// time's nextStdChunk: the text before the first layout element, the
// element, and the rest.
Chunk NextStdChunk(absl::string_view layout) {
  auto make = [&](size_t i, Std std, size_t len) {
    Chunk c;
    c.prefix = layout.substr(0, i);
    c.std = std;
    c.suffix = layout.substr(i + len);
    return c;
  };
  for (size_t i = 0; i < layout.size(); ++i) {
    absl::string_view rest = layout.substr(i);
    switch (layout[i]) {
      case 'J':
        if (absl::StartsWith(rest, "Jan")) {
          if (absl::StartsWith(rest, "January")) return make(i, kLongMonth, 7);
          if (!StartsWithLower(rest.substr(3))) return make(i, kMonth, 3);
        }
        break;
      case 'M':
        if (absl::StartsWith(rest, "Mon")) {
          if (absl::StartsWith(rest, "Monday")) return make(i, kLongWeekDay, 6);
          if (!StartsWithLower(rest.substr(3))) return make(i, kWeekDay, 3);
        }
        if (absl::StartsWith(rest, "MST")) return make(i, kTZ, 3);
        break;
      case '0':
        if (rest.size() >= 2 && rest[1] >= '1' && rest[1] <= '6') {
          static constexpr Std kStd0x[] = {kZeroMonth,  kZeroDay,    kZeroHour12,
                                           kZeroMinute, kZeroSecond, kYear};
          return make(i, kStd0x[rest[1] - '1'], 2);
        }
        if (absl::StartsWith(rest, "002")) return make(i, kZeroYearDay, 3);
        break;
      case '1':
        if (rest.size() >= 2 && rest[1] == '5') return make(i, kHour, 2);
        return make(i, kNumMonth, 1);
      case '2':
        if (absl::StartsWith(rest, "2006")) return make(i, kLongYear, 4);
        return make(i, kDay, 1);
      case '_':
        if (rest.size() >= 2 && rest[1] == '2') {
          if (absl::StartsWith(rest.substr(1), "2006")) return make(i + 1, kLongYear, 4);
          return make(i, kUnderDay, 2);
        }
        if (absl::StartsWith(rest, "__2")) return make(i, kUnderYearDay, 3);
        break;
      case '3':
        return make(i, kHour12, 1);
      case '4':
        return make(i, kMinute, 1);
      case '5':
        return make(i, kSecond, 1);
      case 'P':
        if (absl::StartsWith(rest, "PM")) return make(i, kPM, 2);
        break;
      case 'p':
        if (absl::StartsWith(rest, "pm")) return make(i, kpm, 2);
        break;
      case '-':
        if (absl::StartsWith(rest, "-070000")) return make(i, kNumSecondsTz, 7);
        if (absl::StartsWith(rest, "-07:00:00")) return make(i, kNumColonSecondsTZ, 9);
        if (absl::StartsWith(rest, "-0700")) return make(i, kNumTZ, 5);
        if (absl::StartsWith(rest, "-07:00")) return make(i, kNumColonTZ, 6);
        if (absl::StartsWith(rest, "-07")) return make(i, kNumShortTZ, 3);
        break;
      case 'Z':
        if (absl::StartsWith(rest, "Z070000")) return make(i, kISO8601SecondsTZ, 7);
        if (absl::StartsWith(rest, "Z07:00:00")) return make(i, kISO8601ColonSecondsTZ, 9);
        if (absl::StartsWith(rest, "Z0700")) return make(i, kISO8601TZ, 5);
        if (absl::StartsWith(rest, "Z07:00")) return make(i, kISO8601ColonTZ, 6);
        if (absl::StartsWith(rest, "Z07")) return make(i, kISO8601ShortTZ, 3);
        break;
      case '.':
      case ',':
        if (rest.size() >= 2 && (rest[1] == '0' || rest[1] == '9')) {
          char ch = rest[1];
          size_t j = 1;
          while (j < rest.size() && rest[j] == ch) ++j;
          if (!IsDigitAt(rest, j)) {
            Chunk c = make(i, ch == '0' ? kFracSecond0 : kFracSecond9, j);
            c.frac_digits = static_cast<int>(j - 1);
            c.frac_sep = layout[i];
            return c;
          }
        }
        break;
      default:
        break;
    }
  }
  Chunk c;
  c.prefix = layout;
  return c;
}

constexpr const char* kLongMonths[] = {"January",   "February", "March",    "April",
                                       "May",       "June",     "July",     "August",
                                       "September", "October",  "November", "December"};
constexpr const char* kLongDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                     "Thursday", "Friday", "Saturday"};

void AppendInt(std::string* b, int64_t x, int width) {
  bool neg = x < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(x + 1)) + 1 : static_cast<uint64_t>(x);
  std::string digits = std::to_string(u);
  if (neg) b->push_back('-');
  for (int i = static_cast<int>(digits.size()); i < width; ++i) b->push_back('0');
  b->append(digits);
}

int WeekdayIndex(absl::Weekday w) {
  switch (w) {
    case absl::Weekday::sunday:
      return 0;
    case absl::Weekday::monday:
      return 1;
    case absl::Weekday::tuesday:
      return 2;
    case absl::Weekday::wednesday:
      return 3;
    case absl::Weekday::thursday:
      return 4;
    case absl::Weekday::friday:
      return 5;
    case absl::Weekday::saturday:
      return 6;
  }
  return 0;
}

bool IsFixedZone(const absl::TimeZone& zone) { return absl::StartsWith(zone.name(), "Fixed/"); }

}  // namespace

std::string FormatGoTime(absl::Time t, absl::TimeZone zone, absl::string_view layout) {
  absl::TimeZone::CivilInfo ci = zone.At(t);
  const absl::CivilSecond& cs = ci.cs;
  int64_t year = cs.year();
  int month = cs.month();
  int day = cs.day();
  int hour = cs.hour();
  int minute = cs.minute();
  int second = cs.second();
  int64_t nanos = absl::ToInt64Nanoseconds(ci.subsecond);
  int offset = ci.offset;
  std::string b;
  while (!layout.empty()) {
    Chunk c = NextStdChunk(layout);
    b.append(c.prefix.data(), c.prefix.size());
    if (c.std == kNone) break;
    layout = c.suffix;
    switch (c.std) {
      case kYear:
        AppendInt(&b, ((year % 100) + 100) % 100, 2);
        break;
      case kLongYear:
        AppendInt(&b, year, 4);
        break;
      case kMonth:
        b.append(kLongMonths[month - 1], 3);
        break;
      case kLongMonth:
        b.append(kLongMonths[month - 1]);
        break;
      case kNumMonth:
        AppendInt(&b, month, 0);
        break;
      case kZeroMonth:
        AppendInt(&b, month, 2);
        break;
      case kWeekDay:
        b.append(kLongDays[WeekdayIndex(absl::GetWeekday(absl::CivilDay(cs)))], 3);
        break;
      case kLongWeekDay:
        b.append(kLongDays[WeekdayIndex(absl::GetWeekday(absl::CivilDay(cs)))]);
        break;
      case kDay:
        AppendInt(&b, day, 0);
        break;
      case kUnderDay:
        if (day < 10) b.push_back(' ');
        AppendInt(&b, day, 0);
        break;
      case kZeroDay:
        AppendInt(&b, day, 2);
        break;
      case kUnderYearDay: {
        int yday = absl::GetYearDay(absl::CivilDay(cs));
        if (yday < 100) {
          b.push_back(' ');
          if (yday < 10) b.push_back(' ');
        }
        AppendInt(&b, yday, 0);
        break;
      }
      case kZeroYearDay:
        AppendInt(&b, absl::GetYearDay(absl::CivilDay(cs)), 3);
        break;
      case kHour:
        AppendInt(&b, hour, 2);
        break;
      case kHour12:
      case kZeroHour12: {
        int hr = hour % 12;
        if (hr == 0) hr = 12;
        AppendInt(&b, hr, c.std == kZeroHour12 ? 2 : 0);
        break;
      }
      case kMinute:
        AppendInt(&b, minute, 0);
        break;
      case kZeroMinute:
        AppendInt(&b, minute, 2);
        break;
      case kSecond:
        AppendInt(&b, second, 0);
        break;
      case kZeroSecond:
        AppendInt(&b, second, 2);
        break;
      case kPM:
        b.append(hour >= 12 ? "PM" : "AM");
        break;
      case kpm:
        b.append(hour >= 12 ? "pm" : "am");
        break;
      case kISO8601TZ:
      case kISO8601ColonTZ:
      case kISO8601SecondsTZ:
      case kISO8601ShortTZ:
      case kISO8601ColonSecondsTZ:
      case kNumTZ:
      case kNumColonTZ:
      case kNumSecondsTz:
      case kNumShortTZ:
      case kNumColonSecondsTZ: {
        const bool iso = IsIsoZone(c.std);
        if (offset == 0 && iso) {
          b.push_back('Z');
          break;
        }
        int zone_min = offset / 60;
        int abs_offset = offset;
        if (zone_min < 0) {
          b.push_back('-');
          zone_min = -zone_min;
          abs_offset = -abs_offset;
        } else {
          b.push_back('+');
        }
        AppendInt(&b, zone_min / 60, 2);
        if (c.std == kISO8601ColonTZ || c.std == kNumColonTZ || c.std == kISO8601ColonSecondsTZ ||
            c.std == kNumColonSecondsTZ) {
          b.push_back(':');
        }
        if (c.std != kNumShortTZ && c.std != kISO8601ShortTZ) AppendInt(&b, zone_min % 60, 2);
        if (c.std == kISO8601SecondsTZ || c.std == kNumSecondsTz || c.std == kNumColonSecondsTZ ||
            c.std == kISO8601ColonSecondsTZ) {
          if (c.std == kNumColonSecondsTZ || c.std == kISO8601ColonSecondsTZ) b.push_back(':');
          AppendInt(&b, abs_offset % 60, 2);
        }
        break;
      }
      case kTZ: {
        if (!IsFixedZone(zone) && ci.zone_abbr != nullptr && ci.zone_abbr[0] != '\0') {
          b.append(ci.zone_abbr);
          break;
        }
        if (offset == 0 && IsFixedZone(zone)) {
          b.append("UTC");
          break;
        }
        int zone_min = offset / 60;
        if (zone_min < 0) {
          b.push_back('-');
          zone_min = -zone_min;
        } else {
          b.push_back('+');
        }
        AppendInt(&b, zone_min / 60, 2);
        AppendInt(&b, zone_min % 60, 2);
        break;
      }
      case kFracSecond0:
      case kFracSecond9: {
        std::string digits = std::to_string(nanos);
        digits.insert(0, 9 - digits.size(), '0');
        digits.resize(static_cast<size_t>(c.frac_digits > 9 ? 9 : c.frac_digits));
        if (c.std == kFracSecond9) {
          while (!digits.empty() && digits.back() == '0') digits.pop_back();
          if (digits.empty()) break;
        }
        b.push_back(c.frac_sep);
        b.append(digits);
        break;
      }
      case kNone:
        break;
    }
  }
  return b;
}

namespace {

std::string QuoteForTime(absl::string_view s) { return GoQuote(s); }

absl::Status ParseErr(absl::string_view layout, absl::string_view value,
                      absl::string_view layout_elem, absl::string_view value_elem,
                      absl::string_view message) {
  if (message.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "parsing time ", QuoteForTime(value), " as ", QuoteForTime(layout), ": cannot parse ",
        QuoteForTime(value_elem), " as ", QuoteForTime(layout_elem)));
  }
  return absl::InvalidArgumentError(absl::StrCat("parsing time ", QuoteForTime(value), message));
}

absl::string_view CutSpace(absl::string_view s) {
  while (!s.empty() && s[0] == ' ') s.remove_prefix(1);
  return s;
}

bool Skip(absl::string_view* value, absl::string_view prefix) {
  while (!prefix.empty()) {
    if (prefix[0] == ' ') {
      if (!value->empty() && (*value)[0] != ' ') return false;
      prefix = CutSpace(prefix);
      *value = CutSpace(*value);
      continue;
    }
    if (value->empty() || (*value)[0] != prefix[0]) return false;
    prefix.remove_prefix(1);
    value->remove_prefix(1);
  }
  return true;
}

bool GetNum(absl::string_view* s, bool fixed, int* out) {
  if (!IsDigitAt(*s, 0)) return false;
  if (!IsDigitAt(*s, 1)) {
    if (fixed) return false;
    *out = (*s)[0] - '0';
    s->remove_prefix(1);
    return true;
  }
  *out = ((*s)[0] - '0') * 10 + ((*s)[1] - '0');
  s->remove_prefix(2);
  return true;
}

bool GetNum3(absl::string_view* s, bool fixed, int* out) {
  int n = 0;
  size_t i = 0;
  for (; i < 3 && IsDigitAt(*s, i); ++i) n = n * 10 + ((*s)[i] - '0');
  if (i == 0 || (fixed && i != 3)) return false;
  *out = n;
  s->remove_prefix(i);
  return true;
}

bool Lookup(const char* const* table, int n, size_t len, absl::string_view* value, int* index) {
  for (int i = 0; i < n; ++i) {
    absl::string_view name =
        len == 0 ? absl::string_view(table[i]) : absl::string_view(table[i]).substr(0, len);
    if (value->size() >= name.size() &&
        absl::EqualsIgnoreCase(value->substr(0, name.size()), name)) {
      *index = i;
      value->remove_prefix(name.size());
      return true;
    }
  }
  return false;
}

bool ParseNanos(absl::string_view value, size_t nbytes, int64_t* ns) {
  if (value.empty() || (value[0] != '.' && value[0] != ',')) return false;
  if (nbytes > 10) nbytes = 10;
  int64_t n = 0;
  for (size_t i = 1; i < nbytes; ++i) {
    if (!IsDigitAt(value, i)) return false;
    n = n * 10 + (value[i] - '0');
  }
  for (size_t i = nbytes; i < 10; ++i) n *= 10;
  *ns = n;
  return true;
}

int DaysIn(int month, int64_t year) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

}  // namespace

absl::StatusOr<ParsedTime> ParseGoTime(absl::string_view layout, absl::string_view value,
                                       absl::TimeZone local) {
  const absl::string_view alayout = layout;
  const absl::string_view avalue = value;
  int64_t year = 0;
  int month = -1;
  int day = -1;
  int yday = -1;
  int hour = 0;
  int minute = 0;
  int sec = 0;
  int64_t nsec = 0;
  bool utc = false;
  int zone_offset = -1;
  std::string zone_name;
  bool pm_set = false;
  bool am_set = false;
  while (true) {
    Chunk c = NextStdChunk(layout);
    absl::string_view std_str =
        layout.substr(c.prefix.size(), layout.size() - c.prefix.size() - c.suffix.size());
    if (!Skip(&value, c.prefix)) return ParseErr(alayout, avalue, c.prefix, value, "");
    if (c.std == kNone) {
      if (!value.empty()) {
        return ParseErr(alayout, avalue, "", "",
                        absl::StrCat(": extra text: ", QuoteForTime(value)));
      }
      break;
    }
    layout = c.suffix;
    absl::string_view hold = value;
    bool ok = true;
    std::string range_err;
    switch (c.std) {
      case kYear: {
        if (value.size() < 2) {
          ok = false;
          break;
        }
        int y;
        absl::string_view p = value.substr(0, 2);
        ok = GetNum(&p, true, &y);
        value.remove_prefix(2);
        year = y >= 69 ? y + 1900 : y + 2000;
        break;
      }
      case kLongYear: {
        if (value.size() < 4 || !IsDigitAt(value, 0)) {
          ok = false;
          break;
        }
        year = 0;
        for (int i = 0; i < 4; ++i) {
          if (!IsDigitAt(value, static_cast<size_t>(i))) ok = false;
          year = year * 10 + (value[static_cast<size_t>(i)] - '0');
        }
        value.remove_prefix(4);
        break;
      }
      case kMonth:
      case kLongMonth: {
        int idx;
        ok = Lookup(kLongMonths, 12, c.std == kMonth ? 3 : 0, &value, &idx);
        month = idx + 1;
        break;
      }
      case kNumMonth:
      case kZeroMonth:
        ok = GetNum(&value, c.std == kZeroMonth, &month);
        if (ok && (month <= 0 || month > 12)) range_err = "month";
        break;
      case kWeekDay:
      case kLongWeekDay: {
        int idx;
        ok = Lookup(kLongDays, 7, c.std == kWeekDay ? 3 : 0, &value, &idx);
        break;
      }
      case kDay:
      case kUnderDay:
      case kZeroDay:
        if (c.std == kUnderDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        ok = GetNum(&value, c.std == kZeroDay, &day);
        break;
      case kUnderYearDay:
      case kZeroYearDay:
        for (int i = 0; i < 2; ++i) {
          if (c.std == kUnderYearDay && !value.empty() && value[0] == ' ') value.remove_prefix(1);
        }
        ok = GetNum3(&value, c.std == kZeroYearDay, &yday);
        break;
      case kHour:
        ok = GetNum(&value, false, &hour);
        if (hour < 0 || hour >= 24) range_err = "hour";
        break;
      case kHour12:
      case kZeroHour12:
        ok = GetNum(&value, c.std == kZeroHour12, &hour);
        if (hour < 0 || hour > 12) range_err = "hour";
        break;
      case kMinute:
      case kZeroMinute:
        ok = GetNum(&value, c.std == kZeroMinute, &minute);
        if (minute < 0 || minute >= 60) range_err = "minute";
        break;
      case kSecond:
      case kZeroSecond: {
        ok = GetNum(&value, c.std == kZeroSecond, &sec);
        if (!ok) break;
        if (sec < 0 || sec >= 60) {
          range_err = "second";
          break;
        }
        if (value.size() >= 2 && (value[0] == '.' || value[0] == ',') && IsDigitAt(value, 1)) {
          Chunk next = NextStdChunk(layout);
          if (next.std == kFracSecond0 || next.std == kFracSecond9) break;
          size_t n = 2;
          while (n < value.size() && IsDigitAt(value, n)) ++n;
          ok = ParseNanos(value, n, &nsec);
          value.remove_prefix(n);
        }
        break;
      }
      case kPM:
      case kpm: {
        if (value.size() < 2) {
          ok = false;
          break;
        }
        absl::string_view p = value.substr(0, 2);
        value.remove_prefix(2);
        if (p == (c.std == kPM ? "PM" : "pm")) {
          pm_set = true;
        } else if (p == (c.std == kPM ? "AM" : "am")) {
          am_set = true;
        } else {
          ok = false;
        }
        break;
      }
      case kISO8601TZ:
      case kISO8601ColonTZ:
      case kISO8601SecondsTZ:
      case kISO8601ShortTZ:
      case kISO8601ColonSecondsTZ:
      case kNumTZ:
      case kNumShortTZ:
      case kNumColonTZ:
      case kNumSecondsTz:
      case kNumColonSecondsTZ: {
        const bool iso = IsIsoZone(c.std);
        if (iso && !value.empty() && value[0] == 'Z') {
          value.remove_prefix(1);
          utc = true;
          break;
        }
        absl::string_view sign, hh, mm, ss = "00";
        if (c.std == kISO8601ColonTZ || c.std == kNumColonTZ) {
          if (value.size() < 6 || value[3] != ':') {
            ok = false;
            break;
          }
          sign = value.substr(0, 1);
          hh = value.substr(1, 2);
          mm = value.substr(4, 2);
          value.remove_prefix(6);
        } else if (c.std == kNumShortTZ || c.std == kISO8601ShortTZ) {
          if (value.size() < 3) {
            ok = false;
            break;
          }
          sign = value.substr(0, 1);
          hh = value.substr(1, 2);
          mm = "00";
          value.remove_prefix(3);
        } else if (c.std == kISO8601ColonSecondsTZ || c.std == kNumColonSecondsTZ) {
          if (value.size() < 9 || value[3] != ':' || value[6] != ':') {
            ok = false;
            break;
          }
          sign = value.substr(0, 1);
          hh = value.substr(1, 2);
          mm = value.substr(4, 2);
          ss = value.substr(7, 2);
          value.remove_prefix(9);
        } else if (c.std == kISO8601SecondsTZ || c.std == kNumSecondsTz) {
          if (value.size() < 7) {
            ok = false;
            break;
          }
          sign = value.substr(0, 1);
          hh = value.substr(1, 2);
          mm = value.substr(3, 2);
          ss = value.substr(5, 2);
          value.remove_prefix(7);
        } else {
          if (value.size() < 5) {
            ok = false;
            break;
          }
          sign = value.substr(0, 1);
          hh = value.substr(1, 2);
          mm = value.substr(3, 2);
          value.remove_prefix(5);
        }
        int h, m, s;
        ok = GetNum(&hh, true, &h) && GetNum(&mm, true, &m) && GetNum(&ss, true, &s);
        zone_offset = (h * 60 + m) * 60 + s;
        if (sign == "-") {
          zone_offset = -zone_offset;
        } else if (sign != "+") {
          ok = false;
        }
        break;
      }
      case kTZ: {
        if (absl::StartsWith(value, "UTC")) {
          utc = true;
          value.remove_prefix(3);
          break;
        }
        size_t n = 0;
        while (n < value.size() && value[n] >= 'A' && value[n] <= 'Z') ++n;
        if (n < 3 || n > 5) {
          ok = false;
          break;
        }
        zone_name = std::string(value.substr(0, n));
        value.remove_prefix(n);
        break;
      }
      case kFracSecond0: {
        size_t ndigit = 1 + static_cast<size_t>(c.frac_digits);
        if (value.size() < ndigit) {
          ok = false;
          break;
        }
        ok = ParseNanos(value, ndigit, &nsec);
        value.remove_prefix(ndigit);
        break;
      }
      case kFracSecond9: {
        if (value.size() < 2 || (value[0] != '.' && value[0] != ',') || !IsDigitAt(value, 1)) {
          break;
        }
        size_t i = 0;
        while (i + 1 < value.size() && IsDigitAt(value, i + 1)) ++i;
        ok = ParseNanos(value, 1 + i, &nsec);
        value.remove_prefix(1 + i);
        break;
      }
      case kNone:
        break;
    }
    if (!range_err.empty()) {
      return ParseErr(alayout, avalue, std_str, value,
                      absl::StrCat(": ", range_err, " out of range"));
    }
    if (!ok) return ParseErr(alayout, avalue, std_str, hold, "");
  }
  if (pm_set && hour < 12) {
    hour += 12;
  } else if (am_set && hour == 12) {
    hour = 0;
  }
  if (yday >= 0) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (yday < 1 || yday > (leap ? 366 : 365)) {
      return ParseErr(alayout, avalue, "", value, ": day-of-year out of range");
    }
    absl::CivilDay d = absl::CivilDay(year, 1, 1) + (yday - 1);
    if (month >= 0 && month != d.month()) {
      return ParseErr(alayout, avalue, "", value, ": day-of-year does not match month");
    }
    if (day >= 0 && day != d.day()) {
      return ParseErr(alayout, avalue, "", value, ": day-of-year does not match day");
    }
    month = d.month();
    day = d.day();
  } else {
    if (month < 0) month = 1;
    if (day < 0) day = 1;
  }
  if (day < 1 || day > DaysIn(month, year)) {
    return ParseErr(alayout, avalue, "", value, ": day out of range");
  }
  absl::CivilSecond cs(year, month, day, hour, minute, sec);
  absl::Duration frac = absl::Nanoseconds(nsec);
  if (utc) return ParsedTime{absl::FromCivil(cs, absl::UTCTimeZone()) + frac, absl::UTCTimeZone()};
  if (zone_offset != -1) {
    absl::Time t = absl::FromCivil(cs, absl::UTCTimeZone()) - absl::Seconds(zone_offset) + frac;
    absl::TimeZone::CivilInfo li = local.At(t);
    if (li.offset == zone_offset && (zone_name.empty() || zone_name == li.zone_abbr)) {
      return ParsedTime{t, local};
    }
    return ParsedTime{t, absl::FixedTimeZone(zone_offset)};
  }
  if (!zone_name.empty()) {
    absl::Time guess = absl::FromCivil(cs, absl::UTCTimeZone());
    absl::TimeZone::CivilInfo li = local.At(guess);
    if (zone_name == li.zone_abbr) {
      return ParsedTime{absl::FromCivil(cs, local) + frac, local};
    }
    int offset = 0;
    if (zone_name.size() > 3 && absl::StartsWith(zone_name, "GMT")) {
      offset = std::atoi(zone_name.c_str() + 3) * 3600;
    }
    return ParsedTime{guess - absl::Seconds(offset) + frac, absl::FixedTimeZone(offset)};
  }
  return ParsedTime{absl::FromCivil(cs, local) + frac, local};
}

namespace {

// Writes the fraction v/10^prec (omitting trailing zeros and, if the
// fraction is zero, the decimal point) in front of `tail`.
uint64_t FmtFrac(std::string* tail, uint64_t v, int prec) {
  std::string frac;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    int digit = static_cast<int>(v % 10);
    print = print || digit != 0;
    if (print) frac.insert(frac.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (print) tail->insert(0, "." + frac);
  return v;
}

}  // namespace

std::string GoDurationString(int64_t d) {
  uint64_t u = static_cast<uint64_t>(d);
  bool neg = d < 0;
  if (neg) u = ~u + 1;
  std::string out;
  if (u < 1'000'000'000ULL) {
    int prec;
    if (u == 0) return "0s";
    if (u < 1000ULL) {
      prec = 0;
      out = "ns";
    } else if (u < 1'000'000ULL) {
      prec = 3;
      out = "\xC2\xB5s";
    } else {
      prec = 6;
      out = "ms";
    }
    u = FmtFrac(&out, u, prec);
    out.insert(0, std::to_string(u));
  } else {
    out = "s";
    u = FmtFrac(&out, u, 9);
    out.insert(0, std::to_string(u % 60));
    u /= 60;
    if (u > 0) {
      out.insert(0, std::to_string(u % 60) + "m");
      u /= 60;
      if (u > 0) out.insert(0, std::to_string(u) + "h");
    }
  }
  if (neg) out.insert(0, "-");
  return out;
}

absl::StatusOr<int64_t> ParseGoDuration(absl::string_view s) {
  const std::string orig(s);
  auto invalid = [&]() {
    return absl::InvalidArgumentError(absl::StrCat("time: invalid duration ", GoQuote(orig)));
  };
  uint64_t d = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return invalid();
  const uint64_t kMax = uint64_t{1} << 63;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid();
    uint64_t v = 0;
    size_t pl = s.size();
    bool overflow = false;
    while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
      if (v > (kMax - 1) / 10) overflow = true;
      v = v * 10 + static_cast<uint64_t>(s[0] - '0');
      if (v > kMax) overflow = true;
      s.remove_prefix(1);
    }
    if (overflow) return invalid();
    bool pre = pl != s.size();
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      size_t pl2 = s.size();
      while (!s.empty() && s[0] >= '0' && s[0] <= '9') {
        if (f <= (kMax - 1) / 10) {
          f = f * 10 + static_cast<uint64_t>(s[0] - '0');
          scale *= 10;
        }
        s.remove_prefix(1);
      }
      post = pl2 != s.size();
    }
    if (!pre && !post) return invalid();
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !(s[i] >= '0' && s[i] <= '9')) ++i;
    if (i == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("time: missing unit in duration ", GoQuote(orig)));
    }
    absl::string_view unit_name = s.substr(0, i);
    s.remove_prefix(i);
    uint64_t unit;
    if (unit_name == "ns") {
      unit = 1;
    } else if (unit_name == "us" || unit_name == "\xC2\xB5s" || unit_name == "\xCE\xBCs") {
      unit = 1000;
    } else if (unit_name == "ms") {
      unit = 1'000'000;
    } else if (unit_name == "s") {
      unit = 1'000'000'000ULL;
    } else if (unit_name == "m") {
      unit = 60'000'000'000ULL;
    } else if (unit_name == "h") {
      unit = 3'600'000'000'000ULL;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("time: unknown unit ", GoQuote(unit_name), " in duration ", GoQuote(orig)));
    }
    if (v > kMax / unit) return invalid();
    v *= unit;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMax) return invalid();
    }
    d += v;
    if (d > kMax) return invalid();
  }
  if (neg) return d == kMax ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(d);
  if (d > kMax - 1) return invalid();
  return static_cast<int64_t>(d);
}

absl::StatusOr<absl::TimeZone> LoadGoLocation(absl::string_view name, absl::TimeZone local) {
  if (name.empty() || name == "UTC") return absl::UTCTimeZone();
  if (name == "Local") return local;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(std::string(name), &tz)) {
    return absl::NotFoundError(absl::StrCat("unknown time zone ", name));
  }
  return tz;
}

}  // namespace flotilla::common::tmpl
