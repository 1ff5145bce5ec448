// Sprig functions against Sprig v3's documented behaviour and source:
// strings (sprig/strings.go, goutils, xstrings), defaults and conversion
// (defaults.go, numeric.go with spf13/cast), reflection (reflect.go), JSON
// (defaults.go over encoding/json), math (numeric.go, shopspring/decimal),
// lists (list.go) and dicts (dict.go, mergo).
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/template/sprig.h"
#include "common/template/template.h"

namespace flotilla::common::tmpl {
namespace {

// A fixed world: 2023-11-14 22:13:20 UTC, a seeded random source and a fake
// environment.
struct Fixture {
  SimulatedClock clock{absl::FromUnixSeconds(1'700'000'000)};
  SprigOptions Sprig() {
    SprigOptions o;
    o.clock = &clock;
    o.random = SeededRandomSource(42);
    o.getenv = [](absl::string_view name) -> std::optional<std::string> {
      if (name == "NAME") return "bob";
      return std::nullopt;
    };
    return o;
  }
};

std::string R(const std::string& text, const Json& data = Json::object()) {
  Fixture f;
  TemplateSet set({}, SprigFunctions(f.Sprig()));
  absl::Status parsed = set.Parse("t", text);
  INFO(text << " -> " << parsed);
  REQUIRE(parsed.ok());
  absl::StatusOr<std::string> out = set.Execute("t", data);
  INFO(text << " -> " << out.status());
  REQUIRE(out.ok());
  return *out;
}

std::string Err(const std::string& text, const Json& data = Json::object()) {
  Fixture f;
  TemplateSet set({}, SprigFunctions(f.Sprig()));
  absl::Status parsed = set.Parse("t", text);
  INFO(text << " -> " << parsed);
  REQUIRE(parsed.ok());
  absl::StatusOr<std::string> out = set.Execute("t", data);
  INFO(text << " -> " << (out.ok() ? *out : ""));
  REQUIRE(!out.ok());
  return std::string(out.status().message());
}

TEST_CASE("sprig string functions match Sprig's documented results") {
  CHECK(R("{{ trim \"   hello    \" }}") == "hello");
  CHECK(R("{{ trimAll \"$\" \"$5.00$\" }}|{{ \"$5\" | trimall \"$\" }}") == "5.00|5");
  CHECK(R("{{ trimSuffix \"-\" \"hello-\" }} {{ trimPrefix \"-\" \"-hello\" }}") == "hello hello");
  CHECK(R("{{ upper \"hello\" }} {{ lower \"HELLO\" }} {{ title \"hello world\" }} "
          "{{ untitle \"Hello World\" }}") == "HELLO hello Hello World hello world");
  CHECK(R("{{ repeat 3 \"hello\" }}") == "hellohellohello");
  CHECK(R("{{ substr 0 5 \"hello world\" }}|{{ substr 6 -1 \"hello world\" }}|"
          "{{ substr -1 5 \"hello world\" }}") == "hello|world|hello");
  CHECK(R("{{ nospace \"hello w o r l d\" }}") == "helloworld");
  CHECK(R("{{ trunc 5 \"hello world\" }} {{ trunc -5 \"hello world\" }} {{ trunc 50 \"hi\" }}") ==
        "hello world hi");
  CHECK(R("{{ abbrev 5 \"hello world\" }} {{ abbrevboth 5 10 \"1234 5678 9123\" }}") ==
        "he... ...5678...");
  CHECK(R("{{ initials \"First Try\" }}") == "FT");
  CHECK(R("{{ wrap 5 \"Hello World\" }}|{{ wrapWith 5 \"\\t\" \"Hello World\" }}") ==
        "Hello\nWorld|Hello\tWorld");
  CHECK(R("{{ contains \"cat\" \"catch\" }} {{ hasPrefix \"cat\" \"catch\" }} "
          "{{ hasSuffix \"cat\" \"catch\" }}") == "true true false");
  CHECK(R("{{ quote \"hello\" }} {{ squote \"hello\" }} {{ quote 1 nil \"a\\\"b\" }}") ==
        "\"hello\" 'hello' \"1\" \"a\\\"b\"");
  CHECK(R("{{ cat \"hello\" \"beautiful\" \"world\" }}|{{ cat 1 nil 2 }}") ==
        "hello beautiful world|1 2");
  CHECK(R("{{ indent 4 \"a\\nb\" }}|{{ nindent 2 \"a\" }}") == "    a\n    b|\n  a");
  CHECK(R("{{ \"I Am Henry VIII\" | replace \" \" \"-\" }}") == "I-Am-Henry-VIII");
  CHECK(R("{{ plural \"one anchovy\" \"many anchovies\" 1 }}, "
          "{{ plural \"one anchovy\" \"many anchovies\" 2 }}") == "one anchovy, many anchovies");
  CHECK(R("{{ snakecase \"FirstName\" }} {{ snakecase \"HTTPServer\" }} "
          "{{ kebabcase \"FirstName\" }} {{ camelcase \"http_server\" }} "
          "{{ camelcase \"_complex__case_\" }}") ==
        "first_name http_server first-name HttpServer _Complex_Case_");
  CHECK(R("{{ snakecase \"Bld4Floor3rd\" }} {{ kebabcase \"HTTP20xOK\" }}") ==
        "bld4_floor_3rd http-20x-ok");
  CHECK(R("{{ swapcase \"This Is A.Test\" }}") == "tHIS iS a.tEST");
  CHECK(R("{{ toString 1 }} {{ toString .missing }} {{ toString (list 1 \"a\") }}") ==
        "1 <nil> [1 a]");
  CHECK(R("{{ toStrings (list 1 2 nil) | typeOf }} {{ toStrings (list 1 2 nil) }}") ==
        "[]string [1 2]");
}

TEST_CASE("sprig splits and joins like Sprig") {
  CHECK(R("{{ $a := split \"$\" \"foo$bar$baz\" }}{{ $a._0 }} {{ $a }} {{ typeOf $a }}") ==
        "foo map[_0:foo _1:bar _2:baz] map[string]string");
  CHECK(R("{{ splitList \"$\" \"foo$bar$baz\" }} {{ splitList \",\" \"\" | len }}") ==
        "[foo bar baz] 1");
  CHECK(R("{{ splitn \"$\" 2 \"foo$bar$baz\" }}") == "map[_0:foo _1:bar$baz]");
  CHECK(R("{{ join \"_\" (list \"hello\" \"world\") }} {{ join \",\" (list 1 nil 2) }} "
          "{{ join \",\" \"x\" }}") == "hello_world 1,2 x");
  CHECK(R("{{ sortAlpha (list \"c\" \"a\" \"b\") }} {{ sortAlpha (list 10 9) }}") ==
        "[a b c] [10 9]");
}

TEST_CASE("sprig string functions fail like Go where Go panics") {
  CHECK(Err("{{ substr 2 1 \"abc\" }}") ==
        "template: t:1:3: executing \"t\" at <substr 2 1 \"abc\">: error calling substr: "
        "runtime error: slice bounds out of range [2:1]");
  CHECK(Err("{{ repeat -1 \"a\" }}") ==
        "template: t:1:3: executing \"t\" at <repeat -1 \"a\">: error calling repeat: strings: "
        "negative Repeat count");
  // Go's strict argument types: add returns int64, trunc wants int.
  CHECK(Err("{{ trunc (add 1 2) \"abcdef\" }}") ==
        "template: t:1:16: executing \"t\" at <2>: wrong type for value; expected int; got "
        "int64");
  CHECK(R("{{ trunc (int (add 1 2)) \"abcdef\" }}") == "abc");
}

TEST_CASE("sprig defaults follow Sprig's idea of empty") {
  CHECK(R("{{ default \"foo\" .missing }} {{ default \"foo\" \"\" }} {{ default \"foo\" \"bar\" }} "
          "{{ default 42 0 }} {{ .missing | default \"piped\" }}") == "foo foo bar 42 piped");
  CHECK(R("{{ empty \"\" }} {{ empty 0 }} {{ empty (list) }} {{ empty (dict) }} {{ empty \"x\" }} "
          "{{ empty .missing }} {{ empty false }}") == "true true true true false true true");
  CHECK(R("{{ coalesce 0 \"\" \"x\" }} {{ coalesce 0 }}") == "x <no value>");
  CHECK(R("{{ all 1 \"a\" }} {{ all 1 \"\" }} {{ any 0 \"\" }} {{ any 0 \"a\" }}") ==
        "true false false true");
  CHECK(R("{{ ternary \"foo\" \"bar\" true }} {{ true | ternary \"foo\" \"bar\" }} "
          "{{ false | ternary \"foo\" \"bar\" }}") == "foo foo bar");
  CHECK(Err("{{ fail \"boom\" }}") ==
        "template: t:1:3: executing \"t\" at <fail \"boom\">: error calling fail: boom");
}

TEST_CASE("sprig conversions follow spf13/cast") {
  CHECK(R("{{ atoi \"42\" }} {{ atoi \"x\" }} {{ atoi \"0x10\" }}") == "42 0 0");
  CHECK(R("{{ int \"42\" }} {{ int 3.7 }} {{ int \"0x10\" }} {{ int \"1.00\" }} {{ int \"1.5\" }} "
          "{{ int true }} {{ int .missing }}") == "42 3 16 1 0 1 0");
  CHECK(R("{{ int64 \"9\" | typeOf }} {{ float64 \"1.5\" }} {{ float64 2 | typeOf }}") ==
        "int64 1.5 float64");
  CHECK(R("{{ toDecimal \"0777\" }} {{ toDecimal 17 }}") == "511 15");
}

TEST_CASE("sprig reflection names Go types and kinds") {
  CHECK(R("{{ typeOf 1 }} {{ typeOf (add 1 2) }} {{ typeOf 1.5 }} {{ typeOf \"s\" }} "
          "{{ typeOf (list) }} {{ typeOf (dict) }} {{ typeOf .missing }} {{ typeOf true }}") ==
        "int int64 float64 string []interface {} map[string]interface {} <nil> bool");
  CHECK(R("{{ typeOf (splitList \",\" \"a\") }} {{ typeOf (until 2) }} {{ typeOf now }} "
          "{{ typeOf (semver \"1.0.0\") }}") == "[]string []int time.Time *semver.Version");
  CHECK(R("{{ kindOf (list) }} {{ kindOf (dict) }} {{ kindOf \"x\" }} {{ kindOf .missing }} "
          "{{ kindOf now }} {{ kindIs \"int\" 1 }} {{ typeIs \"string\" \"x\" }} "
          "{{ typeIsLike \"semver.Version\" (semver \"1.0.0\") }}") ==
        "slice map string invalid struct true true true");
  CHECK(R("{{ deepEqual (list 1 2) (list 1 2) }} {{ deepEqual 1 (int64 1) }} "
          "{{ deepEqual (dict \"a\" 1) (dict \"a\" 1) }}") == "true false true");
}

TEST_CASE("toJson writes what Go's encoding/json writes") {
  CHECK(R("{{ toJson (dict \"b\" \"<x>&\" \"a\" 1) }}") ==
        "{\"a\":1,\"b\":\"\\u003cx\\u003e\\u0026\"}");
  CHECK(R("{{ toRawJson (dict \"b\" \"<x>\" \"a\" 1) }}") == "{\"a\":1,\"b\":\"<x>\"}");
  CHECK(R("{{ toPrettyJson (dict \"a\" (list 1 2) \"e\" (list) \"m\" (dict)) }}") ==
        "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"e\": [],\n  \"m\": {}\n}");
  CHECK(R("{{ toJson 1.5 }} {{ toJson 1e21 }} {{ toJson 0.000001 }} {{ toJson 1e-7 }} "
          "{{ toJson .missing }} {{ toJson \"\\u2028\" }}") ==
        "1.5 1e+21 0.000001 1e-7 null \"\\u2028\"");
  CHECK(R("{{ toJson . }}", Json::parse(R"({"n": 3, "f": 2.5, "l": [true, null]})")) ==
        "{\"f\":2.5,\"l\":[true,null],\"n\":3}");
  CHECK(R("{{ toJson (rest (list)) }} {{ toJson (list) }}") == "null []");
}

TEST_CASE("fromJson reads numbers as float64 like encoding/json") {
  CHECK(R("{{ $m := fromJson \"{\\\"a\\\": 1, \\\"b\\\": [true]}\" }}{{ $m.a }} {{ typeOf $m.a }} "
          "{{ $m.b }}") == "1 float64 [true]");
  CHECK(R("{{ fromJson \"{\\\"big\\\": 1000000}\" }}") == "map[big:1e+06]");
  CHECK(R("{{ fromJson \"not json\" }}") == "<no value>");
  CHECK(Err("{{ mustFromJson \"\" }}") ==
        "template: t:1:3: executing \"t\" at <mustFromJson \"\">: error calling mustFromJson: "
        "unexpected end of JSON input");
}

TEST_CASE("sprig integer math uses int64 and cast's conversions") {
  CHECK(R("{{ add 1 2 3 }} {{ add1 5 }} {{ sub 5 3 }} {{ div 10 3 }} {{ mod 10 3 }} "
          "{{ mul 2 3 4 }} {{ max 1 5 3 }} {{ min 4 2 }} {{ biggest 1 9 }}") ==
        "6 6 2 3 1 24 5 2 9");
  CHECK(R("{{ add \"1\" 2.9 }} {{ add .missing 1 }} {{ div -7 2 }} {{ mod -7 2 }}") == "3 1 -3 -1");
  CHECK(R("{{ add 9223372036854775807 1 }}") == "-9223372036854775808");
  CHECK(Err("{{ div 1 0 }}") ==
        "template: t:1:3: executing \"t\" at <div 1 0>: error calling div: runtime error: "
        "integer divide by zero");
}

TEST_CASE("sprig float math computes in decimal like shopspring/decimal") {
  CHECK(R("{{ addf 1.5 2 2 }} {{ addf 0.1 0.2 }} {{ subf 1.5 0.5 }} {{ mulf 1.5 2 }} "
          "{{ divf 10 3 }} {{ divf 1 4 }} {{ add1f 1.5 }}") ==
        "5.5 0.3 1 3 3.3333333333333335 0.25 2.5");
  CHECK(R("{{ maxf 1 2.5 2 }} {{ minf 1 2.5 -2 }} {{ floor 1.9 }} {{ ceil 1.1 }} "
          "{{ round 3.14159 2 }} {{ round 2.5 0 }} {{ round 2.4 0 0.4 }}") ==
        "2.5 -2 1 2 3.14 3 2");
  CHECK(Err("{{ divf 1 0 }}") ==
        "template: t:1:3: executing \"t\" at <divf 1 0>: error calling divf: decimal division by "
        "zero");
}

TEST_CASE("sprig sequences") {
  CHECK(R("{{ until 5 }} {{ until -3 }} {{ untilStep 3 6 2 }} {{ untilStep 6 3 -1 }} "
          "{{ untilStep 0 5 -1 }}") == "[0 1 2 3 4] [0 -1 -2] [3 5] [6 5 4] []");
  CHECK(R("{{ seq 5 }}|{{ seq 3 -1 }}|{{ seq 0 2 10 }}|{{ seq 0 }}|{{ seq }}") ==
        "1 2 3 4 5|3 2 1 0 -1|0 2 4 6 8 10|1 0|");
  CHECK(R("{{ range $i := until 3 }}{{ $i }}{{ end }}") == "012");
}

TEST_CASE("sprig list functions match Sprig") {
  CHECK(R("{{ list 1 \"a\" nil }} {{ first (list 1 2 3) }} {{ rest (list 1 2 3) }} "
          "{{ last (list 1 2 3) }} {{ initial (list 1 2 3) }}") == "[1 a <nil>] 1 [2 3] 3 [1 2]");
  CHECK(R("{{ append (list 1 2) 3 }} {{ push (list) 1 }} {{ prepend (list 1 2) 0 }} "
          "{{ concat (list 1 2) (list 3 4) (splitList \",\" \"a,b\") }}") ==
        "[1 2 3] [1] [0 1 2] [1 2 3 4 a b]");
  CHECK(R("{{ reverse (list 1 2 3) }} {{ uniq (list 1 1 2 \"1\") }} "
          "{{ without (list 1 2 3 2) 2 }} {{ has 4 (list 1 2 3 4) }} {{ has \"4\" (list 4) }} "
          "{{ has 1 .missing }}") == "[3 2 1] [1 2 1] [1 3] true false false");
  CHECK(R("{{ compact (list 1 \"\" nil 0 2 false) }} {{ slice (list 1 2 3 4 5) 1 3 }} "
          "{{ slice (list 1 2 3) 1 }} {{ chunk 3 (list 1 2 3 4 5) }}") ==
        "[1 2] [2 3] [2 3] [[1 2 3] [4 5]]");
  CHECK(R("{{ first (list) }}|{{ rest (list) }}|{{ typeOf (append (splitList \",\" \"a\") \"b\") "
          "}}") == "<no value>|[]|[]interface {}");
  CHECK(Err("{{ first \"abc\" }}") ==
        "template: t:1:3: executing \"t\" at <first \"abc\">: error calling first: Cannot find "
        "first on type string");
  CHECK(Err("{{ mustPush (dict) 1 }}") ==
        "template: t:1:3: executing \"t\" at <mustPush (dict) 1>: error calling mustPush: Cannot "
        "push on type map");
  CHECK(Err("{{ first .missing }}") ==
        "template: t:1:3: executing \"t\" at <first .missing>: error calling first: runtime "
        "error: invalid memory address or nil pointer dereference");
}

TEST_CASE("sprig dict functions match Sprig") {
  CHECK(R("{{ $d := dict \"name1\" \"value1\" \"name2\" \"value2\" \"odd\" }}{{ $d }} "
          "{{ get $d \"name1\" }}|{{ get $d \"nope\" }}|{{ hasKey $d \"name2\" }} "
          "{{ keys $d }} {{ values $d }}") ==
        "map[name1:value1 name2:value2 odd:] value1||true [name1 name2 odd] [value1 value2 ]");
  CHECK(R("{{ $d := dict }}{{ $_ := set $d \"a\" 1 }}{{ $_ := set $d \"b\" 2 }}"
          "{{ $_ := unset $d \"a\" }}{{ $d }}") == "map[b:2]");
  CHECK(R("{{ pluck \"a\" (dict \"a\" 1) (dict \"b\" 2) (dict \"a\" 3) }} "
          "{{ pick (dict \"a\" 1 \"b\" 2 \"c\" 3) \"a\" \"c\" \"z\" }} "
          "{{ omit (dict \"a\" 1 \"b\" 2 \"c\" 3) \"a\" \"c\" }}") ==
        "[1 3] map[a:1 c:3] map[b:2]");
  CHECK(R("{{ dig \"a\" \"b\" \"def\" (dict \"a\" (dict \"b\" \"found\")) }} "
          "{{ dig \"a\" \"x\" \"def\" (dict \"a\" (dict \"b\" 1)) }}") == "found def");
  // Dicts are references: a change through one name is seen through all.
  CHECK(R("{{ $outer := dict \"inner\" (dict) }}{{ $inner := $outer.inner }}"
          "{{ $_ := set $inner \"x\" 1 }}{{ $outer }}") == "map[inner:map[x:1]]");
  // ...and through the data: Helm charts rely on `set .Values`.
  CHECK(R("{{ $_ := set .cfg \"added\" true }}{{ .cfg }}", Json{{"cfg", {{"a", 1}}}}) ==
        "map[a:1 added:true]");
  CHECK(Err("{{ set (split \",\" \"a\") \"k\" 1 }}") ==
        "template: t:1:18: executing \"t\" at <\"a\">: wrong type for value; "
        "expected map[string]interface {}; got map[string]string");
}

TEST_CASE("merge and mergeOverwrite follow mergo") {
  Json data = Json::parse(R"({
    "dst": {"a": 1, "b": "", "c": {"x": 1}, "l": [1], "f": false, "s": "keep"},
    "src": {"a": 2, "b": "filled", "c": {"y": 2}, "l": [9], "f": true, "n": "new", "s": {"m": 1}}
  })");
  CHECK(R("{{ merge .dst .src }}", data) ==
        "map[a:1 b:filled c:map[x:1 y:2] f:true l:[1] n:new s:keep]");
  CHECK(R("{{ mergeOverwrite .dst .src }}", data) ==
        "map[a:2 b:filled c:map[x:1 y:2] f:true l:[9] n:new s:keep]");
  // merge changes and returns its first argument.
  CHECK(R("{{ $_ := merge .dst .src }}{{ .dst.n }}", data) == "new");
  CHECK(R("{{ deepCopy .dst | toJson }}", data) ==
        "{\"a\":1,\"b\":\"\",\"c\":{\"x\":1},\"f\":false,\"l\":[1],\"s\":\"keep\"}");
  CHECK(R("{{ $c := deepCopy .dst }}{{ $_ := set $c \"a\" 9 }}{{ .dst.a }} {{ $c.a }}", data) ==
        "1 9");
}

}  // namespace
}  // namespace flotilla::common::tmpl
