// Conformance suite: template cases whose expected output is what Go's
// text/template (Go 1.23) and Sprig v3 produce, from testdata/
// template_conformance.yaml. Each group there names its source (Go's
// text/template docs and exec_test.go tables, Sprig's docs and *_test.go).
// A case marked `known_bug` records a known divergence of this engine: it is
// run, counted and reported with WARN, but does not fail the suite.
#include <catch2/catch.hpp>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/template/sprig.h"
#include "common/template/template.h"
#include "common/yaml.h"

namespace flotilla::common::tmpl {
namespace {

constexpr char kCasesPath[] =
    FLOTILLA_SOURCE_DIR "/tests/common/testdata/template_conformance.yaml";

// The same fixed world as template_sprig_test.cc: 2023-11-14 22:13:20 UTC and
// a seeded random source.
struct Outcome {
  bool ok = false;
  std::string text;  // output, or the error message
};

// Scalars in the YAML are read as strings even when YAML would type them.
std::string Str(const Json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); }

Outcome Run(const Json& c) {
  SimulatedClock clock{absl::FromUnixSeconds(1'700'000'000)};
  SprigOptions sprig;
  sprig.clock = &clock;
  sprig.random = SeededRandomSource(42);
  sprig.getenv = [](absl::string_view) -> std::optional<std::string> { return std::nullopt; };
  Options options;
  if (c.contains("missingkey")) {
    std::string mk = c["missingkey"].get<std::string>();
    if (mk == "error") options.missing_key = MissingKey::kError;
    if (mk == "zero") options.missing_key = MissingKey::kZero;
  }
  if (c.contains("delims")) {
    options.left_delim = c["delims"][0].get<std::string>();
    options.right_delim = c["delims"][1].get<std::string>();
  }
  TemplateSet set(options, SprigFunctions(sprig));
  absl::Status parsed = set.Parse("t", Str(c["template"]));
  if (!parsed.ok()) return {false, std::string(parsed.message())};
  Json data = c.contains("data") ? c["data"] : Json(nullptr);
  absl::StatusOr<std::string> out = set.Execute("t", data);
  if (!out.ok()) return {false, std::string(out.status().message())};
  return {true, *out};
}

bool Matches(const Json& c, const Outcome& got) {
  if (c.contains("error")) return !got.ok && absl::StrContains(got.text, Str(c["error"]));
  return got.ok && got.text == Str(c["want"]);
}

TEST_CASE("template conformance: Go text/template and Sprig published cases") {
  absl::StatusOr<std::string> text = ReadFile(kCasesPath);
  REQUIRE(text.ok());
  absl::StatusOr<Json> doc = ParseYaml(*text, kCasesPath);
  INFO(doc.status());
  REQUIRE(doc.ok());
  REQUIRE((*doc)["groups"].is_array());

  int total = 0;
  int passed = 0;
  int known_bugs = 0;
  for (const Json& group : (*doc)["groups"]) {
    const std::string group_name = Str(group["group"]);
    REQUIRE(group.contains("source"));
    for (const Json& c : group["cases"]) {
      ++total;
      const std::string name = Str(c["name"]);
      REQUIRE((c.contains("want") != c.contains("error")));
      INFO("case: " << group_name << " / " << name);
      Outcome got = Run(c);
      const bool ok = Matches(c, got);
      INFO("template: " << Str(c["template"]));
      INFO("expected: " << (c.contains("want") ? Str(c["want"])
                                               : "error containing " + Str(c["error"])));
      INFO("got " << (got.ok ? "output: " : "error: ") << got.text);
      if (c.contains("known_bug")) {
        ++known_bugs;
        WARN("known engine bug in " << group_name << " / " << name << ": " << Str(c["known_bug"])
                                    << (ok ? " (now passes: remove the mark)" : ""));
      } else {
        CHECK(ok);
        if (ok) ++passed;
      }
    }
  }
  INFO("cases: " << total << ", known engine bugs: " << known_bugs);
  CHECK(total >= 300);
  CHECK(passed + known_bugs == total);
  WARN("template conformance: " << passed << " of " << total << " cases pass, " << known_bugs
                                << " known engine bugs");
}

}  // namespace
}  // namespace flotilla::common::tmpl
