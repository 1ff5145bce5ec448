#include "cli/cli.h"

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/connection.h"
#include "cli/table.h"
#include "cli/version.h"

namespace flotilla::cli {
namespace {

constexpr char kHelpFlag[] = "help";

// One top-level command: how it is written, described and run.
struct Command {
  const char* name;
  const char* synopsis;  // after "flotilla "
  const char* summary;   // one line, for the command list
  const char* details;   // shown by `flotilla COMMAND --help`
  const std::vector<FlagSpec>& (*flags)();
  int (*run)(CommandContext& ctx);
};

const std::vector<FlagSpec>& NoFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunHelp(CommandContext& ctx);
int RunVersion(CommandContext& ctx);

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"apply", "apply -f FILE", "Create or update GitRepos from Fleet GitRepo YAML",
       "Reads Fleet GitRepo resources (apiVersion fleet.cattle.io/v1alpha1, kind GitRepo).\n"
       "Documents separated by \"---\" lines are applied one by one; the manager parses\n"
       "and validates each, and a rejected document does not stop the others.\n"
       "An unreadable FILE is a usage error (exit 2) and nothing is applied.\n"
       "\n"
       "Examples:\n"
       "  flotilla apply -f gitrepo.yaml\n"
       "  cat gitrepos.yaml | flotilla apply -f -",
       ApplyFlags, RunApply},
      {"get", "get KIND [-o table|json]", "List gitrepos, bundles, clusters or bundledeployments",
       "KIND is one of gitrepos, bundles, clusters, bundledeployments; singular forms\n"
       "and bd / bds are accepted too.\n"
       "\n"
       "Examples:\n"
       "  flotilla get clusters\n"
       "  flotilla get bd --cluster prod-eu-1\n"
       "  flotilla get gitrepos -o json | jq '.items[].commit'",
       GetFlags, RunGet},
      {"label", "label cluster NAME KEY=VALUE... KEY-...", "Set or remove labels on a cluster",
       "KEY=VALUE sets a label, KEY- removes one. Keys and values follow Kubernetes'\n"
       "label syntax: KEY is [PREFIX/]NAME, NAME and VALUE at most 63 characters of\n"
       "[A-Za-z0-9-_.] starting and ending alphanumeric, PREFIX a DNS subdomain.\n"
       "\n"
       "Example:\n"
       "  flotilla label cluster prod-eu-1 env=prod region=eu tier-",
       LabelFlags, RunLabel},
      {"token", "token create [flags]", "Create a registration token for a new cluster's agent",
       "Prints the token (shown only once) on the first line, then its expiry\n"
       "(\"expires: <RFC 3339 UTC>\") and the manager CA pin (\"ca-pin: sha256:...\")\n"
       "that the agent checks when it registers.\n"
       "\n"
       "Example:\n"
       "  flotilla token create --ttl 30m --max-uses 1 --label env=prod",
       TokenFlags, RunToken},
      {"help", "help [COMMAND]", "Show help for flotilla or for a command", "", NoFlags, RunHelp},
      {"version", "version", "Print the client version", "", NoFlags, RunVersion},
  };
  return *commands;
}

const Command* FindCommand(absl::string_view name) {
  for (const Command& command : Commands()) {
    if (command.name == name) return &command;
  }
  return nullptr;
}

std::vector<FlagSpec> GlobalFlags() {
  std::vector<FlagSpec> flags = ConnectionFlags();
  flags.push_back({kHelpFlag, 'h', false, "", "show help"});
  return flags;
}

// "  -o, --output FORMAT   help", columns aligned.
std::string FlagLines(absl::Span<const FlagSpec> flags) {
  Table table;
  for (const FlagSpec& flag : flags) {
    std::string name = flag.short_name != '\0'
                           ? absl::StrCat("  -", std::string(1, flag.short_name), ", --", flag.name)
                           : absl::StrCat("  --", flag.name);
    if (flag.takes_value) absl::StrAppend(&name, " ", flag.value_name);
    table.rows.push_back({name, flag.help});
  }
  return RenderTable(table);
}

constexpr char kExitCodes[] =
    "Exit codes:\n"
    "  0   success\n"
    "  1   the manager refused or failed the request (error: <CODE>: <message>)\n"
    "  2   usage error: bad command, flag or argument; unreadable input, CA or token file\n"
    "  3   cannot reach the manager (UNAVAILABLE or DEADLINE_EXCEEDED)\n";

constexpr char kEnvironment[] =
    "A flag wins over its environment variable (FLOTILLA_SERVER, FLOTILLA_TOKEN_FILE,\n"
    "FLOTILLA_CA_FILE); an empty variable counts as unset.\n";

std::string CommandHelp(const Command& command) {
  std::string text = absl::StrCat(command.summary, ".\n\nUsage:\n  flotilla ", command.synopsis,
                                  " [global flags]\n");
  if (*command.details != '\0') absl::StrAppend(&text, "\n", command.details, "\n");
  if (!command.flags().empty()) absl::StrAppend(&text, "\nFlags:\n", FlagLines(command.flags()));
  absl::StrAppend(&text, "\nGlobal flags (before or after the command):\n",
                  FlagLines(GlobalFlags()), "\n", kEnvironment, "\n", kExitCodes);
  return text;
}

int RunHelp(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    ctx.out() << GeneralHelp();
    return kExitOk;
  }
  if (positionals.size() > 1) {
    return ctx.UsageError(
        absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", positionals[1], "\"")));
  }
  const Command* command = FindCommand(positionals[0]);
  if (command == nullptr) {
    return PrintUsageError(ctx.err(), "", absl::StrCat("unknown command \"", positionals[0], "\""));
  }
  ctx.out() << CommandHelp(*command);
  return kExitOk;
}

int RunVersion(CommandContext& ctx) {
  if (!ctx.args().positionals().empty()) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", ctx.args().positionals()[0], "\"")));
  }
  ctx.out() << "flotilla version " << kCliVersion << "\n";
  return kExitOk;
}

}  // namespace

std::string GeneralHelp() {
  Table commands;
  for (const Command& command : Commands()) {
    commands.rows.push_back({absl::StrCat("  ", command.synopsis), command.summary});
  }
  return absl::StrCat(
      "flotilla: the operator CLI of a Flotilla manager (GitOps for fleets of clusters).\n"
      "\n"
      "Usage:\n"
      "  flotilla [global flags] COMMAND [flags]\n"
      "\n"
      "Commands:\n",
      RenderTable(commands), "\nGlobal flags (before or after the command):\n",
      FlagLines(GlobalFlags()), "\n", kEnvironment, "\n", kExitCodes,
      "\nRun 'flotilla COMMAND --help' for a command's flags and examples.\n");
}

int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, const std::map<std::string, std::string>& env,
           FleetApiFactory& factory, const common::Clock& clock) {
  const std::vector<FlagSpec> global_flags = GlobalFlags();
  // Only global flags may precede the command, as with kubectl.
  absl::StatusOr<ParsedArgs> before = ParseFlags(args, global_flags, true);
  if (!before.ok()) return PrintUsageError(err, "", before.status().message());
  size_t command_index = before->consumed();
  if (command_index == args.size()) {
    if (before->Has(kHelpFlag)) {
      out << GeneralHelp();
      return kExitOk;
    }
    return PrintUsageError(err, "", "no command given");
  }

  const std::string& name = args[command_index];
  const Command* command = FindCommand(name);
  if (command == nullptr) {
    return PrintUsageError(err, "", absl::StrCat("unknown command \"", name, "\""));
  }
  std::vector<FlagSpec> flags = global_flags;
  flags.insert(flags.end(), command->flags().begin(), command->flags().end());
  absl::StatusOr<ParsedArgs> parsed =
      ParseFlags(absl::MakeConstSpan(args).subspan(command_index + 1), flags);
  if (!parsed.ok()) return PrintUsageError(err, name, parsed.status().message());
  parsed->PrependFlags(*before);
  if (parsed->Has(kHelpFlag)) {
    out << CommandHelp(*command);
    return kExitOk;
  }

  CommandContext ctx(name, *std::move(parsed), in, out, err, env, factory, clock);
  return command->run(ctx);
}

}  // namespace flotilla::cli
