// Commands that operate a running fleet: pause/resume, resync, cluster
// revoke, describe, and the audit log (list and verify).
#pragma once

#include <vector>

#include "cli/args.h"
#include "cli/command_context.h"

namespace flotilla::cli {

// pause|resume gitrepo|cluster NAME...: staged deployments are not released
// while paused (OutOfSync).
const std::vector<FlagSpec>& PauseFlags();
int RunPause(CommandContext& ctx);
int RunResume(CommandContext& ctx);

// resync gitrepo NAME...: fetch and scan now, even at an unchanged commit.
const std::vector<FlagSpec>& ResyncFlags();
int RunResync(CommandContext& ctx);

// cluster revoke NAME...: refuse its certificate and close its stream.
const std::vector<FlagSpec>& ClusterFlags();
int RunCluster(CommandContext& ctx);

// describe gitrepo|bundle|cluster|clustergroup NAME: status, conditions,
// non-ready resources, per-cluster deployments, recent audit events.
const std::vector<FlagSpec>& DescribeFlags();
int RunDescribe(CommandContext& ctx);

// audit [--resource R] [--limit N] [-o FMT] | audit verify.
const std::vector<FlagSpec>& AuditFlags();
int RunAudit(CommandContext& ctx);

}  // namespace flotilla::cli
