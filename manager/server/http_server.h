// The manager's HTTP port: /healthz (process alive), /readyz (store loaded and
// gRPC serving), /metrics (Prometheus text format), GET /api/v1/... (the JSON
// mirror of the read API, docs/api.md) and POST /webhooks (Git push events,
// docs/webhooks.md). Runs cpp-httplib's own small thread pool.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace flotilla::manager {

class HttpServer {
 public:
  // `metrics` renders the /metrics body; `ready` answers /readyz.
  HttpServer(std::function<std::string()> metrics, std::function<bool()> ready);
  ~HttpServer();

  // What a POST /webhooks gets: the HTTP status and a one-line body.
  struct WebhookReply {
    int status = 200;
    std::string body;
  };
  using WebhookHandler = std::function<WebhookReply(
      const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body)>;
  // Serves POST /webhooks (bodies over `max_body_bytes` are refused with 413
  // before they are read). Call before Start.
  void SetWebhookHandler(WebhookHandler handler, size_t max_body_bytes);
  // The JSON mirror of the read API: GET /api/v1/... with the request's
  // path, query parameters and Authorization header (http_api.h).
  struct ApiReply {
    int status = 200;
    std::string body;  // JSON
  };
  using ApiHandler = std::function<ApiReply(const std::string& path,
                                            const std::map<std::string, std::string>& query,
                                            const std::string& authorization)>;
  void SetApiHandler(ApiHandler handler);
  // Binds host:port (port 0 picks a free one) and serves in a thread;
  // returns the bound port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace flotilla::manager
