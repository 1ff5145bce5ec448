// The CLI's config file, written by `flotilla login` and removed by `flotilla
// logout`: where the manager is and the credentials to call it, so that later
// commands need no flags. It holds an API token, so it is created 0600 (its
// directory 0700 when created) and a file that group or others may access is
// refused, as ssh refuses a private key with such a mode.
//
// Format (YAML, one mapping; `ca-data` instead of `ca-file` inlines the PEM):
//   server: manager.example.com:7443
//   ca-file: /home/me/.config/flotilla/ca.crt
//   token: flta.<id>.<secret>
#pragma once

#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::cli {

inline constexpr char kConfigEnv[] = "FLOTILLA_CONFIG";

// What the config file holds. Any field may be empty (not set); at most one
// of ca_file and ca_pem is set.
struct CliConfig {
  std::string server;   // HOST:PORT
  std::string ca_file;  // absolute path of the manager CA certificate (PEM)
  std::string ca_pem;   // or the certificate itself ("ca-data")
  std::string token;    // flta.<id>.<secret>

  bool operator==(const CliConfig&) const = default;
};

// Where the config file is: $FLOTILLA_CONFIG, else
// $XDG_CONFIG_HOME/flotilla/config, else $HOME/.config/flotilla/config (an
// empty variable counts as unset). "" when none of them is set.
std::string ConfigFilePath(const std::map<std::string, std::string>& env);

// The file's text: a comment line, then the set fields as YAML.
std::string ConfigFileYaml(const CliConfig& config);

// Parses ConfigFileYaml's format. InvalidArgument naming `path` (and the line
// for YAML errors) for bad YAML, a non-mapping, an unknown key, a non-string
// value, or both ca-file and ca-data.
absl::StatusOr<CliConfig> ParseConfigFile(absl::string_view text, const std::string& path);

// Reads and parses the config file at `path`: nullopt when there is none.
// InvalidArgument (a usage error) when group or others have any access to it
// (naming the file, its mode and `chmod 600 PATH`), or it cannot be read or
// parsed.
absl::StatusOr<std::optional<CliConfig>> ReadConfigFile(const std::string& path);

// Writes `config` to `path` with mode 0600: a new temporary file in the same
// directory (O_CREAT|O_EXCL, 0600), fsync, rename. Creates a missing
// directory 0700 (and missing parents with the default mode). The error names
// the path and the system's reason.
absl::Status WriteConfigFile(const std::string& path, const CliConfig& config);

// Removes the config file at `path`. Returns whether there was one; an error
// names the path and the system's reason.
absl::StatusOr<bool> RemoveConfigFile(const std::string& path);

}  // namespace flotilla::cli
