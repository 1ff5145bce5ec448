// A tiny HTTP/1.1 server for tests that fetch files: fixed bodies by path on
// 127.0.0.1:<free port>, with a status per path and a "never answer" fault,
// optionally over TLS and behind Basic auth.
//
// Plain sockets (tests/support/http_connection.h, as GitHttpServer) so that
// faults control every byte. Every
// connection gets its own thread and one response ("Connection: close"); the
// destructor shuts down open connections and joins everything.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tests/support/http_connection.h"

namespace flotilla::testing {

class StaticHttpServer {
 public:
  struct Options {
    // Serve HTTPS with this certificate (chain, leaf first) and key, PEM.
    std::string tls_cert_pem;
    std::string tls_key_pem;
    // When set, every request needs `Authorization: Basic` with exactly these;
    // otherwise 401 with `WWW-Authenticate: Basic`.
    std::string username;
    std::string password;
  };

  StaticHttpServer() : StaticHttpServer(Options()) {}
  explicit StaticHttpServer(Options options);
  ~StaticHttpServer();
  StaticHttpServer(const StaticHttpServer&) = delete;
  StaticHttpServer& operator=(const StaticHttpServer&) = delete;

  // GET `path` ("/charts/a.tgz", no query) answers `status` with `body`;
  // unknown paths answer 404.
  void Serve(const std::string& path, std::string body, int status = 200);
  // Read each request, then never answer (until the server stops).
  void SetHang(bool hang) { hang_ = hang; }

  int port() const { return listener_->port(); }
  // http(s)://127.0.0.1:<port><path>
  std::string Url(const std::string& path) const;
  // Requests read so far, and the Authorization header of the last one (of
  // the last one for `path`; "" when none was sent or `path` was never asked).
  int requests() const { return requests_; }
  std::string last_authorization();
  std::string authorization_for(const std::string& path);

 private:
  struct Response {
    int status = 200;
    std::string body;
  };
  void Handle(int fd);

  const Options options_;
  std::unique_ptr<ServerTls> tls_;
  std::atomic<bool> hang_{false};
  std::atomic<int> requests_{0};

  absl::Mutex mu_;
  std::map<std::string, Response> responses_ ABSL_GUARDED_BY(mu_);
  std::string last_authorization_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> authorizations_ ABSL_GUARDED_BY(mu_);
  // Last: stopped first, while the members its handlers use still exist.
  std::unique_ptr<LoopbackListener> listener_;
};

}  // namespace flotilla::testing
