#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

// The token alone on the first line, so `head -1` gets it; then its expiry
// in RFC 3339 UTC and the CA pin.
TEST_CASE("token create prints the token, its expiry and the CA pin", "[token]") {
  CliHarness cli;
  cli.fleet.token.set_token("flreg.t1.abcdef");
  cli.fleet.token.set_id("t1");
  cli.fleet.token.set_expires_unix_millis(1'700'003'600'000);
  cli.fleet.token.set_ca_pin("sha256:0f1e2d");
  auto result = cli.Run({"token", "create"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out ==
        "flreg.t1.abcdef\n"
        "expires: 2023-11-14T23:13:20Z\n"
        "ca-pin: sha256:0f1e2d\n");
  REQUIRE(cli.fleet.token_requests.size() == 1);
  CHECK(cli.fleet.token_requests[0].ttl_seconds() == 0);
  CHECK(cli.fleet.token_requests[0].max_uses() == 0);
}

// Every option reaches the request.
TEST_CASE("token create sends ttl, max uses, labels and cluster name", "[token]") {
  CliHarness cli;
  auto result = cli.Run({"token", "create", "--ttl", "90m", "--max-uses", "3", "--label",
                         "env=prod", "--label=region=eu", "--cluster", "edge-7"});
  CHECK(result.exit_code == 0);
  REQUIRE(cli.fleet.token_requests.size() == 1);
  const v1::CreateRegistrationTokenRequest& request = cli.fleet.token_requests[0];
  CHECK(request.ttl_seconds() == 5400);
  CHECK(request.max_uses() == 3);
  CHECK(std::map<std::string, std::string>(request.labels().begin(), request.labels().end()) ==
        std::map<std::string, std::string>{{"env", "prod"}, {"region", "eu"}});
  CHECK(request.cluster_name() == "edge-7");
}

// Durations are Go-style, as absl::ParseDuration reads them.
TEST_CASE("token create rejects a bad --ttl naming the value", "[token]") {
  CliHarness cli;
  auto result = cli.Run({"token", "create", "--ttl", "1 hour"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: invalid --ttl \"1 hour\": want a duration such as 30m, 1h or 90s\n"
        "Run 'flotilla token --help' for usage.\n");

  auto negative = cli.Run({"token", "create", "--ttl=-5m"});
  CHECK(negative.exit_code == 2);
  CHECK(negative.err ==
        "error: invalid --ttl \"-5m\": must be at least 1s and finite\n"
        "Run 'flotilla token --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
}

// Other argument mistakes of token create.
TEST_CASE("token create rejects bad --max-uses, labels and subcommands", "[token]") {
  CliHarness cli;
  auto uses = cli.Run({"token", "create", "--max-uses", "-1"});
  CHECK(uses.exit_code == 2);
  CHECK(uses.err ==
        "error: invalid --max-uses \"-1\": want a whole number >= 0\n"
        "Run 'flotilla token --help' for usage.\n");

  auto label = cli.Run({"token", "create", "--label", "env"});
  CHECK(label.exit_code == 2);
  CHECK(label.err ==
        "error: invalid label \"env\": missing \"=\" (want KEY=VALUE)\n"
        "Run 'flotilla token --help' for usage.\n");

  auto subcommand = cli.Run({"token", "delete"});
  CHECK(subcommand.exit_code == 2);
  CHECK(subcommand.err ==
        "error: unknown token subcommand \"delete\" (want create, list or revoke)\n"
        "Run 'flotilla token --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
}

}  // namespace
}  // namespace flotilla::cli
