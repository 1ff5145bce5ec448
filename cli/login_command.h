// login and logout: save the manager's address and credentials in the CLI's
// config file (config_file.h) once, so that later commands need no flags, and
// remove them again.
#pragma once

#include <vector>

#include "cli/args.h"
#include "cli/command_context.h"

namespace flotilla::cli {

// login [--server HOST:PORT] [--ca-file F] (--token-file F | --token-stdin)
// [--embed-ca]: resolves the settings as every command does (flag >
// variable > config file > default), checks them with one read call
// (ListClusterGroups, which every role may make), and only then writes the
// config file. A failed check writes nothing and exits as ApiError says.
const std::vector<FlagSpec>& LoginFlags();
int RunLogin(CommandContext& ctx);

// logout: removes the config file; no file is not an error.
const std::vector<FlagSpec>& LogoutFlags();
int RunLogout(CommandContext& ctx);

}  // namespace flotilla::cli
