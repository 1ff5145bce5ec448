// printf over template values against Go's fmt (fmt/print.go, fmt/format.go,
// strconv/ftoa.go): verbs, flags, width, precision, argument indexes and the
// in-band error markers.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/template/format.h"
#include "common/template/strconv.h"
#include "common/template/value.h"

namespace flotilla::common::tmpl {
namespace {

std::string F(const std::string& format, std::vector<Value> args) {
  auto s = GoSprintf(format, args);
  INFO(format << " -> " << s.status());
  REQUIRE(s.ok());
  return *s;
}

Value I(int64_t i) { return Value::Int(i); }
Value D(double d) { return Value::Float(d); }
Value S(const std::string& s) { return Value::String(s); }

TEST_CASE("integers format with Go's verbs and flags") {
  CHECK(F("%d|%5d|%-5d|%05d|%+d|% d", {I(42), I(42), I(42), I(42), I(42), I(5)}) ==
        "42|   42|42   |00042|+42| 5");
  CHECK(F("%x %X %#x %o %#o %O %b %#b", {I(255), I(255), I(255), I(8), I(8), I(8), I(5), I(5)}) ==
        "ff FF 0xff 10 010 0o10 101 0b101");
  CHECK(F("%c %q %U %#U", {I(65), I(65), I(0x1F600), I('x')}) == "A 'A' U+1F600 U+0078 'x'");
  CHECK(F("%x %d %.3d %6.3d", {I(-255), I(-7), I(7), I(-7)}) == "-ff -7 007   -007");
  CHECK(F("%v", {Value::Uint(18446744073709551615ULL)}) == "18446744073709551615");
}

TEST_CASE("floats format with Go's shortest and fixed forms") {
  CHECK(F("%v %v %v %v %v", {D(1.5), D(100000), D(1e6), D(123456789), D(0.0001)}) ==
        "1.5 100000 1e+06 1.23456789e+08 0.0001");
  CHECK(F("%v %v %v", {D(0.00001), D(1e21), D(-0.5)}) == "1e-05 1e+21 -0.5");
  CHECK(F("%.2f|%8.3f|%f|%.0f|%.0f|%.1f", {D(3.14159), D(3.14159), D(1), D(2.5), D(3.5),
                                           D(0.05)}) == "3.14|   3.142|1.000000|2|4|0.1");
  CHECK(F("%e %E %.2e %+.2e", {D(1234.5678), D(1234.5678), D(0), D(12345.678)}) ==
        "1.234568e+03 1.234568E+03 0.00e+00 +1.23e+04");
  CHECK(F("%g %g %.3g %.3g %G", {D(1234.5678), D(0.000001234), D(1234), D(1), D(1e-7)}) ==
        "1234.5678 1.234e-06 1.23e+03 1 1E-07");
  CHECK(F("%08.3f|%-8.2f|%+.1f|% .1f", {D(-3.14159), D(2.5), D(2), D(2)}) ==
        "-003.142|2.50    |+2.0| 2.0");
  CHECK(F("%#g %#.3g", {D(1), D(2)}) == "1.00000 2.00");
  CHECK(F("%x", {D(1)}) == "0x1p+00");
}

TEST_CASE("strings format with Go's verbs and flags") {
  CHECK(F("%s|%10s|%-10s|%.2s|%05s", {S("hi"), S("hi"), S("hi"), S("hello"), S("ab")}) ==
        "hi|        hi|hi        |he|000ab");
  CHECK(F("%q %#q %+q", {S("a\"b\n"), S("abc"), S("\xC3\xA9")}) ==
        "\"a\\\"b\\n\" `abc` \"\\u00e9\"");
  CHECK(F("%x % x %#x %X", {S("hi"), S("hi"), S("hi"), S("hi")}) == "6869 68 69 0x6869 6869");
  CHECK(F("%5.1s|", {S("\xC3\xA9t\xC3\xA9")}) == "    \xC3\xA9|");
  CHECK(F("%q", {S("\x01\xff")}) == "\"\\x01\\xff\"");
  // Format characters are not printable to Go: U+200B is escaped.
  CHECK(F("%q", {S("\xC3\xA9\xE2\x80\x8B")}) == "\"\xC3\xA9\\u200b\"");
}

TEST_CASE("bools, nil and composite values format like Go") {
  CHECK(F("%t %v %5t|", {Value::Bool(true), Value::Bool(false), Value::Bool(true)}) ==
        "true false  true|");
  Value list = Value::List({I(1), S("a"), Value::Nil()});
  Value map = Value::Map({{"b", I(2)}, {"a", Value::List({I(1), I(2)})}});
  CHECK(F("%v %v", {list, map}) == "[1 a <nil>] map[a:[1 2] b:2]");
  CHECK(F("%d", {Value::List({I(1), I(2)})}) == "[1 2]");
  CHECK(F("%5v|", {Value::List({I(1), I(2)})}) == "[    1     2]|");
  CHECK(F("%q", {Value::List({S("a"), S("b")}, ElemType::kString)}) == "[\"a\" \"b\"]");
  CHECK(F("%#v %#v %#v", {map, list, S("x")}) ==
        "map[string]interface {}{\"a\":[]interface {}{1, 2}, \"b\":2} []interface {}{1, \"a\", "
        "interface {}(nil)} \"x\"");
  CHECK(F("%v %d %s", {Value::Nil(), Value::Nil(), Value::Missing()}) ==
        "<nil> %!d(<nil>) %!s(<nil>)");
  CHECK(F("%T %T %T %T %T %T", {I(1), D(1), S(""), list, map, Value::Nil()}) ==
        "int float64 string []interface {} map[string]interface {} <nil>");
  CHECK(F("%v", {Value::NilList()}) == "[]");
  CHECK(F("%v", {Value::NilMap()}) == "map[]");
}

// print.go doPrintf's markers for mistakes.
TEST_CASE("mistakes in the format are reported inline as Go does") {
  CHECK(F("%d", {S("x")}) == "%!d(string=x)");
  CHECK(F("%s", {I(5)}) == "%!s(int=5)");
  CHECK(F("%d %d", {I(1)}) == "1 %!d(MISSING)");
  CHECK(F("%d", {I(1), I(2), S("a")}) == "1%!(EXTRA int=2, string=a)");
  CHECK(F("%z", {I(1)}) == "%!z(int=1)");
  CHECK(F("100%", {}) == "100%!(NOVERB)");
  CHECK(F("%%|%5%", {}) == "%|%");
  CHECK(F("%t", {I(1)}) == "%!t(int=1)");
}

TEST_CASE("argument indexes and star width follow Go") {
  CHECK(F("%[2]d %[1]d", {I(1), I(2)}) == "2 1");
  CHECK(F("%[3]d", {I(1)}) == "%!d(BADINDEX)");
  CHECK(F("%*d|%-*d|%.*f", {I(5), I(42), I(5), I(42), I(2), D(3.14159)}) == "   42|42   |3.14");
  CHECK(F("%*d", {S("x"), I(1)}) == "%!(BADWIDTH)1");
  CHECK(F("%[1]d %[1]x %[1]o", {I(64)}) == "64 40 100");
}

TEST_CASE("Sprint separates operands that are not strings") {
  CHECK(*GoSprint({I(1), I(2), S("a"), S("b"), I(3), D(1.5)}) == "1 2ab3 1.5");
  CHECK(*GoSprintln({I(1), S("a"), S("b")}) == "1 a b\n");
  CHECK(*FormatForOutput(Value::Missing()) == "<no value>");
}

TEST_CASE("formatting is bounded") {
  FormatLimits small;
  small.max_bytes = 100;
  auto s = GoSprintf("%500d", {I(1)}, small);
  CHECK(s.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(s.status().message() == "formatted text exceeds the limit of 100 bytes");
  // A map that contains itself.
  Value m = Value::Map();
  m.map()->entries["self"] = m;
  auto deep = GoSprint({m});
  CHECK(deep.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(deep.status().message()).find("nested more than 1000 levels") !=
        std::string::npos);
  m.map()->entries.clear();
}

// strconv's number syntax, used for literals and sprig's conversions.
TEST_CASE("Go number parsing accepts Go syntax only") {
  ParseError err;
  CHECK(GoParseInt("0x1f", 0, &err) == 31);
  CHECK(err == ParseError::kNone);
  CHECK(GoParseInt("-0b11", 0, &err) == -3);
  CHECK(GoParseInt("1_000", 0, &err) == 1000);
  GoParseInt("1__0", 0, &err);
  CHECK(err == ParseError::kSyntax);
  GoParseInt("9223372036854775808", 10, &err);
  CHECK(err == ParseError::kRange);
  CHECK(GoParseInt("-9223372036854775808", 10, &err) == INT64_MIN);
  CHECK(err == ParseError::kNone);
  CHECK(GoParseFloat("1e3", &err) == 1000);
  CHECK(GoParseFloat("0x1p-2", &err) == 0.25);
  GoParseFloat("1e", &err);
  CHECK(err == ParseError::kSyntax);
  CHECK(GoFormatFloat(0.1 + 0.2, 'g', -1) == "0.30000000000000004");
  CHECK(GoFormatFloat(1e21, 'f', -1) == "1000000000000000000000");
}

}  // namespace
}  // namespace flotilla::common::tmpl
