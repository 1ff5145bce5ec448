// The commands that call the manager. Each validates its own arguments before
// connecting, prints results to out() and errors to err(), and returns an
// ExitCode (command_context.h).
#pragma once

#include <vector>

#include "cli/args.h"
#include "cli/command_context.h"

namespace flotilla::cli {

// apply -f FILE...: one ApplyGitRepo per YAML document.
const std::vector<FlagSpec>& ApplyFlags();
int RunApply(CommandContext& ctx);

// get KIND [-o table|json] [--gitrepo NAME] [--cluster NAME] [--bundle NAME].
const std::vector<FlagSpec>& GetFlags();
int RunGet(CommandContext& ctx);

// label cluster NAME KEY=VALUE... KEY-...
const std::vector<FlagSpec>& LabelFlags();
int RunLabel(CommandContext& ctx);

// token create [--ttl D] [--max-uses N] [--label K=V]... [--cluster NAME].
const std::vector<FlagSpec>& TokenFlags();
int RunToken(CommandContext& ctx);

}  // namespace flotilla::cli
