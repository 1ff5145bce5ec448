#include "tests/support/static_http_server.h"

#include <poll.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace flotilla::testing {
StaticHttpServer::StaticHttpServer(Options options) : options_(std::move(options)) {
  if (!options_.tls_cert_pem.empty()) {
    tls_ = ServerTls::FromPem("StaticHttpServer", options_.tls_cert_pem, options_.tls_key_pem);
  }
  listener_ =
      std::make_unique<LoopbackListener>("StaticHttpServer", [this](int fd) { Handle(fd); });
}

StaticHttpServer::~StaticHttpServer() { listener_->Stop(); }

void StaticHttpServer::Serve(const std::string& path, std::string body, int status) {
  absl::MutexLock lock(&mu_);
  responses_[path] = Response{status, std::move(body)};
}

std::string StaticHttpServer::Url(const std::string& path) const {
  return absl::StrCat(tls_ != nullptr ? "https" : "http", "://127.0.0.1:", listener_->port(), path);
}

std::string StaticHttpServer::last_authorization() {
  absl::MutexLock lock(&mu_);
  return last_authorization_;
}

std::string StaticHttpServer::authorization_for(const std::string& path) {
  absl::MutexLock lock(&mu_);
  auto it = authorizations_.find(path);
  return it == authorizations_.end() ? "" : it->second;
}

void StaticHttpServer::Handle(int fd) {
  // The listener closes `fd` once the connection has ended here.
  HttpConnection conn(fd, tls_.get());
  IncomingRequest req;
  if (conn.Handshake() && conn.ReadRequest(&req)) {
    ++requests_;
    const std::string authorization = req.Header("authorization");
    Response response{404, "not found\n"};
    {
      absl::MutexLock lock(&mu_);
      last_authorization_ = authorization;
      authorizations_[req.path] = authorization;
      auto it = responses_.find(req.path);
      if (it != responses_.end()) response = it->second;
    }
    std::string extra_headers;
    if (!options_.username.empty() || !options_.password.empty()) {
      const std::string expected = absl::StrCat(
          "Basic ", absl::Base64Escape(absl::StrCat(options_.username, ":", options_.password)));
      if (authorization != expected) {
        response = Response{401, "unauthorized\n"};
        extra_headers = "WWW-Authenticate: Basic realm=\"test\"\r\n";
      }
    }
    if (hang_) {
      pollfd stop{listener_->stop_fd(), POLLIN, 0};
      while (poll(&stop, 1, -1) <= 0) {
      }
    } else {
      conn.WriteAll(absl::StrCat("HTTP/1.1 ", response.status, " ", HttpReason(response.status),
                                 "\r\n", extra_headers, "Content-Length: ", response.body.size(),
                                 "\r\nConnection: close\r\n\r\n", response.body));
    }
  }
}

}  // namespace flotilla::testing
