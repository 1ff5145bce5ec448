#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

// Set two labels and remove one in a single call.
TEST_CASE("label cluster sends sets and removals and prints cluster/NAME labeled", "[label]") {
  CliHarness cli;
  auto result = cli.Run({"label", "cluster", "prod-eu-1", "env=prod", "region=eu", "tier-"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "cluster/prod-eu-1 labeled\n");
  REQUIRE(cli.fleet.label_requests.size() == 1);
  const v1::LabelClusterRequest& request = cli.fleet.label_requests[0];
  CHECK(request.cluster() == "prod-eu-1");
  CHECK(std::map<std::string, std::string>(request.set().begin(), request.set().end()) ==
        std::map<std::string, std::string>{{"env", "prod"}, {"region", "eu"}});
  CHECK(std::vector<std::string>(request.remove().begin(), request.remove().end()) ==
        std::vector<std::string>{"tier"});
}

// The manager does not know the cluster: exit 1 with the gRPC code name.
TEST_CASE("label of an unknown cluster exits 1 with the NOT_FOUND code", "[label]") {
  CliHarness cli;
  cli.fleet.error = absl::NotFoundError("cluster \"x\" not found");
  auto result = cli.Run({"label", "cluster", "x", "env=prod"});
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(result.err == "error: NOT_FOUND: cluster \"x\" not found\n");
}

// A bad label never reaches the manager.
TEST_CASE("label with an invalid label is a usage error naming it", "[label]") {
  CliHarness cli;
  auto result = cli.Run({"label", "cluster", "x", "env=prod", "bad key=v"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: invalid label key \"bad key\": name part must consist of alphanumeric "
        "characters, '-', '_' or '.', and must start and end with an alphanumeric character\n"
        "Run 'flotilla label --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
}

// Missing parts of the command line.
TEST_CASE("label without a kind, a name or a change is a usage error", "[label]") {
  CliHarness cli;
  CHECK(cli.Run({"label", "bundle", "x", "a=b"}).err ==
        "error: cannot label \"bundle\": only clusters have labels\n"
        "Run 'flotilla label --help' for usage.\n");
  CHECK(cli.Run({"label", "cluster"}).err ==
        "error: label cluster needs a cluster NAME\n"
        "Run 'flotilla label --help' for usage.\n");
  auto no_change = cli.Run({"label", "cluster", "x"});
  CHECK(no_change.exit_code == 2);
  CHECK(no_change.err ==
        "error: label cluster needs at least one KEY=VALUE (set) or KEY- (remove)\n"
        "Run 'flotilla label --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
}

}  // namespace
}  // namespace flotilla::cli
