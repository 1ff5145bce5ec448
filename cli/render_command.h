// render DIR: what a cluster with given labels would receive from a bundle
// directory, computed offline by the same code the manager runs (scan,
// targeting, option merge, rendering). Flotilla's `fleet test`.
#pragma once

#include <vector>

#include "cli/args.h"
#include "cli/command_context.h"

namespace flotilla::cli {

const std::vector<FlagSpec>& RenderFlags();
int RunRender(CommandContext& ctx);

}  // namespace flotilla::cli
