#include "common/tls/pki.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "common/clock.h"

namespace flotilla::common {
namespace {

using Catch::Matchers::Contains;

// --- OpenSSL helpers for building inputs the library itself never makes -----

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct ReqFree {
  void operator()(X509_REQ* r) const { X509_REQ_free(r); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* n) const { GENERAL_NAMES_free(n); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using ReqPtr = std::unique_ptr<X509_REQ, ReqFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, NamesFree>;

std::string BioString(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

// A PEM CSR for `key`, signed with `md` (nullptr for Ed25519).
std::string CsrFor(EVP_PKEY* key, const EVP_MD* md) {
  ReqPtr req(X509_REQ_new());
  REQUIRE(req);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  REQUIRE(X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                     reinterpret_cast<const unsigned char*>("foreign"), -1, -1,
                                     0) == 1);
  REQUIRE(X509_REQ_set_pubkey(req.get(), key) == 1);
  REQUIRE(X509_REQ_sign(req.get(), key, md) > 0);
  BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_X509_REQ(bio.get(), req.get()) == 1);
  return BioString(bio.get());
}

// The DER bytes of a PEM CSR.
std::string CsrDer(const std::string& pem) {
  BioPtr in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  ReqPtr req(PEM_read_bio_X509_REQ(in.get(), nullptr, nullptr, nullptr));
  REQUIRE(req);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  REQUIRE(len > 0);
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// Arbitrary bytes wrapped as a CERTIFICATE REQUEST PEM block, without parsing.
std::string DerToCsrPem(const std::string& der) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio(bio.get(), "CERTIFICATE REQUEST", "",
                        reinterpret_cast<const unsigned char*>(der.data()),
                        static_cast<long>(der.size())) > 0);
  return BioString(bio.get());
}

// The IP-address SANs of a certificate, as text (CertificateInfo has none).
std::vector<std::string> IpSans(const std::string& cert_pem) {
  BioPtr in(BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size())));
  X509Ptr cert(PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  REQUIRE(cert);
  NamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_IPADD) continue;
    const ASN1_OCTET_STRING* ip = name->d.iPAddress;
    char buf[INET6_ADDRSTRLEN] = {0};
    int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
    REQUIRE(inet_ntop(family, ASN1_STRING_get0_data(ip), buf, sizeof buf) != nullptr);
    out.emplace_back(buf);
  }
  return out;
}

bool IsLowerHex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

constexpr char kSpiffe[] = "spiffe://flotilla.test/cluster/c-0001";

CertificateAuthority MakeCa(const std::string& name, const Clock& clock) {
  auto ca = CertificateAuthority::Create(name, clock);
  REQUIRE(ca.ok());
  return *std::move(ca);
}

std::string MakeClientCert(const CertificateAuthority& ca, const Clock& clock,
                           absl::Duration lifetime = absl::Hours(24)) {
  auto key = GenerateKeyPair();
  REQUIRE(key.ok());
  auto csr = CreateCsr(*key, "agent");
  REQUIRE(csr.ok());
  auto cert = ca.SignClientCertificate(*csr, kSpiffe, "c-0001", lifetime, clock);
  REQUIRE(cert.ok());
  return *cert;
}

// --- Keys --------------------------------------------------------------------

// A fresh key pair is P-256, its private half is PKCS#8 PEM, and loading that
// PEM back yields exactly the same pair.
TEST_CASE("A generated key pair is P-256 PKCS#8 and round-trips through LoadKeyPair") {
  auto key = GenerateKeyPair();
  REQUIRE(key.ok());
  CHECK_THAT(key->private_key_pem, Contains("-----BEGIN PRIVATE KEY-----"));
  CHECK_THAT(key->public_key_pem, Contains("-----BEGIN PUBLIC KEY-----"));

  BioPtr bio(
      BIO_new_mem_buf(key->public_key_pem.data(), static_cast<int>(key->public_key_pem.size())));
  PkeyPtr pub(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  REQUIRE(pub);
  CHECK(EVP_PKEY_is_a(pub.get(), "EC") == 1);
  char curve[64] = {0};
  size_t len = 0;
  REQUIRE(EVP_PKEY_get_utf8_string_param(pub.get(), "group", curve, sizeof curve, &len) == 1);
  CHECK(std::string(curve, len) == "prime256v1");

  auto loaded = LoadKeyPair(key->private_key_pem);
  REQUIRE(loaded.ok());
  CHECK(loaded->private_key_pem == key->private_key_pem);
  CHECK(loaded->public_key_pem == key->public_key_pem);

  auto other = GenerateKeyPair();
  REQUIRE(other.ok());
  CHECK(other->public_key_pem != key->public_key_pem);
}

// Text that is not a PEM private key is refused as bad input with OpenSSL's reason.
TEST_CASE("LoadKeyPair rejects text that is not a private key") {
  auto loaded = LoadKeyPair("hello, world");
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(loaded.status().message()), Contains("not a PEM private key"));
  CHECK_THAT(std::string(loaded.status().message()), Contains("error:"));
}

// An agent may hold an Ed25519 key: it loads, and the CSR made from it
// verifies. An RSA key does not load, and the message names its type.
TEST_CASE("LoadKeyPair accepts an Ed25519 key and rejects an RSA key naming its type") {
  PkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  REQUIRE(ed);
  BioPtr ed_bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(ed_bio.get(), ed.get(), nullptr, nullptr, 0, nullptr,
                                        nullptr) == 1);
  auto ed_key = LoadKeyPair(BioString(ed_bio.get()));
  REQUIRE(ed_key.ok());
  auto csr = CreateCsr(*ed_key, "ed-agent");
  REQUIRE(csr.ok());
  auto info = VerifyCsr(*csr);
  REQUIRE(info.ok());
  CHECK(info->public_key_pem == ed_key->public_key_pem);

  PkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  REQUIRE(rsa);
  BioPtr rsa_bio(BIO_new(BIO_s_mem()));
  REQUIRE(PEM_write_bio_PKCS8PrivateKey(rsa_bio.get(), rsa.get(), nullptr, nullptr, 0, nullptr,
                                        nullptr) == 1);
  auto rsa_key = LoadKeyPair(BioString(rsa_bio.get()));
  REQUIRE_FALSE(rsa_key.ok());
  CHECK(rsa_key.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(rsa_key.status().message()),
             Contains("private key type RSA (2048 bits) is not allowed"));
}

// --- CSRs --------------------------------------------------------------------

// A CSR made by CreateCsr passes VerifyCsr, which hands back the signer's public key.
TEST_CASE("A CSR made from a generated key verifies and carries that key") {
  auto key = GenerateKeyPair();
  REQUIRE(key.ok());
  auto csr = CreateCsr(*key, "my-cluster");
  REQUIRE(csr.ok());
  CHECK_THAT(*csr, Contains("-----BEGIN CERTIFICATE REQUEST-----"));

  auto info = VerifyCsr(*csr);
  REQUIRE(info.ok());
  CHECK(info->public_key_pem == key->public_key_pem);
  CHECK(info->public_key_sha256.size() == 64);
  CHECK(IsLowerHex(info->public_key_sha256));
}

// Garbage gets a clear "not a PEM certificate request".
TEST_CASE("VerifyCsr rejects garbage as not a PEM certificate request") {
  auto info = VerifyCsr("-----BEGIN NONSENSE-----\nAAAA\n-----END NONSENSE-----\n");
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(info.status().message()), Contains("not a PEM certificate request"));
}

// Someone edits the subject inside a valid CSR (same length, so the DER still
// parses): the self-signature no longer matches.
TEST_CASE("VerifyCsr rejects a CSR whose signed content was altered") {
  auto key = GenerateKeyPair();
  REQUIRE(key.ok());
  auto csr = CreateCsr(*key, "tamper-me");
  REQUIRE(csr.ok());
  std::string der = CsrDer(*csr);
  size_t at = der.find("tamper-me");
  REQUIRE(at != std::string::npos);
  der[at] = 'T';

  auto info = VerifyCsr(DerToCsrPem(der));
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(info.status().message()),
             Contains("certificate request signature does not verify"));
}

// The last byte of the DER is the tail of the ECDSA signature value; flipping
// it keeps the structure intact but breaks the signature.
TEST_CASE("VerifyCsr rejects a CSR whose signature bytes were altered") {
  auto key = GenerateKeyPair();
  REQUIRE(key.ok());
  auto csr = CreateCsr(*key, "agent");
  REQUIRE(csr.ok());
  std::string der = CsrDer(*csr);
  der.back() = static_cast<char>(der.back() ^ 0x01);

  auto info = VerifyCsr(DerToCsrPem(der));
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(info.status().message()),
             Contains("certificate request signature does not verify"));
}

// An agent sends a perfectly valid RSA-2048 CSR: the key type is not on the
// allow-list, and the message says which type it was.
TEST_CASE("VerifyCsr rejects an RSA-2048 CSR and names the key type") {
  PkeyPtr rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048)));
  REQUIRE(rsa);
  auto info = VerifyCsr(CsrFor(rsa.get(), EVP_sha256()));
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(info.status().message()), Contains("key type RSA (2048 bits)"));
  CHECK_THAT(std::string(info.status().message()), Contains("is not allowed"));
}

// An EC key on P-384 is EC but not the allowed curve; the message names the curve.
TEST_CASE("VerifyCsr rejects an EC key on a curve other than P-256 and names the curve") {
  PkeyPtr p384(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  REQUIRE(p384);
  auto info = VerifyCsr(CsrFor(p384.get(), EVP_sha384()));
  REQUIRE_FALSE(info.ok());
  CHECK(info.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(info.status().message()), Contains("EC on curve secp384r1"));
}

// Ed25519 is on the allow-list, and the CA signs a client certificate for it.
TEST_CASE("VerifyCsr accepts an Ed25519 CSR and the CA signs it") {
  PkeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  REQUIRE(ed);
  std::string csr = CsrFor(ed.get(), nullptr);
  auto info = VerifyCsr(csr);
  REQUIRE(info.ok());

  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  auto cert = ca.SignClientCertificate(csr, kSpiffe, "c-0001", absl::Hours(1), clock);
  REQUIRE(cert.ok());
  auto parsed = ParseCertificate(*cert);
  REQUIRE(parsed.ok());
  CHECK(parsed->spki_sha256 == info->public_key_sha256);
}

// --- CAs ---------------------------------------------------------------------

// A new CA at a known simulated time: every CertificateInfo field is exact.
TEST_CASE("A new CA is self-signed, marked CA and valid for ten years from five minutes ago") {
  SimulatedClock clock(absl::FromUnixSeconds(1'700'000'000));  // 2023-11-14 22:13:20 UTC
  CertificateAuthority ca = MakeCa("flotilla server CA", clock);
  CHECK_THAT(ca.key_pem(), Contains("-----BEGIN PRIVATE KEY-----"));

  auto info = ParseCertificate(ca.cert_pem());
  REQUIRE(info.ok());
  CHECK(info->is_ca);
  CHECK_FALSE(info->client_auth);
  CHECK_FALSE(info->server_auth);
  CHECK(info->common_name == "flotilla server CA");
  CHECK(info->not_before == clock.Now() - absl::Minutes(5));
  CHECK(info->not_after ==
        absl::FromCivil(absl::CivilSecond(2033, 11, 14, 22, 8, 20), absl::UTCTimeZone()));
  CHECK(info->uri_sans.empty());
  CHECK(info->dns_sans.empty());
  CHECK(IsLowerHex(info->serial_hex));
  CHECK(info->serial_hex.size() <= 32);
  CHECK(info->spki_sha256.size() == 64);
  CHECK(IsLowerHex(info->spki_sha256));

  CHECK(VerifyCertificate(ca.cert_pem(), ca.cert_pem(), clock.Now()).ok());
}

// A CA reloaded from its own PEMs is usable; pairing its certificate with a
// different key is refused.
TEST_CASE("A CA reloads from its PEMs and refuses a key that is not its own") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  auto loaded = CertificateAuthority::Load(ca.cert_pem(), ca.key_pem());
  REQUIRE(loaded.ok());
  CHECK(loaded->cert_pem() == ca.cert_pem());
  std::string cert = MakeClientCert(*loaded, clock);
  CHECK(VerifyCertificate(cert, ca.cert_pem(), clock.Now()).ok());

  auto stranger = GenerateKeyPair();
  REQUIRE(stranger.ok());
  auto mismatched = CertificateAuthority::Load(ca.cert_pem(), stranger->private_key_pem);
  REQUIRE_FALSE(mismatched.ok());
  CHECK(mismatched.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(mismatched.status().message()),
             Contains("CA private key does not match the CA certificate"));
}

// A leaf certificate is not a CA and cannot be loaded as one.
TEST_CASE("CertificateAuthority::Load refuses a certificate that is not a CA") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("server-ca", clock);
  auto server = ca.IssueServerCertificate({"localhost"}, absl::Hours(1), clock);
  REQUIRE(server.ok());
  auto loaded = CertificateAuthority::Load(server->first, server->second);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(loaded.status().message()), Contains("certificate is not a CA"));
}

// --- Server certificates -----------------------------------------------------

// IP literals (v4 and v6) go into IP SANs, names into DNS SANs; the
// certificate is for servers only, and its CN is the first host.
TEST_CASE("A server certificate puts IP literals in IP SANs and names in DNS SANs") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("server-ca", clock);
  auto issued =
      ca.IssueServerCertificate({"127.0.0.1", "localhost", "::1"}, absl::Hours(48), clock);
  REQUIRE(issued.ok());
  const auto& [cert_pem, key_pem] = *issued;
  CHECK_THAT(key_pem, Contains("-----BEGIN PRIVATE KEY-----"));

  auto info = ParseCertificate(cert_pem);
  REQUIRE(info.ok());
  CHECK(info->dns_sans == std::vector<std::string>{"localhost"});
  CHECK(IpSans(cert_pem) == std::vector<std::string>{"127.0.0.1", "::1"});
  CHECK(info->uri_sans.empty());
  CHECK(info->common_name == "127.0.0.1");
  CHECK(info->server_auth);
  CHECK_FALSE(info->client_auth);
  CHECK_FALSE(info->is_ca);
  CHECK(info->not_before == clock.Now() - absl::Minutes(5));
  CHECK(info->not_after == clock.Now() + absl::Hours(48));
  CHECK(VerifyCertificate(cert_pem, ca.cert_pem(), clock.Now()).ok());

  // The returned key is the certificate's key.
  auto key = LoadKeyPair(key_pem);
  REQUIRE(key.ok());
  auto csr = CreateCsr(*key, "x");
  REQUIRE(csr.ok());
  auto csr_info = VerifyCsr(*csr);
  REQUIRE(csr_info.ok());
  CHECK(csr_info->public_key_sha256 == info->spki_sha256);
}

// No hosts, a host that is neither a name nor an address, or a zero lifetime
// are the caller's mistakes.
TEST_CASE("IssueServerCertificate refuses no hosts, a malformed host and a zero lifetime") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("server-ca", clock);

  auto none = ca.IssueServerCertificate({}, absl::Hours(1), clock);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(none.status().message()), Contains("at least one host"));

  auto bad = ca.IssueServerCertificate({"localhost", "evil,DNS:x y"}, absl::Hours(1), clock);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad.status().message()),
             Contains("\"evil,DNS:x y\" is neither an IP address nor a DNS name"));

  auto zero = ca.IssueServerCertificate({"localhost"}, absl::ZeroDuration(), clock);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(zero.status().message()), Contains("lifetime must be positive"));
}

// --- Client certificates -----------------------------------------------------

// An agent certificate: one SPIFFE URI SAN, clientAuth only, not a CA, the
// CSR's public key, notBefore backdated 5 minutes and notAfter = now + lifetime.
TEST_CASE("A client certificate carries one SPIFFE URI, clientAuth only, and the CSR's key") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  auto key = GenerateKeyPair();
  REQUIRE(key.ok());
  auto csr = CreateCsr(*key, "whatever-the-agent-says");
  REQUIRE(csr.ok());
  auto csr_info = VerifyCsr(*csr);
  REQUIRE(csr_info.ok());

  auto cert = ca.SignClientCertificate(*csr, kSpiffe, "c-0001", absl::Hours(24), clock);
  REQUIRE(cert.ok());
  auto info = ParseCertificate(*cert);
  REQUIRE(info.ok());
  CHECK(info->uri_sans == std::vector<std::string>{kSpiffe});
  CHECK(info->dns_sans.empty());
  CHECK(IpSans(*cert).empty());
  CHECK(info->common_name == "c-0001");
  CHECK(info->client_auth);
  CHECK_FALSE(info->server_auth);
  CHECK_FALSE(info->is_ca);
  CHECK(info->spki_sha256 == csr_info->public_key_sha256);
  CHECK(info->not_before == clock.Now() - absl::Minutes(5));
  CHECK(info->not_after == clock.Now() + absl::Hours(24));
}

// Serials are random 128-bit numbers, so two certificates never share one.
TEST_CASE("Two client certificates from the same CA get different serial numbers") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  auto a = ParseCertificate(MakeClientCert(ca, clock));
  auto b = ParseCertificate(MakeClientCert(ca, clock));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->serial_hex != b->serial_hex);
  CHECK(IsLowerHex(a->serial_hex));
  CHECK(IsLowerHex(b->serial_hex));
}

// The certificate chains to the CA that signed it and to no other.
TEST_CASE("A client certificate verifies against its CA and not against another CA") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  CertificateAuthority other = MakeCa("some-other-ca", clock);
  std::string cert = MakeClientCert(ca, clock);

  CHECK(VerifyCertificate(cert, ca.cert_pem(), clock.Now()).ok());

  absl::Status wrong = VerifyCertificate(cert, other.cert_pem(), clock.Now());
  CHECK(wrong.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(wrong.message()), Contains("unable to get local issuer certificate"));
}

// An impostor CA that copies the real CA's name is still not taken as the
// issuer: its key identifier does not match the certificate's authority key id.
TEST_CASE("A client certificate does not verify against an impostor CA with the same name") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  CertificateAuthority impostor = MakeCa("agent-ca", clock);
  std::string cert = MakeClientCert(ca, clock);

  absl::Status wrong = VerifyCertificate(cert, impostor.cert_pem(), clock.Now());
  CHECK(wrong.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(wrong.message()), Contains("does not verify against the CA"));
  CHECK_THAT(std::string(wrong.message()), Contains("unable to get local issuer certificate"));
}

// Verification uses the `now` it is given: after notAfter the certificate
// has expired, before notBefore it is not yet valid.
TEST_CASE("A client certificate fails verification outside its validity window") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  std::string cert = MakeClientCert(ca, clock, absl::Hours(24));

  CHECK(VerifyCertificate(cert, ca.cert_pem(), clock.Now() + absl::Hours(23)).ok());

  absl::Status expired = VerifyCertificate(cert, ca.cert_pem(), clock.Now() + absl::Hours(25));
  CHECK(expired.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(expired.message()), Contains("certificate has expired"));

  absl::Status early = VerifyCertificate(cert, ca.cert_pem(), clock.Now() - absl::Minutes(6));
  CHECK(early.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(early.message()), Contains("certificate is not yet valid"));
}

// A non-positive lifetime, a non-SPIFFE URI or an unusable CSR are refused
// before anything is signed.
TEST_CASE("SignClientCertificate refuses a bad lifetime, URI or CSR") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("agent-ca", clock);
  auto key = GenerateKeyPair();
  REQUIRE(key.ok());
  auto csr = CreateCsr(*key, "agent");
  REQUIRE(csr.ok());

  auto zero = ca.SignClientCertificate(*csr, kSpiffe, "c", absl::ZeroDuration(), clock);
  REQUIRE_FALSE(zero.ok());
  CHECK(zero.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(zero.status().message()), Contains("lifetime must be positive"));

  auto negative = ca.SignClientCertificate(*csr, kSpiffe, "c", -absl::Hours(1), clock);
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.status().code() == absl::StatusCode::kInvalidArgument);

  auto uri = ca.SignClientCertificate(*csr, "https://x/cluster/1", "c", absl::Hours(1), clock);
  REQUIRE_FALSE(uri.ok());
  CHECK(uri.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(uri.status().message()), Contains("is not a spiffe:// URI"));

  auto garbage = ca.SignClientCertificate("nope", kSpiffe, "c", absl::Hours(1), clock);
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(garbage.status().message()), Contains("not a PEM certificate request"));
}

// --- Pins and bundles --------------------------------------------------------

// The pin depends only on the certificate's key: stable across calls,
// different for different CAs, and equal to "sha256:" + spki_sha256.
TEST_CASE("SpkiPin is stable for a certificate and differs between CAs") {
  SimulatedClock clock;
  CertificateAuthority a = MakeCa("ca-a", clock);
  CertificateAuthority b = MakeCa("ca-b", clock);
  auto pin1 = SpkiPin(a.cert_pem());
  auto pin2 = SpkiPin(a.cert_pem());
  auto pin_b = SpkiPin(b.cert_pem());
  REQUIRE(pin1.ok());
  REQUIRE(pin2.ok());
  REQUIRE(pin_b.ok());
  CHECK(*pin1 == *pin2);
  CHECK(*pin1 != *pin_b);
  CHECK(pin1->rfind("sha256:", 0) == 0);
  CHECK(pin1->size() == 7 + 64);
  auto info = ParseCertificate(a.cert_pem());
  REQUIRE(info.ok());
  CHECK(*pin1 == "sha256:" + info->spki_sha256);

  auto bad = SpkiPin("not a certificate");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(bad.status().message()), Contains("not a PEM certificate"));
}

// A bundle of two certificates (with a key block in between, which is not a
// certificate and is skipped) splits into the two, in order.
TEST_CASE("SplitPemCertificates returns each certificate of a bundle in order") {
  SimulatedClock clock;
  CertificateAuthority a = MakeCa("ca-a", clock);
  CertificateAuthority b = MakeCa("ca-b", clock);
  auto split = SplitPemCertificates(a.cert_pem() + a.key_pem() + "\n" + b.cert_pem());
  REQUIRE(split.ok());
  REQUIRE(split->size() == 2);
  CHECK((*split)[0] == a.cert_pem());
  CHECK((*split)[1] == b.cert_pem());
}

// Text with no certificate in it is an error, not an empty list.
TEST_CASE("SplitPemCertificates rejects text that holds no certificate") {
  auto split = SplitPemCertificates("garbage\n");
  REQUIRE_FALSE(split.ok());
  CHECK(split.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(split.status().message()), Contains("no PEM certificate found"));
}

// A bundle whose second block is a corrupt certificate is refused, naming the block.
TEST_CASE("SplitPemCertificates rejects a bundle with a corrupt certificate") {
  SimulatedClock clock;
  CertificateAuthority a = MakeCa("ca-a", clock);
  auto split = SplitPemCertificates(
      a.cert_pem() + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  REQUIRE_FALSE(split.ok());
  CHECK(split.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(split.status().message()),
             Contains("reading certificate #2 of the PEM bundle"));
}

TEST_CASE("CheckKeyMatchesCertificate accepts the pair and names a mismatch or a bad input") {
  SimulatedClock clock;
  CertificateAuthority ca = MakeCa("match-ca", clock);
  auto issued = ca.IssueServerCertificate({"127.0.0.1"}, absl::Hours(1), clock);
  REQUIRE(issued.ok());
  const auto& [cert_pem, key_pem] = *issued;
  CHECK(CheckKeyMatchesCertificate(key_pem, cert_pem).ok());

  auto other = GenerateKeyPair();
  REQUIRE(other.ok());
  absl::Status mismatch = CheckKeyMatchesCertificate(other->private_key_pem, cert_pem);
  CHECK(mismatch.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(mismatch.message()), Contains("does not match the certificate"));

  absl::Status bad_key = CheckKeyMatchesCertificate("not a key", cert_pem);
  CHECK_FALSE(bad_key.ok());
  CHECK_THAT(std::string(bad_key.message()), Contains("private key"));
  absl::Status bad_cert = CheckKeyMatchesCertificate(key_pem, "not a certificate");
  CHECK_FALSE(bad_cert.ok());
  CHECK_THAT(std::string(bad_cert.message()), Contains("certificate"));
}

}  // namespace
}  // namespace flotilla::common
