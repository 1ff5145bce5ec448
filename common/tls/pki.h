// Keys, certificate requests and the two manager CAs, on OpenSSL 3.
//
// The manager holds two CAs (SECURITY.md §1.4): the *server CA* signs the
// manager's TLS server certificate and is what agents and the CLI trust
// (<data-dir>/ca.crt, pinned by SPKI hash); the *agent CA* signs short-lived
// agent client certificates carrying one URI SAN
// spiffe://<trust-domain>/cluster/<id>. All keys are ECDSA P-256.
//
// Thread-safety: every function is safe to call concurrently; a
// CertificateAuthority is immutable after Load/Create.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace flotilla::common {

// A private key (PEM, PKCS#8) and its public half.
struct KeyPair {
  std::string private_key_pem;
  std::string public_key_pem;  // SubjectPublicKeyInfo PEM
};

absl::StatusOr<KeyPair> GenerateKeyPair();
// Validates a PEM private key and derives its public key.
absl::StatusOr<KeyPair> LoadKeyPair(std::string_view private_key_pem);

// A PKCS#10 request signed with `key`; the subject CN is informational only.
absl::StatusOr<std::string> CreateCsr(const KeyPair& key, std::string_view common_name);

// What a verified CSR carries that we use: only the public key.
struct CsrInfo {
  std::string public_key_pem;
  std::string public_key_sha256;  // hex sha256 of the DER SubjectPublicKeyInfo
};
// Parses a PEM CSR, verifies its self-signature and that the key is an allowed
// type (EC P-256 or Ed25519). InvalidArgument names what is wrong.
absl::StatusOr<CsrInfo> VerifyCsr(std::string_view csr_pem);

struct CertificateInfo {
  std::string serial_hex;  // lowercase, no leading zeros stripped
  absl::Time not_before;
  absl::Time not_after;
  std::vector<std::string> uri_sans;
  std::vector<std::string> dns_sans;
  std::string common_name;
  std::string spki_sha256;  // hex sha256 of the DER SubjectPublicKeyInfo
  bool is_ca = false;
  bool client_auth = false;
  bool server_auth = false;
};
absl::StatusOr<CertificateInfo> ParseCertificate(std::string_view cert_pem);
// Every certificate in a PEM bundle, in order.
absl::StatusOr<std::vector<std::string>> SplitPemCertificates(std::string_view pem_bundle);

// "sha256:<hex>" of the certificate's DER SubjectPublicKeyInfo: what agents
// pass as --ca-pin.
absl::StatusOr<std::string> SpkiPin(std::string_view cert_pem);

// OK if `key_pem` is the private key of `cert_pem`'s public key; else
// InvalidArgument saying they do not belong together (or which one is unreadable).
absl::Status CheckKeyMatchesCertificate(std::string_view key_pem, std::string_view cert_pem);

// Verifies that `cert_pem` chains to `ca_pem` (signature and validity at
// `now`). Used by tests and by the manager when it re-reads certificates.
absl::Status VerifyCertificate(std::string_view cert_pem, std::string_view ca_pem, absl::Time now);

class CertificateAuthority {
 public:
  // A new self-signed CA: CA:TRUE, keyCertSign|cRLSign, 10-year life from
  // now - 5min, random 128-bit serial.
  static absl::StatusOr<CertificateAuthority> Create(std::string_view common_name,
                                                     const Clock& clock);
  static absl::StatusOr<CertificateAuthority> Load(std::string_view cert_pem,
                                                   std::string_view key_pem);

  const std::string& cert_pem() const { return cert_pem_; }
  const std::string& key_pem() const { return key_pem_; }

  // A server certificate (EKU serverAuth, CA:FALSE) for `hosts` (DNS names or
  // IP addresses, each put in the right SAN type), signed by this CA.
  // Returns {cert_pem, key_pem}.
  absl::StatusOr<std::pair<std::string, std::string>> IssueServerCertificate(
      const std::vector<std::string>& hosts, absl::Duration lifetime, const Clock& clock) const;

  // An agent client certificate for the public key in `csr_pem` (verified with
  // VerifyCsr; the CSR's subject and extensions are ignored): random 128-bit
  // serial, notBefore = now - 5min, notAfter = now + lifetime, CA:FALSE, EKU
  // clientAuth only, one URI SAN `spiffe_uri`, CN = `common_name`.
  absl::StatusOr<std::string> SignClientCertificate(std::string_view csr_pem,
                                                    std::string_view spiffe_uri,
                                                    std::string_view common_name,
                                                    absl::Duration lifetime,
                                                    const Clock& clock) const;

 private:
  CertificateAuthority(std::string cert_pem, std::string key_pem)
      : cert_pem_(std::move(cert_pem)), key_pem_(std::move(key_pem)) {}
  std::string cert_pem_;
  std::string key_pem_;
};

}  // namespace flotilla::common
