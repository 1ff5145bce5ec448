// The server side of one HTTP/1.1 connection for the test servers
// (GitHttpServer, StaticHttpServer): plain or TLS over a blocking socket, one
// request read at a time, every byte under the caller's control so faults can
// be injected.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace flotilla::testing {

struct IncomingRequest {
  std::string method;
  std::string path;                            // without the query
  std::string query;                           // after '?'
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// A TLS server context from PEM: a certificate chain (leaf first) and its key.
class ServerTls {
 public:
  // Throws std::runtime_error (naming `who` and OpenSSL's errors) when the
  // PEM does not load.
  static std::unique_ptr<ServerTls> FromPem(const std::string& who, const std::string& cert_pem,
                                            const std::string& key_pem);
  ~ServerTls();
  ServerTls(const ServerTls&) = delete;
  ServerTls& operator=(const ServerTls&) = delete;

  SSL_CTX* ctx() const { return ctx_; }

 private:
  ServerTls() = default;
  SSL_CTX* ctx_ = nullptr;
};

// One accepted connection, plain (tls == nullptr) or TLS, blocking. Does not
// own `fd`.
class HttpConnection {
 public:
  HttpConnection(int fd, const ServerTls* tls);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // The TLS handshake (true at once for plain connections).
  bool Handshake();
  // Up to `n` bytes; 0 at EOF or on error.
  size_t Read(char* buf, size_t n);
  bool WriteAll(std::string_view data);
  // Reads one request (Content-Length or chunked body; answers
  // `Expect: 100-continue`). False on EOF or anything malformed.
  bool ReadRequest(IncomingRequest* req);

 private:
  bool Fill();

  int fd_;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  std::string buffer_;
};

// A listening socket on 127.0.0.1:<free port>: each accepted connection runs
// `handle(fd)` on a thread of its own, and the fd is closed after `handle`
// returns (so the connection, its TLS close_notify included, must end inside
// `handle`). Stop() (also run by the destructor) shuts every open connection
// down, wakes handlers waiting on stop_fd() and joins all threads; an owner
// whose handler uses its members calls Stop() first in its own destructor.
class LoopbackListener {
 public:
  // Throws std::runtime_error naming `who` when it cannot listen.
  LoopbackListener(const std::string& who, std::function<void(int fd)> handle);
  ~LoopbackListener();
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  void Stop();
  int port() const { return port_; }
  // Readable once the listener is stopping.
  int stop_fd() const { return stop_pipe_[0]; }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop();
  void Run(int fd);

  const std::function<void(int fd)> handle_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::thread accept_thread_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int> open_fds_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

// "OK", "Not Found", ... for the statuses the test servers send.
const char* HttpReason(int status);

}  // namespace flotilla::testing
