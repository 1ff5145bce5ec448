#include "cli/connection.h"

#include <optional>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/documents.h"

namespace flotilla::cli {
namespace {

// A setting and where it came from, for error messages.
struct Setting {
  std::string value;
  std::string source;  // "--ca-file" or "FLOTILLA_CA_FILE"; "" for the default
};

std::optional<Setting> Lookup(const ParsedArgs& args, const Environment& env,
                              const std::string& flag, const std::string& env_name) {
  if (std::optional<std::string> v = args.Value(flag); v.has_value()) {
    return Setting{*v, absl::StrCat("--", flag)};
  }
  if (auto it = env.find(env_name); it != env.end() && !it->second.empty()) {
    return Setting{it->second, env_name};
  }
  return std::nullopt;
}

// Reads the file a setting names; errors say which file, why, and how to set it.
absl::StatusOr<std::string> ReadSettingFile(const std::optional<Setting>& setting,
                                            const std::string& what, const std::string& flag,
                                            const std::string& env_name) {
  std::string how = absl::StrCat("pass --", flag, " PATH or set ", env_name);
  if (!setting.has_value() || setting->value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no ", what, " given: ", how));
  }
  std::istringstream no_stdin;
  absl::StatusOr<std::string> text = ReadInput(setting->value, no_stdin);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " (from ", setting->source, "): ", text.status().message(), "; ", how));
  }
  return text;
}

// flta.<id>.<secret>, printable ASCII only (it travels as an HTTP/2 header).
bool LooksLikeApiToken(absl::string_view token) {
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0] != "flta" || parts[1].empty() || parts[2].empty()) {
    return false;
  }
  for (char c : token) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

}  // namespace

const std::vector<FlagSpec>& ConnectionFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {kServerFlag, '\0', true, "HOST:PORT",
       absl::StrCat("manager API address (env ", kServerEnv, ", default ", kDefaultServer, ")")},
      {kTokenFileFlag, '\0', true, "PATH",
       absl::StrCat("file holding an API token flta.<id>.<secret> (env ", kTokenFileEnv, ")")},
      {kCaFileFlag, '\0', true, "PATH",
       absl::StrCat("the manager CA certificate, PEM (env ", kCaFileEnv, ")")},
  };
  return *flags;
}

std::string ResolveServer(const ParsedArgs& args, const Environment& env) {
  std::optional<Setting> server = Lookup(args, env, kServerFlag, kServerEnv);
  return server.has_value() ? server->value : kDefaultServer;
}

absl::StatusOr<ConnectionConfig> ResolveConnection(const ParsedArgs& args, const Environment& env) {
  ConnectionConfig config;
  std::optional<Setting> server = Lookup(args, env, kServerFlag, kServerEnv);
  if (server.has_value() && server->value.empty()) {
    return absl::InvalidArgumentError("--server is empty: want HOST:PORT");
  }
  config.server = server.has_value() ? server->value : kDefaultServer;

  std::optional<Setting> ca_file = Lookup(args, env, kCaFileFlag, kCaFileEnv);
  absl::StatusOr<std::string> ca =
      ReadSettingFile(ca_file, "CA certificate file", kCaFileFlag, kCaFileEnv);
  if (!ca.ok()) return ca.status();
  if (!absl::StrContains(*ca, "-----BEGIN CERTIFICATE-----")) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA certificate file ", ca_file->value, " (from ", ca_file->source,
                     ") holds no PEM certificate; pass --", kCaFileFlag, " PATH or set ",
                     kCaFileEnv, " to the manager CA certificate"));
  }
  config.ca_pem = *std::move(ca);

  std::optional<Setting> token_file = Lookup(args, env, kTokenFileFlag, kTokenFileEnv);
  absl::StatusOr<std::string> token =
      ReadSettingFile(token_file, "API token file", kTokenFileFlag, kTokenFileEnv);
  if (!token.ok()) return token.status();
  config.token = std::string(absl::StripAsciiWhitespace(*token));
  if (!LooksLikeApiToken(config.token)) {
    return absl::InvalidArgumentError(
        absl::StrCat("API token file ", token_file->value, " (from ", token_file->source,
                     ") does not hold a token of the form flta.<id>.<secret>; pass --",
                     kTokenFileFlag, " PATH or set ", kTokenFileEnv));
  }
  return config;
}

}  // namespace flotilla::cli
