#include "cli/connection.h"

#include <filesystem>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/config_file.h"
#include "cli/documents.h"

namespace flotilla::cli {
namespace {

constexpr char kLoginHint[] = "run 'flotilla login'";

// A setting and where it came from, for error messages.
struct Setting {
  std::string value;
  std::string source;  // "--ca-file" or "FLOTILLA_CA_FILE"
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

// The config file, read the first time a setting falls through to it.
class ConfigLoader {
 public:
  explicit ConfigLoader(const Environment& env) : path_(ConfigFilePath(env)) {}

  // The file's settings; nullptr when there is no file (or no place for one).
  absl::StatusOr<const CliConfig*> Get() {
    if (!loaded_) {
      loaded_ = true;
      if (!path_.empty()) {
        absl::StatusOr<std::optional<CliConfig>> read = ReadConfigFile(path_);
        if (read.ok()) {
          config_ = *std::move(read);
        } else {
          status_ = read.status();
        }
      }
    }
    if (!status_.ok()) return status_;
    return config_.has_value() ? &*config_ : nullptr;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool loaded_ = false;
  absl::Status status_;
  std::optional<CliConfig> config_;
};

// Reads the file a setting names; errors say which file, why, and how to set it.
absl::StatusOr<std::string> ReadSettingFile(const Setting& setting, const std::string& what,
                                            const std::string& flag, const std::string& env_name) {
  std::string how = absl::StrCat("pass --", flag, " PATH or set ", env_name);
  if (setting.value.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(setting.source, " is empty: ", how));
  }
  std::istringstream no_stdin;
  absl::StatusOr<std::string> text = ReadInput(setting.value, no_stdin);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " (from ", setting.source, "): ", text.status().message(), "; ", how));
  }
  return text;
}

absl::Status NotGiven(const std::string& what, const std::string& flag,
                      const std::string& env_name) {
  return absl::InvalidArgumentError(absl::StrCat("no ", what, " given: pass --", flag,
                                                 " PATH, set ", env_name, " or ", kLoginHint));
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

bool HoldsPemCertificate(absl::string_view text) {
  return absl::StrContains(text, "-----BEGIN CERTIFICATE-----");
}

std::string AbsolutePath(const std::string& path) {
  std::error_code ignored;
  std::filesystem::path absolute = std::filesystem::absolute(path, ignored);
  return absolute.empty() ? path : absolute.lexically_normal().string();
}

absl::StatusOr<std::string> ResolveServerSetting(const ParsedArgs& args, const Environment& env,
                                                 ConfigLoader& loader) {
  if (std::optional<Setting> server = Lookup(args, env, kServerFlag, kServerEnv);
      server.has_value()) {
    if (server->value.empty()) {
      return absl::InvalidArgumentError("--server is empty: want HOST:PORT");
    }
    return server->value;
  }
  absl::StatusOr<const CliConfig*> config = loader.Get();
  if (!config.ok()) return config.status();
  if (*config != nullptr && !(*config)->server.empty()) return (*config)->server;
  return std::string(kDefaultServer);
}

// Fills ca_pem and ca_file.
absl::Status ResolveCa(const ParsedArgs& args, const Environment& env, ConfigLoader& loader,
                       ResolvedConnection& resolved) {
  const std::string what = "CA certificate file";
  if (std::optional<Setting> ca_file = Lookup(args, env, kCaFileFlag, kCaFileEnv);
      ca_file.has_value()) {
    absl::StatusOr<std::string> ca = ReadSettingFile(*ca_file, what, kCaFileFlag, kCaFileEnv);
    if (!ca.ok()) return ca.status();
    if (!HoldsPemCertificate(*ca)) {
      return absl::InvalidArgumentError(
          absl::StrCat("CA certificate file ", ca_file->value, " (from ", ca_file->source,
                       ") holds no PEM certificate; pass --", kCaFileFlag, " PATH or set ",
                       kCaFileEnv, " to the manager CA certificate"));
    }
    resolved.config.ca_pem = *std::move(ca);
    resolved.ca_file = AbsolutePath(ca_file->value);
    return absl::OkStatus();
  }
  absl::StatusOr<const CliConfig*> config = loader.Get();
  if (!config.ok()) return config.status();
  if (*config == nullptr || ((*config)->ca_file.empty() && (*config)->ca_pem.empty())) {
    return NotGiven(what, kCaFileFlag, kCaFileEnv);
  }
  const std::string fix =
      absl::StrCat("fix the config file ", loader.path(), " or ", kLoginHint, " again");
  if (!(*config)->ca_pem.empty()) {
    if (!HoldsPemCertificate((*config)->ca_pem)) {
      return absl::InvalidArgumentError(absl::StrCat("ca-data in the config file ", loader.path(),
                                                     " holds no PEM certificate; ", fix));
    }
    resolved.config.ca_pem = (*config)->ca_pem;
    return absl::OkStatus();
  }
  const std::string& path = (*config)->ca_file;
  std::istringstream no_stdin;
  absl::StatusOr<std::string> ca = ReadInput(path, no_stdin);
  if (!ca.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " (from the config file ", loader.path(),
                                                   "): ", ca.status().message(), "; ", fix));
  }
  if (!HoldsPemCertificate(*ca)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, " (from the config file ",
                                                   loader.path(), ") holds no PEM certificate; ",
                                                   fix));
  }
  resolved.config.ca_pem = *std::move(ca);
  resolved.ca_file = AbsolutePath(path);
  return absl::OkStatus();
}

// Fills token and token_source.
absl::Status ResolveToken(const ParsedArgs& args, const Environment& env, ConfigLoader& loader,
                          ResolvedConnection& resolved) {
  const std::string what = "API token file";
  if (std::optional<Setting> token_file = Lookup(args, env, kTokenFileFlag, kTokenFileEnv);
      token_file.has_value()) {
    absl::StatusOr<std::string> token =
        ReadSettingFile(*token_file, what, kTokenFileFlag, kTokenFileEnv);
    if (!token.ok()) return token.status();
    resolved.config.token = std::string(absl::StripAsciiWhitespace(*token));
    if (!LooksLikeApiToken(resolved.config.token)) {
      return absl::InvalidArgumentError(
          absl::StrCat("API token file ", token_file->value, " (from ", token_file->source,
                       ") does not hold a token of the form flta.<id>.<secret>; pass --",
                       kTokenFileFlag, " PATH or set ", kTokenFileEnv));
    }
    resolved.token_source = absl::StrCat("--", kTokenFileFlag, " / ", kTokenFileEnv);
    return absl::OkStatus();
  }
  absl::StatusOr<const CliConfig*> config = loader.Get();
  if (!config.ok()) return config.status();
  if (*config == nullptr || (*config)->token.empty()) {
    return NotGiven(what, kTokenFileFlag, kTokenFileEnv);
  }
  resolved.config.token = std::string(absl::StripAsciiWhitespace((*config)->token));
  if (!LooksLikeApiToken(resolved.config.token)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token in the config file ", loader.path(),
                     " is not of the form flta.<id>.<secret>; fix it or ", kLoginHint, " again"));
  }
  resolved.token_source = absl::StrCat("the config file ", loader.path());
  return absl::OkStatus();
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
  ConfigLoader loader(env);
  absl::StatusOr<std::string> server = ResolveServerSetting(args, env, loader);
  if (server.ok()) return *server;
  std::optional<Setting> given = Lookup(args, env, kServerFlag, kServerEnv);
  return given.has_value() ? given->value : kDefaultServer;
}

absl::StatusOr<ResolvedConnection> ResolveConnection(const ParsedArgs& args,
                                                     const Environment& env) {
  ConfigLoader loader(env);
  ResolvedConnection resolved;
  absl::StatusOr<std::string> server = ResolveServerSetting(args, env, loader);
  if (!server.ok()) return server.status();
  resolved.config.server = *std::move(server);
  if (absl::Status ca = ResolveCa(args, env, loader, resolved); !ca.ok()) return ca;
  if (absl::Status token = ResolveToken(args, env, loader, resolved); !token.ok()) return token;
  return resolved;
}

absl::StatusOr<ResolvedConnection> ResolveConnectionWithToken(const ParsedArgs& args,
                                                              const Environment& env,
                                                              const std::string& token,
                                                              const std::string& token_source) {
  ConfigLoader loader(env);
  ResolvedConnection resolved;
  absl::StatusOr<std::string> server = ResolveServerSetting(args, env, loader);
  if (!server.ok()) return server.status();
  resolved.config.server = *std::move(server);
  if (absl::Status ca = ResolveCa(args, env, loader, resolved); !ca.ok()) return ca;
  resolved.config.token = std::string(absl::StripAsciiWhitespace(token));
  if (!LooksLikeApiToken(resolved.config.token)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the token from ", token_source, " is not of the form flta.<id>.<secret>"));
  }
  resolved.token_source = token_source;
  return resolved;
}

}  // namespace flotilla::cli
