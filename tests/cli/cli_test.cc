#include "cli/cli.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "cli/version.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A typo in the command name.
TEST_CASE("An unknown command exits 2 naming the command", "[cli]") {
  CliHarness cli;
  auto result = cli.Run({"gett", "clusters"});
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err == "error: unknown command \"gett\"\nRun 'flotilla --help' for usage.\n");
}

// Nothing but flags on the command line.
TEST_CASE("No command is a usage error", "[cli]") {
  CliHarness cli;
  auto result = cli.Run({"--server", "m:1"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "error: no command given\nRun 'flotilla --help' for usage.\n");
}

// --help, -h and `help` all print the general usage to stdout.
TEST_CASE("The general help lists commands, flags, environment and exit codes", "[cli]") {
  CliHarness cli;
  for (const char* help : {"--help", "-h", "help"}) {
    auto result = cli.Run({help});
    INFO(help);
    CHECK(result.exit_code == 0);
    CHECK(result.err.empty());
    CHECK(result.out == GeneralHelp());
  }
  const std::string help = GeneralHelp();
  for (const char* part : {"apply -f FILE",
                           "get KIND [NAME] [flags]",
                           "delete KIND NAME...",
                           "label cluster NAME KEY=VALUE... KEY-...",
                           "secret create TYPE NAME [flags]",
                           "token create|list|revoke [flags]",
                           "login [flags]",
                           "logout",
                           "completion bash|zsh",
                           "version",
                           "--server HOST:PORT",
                           "--token-file PATH",
                           "--ca-file PATH",
                           "FLOTILLA_SERVER",
                           "FLOTILLA_TOKEN_FILE",
                           "FLOTILLA_CA_FILE",
                           "default 127.0.0.1:7443",
                           "Exit codes:",
                           "  0   success",
                           "  1   the manager refused or failed the request",
                           "  2   usage error",
                           "  3   cannot reach the manager",
                           "  4   not authorized",
                           "FLOTILLA_CONFIG",
                           "~/.config/flotilla/config"}) {
    INFO(part);
    CHECK(Contains(help, part));
  }
  for (const absl::string_view line : absl::StrSplit(help, '\n')) {
    INFO(line);
    CHECK(line.size() <= 100);
    CHECK((line.empty() || line.back() != ' '));
  }
}

// Help for one command, wherever --help is written.
TEST_CASE("Command help shows the command's usage and flags", "[cli]") {
  CliHarness cli;
  auto after = cli.Run({"get", "--help"});
  CHECK(after.exit_code == 0);
  CHECK(Contains(after.out, "Usage:\n  flotilla get KIND [NAME] [flags] [global flags]\n"));
  CHECK(Contains(after.out, "  -o, --output FORMAT"));
  CHECK(Contains(after.out, "table (default), wide, json or yaml\n"));
  CHECK(Contains(after.out, "  -l, --selector SELECTOR"));
  CHECK(Contains(after.out, "  -w, --watch"));
  CHECK(Contains(after.out, "Exit codes:"));
  CHECK(cli.Run({"--help", "get"}).out == after.out);
  CHECK(cli.Run({"help", "get"}).out == after.out);
  // --help wins over argument errors.
  CHECK(cli.Run({"get", "pods", "-h"}).exit_code == 0);

  auto token = cli.Run({"token", "create", "--help"});
  CHECK(Contains(token.out, "  --ttl DURATION"));
  CHECK(Contains(token.out, "  --max-uses N"));

  auto unknown = cli.Run({"help", "frob"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err == "error: unknown command \"frob\"\nRun 'flotilla --help' for usage.\n");
  CHECK(cli.fleet.calls == 0);
}

TEST_CASE("version prints the client version", "[cli]") {
  CliHarness cli;
  auto result = cli.Run({"version"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == std::string("flotilla version ") + kCliVersion + "\n");
}

// Flags that belong to a command are not accepted before it, as with kubectl.
TEST_CASE("Only global flags may come before the command", "[cli]") {
  CliHarness cli;
  auto result = cli.Run({"-o", "json", "get", "clusters"});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "error: unknown flag -o\nRun 'flotilla --help' for usage.\n");

  auto unknown = cli.Run({"get", "clusters", "--follow"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err == "error: unknown flag --follow\nRun 'flotilla get --help' for usage.\n");
}

// The CA file named by the environment does not exist.
TEST_CASE("A missing CA file exits 2 naming --ca-file and FLOTILLA_CA_FILE", "[cli]") {
  CliHarness cli;
  std::string missing = cli.dir.Path("missing-ca.pem");
  cli.env[kCaFileEnv] = missing;
  auto result = cli.Run({"get", "clusters"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: CA certificate file (from FLOTILLA_CA_FILE): cannot read " + missing +
            ": No such file or directory; pass --ca-file PATH or set FLOTILLA_CA_FILE\n"
            "Run 'flotilla get --help' for usage.\n");
  CHECK(cli.factory.connections.empty());

  cli.env.erase(kCaFileEnv);
  auto unset = cli.Run({"get", "clusters"});
  CHECK(unset.exit_code == 2);
  CHECK(unset.err ==
        "error: no CA certificate file given: pass --ca-file PATH, set FLOTILLA_CA_FILE or run "
        "'flotilla login'\n"
        "Run 'flotilla get --help' for usage.\n");
}

// A file that is not a certificate is caught before dialling.
TEST_CASE("A CA file without a PEM certificate is a usage error", "[cli]") {
  CliHarness cli;
  std::string bogus = cli.dir.Write("bogus.pem", "not a certificate\n");
  auto result = cli.Run({"get", "clusters", "--ca-file", bogus});
  CHECK(result.exit_code == 2);
  CHECK(result.err == "error: CA certificate file " + bogus +
                          " (from --ca-file) holds no PEM certificate; pass --ca-file PATH or "
                          "set FLOTILLA_CA_FILE to the manager CA certificate\n"
                          "Run 'flotilla get --help' for usage.\n");
}

// The token file is missing, or holds something else than an API token.
TEST_CASE("A missing or malformed token file exits 2 naming --token-file and its variable",
          "[cli]") {
  CliHarness cli;
  std::string missing = cli.dir.Path("missing-token");
  auto result = cli.Run({"--token-file", missing, "get", "clusters"});
  CHECK(result.exit_code == 2);
  CHECK(result.err ==
        "error: API token file (from --token-file): cannot read " + missing +
            ": No such file or directory; pass --token-file PATH or set FLOTILLA_TOKEN_FILE\n"
            "Run 'flotilla get --help' for usage.\n");

  std::string wrong = cli.dir.Write("wrong-token", "hunter2\n");
  auto malformed = cli.Run({"get", "clusters", "--token-file", wrong});
  CHECK(malformed.exit_code == 2);
  CHECK(malformed.err == "error: API token file " + wrong +
                             " (from --token-file) does not hold a token of the form "
                             "flta.<id>.<secret>; pass --token-file PATH or set "
                             "FLOTILLA_TOKEN_FILE\n"
                             "Run 'flotilla get --help' for usage.\n");
  CHECK(cli.factory.connections.empty());
}

// Defaults, then environment, then flags (before or after the command).
TEST_CASE("Flags win over environment variables, which win over defaults", "[cli]") {
  CliHarness cli;
  REQUIRE(cli.Run({"get", "clusters"}).exit_code == 0);
  REQUIRE(cli.factory.connections.size() == 1);
  CHECK(cli.factory.connections[0].server == "127.0.0.1:7443");
  CHECK(cli.factory.connections[0].token == testing::kTestToken);
  CHECK(cli.factory.connections[0].ca_pem == testing::kTestCaPem);

  cli.env[kServerEnv] = "env-manager:7443";
  REQUIRE(cli.Run({"get", "clusters"}).exit_code == 0);
  CHECK(cli.factory.connections[1].server == "env-manager:7443");

  std::string flag_ca = cli.dir.Write(
      "flag-ca.pem", "-----BEGIN CERTIFICATE-----\nflag\n-----END CERTIFICATE-----\n");
  std::string flag_token = cli.dir.Write("flag-token", "  flta.flag.secret \n\n");
  REQUIRE(cli.Run({"--server", "flag-manager:1", "get", "clusters", "--ca-file", flag_ca,
                   "--token-file=" + flag_token})
              .exit_code == 0);
  CHECK(cli.factory.connections[2].server == "flag-manager:1");
  CHECK(cli.factory.connections[2].ca_pem ==
        "-----BEGIN CERTIFICATE-----\nflag\n-----END CERTIFICATE-----\n");
  CHECK(cli.factory.connections[2].token == "flta.flag.secret");

  // A flag after the command wins over the same flag before it.
  REQUIRE(cli.Run({"--server", "first:1", "get", "clusters", "--server", "second:2"}).exit_code ==
          0);
  CHECK(cli.factory.connections[3].server == "second:2");

  // An empty variable counts as unset.
  cli.env[kServerEnv] = "";
  REQUIRE(cli.Run({"get", "clusters"}).exit_code == 0);
  CHECK(cli.factory.connections[4].server == "127.0.0.1:7443");
}

// The manager refuses: exit 1 and the gRPC code name.
TEST_CASE("A server error exits 1 with the gRPC code name and message", "[cli]") {
  CliHarness cli;
  cli.fleet.error = absl::FailedPreconditionError("gitrepo \"simple\" is being deleted");
  auto result = cli.Run({"get", "clusters"});
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(result.err == "error: FAILED_PRECONDITION: gitrepo \"simple\" is being deleted\n");
}

// The token is valid but its role may not make the call: exit 4, not 1.
TEST_CASE("PERMISSION_DENIED exits 4 and says the token's role may not do this", "[cli]") {
  CliHarness cli;
  cli.fleet.error = absl::PermissionDeniedError("role viewer may not call ListSecrets");
  auto result = cli.Run({"get", "secrets"});
  CHECK(result.exit_code == 4);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: PERMISSION_DENIED: role viewer may not call ListSecrets\n"
        "The API token in --token-file / FLOTILLA_TOKEN_FILE may not do this: use a token whose "
        "role allows it.\n");
}

// A rejected token gets a hint about where it came from, and exit 4.
TEST_CASE("UNAUTHENTICATED exits 4 and points at the token file", "[cli]") {
  CliHarness cli;
  cli.fleet.error = absl::UnauthenticatedError("invalid API token");
  auto result = cli.Run({"get", "gitrepos"});
  CHECK(result.exit_code == 4);
  CHECK(result.err ==
        "error: UNAUTHENTICATED: invalid API token\n"
        "Check the API token in --token-file / FLOTILLA_TOKEN_FILE.\n");
}

// No manager answers: exit 3 and the address that was tried.
TEST_CASE("UNAVAILABLE or DEADLINE_EXCEEDED exits 3 naming the server", "[cli]") {
  CliHarness cli;
  cli.fleet.error = absl::UnavailableError("failed to connect to all addresses");
  auto result = cli.Run({"get", "clusters", "--server", "manager.example.com:7443"});
  CHECK(result.exit_code == 3);
  CHECK(result.err ==
        "error: cannot reach the manager at manager.example.com:7443: UNAVAILABLE: failed to "
        "connect to all addresses\n");

  cli.fleet.error = absl::DeadlineExceededError("Deadline Exceeded");
  cli.env[kServerEnv] = "slow:7443";
  auto slow = cli.Run({"token", "create"});
  CHECK(slow.exit_code == 3);
  CHECK(slow.err ==
        "error: cannot reach the manager at slow:7443: DEADLINE_EXCEEDED: Deadline "
        "Exceeded\n");
}

// Commands without a manager need no credentials.
TEST_CASE("help and version work without CA or token files", "[cli]") {
  CliHarness cli;
  cli.env.clear();
  CHECK(cli.Run({"version"}).exit_code == 0);
  CHECK(cli.Run({"help"}).exit_code == 0);
  CHECK(cli.Run({"apply", "--help"}).exit_code == 0);
  CHECK(cli.Run({"delete", "--help"}).exit_code == 0);
  CHECK(cli.Run({"secret", "create", "--help"}).exit_code == 0);
}

// Every command's help keeps to 100 columns and has no trailing spaces.
TEST_CASE("Command help lines fit in 100 columns", "[cli]") {
  CliHarness cli;
  for (const char* command : {"apply", "get", "delete", "label", "secret", "token",
                              "agent-manifest", "login", "logout", "completion"}) {
    auto result = cli.Run({command, "--help"});
    REQUIRE(result.exit_code == 0);
    for (const absl::string_view line : absl::StrSplit(result.out, '\n')) {
      INFO(command << ": " << line);
      CHECK(line.size() <= 100);
      CHECK((line.empty() || line.back() != ' '));
    }
  }
}

}  // namespace
}  // namespace flotilla::cli
