#include "manager/server/http_server.h"

#include <httplib.h>

#include "absl/strings/str_cat.h"

namespace flotilla::manager {

HttpServer::HttpServer(std::function<std::string()> metrics, std::function<bool()> ready)
    : server_(std::make_unique<httplib::Server>()) {
  server_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  server_->Get("/readyz", [ready](const httplib::Request&, httplib::Response& res) {
    bool ok = ready();
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ready\n" : "not ready\n", "text/plain");
  });
  server_->Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::SetWebhookHandler(WebhookHandler handler, size_t max_body_bytes) {
  server_->set_payload_max_length(max_body_bytes);
  server_->Post("/webhooks", [handler = std::move(handler)](const httplib::Request& req,
                                                            httplib::Response& res) {
    std::vector<std::pair<std::string, std::string>> headers(req.headers.begin(),
                                                             req.headers.end());
    WebhookReply reply = handler(headers, req.body);
    res.status = reply.status;
    res.set_content(reply.body + "\n", "text/plain");
  });
}

void HttpServer::SetApiHandler(ApiHandler handler) {
  server_->Get(R"(/api/v1/.*)",
               [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
                 std::map<std::string, std::string> query;
                 for (const auto& [k, v] : req.params) query[k] = v;
                 ApiReply reply = handler(req.path, query, req.get_header_value("Authorization"));
                 res.status = reply.status;
                 res.set_content(reply.body + "\n", "application/json");
               });
}

absl::StatusOr<int> HttpServer::Start(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    if (bound <= 0) return absl::UnavailableError(absl::StrCat("cannot bind HTTP to ", host, ":0"));
  } else if (!server_->bind_to_port(host, port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind HTTP to ", host, ":", port, " (address in use?)"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace flotilla::manager
