// flotilla: the operator CLI. Everything but process wiring is in cli.h.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "cli/grpc_fleet_api.h"
#include "common/clock.h"

extern char** environ;

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::map<std::string, std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string text = *entry;
    size_t eq = text.find('=');
    if (eq != std::string::npos) env.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  flotilla::common::Clock& clock = *flotilla::common::RealClock::Get();
  flotilla::cli::GrpcFleetApiFactory factory(clock);
  return flotilla::cli::RunCli(args, std::cin, std::cout, std::cerr, env, factory, clock);
}
