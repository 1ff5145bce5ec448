#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/escaping.h"
#include "cli/secrets.h"
#include "common/fleet/fleet_objects.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

constexpr char kPrivateKey[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
constexpr char kKnownHosts[] = "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6\n";

// Answers like the manager: kind Secret, the document's name, and `outcome`.
struct SecretManager {
  v1::ApplyOutcome outcome = v1::APPLY_OUTCOME_CREATED;
  absl::StatusOr<v1::ApplyResponse> operator()(const v1::ApplyRequest& request) const {
    nlohmann::json doc = nlohmann::json::parse(request.yaml());
    v1::ApplyResponse response;
    response.set_kind(doc["kind"].get<std::string>());
    response.set_name(doc["metadata"]["name"].get<std::string>());
    response.set_outcome(outcome);
    return response;
  }
};

// The one document sent, parsed.
nlohmann::json SentDocument(const CliHarness& cli) {
  REQUIRE(cli.fleet.apply_requests.size() == 1);
  return nlohmann::json::parse(cli.fleet.apply_requests[0].yaml());
}

std::string Base64(const std::string& text) { return absl::Base64Escape(text); }

// Checks a usage error: exit 2, the exact message and hint, nothing sent and
// no connection made.
void CheckUsageError(CliHarness& cli, const testing::CliResult& result,
                     const std::string& message) {
  CHECK(result.exit_code == 2);
  CHECK(result.out.empty());
  CHECK(result.err == "error: " + message + "\nRun 'flotilla secret --help' for usage.\n");
  CHECK(cli.factory.connections.empty());
  CHECK(cli.fleet.calls == 0);
}

// ---- what is sent ----------------------------------------------------------

// The password file ends in the newline `echo` adds; it is not part of the
// password.
TEST_CASE("secret create basic-auth sends a basic-auth Secret with base64 data", "[secret]") {
  CliHarness cli;
  cli.fleet.apply = SecretManager{};
  std::string password_file = cli.dir.Write("pw.txt", "s3cr3t pass\n");
  auto result = cli.Run({"secret", "create", "basic-auth", "git-auth", "--username", "bot",
                         "--password-file", password_file});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(result.out == "secret/git-auth created\n");
  CHECK(SentDocument(cli) ==
        nlohmann::json{
            {"apiVersion", "v1"},
            {"kind", "Secret"},
            {"metadata", {{"name", "git-auth"}}},
            {"type", "kubernetes.io/basic-auth"},
            {"data", {{"username", Base64("bot")}, {"password", Base64("s3cr3t pass")}}},
        });
}

// The password piped in, as `docker login --password-stdin` takes it.
TEST_CASE("secret create basic-auth --password-stdin reads the password from stdin", "[secret]") {
  CliHarness cli;
  cli.fleet.apply = SecretManager{v1::APPLY_OUTCOME_CONFIGURED};
  auto result =
      cli.Run({"secret", "create", "basic-auth", "git-auth", "--username=bot", "--password-stdin"},
              "from-stdin\r\n");
  CHECK(result.exit_code == 0);
  CHECK(result.out == "secret/git-auth configured\n");
  CHECK(SentDocument(cli)["data"]["password"] == Base64("from-stdin"));
}

// The key and known_hosts are sent byte for byte.
TEST_CASE("secret create ssh-auth sends the private key and known_hosts", "[secret]") {
  CliHarness cli;
  cli.fleet.apply = SecretManager{v1::APPLY_OUTCOME_UNCHANGED};
  auto result = cli.Run({"secret", "create", "ssh-auth", "git-ssh", "--private-key-file",
                         cli.dir.Write("id_ed25519", kPrivateKey), "--known-hosts-file",
                         cli.dir.Write("known_hosts", kKnownHosts)});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "secret/git-ssh unchanged\n");
  nlohmann::json doc = SentDocument(cli);
  CHECK(doc["type"] == "kubernetes.io/ssh-auth");
  CHECK(doc["data"] == nlohmann::json{{"ssh-privatekey", Base64(kPrivateKey)},
                                      {"known_hosts", Base64(kKnownHosts)}});
}

// known_hosts is optional.
TEST_CASE("secret create ssh-auth without --known-hosts-file sends the key alone", "[secret]") {
  CliHarness cli;
  cli.fleet.apply = SecretManager{};
  auto result = cli.Run({"secret", "create", "ssh-auth", "git-ssh", "--private-key-file",
                         cli.dir.Write("id_ed25519", kPrivateKey)});
  CHECK(result.exit_code == 0);
  CHECK(SentDocument(cli)["data"] == nlohmann::json{{"ssh-privatekey", Base64(kPrivateKey)}});
}

// Literals, a file under a chosen key, a file under its own name; binary
// content survives.
TEST_CASE("secret create generic sends literals and files as Opaque data", "[secret]") {
  CliHarness cli;
  cli.fleet.apply = SecretManager{};
  const std::string binary("\x00\xff\n", 3);
  std::string values = cli.dir.Write("values.yaml", "replicas: 2\n");
  std::string blob = cli.dir.Write("blob.bin", binary);
  auto result =
      cli.Run({"secret", "create", "generic", "helm-values", "--from-literal", "region=eu=west",
               "--from-literal", "empty=", "--from-file", values, "--from-file", "ca.bin=" + blob});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "secret/helm-values created\n");
  nlohmann::json doc = SentDocument(cli);
  CHECK(doc["type"] == "Opaque");
  CHECK(doc["data"] == nlohmann::json{{"region", Base64("eu=west")},
                                      {"empty", ""},
                                      {"values.yaml", Base64("replicas: 2\n")},
                                      {"ca.bin", Base64(binary)}});
}

// The manager refuses the document (here: a name it does not accept).
TEST_CASE("secret create passes the manager's refusal on with exit 1", "[secret]") {
  CliHarness cli;
  cli.fleet.apply = [](const v1::ApplyRequest&) -> absl::StatusOr<v1::ApplyResponse> {
    return absl::InvalidArgumentError("document:5:13: metadata.name: must be a DNS subdomain");
  };
  auto result = cli.Run({"secret", "create", "generic", "Bad_Name", "--from-literal", "a=b"});
  CHECK(result.exit_code == 1);
  CHECK(result.out.empty());
  CHECK(result.err ==
        "error: INVALID_ARGUMENT: document:5:13: metadata.name: must be a DNS subdomain\n");
}

// An unreachable manager: exit 3, as for every command.
TEST_CASE("secret create exits 3 when the manager is unreachable", "[secret]") {
  CliHarness cli;
  cli.fleet.error = absl::UnavailableError("failed to connect to all addresses");
  auto result = cli.Run({"secret", "create", "generic", "x", "--from-literal", "a=b"});
  CHECK(result.exit_code == 3);
  CHECK(result.err ==
        "error: cannot reach the manager at 127.0.0.1:7443: UNAVAILABLE: failed to connect to "
        "all addresses\n");
}

// The manager's own parser reads back what the CLI built, for each type:
// the type it stores and every value byte for byte.
TEST_CASE("The manager's Secret parser reads the CLI's documents back unchanged", "[secret]") {
  struct Case {
    const char* type;
    const char* stored_as;
    std::map<std::string, std::string> data;
  };
  for (const Case& c : {
           Case{kBasicAuthType, "basic-auth", {{"username", "bot"}, {"password", "p\"w: #x"}}},
           Case{kSshAuthType,
                "ssh-auth",
                {{"ssh-privatekey", kPrivateKey}, {"known_hosts", kKnownHosts}}},
           Case{kOpaqueType,
                "generic",
                {{"values.yaml", "a: 1\n"}, {"bin", std::string("\x00\xff", 2)}}},
       }) {
    INFO(c.type);
    absl::StatusOr<common::SecretSpec> spec =
        common::ParseSecret(SecretDocument("git-auth", c.type, c.data), "document");
    REQUIRE(spec.ok());
    CHECK(spec->name == "git-auth");
    CHECK(spec->type == c.stored_as);
    CHECK(spec->data == c.data);
  }
}

// ---- what is refused -------------------------------------------------------

// A password as a flag value is already in the shell history: refused, and
// nothing is sent, whichever way the flag is written.
TEST_CASE("secret create refuses a password given as a flag value", "[secret]") {
  for (const std::vector<std::string>& flag : {std::vector<std::string>{"--password", "hunter2"},
                                               std::vector<std::string>{"--password=hunter2"}}) {
    CliHarness cli;
    std::vector<std::string> args = {"secret",   "create",     "basic-auth",
                                     "git-auth", "--username", "bot"};
    args.insert(args.end(), flag.begin(), flag.end());
    auto result = cli.Run(args);
    CheckUsageError(cli, result,
                    "--password is not accepted: a password on the command line stays in shell "
                    "history and is visible in ps; use --password-file FILE or "
                    "--password-stdin");
    CHECK(result.err.find("hunter2") == std::string::npos);
  }
}

TEST_CASE("secret without create, or with another subcommand, is a usage error", "[secret]") {
  CliHarness cli;
  CheckUsageError(cli, cli.Run({"secret"}), "secret needs a subcommand: create");
  CheckUsageError(cli, cli.Run({"secret", "delete", "x"}),
                  "unknown secret subcommand \"delete\" (want create)");
}

TEST_CASE("secret create without a TYPE, or with an unknown one, is a usage error", "[secret]") {
  CliHarness cli;
  CheckUsageError(cli, cli.Run({"secret", "create"}),
                  "secret create needs a TYPE: basic-auth, ssh-auth or generic");
  CheckUsageError(cli, cli.Run({"secret", "create", "tls", "x"}),
                  "unknown secret type \"tls\" (want basic-auth, ssh-auth or generic)");
}

TEST_CASE("secret create without a NAME is a usage error naming the type", "[secret]") {
  CliHarness cli;
  CheckUsageError(
      cli, cli.Run({"secret", "create", "basic-auth", "--username", "bot", "--password-stdin"}),
      "secret create basic-auth needs a NAME");
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "--from-literal", "a=b"}),
                  "secret create generic needs a NAME");
}

TEST_CASE("secret create with a second NAME is a usage error", "[secret]") {
  CliHarness cli;
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "a", "b", "--from-literal", "k=v"}),
                  "unexpected argument \"b\"");
}

// A flag of another type is a mistake, not something to drop silently.
TEST_CASE("secret create with another type's flag is a usage error naming it", "[secret]") {
  CliHarness cli;
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "basic-auth", "x", "--username", "bot",
                           "--password-stdin", "--private-key-file", "id"}),
                  "--private-key-file applies to ssh-auth secrets only");
  CheckUsageError(
      cli,
      cli.Run({"secret", "create", "generic", "x", "--from-literal", "a=b", "--username", "bot"}),
      "--username applies to basic-auth secrets only");
}

TEST_CASE("secret create basic-auth needs a username and exactly one password source", "[secret]") {
  CliHarness cli;
  std::string pw = cli.dir.Write("pw", "x\n");
  CheckUsageError(cli, cli.Run({"secret", "create", "basic-auth", "x", "--password-file", pw}),
                  "secret create basic-auth needs --username USER");
  CheckUsageError(cli, cli.Run({"secret", "create", "basic-auth", "x", "--username", "bot"}),
                  "secret create basic-auth needs --password-file FILE or --password-stdin (a "
                  "password is never accepted as a flag value)");
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "basic-auth", "x", "--username", "bot",
                           "--password-file", pw, "--password-stdin"}),
                  "give --password-file or --password-stdin, not both");
}

// Files are read before connecting: a missing one is named, nothing is sent.
TEST_CASE("secret create with an unreadable file is a usage error naming flag and path",
          "[secret]") {
  CliHarness cli;
  std::string missing = cli.dir.Path("missing");
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "basic-auth", "x", "--username", "bot",
                           "--password-file", missing}),
                  "--password-file: cannot read " + missing + ": No such file or directory");
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "ssh-auth", "x", "--private-key-file", missing}),
                  "--private-key-file: cannot read " + missing + ": No such file or directory");
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "ssh-auth", "x", "--private-key-file",
                           cli.dir.Write("id", kPrivateKey), "--known-hosts-file", missing}),
                  "--known-hosts-file: cannot read " + missing + ": No such file or directory");
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "x", "--from-file", "k=" + missing}),
                  "--from-file: cannot read " + missing + ": No such file or directory");
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "generic", "x", "--from-file", cli.dir.Path("")}),
                  "--from-file: cannot read " + cli.dir.Path("") + ": Is a directory");
}

TEST_CASE("secret create basic-auth refuses an empty password", "[secret]") {
  CliHarness cli;
  std::string empty = cli.dir.Write("empty", "\n");
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "basic-auth", "x", "--username", "bot",
                           "--password-file", empty}),
                  "--password-file: " + empty + " is empty");
  CheckUsageError(
      cli,
      cli.Run({"secret", "create", "basic-auth", "x", "--username", "bot", "--password-stdin"}),
      "--password-stdin: stdin is empty");
}

// The usual slip: the .pub file next to the key.
TEST_CASE("secret create ssh-auth refuses a file without a private key", "[secret]") {
  CliHarness cli;
  std::string pub = cli.dir.Write("id_ed25519.pub", "ssh-ed25519 AAAAC3Nza bot@example\n");
  CheckUsageError(cli, cli.Run({"secret", "create", "ssh-auth", "x", "--private-key-file", pub}),
                  "--private-key-file: " + pub +
                      " holds no private key (want \"-----BEGIN ... PRIVATE KEY-----\"; not the "
                      ".pub file)");
  CheckUsageError(cli, cli.Run({"secret", "create", "ssh-auth", "x"}),
                  "secret create ssh-auth needs --private-key-file FILE");
}

TEST_CASE("secret create generic needs data", "[secret]") {
  CliHarness cli;
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "x"}),
                  "secret create generic needs at least one --from-literal KEY=VALUE or "
                  "--from-file [KEY=]PATH");
}

// Keys are checked locally; a literal's value is never echoed.
TEST_CASE("secret create generic refuses bad keys naming the key only", "[secret]") {
  CliHarness cli;
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "x", "--from-literal", "a b=v"}),
                  "invalid Secret key \"a b\": must consist of alphanumeric characters, '-', '_' "
                  "or '.' ([-._a-zA-Z0-9]+)");
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "x", "--from-literal", "=v"}),
                  "invalid Secret key \"\": must not be empty");
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "x", "--from-literal", "..a=v"}),
                  "invalid Secret key \"..a\": must not be \".\" or \"..\", nor start with \"..\"");
  auto no_equals = cli.Run({"secret", "create", "generic", "x", "--from-literal", "hunter2"});
  CheckUsageError(cli, no_equals, "--from-literal needs KEY=VALUE (no \"=\" found)");
  CHECK(no_equals.err.find("hunter2") == std::string::npos);
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "generic", "x", "--from-file",
                           "a/b=" + cli.dir.Write("f", "v")}),
                  "invalid Secret key \"a/b\": must consist of alphanumeric characters, '-', '_' "
                  "or '.' ([-._a-zA-Z0-9]+)");
  CheckUsageError(cli,
                  cli.Run({"secret", "create", "generic", "x", "--from-literal", "k=1",
                           "--from-file", "k=" + cli.dir.Write("k", "2")}),
                  "Secret key \"k\" given twice");
  CheckUsageError(cli, cli.Run({"secret", "create", "generic", "x", "--from-file", "k="}),
                  "--from-file \"k=\" names no file (want [KEY=]PATH)");
}

// Kubernetes' IsConfigMapKey, key by key.
TEST_CASE("ValidateSecretKey follows Kubernetes' Secret key rules", "[secret]") {
  for (const char* key : {"a", "values.yaml", "KEY_NAME", "key-name", ".dotfile", "a..b"}) {
    INFO(key);
    CHECK(ValidateSecretKey(key).ok());
  }
  for (const char* key : {"", ".", "..", "..a", "a b", "a/b", "ключ"}) {
    INFO(key);
    CHECK(ValidateSecretKey(key).code() == absl::StatusCode::kInvalidArgument);
  }
  CHECK(ValidateSecretKey(std::string(253, 'k')).ok());
  CHECK(ValidateSecretKey(std::string(254, 'k')).message() ==
        "invalid Secret key \"" + std::string(254, 'k') +
            "\": must be no more than 253 characters");
}

// The help says where a password may come from.
TEST_CASE("secret --help explains that passwords come from a file or stdin", "[secret]") {
  CliHarness cli;
  auto result = cli.Run({"secret", "--help"});
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("Usage:\n  flotilla secret create TYPE NAME [flags] [global flags]\n") !=
        std::string::npos);
  CHECK(result.out.find("A password is never taken from a flag value") != std::string::npos);
  CHECK(result.out.find("  --password-stdin") != std::string::npos);
  CHECK(result.out.find("  --password-file FILE") != std::string::npos);
}

}  // namespace
}  // namespace flotilla::cli
