// Shell completion scripts for `flotilla completion bash|zsh`, generated from
// the CLI's own command and flag tables: a new command, flag, `get` kind or
// `-o` value is completed as soon as it is in the tables.
//
// Both scripts complete command names (zsh with their summaries), each
// command's positional words (subcommands such as `secret create`, `get`
// kinds), the global flags anywhere and a command's flags after it, a flag's
// listed values (`-o`), and file names for flags whose value is a FILE or a
// PATH. Words that are not plain ([A-Za-z0-9._/:=+-]) are left out, so no
// table entry can inject shell code.
#pragma once

#include <string>
#include <vector>

#include "cli/args.h"

namespace flotilla::cli {

// One command as completion sees it.
struct CompletionCommand {
  std::string name;
  std::string summary;  // shown by zsh next to the name
  std::vector<FlagSpec> flags;
  // The words each positional argument may be, by position: arguments[0] for
  // the first (`get` KIND), arguments[1] for the second (`secret create` TYPE).
  // Positions without words complete file names.
  std::vector<std::vector<std::string>> arguments;
};

struct CompletionSpec {
  std::vector<FlagSpec> global_flags;  // accepted before and after the command
  std::vector<CompletionCommand> commands;
};

// A bash script defining _flotilla and registering it with `complete`; for
// ~/.local/share/bash-completion/completions/flotilla or `source <(...)`.
std::string BashCompletionScript(const CompletionSpec& spec);

// A zsh script (#compdef flotilla) for a directory in $fpath, named
// _flotilla, or for `source <(...)` after compinit.
std::string ZshCompletionScript(const CompletionSpec& spec);

}  // namespace flotilla::cli
