// The manager's HTTP port: /healthz (process alive), /readyz (store loaded and
// gRPC serving), /metrics (Prometheus text format). Runs cpp-httplib's own
// small thread pool.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

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
  // Binds host:port (port 0 picks a free one) and serves in a thread;
  // returns the bound port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace flotilla::manager
