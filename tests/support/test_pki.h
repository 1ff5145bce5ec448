// A throwaway CA and a server certificate it signed, for tests that serve
// HTTPS on loopback (GitHttpServer, StaticHttpServer).
#pragma once

#include <string>
#include <vector>

namespace flotilla::testing {

struct TestPki {
  std::string ca_pem;
  std::string cert_pem;  // the server's, for `hosts` (DNS names or IPs)
  std::string key_pem;

  // Fails the running test (REQUIRE) when OpenSSL cannot make them.
  explicit TestPki(const std::vector<std::string>& hosts = {"127.0.0.1"});
};

}  // namespace flotilla::testing
