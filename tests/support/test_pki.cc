#include "tests/support/test_pki.h"

#include <catch2/catch.hpp>

#include "absl/time/time.h"
#include "common/clock.h"
#include "common/tls/pki.h"

namespace flotilla::testing {

TestPki::TestPki(const std::vector<std::string>& hosts) {
  const common::Clock& clock = *common::RealClock::Get();
  auto ca = common::CertificateAuthority::Create("flotilla test CA", clock);
  REQUIRE(ca.ok());
  auto issued = ca->IssueServerCertificate(hosts, absl::Hours(1), clock);
  REQUIRE(issued.ok());
  ca_pem = ca->cert_pem();
  cert_pem = issued->first;
  key_pem = issued->second;
}

}  // namespace flotilla::testing
