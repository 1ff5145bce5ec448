// The agent's probe endpoints (--health-listen): GET /healthz answers 200
// while `live` holds (the run loop makes progress), GET /readyz 200 while
// `ready` holds (registered and connected to the manager); 503 otherwise.
// Nothing else is served: no state, no metrics, nothing secret.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace httplib {
class Server;
}

namespace flotilla::agent {

class HealthServer {
 public:
  HealthServer(std::function<bool()> live, std::function<bool()> ready);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // Binds host:port (0 picks a free port) and serves in a thread; returns
  // the bound port.
  absl::StatusOr<int> Start(const std::string& host, int port);
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
};

}  // namespace flotilla::agent
