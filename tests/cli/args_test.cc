#include "cli/args.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace flotilla::cli {
namespace {

std::vector<FlagSpec> TestSpecs() {
  return {
      {"output", 'o', true, "FORMAT", ""},
      {"label", '\0', true, "KEY=VALUE", ""},
      {"help", 'h', false, "", ""},
  };
}

// Flags are written every way kubectl accepts, between positionals.
TEST_CASE("Flags and positionals may be interleaved and written with = or attached", "[args]") {
  std::vector<std::string> args = {"clusters", "-o",  "json",   "extra",   "--label=a=b",
                                   "--label",  "c=d", "-ojson", "-o=table"};
  auto parsed = ParseFlags(args, TestSpecs());
  REQUIRE(parsed.ok());
  CHECK(parsed->positionals() == std::vector<std::string>{"clusters", "extra"});
  CHECK(parsed->Value("output") == "table");
  CHECK(parsed->Values("output") == std::vector<std::string>{"json", "json", "table"});
  CHECK(parsed->Values("label") == std::vector<std::string>{"a=b", "c=d"});
  CHECK_FALSE(parsed->Has("help"));
  CHECK(parsed->consumed() == args.size());
}

// A flag the command does not know is named in the error.
TEST_CASE("An unknown flag is an error naming it", "[args]") {
  auto parsed = ParseFlags({"--colour", "red"}, TestSpecs());
  REQUIRE(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(parsed.status().message() == "unknown flag --colour");

  auto short_flag = ParseFlags({"-x"}, TestSpecs());
  CHECK(short_flag.status().message() == "unknown flag -x");
}

// The value of the last flag on the line is missing.
TEST_CASE("A flag without its value is an error naming the flag", "[args]") {
  auto parsed = ParseFlags({"clusters", "-o"}, TestSpecs());
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message() == "flag -o needs a value (-o FORMAT)");
}

// --help=yes makes no sense for a switch.
TEST_CASE("A switch given a value is an error", "[args]") {
  auto parsed = ParseFlags({"--help=yes"}, TestSpecs());
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().message() == "flag --help takes no value");
}

// "-" is stdin and "--" ends the flags, as in every Unix tool.
TEST_CASE("A lone dash is a positional and a double dash ends the flags", "[args]") {
  auto parsed = ParseFlags({"-", "--", "-o", "x"}, TestSpecs());
  REQUIRE(parsed.ok());
  CHECK(parsed->positionals() == std::vector<std::string>{"-", "-o", "x"});
  CHECK_FALSE(parsed->Has("output"));
}

// The value of a flag is taken as is, even when it starts with a dash.
TEST_CASE("A flag value may start with a dash", "[args]") {
  auto parsed = ParseFlags({"-o", "-"}, TestSpecs());
  REQUIRE(parsed.ok());
  CHECK(parsed->Value("output") == "-");
  CHECK(parsed->positionals().empty());
}

// RunCli reads the global flags before the command, then the rest.
TEST_CASE("Parsing can stop at the first positional and later flags still win", "[args]") {
  std::vector<std::string> args = {"-o", "json", "get", "-o", "table"};
  auto before = ParseFlags(args, TestSpecs(), /*stop_at_first_positional=*/true);
  REQUIRE(before.ok());
  CHECK(before->consumed() == 2);
  CHECK(before->positionals().empty());

  auto after = ParseFlags(absl::MakeConstSpan(args).subspan(3), TestSpecs());
  REQUIRE(after.ok());
  after->PrependFlags(*before);
  CHECK(after->Value("output") == "table");
  CHECK(after->Values("output") == std::vector<std::string>{"json", "table"});
}

}  // namespace
}  // namespace flotilla::cli
