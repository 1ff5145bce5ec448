// flotilla login / logout and the config file they manage: where it lives,
// its mode, its format, and where its settings rank (flag > variable > config
// file > default).
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "cli/config_file.h"
#include "cli/connection.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;
using testing::kTestCaPem;
using testing::kTestToken;

constexpr char kOtherCaPem[] =
    "-----BEGIN CERTIFICATE-----\nMIIBother\n-----END CERTIFICATE-----\n";

int ModeOf(const std::string& path) {
  struct stat info;
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return static_cast<int>(info.st_mode & 07777);
}

std::string Slurp(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// A harness with no credentials in the environment and FLOTILLA_CONFIG
// pointing into a directory that does not exist yet.
struct LoginHarness {
  LoginHarness() {
    cli.env.erase(kCaFileEnv);
    cli.env.erase(kTokenFileEnv);
    config_path = cli.dir.Path("home/.config/flotilla/config");
    cli.env[kConfigEnv] = config_path;
    ca_path = cli.dir.Write("ca.crt", kTestCaPem);
    token_path = cli.dir.Write("admin.token", std::string(kTestToken) + "\n");
  }
  CliHarness cli;
  std::string config_path;
  std::string ca_path;
  std::string token_path;
};

// Where the file is: FLOTILLA_CONFIG, then XDG_CONFIG_HOME, then HOME; an
// empty variable counts as unset.
TEST_CASE("The config file is found through FLOTILLA_CONFIG, XDG_CONFIG_HOME, then HOME",
          "[login]") {
  CHECK(ConfigFilePath({{"FLOTILLA_CONFIG", "/etc/fl.yaml"},
                        {"XDG_CONFIG_HOME", "/x"},
                        {"HOME", "/home/me"}}) == "/etc/fl.yaml");
  CHECK(ConfigFilePath({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/home/me"}}) == "/x/flotilla/config");
  CHECK(ConfigFilePath({{"FLOTILLA_CONFIG", ""}, {"XDG_CONFIG_HOME", ""}, {"HOME", "/home/me"}}) ==
        "/home/me/.config/flotilla/config");
  CHECK(ConfigFilePath({}).empty());
}

// What login writes reads back as it was, an inlined PEM included.
TEST_CASE("A config file's text round-trips through ParseConfigFile", "[login]") {
  CliConfig by_path{"m.example.com:7443", "/etc/flotilla/ca.crt", "", "flta.abc.s3cret"};
  CHECK(ConfigFileYaml(by_path) ==
        "# flotilla CLI settings, written by `flotilla login`. It holds an API token: keep it\n"
        "# mode 0600 (flotilla refuses it otherwise); `flotilla logout` removes it.\n"
        "ca-file: /etc/flotilla/ca.crt\n"
        "server: m.example.com:7443\n"
        "token: flta.abc.s3cret\n");
  CHECK(ParseConfigFile(ConfigFileYaml(by_path), "/c").value() == by_path);

  CliConfig inline_ca{"10.0.0.1:7443", "", kTestCaPem, "flta.abc.s3cret"};
  CHECK(ParseConfigFile(ConfigFileYaml(inline_ca), "/c").value() == inline_ca);
  CHECK(ParseConfigFile("", "/c").value() == CliConfig{});
}

// Mistakes in a hand-edited file name the file and the key.
TEST_CASE("A config file with an unknown key, a non-string or two CAs is refused", "[login]") {
  auto unknown = ParseConfigFile("server: a:1\ntokn: flta.a.b\n", "/c/config");
  REQUIRE(!unknown.ok());
  CHECK(unknown.status().message() ==
        "config file /c/config: unknown key \"tokn\" (known: server, ca-file, ca-data, token); "
        "fix it or run 'flotilla login' again");
  auto number = ParseConfigFile("server: 7443\n", "/c/config");
  REQUIRE(!number.ok());
  CHECK(number.status().message() ==
        "config file /c/config: \"server\" must be a string (quote it)");
  auto both = ParseConfigFile("ca-file: /a\nca-data: x\n", "/c/config");
  REQUIRE(!both.ok());
  CHECK(both.status().message() == "config file /c/config: give ca-file or ca-data, not both");
  auto list = ParseConfigFile("- a\n", "/c/config");
  REQUIRE(!list.ok());
  CHECK(list.status().message() ==
        "config file /c/config is not a mapping: want the keys server, ca-file (or ca-data) "
        "and token");
  // As in a kubeconfig, a relative ca-file is relative to the config file.
  CHECK(ParseConfigFile("ca-file: ca.crt\n", "/c/config").value().ca_file == "/c/ca.crt");
}

// The happy path: one cheap read call, then a 0600 file in a new 0700
// directory, which later commands use without any flag or variable.
TEST_CASE("login checks the credentials, then writes a 0600 config file later commands use",
          "[login]") {
  LoginHarness h;
  auto login = h.cli.Run({"login", "--server", "m.example.com:7443", "--ca-file", h.ca_path,
                          "--token-file", h.token_path});
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(login.out == "Logged in to m.example.com:7443; settings saved in " + h.config_path + "\n");
  CHECK(login.err.empty());
  CHECK(h.cli.fleet.calls == 1);
  REQUIRE(h.cli.factory.connections.size() == 1);
  CHECK(h.cli.factory.connections[0].token == kTestToken);

  CHECK(ModeOf(h.config_path) == 0600);
  CHECK(ModeOf(std::filesystem::path(h.config_path).parent_path().string()) == 0700);
  absl::StatusOr<std::optional<CliConfig>> saved = ReadConfigFile(h.config_path);
  REQUIRE(saved.ok());
  REQUIRE(saved->has_value());
  CHECK(**saved == CliConfig{"m.example.com:7443", h.ca_path, "", kTestToken});
  // No temporary file is left next to it.
  CHECK(std::distance(
            std::filesystem::directory_iterator(std::filesystem::path(h.config_path).parent_path()),
            std::filesystem::directory_iterator()) == 1);

  REQUIRE(h.cli.Run({"get", "clusters"}).exit_code == 0);
  REQUIRE(h.cli.factory.connections.size() == 2);
  CHECK(h.cli.factory.connections[1].server == "m.example.com:7443");
  CHECK(h.cli.factory.connections[1].ca_pem == kTestCaPem);
  CHECK(h.cli.factory.connections[1].token == kTestToken);
}

// A token piped in never touches a file; --embed-ca copies the certificate.
TEST_CASE("login --token-stdin --embed-ca saves the token and the CA certificate inline",
          "[login]") {
  LoginHarness h;
  auto login = h.cli.Run({"login", "--ca-file", h.ca_path, "--token-stdin", "--embed-ca"},
                         "flta.piped.s3cret\n");
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(login.out == "Logged in to 127.0.0.1:7443; settings saved in " + h.config_path + "\n");
  CHECK(h.cli.factory.connections[0].token == "flta.piped.s3cret");
  CHECK(ReadConfigFile(h.config_path)->value() ==
        CliConfig{"127.0.0.1:7443", "", kTestCaPem, "flta.piped.s3cret"});

  auto both = h.cli.Run({"login", "--token-stdin", "--token-file", h.token_path}, "x");
  CHECK(both.exit_code == 2);
  CHECK(both.err ==
        "error: give --token-file or --token-stdin, not both\n"
        "Run 'flotilla login --help' for usage.\n");
  auto empty = h.cli.Run({"login", "--token-stdin"}, "\n");
  CHECK(empty.exit_code == 2);
  CHECK(empty.err ==
        "error: --token-stdin: stdin holds no token; pipe it in, e.g. flotilla login "
        "--token-stdin < token-file\n"
        "Run 'flotilla login --help' for usage.\n");
  auto malformed = h.cli.Run({"login", "--token-stdin"}, "hunter2\n");
  CHECK(malformed.exit_code == 2);
  CHECK(malformed.err ==
        "error: the token from stdin (--token-stdin) is not of the form flta.<id>.<secret>\n"
        "Run 'flotilla login --help' for usage.\n");
  CHECK(h.cli.fleet.calls == 1);
}

// The manager refuses the token: its message, exit 4, and no file.
TEST_CASE("A failed login writes nothing and says why", "[login]") {
  LoginHarness h;
  h.cli.fleet.error = absl::UnauthenticatedError(
      "invalid, expired or revoked API token (send \"authorization: Bearer "
      "flta.<id>.<secret>\")");
  auto refused =
      h.cli.Run({"login", "--server", "m:1", "--ca-file", h.ca_path, "--token-file", h.token_path});
  CHECK(refused.exit_code == 4);
  CHECK(refused.out.empty());
  CHECK(refused.err ==
        "error: UNAUTHENTICATED: invalid, expired or revoked API token (send \"authorization: "
        "Bearer flta.<id>.<secret>\")\n"
        "Check the API token in --token-file / FLOTILLA_TOKEN_FILE.\n"
        "Not logged in: nothing was written to " +
            h.config_path + ".\n");
  CHECK(!std::filesystem::exists(h.config_path));
  CHECK(!std::filesystem::exists(std::filesystem::path(h.config_path).parent_path()));

  h.cli.fleet.error = absl::UnavailableError("failed to connect to all addresses");
  auto unreachable =
      h.cli.Run({"login", "--server", "m:1", "--ca-file", h.ca_path, "--token-file", h.token_path});
  CHECK(unreachable.exit_code == 3);
  CHECK(unreachable.err ==
        "error: cannot reach the manager at m:1: UNAVAILABLE: failed to connect to all "
        "addresses\n"
        "Not logged in: nothing was written to " +
            h.config_path + ".\n");
  CHECK(!std::filesystem::exists(h.config_path));

  // Bad input never reaches the manager.
  int calls = h.cli.fleet.calls;
  auto no_ca = h.cli.Run({"login", "--token-file", h.token_path});
  CHECK(no_ca.exit_code == 2);
  CHECK(no_ca.err ==
        "error: no CA certificate file given: pass --ca-file PATH, set FLOTILLA_CA_FILE or run "
        "'flotilla login'\n"
        "Run 'flotilla login --help' for usage.\n");
  CHECK(h.cli.fleet.calls == calls);
  CHECK(!std::filesystem::exists(h.config_path));
}

// A failed login leaves an earlier, working config file as it was.
TEST_CASE("A failed login keeps the config file it would have replaced", "[login]") {
  LoginHarness h;
  REQUIRE(h.cli.Run({"login", "--ca-file", h.ca_path, "--token-file", h.token_path}).exit_code ==
          0);
  const std::string before = Slurp(h.config_path);
  h.cli.fleet.error = absl::UnauthenticatedError("invalid API token");
  auto again = h.cli.Run({"login", "--token-stdin"}, "flta.wrong.token\n");
  CHECK(again.exit_code == 4);
  CHECK(again.err ==
        "error: UNAUTHENTICATED: invalid API token\n"
        "Check the API token in stdin (--token-stdin).\n"
        "Not logged in: nothing was written to " +
            h.config_path + ".\n");
  CHECK(Slurp(h.config_path) == before);
}

// A rejected token from the config file points at the file.
TEST_CASE("A token from the config file that the manager rejects names the file", "[login]") {
  LoginHarness h;
  REQUIRE(WriteConfigFile(h.config_path, {"m:1", h.ca_path, "", "flta.old.token"}).ok());
  h.cli.fleet.error = absl::UnauthenticatedError("invalid API token");
  auto result = h.cli.Run({"get", "clusters"});
  CHECK(result.exit_code == 4);
  CHECK(result.err ==
        "error: UNAUTHENTICATED: invalid API token\n"
        "Check the API token in the config file " +
            h.config_path + ".\n");
}

// ssh's rule for private keys: a token others may read is not used.
TEST_CASE("A config file that group or others may read is refused with the chmod fix", "[login]") {
  LoginHarness h;
  REQUIRE(WriteConfigFile(h.config_path, {"m:1", h.ca_path, "", kTestToken}).ok());
  for (int mode : {0644, 0640, 0604, 0660}) {
    INFO(mode);
    REQUIRE(::chmod(h.config_path.c_str(), static_cast<mode_t>(mode)) == 0);
    auto result = h.cli.Run({"get", "clusters"});
    CHECK(result.exit_code == 2);
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", mode);
    CHECK(result.err == "error: config file " + h.config_path +
                            " may be read by group or others (mode " + octal +
                            ") and it holds an API token; run: chmod 600 " + h.config_path +
                            "\nRun 'flotilla get --help' for usage.\n");
  }
  CHECK(h.cli.factory.connections.empty());

  // Every setting given otherwise: the file is not read at all.
  h.cli.env[kCaFileEnv] = h.ca_path;
  REQUIRE(
      h.cli.Run({"get", "clusters", "--server", "m:1", "--token-file", h.token_path}).exit_code ==
      0);

  REQUIRE(::chmod(h.config_path.c_str(), 0600) == 0);
  h.cli.env.erase(kCaFileEnv);
  CHECK(h.cli.Run({"get", "clusters"}).exit_code == 0);
}

// Each setting, for every combination of where it is given: the flag wins,
// then the variable, then the config file, then the default (server only;
// the CA and the token have none).
TEST_CASE("Settings come from the flag, else the variable, else the config file, else the default",
          "[login]") {
  enum Setting { kServer, kCa, kToken };
  for (Setting setting : {kServer, kCa, kToken}) {
    for (int given = 0; given < 8; ++given) {
      const bool flag = given & 1, env = given & 2, config = given & 4;
      INFO("setting " << setting << " flag " << flag << " env " << env << " config " << config);
      LoginHarness h;
      auto pem = [](const std::string& source) {
        return "-----BEGIN CERTIFICATE-----\n" + source + "\n-----END CERTIFICATE-----\n";
      };
      // The config file always holds the settings not under test.
      CliConfig file{"config:1", h.cli.dir.Write("config-ca", pem("config")), "", "flta.config.x"};
      std::vector<std::string> args = {"get", "clusters"};
      switch (setting) {
        case kServer:
          if (!config) file.server.clear();
          if (env) h.cli.env[kServerEnv] = "env:1";
          if (flag) args.insert(args.end(), {"--server", "flag:1"});
          break;
        case kCa:
          if (!config) file.ca_file.clear();
          if (env) h.cli.env[kCaFileEnv] = h.cli.dir.Write("env-ca", pem("env"));
          if (flag) args.insert(args.end(), {"--ca-file", h.cli.dir.Write("flag-ca", pem("flag"))});
          break;
        case kToken:
          if (!config) file.token.clear();
          if (env) h.cli.env[kTokenFileEnv] = h.cli.dir.Write("env-token", "flta.env.x\n");
          if (flag) {
            args.insert(args.end(), {"--token-file", h.cli.dir.Write("flag-token", "flta.flag.x")});
          }
          break;
      }
      REQUIRE(WriteConfigFile(h.config_path, file).ok());
      auto result = h.cli.Run(args);

      const std::string winner = flag ? "flag" : env ? "env" : config ? "config" : "";
      if (winner.empty() && setting != kServer) {
        CHECK(result.exit_code == 2);
        CHECK_THAT(result.err,
                   Catch::Contains("given: pass --") && Catch::Contains("or run 'flotilla login'"));
        continue;
      }
      REQUIRE(result.exit_code == 0);
      REQUIRE(h.cli.factory.connections.size() == 1);
      const ConnectionConfig& used = h.cli.factory.connections[0];
      switch (setting) {
        case kServer:
          CHECK(used.server == (winner.empty() ? "127.0.0.1:7443" : winner + ":1"));
          break;
        case kCa:
          CHECK(used.ca_pem == pem(winner));
          break;
        case kToken:
          CHECK(used.token == "flta." + winner + ".x");
          break;
      }
    }
  }
}

// logout removes the file and is content when there is none.
TEST_CASE("logout removes the config file, and says so when there is none", "[login]") {
  LoginHarness h;
  REQUIRE(h.cli.Run({"login", "--ca-file", h.ca_path, "--token-file", h.token_path}).exit_code ==
          0);
  auto out = h.cli.Run({"logout"});
  CHECK(out.exit_code == 0);
  CHECK(out.out == "Logged out: removed " + h.config_path + "\n");
  CHECK(!std::filesystem::exists(h.config_path));
  auto again = h.cli.Run({"logout"});
  CHECK(again.exit_code == 0);
  CHECK(again.out == "Not logged in: there is no " + h.config_path + "\n");

  auto after = h.cli.Run({"get", "clusters"});
  CHECK(after.exit_code == 2);
  CHECK(after.err ==
        "error: no CA certificate file given: pass --ca-file PATH, set FLOTILLA_CA_FILE or run "
        "'flotilla login'\n"
        "Run 'flotilla get --help' for usage.\n");
}

// Without FLOTILLA_CONFIG, XDG_CONFIG_HOME or HOME there is nowhere to save.
TEST_CASE("login and logout without a place for the config file are usage errors", "[login]") {
  LoginHarness h;
  h.cli.env.erase(kConfigEnv);
  for (const char* command : {"login", "logout"}) {
    auto result = h.cli.Run({command});
    CHECK(result.exit_code == 2);
    CHECK(result.err == std::string("error: cannot tell where the config file goes: set "
                                    "FLOTILLA_CONFIG to a file path (or XDG_CONFIG_HOME or "
                                    "HOME)\nRun 'flotilla ") +
                            command + " --help' for usage.\n");
  }
  CHECK(h.cli.fleet.calls == 0);
}

// Variables set in the shell still win after login: say so.
TEST_CASE("login notes the variables that will override the saved settings", "[login]") {
  LoginHarness h;
  h.cli.env[kServerEnv] = "m:1";
  auto result = h.cli.Run({"login", "--ca-file", h.ca_path, "--token-file", h.token_path});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "Logged in to m:1; settings saved in " + h.config_path + "\n");
  CHECK(result.err == "Note: FLOTILLA_SERVER is set and wins over the config file.\n");
}

}  // namespace
}  // namespace flotilla::cli
