// Agent registration and certificate renewal (SECURITY.md §1).
//
// Register: a registration token + a CSR from the agent's own key -> a
// short-lived client certificate with one URI SAN
// spiffe://<trust-domain>/cluster/<id>. The token is consumed atomically in
// the same transaction that creates the cluster; a retry with the same token
// and the same public key returns the same certificate; a name that belongs to
// a registered cluster is never re-bound.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/tls/pki.h"
#include "flotilla/v1/agent.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/store/store.h"

namespace flotilla::manager {

struct RegistrarOptions {
  std::string trust_domain = "flotilla";
  absl::Duration cert_lifetime = absl::Hours(24);
};

class Registrar {
 public:
  Registrar(Store* store, FleetController* controller, const common::CertificateAuthority* agent_ca,
            const common::Clock* clock, RegistrarOptions options);

  absl::StatusOr<flotilla::v1::RegisterResponse> Register(const flotilla::v1::RegisterRequest& req);
  absl::StatusOr<flotilla::v1::RenewResponse> Renew(const std::string& cluster_id,
                                                    const flotilla::v1::RenewRequest& req);

  // The cluster id in a client certificate's SPIFFE URI, or Unauthenticated.
  absl::StatusOr<std::string> ClusterIdFromCertificate(const std::string& cert_pem) const;

 private:
  Store* const store_;
  FleetController* const controller_;
  const common::CertificateAuthority* const agent_ca_;
  const common::Clock* const clock_;
  const RegistrarOptions options_;
};

}  // namespace flotilla::manager
