#include "manager/server/manager_pki.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fs.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace flotilla::manager {
namespace {

absl::StatusOr<common::CertificateAuthority> LoadOrCreateCa(const std::string& dir,
                                                            const std::string& base,
                                                            const std::string& cn,
                                                            const common::Clock& clock) {
  std::string crt = absl::StrCat(dir, "/", base, ".crt");
  std::string key = absl::StrCat(dir, "/", base, ".key");
  if (common::PathExists(crt) && common::PathExists(key)) {
    ASSIGN_OR_RETURN(std::string c, common::ReadFile(crt));
    ASSIGN_OR_RETURN(std::string k, common::ReadFile(key));
    auto ca = common::CertificateAuthority::Load(c, k);
    if (!ca.ok()) return common::Annotate(ca.status(), absl::StrCat("loading ", crt));
    return ca;
  }
  ASSIGN_OR_RETURN(auto ca, common::CertificateAuthority::Create(cn, clock));
  RETURN_IF_ERROR(common::WriteFileAtomic(key, ca.key_pem(), 0600));
  RETURN_IF_ERROR(common::WriteFileAtomic(crt, ca.cert_pem(), 0644));
  common::Logger("manager.pki")->info("created {} at {}", cn, crt);
  return ca;
}

}  // namespace

absl::StatusOr<ManagerPki> LoadOrCreatePki(const std::string& data_dir,
                                           const std::vector<std::string>& hosts,
                                           const common::Clock& clock) {
  std::string dir = data_dir + "/pki";
  RETURN_IF_ERROR(common::MakeDirs(dir, 0700));
  ASSIGN_OR_RETURN(auto server_ca, LoadOrCreateCa(dir, "server-ca", "flotilla server CA", clock));
  ASSIGN_OR_RETURN(auto agent_ca, LoadOrCreateCa(dir, "agent-ca", "flotilla agent CA", clock));
  RETURN_IF_ERROR(common::WriteFileAtomic(data_dir + "/ca.crt", server_ca.cert_pem(), 0644));

  std::string crt = dir + "/server.crt";
  std::string key = dir + "/server.key";
  std::string hosts_file = dir + "/server.hosts";
  std::string want_hosts = absl::StrJoin(hosts, ",");
  bool reuse = false;
  if (common::PathExists(crt) && common::PathExists(key) && common::PathExists(hosts_file)) {
    ASSIGN_OR_RETURN(std::string have_hosts, common::ReadFile(hosts_file));
    ASSIGN_OR_RETURN(std::string c, common::ReadFile(crt));
    auto info = common::ParseCertificate(c);
    reuse = have_hosts == want_hosts && info.ok() &&
            info->not_after - clock.Now() > absl::Hours(24 * 30) &&
            common::VerifyCertificate(c, server_ca.cert_pem(), clock.Now()).ok();
  }
  if (!reuse) {
    ASSIGN_OR_RETURN(auto issued,
                     server_ca.IssueServerCertificate(hosts, absl::Hours(24 * 365), clock));
    RETURN_IF_ERROR(common::WriteFileAtomic(key, issued.second, 0600));
    RETURN_IF_ERROR(common::WriteFileAtomic(crt, issued.first, 0644));
    RETURN_IF_ERROR(common::WriteFileAtomic(hosts_file, want_hosts, 0644));
    common::Logger("manager.pki")->info("issued server certificate for {}", want_hosts);
  }
  ManagerPki pki{server_ca, agent_ca, "", "", ""};
  ASSIGN_OR_RETURN(std::string leaf, common::ReadFile(crt));
  // Serve the chain so that agents can find the CA by its pin.
  pki.server_cert_pem = leaf + server_ca.cert_pem();
  ASSIGN_OR_RETURN(pki.server_key_pem, common::ReadFile(key));
  ASSIGN_OR_RETURN(pki.ca_pin, common::SpkiPin(server_ca.cert_pem()));
  return pki;
}

}  // namespace flotilla::manager
