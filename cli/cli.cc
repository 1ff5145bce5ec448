#include "cli/cli.h"

#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/config_file.h"
#include "cli/connection.h"
#include "cli/login_command.h"
#include "cli/operate_commands.h"
#include "cli/render_command.h"
#include "cli/resource_printer.h"
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
  // What shell completion offers for each positional argument, by position
  // (`secret`: create, then the types). `help` completes command names.
  std::vector<std::vector<std::string>> arguments;
};

const std::vector<FlagSpec>& NoFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunHelp(CommandContext& ctx);
int RunVersion(CommandContext& ctx);
int RunCompletion(CommandContext& ctx);

const std::vector<Command>& Commands() {
  static const auto* commands = new std::vector<Command>{
      {"apply", "apply -f FILE", "Create or update Fleet objects and Secrets from YAML",
       "Reads Fleet resources (apiVersion fleet.cattle.io/v1alpha1, kind GitRepo,\n"
       "ClusterGroup or Cluster) and Kubernetes Secrets (apiVersion v1, kind Secret).\n"
       "A Cluster document changes an existing cluster's labels and settings; clusters\n"
       "themselves join by registering their agent.\n"
       "Documents separated by \"---\" lines are applied one by one; the manager parses\n"
       "and validates each, and a rejected document does not stop the others.\n"
       "An unreadable FILE is a usage error (exit 2) and nothing is applied.\n"
       "Each document applied prints one line, as kubectl does:\n"
       "  gitrepo.fleet.cattle.io/NAME, clustergroup.fleet.cattle.io/NAME,\n"
       "  cluster.fleet.cattle.io/NAME or secret/NAME, then created, configured or unchanged.\n"
       "\n"
       "Examples:\n"
       "  flotilla apply -f gitrepo.yaml\n"
       "  flotilla apply -f clustergroups.yaml -f gitrepos.yaml\n"
       "  cat gitrepos.yaml | flotilla apply -f -",
       ApplyFlags, RunApply},
      {"get",
       "get KIND [NAME] [flags]",
       "List gitrepos, bundles, clusters, secrets and more",
       "KIND is one of gitrepos, bundles, clusters, bundledeployments, clustergroups,\n"
       "secrets; singular forms, bd / bds and cg / cgs are accepted too. A NAME gets\n"
       "that one object (NOT_FOUND, exit 1, when there is none).\n"
       "-l filters by labels (kubectl syntax); --state by Fleet state. -w keeps running\n"
       "and prints objects again whenever they change (\"KIND/NAME deleted\" when gone).\n"
       "-o wide adds columns: gitrepos BRANCH/REVISION and the whole COMMIT; bundles\n"
       "PATH and COMMIT; clusters AGENT-VERSION and CERT-EXPIRES; bundledeployments the\n"
       "whole DEPLOYMENT-ID and APPLIED-ID; clustergroups every NON-READY name;\n"
       "secrets UPDATED. -o json and -o yaml print every field as {\"items\": [...]}.\n"
       "clustergroups shows CLUSTERS-READY, the SELECTOR (\"<none>\": a null selector, no\n"
       "members; \"<all>\": {}, every cluster) and the first NON-READY clusters.\n"
       "secrets shows names, types and keys: secret values never leave the manager.\n"
       "\n"
       "Examples:\n"
       "  flotilla get clusters\n"
       "  flotilla get bd --cluster prod-eu-1\n"
       "  flotilla get cg\n"
       "  flotilla get clusters -o wide\n"
       "  flotilla get clusters -l env=prod --state NotReady\n"
       "  flotilla get bundles -w\n"
       "  flotilla get gitrepos -o json | jq '.items[].commit'",
       GetFlags,
       RunGet,
       {std::vector<std::string>(std::begin(kResourceKindNames), std::end(kResourceKindNames))}},
      {"delete",
       "delete KIND NAME...",
       "Delete gitrepos, clustergroups or secrets",
       "KIND is gitrepo, clustergroup (cg) or secret, singular or plural. Each NAME is\n"
       "deleted on its own and prints \"gitrepo.fleet.cattle.io/NAME deleted\" (or\n"
       "clustergroup.fleet.cattle.io/NAME, secret/NAME); a NAME the manager does not know\n"
       "prints an error (NOT_FOUND) and the others are still deleted (exit 1 at the end).\n"
       "A deleted GitRepo's bundles leave every cluster unless it set keepResources.\n"
       "\n"
       "Examples:\n"
       "  flotilla delete gitrepo simple\n"
       "  flotilla delete secret git-auth old-key",
       DeleteFlags,
       RunDelete,
       {{"gitrepo", "clustergroup", "secret"}}},
      {"label",
       "label cluster NAME KEY=VALUE... KEY-...",
       "Set or remove labels on a cluster",
       "KEY=VALUE sets a label, KEY- removes one. Keys and values follow Kubernetes'\n"
       "label syntax: KEY is [PREFIX/]NAME, NAME and VALUE at most 63 characters of\n"
       "[A-Za-z0-9-_.] starting and ending alphanumeric, PREFIX a DNS subdomain.\n"
       "\n"
       "Example:\n"
       "  flotilla label cluster prod-eu-1 env=prod region=eu tier-",
       LabelFlags,
       RunLabel,
       {{"cluster"}}},
      {"secret",
       "secret create TYPE NAME [flags]",
       "Create or update a Secret for GitRepos",
       "TYPE is basic-auth (kubernetes.io/basic-auth: username, password), ssh-auth\n"
       "(kubernetes.io/ssh-auth: ssh-privatekey, known_hosts) or generic (Opaque: any\n"
       "keys). The Secret is sent as `apply -f` sends one and prints \"secret/NAME created\"\n"
       "(or configured, unchanged). GitRepos name it in clientSecretName or helmSecretName.\n"
       "\n"
       "A password is never taken from a flag value, which would stay in shell history\n"
       "and show in ps: give --password-file FILE or --password-stdin. Files are read\n"
       "before connecting; an unreadable one is a usage error (exit 2). generic keys\n"
       "are Kubernetes Secret keys ([-._a-zA-Z0-9]+); --from-literal values are\n"
       "visible in shell history too, so prefer --from-file for anything secret.\n"
       "\n"
       "Examples:\n"
       "  flotilla secret create basic-auth git-auth --username bot --password-file pw.txt\n"
       "  pass show git/bot | flotilla secret create basic-auth git-auth --username bot \\\n"
       "      --password-stdin\n"
       "  flotilla secret create ssh-auth git-ssh --private-key-file ~/.ssh/id_ed25519 \\\n"
       "      --known-hosts-file known_hosts\n"
       "  flotilla secret create generic helm-values --from-file values.yaml \\\n"
       "      --from-literal region=eu",
       SecretFlags,
       RunSecret,
       {{"create"}, {"basic-auth", "ssh-auth", "generic"}}},
      {"token",
       "token create|list|revoke [flags]",
       "Create, list and revoke registration and API tokens",
       "Without --api: registration tokens for new clusters' agents. create prints the\n"
       "token (shown only once) on the first line, then its expiry (\"expires: <RFC 3339\n"
       "UTC>\") and the manager CA pin (\"ca-pin: sha256:...\") that the agent checks.\n"
       "With --api: operator API tokens with a --role (viewer, deployer, cluster-admin,\n"
       "admin) and an optional --workspace; see docs/access.md. revoke takes token ids.\n"
       "\n"
       "Examples:\n"
       "  flotilla token create --ttl 30m --max-uses 1 --label env=prod\n"
       "  flotilla token create --api --role viewer --description dashboards\n"
       "  flotilla token list --api\n"
       "  flotilla token revoke --api 3f2a9c0d11e4",
       TokenFlags,
       RunToken,
       {{"create", "list", "revoke"}}},
      {"describe",
       "describe KIND NAME",
       "Show an object's status, deployments and events",
       "KIND is gitrepo, bundle, cluster or clustergroup. Shows the status summary (a\n"
       "count per state), Fleet's Ready condition, non-ready resources (at most 10), the\n"
       "rollout partitions of a bundle, a table of the BundleDeployments per cluster and\n"
       "the last 10 audit events about it.\n"
       "\n"
       "Example:\n"
       "  flotilla describe bundle apps-web",
       DescribeFlags,
       RunDescribe,
       {{"gitrepo", "bundle", "cluster", "clustergroup"}}},
      {"pause",
       "pause gitrepo|cluster NAME...",
       "Hold new deployments of a GitRepo or to a cluster",
       "New commits are still fetched and staged, but not released: the affected\n"
       "BundleDeployments show OutOfSync until `flotilla resume`. A GitRepo is paused by\n"
       "setting spec.paused in its stored document.",
       PauseFlags,
       RunPause,
       {{"gitrepo", "cluster"}}},
      {"resume",
       "resume gitrepo|cluster NAME...",
       "Release what a pause held",
       "The staged deployments roll out under the bundles' rolloutStrategy.",
       PauseFlags,
       RunResume,
       {{"gitrepo", "cluster"}}},
      {"resync",
       "resync gitrepo NAME...",
       "Fetch and scan a GitRepo now",
       "Makes the GitRepo due at once, and scans its commit again even if it did not\n"
       "change (after fixing credentials or a chart repository, say).",
       ResyncFlags,
       RunResync,
       {{"gitrepo"}}},
      {"cluster",
       "cluster revoke NAME...",
       "Revoke a cluster's identity",
       "The manager refuses the cluster's certificate from now on and closes its agent's\n"
       "stream; its BundleDeployments are removed from the manager. What runs on the\n"
       "cluster stays. To bring it back, register its agent again with a new token.",
       ClusterFlags,
       RunCluster,
       {{"revoke"}}},
      {"audit",
       "audit [verify] [flags]",
       "Read the audit log, or verify its hash chain",
       "Every change through the API and every agent registration and renewal is one\n"
       "row: sequence, time, actor (token:<id>, cluster:<id>), action, resource,\n"
       "outcome and details. `audit verify` fetches every row and recomputes the hash\n"
       "chain here; it exits 1 naming the first row that does not match.\n"
       "\n"
       "Examples:\n"
       "  flotilla audit --resource gitrepo/apps\n"
       "  flotilla audit verify",
       AuditFlags,
       RunAudit,
       {{"verify"}}},
      {"agent-manifest", "agent-manifest --token T --manager ADDR",
       "Print the Kubernetes install of a new cluster's agent",
       "Prints, to pipe into kubectl on the downstream cluster, the objects that run an\n"
       "agent there: Namespace, ServiceAccount, ClusterRoles (explicit kinds and verbs,\n"
       "extended by aggregation) and binding, the Secret flotilla-agent-bootstrap with\n"
       "the token and the manager CA, a PersistentVolumeClaim for the agent's identity,\n"
       "and the Deployment (non-root, read-only root filesystem). Works offline: the CA\n"
       "comes from --ca-file / FLOTILLA_CA_FILE (embedded), or --ca-pin instead.\n"
       "The output holds the token: apply it, do not commit it. --manager must be a name\n"
       "or IP in the manager's --server-names. See docs/kubernetes.md.\n"
       "--template prints deploy/kubernetes/agent.yaml, with placeholders.\n"
       "\n"
       "Examples:\n"
       "  TOKEN=$(flotilla token create --ttl 30m --max-uses 1 --cluster edge-7 | head -1)\n"
       "  flotilla agent-manifest --token \"$TOKEN\" --manager flotilla.example.com:7443 \\\n"
       "      --label env=prod | kubectl --context edge-7 apply -f -\n"
       "  flotilla agent-manifest --template > deploy/kubernetes/agent.yaml",
       AgentManifestFlags, RunAgentManifest},
      {"render", "render DIR [-l k=v]... [-o FMT]",
       "Show what a cluster with given labels gets from a bundle",
       "Reads DIR as one bundle (fleet.yaml or fleet.yml, resources, overlays,\n"
       "kustomize.dir) and prints the manifests a cluster with these labels would\n"
       "receive, computed by the same code as the manager: Flotilla's `fleet test`.\n"
       "Works offline; no manager is needed. A cluster the bundle does not target\n"
       "gets nothing: the reason goes to stderr and the exit status is 0. A broken\n"
       "bundle exits 1 with the error.\n"
       "\n"
       "Examples:\n"
       "  flotilla render apps/web --label env=prod --label region=eu\n"
       "  flotilla render apps/web -l env=dev -o json | jq '.items[].metadata.name'",
       RenderFlags, RunRender},
      {"login", "login [flags]", "Check and save the manager address and credentials",
       "Checks --server, --ca-file and the API token (--token-file, or --token-stdin)\n"
       "with one read call (ListClusterGroups, allowed to every role), then saves them\n"
       "in the config file so that later commands need no flags: $FLOTILLA_CONFIG, else\n"
       "$XDG_CONFIG_HOME/flotilla/config, else $HOME/.config/flotilla/config. Settings\n"
       "not given come from the variables, then the existing config file, then the\n"
       "default, as for every command. The file holds the token and is created mode\n"
       "0600 (its directory 0700); a config file group or others may read is refused.\n"
       "It keeps the CA file's absolute path, or the certificate itself with --embed-ca.\n"
       "A failed check writes nothing and exits as the call failed (4: token refused).\n"
       "\n"
       "Examples:\n"
       "  flotilla login --server flotilla.example.com:7443 --ca-file ca.crt \\\n"
       "      --token-file admin.token\n"
       "  pass show flotilla/token | flotilla login --token-stdin",
       LoginFlags, RunLogin},
      {"logout", "logout", "Remove the saved settings and token",
       "Removes the config file `flotilla login` wrote (see `flotilla login --help`).\n"
       "The token stays valid on the manager until it is revoked there.",
       LogoutFlags, RunLogout},
      {"completion",
       "completion bash|zsh",
       "Print a shell completion script",
       "Completes commands, subcommands, flags, get kinds and -o values.\n"
       "\n"
       "bash (needs the bash-completion package for the directory form):\n"
       "  flotilla completion bash > ~/.local/share/bash-completion/completions/flotilla\n"
       "  echo 'source <(flotilla completion bash)' >> ~/.bashrc   # or this\n"
       "zsh (a directory in $fpath, before compinit runs):\n"
       "  flotilla completion zsh > \"${fpath[1]}/_flotilla\"\n"
       "  echo 'source <(flotilla completion zsh)' >> ~/.zshrc   # or this, after compinit",
       NoFlags,
       RunCompletion,
       {{"bash", "zsh"}}},
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
    "  2   usage error: bad command, flag or argument; unreadable input, CA, token or\n"
    "      config file\n"
    "  3   cannot reach the manager (UNAVAILABLE or DEADLINE_EXCEEDED)\n"
    "  4   not authorized: the token was refused (UNAUTHENTICATED) or its role may not\n"
    "      make the call (PERMISSION_DENIED)\n";

constexpr char kEnvironment[] =
    "A flag wins over its environment variable (FLOTILLA_SERVER, FLOTILLA_TOKEN_FILE,\n"
    "FLOTILLA_CA_FILE), which wins over the config file `flotilla login` writes\n"
    "($FLOTILLA_CONFIG, else $XDG_CONFIG_HOME/flotilla/config, else\n"
    "~/.config/flotilla/config), which wins over the default; an empty variable counts\n"
    "as unset.\n";

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

// The command and flag tables as completion scripts see them.
CompletionSpec CompletionTables() {
  CompletionSpec spec;
  spec.global_flags = GlobalFlags();
  std::vector<std::string> names;
  for (const Command& command : Commands()) names.push_back(command.name);
  for (const Command& command : Commands()) {
    CompletionCommand& entry = spec.commands.emplace_back();
    entry.name = command.name;
    entry.summary = command.summary;
    entry.flags = command.flags();
    entry.arguments =
        command.run == RunHelp ? std::vector<std::vector<std::string>>{names} : command.arguments;
  }
  return spec;
}

int RunCompletion(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    return ctx.UsageError(absl::InvalidArgumentError("completion needs a shell: bash or zsh"));
  }
  if (positionals.size() > 1) {
    return ctx.UsageError(
        absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", positionals[1], "\"")));
  }
  if (positionals[0] == "bash") {
    ctx.out() << BashCompletionScript(CompletionTables());
  } else if (positionals[0] == "zsh") {
    ctx.out() << ZshCompletionScript(CompletionTables());
  } else {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown shell \"", positionals[0], "\" (want bash or zsh)")));
  }
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
