// Which manager to call and with what credentials: global flags, then
// environment variables, then defaults.
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

// The manager address alone (flag, env, default); for messages such as
// "cannot reach the manager at ...".
std::string ResolveServer(const ParsedArgs& args, const Environment& env);

// Resolves the address, reads the CA certificate and the API token. A flag
// wins over its environment variable; an empty variable counts as unset.
// InvalidArgument (a usage error) naming both the flag and the variable when a
// file is not given, cannot be read, or does not hold what it should.
absl::StatusOr<ConnectionConfig> ResolveConnection(const ParsedArgs& args, const Environment& env);

}  // namespace flotilla::cli
