// The manager's keys and certificates under --data-dir, created on first
// start: server-ca.{crt,key} (its certificate is also written to ca.crt,
// what agents and the CLI trust), agent-ca.{crt,key} (signs agent client
// certificates), server.{crt,key} (the TLS server certificate, reissued when
// the configured host names change or it nears expiry). Keys are mode 0600.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/tls/pki.h"

namespace flotilla::manager {

struct ManagerPki {
  common::CertificateAuthority server_ca;
  common::CertificateAuthority agent_ca;
  std::string server_cert_pem;  // leaf + server CA
  std::string server_key_pem;
  std::string ca_pin;  // "sha256:<hex>" of the server CA
};

absl::StatusOr<ManagerPki> LoadOrCreatePki(const std::string& data_dir,
                                           const std::vector<std::string>& hosts,
                                           const common::Clock& clock);

}  // namespace flotilla::manager
