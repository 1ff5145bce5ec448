#include "cli/labels.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

namespace flotilla::cli {
namespace {

// The common case: set two labels and remove one.
TEST_CASE("Label arguments set with KEY=VALUE and remove with KEY-", "[labels]") {
  auto changes = ParseLabelChanges({"env=prod", "example.com/region=eu-west_1", "tier-"});
  REQUIRE(changes.ok());
  CHECK(changes->set ==
        std::map<std::string, std::string>{{"env", "prod"}, {"example.com/region", "eu-west_1"}});
  CHECK(changes->remove == std::vector<std::string>{"tier"});
}

// Kubernetes allows empty label values.
TEST_CASE("A label value may be empty", "[labels]") {
  auto changes = ParseLabelChanges({"canary="});
  REQUIRE(changes.ok());
  CHECK(changes->set.at("canary").empty());
}

// An argument that neither sets nor removes a label.
TEST_CASE("A label argument without = is an error naming it", "[labels]") {
  auto changes = ParseLabelChanges({"env=prod", "region"});
  REQUIRE(changes.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(changes.status().message() ==
        "invalid label \"region\": missing \"=\" (want KEY=VALUE, or KEY- to remove)");
}

// Keys that Kubernetes would refuse, each for its own reason.
TEST_CASE("An invalid label key is an error naming the key and the rule", "[labels]") {
  auto spaced = ParseLabelChanges({"my key=v"});
  CHECK(spaced.status().message() ==
        "invalid label key \"my key\": name part must consist of alphanumeric characters, '-', "
        "'_' or '.', and must start and end with an alphanumeric character");

  auto long_name = ParseLabelChanges({std::string(64, 'a') + "=v"});
  CHECK(long_name.status().message() == "invalid label key \"" + std::string(64, 'a') +
                                            "\": name part must be no more than 63 characters");

  auto bad_prefix = ParseLabelChanges({"Example.COM/env=prod"});
  CHECK(bad_prefix.status().message() ==
        "invalid label key \"Example.COM/env\": prefix part must be a lowercase RFC 1123 "
        "subdomain of at most 253 characters, e.g. example.com");

  auto empty_name = ParseLabelChanges({"example.com/=x"});
  CHECK(empty_name.status().message() ==
        "invalid label key \"example.com/\": name part must be non-empty");

  auto two_slashes = ParseLabelChanges({"a/b/c=x"});
  CHECK(two_slashes.status().message() ==
        "invalid label key \"a/b/c\": a key has at most one '/' (an optional DNS subdomain "
        "prefix)");

  auto bad_removal = ParseLabelChanges({"-env-"});
  CHECK(bad_removal.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad_removal.status().message()),
             Catch::StartsWith("invalid label key \"-env\""));
}

// Values that Kubernetes would refuse.
TEST_CASE("An invalid label value is an error naming the value and its key", "[labels]") {
  auto trailing_dash = ParseLabelChanges({"env=prod-"});
  CHECK(trailing_dash.status().message() ==
        "invalid label value \"prod-\" for key \"env\": must be empty or consist of "
        "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character");

  auto too_long = ParseLabelChanges({"env=" + std::string(64, 'x')});
  CHECK(too_long.status().message() == "invalid label value \"" + std::string(64, 'x') +
                                           "\" for key \"env\": must be no more than 63 "
                                           "characters");

  CHECK(ParseLabelChanges({"env=" + std::string(63, 'x')}).ok());
}

// Setting and removing the same key at once is ambiguous.
TEST_CASE("A label key given twice is an error", "[labels]") {
  auto changes = ParseLabelChanges({"env=prod", "env-"});
  CHECK(changes.status().message() == "label key \"env\" given twice (\"env=prod\" and \"env-\")");
}

// token create --label cannot remove anything.
TEST_CASE("Label assignments accept KEY=VALUE only", "[labels]") {
  auto labels = ParseLabelAssignments({"env=prod"});
  REQUIRE(labels.ok());
  CHECK(*labels == std::map<std::string, std::string>{{"env", "prod"}});

  auto removal = ParseLabelAssignments({"env-"});
  CHECK(removal.status().message() == "invalid label \"env-\": missing \"=\" (want KEY=VALUE)");
}

}  // namespace
}  // namespace flotilla::cli
