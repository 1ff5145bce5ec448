#include "cli/login_command.h"

#include <iterator>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/config_file.h"
#include "cli/connection.h"

namespace flotilla::cli {
namespace {

constexpr char kTokenStdinFlag[] = "token-stdin";
constexpr char kEmbedCaFlag[] = "embed-ca";

// The config file's path, or a usage error saying how to give one.
absl::StatusOr<std::string> ConfigPathOrError(const Environment& env) {
  std::string path = ConfigFilePath(env);
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot tell where the config file goes: set ",
                                                   kConfigEnv,
                                                   " to a file path (or XDG_CONFIG_HOME or HOME)"));
  }
  return path;
}

absl::Status NoArguments(const CommandContext& ctx) {
  if (ctx.args().positionals().empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("unexpected argument \"", ctx.args().positionals().front(), "\""));
}

// Resolves the connection to check, with the token from stdin when asked.
absl::StatusOr<ResolvedConnection> LoginConnection(CommandContext& ctx) {
  if (!ctx.args().Has(kTokenStdinFlag)) return ResolveConnection(ctx.args(), ctx.env());
  if (ctx.args().Has(kTokenFileFlag)) {
    return absl::InvalidArgumentError(
        absl::StrCat("give --", kTokenFileFlag, " or --", kTokenStdinFlag, ", not both"));
  }
  std::string token(std::istreambuf_iterator<char>(ctx.in()), {});
  if (absl::StripAsciiWhitespace(token).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", kTokenStdinFlag, ": stdin holds no token; pipe it in, e.g. flotilla login --",
        kTokenStdinFlag, " < token-file"));
  }
  return ResolveConnectionWithToken(ctx.args(), ctx.env(), token,
                                    absl::StrCat("stdin (--", kTokenStdinFlag, ")"));
}

}  // namespace

const std::vector<FlagSpec>& LoginFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {kTokenStdinFlag, '\0', false, "",
       absl::StrCat("read the API token from stdin instead of --", kTokenFileFlag)},
      {kEmbedCaFlag, '\0', false, "",
       "copy the CA certificate into the config file instead of its path"},
  };
  return *flags;
}

int RunLogin(CommandContext& ctx) {
  if (absl::Status s = NoArguments(ctx); !s.ok()) return ctx.UsageError(s);
  absl::StatusOr<std::string> path = ConfigPathOrError(ctx.env());
  if (!path.ok()) return ctx.UsageError(path.status());
  absl::StatusOr<ResolvedConnection> connection = LoginConnection(ctx);
  if (!connection.ok()) return ctx.UsageError(connection.status());

  // One cheap call every role may make: it proves the address, the CA and
  // the token before anything is saved.
  FleetApi* api = ctx.Connect(*connection);
  absl::StatusOr<v1::ListClusterGroupsResponse> check =
      api->ListClusterGroups(v1::ListClusterGroupsRequest());
  if (!check.ok()) {
    int code = ctx.ApiError(check.status());
    ctx.err() << "Not logged in: nothing was written to " << *path << ".\n";
    return code;
  }

  CliConfig config;
  config.server = connection->config.server;
  config.token = connection->config.token;
  if (ctx.args().Has(kEmbedCaFlag) || connection->ca_file.empty()) {
    config.ca_pem = connection->config.ca_pem;
  } else {
    config.ca_file = connection->ca_file;
  }
  if (absl::Status written = WriteConfigFile(*path, config); !written.ok()) {
    return ctx.UsageError(absl::InvalidArgumentError(absl::StrCat(
        written.message(), "; set ", kConfigEnv, " to a file in a writable directory")));
  }
  ctx.out() << "Logged in to " << config.server << "; settings saved in " << *path << "\n";
  // The saved settings only apply where nothing overrides them.
  for (const char* variable : {kServerEnv, kCaFileEnv, kTokenFileEnv}) {
    if (auto it = ctx.env().find(variable); it != ctx.env().end() && !it->second.empty()) {
      ctx.err() << "Note: " << variable << " is set and wins over the config file.\n";
    }
  }
  return kExitOk;
}

const std::vector<FlagSpec>& LogoutFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunLogout(CommandContext& ctx) {
  if (absl::Status s = NoArguments(ctx); !s.ok()) return ctx.UsageError(s);
  absl::StatusOr<std::string> path = ConfigPathOrError(ctx.env());
  if (!path.ok()) return ctx.UsageError(path.status());
  absl::StatusOr<bool> removed = RemoveConfigFile(*path);
  if (!removed.ok()) return ctx.UsageError(removed.status());
  if (*removed) {
    ctx.out() << "Logged out: removed " << *path << "\n";
  } else {
    ctx.out() << "Not logged in: there is no " << *path << "\n";
  }
  return kExitOk;
}

}  // namespace flotilla::cli
