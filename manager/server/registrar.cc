#include "manager/server/registrar.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/selector.h"
#include "common/status_macros.h"
#include "manager/server/tokens.h"

namespace flotilla::manager {
namespace {

// Label prefixes agents may not set (Fleet drops the first two).
constexpr absl::string_view kReservedPrefixes[] = {"fleet.cattle.io/", "management.cattle.io/",
                                                   "flotilla.io/"};

bool Reserved(const std::string& key) {
  for (auto p : kReservedPrefixes) {
    if (absl::StartsWith(key, p)) return true;
  }
  return false;
}

}  // namespace

Registrar::Registrar(Store* store, FleetController* controller,
                     const common::CertificateAuthority* agent_ca, const common::Clock* clock,
                     RegistrarOptions options)
    : store_(store),
      controller_(controller),
      agent_ca_(agent_ca),
      clock_(clock),
      options_(std::move(options)) {}

absl::StatusOr<std::string> Registrar::ClusterIdFromCertificate(const std::string& cert_pem) const {
  auto info = common::ParseCertificate(cert_pem);
  if (!info.ok()) return absl::UnauthenticatedError("client certificate cannot be parsed");
  // The TLS handshake checks this too; identity must not depend on how the
  // transport happens to be configured.
  if (auto st = common::VerifyCertificate(cert_pem, agent_ca_->cert_pem(), clock_->Now());
      !st.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat("client certificate is not valid for this manager: ", st.message()));
  }
  std::string prefix = absl::StrCat("spiffe://", options_.trust_domain, "/cluster/");
  if (info->uri_sans.size() != 1 || !absl::StartsWith(info->uri_sans[0], prefix) ||
      !info->client_auth) {
    return absl::UnauthenticatedError("client certificate is not a Flotilla agent certificate");
  }
  return info->uri_sans[0].substr(prefix.size());
}

absl::StatusOr<flotilla::v1::RegisterResponse> Registrar::Register(
    const flotilla::v1::RegisterRequest& req) {
  auto log = common::Logger("manager.register");
  auto parsed = ParseToken(kRegistrationTokenPrefix, req.token());
  if (!parsed.ok()) {
    return absl::UnauthenticatedError(
        "registration token is malformed: expected flt1.<id>.<secret>");
  }
  auto csr = common::VerifyCsr(req.csr_pem());
  if (!csr.ok()) return csr.status();

  flotilla::v1::RegisterResponse resp;
  ClusterRecord cluster;
  bool created = false;
  absl::Time now = clock_->Now();
  absl::Status st = store_->Write([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto token, tx.GetRegistrationToken(parsed->id));
    if (!token ||
        !common::ConstantTimeEquals(token->secret_sha256, common::Sha256Hex(parsed->secret))) {
      return absl::UnauthenticatedError("registration token is not valid");
    }
    // An idempotent retry: same token, same key -> the same certificate.
    ASSIGN_OR_RETURN(auto clusters, tx.ListClusters());
    for (const auto& c : clusters) {
      if (c.registration_token_id == token->id && c.public_key_sha256 == csr->public_key_sha256 &&
          !c.revoked && c.cert_not_after > now) {
        cluster = c;
        return absl::OkStatus();
      }
    }
    if (token->revoked_at != absl::InfinitePast()) {
      return absl::UnauthenticatedError(
          absl::StrCat("registration token ", token->id, " has been revoked"));
    }
    if (token->expires <= now) {
      return absl::UnauthenticatedError(
          absl::StrCat("registration token ", token->id, " expired at ",
                       absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", token->expires, absl::UTCTimeZone()),
                       "; create a new one with `flotilla token create`"));
    }
    std::string name = req.name();
    if (!token->cluster_name.empty()) {
      if (!name.empty() && name != token->cluster_name) {
        return absl::PermissionDeniedError(
            absl::StrCat("registration token ", token->id, " is only for cluster \"",
                         token->cluster_name, "\", not \"", name, "\""));
      }
      name = token->cluster_name;
    }
    std::string id = "c-" + common::RandomHex(8);
    if (name.empty()) name = "cluster-" + id.substr(2);
    RETURN_IF_ERROR(common::ValidateObjectName("cluster", name));
    ASSIGN_OR_RETURN(auto taken, tx.GetClusterByName(name));
    if (taken) {
      return absl::AlreadyExistsError(absl::StrCat(
          "cluster name \"", name,
          "\" is already registered; choose another --name, or delete that cluster first"));
    }
    ASSIGN_OR_RETURN(bool consumed, tx.ConsumeRegistrationToken(token->id, now));
    if (!consumed) {
      return absl::UnauthenticatedError(
          absl::StrCat("registration token ", token->id, " has already been used ", token->uses,
                       " time(s), its maximum; create a new one with `flotilla token create`"));
    }
    cluster.id = id;
    cluster.name = name;
    for (const auto& l : req.labels()) {
      if (Reserved(l.key())) continue;
      RETURN_IF_ERROR(common::ValidateLabelKey(l.key()));
      RETURN_IF_ERROR(common::ValidateLabelValue(l.key(), l.value()));
      cluster.labels[l.key()] = l.value();
    }
    for (const auto& [k, v] : token->labels) cluster.labels[k] = v;  // operator's word wins
    cluster.created = now;
    cluster.agent_version = req.agent_version();
    cluster.public_key_sha256 = csr->public_key_sha256;
    cluster.registration_token_id = token->id;
    std::string uri = absl::StrCat("spiffe://", options_.trust_domain, "/cluster/", id);
    ASSIGN_OR_RETURN(cluster.cert_pem,
                     agent_ca_->SignClientCertificate(req.csr_pem(), uri, name,
                                                      options_.cert_lifetime, *clock_));
    ASSIGN_OR_RETURN(auto info, common::ParseCertificate(cluster.cert_pem));
    cluster.cert_serial = info.serial_hex;
    cluster.cert_not_after = info.not_after;
    RETURN_IF_ERROR(tx.InsertCluster(cluster));
    AuditEventRecord a;
    a.time = now;
    a.actor = "cluster:" + id;
    a.action = "cluster.register";
    a.resource = "cluster/" + id;
    a.outcome = "ok";
    a.details = absl::StrCat("name=", name, " token=", token->id, " serial=", info.serial_hex);
    RETURN_IF_ERROR(tx.AppendAudit(a).status());
    created = true;
    return absl::OkStatus();
  });
  if (!st.ok()) {
    log->warn("registration refused (name \"{}\"): {}", req.name(), st.message());
    return st;
  }
  if (created) {
    log->info("registered cluster {} ({}) with certificate serial {}", cluster.name, cluster.id,
              cluster.cert_serial);
    RETURN_IF_ERROR(controller_->AddCluster(cluster));
  }
  resp.set_cluster_id(cluster.id);
  resp.set_cluster_name(cluster.name);
  resp.set_certificate_pem(cluster.cert_pem);
  resp.set_agent_ca_pem(agent_ca_->cert_pem());
  return resp;
}

absl::StatusOr<flotilla::v1::RenewResponse> Registrar::Renew(
    const std::string& cluster_id, const flotilla::v1::RenewRequest& req) {
  auto cluster = controller_->GetCluster(cluster_id);
  if (!cluster || cluster->revoked) {
    return absl::PermissionDeniedError(absl::StrCat("cluster ", cluster_id, " is not active"));
  }
  ASSIGN_OR_RETURN(auto csr, common::VerifyCsr(req.csr_pem()));
  std::string uri = absl::StrCat("spiffe://", options_.trust_domain, "/cluster/", cluster_id);
  ASSIGN_OR_RETURN(std::string pem,
                   agent_ca_->SignClientCertificate(req.csr_pem(), uri, cluster->name,
                                                    options_.cert_lifetime, *clock_));
  ASSIGN_OR_RETURN(auto info, common::ParseCertificate(pem));
  cluster->cert_pem = pem;
  cluster->cert_serial = info.serial_hex;
  cluster->cert_not_after = info.not_after;
  cluster->public_key_sha256 = csr.public_key_sha256;
  AuditEventRecord audit;
  audit.time = clock_->Now();
  audit.actor = "cluster:" + cluster_id;
  audit.action = "cluster.renew";
  audit.resource = "cluster/" + cluster->name;
  audit.outcome = "ok";
  audit.details = absl::StrCat("serial=", info.serial_hex);
  RETURN_IF_ERROR(controller_->UpdateCluster(*cluster, &audit));
  common::Logger("manager.register")
      ->info("renewed certificate of cluster {} ({}): serial {}", cluster->name, cluster_id,
             info.serial_hex);
  flotilla::v1::RenewResponse resp;
  resp.set_certificate_pem(pem);
  return resp;
}

}  // namespace flotilla::manager
