// Exec credential plugins (a kubeconfig's users[].user.exec): a program the
// agent runs to obtain a bearer token or a client certificate, as kubectl and
// client-go do.
//
// Reference: "client-go credential plugins",
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
// and the ExecCredential types,
// https://kubernetes.io/docs/reference/config-api/client-authentication.v1/ (and .v1beta1/).
//
// The plugin runs without a shell, with stdin on /dev/null (the agent never
// has a terminal, so interactiveMode Always is refused), with the agent's
// environment plus the plugin's `env` and KUBERNETES_EXEC_INFO (an
// ExecCredential whose spec says interactive: false, and carries spec.cluster
// when provideClusterInfo is set: server, certificate-authority-data and
// insecure-skip-tls-verify; the cluster's `config` extension is not passed).
// Its stdout must be an ExecCredential of the configured apiVersion whose
// status has a token or clientCertificateData and clientKeyData (PEM), and
// optionally expirationTimestamp.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/apply/kube/kube_config.h"
#include "common/clock.h"

namespace flotilla::agent::kube {

// What a plugin returned.
struct ExecCredential {
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;
  // status.expirationTimestamp; InfiniteFuture when the plugin gave none
  // (then the credentials are kept until the API server answers 401).
  absl::Time expiry = absl::InfiniteFuture();
  bool operator==(const ExecCredential&) const = default;
};

struct ExecPluginLimits {
  // The plugin is killed (its whole process group) after this long.
  absl::Duration timeout = absl::Seconds(60);
  // More stdout than this is an error (an ExecCredential is a few KiB).
  size_t max_stdout = size_t{1} << 20;
};

// The cluster a plugin authenticates to, passed to it when
// provideClusterInfo is set.
struct ExecClusterInfo {
  std::string server;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
};

// The KUBERNETES_EXEC_INFO value for `plugin`.
std::string ExecCredentialRequest(const ExecPlugin& plugin, const ExecClusterInfo& cluster);

// Parses a plugin's stdout. Unauthenticated naming the command and what is
// wrong: not JSON, another apiVersion or kind, no status, neither a token nor
// a certificate and key (or only one of the two), a bad expirationTimestamp.
absl::StatusOr<ExecCredential> ParseExecCredential(const ExecPlugin& plugin,
                                                   absl::string_view output);

// Runs `plugin` once and parses what it printed. Errors start with
// "exec credential plugin <command>: " and say why:
//   InvalidArgument     interactiveMode Always (needs a terminal)
//   FailedPrecondition  the command is not found or not executable (with the
//                       plugin's installHint)
//   DeadlineExceeded    it ran longer than limits.timeout (killed)
//   Unauthenticated     it exited with a status other than 0 or was killed
//                       by a signal (with the first lines of its stderr),
//                       printed more than limits.max_stdout, or printed no
//                       usable ExecCredential (see ParseExecCredential)
//   Internal            pipes or posix_spawn failed for another reason.
// Blocks for as long as the plugin runs.
absl::StatusOr<ExecCredential> RunExecPlugin(const ExecPlugin& plugin,
                                             const ExecClusterInfo& cluster,
                                             const ExecPluginLimits& limits = {});

// Credentials from a plugin, cached until they are about to expire or the API
// server rejects them. Thread-safe; a plugin run holds the lock, so
// concurrent callers wait for one run rather than starting several.
class ExecCredentialSource {
 public:
  // Credentials are renewed this long before their expirationTimestamp, so a
  // request never leaves with a token that expires on the way.
  static constexpr absl::Duration kRenewBefore = absl::Seconds(10);

  // `clock` must outlive the source.
  ExecCredentialSource(ExecPlugin plugin, ExecClusterInfo cluster, const common::Clock* clock,
                       ExecPluginLimits limits = {});

  // The cached credentials, or new ones from a run of the plugin when none
  // are cached or they expire within kRenewBefore. When that run fails while
  // the cached credentials have not expired yet, they are returned (and the
  // failure logged); otherwise the run's error (see RunExecPlugin).
  absl::StatusOr<ExecCredential> Get() ABSL_LOCKS_EXCLUDED(mu_);
  // The API server rejected `rejected` (HTTP 401): the next Get runs the
  // plugin again, unless the cache already holds other credentials (another
  // client sharing this source renewed them meanwhile).
  void Invalidate(const ExecCredential& rejected) ABSL_LOCKS_EXCLUDED(mu_);

  const ExecPlugin& plugin() const { return plugin_; }
  // Runs of the plugin so far, failed ones included.
  int runs() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const ExecPlugin plugin_;
  const ExecClusterInfo cluster_;
  const common::Clock* const clock_;
  const ExecPluginLimits limits_;

  mutable absl::Mutex mu_;
  std::optional<ExecCredential> cached_ ABSL_GUARDED_BY(mu_);
  int runs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace flotilla::agent::kube
