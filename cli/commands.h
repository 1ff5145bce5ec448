// The commands that call the manager, and agent-manifest, which does not.
// Each validates its own arguments before connecting, prints results to out()
// and errors to err(), and returns an ExitCode (command_context.h).
#pragma once

#include <vector>

#include "cli/args.h"
#include "cli/command_context.h"

namespace flotilla::cli {

// apply -f FILE...: one Apply per YAML document (GitRepo, ClusterGroup, Cluster, Secret).
const std::vector<FlagSpec>& ApplyFlags();
int RunApply(CommandContext& ctx);

// get KIND [-o table|wide|json|yaml] [--gitrepo NAME] [--cluster NAME] [--bundle NAME].
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

// agent-manifest --token T --manager HOST:PORT [--name N] [--label K=V]...
// [--ca-file F | --ca-pin sha256:H] [--image IMG] [--namespace NS], or
// --template: prints the agent's Kubernetes install (agent_manifest.h).
// Offline: reads the CA file (--ca-file or FLOTILLA_CA_FILE) and nothing else.
const std::vector<FlagSpec>& AgentManifestFlags();
int RunAgentManifest(CommandContext& ctx);

}  // namespace flotilla::cli
