// values.schema.json validation (common/helm/schema.h): each keyword's
// violation as gojsonschema words it, and a chart's schema checked at render
// time with Helm's error, per subchart scope, or skipped.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/helm/chart.h"
#include "common/helm/render.h"
#include "common/helm/schema.h"
#include "common/render/manifest.h"
#include "common/yaml.h"

namespace flotilla::common::helm {
namespace {

using Files = std::map<std::string, std::string>;
using Errors = std::vector<std::string>;

Errors Check(const char* schema, const char* value) {
  return ValidateJsonSchema(Json::parse(schema), Json::parse(value));
}

TEST_CASE("schema: type", "[schema]") {
  const char* s = R"({"properties": {"replicaCount": {"type": "integer"}}})";
  CHECK(Check(s, R"({"replicaCount": 3})").empty());
  CHECK(Check(s, R"({"replicaCount": 3.0})").empty());
  CHECK(Check(s, R"({"replicaCount": "3"})") ==
        Errors{"replicaCount: Invalid type. Expected: integer, given: string"});
  CHECK(Check(s, R"({"replicaCount": 1.5})") ==
        Errors{"replicaCount: Invalid type. Expected: integer, given: number"});
  CHECK(Check(R"({"type": "number"})", "2").empty());
  CHECK(Check(R"({"type": ["string", "null"]})", "null").empty());
  CHECK(Check(R"({"type": ["string", "null"]})", "true") ==
        Errors{"(root): Invalid type. Expected: [string,null], given: boolean"});
  CHECK(Check(R"({"type": "object"})", "[]") ==
        Errors{"(root): Invalid type. Expected: object, given: array"});
  // A type mismatch stops the other checks of that schema.
  CHECK(Check(R"({"type": "string", "minLength": 3})", "1").size() == 1);
}

TEST_CASE("schema: required, properties, additionalProperties", "[schema]") {
  const char* s = R"({"required": ["image", "name"],
      "properties": {"image": {"type": "object", "required": ["tag"],
                               "properties": {"tag": {"type": "string"}}}},
      "additionalProperties": false})";
  CHECK(Check(s, R"({"image": {"tag": "1"}, "name": 1})") ==
        Errors{"(root): Additional property name is not allowed"});
  CHECK(Check(s, R"({})") == Errors{"(root): image is required", "(root): name is required"});
  CHECK(Check(s, R"({"image": {"tag": 1}, "name": 1})") ==
        Errors{"(root): Additional property name is not allowed",
               "image.tag: Invalid type. Expected: string, given: integer"});
  CHECK(Check(s, R"({"image": {}, "name": 1, "x": 2})") ==
        Errors{"(root): Additional property name is not allowed",
               "(root): Additional property x is not allowed", "image: tag is required"});
  const char* typed = R"({"additionalProperties": {"type": "integer"}})";
  CHECK(Check(typed, R"({"a": 1})").empty());
  CHECK(Check(typed, R"({"a": "x"})") ==
        Errors{"a: Invalid type. Expected: integer, given: string"});
  const char* patterned = R"({"patternProperties": {"^x-": {"type": "string"}},
      "additionalProperties": false})";
  CHECK(Check(patterned, R"({"x-a": "1"})").empty());
  CHECK(Check(patterned, R"({"x-a": 1, "y": 1})") ==
        Errors{"x-a: Invalid type. Expected: string, given: integer",
               "(root): Additional property y is not allowed"});
}

TEST_CASE("schema: items, minItems, maxItems", "[schema]") {
  const char* s = R"({"type": "array", "items": {"type": "string"}, "minItems": 1,
                      "maxItems": 2})";
  CHECK(Check(s, R"(["a"])").empty());
  CHECK(Check(s, R"([])") == Errors{"(root): Array must have at least 1 items"});
  CHECK(Check(s, R"(["a", 1, "c"])") ==
        Errors{"(root): Array must have at most 2 items",
               "1: Invalid type. Expected: string, given: integer"});
  CHECK(Check(R"({"properties": {"list": {"items": {"type": "string"}}}})",
              R"({"list": ["a", false]})") ==
        Errors{"list.1: Invalid type. Expected: string, given: boolean"});
}

TEST_CASE("schema: enum and const", "[schema]") {
  const char* s = R"({"properties": {"image": {"properties": {"pullPolicy":
      {"enum": ["Always", "IfNotPresent", "Never"]}}}}})";
  CHECK(Check(s, R"({"image": {"pullPolicy": "Never"}})").empty());
  CHECK(Check(s, R"({"image": {"pullPolicy": "Sometimes"}})") ==
        Errors{"image.pullPolicy: image.pullPolicy must be one of the following: \"Always\", "
               "\"IfNotPresent\", \"Never\""});
  CHECK(Check(R"({"enum": [1, 2]})", "2.0").empty());
  CHECK(Check(R"({"const": "v1"})", R"("v1")").empty());
  CHECK(Check(R"({"const": "v1"})", R"("v2")") == Errors{"(root): (root) does not match: \"v1\""});
}

TEST_CASE("schema: numeric bounds", "[schema]") {
  const char* s = R"({"minimum": 1, "maximum": 10})";
  CHECK(Check(s, "1").empty());
  CHECK(Check(s, "10").empty());
  CHECK(Check(s, "0") == Errors{"(root): Must be greater than or equal to 1"});
  CHECK(Check(s, "10.5") == Errors{"(root): Must be less than or equal to 10"});
  const char* x = R"({"exclusiveMinimum": 0, "exclusiveMaximum": 1.5})";
  CHECK(Check(x, "1").empty());
  CHECK(Check(x, "0") == Errors{"(root): Must be greater than 0"});
  CHECK(Check(x, "1.5") == Errors{"(root): Must be less than 1.5"});
  // Draft-04's boolean form.
  CHECK(Check(R"({"minimum": 0, "exclusiveMinimum": true})", "0") ==
        Errors{"(root): Must be greater than 0"});
  // Bounds do not apply to other types.
  CHECK(Check(s, R"("0")").empty());
}

TEST_CASE("schema: string length and pattern", "[schema]") {
  const char* s = R"({"minLength": 2, "maxLength": 3, "pattern": "^[a-zé]+$"})";
  CHECK(Check(s, R"("ab")").empty());
  CHECK(Check(s, R"("éé")").empty());  // code points, not bytes
  CHECK(Check(s, R"("a")") == Errors{"(root): String length must be greater than or equal to 2"});
  CHECK(Check(s, R"("abcd")") == Errors{"(root): String length must be less than or equal to 3"});
  CHECK(Check(s, R"("AB")") == Errors{"(root): Does not match pattern '^[a-zé]+$'"});
  // Unanchored, as in gojsonschema.
  CHECK(Check(R"({"pattern": "b"})", R"("abc")").empty());
  CHECK(Check(R"({"pattern": "("})", R"("abc")") == Errors{"(root): Invalid pattern '('"});
}

TEST_CASE("schema: allOf, anyOf, oneOf, not", "[schema]") {
  const char* any = R"({"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 5}]})";
  CHECK(Check(any, R"("x")").empty());
  CHECK(Check(any, "7").empty());
  // The failing branch with the fewest violations is reported (the first on a tie).
  CHECK(Check(any, "3") == Errors{"(root): Must validate at least one schema (anyOf)",
                                  "(root): Invalid type. Expected: string, given: integer"});
  CHECK(Check(R"({"anyOf": [{"minimum": 5, "maximum": 0}, {"minimum": 5}]})", "3") ==
        Errors{"(root): Must validate at least one schema (anyOf)",
               "(root): Must be greater than or equal to 5"});
  const char* one = R"({"oneOf": [{"type": "integer"}, {"minimum": 5}]})";
  CHECK(Check(one, "3").empty());
  CHECK(Check(one, "7") == Errors{"(root): Must validate one and only one schema (oneOf)"});
  const char* all = R"({"allOf": [{"type": "integer"}, {"minimum": 5}]})";
  CHECK(Check(all, "7").empty());
  CHECK(Check(all, "3") == Errors{"(root): Must be greater than or equal to 5",
                                  "(root): Must validate all the schemas (allOf)"});
  const char* n = R"({"not": {"type": "string"}})";
  CHECK(Check(n, "1").empty());
  CHECK(Check(n, R"("x")") == Errors{"(root): Must not validate the schema (not)"});
  CHECK(Check("false", "1") == Errors{"(root): False always fails validation"});
  CHECK(Check("true", "1").empty());
}

TEST_CASE("schema: $ref and recursion bound", "[schema]") {
  const char* s = R"({"definitions": {"port": {"type": "integer", "maximum": 65535}},
      "$defs": {"name": {"type": "string"}},
      "properties": {"port": {"$ref": "#/definitions/port"},
                     "name": {"$ref": "#/$defs/name"}}})";
  CHECK(Check(s, R"({"port": 80, "name": "web"})").empty());
  CHECK(Check(s, R"({"port": 70000, "name": 1})") ==
        Errors{"name: Invalid type. Expected: string, given: integer",
               "port: Must be less than or equal to 65535"});
  CHECK(Check(R"({"$ref": "#/definitions/missing"})", "1") ==
        Errors{"(root): Cannot resolve $ref '#/definitions/missing'"});
  // A schema that refers to itself without consuming the value stops.
  Errors loop = Check(R"({"$ref": "#"})", "1");
  REQUIRE(loop.size() == 1);
  CHECK(loop[0] == "(root): Schema nesting exceeds 64 levels");
  // Recursion that follows the value is fine while the value is shallow.
  const char* tree = R"({"type": "object", "properties": {"child": {"$ref": "#"}},
                         "additionalProperties": false})";
  CHECK(Check(tree, R"({"child": {"child": {}}})").empty());
  CHECK(Check(tree, R"({"child": {"x": 1}})") ==
        Errors{"child: Additional property x is not allowed"});
  // Unknown keywords are ignored.
  CHECK(Check(R"({"format": "email", "title": "t", "uniqueItemsX": 1})", R"("x")").empty());
}

Files SchemaChart() {
  return {
      {"Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n"},
      {"values.yaml", "replicaCount: 1\nimage:\n  tag: v1\nsub:\n  port: 80\n"},
      {"values.schema.json", R"({"type": "object", "required": ["image"],
          "properties": {"replicaCount": {"type": "integer", "minimum": 1},
                         "image": {"type": "object", "required": ["tag"]}}})"},
      {"templates/cm.yaml",
       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n"
       "  replicas: \"{{ .Values.replicaCount }}\"\n"},
      {"charts/sub/Chart.yaml", "apiVersion: v2\nname: sub\nversion: 0.1.0\n"},
      {"charts/sub/values.yaml", "port: 8080\n"},
      {"charts/sub/values.schema.json",
       R"({"properties": {"port": {"type": "integer", "maximum": 65535}}})"},
  };
}

absl::StatusOr<std::vector<Json>> Render(const Files& files, const Json& values,
                                         bool skip = false) {
  auto chart = LoadChart(files, "");
  REQUIRE(chart.ok());
  RenderOptions options;
  options.release_name = "rel";
  options.values = values;
  options.skip_schema_validation = skip;
  return RenderObjects(*chart, options);
}

TEST_CASE("schema: a chart's values.schema.json at render time", "[schema][helm]") {
  Files files = SchemaChart();
  auto ok = Render(files, Json::object());
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());
  CHECK(ok->size() == 1);

  auto bad = Render(files, Json::parse(R"({"replicaCount": "two", "image": null})"));
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        "values don't meet the specifications of the schema(s) in the following chart(s):\n"
        "demo:\n"
        "- (root): image is required\n"
        "- replicaCount: Invalid type. Expected: integer, given: string\n");

  // Subcharts are checked against their own scope.
  auto sub = Render(files, Json::parse(R"({"replicaCount": 0, "sub": {"port": 70000}})"));
  CHECK(sub.status().message() ==
        "values don't meet the specifications of the schema(s) in the following chart(s):\n"
        "demo:\n"
        "- replicaCount: Must be greater than or equal to 1\n"
        "sub:\n"
        "- port: Must be less than or equal to 65535\n");

  auto skipped = Render(files, Json::parse(R"({"replicaCount": "two"})"), true);
  INFO(skipped.status().ToString());
  CHECK(skipped.ok());
}

TEST_CASE("schema: a disabled subchart's schema is not checked", "[schema][helm]") {
  Files files = SchemaChart();
  files["Chart.yaml"] =
      "apiVersion: v2\nname: demo\nversion: 0.1.0\n"
      "dependencies:\n- name: sub\n  version: 0.1.0\n  condition: sub.enabled\n";
  CHECK_FALSE(Render(files, Json::parse(R"({"sub": {"port": 70000}})")).ok());
  CHECK(Render(files, Json::parse(R"({"sub": {"enabled": false, "port": 70000}})")).ok());
}

TEST_CASE("schema: values.schema.json that is not JSON", "[schema][helm]") {
  Files files = SchemaChart();
  files["charts/sub/values.schema.json"] = "{not json";
  auto out = Render(files, Json::object());
  CHECK(out.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(out.status().message() == "demo/charts/sub/values.schema.json: not valid JSON");
}

TEST_CASE("schema: Fleet's helm.skipSchemaValidation", "[schema][helm]") {
  Files files = SchemaChart();
  common::RenderInput input;
  input.bundle_name = "demo";
  input.files = files;
  input.options = Json::parse(R"({"helm": {"values": {"replicaCount": "two"}}})");
  auto failed = common::RenderBundle(input);
  CHECK_FALSE(failed.ok());
  input.options["helm"]["skipSchemaValidation"] = true;
  auto rendered = common::RenderBundle(input);
  INFO(rendered.status().ToString());
  CHECK(rendered.ok());
}

}  // namespace
}  // namespace flotilla::common::helm
