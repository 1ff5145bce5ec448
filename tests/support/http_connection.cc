#include "tests/support/http_connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace flotilla::testing {
namespace {

constexpr size_t kMaxHeaderBytes = size_t{64} * 1024;

std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof(buf));
    out += buf;
    out += "; ";
  }
  return out;
}

}  // namespace

std::unique_ptr<ServerTls> ServerTls::FromPem(const std::string& who, const std::string& cert_pem,
                                              const std::string& key_pem) {
  std::unique_ptr<ServerTls> tls(new ServerTls());
  tls->ctx_ = SSL_CTX_new(TLS_server_method());
  BIO* cert_bio = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  bool ok = tls->ctx_ != nullptr && cert_bio != nullptr;
  for (bool first = true; ok; first = false) {
    X509* cert = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
    if (cert == nullptr) {
      ok = !first;
      ERR_clear_error();
      break;
    }
    ok = first ? SSL_CTX_use_certificate(tls->ctx_, cert) == 1
               : SSL_CTX_add1_chain_cert(tls->ctx_, cert) == 1;
    X509_free(cert);
  }
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key =
      key_bio != nullptr ? PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr) : nullptr;
  ok = ok && key != nullptr && SSL_CTX_use_PrivateKey(tls->ctx_, key) == 1;
  EVP_PKEY_free(key);
  BIO_free(key_bio);
  if (!ok) throw std::runtime_error(who + " TLS set-up failed: " + OpenSslErrors());
  return tls;
}

ServerTls::~ServerTls() { SSL_CTX_free(ctx_); }

HttpConnection::HttpConnection(int fd, const ServerTls* tls) : fd_(fd) {
  if (tls != nullptr) {
    ssl_ = SSL_new(tls->ctx());
    SSL_set_fd(ssl_, fd);
  }
}

HttpConnection::~HttpConnection() {
  if (ssl_ != nullptr) {
    if (handshaken_) SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  ERR_clear_error();
}

bool HttpConnection::Handshake() {
  if (ssl_ == nullptr) return true;
  handshaken_ = SSL_accept(ssl_) == 1;
  if (!handshaken_) ERR_clear_error();
  return handshaken_;
}

size_t HttpConnection::Read(char* buf, size_t n) {
  if (ssl_ != nullptr) {
    const int r = SSL_read(ssl_, buf, static_cast<int>(n));
    return r > 0 ? static_cast<size_t>(r) : 0;
  }
  for (;;) {
    const ssize_t r = recv(fd_, buf, n, 0);
    if (r < 0 && errno == EINTR) continue;
    return r > 0 ? static_cast<size_t>(r) : 0;
  }
}

bool HttpConnection::WriteAll(std::string_view data) {
  while (!data.empty()) {
    size_t n = 0;
    if (ssl_ != nullptr) {
      const int r = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (r <= 0) return false;
      n = static_cast<size_t>(r);
    } else {
      const ssize_t r = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      n = static_cast<size_t>(r);
    }
    data.remove_prefix(n);
  }
  return true;
}

bool HttpConnection::ReadRequest(IncomingRequest* req) {
  size_t header_end;
  while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (buffer_.size() > kMaxHeaderBytes || !Fill()) return false;
  }
  const std::string head = buffer_.substr(0, header_end);
  buffer_.erase(0, header_end + 4);
  std::vector<std::string> lines = absl::StrSplit(head, "\r\n");
  std::vector<std::string> request_line = absl::StrSplit(lines[0], ' ');
  if (request_line.size() != 3) return false;
  req->method = request_line[0];
  const std::string& target = request_line[1];
  const size_t q = target.find('?');
  req->path = target.substr(0, q);
  req->query = q == std::string::npos ? "" : target.substr(q + 1);
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    if (colon == std::string::npos) return false;
    req->headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(absl::string_view(lines[i]).substr(colon + 1)));
  }
  if (absl::EqualsIgnoreCase(req->Header("expect"), "100-continue") &&
      !WriteAll("HTTP/1.1 100 Continue\r\n\r\n")) {
    return false;
  }
  if (absl::EqualsIgnoreCase(req->Header("transfer-encoding"), "chunked")) {
    for (;;) {
      size_t line_end;
      while ((line_end = buffer_.find("\r\n")) == std::string::npos) {
        if (!Fill()) return false;
      }
      size_t chunk = 0;
      const std::string size_field = buffer_.substr(0, buffer_.find_first_of(";\r"));
      if (!absl::SimpleHexAtoi(size_field, &chunk)) return false;
      buffer_.erase(0, line_end + 2);
      while (buffer_.size() < chunk + 2) {
        if (!Fill()) return false;
      }
      req->body.append(buffer_, 0, chunk);
      buffer_.erase(0, chunk + 2);
      if (chunk == 0) return true;  // (no trailers from git clients)
    }
  }
  size_t length = 0;
  if (!req->Header("content-length").empty() &&
      !absl::SimpleAtoi(req->Header("content-length"), &length)) {
    return false;
  }
  while (buffer_.size() < length) {
    if (!Fill()) return false;
  }
  req->body = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return true;
}

bool HttpConnection::Fill() {
  char buf[16384];
  const size_t n = Read(buf, sizeof(buf));
  if (n == 0) return false;
  buffer_.append(buf, n);
  return true;
}

LoopbackListener::LoopbackListener(const std::string& who, std::function<void(int fd)> handle)
    : handle_(std::move(handle)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listen_fd_, 64) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    const std::string error = std::strerror(errno);
    if (listen_fd_ >= 0) close(listen_fd_);
    throw std::runtime_error(who + ": cannot listen on 127.0.0.1: " + error);
  }
  port_ = ntohs(addr.sin_port);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

LoopbackListener::~LoopbackListener() {
  Stop();
  close(listen_fd_);
  close(stop_pipe_[0]);
  close(stop_pipe_[1]);
}

void LoopbackListener::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  (void)!write(stop_pipe_[1], "x", 1);
  accept_thread_.join();
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    threads = std::move(threads_);
  }
  for (std::thread& t : threads) t.join();
}

void LoopbackListener::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      close(fd);
      return;
    }
    ++connections_;
    open_fds_.push_back(fd);
    threads_.emplace_back([this, fd] { Run(fd); });
  }
}

void LoopbackListener::Run(int fd) {
  // A peer that went away must not kill the test binary (SSL_write and the
  // close_notify of SSL_shutdown use write()): SIGPIPE stays pending on this
  // thread, and the write fails with EPIPE.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  handle_(fd);
  absl::MutexLock lock(&mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  close(fd);
}

const char* HttpReason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

}  // namespace flotilla::testing
