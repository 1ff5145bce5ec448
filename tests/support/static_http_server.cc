#include "tests/support/static_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace flotilla::testing {
StaticHttpServer::StaticHttpServer(Options options) : options_(std::move(options)) {
  if (!options_.tls_cert_pem.empty()) {
    tls_ = ServerTls::FromPem("StaticHttpServer", options_.tls_cert_pem, options_.tls_key_pem);
  }
  if (pipe(stop_pipe_) != 0) throw std::runtime_error("pipe failed");
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0) {
    throw std::runtime_error("StaticHttpServer: cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof(addr);
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

StaticHttpServer::~StaticHttpServer() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  (void)!write(stop_pipe_[1], "x", 1);
  accept_thread_.join();
  {
    absl::MutexLock lock(&mu_);
    threads = std::move(threads_);
  }
  for (std::thread& t : threads) t.join();
  close(listen_fd_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

void StaticHttpServer::Serve(const std::string& path, std::string body, int status) {
  absl::MutexLock lock(&mu_);
  responses_[path] = Response{status, std::move(body)};
}

std::string StaticHttpServer::Url(const std::string& path) const {
  return absl::StrCat(tls_ != nullptr ? "https" : "http", "://127.0.0.1:", port_, path);
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

void StaticHttpServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    int fd = accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Handle(fd); });
  }
}

void StaticHttpServer::Handle(int fd) {
  // The connection (its TLS close_notify included) ends before the fd is
  // closed: once closed, the number can belong to the next connection.
  {
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
        pollfd stop{stop_pipe_[0], POLLIN, 0};
        while (poll(&stop, 1, -1) <= 0) {
        }
      } else {
        conn.WriteAll(absl::StrCat("HTTP/1.1 ", response.status, " ", HttpReason(response.status),
                                   "\r\n", extra_headers, "Content-Length: ", response.body.size(),
                                   "\r\nConnection: close\r\n\r\n", response.body));
      }
    }
  }
  absl::MutexLock lock(&mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
}

}  // namespace flotilla::testing
