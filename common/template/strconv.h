// Go's strconv: quoting and unquoting with Go escapes, and number parsing
// and formatting with Go's syntax and rounding.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::common::tmpl {

// strconv.Quote / QuoteToASCII / QuoteToGraphic-free variants.
std::string GoQuote(absl::string_view s, bool ascii_only = false);
// strconv.QuoteRune: 'a', '\n', '\u00e9' (ascii_only).
std::string GoQuoteRune(int32_t r, bool ascii_only = false);
// strconv.CanBackquote.
bool CanBackquote(absl::string_view s);

// strconv.Unquote for "...", `...` and '...' literals. Errors read
// "invalid syntax" like Go's.
absl::StatusOr<std::string> GoUnquote(absl::string_view s);

// The outcome of strconv's number parsers: a syntax error or a value out of
// range are reported separately, as Go does.
enum class ParseError { kNone, kSyntax, kRange };

// strconv.ParseInt / ParseUint with base 0 ("0x", "0o", "0b", leading-0
// octal and '_' separators) or an explicit base 2..36; bit_size 64.
int64_t GoParseInt(absl::string_view s, int base, ParseError* err);
uint64_t GoParseUint(absl::string_view s, int base, ParseError* err);
// strconv.ParseFloat(s, 64): decimal and hex floats, '_' separators,
// "inf"/"infinity"/"nan" in any case.
double GoParseFloat(absl::string_view s, ParseError* err);

// strconv.FormatFloat(f, fmt, prec, 64) for fmt in 'e','E','f','F','g','G',
// 'x','X','b'; prec -1 means the shortest representation that reads back.
std::string GoFormatFloat(double f, char fmt, int prec);
// strconv.FormatInt / FormatUint in base 2..36.
std::string GoFormatInt(int64_t i, int base = 10);
std::string GoFormatUint(uint64_t u, int base = 10);

}  // namespace flotilla::common::tmpl
