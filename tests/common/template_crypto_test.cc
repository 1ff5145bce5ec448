// Sprig's certificate functions (sprig/crypto.go): genCA, genSelfSignedCert,
// genSignedCert, their *WithKey forms and genPrivateKey.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/match.h"
#include "common/clock.h"
#include "common/template/sprig.h"
#include "common/template/template.h"
#include "common/tls/pki.h"

namespace flotilla::common::tmpl {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);

absl::StatusOr<std::string> Run(const std::string& text) {
  SimulatedClock clock{kNow};
  SprigOptions o;
  o.clock = &clock;
  o.random = SeededRandomSource(7);
  TemplateSet set(Options{}, FleetTemplateFunctions(o));
  absl::Status parsed = set.Parse("t", text);
  if (!parsed.ok()) return parsed;
  return set.Execute("t", Json::object());
}

// pki.h's CheckKeyMatchesCertificate only takes EC/Ed25519 keys.
bool KeyMatches(const std::string& key_pem, const std::string& cert_pem) {
  BIO* kb = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  BIO* cb = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  bool ok = key != nullptr && cert != nullptr && X509_check_private_key(cert, key) == 1;
  EVP_PKEY_free(key);
  X509_free(cert);
  BIO_free(kb);
  BIO_free(cb);
  return ok;
}

std::string R(const std::string& text) {
  absl::StatusOr<std::string> out = Run(text);
  INFO(text << " -> " << out.status());
  REQUIRE(out.ok());
  return *out;
}

std::string Err(const std::string& text) {
  absl::StatusOr<std::string> out = Run(text);
  INFO(text << " -> " << out.status());
  REQUIRE(!out.ok());
  return std::string(out.status().message());
}

TEST_CASE("genCA makes a CA certificate and RSA key", "[crypto]") {
  std::string cert = R(R"({{ $ca := genCA "my-ca" 365 }}{{ $ca.Cert }})");
  std::string key = R(R"({{ $ca := genCA "my-ca" 365 }}{{ $ca.Key }})");
  CHECK(absl::StartsWith(key, "-----BEGIN RSA PRIVATE KEY-----\n"));
  absl::StatusOr<common::CertificateInfo> info = common::ParseCertificate(cert);
  REQUIRE(info.ok());
  CHECK(info->is_ca);
  CHECK(info->common_name == "my-ca");
  CHECK(info->not_before == kNow);
  CHECK(info->not_after == kNow + absl::Hours(24 * 365));
  CHECK(info->server_auth);
  CHECK(info->client_auth);
  // The key belongs to the certificate.
  std::string both = R(R"({{ $ca := genCA "x" 1 }}{{ $ca.Cert }}@@{{ $ca.Key }})");
  size_t at = both.find("@@");
  CHECK(KeyMatches(both.substr(at + 2), both.substr(0, at)));
}

TEST_CASE("genSignedCert chains to its CA and carries the SANs", "[crypto]") {
  std::string out =
      R(R"({{ $ca := genCA "my-ca" 365 }}{{ $c := genSignedCert "svc" (list "10.0.0.1" "::1") )"
        R"((list "svc.ns" "svc.ns.svc") 30 $ca }}{{ $ca.Cert }}@@{{ $c.Cert }}@@{{ $c.Key }})");
  size_t a = out.find("@@");
  size_t b = out.find("@@", a + 2);
  std::string ca = out.substr(0, a), cert = out.substr(a + 2, b - a - 2), key = out.substr(b + 2);
  CHECK(common::VerifyCertificate(cert, ca, kNow + absl::Hours(1)).ok());
  CHECK(KeyMatches(key, cert));
  absl::StatusOr<common::CertificateInfo> info = common::ParseCertificate(cert);
  REQUIRE(info.ok());
  CHECK(!info->is_ca);
  CHECK(info->common_name == "svc");
  CHECK(info->dns_sans == std::vector<std::string>{"svc.ns", "svc.ns.svc"});
  CHECK(info->not_after == kNow + absl::Hours(24 * 30));
  CHECK(info->server_auth);
  CHECK(info->client_auth);
  // A certificate signed by another CA does not verify.
  std::string other = R(R"({{ (genCA "other" 1).Cert }})");
  CHECK(!common::VerifyCertificate(cert, other, kNow + absl::Hours(1)).ok());
}

TEST_CASE("genSelfSignedCert and the WithKey forms", "[crypto]") {
  std::string cert = R(R"({{ (genSelfSignedCert "self" nil (list "a.example") 10).Cert }})");
  absl::StatusOr<common::CertificateInfo> info = common::ParseCertificate(cert);
  REQUIRE(info.ok());
  CHECK(!info->is_ca);
  CHECK(info->dns_sans == std::vector<std::string>{"a.example"});
  CHECK(common::VerifyCertificate(cert, cert, kNow).ok());

  std::string out = R(
      R"({{ $k := genPrivateKey "ecdsa" }}{{ $ca := genCAWithKey "ca" 5 $k }})"
      R"({{ $c := genSignedCertWithKey "leaf" nil nil 5 $ca $k }})"
      R"({{ $s := genSelfSignedCertWithKey "s" nil nil 5 $k }})"
      R"({{ eq $ca.Key $k }} {{ eq $c.Key $k }} {{ eq $s.Key $k }}@@{{ $ca.Cert }}@@{{ $c.Cert }})");
  CHECK(absl::StartsWith(out, "true true true@@"));
  size_t a = out.find("@@");
  size_t b = out.find("@@", a + 2);
  CHECK(common::VerifyCertificate(out.substr(b + 2), out.substr(a + 2, b - a - 2), kNow).ok());
}

TEST_CASE("genPrivateKey PEM types", "[crypto]") {
  CHECK(absl::StartsWith(R(R"({{ genPrivateKey "rsa" }})"), "-----BEGIN RSA PRIVATE KEY-----\n"));
  CHECK(absl::StartsWith(R(R"({{ genPrivateKey "ecdsa" }})"), "-----BEGIN EC PRIVATE KEY-----\n"));
  CHECK(absl::StartsWith(R(R"({{ genPrivateKey "ed25519" }})"), "-----BEGIN PRIVATE KEY-----\n"));
  CHECK(R(R"({{ genPrivateKey "foo" }})") == "Unknown type foo");
}

TEST_CASE("crypto functions reject wrong arguments as Go does", "[crypto]") {
  CHECK(absl::StrContains(Err(R"({{ genCA "x" "365" }})"), "expected integer; found \"365\""));
  CHECK(absl::StrContains(Err(R"({{ genCA 1 365 }})"), "expected string; found 1"));
  CHECK(absl::StrContains(Err(R"({{ $d := "365" }}{{ genCA "x" $d }})"),
                          "wrong type for value; expected int; got string"));
  CHECK(absl::StrContains(Err(R"({{ genSignedCert "x" nil nil 1 "notaca" }})"),
                          "wrong type for value; expected sprig.certificate; got string"));
  CHECK(absl::StrContains(Err(R"({{ genSignedCert "x" nil nil 1 (dict "Cert" "a" "Key" "b") }})"),
                          "expected sprig.certificate; got map[string]interface {}"));
  CHECK(absl::StrContains(Err(R"({{ genSelfSignedCert "x" (splitList "," "a") nil 1 }})"),
                          "expected []interface {}; got []string"));
  CHECK(absl::StrContains(Err(R"({{ genSelfSignedCert "x" (list "nope") nil 1 }})"),
                          "error parsing ip: nope"));
  CHECK(absl::StrContains(Err(R"({{ genSelfSignedCert "x" (list 1) nil 1 }})"),
                          "error parsing ip: 1 is not a string"));
  CHECK(absl::StrContains(Err(R"({{ genSelfSignedCert "x" nil (list 2) 1 }})"),
                          "error processing alternate dns name: 2 is not a string"));
  CHECK(absl::StrContains(Err(R"({{ genCAWithKey "x" 1 "garbage" }})"),
                          "parse private key: no PEM data in input"));
}

}  // namespace
}  // namespace flotilla::common::tmpl
