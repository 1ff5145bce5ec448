#include "common/yaml.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace flotilla::common {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

// Parses one document that must be valid.
Json MustParse(const std::string& text) {
  auto v = ParseYaml(text, "test.yaml");
  INFO(text);
  REQUIRE(v.ok());
  return *v;
}

// The classic billion-laughs document: 9 levels of 9 aliases each.
std::string BillionLaughs() {
  std::string y = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'i'; ++c) {
    y += std::string(1, c) + ": &" + c + " [";
    for (int k = 0; k < 9; ++k) y += std::string(k == 0 ? "*" : ", *") + prev;
    y += "]\n";
    prev = c;
  }
  return y;
}

// Plain yes/no/on/off and their spellings are booleans, as go-yaml v2 (the
// parser behind sigs.k8s.io/yaml, so kubectl and Fleet) resolves YAML 1.1.
TEST_CASE("Plain YAML 1.1 booleans resolve as go-yaml v2 resolves them", "[yaml]") {
  for (const char* t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
    INFO(t);
    CHECK(MustParse(std::string("v: ") + t) == Json{{"v", true}});
  }
  for (const char* f :
       {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
    INFO(f);
    CHECK(MustParse(std::string("v: ") + f) == Json{{"v", false}});
  }
  // Not booleans: other spellings stay strings.
  CHECK(MustParse("v: yEs") == Json{{"v", "yEs"}});
  CHECK(MustParse("v: enabled") == Json{{"v", "enabled"}});
}

// Integers in decimal, hex, octal (YAML 1.1 leading 0 and 0o) and binary, with
// underscores dropped, as go-yaml v2's strconv.ParseInt(s, 0, 64) reads them.
TEST_CASE("Plain integers resolve in decimal, hex, octal and binary", "[yaml]") {
  Json v = MustParse(
      "dec: 42\nneg: -17\npos: +7\nzero: 0\nhex: 0x10\nhexup: 0X1f\nneghex: -0x10\n"
      "oct: 010\noct0o: 0o17\nbin: 0b101\nunder: 1_000\n"
      "max: 9223372036854775807\nmin: -9223372036854775808\numax: 18446744073709551615\n");
  CHECK(v["dec"] == 42);
  CHECK(v["neg"] == -17);
  CHECK(v["pos"] == 7);
  CHECK(v["zero"] == 0);
  CHECK(v["hex"] == 16);
  CHECK(v["hexup"] == 31);
  CHECK(v["neghex"] == -16);
  CHECK(v["oct"] == 8);
  CHECK(v["oct0o"] == 15);
  CHECK(v["bin"] == 5);
  CHECK(v["under"] == 1000);
  CHECK(v["max"].is_number_integer());
  CHECK(v["max"].get<int64_t>() == INT64_MAX);
  CHECK(v["min"].get<int64_t>() == INT64_MIN);
  CHECK(v["umax"].is_number_unsigned());
  CHECK(v["umax"].get<uint64_t>() == UINT64_MAX);
  for (const char* key : {"dec", "hex", "oct", "bin", "under"}) {
    INFO(key);
    CHECK(v[key].is_number_integer());
  }
}

// Floats: go-yaml v2 tries int first, then its float regex on the text with
// "_" removed, so "08" (not valid octal) and ints beyond 64 bits are floats.
TEST_CASE("Plain floats resolve like go-yaml v2, including ints that overflow or are bad octal",
          "[yaml]") {
  Json v = MustParse(
      "a: 1.5\nb: -0.25\nc: .5\nd: 1.\ne: 1e3\nf: 1.5E-2\ng: 08\nh: 1_000.5\n"
      "i: 99999999999999999999\nj: .inf\nk: -.Inf\nl: .nan\n");
  CHECK(v["a"] == 1.5);
  CHECK(v["b"] == -0.25);
  CHECK(v["c"] == 0.5);
  CHECK(v["d"] == 1.0);
  CHECK(v["e"] == 1000.0);
  CHECK(v["f"] == 0.015);
  CHECK(v["g"] == 8.0);
  CHECK(v["h"] == 1000.5);
  CHECK(v["i"] == 1e20);
  for (const char* key : {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}) {
    INFO(key);
    CHECK(v[key].is_number_float());
  }
  CHECK(std::isinf(v["j"].get<double>()));
  CHECK(v["j"].get<double>() > 0);
  CHECK(std::isinf(v["k"].get<double>()));
  CHECK(v["k"].get<double>() < 0);
  CHECK(std::isnan(v["l"].get<double>()));
  // Look like numbers but are not.
  CHECK(MustParse("v: 1.2.3") == Json{{"v", "1.2.3"}});
  CHECK(MustParse("v: 0x1G") == Json{{"v", "0x1G"}});
  CHECK(MustParse("v: 1e") == Json{{"v", "1e"}});
  CHECK(MustParse("v: '-'") == Json{{"v", "-"}});
}

// null, Null, NULL, ~ and an empty value are all null.
TEST_CASE("null, ~ and empty values resolve to null", "[yaml]") {
  Json v = MustParse("a: null\nb: ~\nc:\nd: Null\ne: NULL\nf: nil\n");
  CHECK(v["a"].is_null());
  CHECK(v["b"].is_null());
  CHECK(v["c"].is_null());
  CHECK(v["d"].is_null());
  CHECK(v["e"].is_null());
  CHECK(v["f"] == "nil");
  CHECK(v.size() == 6);
}

// Quoting or a !!str tag keeps a scalar a string, whatever it looks like.
TEST_CASE("Quoted and !!str-tagged scalars stay strings", "[yaml]") {
  Json v = MustParse(
      "a: \"true\"\nb: 'yes'\nc: \"123\"\nd: '0x10'\ne: \"null\"\nf: ''\ng: !!str 123\n"
      "h: !!str true\ni: \"1.5\"\nj: '~'\n");
  CHECK(v == Json{{"a", "true"},
                  {"b", "yes"},
                  {"c", "123"},
                  {"d", "0x10"},
                  {"e", "null"},
                  {"f", ""},
                  {"g", "123"},
                  {"h", "true"},
                  {"i", "1.5"},
                  {"j", "~"}});
}

// Explicit core tags force a type; a value that cannot have it is an error.
TEST_CASE("Explicit !!int, !!float, !!bool and !!null tags force the type", "[yaml]") {
  Json v = MustParse("a: !!float 1\nb: !!int \"0x10\"\nc: !!bool yes\nd: !!null whatever\n");
  CHECK(v["a"].is_number_float());
  CHECK(v["a"] == 1.0);
  CHECK(v["b"] == 16);
  CHECK(v["c"] == true);
  CHECK(v["d"].is_null());

  auto bad = ParseYaml("a: 1\nb: !!int abc\n", "tags.yaml");
  REQUIRE(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()) ==
        "tags.yaml:2:4: \"abc\" is not a valid tag:yaml.org,2002:int");
}

// A stream of several documents; empty ones (only "---" or comments) are
// skipped, the rest keep their order.
TEST_CASE("A multi-document stream yields its non-empty documents in order", "[yaml]") {
  auto docs = ParseYamlDocuments(
      "---\na: 1\n---\n---\n# only a comment\n---\n- x\n...\n---\nb: 2\n", "multi.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 3);
  CHECK((*docs)[0] == Json{{"a", 1}});
  CHECK((*docs)[1] == Json::array({"x"}));
  CHECK((*docs)[2] == Json{{"b", 2}});

  auto none = ParseYamlDocuments("# nothing\n---\n", "empty.yaml");
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto empty = ParseYaml("", "empty.yaml");
  REQUIRE(empty.ok());
  CHECK(empty->is_null());

  auto two = ParseYaml("a: 1\n---\nb: 2\n", "two.yaml");
  REQUIRE(two.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(two.status().message()) == "two.yaml: expected one YAML document, found 2");
}

// Files written on Windows: a UTF-8 byte order mark and CRLF line ends.
TEST_CASE("A UTF-8 BOM and CRLF line ends are accepted", "[yaml]") {
  auto docs = ParseYamlDocuments(
      "\xEF\xBB\xBFkind: ConfigMap\r\nmetadata:\r\n  name: x\r\n---\r\nlist:\r\n- 1\r\n- two\r\n",
      "win.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  CHECK((*docs)[0] == Json{{"kind", "ConfigMap"}, {"metadata", {{"name", "x"}}}});
  CHECK((*docs)[1] == Json{{"list", {1, "two"}}});

  // The BOM does not shift columns.
  auto with_pos = ParseYamlDocumentsWithPositions("\xEF\xBB\xBFkind: A\r\nname: b\r\n", "w.yaml");
  REQUIRE(with_pos.ok());
  CHECK((*with_pos)[0].Where("/kind") == "w.yaml:1:7");
  CHECK((*with_pos)[0].Where("/name") == "w.yaml:2:7");
}

// A syntax error is InvalidArgument "<file>:<line>:<column>: <problem>", with
// 1-based line and column.
TEST_CASE("A YAML syntax error names the file, line and column counted from 1", "[yaml]") {
  auto r = ParseYamlDocuments("a: b\n c: d\n", "broken.yaml");
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(r.status().message()) == "broken.yaml:2:3: illegal map value");

  auto flow = ParseYaml("ok: 1\nlist: [1, 2\nnext: 3\n", "flow.yaml");
  REQUIRE(flow.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(flow.status().message()), StartsWith("flow.yaml:3:"));
  CHECK_THAT(std::string(flow.status().message()), Contains("end of sequence flow not found"));

  auto nul = ParseYaml(std::string("a: 1\0", 5), "nul.yaml");
  REQUIRE(nul.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(nul.status().message()) == "nul.yaml: contains a NUL byte");
}

// go-yaml rejects a mapping with the same key twice; so do we, at the
// position of the second occurrence.
TEST_CASE("Duplicate mapping keys are rejected at the second key", "[yaml]") {
  auto r = ParseYaml("a: 1\nb:\n  c: 1\n  c: 2\n", "dup.yaml");
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(r.status().message()) == "dup.yaml:4:3: duplicate key \"c\"");

  auto top = ParseYamlDocumentsWithPositions("a: 1\na: 2\n", "dup.yaml");
  REQUIRE(top.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(top.status().message()) == "dup.yaml:2:1: duplicate key \"a\"");
}

// Nine levels of nine aliases expand to 9^9 nodes; the parse stops at the node
// limit instead of using unbounded time and memory.
TEST_CASE("A billion-laughs alias bomb fails with InvalidArgument naming the node limit",
          "[yaml]") {
  auto r = ParseYamlDocuments(BillionLaughs(), "bomb.yaml");
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()), StartsWith("bomb.yaml:"));
  CHECK_THAT(std::string(r.status().message()),
             Contains("document expands to more than 1000000 nodes"));

  YamlLimits small;
  small.max_nodes = 10'000;
  auto p = ParseYamlDocumentsWithPositions(BillionLaughs(), "bomb.yaml", small);
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()),
             Contains("document expands to more than 10000 nodes"));
}

// The node budget covers the whole stream, not each document separately,
// whichever parse entry point is used.
TEST_CASE("The node limit spans every document of a stream", "[yaml]") {
  YamlLimits limits;
  limits.max_nodes = 5;
  const std::string text = "a: 1\n---\n[1, 2, 3]\n";  // 2 nodes, then 4
  auto plain = ParseYamlDocuments(text, "s.yaml", limits);
  REQUIRE(plain.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(plain.status().message()), Contains("more than 5 nodes"));
  auto positioned = ParseYamlDocumentsWithPositions(text, "s.yaml", limits);
  REQUIRE(positioned.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(positioned.status().message()), Contains("more than 5 nodes"));

  limits.max_nodes = 6;
  CHECK(ParseYamlDocuments(text, "s.yaml", limits).ok());
  CHECK(ParseYamlDocumentsWithPositions(text, "s.yaml", limits).ok());
}

// 10,000 nested flow sequences: yaml-cpp's own depth guard (500 levels) stops
// the parse; the error says what happened rather than yaml-cpp's "bad file".
TEST_CASE("Nesting 10,000 levels deep fails cleanly with InvalidArgument", "[yaml]") {
  std::string deep = std::string(10'000, '[') + std::string(10'000, ']');
  auto r = ParseYamlDocuments(deep, "deep.yaml");
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(r.status().message()) == "deep.yaml:1:1: nesting deeper than 499 levels");

  auto p = ParseYamlDocumentsWithPositions(deep, "deep.yaml");
  REQUIRE(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()), Contains("nesting deeper than 499 levels"));

  // Block mappings are guarded the same way.
  std::string block;
  for (int i = 0; i < 600; ++i) block += std::string(i * 2, ' ') + "a:\n";
  auto b = ParseYaml(block, "block.yaml");
  REQUIRE(b.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(b.status().message()), StartsWith("block.yaml:"));
  CHECK_THAT(std::string(b.status().message()), Contains("nesting deeper than 499 levels"));
}

// Below yaml-cpp's guard, YamlLimits::max_depth applies.
TEST_CASE("YamlLimits max_depth rejects nesting beyond it", "[yaml]") {
  YamlLimits limits;
  limits.max_depth = 3;
  auto ok = ParseYaml("[[[1]]]", "d.yaml", limits);
  REQUIRE(ok.ok());
  CHECK(*ok == Json::parse("[[[1]]]"));
  auto r = ParseYaml("[[[[[1]]]]]", "d.yaml", limits);
  REQUIRE(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(r.status().message()), StartsWith("d.yaml:1:"));
  CHECK_THAT(std::string(r.status().message()), Contains("nesting deeper than 3 levels"));
}

// Strings that would read back as another type are quoted by ToYaml, so that
// parse(ToYaml(x)) == x.
TEST_CASE("ToYaml round-trips strings that look like other types", "[yaml]") {
  const std::vector<std::string> tricky = {
      "true",  "1.0",   "null",   "",       "yes",  "0x10",  "- a", "a: b", "~",   "08",
      "1_000", "on",    "No",     "1e3",    ".inf", "-.Inf", "? x", "x:",   "#c",  "foo #bar",
      "*ref",  "&anc",  "!tag",   "%dir",   "@at",  "`tick", "|",   ">",    "[x]", "{y}",
      "'q'",   "\"d\"", "  lead", "trail ", "a\tb", "\x01",  "é",   "=",    "<<",  "a,b"};
  for (const auto& s : tricky) {
    INFO("string: [" << s << "]");
    Json in{{"k", s}, {"list", {s}}};
    std::string y = ToYaml(in);
    INFO("yaml: " << y);
    auto back = ParseYaml(y, "rt.yaml");
    REQUIRE(back.ok());
    CHECK(*back == in);
  }
  CHECK(ToYaml(Json("true")) == "\"true\"\n");
  CHECK(ToYaml(Json("")) == "\"\"\n");
  CHECK(ToYaml(Json("plain")) == "plain\n");
  CHECK(ToYaml(Json{{"a: b", "null"}}) == "\"a: b\": \"null\"\n");
}

// Multi-line text keeps every newline, leading blank and trailing newline.
TEST_CASE("ToYaml round-trips multi-line strings", "[yaml]") {
  const std::vector<std::string> texts = {"line1\nline2\n",       "line1\nline2",
                                          "trailing\n\n",         "  indented\nnext\n",
                                          "\nleading\n",          "a\n\nb\n",
                                          "tab\tin\nline\n",      "cr\r\nlf\n",
                                          "#!/bin/sh\necho hi\n", "key: value\n- item\n"};
  for (const auto& s : texts) {
    INFO("string: [" << s << "]");
    Json in{{"script", s}, {"nested", {{"list", {s}}}}};
    std::string y = ToYaml(in);
    INFO("yaml: " << y);
    auto back = ParseYaml(y, "rt.yaml");
    REQUIRE(back.ok());
    CHECK(*back == in);
  }
  // Text ending in one newline is written as a literal block.
  CHECK(ToYaml(Json{{"s", "line1\nline2\n"}}) == "s: |\n  line1\n  line2\n");
}

// Structures, including empty ones and every scalar type, survive the trip.
TEST_CASE("ToYaml round-trips nested maps, lists and empty collections", "[yaml]") {
  Json in = Json::parse(R"({
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "x", "labels": {"app": "y", "true": "false"}, "annotations": {}},
    "data": {"empty": "", "num": "1", "multi": "a\nb\n"},
    "list": [[], {}, [1, [2, [3]]], {"a": {"b": {"c": null}}}],
    "scalars": [true, false, null, 0, -5, 3.25, 18446744073709551615, "s"],
    "": "empty key", "1": "numeric key"
  })");
  std::string y = ToYaml(in);
  INFO(y);
  auto back = ParseYaml(y, "rt.yaml");
  REQUIRE(back.ok());
  CHECK(*back == in);
  CHECK(ToYaml(Json::object()) == "{}\n");
  CHECK(ToYaml(Json::array()) == "[]\n");
  CHECK(ToYaml(Json{{"a", Json::object()}, {"b", Json::array()}}) == "a: {}\nb: []\n");
}

// Several objects become one stream with "---" between documents.
TEST_CASE("ToYamlDocuments separates documents with ---", "[yaml]") {
  CHECK(ToYamlDocuments({Json{{"a", 1}}, Json{{"b", "x"}}}) == "a: 1\n---\nb: x\n");
  CHECK(ToYamlDocuments({}).empty());
  auto back = ParseYamlDocuments(ToYamlDocuments({Json{{"a", 1}}, Json{{"b", "true"}}}), "s");
  REQUIRE(back.ok());
  CHECK(*back == std::vector<Json>{Json{{"a", 1}}, Json{{"b", "true"}}});
}

// Canonical JSON (what hashes are computed over) sorts keys, no whitespace.
TEST_CASE("CanonicalJson sorts keys and has no spaces", "[yaml]") {
  Json v = MustParse("b: 1\na:\n  d: [1, 2]\n  c: x\n");
  CHECK(CanonicalJson(v) == R"({"a":{"c":"x","d":[1,2]},"b":1})");
}

// Every node's position is recorded under its JSON pointer; "/" and "~" in
// keys are escaped as RFC 6901 says.
TEST_CASE("ParseYamlDocumentsWithPositions records 1-based positions of every node", "[yaml]") {
  auto docs = ParseYamlDocumentsWithPositions(
      "kind: A\nmetadata:\n  name: x\n  labels: {a: b}\nlist:\n- 1\n- q: 2\n"
      "a/b: 1\nc~d: 2\n---\nsecond: doc\n",
      "p.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  const YamlDocument& d = (*docs)[0];
  CHECK(d.filename == "p.yaml");
  CHECK(d.value["metadata"]["labels"] == Json{{"a", "b"}});
  CHECK(d.positions.at("") == std::make_pair(1, 1));
  CHECK(d.positions.at("/kind") == std::make_pair(1, 7));
  CHECK(d.positions.at("/metadata") == std::make_pair(3, 3));
  CHECK(d.positions.at("/metadata/name") == std::make_pair(3, 9));
  CHECK(d.positions.at("/metadata/labels") == std::make_pair(4, 11));
  CHECK(d.positions.at("/metadata/labels/a") == std::make_pair(4, 15));
  CHECK(d.positions.at("/list/0") == std::make_pair(6, 3));
  CHECK(d.positions.at("/list/1/q") == std::make_pair(7, 6));
  CHECK(d.positions.at("/a~1b") == std::make_pair(8, 6));
  CHECK(d.positions.at("/c~0d") == std::make_pair(9, 6));
  CHECK((*docs)[1].Where("/second") == "p.yaml:11:9");
}

// Validation after parsing names the closest node that exists.
TEST_CASE("YamlDocument::Where falls back to the nearest ancestor, then the filename", "[yaml]") {
  auto docs = ParseYamlDocumentsWithPositions(
      "spec:\n  targets:\n  - name: a\n    clusterSelector: {}\n", "g.yaml");
  REQUIRE(docs.ok());
  const YamlDocument& d = (*docs)[0];
  CHECK(d.Where("/spec/targets/0/name") == "g.yaml:3:11");
  CHECK(d.Where("/spec/targets/0/clusterSelector/matchLabels/x") == "g.yaml:4:22");
  CHECK(d.Where("/spec/targets/7") == "g.yaml:3:3");
  CHECK(d.Where("/spec/missing") == "g.yaml:2:3");
  CHECK(d.Where("/nope") == "g.yaml:1:1");
  CHECK(d.Where("") == "g.yaml:1:1");

  YamlDocument bare;
  bare.filename = "stored";
  CHECK(bare.Where("/a/b") == "stored");
}

}  // namespace
}  // namespace flotilla::common
