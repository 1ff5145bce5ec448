// The lexer and parser against Go's text/template/parse: what parses, what
// the trees print as, and the errors for bad templates (parse/lex.go,
// parse/parse.go, parse/node.go).
#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "common/template/ast.h"
#include "common/template/lexer.h"
#include "common/template/parser.h"
#include "common/template/template.h"

namespace flotilla::common::tmpl {
namespace {

std::string Render(const std::string& text, const Json& data = Json::object(),
                   const Options& options = {}) {
  TemplateSet set(options);
  absl::Status parsed = set.Parse("t", text);
  INFO(text << " -> " << parsed);
  REQUIRE(parsed.ok());
  absl::StatusOr<std::string> out = set.Execute("t", data);
  INFO(out.status());
  REQUIRE(out.ok());
  return *out;
}

// The message of a parse that must fail with InvalidArgument.
std::string ParseError(const std::string& text, const Options& options = {}) {
  TemplateSet set(options);
  absl::Status parsed = set.Parse("t", text);
  INFO(text);
  REQUIRE(parsed.code() == absl::StatusCode::kInvalidArgument);
  return std::string(parsed.message());
}

// The parse tree of the top-level template, printed as Go prints it.
std::string TreeString(const std::string& text) {
  ParseOptions po;
  po.has_function = [](absl::string_view name) { return name == "printf" || name == "len"; };
  auto trees = ParseTemplateText("t", text, po);
  INFO(trees.status());
  REQUIRE(trees.ok());
  for (const auto& tree : *trees) {
    if (tree->name == "t") return tree->root->String();
  }
  FAIL("no top-level tree");
  return "";
}

std::string Lex(const std::string& text) {
  Lexer lexer(text, "", "", true, true);
  std::string out;
  for (int i = 0; i < 100; ++i) {
    Item item = lexer.Next();
    if (!out.empty()) out += " ";
    out += item.String();
    if (item.type == ItemType::kEOF || item.type == ItemType::kError) break;
  }
  return out;
}

// Items as Go's lexer produces them (lex_test.go's cases).
TEST_CASE("the lexer splits actions into Go's items") {
  CHECK(Lex("hello") == "\"hello\" EOF");
  CHECK(Lex("{{.X.Y}}") == "\"{{\" \".X\" \".Y\" \"}}\" EOF");
  CHECK(Lex("{{$x := 3}}") == "\"{{\" \"$x\" \" \" \":=\" \" \" \"3\" \"}}\" EOF");
  CHECK(Lex("{{range .A}}{{end}}") == "\"{{\" <range> \" \" \".A\" \"}}\" \"{{\" <end> \"}}\" EOF");
  CHECK(Lex("{{'a' \"b\" `c`}}") == "\"{{\" \"'a'\" \" \" \"\\\"b\\\"\" \" \" \"`c`\" \"}}\" EOF");
  CHECK(Lex("{{/* c */}}x") == "\"x\" EOF");
  CHECK(Lex("{{3k}}") == "\"{{\" bad number syntax: \"3k\"");
  CHECK(Lex("{{\"abc}}") == "\"{{\" unterminated quoted string");
  CHECK(Lex("{{ #}}") == "\"{{\" \" \" \"#\" \"}}\" EOF");
  CHECK(Lex("{{\x01}}") == "\"{{\" unrecognized character in action: U+0001");
}

// Trim markers remove all adjacent space (parse/lex.go: "{{- " and " -}}").
TEST_CASE("trim markers remove the whitespace next to an action") {
  CHECK(Render("a  \n {{- 1 -}} \n\t b") == "a1b");
  CHECK(Render("a {{- 1}} b") == "a1 b");
  CHECK(Render("a {{1 -}} b") == "a 1b");
  CHECK(Render("x {{- /* comment */ -}} y") == "xy");
  // "{{-3}}" is the number -3, not a trim marker: the marker needs a space.
  CHECK(Render("{{-3}}") == "-3");
  CHECK(Render("{{ 3 -}}\n\n4") == "34");
}

// Comments are dropped and must close right at the delimiter.
TEST_CASE("comments produce nothing and must end at the closing delimiter") {
  CHECK(Render("a{{/* a comment\nover lines */}}b") == "ab");
  CHECK(ParseError("{{/* x */ }}") == "template: t:1:2: comment ends before closing delimiter");
  CHECK(ParseError("a{{/* x ") == "template: t:1:3: unclosed comment");
}

// Custom delimiters (Template.Delims), as Helm-style tools use for ${ }.
TEST_CASE("custom delimiters replace {{ and }}") {
  Options options;
  options.left_delim = "${";
  options.right_delim = "}";
  CHECK(Render("name: ${ .ClusterName } {{ not an action }}", Json{{"ClusterName", "c1"}},
               options) == "name: c1 {{ not an action }}");
  CHECK(Render("${- \"a\" -}  b", Json::object(), options) == "ab");
}

// node.go's String methods: what error messages quote.
TEST_CASE("parse trees print back as Go prints them") {
  CHECK(TreeString("{{.X | printf \"%d\"}}") == "{{.X | printf \"%d\"}}");
  CHECK(TreeString("{{if .A}}a{{else if .B}}b{{else}}c{{end}}") ==
        "{{if .A}}a{{else}}{{if .B}}b{{else}}c{{end}}{{end}}");
  CHECK(TreeString("{{range $i, $v := .L}}{{$i}}{{end}}") == "{{range $i, $v := .L}}{{$i}}{{end}}");
  CHECK(TreeString("{{with $x := 3}}{{$x = 4}}{{end}}") == "{{with $x := 3}}{{$x = 4}}{{end}}");
  CHECK(TreeString("{{(printf \"%d\" 1).X}}") == "{{(printf \"%d\" 1).X}}");
  CHECK(TreeString("{{len (printf `x`)}}") == "{{len (printf `x`)}}");
  CHECK(TreeString("{{template \"x\" .}}") == "{{template \"x\" .}}");
  CHECK(TreeString("{{0x1F}} {{1_000}} {{'a'}} {{1e3}}") == "{{0x1F}} {{1_000}} {{'a'}} {{1e3}}");
}

// Literals follow Go's syntax (strconv): escapes, raw strings, chars, numbers.
TEST_CASE("literals follow Go syntax") {
  CHECK(Render("{{\"a\\tb\\u00e9\\x41\\101\"}}") ==
        "a\tb\xC3\xA9"
        "AA");
  CHECK(Render("{{`a\\tb`}}") == "a\\tb");
  CHECK(Render("{{'a'}} {{'\\n'}} {{'\\u00e9'}}") == "97 10 233");
  CHECK(Render("{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000_000}}") == "31 15 15 5 1000000");
  CHECK(Render("{{1.5}} {{1e3}} {{.5}} {{-2}} {{+3}}") == "1.5 1000 0.5 -2 3");
  CHECK(Render("{{true}} {{false}}") == "true false");
}

// define/template/block share named templates across Parse calls.
TEST_CASE("define, template and block share named templates") {
  TemplateSet set;
  REQUIRE(set.Parse("helpers.tpl", "{{define \"greet\"}}hi {{.}}{{end}}").ok());
  REQUIRE(set.Parse("main", "[{{template \"greet\" .name}}] {{block \"b\" 1}}default {{.}}{{end}}")
              .ok());
  CHECK(*set.Execute("main", Json{{"name", "bob"}}) == "[hi bob] default 1");
  CHECK(set.Has("greet"));
  CHECK(set.Has("b"));
  // A later non-empty definition replaces; an empty one does not.
  REQUIRE(set.Parse("override.tpl", "{{define \"greet\"}}hello {{.}}{{end}}").ok());
  REQUIRE(set.Parse("empty.tpl", "{{define \"greet\"}}  {{end}}").ok());
  CHECK(*set.Execute("main", Json{{"name", "bob"}}) == "[hello bob] default 1");
  CHECK(set.Names() ==
        std::vector<std::string>{"b", "empty.tpl", "greet", "helpers.tpl", "main", "override.tpl"});
}

// Go: "template: multiple definition of template" within one parse.
TEST_CASE("two non-empty definitions of one name in one text are an error") {
  CHECK(ParseError("{{define \"a\"}}1{{end}}{{define \"a\"}}2{{end}}") ==
        "template: t:1:42: template: multiple definition of template \"a\"");
}

// Bad templates: parse.go's messages, with line and column.
TEST_CASE("bad templates fail with Go's message and a position") {
  CHECK(ParseError("{{.x") == "template: t:1:4: unclosed action");
  CHECK(ParseError("line1\n{{ .x ") == "template: t:2:6: unclosed action");
  CHECK(ParseError("{{nosuch 1}}") == "template: t:1:2: function \"nosuch\" not defined");
  CHECK(ParseError("{{$x}}") == "template: t:1:4: undefined variable \"$x\"");
  CHECK(ParseError("{{if .x}}a") == "template: t:1:10: unexpected EOF");
  CHECK(ParseError("{{end}}") == "template: t:1:5: unexpected {{end}}");
  CHECK(ParseError("{{else}}") == "template: t:1:6: unexpected {{else}}");
  CHECK(ParseError("{{range .x}}{{else}}{{else}}{{end}}") ==
        "template: t:1:26: expected end; found {{else}}");
  CHECK(ParseError("{{break}}") == "template: t:1:7: {{break}} outside {{range}}");
  CHECK(ParseError("{{continue}}") == "template: t:1:10: {{continue}} outside {{range}}");
  CHECK(ParseError("{{(1}}") == "template: t:1:4: unclosed left paren");
  CHECK(ParseError("{{1)}}") == "template: t:1:3: unexpected right paren");
  CHECK(ParseError("{{}}") == "template: t:1:2: missing value for command");
  CHECK(ParseError("{{.x | 3}}") == "template: t:1:8: non executable command in pipeline stage 2");
  CHECK(ParseError("{{\"x\".y}}") == "template: t:1:7: unexpected . after term \"\\\"x\\\"\"");
  CHECK(ParseError("{{template .x}}") == "template: t:1:11: unexpected \".x\" in template clause");
  CHECK(ParseError("{{define \"a\"}}{{end}}{{define x}}") ==
        "template: t:1:30: unexpected \"x\" in define clause");
  CHECK(ParseError("{{range $a, $b, $c := .x}}{{end}}") ==
        "template: t:1:14: too many declarations in range");
  CHECK(ParseError("{{range $a, 3}}{{end}}") ==
        "template: t:1:12: range can only initialize variables");
  CHECK(ParseError("{{with $a, $b := .x}}{{end}}") ==
        "template: t:1:9: too many declarations in with");
  CHECK(ParseError("{{99999999999999999999}}") ==
        "template: t:1:2: integer overflow: \"99999999999999999999\"");
  CHECK(ParseError("{{'ab'}}") == "template: t:1:2: malformed character constant: 'ab'");
  CHECK(ParseError("{{\"\\q\"}}") == "template: t:1:2: invalid syntax");
  CHECK(ParseError("{{.x y}}") == "template: t:1:5: function \"y\" not defined");
}

// Deep nesting is rejected before it can exhaust the stack.
TEST_CASE("nesting deeper than the limit is refused") {
  Options options;
  options.limits.max_parse_depth = 50;
  std::string deep_ifs;
  for (int i = 0; i < 60; ++i) deep_ifs += "{{if 1}}";
  for (int i = 0; i < 60; ++i) deep_ifs += "{{end}}";
  TemplateSet set(options);
  absl::Status s = set.Parse("t", deep_ifs);
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(s.message()).find("control structures nested more than 50 levels deep") !=
        std::string::npos);

  std::string parens = "{{" + std::string(60, '(') + "1" + std::string(60, ')') + "}}";
  s = set.Parse("p", parens);
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(s.message()).find("parenthesized pipelines nested more than 50") !=
        std::string::npos);

  // Within the limit it works.
  std::string ok_ifs;
  for (int i = 0; i < 40; ++i) ok_ifs += "{{if 1}}";
  ok_ifs += "x";
  for (int i = 0; i < 40; ++i) ok_ifs += "{{end}}";
  CHECK(Render(ok_ifs, Json::object(), options) == "x");
}

// A function of the FuncMap named like a keyword shadows break/continue
// (parse.go: breakOK = !hasFunction("break")).
TEST_CASE("break and continue are keywords only inside range") {
  CHECK(Render("{{range $i, $v := .}}{{if eq $v 3}}{{break}}{{end}}{{if eq $v 1}}{{continue}}"
               "{{end}}{{$v}}{{end}}",
               Json::array({0, 1, 2, 3, 4})) == "02");
}

}  // namespace
}  // namespace flotilla::common::tmpl
