// Sprig's date functions (sprig/date.go) over the injected clock and local
// zone, with Go's layouts and duration formatting.
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/sprig_internal.h"
#include "common/template/strconv.h"
#include "common/template/time_format.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;

constexpr int64_t kSecond = 1'000'000'000;

// The time a date argument stands for: a time, Unix seconds as int or
// int64, and for anything else the current time (Sprig's default case).
absl::Time TimeOf(const Value& v, const Env& env) {
  if (v.kind() == Value::Kind::kTime) return v.time();
  if (v.is_int() && v.int_type() != IntType::kUint8) return absl::FromUnixSeconds(v.int_value());
  return env.clock->Now();
}

int64_t RoundToSecond(int64_t d) {
  const int64_t m = kSecond;
  int64_t r = d % m;
  auto less_than_half = [](int64_t x, int64_t y) {
    return static_cast<uint64_t>(x) + static_cast<uint64_t>(x) < static_cast<uint64_t>(y);
  };
  if (d < 0) {
    r = -r;
    if (less_than_half(r, m)) return d + r;
    int64_t d1 = static_cast<int64_t>(static_cast<uint64_t>(d) - static_cast<uint64_t>(m) +
                                      static_cast<uint64_t>(r));
    return d1 < d ? d1 : std::numeric_limits<int64_t>::min();
  }
  if (less_than_half(r, m)) return d - r;
  int64_t d1 = static_cast<int64_t>(static_cast<uint64_t>(d) + static_cast<uint64_t>(m) -
                                    static_cast<uint64_t>(r));
  return d1 > d ? d1 : std::numeric_limits<int64_t>::max();
}

std::string DateInZone(const std::string& layout, const Value& date, const std::string& zone,
                       const Env& env) {
  absl::Time t = TimeOf(date, env);
  absl::StatusOr<absl::TimeZone> loc = LoadGoLocation(zone, env.local);
  return FormatGoTime(t, loc.ok() ? *loc : absl::UTCTimeZone(), layout);
}

std::string DurationRound(const Value& v, const Env& env) {
  int64_t d = 0;
  if (v.is_string()) {
    absl::StatusOr<int64_t> parsed = ParseGoDuration(v.str());
    d = parsed.ok() ? *parsed : 0;
  } else if (v.is_int() && v.int_type() == IntType::kInt64) {
    d = v.int_value();
  } else if (v.kind() == Value::Kind::kTime) {
    d = absl::ToInt64Nanoseconds(env.clock->Now() - v.time());
  }
  uint64_t u = static_cast<uint64_t>(d);
  if (d < 0) u = ~u + 1;
  const uint64_t hour = 3600ULL * kSecond;
  const uint64_t year = hour * 24 * 365;
  const uint64_t month = hour * 24 * 30;
  const uint64_t day = hour * 24;
  const uint64_t minute = 60ULL * kSecond;
  const uint64_t second = kSecond;
  if (u > year) return absl::StrCat(u / year, "y");
  if (u > month) return absl::StrCat(u / month, "m");
  if (u > day) return absl::StrCat(u / day, "d");
  if (u > hour) return absl::StrCat(u / hour, "h");
  if (u > minute) return absl::StrCat(u / minute, "m");
  if (u > second) return absl::StrCat(u / second, "s");
  return "0s";
}

Value ZeroTime() {
  return Value::Time(absl::FromCivil(absl::CivilSecond(1, 1, 1, 0, 0, 0), absl::UTCTimeZone()),
                     absl::UTCTimeZone());
}

Value Str(std::string s) { return Value::String(std::move(s)); }

}  // namespace

void AddDateFunctions(FuncMap* m, const Env& env) {
  m->Add("now", Sig({}), [env](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> {
    return Value::Time(env.clock->Now(), env.local);
  });
  m->Add("date", Sig({PT::kString, PT::kAny}), [env](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(DateInZone(a[0].str(), a[1], "Local", env)));
  });
  auto in_zone = [env](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(DateInZone(a[0].str(), a[1], a[2].str(), env)));
  };
  m->Add("dateInZone", Sig({PT::kString, PT::kAny, PT::kString}), in_zone);
  m->Add("date_in_zone", Sig({PT::kString, PT::kAny, PT::kString}), in_zone);
  m->Add("htmlDate", Sig({PT::kAny}), [env](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(DateInZone("2006-01-02", a[0], "Local", env)));
  });
  m->Add("htmlDateInZone", Sig({PT::kAny, PT::kString}),
         [env](std::vector<Value>& a, CallContext&) {
           return absl::StatusOr<Value>(Str(DateInZone("2006-01-02", a[0], a[1].str(), env)));
         });
  auto modify = [](bool must) {
    return [must](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
      absl::StatusOr<int64_t> d = ParseGoDuration(a[0].str());
      if (!d.ok()) {
        if (must) return d.status();
        return a[1];
      }
      return Value::Time(a[1].time() + absl::Nanoseconds(*d), a[1].time_zone());
    };
  };
  m->Add("dateModify", Sig({PT::kString, PT::kTime}), modify(false));
  m->Add("date_modify", Sig({PT::kString, PT::kTime}), modify(false));
  m->Add("mustDateModify", Sig({PT::kString, PT::kTime}), modify(true));
  m->Add("must_date_modify", Sig({PT::kString, PT::kTime}), modify(true));
  m->Add("ago", Sig({PT::kAny}), [env](std::vector<Value>& a, CallContext&) {
    absl::Time t = TimeOf(a[0], env);
    int64_t since = absl::ToInt64Nanoseconds(env.clock->Now() - t);
    return absl::StatusOr<Value>(Str(GoDurationString(RoundToSecond(since))));
  });
  m->Add("duration", Sig({PT::kAny}), [](std::vector<Value>& a, CallContext&) {
    int64_t n = 0;
    if (a[0].is_string()) {
      ParseError err;
      n = GoParseInt(a[0].str(), 10, &err);
      if (err != ParseError::kNone) n = 0;
    } else if (a[0].is_int() && a[0].int_type() == IntType::kInt64) {
      n = a[0].int_value();
    }
    int64_t ns = static_cast<int64_t>(static_cast<uint64_t>(n) * static_cast<uint64_t>(kSecond));
    return absl::StatusOr<Value>(Str(GoDurationString(ns)));
  });
  m->Add("durationRound", Sig({PT::kAny}), [env](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(DurationRound(a[0], env)));
  });
  auto to_date = [env](bool must) {
    return [env, must](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
      absl::StatusOr<ParsedTime> t = ParseGoTime(a[0].str(), a[1].str(), env.local);
      if (!t.ok()) {
        if (must) return t.status();
        return ZeroTime();
      }
      return Value::Time(t->time, t->zone);
    };
  };
  m->Add("toDate", Sig({PT::kString, PT::kString}), to_date(false));
  m->Add("mustToDate", Sig({PT::kString, PT::kString}), to_date(true));
  m->Add("unixEpoch", Sig({PT::kTime}), [](std::vector<Value>& a, CallContext&) {
    return absl::StatusOr<Value>(Str(std::to_string(absl::ToUnixSeconds(a[0].time()))));
  });
}

}  // namespace flotilla::common::tmpl::sprig
