#include "agent/apply/kube/exec_credential.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/subprocess.h"
#include "common/yaml.h"

extern char** environ;

namespace flotilla::agent::kube {
namespace {

using common::Json;

constexpr size_t kMaxStderr = size_t{64} << 10;
constexpr int kStderrLinesInErrors = 5;
constexpr char kKind[] = "ExecCredential";

std::string Prefix(const ExecPlugin& plugin) {
  return absl::StrCat("exec credential plugin ", plugin.command, ": ");
}

// The first lines of a plugin's stderr, for an error message.
std::string StderrHead(const std::string& err) {
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(err, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    if (lines.size() == kStderrLinesInErrors) {
      lines.push_back("...");
      break;
    }
    lines.push_back(line);
  }
  return lines.empty() ? "(no stderr)" : absl::StrJoin(lines, " | ");
}

std::vector<std::string> PluginEnvironment(const ExecPlugin& plugin,
                                           const ExecClusterInfo& cluster) {
  // The agent's environment, then the plugin's entries and
  // KUBERNETES_EXEC_INFO replacing variables of the same name.
  std::set<std::string> replaced = {"KUBERNETES_EXEC_INFO"};
  for (const auto& [name, value] : plugin.env) replaced.insert(name);
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    absl::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq != absl::string_view::npos && replaced.count(std::string(entry.substr(0, eq))) > 0) {
      continue;
    }
    env.emplace_back(entry);
  }
  for (const auto& [name, value] : plugin.env) env.push_back(absl::StrCat(name, "=", value));
  env.push_back(absl::StrCat("KUBERNETES_EXEC_INFO=", ExecCredentialRequest(plugin, cluster)));
  return env;
}

}  // namespace

std::string ExecCredentialRequest(const ExecPlugin& plugin, const ExecClusterInfo& cluster) {
  Json spec = {{"interactive", false}};
  if (plugin.provide_cluster_info) {
    Json c = {{"server", cluster.server}};
    // []byte fields are base64 in JSON.
    if (!cluster.ca_pem.empty()) {
      c["certificate-authority-data"] = common::Base64Encode(cluster.ca_pem);
    }
    if (cluster.insecure_skip_tls_verify) c["insecure-skip-tls-verify"] = true;
    spec["cluster"] = std::move(c);
  }
  return Json{{"apiVersion", plugin.api_version}, {"kind", kKind}, {"spec", std::move(spec)}}
      .dump();
}

absl::StatusOr<ExecCredential> ParseExecCredential(const ExecPlugin& plugin,
                                                   absl::string_view output) {
  auto fail = [&](const std::string& problem) {
    return absl::UnauthenticatedError(absl::StrCat(Prefix(plugin), problem));
  };
  // The output is never quoted in errors: it may hold a token.
  const Json json = Json::parse(output.begin(), output.end(), nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return fail(absl::StrCat("its output is not a JSON ExecCredential (", output.size(),
                             " bytes on stdout)"));
  }
  const std::string api_version = json.value("apiVersion", Json("")).is_string()
                                      ? json.value("apiVersion", std::string())
                                      : std::string();
  if (api_version != plugin.api_version) {
    return fail(absl::StrCat("it printed apiVersion \"", api_version, "\", configured for \"",
                             plugin.api_version, "\""));
  }
  const std::string kind =
      json.value("kind", Json("")).is_string() ? json.value("kind", std::string()) : "";
  if (kind != kKind) {
    return fail(absl::StrCat("it printed kind \"", kind, "\", not ", kKind));
  }
  if (!json.contains("status") || !json["status"].is_object()) {
    return fail("its ExecCredential has no status");
  }
  const Json& status = json["status"];
  ExecCredential cred;
  for (auto [key, field] :
       {std::pair{"token", &cred.token}, std::pair{"clientCertificateData", &cred.client_cert_pem},
        std::pair{"clientKeyData", &cred.client_key_pem}}) {
    if (!status.contains(key) || status[key].is_null()) continue;
    if (!status[key].is_string()) return fail(absl::StrCat("status.", key, " is not a string"));
    *field = status[key].get<std::string>();
  }
  if (cred.client_cert_pem.empty() != cred.client_key_pem.empty()) {
    return fail("status.clientCertificateData and status.clientKeyData must be given together");
  }
  if (cred.token.empty() && cred.client_cert_pem.empty()) {
    return fail(
        "its ExecCredential has neither status.token nor status.clientCertificateData and "
        "clientKeyData");
  }
  if (status.contains("expirationTimestamp") && !status["expirationTimestamp"].is_null()) {
    std::string error;
    if (!status["expirationTimestamp"].is_string() ||
        !absl::ParseTime(absl::RFC3339_full, status["expirationTimestamp"].get<std::string>(),
                         &cred.expiry, &error)) {
      return fail(absl::StrCat("status.expirationTimestamp is not an RFC 3339 time",
                               error.empty() ? "" : ": ", error));
    }
  }
  return cred;
}

absl::StatusOr<ExecCredential> RunExecPlugin(const ExecPlugin& plugin,
                                             const ExecClusterInfo& cluster,
                                             const ExecPluginLimits& limits) {
  if (plugin.interactive_mode == "Always") {
    return absl::InvalidArgumentError(
        absl::StrCat(Prefix(plugin),
                     "interactiveMode Always needs a terminal, and the agent never has one "
                     "(use a plugin that works with interactiveMode Never)"));
  }
  std::vector<std::string> args = {plugin.command};
  args.insert(args.end(), plugin.args.begin(), plugin.args.end());
  common::SubprocessOptions process;
  process.argv = std::move(args);
  process.env = PluginEnvironment(plugin, cluster);
  process.timeout = limits.timeout;
  process.max_stdout = limits.max_stdout;
  process.max_stderr = kMaxStderr;
  absl::StatusOr<common::SubprocessResult> run = common::RunSubprocess(std::move(process));
  if (!run.ok()) {
    if (run.status().code() != absl::StatusCode::kFailedPrecondition) {
      return absl::Status(run.status().code(),
                          absl::StrCat(Prefix(plugin), "cannot run: ", run.status().message()));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        Prefix(plugin), "cannot run: ", run.status().message(),
        plugin.install_hint.empty() ? "" : absl::StrCat(" (", plugin.install_hint, ")")));
  }
  if (run->timed_out) {
    return absl::DeadlineExceededError(absl::StrCat(Prefix(plugin), "still running after ",
                                                    absl::FormatDuration(limits.timeout),
                                                    " (killed): ", StderrHead(run->err)));
  }
  if (run->output_too_large) {
    return absl::UnauthenticatedError(
        absl::StrCat(Prefix(plugin), "printed more than ", limits.max_stdout, " bytes (killed)"));
  }
  if (WIFSIGNALED(run->wait_status)) {
    return absl::UnauthenticatedError(absl::StrCat(Prefix(plugin), "killed by signal ",
                                                   WTERMSIG(run->wait_status), ": ",
                                                   StderrHead(run->err)));
  }
  if (!WIFEXITED(run->wait_status) || WEXITSTATUS(run->wait_status) != 0) {
    return absl::UnauthenticatedError(absl::StrCat(Prefix(plugin), "exited with status ",
                                                   WEXITSTATUS(run->wait_status), ": ",
                                                   StderrHead(run->err)));
  }
  if (!run->err.empty()) {
    common::Logger("agent.kube")
        ->debug("exec credential plugin {} stderr: {}", plugin.command, StderrHead(run->err));
  }
  return ParseExecCredential(plugin, run->out);
}

ExecCredentialSource::ExecCredentialSource(ExecPlugin plugin, ExecClusterInfo cluster,
                                           const common::Clock* clock, ExecPluginLimits limits)
    : plugin_(std::move(plugin)),
      cluster_(std::move(cluster)),
      clock_(clock),
      limits_(std::move(limits)) {}

absl::StatusOr<ExecCredential> ExecCredentialSource::Get() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  if (cached_.has_value() && now + kRenewBefore < cached_->expiry) return *cached_;
  ++runs_;
  absl::StatusOr<ExecCredential> fresh = RunExecPlugin(plugin_, cluster_, limits_);
  if (!fresh.ok()) {
    if (cached_.has_value() && now < cached_->expiry) {
      common::Logger("agent.kube")
          ->warn("{} (keeping the current credentials until they expire at {})",
                 fresh.status().message(), absl::FormatTime(cached_->expiry));
      return *cached_;
    }
    cached_.reset();
    return fresh.status();
  }
  cached_ = *fresh;
  return *fresh;
}

void ExecCredentialSource::Invalidate(const ExecCredential& rejected) {
  absl::MutexLock lock(&mu_);
  if (cached_.has_value() && *cached_ == rejected) cached_.reset();
}

int ExecCredentialSource::runs() const {
  absl::MutexLock lock(&mu_);
  return runs_;
}

}  // namespace flotilla::agent::kube
