// The commands that call the manager. Each validates its own arguments before
// connecting, prints results to out() and errors to err(), and returns an
// ExitCode (command_context.h).
#pragma once

#include <vector>

#include "cli/args.h"
#include "cli/command_context.h"

namespace flotilla::cli {

// apply -f FILE...: one Apply per YAML document (GitRepo, ClusterGroup, Cluster, Secret).
const std::vector<FlagSpec>& ApplyFlags();
int RunApply(CommandContext& ctx);

// get KIND [-o table|json] [--gitrepo NAME] [--cluster NAME] [--bundle NAME].
const std::vector<FlagSpec>& GetFlags();
int RunGet(CommandContext& ctx);

// delete KIND NAME...: one Delete per name (gitrepo, clustergroup, secret).
const std::vector<FlagSpec>& DeleteFlags();
int RunDelete(CommandContext& ctx);

// label cluster NAME KEY=VALUE... KEY-...
const std::vector<FlagSpec>& LabelFlags();
int RunLabel(CommandContext& ctx);

// secret create basic-auth|ssh-auth|generic NAME [flags]: builds a v1 Secret
// from files, stdin and literals, and Applies it.
const std::vector<FlagSpec>& SecretFlags();
int RunSecret(CommandContext& ctx);

// token create [--ttl D] [--max-uses N] [--label K=V]... [--cluster NAME].
const std::vector<FlagSpec>& TokenFlags();
int RunToken(CommandContext& ctx);

}  // namespace flotilla::cli
