#include <catch2/catch.hpp>
#include <string>

#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

// The manager knows "simple" and "helm" only, as its controller words it.
absl::Status KnowsSimpleAndHelm(const v1::DeleteRequest& request) {
  if (request.name() == "simple" || request.name() == "helm") return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat(request.kind(), " \"", request.name(), "\" not found"));
}

// Two names: one Delete each, one line each, in order.
TEST_CASE("delete gitrepo sends one Delete per name and prints each deleted", "[delete]") {
  CliHarness cli;
  auto result = cli.Run({"delete", "gitrepo", "simple", "helm"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out ==
        "gitrepo.fleet.cattle.io/simple deleted\n"
        "gitrepo.fleet.cattle.io/helm deleted\n");
  REQUIRE(cli.fleet.delete_requests.size() == 2);
  CHECK(cli.fleet.delete_requests[0].kind() == "gitrepo");
  CHECK(cli.fleet.delete_requests[0].name() == "simple");
  CHECK(cli.fleet.delete_requests[1].kind() == "gitrepo");
  CHECK(cli.fleet.delete_requests[1].name() == "helm");
}

// Each spelling of a kind sends the manager's kind and prints kubectl's name.
TEST_CASE("delete accepts each kind's spellings and names them as kubectl does", "[delete]") {
  struct Case {
    const char* typed;
    const char* sent;
    const char* printed;
  };
  for (const Case& c : {
           Case{"gitrepos", "gitrepo", "gitrepo.fleet.cattle.io/x deleted\n"},
           Case{"GitRepo.fleet.cattle.io", "gitrepo", "gitrepo.fleet.cattle.io/x deleted\n"},
           Case{"clustergroup", "clustergroup", "clustergroup.fleet.cattle.io/x deleted\n"},
           Case{"clustergroups", "clustergroup", "clustergroup.fleet.cattle.io/x deleted\n"},
           Case{"cg", "clustergroup", "clustergroup.fleet.cattle.io/x deleted\n"},
           Case{"secret", "secret", "secret/x deleted\n"},
           Case{"secrets", "secret", "secret/x deleted\n"},
       }) {
    INFO(c.typed);
    CliHarness cli;
    auto result = cli.Run({"delete", c.typed, "x"});
    CHECK(result.exit_code == 0);
    CHECK(result.out == c.printed);
    REQUIRE(cli.fleet.delete_requests.size() == 1);
    CHECK(cli.fleet.delete_requests[0].kind() == c.sent);
  }
}

// kubectl goes on past a name it cannot delete and fails at the end.
TEST_CASE("delete of an unknown name prints the error naming it, goes on and exits 1", "[delete]") {
  CliHarness cli;
  cli.fleet.del = KnowsSimpleAndHelm;
  auto result = cli.Run({"delete", "secret", "simple", "nope", "helm"});
  CHECK(result.exit_code == 1);
  CHECK(result.out == "secret/simple deleted\nsecret/helm deleted\n");
  CHECK(result.err == "error: NOT_FOUND: secret \"nope\" not found (secret/nope)\n");
  CHECK(cli.fleet.delete_requests.size() == 3);
}

// An unreachable manager stops at the first name.
TEST_CASE("delete stops at the first name when the manager is unreachable", "[delete]") {
  CliHarness cli;
  cli.fleet.error = absl::UnavailableError("failed to connect to all addresses");
  auto result = cli.Run({"delete", "cg", "a", "b"});
  CHECK(result.exit_code == 3);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: cannot reach the manager at 127.0.0.1:7443: UNAVAILABLE: failed to connect to "
        "all addresses (clustergroup.fleet.cattle.io/a)\n");
  CHECK(cli.fleet.delete_requests.size() == 1);
}

// No kind at all.
TEST_CASE("delete without a kind is a usage error", "[delete]") {
  CliHarness cli;
  auto result = cli.Run({"delete"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: delete needs a KIND and a NAME: gitrepo, clustergroup or secret\n"
        "Run 'flotilla delete --help' for usage.\n");
  CHECK(cli.factory.connections.empty());
}

// A kind but no name.
TEST_CASE("delete without a NAME is a usage error naming the kind", "[delete]") {
  CliHarness cli;
  auto result = cli.Run({"delete", "gitrepos"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: delete gitrepos needs at least one NAME\n"
        "Run 'flotilla delete --help' for usage.\n");
  CHECK(cli.factory.connections.empty());
}

// A kind nobody knows.
TEST_CASE("delete of an unknown kind is a usage error naming it", "[delete]") {
  CliHarness cli;
  auto result = cli.Run({"delete", "pods", "x"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: unknown resource kind \"pods\" (want gitrepo, clustergroup or secret)\n"
        "Run 'flotilla delete --help' for usage.\n");
  CHECK(cli.factory.connections.empty());
}

// Kinds `get` lists but the manager manages itself.
TEST_CASE("delete of clusters, bundles or bundledeployments is a usage error", "[delete]") {
  CliHarness cli;
  for (const char* kind : {"cluster", "bundles", "bd"}) {
    INFO(kind);
    auto result = cli.Run({"delete", kind, "x"});
    CHECK(result.exit_code == 2);
    CHECK(result.err == "error: cannot delete \"" + std::string(kind) +
                            "\": flotilla deletes gitrepo, clustergroup and secret (bundles "
                            "follow their GitRepo, clusters leave when their agent is removed)\n"
                            "Run 'flotilla delete --help' for usage.\n");
  }
  CHECK(cli.fleet.calls == 0);
}

}  // namespace
}  // namespace flotilla::cli
