// Sprig's encodings and hashes (sprig/crypto.go, strings.go), regular
// expressions (regex.go over Go's regexp), semver (semver.go over
// Masterminds/semver/v3), dates (date.go over Go's time), randomness, OS
// functions, the Fleet function set, and hostile uses of all of them.
#include <catch2/catch.hpp>
#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/template/semver.h"
#include "common/template/sprig.h"
#include "common/template/template.h"
#include "re2/re2.h"

namespace flotilla::common::tmpl {
namespace {

struct Fixture {
  // 2023-11-14 22:13:20 UTC
  SimulatedClock clock{absl::FromUnixSeconds(1'700'000'000)};
  SprigOptions Sprig(uint64_t seed = 42) {
    SprigOptions o;
    o.clock = &clock;
    o.random = SeededRandomSource(seed);
    o.getenv = [](absl::string_view name) -> std::optional<std::string> {
      if (name == "NAME") return "bob";
      return std::nullopt;
    };
    return o;
  }
};

absl::StatusOr<std::string> Run(const std::string& text, const Json& data = Json::object(),
                                const Options& options = {}, uint64_t seed = 42) {
  Fixture f;
  TemplateSet set(options, SprigFunctions(f.Sprig(seed)));
  absl::Status parsed = set.Parse("t", text);
  if (!parsed.ok()) return parsed;
  return set.Execute("t", data);
}

std::string R(const std::string& text, const Json& data = Json::object()) {
  absl::StatusOr<std::string> out = Run(text, data);
  INFO(text << " -> " << out.status());
  REQUIRE(out.ok());
  return *out;
}

std::string Err(const std::string& text) {
  absl::StatusOr<std::string> out = Run(text);
  INFO(text);
  REQUIRE(!out.ok());
  return std::string(out.status().message());
}

TEST_CASE("encodings and hashes match Go's") {
  CHECK(
      R("{{ b64enc \"hello\" }} {{ b64dec \"aGVsbG8=\" }} {{ b64enc \"\" }}|{{ b64enc \"ab\" }}") ==
      "aGVsbG8= hello |YWI=");
  CHECK(R("{{ b64dec \"!!\" }}|{{ b64dec \"aGVsbG8\" }}") ==
        "illegal base64 data at input byte 0|illegal base64 data at input byte 4");
  CHECK(R("{{ b32enc \"hello\" }} {{ b32dec \"NBSWY3DP\" }} {{ b32enc \"a\" }}") ==
        "NBSWY3DP hello ME======");
  CHECK(R("{{ sha1sum \"Hello world!\" }}") == "d3486ae9136e7856bc42212385ea797094475802");
  CHECK(R("{{ sha256sum \"Hello world!\" }}") ==
        "c0535e4be2b79ffd93291305436bf889314e4a3faec05ecffcbb7df31ad9e51a");
  CHECK(R("{{ adler32sum \"Hello world!\" }}") == "487130206");
}

TEST_CASE("random functions draw from the injected source") {
  std::string uuid = R("{{ uuidv4 }}");
  CHECK(
      RE2::FullMatch(uuid, "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  CHECK(R("{{ uuidv4 }}") == uuid);  // same seed, same value
  CHECK(*Run("{{ uuidv4 }}", Json::object(), {}, 7) != uuid);
  CHECK(RE2::FullMatch(R("{{ randAlphaNum 20 }}"), "[A-Za-z0-9]{20}"));
  CHECK(RE2::FullMatch(R("{{ randAlpha 20 }}"), "[A-Za-z]{20}"));
  CHECK(RE2::FullMatch(R("{{ randNumeric 20 }}"), "[0-9]{20}"));
  CHECK(RE2::FullMatch(R("{{ randAscii 20 }}"), "[ -~]{20}"));
  std::string shuffled = R("{{ shuffle \"abcdef\" }}");
  std::string sorted = shuffled;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == "abcdef");
  std::string n = R("{{ randInt 5 10 }}");
  CHECK((n >= "5" && n <= "9"));
}

TEST_CASE("regular expressions follow Go's regexp") {
  CHECK(R("{{ regexMatch \"^[a-z]+$\" \"abc\" }} {{ regexMatch \"(\" \"x\" }}") == "true false");
  CHECK(R("{{ regexFindAll \"[2,4,6,8]\" \"123456789\" -1 }} "
          "{{ regexFindAll \"[2,4,6,8]\" \"123456789\" 2 }} "
          "{{ regexFindAll \"x*\" \"axb\" -1 | len }}") == "[2 4 6 8] [2 4] 3");
  CHECK(R("{{ regexFind \"[a-zA-Z][1-9]\" \"abcd1234\" }}|{{ regexFind \"z\" \"abc\" }}|") ==
        "d1||");
  // Go's Expand: "$1W" names group "1W", which does not exist.
  CHECK(R("{{ regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"${1}W\" }} "
          "{{ regexReplaceAll \"a(x*)b\" \"-ab-axxb-\" \"$1W\" }} "
          "{{ regexReplaceAll \"a(?P<xs>x*)b\" \"-ab-axxb-\" \"<$xs>\" }} "
          "{{ regexReplaceAllLiteral \"a(x*)b\" \"-ab-axxb-\" \"${1}\" }}") ==
        "-W-xxW- --- -<>-<xx>- -${1}-${1}-");
  CHECK(R("{{ regexReplaceAll \"x*\" \"abc\" \"-\" }}") == "-a-b-c-");
  CHECK(R("{{ regexSplit \"z+\" \"pizza\" -1 }} {{ regexSplit \"z+\" \"pizza\" 1 }} "
          "{{ regexSplit \"\" \"abc\" -1 }} {{ regexSplit \"a\" \"\" -1 | len }}") ==
        "[pi a] [pizza] [a b c] 1");
  CHECK(R("{{ regexQuoteMeta \"1.2.3[x]\" }}") == "1\\.2\\.3\\[x\\]");
  CHECK(Err("{{ regexFind \"(\" \"x\" }}") ==
        "template: t:1:3: executing \"t\" at <regexFind \"(\" \"x\">: error calling regexFind: "
        "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`");
  CHECK(Err("{{ mustRegexFind \"a**\" \"x\" }}") ==
        "template: t:1:3: executing \"t\" at <mustRegexFind \"a**\" \"x\">: error calling "
        "mustRegexFind: error parsing regexp: invalid nested repetition operator: `**`");
}

TEST_CASE("semverCompare follows Masterminds/semver v3") {
  struct Case {
    const char* constraint;
    const char* version;
    bool want;
  };
  const Case cases[] = {
      {">=1.2.3 <2.0.0", "1.5.0", true},
      {">=1.2.3 <2.0.0", "2.0.0", false},
      {">=1.2.3, <2.0.0", "1.2.3", true},
      {"^1.2", "1.9.0", true},
      {"^1.2", "2.0.0", false},
      {"^0.2.3", "0.2.9", true},
      {"^0.2.3", "0.3.0", false},
      {"~1.2", "1.2.9", true},
      {"~1.2", "1.3.0", false},
      {"~1.2.3", "1.2.2", false},
      {"1.2.x", "1.2.5", true},
      {"1.2.x", "1.3.0", false},
      {"*", "4.5.6", true},
      {">1.0", "1.0.5", false},
      {">1.0", "1.1.0", true},
      {"<=1.2", "1.2.9", true},
      {"1.2.3 - 1.4.5", "1.4.0", true},
      {"1.2.3 - 1.4.5", "1.4.6", false},
      {"<1.0 || >=2.0", "1.5.0", false},
      {"<1.0 || >=2.0", "2.1.0", true},
      {"^1.2.3", "1.2.4-beta", false},
      {">=1.2.3-0", "1.2.4-beta", true},
      {"!=1.2.3", "1.2.3", false},
      {"=v1.2.3", "1.2.3", true},
      {">= 1.16.0-0", "v1.20.4+k3s1", true},
  };
  for (const Case& c : cases) {
    INFO(c.constraint << " vs " << c.version);
    auto constraint = SemverConstraint::Parse(c.constraint);
    REQUIRE(constraint.ok());
    auto version = ParseSemver(c.version);
    REQUIRE(version.ok());
    CHECK(constraint->Check(*version) == c.want);
  }
  CHECK(R("{{ semverCompare \"^1.2\" \"1.3.0\" }} {{ semverCompare \"<1\" \"1.3.0\" }}") ==
        "true false");
  CHECK(Err("{{ semverCompare \"foo\" \"1.0.0\" }}") ==
        "template: t:1:3: executing \"t\" at <semverCompare \"foo\" \"1.0.0\">: error calling "
        "semverCompare: improper constraint: foo");
  CHECK(Err("{{ semver \"1.x\" }}") ==
        "template: t:1:3: executing \"t\" at <semver \"1.x\">: error calling semver: Invalid "
        "Semantic Version");
}

TEST_CASE("semver values have Masterminds' methods") {
  CHECK(R("{{ $v := semver \"v1.2.3-alpha.1+build\" }}{{ $v.Major }}.{{ $v.Minor }}.{{ $v.Patch }} "
          "{{ $v.Prerelease }} {{ $v.Metadata }} {{ $v.Original }} {{ $v }}") ==
        "1.2.3 alpha.1 build v1.2.3-alpha.1+build 1.2.3-alpha.1+build");
  CHECK(R("{{ (semver \"1.2\").String }} {{ (semver \"1.0.0\").LessThan (semver \"1.0.1\") }} "
          "{{ (semver \"2.0.0\").Compare (semver \"1.0.0\") }}") == "1.2.0 true 1");
  CHECK(ParseSemver("1.2.3-01").status().message() == "Version segment starts with 0");
}

TEST_CASE("dates format with Go layouts on the injected clock") {
  CHECK(R("{{ now | date \"2006-01-02 15:04:05\" }}") == "2023-11-14 22:13:20");
  CHECK(R("{{ now }}") == "2023-11-14 22:13:20 +0000 UTC");
  CHECK(R("{{ now.Unix }} {{ unixEpoch now }} {{ now.Year }}") == "1700000000 1700000000 2023");
  CHECK(R("{{ date \"2006-01-02\" 86400 }} {{ htmlDate 0 }} {{ date \"Jan _2 Mon 3PM\" 0 }}") ==
        "1970-01-02 1970-01-01 Jan  1 Thu 12AM");
  CHECK(R("{{ dateInZone \"2006-01-02 15:04 MST -07:00\" now \"America/New_York\" }}") ==
        "2023-11-14 17:13 EST -05:00");
  CHECK(R("{{ dateInZone \"15:04\" now \"No/Such_Zone\" }}") == "22:13");
  CHECK(R("{{ toDate \"2006-01-02\" \"2017-12-31\" | date \"02/01/2006\" }}") == "31/12/2017");
  CHECK(R("{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2020-02-29T10:00:00+02:00\" | unixEpoch }}") ==
        "1582963200");
  CHECK(R("{{ toDate \"2006-01-02\" \"nonsense\" }}") == "0001-01-01 00:00:00 +0000 UTC");
  CHECK(Err("{{ mustToDate \"2006-01-02\" \"nonsense\" }}") ==
        "template: t:1:3: executing \"t\" at <mustToDate \"2006-01-02\" \"nonsense\">: error "
        "calling mustToDate: parsing time \"nonsense\" as \"2006-01-02\": cannot parse "
        "\"nonsense\" as \"2006\"");
  CHECK(R("{{ now | dateModify \"-1.5h\" | date \"15:04\" }} {{ now | dateModify \"bad\" | date "
          "\"15:04\" }}") == "20:43 22:13");
  CHECK(R("{{ ago (toDate \"2006-01-02\" \"2023-11-14\") }} {{ ago now }}") == "22h13m20s 0s");
  // duration takes seconds as a string or int64 (a plain int is Sprig's
  // default case, 0).
  CHECK(R("{{ duration \"95\" }} {{ duration (int64 3600) }} {{ duration 95 }}") ==
        "1m35s 1h0m0s 0s");
  CHECK(
      R("{{ durationRound \"2h10m5s\" }} {{ durationRound \"400h\" }} {{ durationRound \"-3s\" }} "
        "{{ durationRound \"1s\" }}") == "2h 16d 3s 0s");
}

TEST_CASE("env and expandenv read the injected environment") {
  CHECK(R("{{ env \"NAME\" }}|{{ env \"NOPE\" }}|{{ expandenv \"Hi $NAME ${NAME}! $NOPE.\" }}") ==
        "bob||Hi bob bob! .");
  CHECK(R("{{ base \"/a/b.txt\" }} {{ dir \"/a/b.txt\" }} {{ ext \"b.tar.gz\" }} "
          "{{ clean \"/a/../b//c/.\" }} {{ isAbs \"a/b\" }}") == "b.txt /a .gz /b/c false");
}

// FLEET-SEMANTICS.md §1: values templating uses sprig minus env, expandenv,
// include, tpl and getHostByName, with missingkey=error and ${ } delimiters.
TEST_CASE("the Fleet function set renders cluster values and refuses env") {
  Fixture f;
  Options options;
  options.left_delim = "${";
  options.right_delim = "}";
  options.missing_key = MissingKey::kError;
  TemplateSet set(options, FleetTemplateFunctions(f.Sprig()));
  Json data = {{"ClusterName", "prod-eu-1"},
               {"ClusterNamespace", "fleet-default"},
               {"ClusterLabels", {{"env", "prod"}, {"region", "eu"}}},
               {"ClusterAnnotations", Json::object()},
               {"ClusterValues", {{"replicas", 3}}}};
  REQUIRE(set.Parse("values",
                    "name: ${ .ClusterName | upper }\n"
                    "env: ${ get .ClusterLabels \"env\" | default \"dev\" }\n"
                    "replicas: ${ .ClusterValues.replicas | add 1 }\n"
                    "host: ${ printf \"%s.%s\" .ClusterName .ClusterLabels.region }\n")
              .ok());
  CHECK(*set.Execute("values", data) ==
        "name: PROD-EU-1\nenv: prod\nreplicas: 4\nhost: prod-eu-1.eu\n");
  absl::Status env = set.Parse("bad", "${ env \"HOME\" }");
  CHECK(env.code() == absl::StatusCode::kInvalidArgument);
  CHECK(env.message() == "template: bad:1:3: function \"env\" not defined");
  CHECK(set.Parse("bad2", "${ expandenv \"$HOME\" }").message() ==
        "template: bad2:1:3: function \"expandenv\" not defined");
  REQUIRE(set.Parse("missing", "${ .ClusterLabels.zone }").ok());
  CHECK(set.Execute("missing", data).status().message() ==
        "template: missing:1:17: executing \"missing\" at <.ClusterLabels.zone>: map has no "
        "entry for key \"zone\"");
}

TEST_CASE("hostile sprig use is bounded") {
  Options small;
  small.limits.max_list_length = 1000;
  small.limits.max_output_bytes = 10'000;
  auto out = Run("{{ until 100000000 }}", Json::object(), small);
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(out.status().message() ==
        "template: t:1:3: executing \"t\" at <until 100000000>: error calling until: list of more "
        "than 1000 elements");
  out = Run("{{ repeat 100000000 \"x\" }}", Json::object(), small);
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);
  out = Run("{{ $s := \"xxxxxxxxxx\" }}{{ range until 20 }}{{ $s = cat $s $s }}{{ end }}",
            Json::object(), small);
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);
  out = Run("{{ indent 100000000 \"x\" }}", Json::object(), small);
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);

  // A dict that contains itself: printing and toJson stop at the depth
  // limit; the session breaks the cycle afterwards.
  out = Run("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ $d }}");
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(R("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}[{{ toJson $d }}]") == "[]");
  out = Run("{{ $d := dict }}{{ $_ := set $d \"self\" $d }}{{ mustToJson $d }}");
  CHECK(out.status().message() ==
        "template: t:1:47: executing \"t\" at <mustToJson $d>: error calling mustToJson: json: "
        "unsupported value: encountered a cycle via map[string]interface {}");

  // A value nested 100000 deep is built and destroyed without recursion.
  Options many;
  many.limits.max_range_iterations = 200'000;
  out = Run("{{ $x := list }}{{ range until 100000 }}{{ $x = list $x }}{{ end }}ok", Json::object(),
            many);
  INFO(out.status());
  CHECK(out.ok());
  out = Run("{{ $x := list }}{{ range until 5000 }}{{ $x = list $x }}{{ end }}{{ $x }}");
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);

  // Quadratic list building runs out of steps.
  Options steps;
  steps.limits.max_steps = 1'000'000;
  out = Run("{{ $l := list }}{{ range until 100000 }}{{ $l = append $l . }}{{ end }}",
            Json::object(), steps);
  CHECK(out.status().code() == absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace flotilla::common::tmpl
