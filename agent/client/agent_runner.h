// AgentRunner: registration (first start), then the Connect stream with
// reconnects (jittered exponential backoff), certificate renewal at 70-90% of
// the certificate's life, heartbeats and periodic checks of drift and readiness.
//
// While the manager is unreachable the agent keeps what it last applied and
// keeps checking drift locally.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/synchronization/notification.h"
#include "agent/apply/applier.h"
#include "agent/state/agent_state.h"
#include "common/clock.h"

namespace flotilla::agent {

struct AgentOptions {
  std::string manager;  // HOST:PORT
  std::string token;    // needed only to register
  std::string ca_file;  // manager CA, or
  std::string ca_pin;   // sha256:<hex> of its SPKI
  std::string name;     // proposed cluster name
  std::map<std::string, std::string> labels;
  std::string version = "0.1.0";
  absl::Duration heartbeat = absl::Seconds(15);
  // How often applied deployments are checked for drift and readiness;
  // settle_check while one is NotReady or waiting for its dependencies.
  absl::Duration drift_check = absl::Seconds(10);
  absl::Duration settle_check = absl::Seconds(2);
};

class AgentRunner {
 public:
  AgentRunner(AgentOptions options, AgentState* state, Applier* applier,
              const common::Clock* clock);
  // Registers if the state has no identity yet. Errors are final (bad token,
  // name taken, unreachable manager on first start): the caller exits.
  absl::Status EnsureRegistered();
  // Runs the stream until `stop` is notified.
  void Run(absl::Notification* stop);

  // For health probes (any thread). Live: the run loop made progress within
  // `within` (a stuck apply or a deadlock stops it). Connected: the stream to
  // the manager is up and has answered.
  bool Live(absl::Duration within) const;
  bool Connected() const { return connected_.load(); }

 private:
  absl::StatusOr<std::string> TrustedCa();
  absl::Status RenewIfDue();

  AgentOptions options_;
  AgentState* const state_;
  Applier* const applier_;
  const common::Clock* const clock_;
  std::atomic<int64_t> progress_unix_ms_{0};
  std::atomic<bool> connected_{false};
  void Progress() { progress_unix_ms_.store(absl::ToUnixMillis(clock_->Now())); }
};

}  // namespace flotilla::agent
