#include "cli/config_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/fs.h"
#include "common/yaml.h"

namespace flotilla::cli {
namespace {

constexpr char kServerKey[] = "server";
constexpr char kCaFileKey[] = "ca-file";
constexpr char kCaDataKey[] = "ca-data";
constexpr char kTokenKey[] = "token";

std::string EnvValue(const std::map<std::string, std::string>& env, const std::string& name) {
  auto it = env.find(name);
  return it == env.end() ? "" : it->second;
}

absl::Status SystemError(absl::string_view what, const std::string& path, int error) {
  return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": ", std::strerror(error)));
}

}  // namespace

std::string ConfigFilePath(const std::map<std::string, std::string>& env) {
  if (std::string path = EnvValue(env, kConfigEnv); !path.empty()) return path;
  if (std::string xdg = EnvValue(env, "XDG_CONFIG_HOME"); !xdg.empty()) {
    return absl::StrCat(xdg, "/flotilla/config");
  }
  if (std::string home = EnvValue(env, "HOME"); !home.empty()) {
    return absl::StrCat(home, "/.config/flotilla/config");
  }
  return "";
}

std::string ConfigFileYaml(const CliConfig& config) {
  common::Json json = common::Json::object();
  if (!config.server.empty()) json[kServerKey] = config.server;
  if (!config.ca_file.empty()) json[kCaFileKey] = config.ca_file;
  if (!config.ca_pem.empty()) json[kCaDataKey] = config.ca_pem;
  if (!config.token.empty()) json[kTokenKey] = config.token;
  return absl::StrCat(
      "# flotilla CLI settings, written by `flotilla login`. It holds an API token: keep it\n"
      "# mode 0600 (flotilla refuses it otherwise); `flotilla logout` removes it.\n",
      common::ToYaml(json));
}

absl::StatusOr<CliConfig> ParseConfigFile(absl::string_view text, const std::string& path) {
  absl::StatusOr<common::Json> json = common::ParseYaml(text, path);
  if (!json.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", json.status().message(),
                                                   "; fix it or run 'flotilla login' again"));
  }
  CliConfig config;
  if (json->is_null()) return config;
  if (!json->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path,
                     " is not a mapping: want the keys server, ca-file (or ca-data) and token"));
  }
  for (const auto& [key, value] : json->items()) {
    std::string* field = key == kServerKey   ? &config.server
                         : key == kCaFileKey ? &config.ca_file
                         : key == kCaDataKey ? &config.ca_pem
                         : key == kTokenKey  ? &config.token
                                             : nullptr;
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config file ", path, ": unknown key \"", key,
          "\" (known: server, ca-file, ca-data, token); fix it or run 'flotilla login' again"));
    }
    if (!value.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config file ", path, ": \"", key, "\" must be a string (quote it)"));
    }
    *field = value.get<std::string>();
  }
  if (!config.ca_file.empty() && !config.ca_pem.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, ": give ca-file or ca-data, not both"));
  }
  // A hand-written relative ca-file is relative to the config file, as in a kubeconfig.
  if (!config.ca_file.empty() && std::filesystem::path(config.ca_file).is_relative()) {
    config.ca_file = (std::filesystem::path(path).parent_path() / config.ca_file).string();
  }
  return config;
}

absl::StatusOr<std::optional<CliConfig>> ReadConfigFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::nullopt;
    return SystemError("cannot read config file", path, errno);
  }
  // The checks and the read go through one descriptor: the file checked is
  // the file read.
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    int error = errno;
    ::close(fd);
    return SystemError("cannot read config file", path, error);
  }
  if (!S_ISREG(info.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("config file ", path,
                                                   " is not a regular file; remove it or set ",
                                                   kConfigEnv, " to another path"));
  }
  if ((info.st_mode & 077) != 0) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrFormat(
        "config file %s may be read by group or others (mode %04o) and it holds an API token; "
        "run: chmod 600 %s",
        path, info.st_mode & 07777, path));
  }
  std::string text;
  char buffer[8192];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int error = errno;
      ::close(fd);
      return SystemError("cannot read config file", path, error);
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  absl::StatusOr<CliConfig> config = ParseConfigFile(text, path);
  if (!config.ok()) return config.status();
  return std::optional<CliConfig>(*std::move(config));
}

absl::Status WriteConfigFile(const std::string& path, const CliConfig& config) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) {
    if (dir.has_parent_path()) std::filesystem::create_directories(dir.parent_path(), error);
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return SystemError("cannot create directory", dir.string(), errno);
    }
  }
  absl::Status written = common::WriteFileAtomic(path, ConfigFileYaml(config), 0600);
  if (!written.ok()) return absl::InvalidArgumentError(written.message());
  return absl::OkStatus();
}

absl::StatusOr<bool> RemoveConfigFile(const std::string& path) {
  if (std::remove(path.c_str()) == 0) return true;
  if (errno == ENOENT) return false;
  return SystemError("cannot remove config file", path, errno);
}

}  // namespace flotilla::cli
