// Command-line flag parsing, kubectl style: flags and positional arguments may
// be interleaved, the last occurrence of a flag wins, and a repeatable flag
// keeps every value.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace flotilla::cli {

// One flag a command accepts. It is written --name VALUE or --name=VALUE and,
// when short_name is set, also -s VALUE, -s=VALUE or -sVALUE. A flag without a
// value (takes_value false) is a switch such as --help.
struct FlagSpec {
  std::string name;  // long name, without "--"
  char short_name = '\0';
  bool takes_value = true;
  std::string value_name;  // shown in help: "PATH", "DURATION"
  std::string help;
  // The values shell completion offers (`-o`: table, json, ...); when empty, a
  // value_name ending in FILE or PATH completes file names, DIR directories.
  std::vector<std::string> completions;
};

// The flags and positional arguments found on a command line, in order.
class ParsedArgs {
 public:
  bool Has(absl::string_view name) const;
  // The last value given for `name`, or nullopt when it was not given.
  std::optional<std::string> Value(absl::string_view name) const;
  // Every value given for `name`, in order (for repeatable flags).
  std::vector<std::string> Values(absl::string_view name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  // How many arguments were read (less than all when parsing stopped at the
  // first positional).
  size_t consumed() const { return consumed_; }

  // Puts the flags of `earlier` (given before these) in front, so that flags
  // given later still win.
  void PrependFlags(const ParsedArgs& earlier);

 private:
  friend absl::StatusOr<ParsedArgs> ParseFlags(absl::Span<const std::string> args,
                                               absl::Span<const FlagSpec> specs,
                                               bool stop_at_first_positional);
  std::vector<std::pair<std::string, std::string>> flags_;  // (long name, value)
  std::vector<std::string> positionals_;
  size_t consumed_ = 0;
};

// Parses `args` against `specs`. "--" ends the flags; "-" alone is a
// positional (stdin). With stop_at_first_positional, parsing stops before the
// first positional (the command name), which is not consumed.
// Errors are InvalidArgument naming the flag: unknown flag, missing value,
// value given to a switch.
absl::StatusOr<ParsedArgs> ParseFlags(absl::Span<const std::string> args,
                                      absl::Span<const FlagSpec> specs,
                                      bool stop_at_first_positional = false);

}  // namespace flotilla::cli
