#include "agent/client/health_server.h"

#include <httplib.h>

#include <utility>

#include "absl/strings/str_cat.h"

namespace flotilla::agent {
namespace {

void Answer(bool ok, const char* yes, const char* no, httplib::Response& res) {
  res.status = ok ? 200 : 503;
  res.set_content(ok ? yes : no, "text/plain");
}

}  // namespace

HealthServer::HealthServer(std::function<bool()> live, std::function<bool()> ready)
    : server_(std::make_unique<httplib::Server>()) {
  server_->Get("/healthz",
               [live = std::move(live)](const httplib::Request&, httplib::Response& res) {
                 Answer(live(), "ok\n", "the agent's run loop has made no progress\n", res);
               });
  server_->Get("/readyz",
               [ready = std::move(ready)](const httplib::Request&, httplib::Response& res) {
                 Answer(ready(), "ready\n", "not connected to the manager\n", res);
               });
}

HealthServer::~HealthServer() { Stop(); }

absl::StatusOr<int> HealthServer::Start(const std::string& host, int port) {
  int bound = port;
  if (port == 0) {
    bound = server_->bind_to_any_port(host);
    if (bound <= 0) {
      return absl::UnavailableError(absl::StrCat("cannot bind --health-listen ", host, ":0"));
    }
  } else if (!server_->bind_to_port(host, port)) {
    return absl::UnavailableError(
        absl::StrCat("cannot bind --health-listen ", host, ":", port, " (address in use?)"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return bound;
}

void HealthServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace flotilla::agent
