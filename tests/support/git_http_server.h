// Git's smart HTTP protocol for tests: `git http-backend` run as a CGI behind
// a small HTTP/1.1 server on 127.0.0.1:<free port>, optionally over TLS and
// behind Basic auth, with faults to inject.
//
// Plain sockets and OpenSSL rather than cpp-httplib: the test support library
// is compiled without httplib's OpenSSL definitions, and the faults need
// control over every byte sent.
//
// Every connection gets its own thread and one response ("Connection:
// close"); the destructor shuts down open connections and joins everything.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "tests/support/http_connection.h"

namespace flotilla::testing {

class GitHttpServer {
 public:
  struct Options {
    // Served repositories live below it (GIT_PROJECT_ROOT).
    std::string project_root;
    // When either is set, every request needs `Authorization: Basic` with
    // exactly these; otherwise 401 with `WWW-Authenticate: Basic`.
    std::string username;
    std::string password;
    // Serve HTTPS with this certificate (chain, leaf first) and key, PEM.
    std::string tls_cert_pem;
    std::string tls_key_pem;
  };

  enum class Fault {
    kNone,
    // Read the request, then never answer (until the server stops).
    kHang,
    // Answer git-upload-pack POSTs with the full Content-Length but only
    // half of the body, then close the connection.
    kCloseMidPack,
  };

  explicit GitHttpServer(Options options);
  ~GitHttpServer();
  GitHttpServer(const GitHttpServer&) = delete;
  GitHttpServer& operator=(const GitHttpServer&) = delete;

  int port() const { return listener_->port(); }
  // http(s)://127.0.0.1:<port>/<repo_rel_path>
  std::string Url(const std::string& repo_rel_path) const;
  void SetFault(Fault fault) { fault_ = fault; }

  // Requests answered with 401 because credentials were missing or wrong.
  int unauthorized_responses() const { return unauthorized_; }
  // Every request read, answered or not.
  int requests() const { return requests_; }

 private:
  void Serve(int fd);

  const Options options_;
  std::string backend_path_;  // git-http-backend
  std::unique_ptr<ServerTls> tls_;
  std::atomic<Fault> fault_{Fault::kNone};
  std::atomic<int> unauthorized_{0};
  std::atomic<int> requests_{0};

  // Last: stopped first, while the members its handlers use still exist.
  std::unique_ptr<LoopbackListener> listener_;
};

}  // namespace flotilla::testing
