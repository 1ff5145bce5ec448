// Execution against Go's text/template/exec.go and funcs.go: data access,
// control structures, variables, builtins and the errors they report.
#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "common/template/funcs.h"
#include "common/template/template.h"

namespace flotilla::common::tmpl {
namespace {

std::string Render(const std::string& text, const Json& data = Json::object(),
                   const Options& options = {}, const FuncMap& funcs = {}) {
  TemplateSet set(options, funcs);
  absl::Status parsed = set.Parse("t", text);
  INFO(text << " -> " << parsed);
  REQUIRE(parsed.ok());
  absl::StatusOr<std::string> out = set.Execute("t", data);
  INFO(text << " -> " << out.status());
  REQUIRE(out.ok());
  return *out;
}

// The message of an execution that must fail with `code`.
std::string ExecError(const std::string& text, const Json& data = Json::object(),
                      const Options& options = {},
                      absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  TemplateSet set(options);
  absl::Status parsed = set.Parse("t", text);
  INFO(text << " -> " << parsed);
  REQUIRE(parsed.ok());
  absl::StatusOr<std::string> out = set.Execute("t", data);
  INFO(text << " -> " << (out.ok() ? *out : out.status().ToString()));
  REQUIRE(out.status().code() == code);
  return std::string(out.status().message());
}

const Json kData = Json::parse(R"({
  "name": "web",
  "replicas": 3,
  "ratio": 1.5,
  "big": 1000000.0,
  "enabled": true,
  "off": false,
  "nothing": null,
  "empty": "",
  "list": ["a", "b", "c"],
  "nums": [3, 1, 2],
  "emptyList": [],
  "map": {"b": 2, "a": 1, "c": {"d": "deep"}},
  "emptyMap": {},
  "items": [{"name": "x", "port": 80}, {"name": "y", "port": 443}]
})");

// exec.go evalField: maps are looked up by field name.
TEST_CASE("fields read maps, nested maps and the root") {
  CHECK(Render("{{.name}} {{.map.c.d}} {{$.name}} {{.replicas}}", kData) == "web deep web 3");
  CHECK(Render("{{with .map}}{{.a}}{{$.name}}{{end}}", kData) == "1web");
  CHECK(Render("{{.}}", Json("just a string")) == "just a string");
}

// printValue prints a missing value as <no value>; a null map entry is
// an interface holding nil, which the pipeline also turns into no value.
TEST_CASE("missing keys and nulls print as <no value>") {
  CHECK(Render("{{.missing}}|{{.nothing}}|{{.missing.deeper}}", kData) ==
        "<no value>|<no value>|<no value>");
  CHECK(Render("{{print .missing}} {{print .nothing}}", kData) == "<nil> <nil>");
}

// Option("missingkey=zero") yields the element's zero value: for
// map[string]interface{} that is a nil interface, still printed <no value>
// (Go issue 24963; Helm strips the text afterwards).
TEST_CASE("missingkey=zero yields the zero value of the element type") {
  Options zero;
  zero.missing_key = MissingKey::kZero;
  CHECK(Render("{{.missing}}", kData, zero) == "<no value>");
  // The zero value is a nil interface: going through it is a nil pointer.
  CHECK(ExecError("{{.missing.deeper}}", kData, zero) ==
        "template: t:1:10: executing \"t\" at <.missing.deeper>: nil pointer evaluating "
        "interface {}.deeper");
}

TEST_CASE("missingkey=error names the missing key") {
  Options strict;
  strict.missing_key = MissingKey::kError;
  CHECK(ExecError("{{.nope}}", kData, strict) ==
        "template: t:1:2: executing \"t\" at <.nope>: map has no entry for key \"nope\"");
  CHECK(ExecError("x\n {{ .map.nope }}", kData, strict) ==
        "template: t:2:8: executing \"t\" at <.map.nope>: map has no entry for key \"nope\"");
  // A present key holding null is not missing.
  CHECK(Render("{{.nothing}}", kData, strict) == "<no value>");
}

// exec.go evalField on values that are not maps.
TEST_CASE("field access on the wrong kind of value fails like Go") {
  CHECK(ExecError("{{.name.first}}", kData) ==
        "template: t:1:7: executing \"t\" at <.name.first>: can't evaluate field first in type "
        "interface {}");
  CHECK(ExecError("{{$x := \"s\"}}{{$x.y}}", kData) ==
        "template: t:1:17: executing \"t\" at <$x.y>: can't evaluate field y in type string");
  CHECK(ExecError("{{.nothing.x}}", kData) ==
        "template: t:1:10: executing \"t\" at <.nothing.x>: nil pointer evaluating "
        "interface {}.x");
  CHECK(ExecError("{{.map.a 1}}", kData) ==
        "template: t:1:6: executing \"t\" at <.map.a>: a is not a method but has arguments");
}

// isTrue: empty values are false.
TEST_CASE("if and with use Go's truth") {
  CHECK(Render("{{if .enabled}}y{{end}}{{if .off}}n{{end}}{{if .empty}}n{{end}}"
               "{{if .emptyList}}n{{end}}{{if .emptyMap}}n{{end}}{{if .nothing}}n{{end}}"
               "{{if .missing}}n{{end}}{{if 0}}n{{end}}{{if 0.0}}n{{end}}{{if .list}}y{{end}}",
               kData) == "yy");
  CHECK(Render("{{if .off}}a{{else if .empty}}b{{else if .replicas}}c{{else}}d{{end}}", kData) ==
        "c");
  CHECK(Render("{{with .map.c}}{{.d}}{{else}}none{{end}} {{with .missing}}x{{else}}none{{end}}",
               kData) == "deep none");
  // else with (Go 1.23)
  CHECK(Render("{{with .missing}}a{{else with .name}}{{.}}{{else}}c{{end}}", kData) == "web");
}

// walkRange: slices in order, maps by sorted key, integers (Go 1.22).
TEST_CASE("range iterates lists, maps in key order and integers") {
  CHECK(Render("{{range .list}}[{{.}}]{{end}}", kData) == "[a][b][c]");
  CHECK(Render("{{range $i, $v := .list}}{{$i}}={{$v}} {{end}}", kData) == "0=a 1=b 2=c ");
  CHECK(Render("{{range $k, $v := .map}}{{$k}}:{{$v}} {{end}}", kData) == "a:1 b:2 c:map[d:deep] ");
  CHECK(Render("{{range $v := .nums}}{{$v}}{{end}}", kData) == "312");
  CHECK(Render("{{range 3}}{{.}}{{end}}", kData) == "012");
  CHECK(Render("{{range $i := 2}}{{$i}}{{end}}", kData) == "01");
  CHECK(Render("{{range .emptyList}}x{{else}}empty{{end}} {{range .missing}}x{{else}}none{{end}}",
               kData) == "empty none");
  CHECK(Render("{{range .items}}{{.name}}:{{.port}} {{end}}", kData) == "x:80 y:443 ");
  CHECK(ExecError("{{range .name}}{{end}}", kData) ==
        "template: t:1:8: executing \"t\" at <.name>: range can't iterate over web");
  CHECK(ExecError("{{range $i, $v := 3}}{{end}}", kData) ==
        "template: t:1:18: executing \"t\" at <3>: can't use 3 to iterate over more than one "
        "variable");
  // Assignment to outer variables inside range.
  CHECK(Render("{{$last := \"\"}}{{range .list}}{{$last = .}}{{end}}{{$last}}", kData) == "c");
}

TEST_CASE("variables are scoped to their control structure") {
  CHECK(Render("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}") == "21");
  CHECK(Render("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}") == "2");
  // Templates do not inherit variables; $ is their own dot.
  TemplateSet set;
  REQUIRE(
      set.Parse("t", "{{define \"sub\"}}{{$}}{{end}}{{$x := 5}}{{template \"sub\" .name}}").ok());
  CHECK(*set.Execute("t", kData) == "web");
  CHECK(ExecError("{{$x = 2}}") ==
        "template: t:1:7: executing \"t\" at <2>: undefined variable: $x");
}

// funcs.go: and/or return the deciding operand and short-circuit.
TEST_CASE("and, or and not follow Go") {
  CHECK(Render("{{and 1 0 \"x\"}} {{and 1 2}} {{or 0 \"\" \"x\"}} {{or 0 \"\"}}") == "0 2 x ");
  CHECK(Render("{{not 0}} {{not .list}}", kData) == "true false");
  // The second operand is not evaluated: its error never happens.
  CHECK(Render("{{or 1 (fail)}}", Json::object(), {}, [] {
          FuncMap f;
          f.Add("fail", Sig({}), [](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> {
            return absl::InternalError("must not run");
          });
          return f;
        }()) == "1");
  CHECK(Render("{{if and .enabled .list}}yes{{end}}", kData) == "yes");
  CHECK(Render("{{.name | and true}}", kData) == "web");
}

// funcs.go eq/lt: basic kinds compare, ints and uints mix, others are
// errors.
TEST_CASE("comparisons follow Go's type rules") {
  CHECK(Render("{{eq 1 1}} {{eq .name \"web\"}} {{eq .replicas 1 2 3}} {{ne 1 2}}", kData) ==
        "true true true true");
  CHECK(Render("{{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}") ==
        "true true true false");
  CHECK(Render("{{eq .missing \"x\"}} {{eq .missing .nothing}}", kData) == "false true");
  CHECK(ExecError("{{eq .replicas 1.0}}", kData) ==
        "template: t:1:2: executing \"t\" at <eq .replicas 1.0>: error calling eq: incompatible "
        "types for comparison");
  CHECK(ExecError("{{lt true false}}") ==
        "template: t:1:2: executing \"t\" at <lt true false>: error calling lt: invalid type for "
        "comparison");
  CHECK(ExecError("{{lt .list 1}}", kData) ==
        "template: t:1:2: executing \"t\" at <lt .list 1>: error calling lt: invalid type for "
        "comparison");
  CHECK(ExecError("{{eq .map .map}}", kData) ==
        "template: t:1:2: executing \"t\" at <eq .map .map>: error calling eq: non-comparable "
        "type map[a:%!s(int=1) b:%!s(int=2) c:map[d:deep]]: map[string]interface {}");
  CHECK(ExecError("{{eq 1}}") ==
        "template: t:1:2: executing \"t\" at <eq 1>: error calling eq: missing argument for "
        "comparison");
}

TEST_CASE("len, index and slice follow Go") {
  CHECK(Render("{{len .list}} {{len .map}} {{len .name}} {{len .emptyMap}}", kData) == "3 3 3 0");
  CHECK(Render("{{index .list 1}} {{index .map \"a\"}} {{index .map \"c\" \"d\"}} {{index .items 1 "
               "\"port\"}}",
               kData) == "b 1 deep 443");
  CHECK(Render("{{index .map \"zz\"}}|{{index \"abc\" 1}}", kData) == "<no value>|98");
  CHECK(Render("{{slice .list 1}} {{slice .list 1 2}} {{slice .name 1 2}} {{slice .list}}",
               kData) == "[b c] [b] e [a b c]");
  CHECK(ExecError("{{index .list 5}}", kData) ==
        "template: t:1:2: executing \"t\" at <index .list 5>: error calling index: index out of "
        "range: 5");
  CHECK(ExecError("{{index .list \"x\"}}", kData) ==
        "template: t:1:2: executing \"t\" at <index .list \"x\">: error calling index: cannot "
        "index slice/array with type string");
  CHECK(ExecError("{{index .replicas 0}}", kData) ==
        "template: t:1:2: executing \"t\" at <index .replicas 0>: error calling index: can't "
        "index item of type int");
  CHECK(ExecError("{{len 3}}") ==
        "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int");
  CHECK(ExecError("{{slice .list 2 1}}", kData) ==
        "template: t:1:2: executing \"t\" at <slice .list 2 1>: error calling slice: invalid "
        "slice index: 2 > 1");
}

// fmt's %v of composite values, through print and plain actions.
TEST_CASE("values print the way Go's fmt prints them") {
  CHECK(Render("{{.list}} {{.map}} {{.emptyList}} {{.emptyMap}}", kData) ==
        "[a b c] map[a:1 b:2 c:map[d:deep]] [] map[]");
  CHECK(Render("{{.ratio}} {{.big}} {{.enabled}} {{.items}}", kData) ==
        "1.5 1e+06 true [map[name:x port:80] map[name:y port:443]]");
  CHECK(Render("{{print 1 2 \"a\" \"b\" 3}}|{{println 1 \"a\"}}|{{print nil}}") ==
        "1 2ab3|1 a\n|<nil>");
  CHECK(Render("{{printf \"%s=%d\" .name .replicas}}", kData) == "web=3");
}

TEST_CASE("html, js and urlquery escape like Go") {
  CHECK(Render("{{html \"<a href='x'>&\\\"\"}}") == "&lt;a href=&#39;x&#39;&gt;&amp;&#34;");
  CHECK(Render("{{js \"it's <b>\\n\"}}") == "it\\'s \\u003Cb\\u003E\\u000A");
  CHECK(Render("{{urlquery \"a b&c=d/é\"}}") == "a+b%26c%3Dd%2F%C3%A9");
  CHECK(Render("{{html .missing}}", kData) == "&lt;no value&gt;");
}

// Pipelines pass the previous value as the last argument.
TEST_CASE("pipelines and parenthesized pipelines") {
  CHECK(Render("{{.name | printf \"%s!\" | printf \"<%s>\"}}", kData) == "<web!>");
  CHECK(Render("{{printf \"%d-%s\" (len .list) (index .list 0)}}", kData) == "3-a");
  CHECK(Render("{{(index .items 0).name}}", kData) == "x");
}

// evalCall/evalArg: Go's argument checking.
TEST_CASE("function arguments are checked like Go") {
  FuncMap f;
  f.Add("twice", Sig({ParamType::kInt}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          return Value::Int(2 * a[0].int_value());
        });
  f.Add("shout", Sig({ParamType::kString}),
        [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
          return Value::String(a[0].str() + "!");
        });
  f.Add("boom", Sig({}), [](std::vector<Value>&, CallContext&) -> absl::StatusOr<Value> {
    return absl::InvalidArgumentError("it broke");
  });
  TemplateSet set({}, f);
  auto run = [&](const std::string& text) -> std::string {
    REQUIRE(set.Parse("t", text).ok());
    auto out = set.Execute("t", kData);
    return out.ok() ? *out : std::string(out.status().message());
  };
  CHECK(run("{{twice 21}} {{shout .name}} {{.name | shout}}") == "42 web! web!");
  CHECK(run("{{twice 1.0}}") == "2");  // an integral float literal is an int
  CHECK(run("{{twice 1.5}}") ==
        "template: t:1:8: executing \"t\" at <1.5>: expected integer; found 1.5");
  CHECK(run("{{shout 5}}") == "template: t:1:8: executing \"t\" at <5>: expected string; found 5");
  CHECK(run("{{shout .replicas}}") ==
        "template: t:1:8: executing \"t\" at <.replicas>: wrong type for value; expected string; "
        "got int");
  CHECK(run("{{shout .missing}}") ==
        "template: t:1:8: executing \"t\" at <.missing>: invalid value; expected string");
  CHECK(run("{{.missing | shout}}") ==
        "template: t:1:13: executing \"t\" at <shout>: invalid value; expected string");
  CHECK(run("{{shout nil}}") ==
        "template: t:1:8: executing \"t\" at <nil>: cannot assign nil to string");
  CHECK(
      run("{{shout}}") ==
      "template: t:1:2: executing \"t\" at <shout>: wrong number of args for shout: want 1 got 0");
  CHECK(
      run("{{shout \"a\" \"b\"}}") ==
      "template: t:1:2: executing \"t\" at <shout>: wrong number of args for shout: want 1 got 2");
  CHECK(run("{{boom}}") ==
        "template: t:1:2: executing \"t\" at <boom>: error calling boom: it broke");
  CHECK(run("{{printf}}") ==
        "template: t:1:2: executing \"t\" at <printf>: wrong number of args for printf: want at "
        "least 1 got 0");
  CHECK(run("{{nil}}") == "template: t:1:2: executing \"t\" at <nil>: nil is not a command");
  CHECK(run("{{.name 1}}") ==
        "template: t:1:2: executing \"t\" at <.name>: name is not a method but has arguments");
  CHECK(run("{{1 2}}") ==
        "template: t:1:2: executing \"t\" at <1>: can't give argument to "
        "non-function 1");
}

// walkTemplate errors.
TEST_CASE("calling an undefined template is an error at the call") {
  CHECK(ExecError("ab{{template \"nope\" .}}") ==
        "template: t:1:13: executing \"t\" at <{{template \"nope\" .}}>: template \"nope\" not "
        "defined");
  TemplateSet set;
  REQUIRE(set.Parse("a", "x").ok());
  auto out = set.Execute("b", kData);
  CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(out.status().message() ==
        "template: no template \"b\" defined; defined templates are: \"a\"");
}

// Errors inside a defined template name it and the file it came from.
TEST_CASE("errors in a defined template name the template and its file") {
  Options strict;
  strict.missing_key = MissingKey::kError;
  TemplateSet set(strict);
  REQUIRE(set.Parse("_helpers.tpl", "{{define \"lbl\"}}\n  app: {{.app}}{{end}}").ok());
  REQUIRE(set.Parse("deploy.yaml", "{{include_me}}").code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(set.Parse("deploy.yaml", "{{template \"lbl\" .}}").ok());
  auto out = set.Execute("deploy.yaml", Json::object());
  CHECK(out.status().message() ==
        "template: _helpers.tpl:2:9: executing \"lbl\" at <.app>: map has no entry for key "
        "\"app\"");
}

// Integers stay int, floats float64 (printed with %v's shortest form).
TEST_CASE("numbers keep their Go types") {
  CHECK(Render("{{printf \"%T %T %T %T\" .replicas .ratio 1 1.0}}", kData) ==
        "int float64 int float64");
  CHECK(Render("{{printf \"%T %T %T\" .list .map .nothing}}", kData) ==
        "[]interface {} map[string]interface {} <nil>");
}

// What Go programs that decode JSON into interface{} see: float64 numbers.
TEST_CASE("JSON numbers can be read as float64 like Go's encoding/json") {
  Options go_json;
  go_json.json_numbers_as_float64 = true;
  CHECK(Render("{{.replicas}} {{.big}} {{printf \"%T\" .replicas}}", kData, go_json) ==
        "3 1e+06 float64");
  CHECK(Render("{{.n}}", Json{{"n", 1000000}}, go_json) == "1e+06");
  CHECK(Render("{{.n}}", Json{{"n", 1000000}}) == "1000000");
}

// Go's template "block" and recursion through template calls.
TEST_CASE("templates may call themselves recursively") {
  TemplateSet set;
  REQUIRE(set.Parse("t",
                    "{{define \"walk\"}}{{len .}}{{if .}}{{template \"walk\" (slice . 1)}}"
                    "{{end}}{{end}}{{template \"walk\" .list}}")
              .ok());
  CHECK(*set.Execute("t", kData) == "3210");
}

// The seam the Helm layer builds include and tpl on: functions can run a
// named template, or parse and run text, inside the current execution.
TEST_CASE("functions can run templates inside the execution, as include and tpl need") {
  FuncMap f;
  f.Add("include", Sig({ParamType::kString, ParamType::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          absl::StatusOr<std::string> s = ctx.ExecuteTemplate(a[0].str(), a[1]);
          if (!s.ok()) return s.status();
          return Value::String(*s);
        });
  f.Add("tpl", Sig({ParamType::kString, ParamType::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          absl::StatusOr<std::string> s = ctx.ExecuteText("inline", a[0].str(), a[1]);
          if (!s.ok()) return s.status();
          return Value::String(*s);
        });
  Options options;
  options.limits.max_template_depth = 200;
  TemplateSet set(options, f);
  REQUIRE(set.Parse("_helpers.tpl",
                    "{{define \"name\"}}{{.name}}-app{{end}}"
                    "{{define \"loop\"}}{{include \"loop\" .}}{{end}}")
              .ok());
  REQUIRE(set.Parse("t",
                    "{{include \"name\" . | printf \"%q\"}} {{tpl \"{{.name | len}}\" .}} "
                    "{{tpl \"{{include \\\"name\\\" .}}\" .}}")
              .ok());
  CHECK(*set.Execute("t", kData) == "\"web-app\" 3 web-app");
  // Recursion through a function is bounded like {{template}}.
  REQUIRE(set.Parse("r", "{{include \"loop\" .}}").ok());
  auto out = set.Execute("r", kData);
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(std::string(out.status().message()).find("exceeded maximum template depth (200)") !=
        std::string::npos);
}

// Executions over a shared value see each other's changes (Helm's .Values
// across files); the session breaks cycles a template made when it ends.
TEST_CASE("a session shares data across executions and breaks cycles at the end") {
  FuncMap f;
  f.Add("set", Sig({ParamType::kMap, ParamType::kString, ParamType::kAny}),
        [](std::vector<Value>& a, CallContext& ctx) -> absl::StatusOr<Value> {
          a[0].map()->entries[a[1].str()] = ForStorage(a[2]);
          ctx.NoteMutation(a[0]);
          return a[0];
        });
  TemplateSet set({}, f);
  REQUIRE(set.Parse("a", "{{$_ := set . \"seen\" true}}{{$_ := set . \"self\" .}}").ok());
  REQUIRE(set.Parse("b", "{{.seen}}").ok());
  Value data = *ValueFromJson(Json::object());
  {
    ExecSession session;
    REQUIRE(set.ExecuteValue("a", data, &session).ok());
    CHECK(*set.ExecuteValue("b", data, &session) == "true");
    CHECK(data.map()->entries.count("self") == 1);
  }
  CHECK(data.map()->entries.empty());
}

}  // namespace
}  // namespace flotilla::common::tmpl
