// Which manager to call and with what credentials: global flags, then
// environment variables, then the config file `flotilla login` writes
// (config_file.h), then defaults.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "cli/fleet_api.h"

namespace flotilla::cli {

// The process environment as RunCli sees it (name -> value).
using Environment = std::map<std::string, std::string>;

inline constexpr char kServerFlag[] = "server";
inline constexpr char kTokenFileFlag[] = "token-file";
inline constexpr char kCaFileFlag[] = "ca-file";
inline constexpr char kServerEnv[] = "FLOTILLA_SERVER";
inline constexpr char kTokenFileEnv[] = "FLOTILLA_TOKEN_FILE";
inline constexpr char kCaFileEnv[] = "FLOTILLA_CA_FILE";
inline constexpr char kDefaultServer[] = "127.0.0.1:7443";

// --server, --token-file, --ca-file: accepted before and after the command.
const std::vector<FlagSpec>& ConnectionFlags();

// A connection with the files read, and where its parts came from.
struct ResolvedConnection {
  ConnectionConfig config;
  // The CA certificate file, absolute; "" when the config file inlines the PEM.
  std::string ca_file;
  // Where to look when the manager rejects the token, e.g.
  // "--token-file / FLOTILLA_TOKEN_FILE" or "the config file PATH".
  std::string token_source;
};

// The manager address alone (flag, env, config file, default); for messages
// such as "cannot reach the manager at ...". An unreadable config file is
// skipped here.
std::string ResolveServer(const ParsedArgs& args, const Environment& env);

// Resolves the address, reads the CA certificate and the API token. Each
// setting comes from its flag, else its environment variable (empty counts as
// unset), else the config file, else the default (server only). The config
// file is read only when a setting is not given by flag or variable.
// InvalidArgument (a usage error) naming the flag, the variable and `flotilla
// login` when a setting is missing, or naming the file and the fix when a
// file cannot be read or does not hold what it should, or when the config
// file may be read by others.
absl::StatusOr<ResolvedConnection> ResolveConnection(const ParsedArgs& args,
                                                     const Environment& env);

// As ResolveConnection, but the API token is `token` (read from stdin by
// `login --token-stdin`); `token_source` names it in messages.
absl::StatusOr<ResolvedConnection> ResolveConnectionWithToken(const ParsedArgs& args,
                                                              const Environment& env,
                                                              const std::string& token,
                                                              const std::string& token_source);

}  // namespace flotilla::cli
