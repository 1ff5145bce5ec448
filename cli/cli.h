// The `flotilla` operator CLI as a library: main.cc only hands it the process
// arguments, streams and environment; tests hand it fakes.
#pragma once

#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "cli/command_context.h"
#include "cli/fleet_api.h"
#include "common/clock.h"

namespace flotilla::cli {

// Runs one command line. `args` excludes the program name (argv[1..]). Output
// goes to `out`, errors and hints to `err`; `in` is read by `apply -f -`. `env`
// supplies FLOTILLA_SERVER, FLOTILLA_TOKEN_FILE, FLOTILLA_CA_FILE and where the
// config file is (FLOTILLA_CONFIG, XDG_CONFIG_HOME, HOME). `factory` is asked
// for the manager's API only once a command's arguments are valid; `clock`
// dates ages such as LAST-SEEN. Returns an ExitCode: 0 success, 1 the manager
// refused or failed the request, 2 usage error, 3 manager unreachable, 4 not
// authorized (UNAUTHENTICATED, PERMISSION_DENIED).
int RunCli(const std::vector<std::string>& args, std::istream& in, std::ostream& out,
           std::ostream& err, const std::map<std::string, std::string>& env,
           FleetApiFactory& factory, const common::Clock& clock);

// The text of `flotilla --help`.
std::string GeneralHelp();

}  // namespace flotilla::cli
