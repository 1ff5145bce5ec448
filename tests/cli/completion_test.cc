// `flotilla completion bash|zsh`: scripts generated from the command and flag
// tables, checked by the shells themselves.
#include "cli/completion.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/cli.h"
#include "common/subprocess.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

using testing::CliHarness;

// The command names as `flotilla --help` lists them: the first word of each
// line of its "Commands:" block.
std::vector<std::string> HelpCommandNames() {
  std::vector<std::string> names;
  bool in_commands = false;
  for (absl::string_view line : absl::StrSplit(GeneralHelp(), '\n')) {
    if (line == "Commands:") {
      in_commands = true;
    } else if (in_commands && line.empty()) {
      break;
    } else if (in_commands) {
      std::vector<absl::string_view> words = absl::StrSplit(line, ' ', absl::SkipEmpty());
      names.emplace_back(words.front());
    }
  }
  return names;
}

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path == nullptr ? "/usr/bin:/bin" : path, ':')) {
    std::filesystem::path candidate = std::filesystem::path(std::string(dir)) / program;
    if (!dir.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

// Runs `shell -c program`; returns stdout, failing the test on a non-zero exit.
std::string RunShell(const std::string& shell, const std::string& program) {
  common::SubprocessOptions options;
  options.argv = {shell, "-c", program};
  const char* path = std::getenv("PATH");
  options.env = {absl::StrCat("PATH=", path == nullptr ? "/usr/bin:/bin" : path)};
  options.timeout = absl::Seconds(30);
  absl::StatusOr<common::SubprocessResult> result = common::RunSubprocess(options);
  REQUIRE(result.ok());
  INFO(result->err);
  REQUIRE(WIFEXITED(result->wait_status));
  CHECK(WEXITSTATUS(result->wait_status) == 0);
  return result->out;
}

// The bash script, syntax-checked, names every command `--help` lists.
TEST_CASE("completion bash prints a script bash accepts, naming every command", "[completion]") {
  CliHarness cli;
  auto result = cli.Run({"completion", "bash"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.empty());
  std::string script = cli.dir.Write("flotilla.bash", result.out);
  RunShell("bash", "bash -n " + script);

  std::vector<std::string> names = HelpCommandNames();
  CHECK(names.size() >= 13);
  for (const std::string& name : names) {
    INFO(name);
    CHECK_THAT(result.out, Catch::Contains(name));
  }
  CHECK_THAT(result.out,
             Catch::Contains("_flotilla_commands=\"" + absl::StrJoin(names, " ") + "\"\n"));
  CHECK_THAT(result.out, Catch::Contains("complete -o default -F _flotilla flotilla\n"));
}

// What bash would offer at the cursor (the last word) of a command line.
std::string Complete(const std::string& script, const std::vector<std::string>& words) {
  std::vector<std::string> quoted;
  for (const std::string& word : words) quoted.push_back("'" + word + "'");
  return std::string(absl::StripTrailingAsciiWhitespace(RunShell(
      "bash",
      absl::StrCat("source ", script, "; COMP_WORDS=(", absl::StrJoin(quoted, " "),
                   "); COMP_CWORD=", words.size() - 1, "; _flotilla; echo \"${COMPREPLY[*]}\""))));
}

// bash splits "--output=json" and "HOST:PORT" into several words; the script
// still finds the command and the argument's position.
TEST_CASE("The bash script completes commands, subcommands, kinds, flags and -o values",
          "[completion]") {
  CliHarness cli;
  std::string script = cli.dir.Write("flotilla.bash", cli.Run({"completion", "bash"}).out);
  CHECK(Complete(script, {"flotilla", "lo"}) == "login logout");
  CHECK(Complete(script, {"flotilla", "get", ""}) ==
        "gitrepos bundles clusters bundledeployments clustergroups secrets");
  CHECK(Complete(script, {"flotilla", "--server", "m", ":", "1", "get", "cl"}) ==
        "clusters clustergroups");
  CHECK(Complete(script, {"flotilla", "get", "clusters", "-o", ""}) == "table wide json yaml");
  CHECK(Complete(script, {"flotilla", "get", "clusters", "--output", "=", "y"}) == "yaml");
  CHECK(Complete(script, {"flotilla", "render", "dir", "-o", ""}) == "yaml json");
  CHECK(Complete(script, {"flotilla", "secret", "create", ""}) == "basic-auth ssh-auth generic");
  CHECK(Complete(script, {"flotilla", "secret", "--username", "u", "create", "s"}) == "ssh-auth");
  CHECK(Complete(script, {"flotilla", "token", ""}) == "create list revoke");
  CHECK(Complete(script, {"flotilla", "completion", ""}) == "bash zsh");
  CHECK(Complete(script, {"flotilla", "help", "comp"}) == "completion");
  CHECK(Complete(script, {"flotilla", "login", "--t"}) == "--token-file --token-stdin");
  CHECK(Complete(script, {"flotilla", "-"}) == "--server --token-file --ca-file --help -h");
  CHECK(Complete(script, {"flotilla", "apply", "-f", cli.dir.Path("flotilla.b")}) == script);
}

// zsh is optional here: check its syntax when it is installed.
TEST_CASE("completion zsh prints a #compdef script zsh accepts", "[completion]") {
  CliHarness cli;
  auto result = cli.Run({"completion", "zsh"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.rfind("#compdef flotilla\n", 0) == 0);
  for (const std::string& name : HelpCommandNames()) {
    INFO(name);
    CHECK_THAT(result.out, Catch::Contains("'" + name + ":"));
  }
  CHECK_THAT(result.out, Catch::Contains("\"get --output\"|\"get -o\") echo \"table wide json "
                                         "yaml\" ;;"));
  std::string zsh = FindOnPath("zsh");
  if (zsh.empty()) {
    WARN("zsh is not installed: the zsh script's syntax was not checked");
    return;
  }
  std::string script = cli.dir.Write("_flotilla", result.out);
  RunShell(zsh, "zsh -n " + script);
}

// The scripts follow the tables: a new command and its flag values appear,
// and a word that is not plain never reaches the script.
TEST_CASE("Completion scripts are generated from the tables and leave out unsafe words",
          "[completion]") {
  CompletionSpec spec;
  spec.global_flags = {{"server", '\0', true, "HOST:PORT", "address"}};
  spec.commands = {{"frob",
                    "Frob things",
                    {{"mode", 'm', true, "MODE", "how", {"fast", "slow"}},
                     {"input", '\0', true, "FILE", "from"},
                     {"dry-run", '\0', false, "", "only say"}},
                    {{"widgets", "$(touch /tmp/pwned)", "gadgets"}}}};
  for (const std::string& script : {BashCompletionScript(spec), ZshCompletionScript(spec)}) {
    CHECK_THAT(script, Catch::Contains("frob) echo \"--mode -m --input --dry-run\" ;;"));
    CHECK_THAT(script, Catch::Contains("\"frob --mode\"|\"frob -m\") echo \"fast slow\" ;;"));
    CHECK_THAT(script, Catch::Contains("\"frob --input\") echo \"@file\" ;;"));
    CHECK_THAT(script, Catch::Contains("*\" --server\") echo \"@any\" ;;"));
    CHECK_THAT(script, Catch::Contains("\"frob 0\") echo \"widgets gadgets\" ;;"));
    CHECK_THAT(script, !Catch::Contains("pwned"));
    CHECK_THAT(script, !Catch::Contains("dry-run\") echo"));
  }
  CHECK_THAT(ZshCompletionScript(spec), Catch::Contains("'frob:Frob things'"));
}

TEST_CASE("completion without a shell, or with another one, is a usage error", "[completion]") {
  CliHarness cli;
  auto none = cli.Run({"completion"});
  CHECK(none.exit_code == 2);
  CHECK(none.err ==
        "error: completion needs a shell: bash or zsh\n"
        "Run 'flotilla completion --help' for usage.\n");
  auto fish = cli.Run({"completion", "fish"});
  CHECK(fish.exit_code == 2);
  CHECK(fish.err ==
        "error: unknown shell \"fish\" (want bash or zsh)\n"
        "Run 'flotilla completion --help' for usage.\n");
  CHECK(cli.factory.connections.empty());
}

}  // namespace
}  // namespace flotilla::cli
