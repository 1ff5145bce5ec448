// A small Kubernetes API client over libcurl: JSON requests to the API
// server with the configured credentials, retries where the API says to
// retry, and errors that carry the API server's own message.
//
// Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/ and
// the Status object, https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
//
// Credentials: a token (or a token file, re-read when it changes), a client
// certificate, or an exec credential plugin (exec_credential.h), whose
// credentials are obtained at Create, cached until they are within
// ExecCredentialSource::kRenewBefore of their expiry, and renewed once when
// the API server answers 401, as client-go does. Impersonation headers
// (KubeConfig::impersonate, Impersonating()) go with every request.
//
// Threading: one request at a time per client (the agent's apply worker);
// the client keeps one connection open between requests. Clients made by
// Impersonating() share the exec plugin's cached credentials (thread-safe)
// and nothing else.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/apply/kube/exec_credential.h"
#include "agent/apply/kube/kube_config.h"
#include "common/clock.h"
#include "common/yaml.h"

namespace flotilla::agent::kube {

struct KubeClientOptions {
  // Per request.
  absl::Duration timeout = absl::Seconds(30);
  // Attempts for 429, 5xx and connection failures (the first included).
  int max_attempts = 5;
  // Backoff between attempts doubles from `initial_backoff` up to
  // `max_backoff`; a Retry-After header (seconds) replaces it, capped at
  // `max_backoff`.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(10);
  // How to wait between attempts (tests record instead of sleeping).
  std::function<void(absl::Duration)> sleep;
  std::string user_agent = "flotilla-agent";
  // When exec plugin credentials expire; nullptr = the real clock. Must
  // outlive the client.
  const common::Clock* clock = nullptr;
  // Timeout and output limit of an exec plugin run.
  ExecPluginLimits exec_limits;
};

class KubeClient {
 public:
  // InvalidArgument for a configuration without a server or with an
  // impersonation the headers cannot carry. With an exec plugin (and no
  // token or certificate), runs it once and fails with its error (see
  // RunExecPlugin), prefixed with config.source.
  static absl::StatusOr<std::unique_ptr<KubeClient>> Create(KubeConfig config,
                                                            KubeClientOptions options = {});
  // A client with the same server, credentials and options whose requests
  // act as `as` (replacing the configuration's own impersonation), on a
  // connection of its own; e.g. Impersonating(ServiceAccountUser(ns, name))
  // for a bundle's serviceAccount. InvalidArgument for an empty user or a
  // value with a line break.
  absl::StatusOr<std::unique_ptr<KubeClient>> Impersonating(Impersonation as) const;
  ~KubeClient();
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  // `method` `path` (with its query) and a body of `content_type`; the
  // answer's JSON (null for an empty body). Errors carry the method, path,
  // HTTP status and the API server's message:
  //   401 Unauthenticated  403 PermissionDenied  404 NotFound
  //   409 Aborted (conflict) or AlreadyExists   400/422 InvalidArgument
  //   415 InvalidArgument  429 and 5xx after the last attempt Unavailable
  //   no answer within the timeout DeadlineExceeded; connection failures
  //   Unavailable; an exec plugin's failure as RunExecPlugin says.
  // A 401 makes the client read its token file again, or run its exec
  // plugin again, and retry once.
  absl::StatusOr<common::Json> Call(const std::string& method, const std::string& path,
                                    const std::string& body = "",
                                    const std::string& content_type = "");

  const KubeConfig& config() const { return config_; }
  // Requests sent, retries included.
  int requests() const { return requests_; }

 private:
  struct Answer {
    int status = 0;
    std::string body;
    std::string retry_after;
  };
  KubeClient(KubeConfig config, KubeClientOptions options,
             std::shared_ptr<ExecCredentialSource> exec);
  absl::StatusOr<Answer> Send(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& content_type);
  // The bearer token, re-read from token_file when the file changed.
  std::string Token();

  KubeConfig config_;
  KubeClientOptions options_;
  void* curl_ = nullptr;  // CURL*, kept for connection reuse
  int requests_ = 0;
  std::string token_;
  int64_t token_mtime_ns_ = -1;
  // Set when the exec plugin provides the credentials.
  std::shared_ptr<ExecCredentialSource> exec_;
  // The plugin's credentials the last request went with (what a 401
  // rejected); curl reads the certificate and key from here.
  ExecCredential exec_used_;
  // The client certificate of the previous request, to drop the kept
  // connection when a plugin hands out another one.
  std::string last_cert_pem_;
};

// The Impersonate-User, Impersonate-Uid and Impersonate-Group header lines
// ("Name: value") for `as`; none for an empty user.
std::vector<std::string> ImpersonationHeaders(const Impersonation& as);

// The `message` of a Kubernetes Status body, else the body itself (cut to
// 300 bytes).
std::string StatusMessage(const std::string& body);

}  // namespace flotilla::agent::kube
