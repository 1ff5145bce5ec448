#include "agent/apply/kube/kube_config.h"

#include <cstdlib>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fs.h"
#include "common/hash.h"
#include "common/status_macros.h"
#include "common/yaml.h"

namespace flotilla::agent::kube {
namespace {

using common::Json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

std::string HostPort(const std::string& host, const std::string& port) {
  // An IPv6 address needs brackets in a URL.
  if (absl::StrContains(host, ':')) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

// The entry of a kubeconfig list (clusters, users, contexts) named `name`.
const Json* Named(const Json& config, const char* list, const std::string& name) {
  if (!config.contains(list) || !config[list].is_array()) return nullptr;
  for (const Json& entry : config[list]) {
    if (entry.is_object() && entry.value("name", Json("")) == Json(name)) return &entry;
  }
  return nullptr;
}

class KubeconfigReader {
 public:
  explicit KubeconfigReader(std::string path) : path_(std::move(path)) {
    const size_t slash = path_.rfind('/');
    dir_ = slash == std::string::npos ? "." : path_.substr(0, slash);
  }

  absl::Status Error(const std::string& field, const std::string& problem) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": ", field, ": ", problem));
  }

  absl::StatusOr<std::string> String(const Json& obj, const char* key,
                                     const std::string& where) const {
    if (!obj.contains(key) || obj[key].is_null()) return std::string();
    if (!obj[key].is_string()) return Error(absl::StrCat(where, ".", key), "must be a string");
    return obj[key].get<std::string>();
  }

  // Inline base64 data (`<key>-data`) or a file (`<key>`), relative to the
  // kubeconfig's directory.
  absl::StatusOr<std::string> DataOrFile(const Json& obj, const std::string& key,
                                         const std::string& where) const {
    const std::string data_key = key + "-data";
    ASSIGN_OR_RETURN(std::string data, String(obj, data_key.c_str(), where));
    if (!data.empty()) {
      absl::StatusOr<std::string> decoded = common::Base64Decode(data);
      if (!decoded.ok()) return Error(absl::StrCat(where, ".", data_key), "is not base64");
      return *decoded;
    }
    ASSIGN_OR_RETURN(std::string file, String(obj, key.c_str(), where));
    if (file.empty()) return std::string();
    return ReadRelative(file, absl::StrCat(where, ".", key));
  }

  absl::StatusOr<std::string> ReadRelative(const std::string& file,
                                           const std::string& field) const {
    const std::string full = absl::StartsWith(file, "/") ? file : absl::StrCat(dir_, "/", file);
    absl::StatusOr<std::string> text = common::ReadFile(full);
    if (!text.ok()) return Error(field, std::string(text.status().message()));
    return *text;
  }

  std::string Absolute(const std::string& file) const {
    return absl::StartsWith(file, "/") ? file : absl::StrCat(dir_, "/", file);
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string dir_;
};

absl::StatusOr<ExecPlugin> ReadExec(const KubeconfigReader& r, const Json& exec,
                                    const std::string& where) {
  if (!exec.is_object()) return r.Error(where, "must be a map");
  ExecPlugin plugin;
  ASSIGN_OR_RETURN(plugin.command, r.String(exec, "command", where));
  if (plugin.command.empty()) return r.Error(where + ".command", "is required");
  // client-go runs a command with a slash relative to the kubeconfig's
  // directory and looks a bare name up on PATH.
  if (absl::StrContains(plugin.command, '/')) plugin.command = r.Absolute(plugin.command);
  ASSIGN_OR_RETURN(plugin.api_version, r.String(exec, "apiVersion", where));
  if (plugin.api_version != "client.authentication.k8s.io/v1" &&
      plugin.api_version != "client.authentication.k8s.io/v1beta1") {
    return r.Error(where + ".apiVersion",
                   absl::StrCat("\"", plugin.api_version,
                                "\" is not client.authentication.k8s.io/v1 or v1beta1"));
  }
  ASSIGN_OR_RETURN(plugin.interactive_mode, r.String(exec, "interactiveMode", where));
  if (!plugin.interactive_mode.empty() && plugin.interactive_mode != "Never" &&
      plugin.interactive_mode != "IfAvailable" && plugin.interactive_mode != "Always") {
    return r.Error(
        where + ".interactiveMode",
        absl::StrCat("\"", plugin.interactive_mode, "\" is not Never, IfAvailable or Always"));
  }
  ASSIGN_OR_RETURN(plugin.install_hint, r.String(exec, "installHint", where));
  if (exec.contains("provideClusterInfo") && !exec["provideClusterInfo"].is_null()) {
    if (!exec["provideClusterInfo"].is_boolean()) {
      return r.Error(where + ".provideClusterInfo", "must be true or false");
    }
    plugin.provide_cluster_info = exec["provideClusterInfo"].get<bool>();
  }
  if (exec.contains("args") && !exec["args"].is_null()) {
    if (!exec["args"].is_array()) return r.Error(where + ".args", "must be a list of strings");
    for (const Json& a : exec["args"]) {
      if (!a.is_string()) return r.Error(where + ".args", "must be a list of strings");
      plugin.args.push_back(a.get<std::string>());
    }
  }
  if (exec.contains("env") && !exec["env"].is_null()) {
    if (!exec["env"].is_array()) return r.Error(where + ".env", "must be a list of {name, value}");
    for (const Json& e : exec["env"]) {
      if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !e.contains("value") ||
          !e["value"].is_string()) {
        return r.Error(where + ".env", "must be a list of {name, value}");
      }
      plugin.env.emplace_back(e["name"].get<std::string>(), e["value"].get<std::string>());
    }
  }
  return plugin;
}

}  // namespace

absl::StatusOr<KubeConfig> InClusterConfig(const std::string& root) {
  const std::string host = Env("KUBERNETES_SERVICE_HOST");
  const std::string port = Env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return absl::FailedPreconditionError(
        "not running in a Kubernetes pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT "
        "are not set (outside a cluster, use --target kube:KUBECONFIG)");
  }
  KubeConfig config;
  config.source = "in-cluster service account";
  config.server = absl::StrCat("https://", HostPort(host, port));
  config.token_file = root + "/token";
  absl::StatusOr<std::string> token = common::ReadFile(config.token_file);
  if (!token.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("in-cluster service account token: ", token.status().message(),
                     " (is automountServiceAccountToken disabled for the agent's pod?)"));
  }
  absl::StatusOr<std::string> ca = common::ReadFile(root + "/ca.crt");
  if (!ca.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("in-cluster CA certificate: ", ca.status().message()));
  }
  config.ca_pem = *ca;
  absl::StatusOr<std::string> ns = common::ReadFile(root + "/namespace");
  config.default_namespace =
      ns.ok() ? std::string(absl::StripAsciiWhitespace(*ns)) : std::string("default");
  return config;
}

absl::StatusOr<KubeConfig> LoadKubeconfig(const std::string& path, const std::string& context) {
  KubeconfigReader r(path);
  ASSIGN_OR_RETURN(std::string text, common::ReadFile(path));
  absl::StatusOr<Json> parsed = common::ParseYaml(text, path);
  if (!parsed.ok()) return absl::InvalidArgumentError(parsed.status().message());
  const Json& config = *parsed;
  if (!config.is_object()) return r.Error("kubeconfig", "is not a map");

  std::string context_name = context;
  if (context_name.empty()) {
    ASSIGN_OR_RETURN(context_name, r.String(config, "current-context", "kubeconfig"));
    if (context_name.empty()) {
      return r.Error("current-context", "is not set (choose a context explicitly)");
    }
  }
  const Json* ctx = Named(config, "contexts", context_name);
  if (ctx == nullptr || !ctx->contains("context") || !(*ctx)["context"].is_object()) {
    return r.Error("contexts", absl::StrCat("no context named \"", context_name, "\""));
  }
  const Json& c = (*ctx)["context"];
  const std::string where_ctx = absl::StrCat("contexts[", context_name, "]");
  ASSIGN_OR_RETURN(std::string cluster_name, r.String(c, "cluster", where_ctx));
  ASSIGN_OR_RETURN(std::string user_name, r.String(c, "user", where_ctx));
  KubeConfig out;
  out.source = absl::StrCat(path, " (context ", context_name, ")");
  ASSIGN_OR_RETURN(out.default_namespace, r.String(c, "namespace", where_ctx));
  if (out.default_namespace.empty()) out.default_namespace = "default";

  const Json* cluster_entry = Named(config, "clusters", cluster_name);
  if (cluster_entry == nullptr || !cluster_entry->contains("cluster") ||
      !(*cluster_entry)["cluster"].is_object()) {
    return r.Error(where_ctx + ".cluster", absl::StrCat("no cluster named \"", cluster_name, "\""));
  }
  const Json& cluster = (*cluster_entry)["cluster"];
  const std::string where_cluster = absl::StrCat("clusters[", cluster_name, "]");
  ASSIGN_OR_RETURN(out.server, r.String(cluster, "server", where_cluster));
  while (absl::EndsWith(out.server, "/")) out.server.pop_back();
  if (!absl::StartsWith(out.server, "https://") && !absl::StartsWith(out.server, "http://")) {
    return r.Error(where_cluster + ".server",
                   absl::StrCat("\"", out.server, "\" is not an http(s) URL"));
  }
  ASSIGN_OR_RETURN(out.ca_pem, r.DataOrFile(cluster, "certificate-authority", where_cluster));
  if (cluster.contains("insecure-skip-tls-verify")) {
    if (!cluster["insecure-skip-tls-verify"].is_boolean()) {
      return r.Error(where_cluster + ".insecure-skip-tls-verify", "must be true or false");
    }
    out.insecure_skip_tls_verify = cluster["insecure-skip-tls-verify"].get<bool>();
  }

  if (!user_name.empty()) {
    const Json* user_entry = Named(config, "users", user_name);
    if (user_entry == nullptr) {
      return r.Error(where_ctx + ".user", absl::StrCat("no user named \"", user_name, "\""));
    }
    const Json user = user_entry->value("user", Json::object());
    if (!user.is_object()) return r.Error(absl::StrCat("users[", user_name, "]"), "not a map");
    const std::string where_user = absl::StrCat("users[", user_name, "]");
    ASSIGN_OR_RETURN(out.token, r.String(user, "token", where_user));
    ASSIGN_OR_RETURN(std::string token_file, r.String(user, "tokenFile", where_user));
    if (!token_file.empty()) {
      out.token_file = r.Absolute(token_file);
      ASSIGN_OR_RETURN(out.token, r.ReadRelative(token_file, where_user + ".tokenFile"));
    }
    ASSIGN_OR_RETURN(out.client_cert_pem, r.DataOrFile(user, "client-certificate", where_user));
    ASSIGN_OR_RETURN(out.client_key_pem, r.DataOrFile(user, "client-key", where_user));
    if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
      return r.Error(where_user, "client-certificate and client-key must be given together");
    }
    if (user.contains("exec") && !user["exec"].is_null()) {
      ASSIGN_OR_RETURN(out.exec, ReadExec(r, user["exec"], where_user + ".exec"));
    }
    ASSIGN_OR_RETURN(std::string as_user, r.String(user, "as", where_user));
    ASSIGN_OR_RETURN(std::string as_uid, r.String(user, "as-uid", where_user));
    std::vector<std::string> as_groups;
    if (user.contains("as-groups") && !user["as-groups"].is_null()) {
      if (!user["as-groups"].is_array()) {
        return r.Error(where_user + ".as-groups", "must be a list of strings");
      }
      for (const Json& g : user["as-groups"]) {
        if (!g.is_string()) return r.Error(where_user + ".as-groups", "must be a list of strings");
        as_groups.push_back(g.get<std::string>());
      }
    }
    if (!as_user.empty()) {
      out.impersonate = Impersonation{as_user, as_uid, std::move(as_groups)};
    } else if (!as_uid.empty() || !as_groups.empty()) {
      // The API server refuses groups or a uid without a user to impersonate.
      return r.Error(where_user, "as-groups and as-uid need `as` (the user to impersonate)");
    }
    // Acting as someone other than the kubeconfig says would be worse than
    // refusing.
    if (user.contains("as-user-extra") && !user["as-user-extra"].is_null()) {
      return r.Error(where_user + ".as-user-extra",
                     "is not supported (only as, as-uid and as-groups are)");
    }
    for (const char* unsupported : {"auth-provider", "username", "password"}) {
      if (user.contains(unsupported) && !user[unsupported].is_null()) {
        return r.Error(absl::StrCat(where_user, ".", unsupported),
                       "is not supported (use a token, a client certificate or an exec plugin)");
      }
    }
  }
  return out;
}

Impersonation ServiceAccountUser(const std::string& ns, const std::string& name) {
  return Impersonation{absl::StrCat("system:serviceaccount:", ns, ":", name), "", {}};
}

}  // namespace flotilla::agent::kube
