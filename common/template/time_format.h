// Go's time formatting: reference-time layouts ("2006-01-02T15:04:05Z07:00")
// for Format and Parse, and time.Duration's String and ParseDuration. Sprig's
// date functions are thin wrappers over these.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace flotilla::common::tmpl {

inline constexpr char kRFC3339Layout[] = "2006-01-02T15:04:05Z07:00";
inline constexpr char kRFC3339NanoLayout[] = "2006-01-02T15:04:05.999999999Z07:00";
// time.Time's String() form (without the monotonic clock suffix).
inline constexpr char kTimeStringLayout[] = "2006-01-02 15:04:05.999999999 -0700 MST";

// t.In(zone).Format(layout).
std::string FormatGoTime(absl::Time t, absl::TimeZone zone, absl::string_view layout);

struct ParsedTime {
  absl::Time time;
  absl::TimeZone zone;
};
// time.ParseInLocation(layout, value, zone). Errors read like Go's:
// `parsing time "x" as "2006-01-02": cannot parse "x" as "2006"`.
absl::StatusOr<ParsedTime> ParseGoTime(absl::string_view layout, absl::string_view value,
                                       absl::TimeZone zone);

// time.Duration(ns).String(): "1h2m3.5s", "1.5µs", "0s".
std::string GoDurationString(int64_t ns);
// time.ParseDuration: "1h30m", "-1.5s", "300ms". Returns nanoseconds.
absl::StatusOr<int64_t> ParseGoDuration(absl::string_view s);

// time.LoadLocation: "UTC", "" (UTC), "Local" (the given local zone) or an
// IANA name. NotFound when the zone database has no such zone.
absl::StatusOr<absl::TimeZone> LoadGoLocation(absl::string_view name, absl::TimeZone local);

}  // namespace flotilla::common::tmpl
