// A small Kubernetes API client over libcurl: JSON requests to the API
// server with the configured credentials, retries where the API says to
// retry, and errors that carry the API server's own message.
//
// Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/ and
// the Status object, https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
//
// Threading: one request at a time (the agent's apply worker); the client
// keeps one connection open between requests.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/apply/kube/kube_config.h"
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
};

class KubeClient {
 public:
  // InvalidArgument for a configuration that cannot authenticate (an exec
  // plugin, which is not supported yet).
  static absl::StatusOr<std::unique_ptr<KubeClient>> Create(KubeConfig config,
                                                            KubeClientOptions options = {});
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
  //   Unavailable.
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
  KubeClient(KubeConfig config, KubeClientOptions options);
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
};

// The `message` of a Kubernetes Status body, else the body itself (cut to
// 300 bytes).
std::string StatusMessage(const std::string& body);

}  // namespace flotilla::agent::kube
