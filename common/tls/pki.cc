#include "common/tls/pki.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <climits>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/hash.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

// --- Handles -----------------------------------------------------------------

template <auto kFree>
struct OpenSslDeleter {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, OpenSslDeleter<X509_REQ_free>>;
using X509NamePtr = std::unique_ptr<X509_NAME, OpenSslDeleter<X509_NAME_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter<X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter<BN_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>>;
using Asn1OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpenSslDeleter<ASN1_OCTET_STRING_free>>;
using Asn1Ia5StringPtr = std::unique_ptr<ASN1_IA5STRING, OpenSslDeleter<ASN1_IA5STRING_free>>;
using GeneralNamePtr = std::unique_ptr<GENERAL_NAME, OpenSslDeleter<GENERAL_NAME_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, OpenSslDeleter<GENERAL_NAMES_free>>;
using BasicConstraintsPtr =
    std::unique_ptr<BASIC_CONSTRAINTS, OpenSslDeleter<BASIC_CONSTRAINTS_free>>;
using ExtendedKeyUsagePtr =
    std::unique_ptr<EXTENDED_KEY_USAGE, OpenSslDeleter<EXTENDED_KEY_USAGE_free>>;

struct OpenSslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
template <typename T>
using OpenSslBuffer = std::unique_ptr<T, OpenSslFree>;

constexpr absl::Duration kBackdate = absl::Minutes(5);
constexpr int kCaLifetimeYears = 10;
constexpr int kSerialBytes = 16;  // 128 bits, top bit cleared so the INTEGER is positive.

// Debian's Abseil has its own string_view, not an alias of std::string_view.
absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// --- Errors ------------------------------------------------------------------

// Empties this thread's OpenSSL error queue into one readable string.
std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  if (out.empty()) out = "no OpenSSL error reported";
  return out;
}

// `what` says what was being done; OpenSSL's own text follows.
absl::Status OpenSslError(absl::StatusCode code, std::string_view what) {
  return absl::Status(code, absl::StrCat(AbslView(what), ": ", DrainOpenSslErrors()));
}
absl::Status OpenSslInternal(std::string_view what) {
  return OpenSslError(absl::StatusCode::kInternal, what);
}
absl::Status OpenSslInvalid(std::string_view what) {
  return OpenSslError(absl::StatusCode::kInvalidArgument, what);
}

// Never prompt on a terminal for a passphrase: an encrypted key is an error.
int NoPassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) { return 0; }

// --- BIO helpers -------------------------------------------------------------

absl::StatusOr<BioPtr> ReadBio(std::string_view data) {
  if (data.size() > static_cast<size_t>(INT_MAX)) {
    return absl::InvalidArgumentError("PEM input is too large");
  }
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return OpenSslInternal("creating a memory BIO");
  return bio;
}

absl::StatusOr<BioPtr> WriteBio() {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OpenSslInternal("creating a memory BIO");
  return bio;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return std::string();
  return std::string(data, static_cast<size_t>(len));
}

// --- Keys --------------------------------------------------------------------

// Allowed key types: EC on prime256v1, and Ed25519. InvalidArgument names the
// rejected type (and curve or size) otherwise.
absl::Status CheckAllowedKeyType(EVP_PKEY* pkey, std::string_view whose) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return absl::OkStatus();
  if (EVP_PKEY_is_a(pkey, "EC")) {
    char curve[80] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof curve,
                                       &len) != 1) {
      return OpenSslInvalid(absl::StrCat("reading the curve of the ", AbslView(whose), " EC key"));
    }
    std::string_view name(curve, len);
    if (name == "prime256v1" || name == "P-256") return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(whose), " key type EC on curve ", AbslView(name),
                     " is not allowed; only EC P-256 (prime256v1) and Ed25519 are"));
  }
  const char* type = EVP_PKEY_get0_type_name(pkey);
  return absl::InvalidArgumentError(
      absl::StrCat(AbslView(whose), " key type ", type != nullptr ? type : "unknown", " (",
                   EVP_PKEY_get_bits(pkey),
                   " bits) is not allowed; only EC P-256 (prime256v1) and Ed25519 are"));
}

// The digest to sign with: SHA-256 for EC, none for Ed25519 (it hashes itself).
const EVP_MD* SigningDigest(EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "ED25519")) return nullptr;
  return EVP_sha256();
}

absl::StatusOr<PkeyPtr> GenerateKey() {
  PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!pkey) return OpenSslInternal("generating an EC P-256 key");
  return pkey;
}

absl::StatusOr<PkeyPtr> ParsePrivateKey(std::string_view pem) {
  ASSIGN_OR_RETURN(BioPtr bio, ReadBio(pem));
  PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!pkey) return OpenSslInvalid("not a PEM private key (or it is encrypted)");
  RETURN_IF_ERROR(CheckAllowedKeyType(pkey.get(), "private"));
  return pkey;
}

absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* pkey) {
  ASSIGN_OR_RETURN(BioPtr bio, WriteBio());
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslInternal("encoding the private key as PKCS#8 PEM");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PublicKeyPem(EVP_PKEY* pkey) {
  ASSIGN_OR_RETURN(BioPtr bio, WriteBio());
  if (PEM_write_bio_PUBKEY(bio.get(), pkey) != 1) {
    return OpenSslInternal("encoding the public key as PEM");
  }
  return BioContents(bio.get());
}

// DER SubjectPublicKeyInfo.
absl::StatusOr<std::string> PublicKeyDer(EVP_PKEY* pkey) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pkey, &der);
  if (len <= 0) return OpenSslInternal("encoding the public key as DER");
  OpenSslBuffer<unsigned char> owned(der);
  return std::string(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
}

absl::StatusOr<KeyPair> ToKeyPair(EVP_PKEY* pkey) {
  KeyPair out;
  ASSIGN_OR_RETURN(out.private_key_pem, PrivateKeyPem(pkey));
  ASSIGN_OR_RETURN(out.public_key_pem, PublicKeyPem(pkey));
  return out;
}

// --- Certificates and requests ---------------------------------------------

absl::StatusOr<X509Ptr> ParseX509(std::string_view pem) {
  ASSIGN_OR_RETURN(BioPtr bio, ReadBio(pem));
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!cert) return OpenSslInvalid("not a PEM certificate");
  return cert;
}

absl::StatusOr<std::string> X509Pem(X509* cert) {
  ASSIGN_OR_RETURN(BioPtr bio, WriteBio());
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslInternal("encoding the certificate as PEM");
  }
  return BioContents(bio.get());
}

// Parses a PEM CSR, checks the key type and the request's self-signature, and
// returns the public key it carries.
absl::StatusOr<PkeyPtr> ParseAndVerifyCsr(std::string_view csr_pem) {
  ASSIGN_OR_RETURN(BioPtr bio, ReadBio(csr_pem));
  X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, NoPassphrase, nullptr));
  if (!req) return OpenSslInvalid("not a PEM certificate request");
  EVP_PKEY* pkey = X509_REQ_get0_pubkey(req.get());
  if (pkey == nullptr) return OpenSslInvalid("reading the public key of the certificate request");
  // Reject unwanted key types before spending any work on their signatures.
  RETURN_IF_ERROR(CheckAllowedKeyType(pkey, "certificate request"));
  if (X509_REQ_verify(req.get(), pkey) != 1) {
    return OpenSslInvalid("certificate request signature does not verify with its own public key");
  }
  EVP_PKEY_up_ref(pkey);
  return PkeyPtr(pkey);
}

// A random positive 128-bit serial number.
absl::StatusOr<Asn1IntegerPtr> RandomSerial() {
  unsigned char bytes[kSerialBytes];
  BignumPtr bn(BN_new());
  if (!bn) return OpenSslInternal("allocating a serial number");
  do {
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
      return OpenSslInternal("drawing a random serial number");
    }
    bytes[0] &= 0x7f;
    if (BN_bin2bn(bytes, sizeof bytes, bn.get()) == nullptr) {
      return OpenSslInternal("converting the serial number");
    }
  } while (BN_is_zero(bn.get()));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial) return OpenSslInternal("encoding the serial number");
  return serial;
}

absl::Status SetTime(ASN1_TIME* field, absl::Time t, std::string_view which) {
  // ASN1_TIME_set takes an absolute time_t; it picks UTCTime or
  // GeneralizedTime by year as RFC 5280 requires.
  if (ASN1_TIME_set(field, absl::ToTimeT(t)) == nullptr) {
    return OpenSslInternal(absl::StrCat("setting ", AbslView(which), " to ", absl::FormatTime(t)));
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Time> FromAsn1Time(const ASN1_TIME* t, std::string_view which) {
  struct tm tm;
  std::memset(&tm, 0, sizeof tm);
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return OpenSslInvalid(absl::StrCat("reading the certificate's ", AbslView(which)));
  }
  return absl::FromCivil(absl::CivilSecond(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                                           tm.tm_min, tm.tm_sec),
                         absl::UTCTimeZone());
}

absl::StatusOr<X509NamePtr> NameWithCommonName(std::string_view common_name) {
  X509NamePtr name(X509_NAME_new());
  if (!name) return OpenSslInternal("allocating a subject name");
  if (!common_name.empty()) {
    if (common_name.size() > static_cast<size_t>(INT_MAX) ||
        X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.data()),
                                   static_cast<int>(common_name.size()), -1, 0) != 1) {
      return OpenSslInvalid(absl::StrCat("setting common name \"", AbslView(common_name), "\""));
    }
  }
  return name;
}

// Adds one extension written in OpenSSL's config syntax (a fixed literal
// here, never user input).
absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext) {
    return OpenSslInternal(absl::StrCat("building extension ", OBJ_nid2sn(nid), "=", value));
  }
  if (X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslInternal(absl::StrCat("adding extension ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

// What goes into a DNS or URI SAN must be printable ASCII (IA5String) without
// spaces; anything else would be mis-encoded.
bool IsPrintableAsciiToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

bool IsDnsName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_' &&
        c != '*') {
      return false;
    }
  }
  return true;
}

absl::Status AppendIa5Name(GENERAL_NAMES* names, int type, std::string_view value) {
  Asn1Ia5StringPtr str(ASN1_IA5STRING_new());
  if (!str || ASN1_STRING_set(str.get(), value.data(), static_cast<int>(value.size())) != 1) {
    return OpenSslInternal(absl::StrCat("encoding SAN \"", AbslView(value), "\""));
  }
  GeneralNamePtr name(GENERAL_NAME_new());
  if (!name) return OpenSslInternal("allocating a SAN");
  GENERAL_NAME_set0_value(name.get(), type, str.release());
  if (sk_GENERAL_NAME_push(names, name.get()) <= 0) return OpenSslInternal("adding a SAN");
  name.release();
  return absl::OkStatus();
}

// An IPv4/IPv6 literal becomes an IP SAN; anything else must be a DNS name.
absl::Status AppendHostName(GENERAL_NAMES* names, const std::string& host) {
  unsigned char addr[16];
  int addr_len = 0;
  if (inet_pton(AF_INET, host.c_str(), addr) == 1) {
    addr_len = 4;
  } else if (inet_pton(AF_INET6, host.c_str(), addr) == 1) {
    addr_len = 16;
  }
  if (addr_len > 0) {
    Asn1OctetStringPtr ip(ASN1_OCTET_STRING_new());
    if (!ip || ASN1_OCTET_STRING_set(ip.get(), addr, addr_len) != 1) {
      return OpenSslInternal(absl::StrCat("encoding IP SAN ", host));
    }
    GeneralNamePtr name(GENERAL_NAME_new());
    if (!name) return OpenSslInternal("allocating a SAN");
    GENERAL_NAME_set0_value(name.get(), GEN_IPADD, ip.release());
    if (sk_GENERAL_NAME_push(names, name.get()) <= 0) return OpenSslInternal("adding a SAN");
    name.release();
    return absl::OkStatus();
  }
  if (!IsDnsName(host)) {
    return absl::InvalidArgumentError(
        absl::StrCat("host \"", host, "\" is neither an IP address nor a DNS name"));
  }
  return AppendIa5Name(names, GEN_DNS, host);
}

// Everything a certificate we issue varies by.
struct CertificateSpec {
  std::string_view common_name;
  absl::Time not_before;
  absl::Time not_after;
  bool is_ca = false;
  const char* key_usage = nullptr;           // config syntax, e.g. "critical,digitalSignature"
  const char* extended_key_usage = nullptr;  // e.g. "clientAuth"; nullptr for none
  GENERAL_NAMES* sans = nullptr;             // not owned; nullptr for none
};

// Builds and signs a certificate for `subject_key`. With `issuer` == nullptr
// the certificate is self-signed (issuer name = subject name).
absl::StatusOr<std::string> BuildCertificate(const CertificateSpec& spec, EVP_PKEY* subject_key,
                                             X509* issuer, EVP_PKEY* issuer_key) {
  X509Ptr cert(X509_new());
  if (!cert) return OpenSslInternal("allocating a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslInternal("setting the certificate version");
  }
  ASSIGN_OR_RETURN(Asn1IntegerPtr serial, RandomSerial());
  if (X509_set_serialNumber(cert.get(), serial.get()) != 1) {
    return OpenSslInternal("setting the serial number");
  }
  ASSIGN_OR_RETURN(X509NamePtr subject, NameWithCommonName(spec.common_name));
  if (X509_set_subject_name(cert.get(), subject.get()) != 1) {
    return OpenSslInternal("setting the subject name");
  }
  X509_NAME* issuer_name = issuer != nullptr ? X509_get_subject_name(issuer) : subject.get();
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1) {
    return OpenSslInternal("setting the issuer name");
  }
  RETURN_IF_ERROR(SetTime(X509_getm_notBefore(cert.get()), spec.not_before, "notBefore"));
  RETURN_IF_ERROR(SetTime(X509_getm_notAfter(cert.get()), spec.not_after, "notAfter"));
  if (X509_set_pubkey(cert.get(), subject_key) != 1) {
    return OpenSslInternal("setting the subject public key");
  }

  X509V3_CTX ctx{};
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_basic_constraints,
                               spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_key_usage, spec.key_usage));
  if (spec.extended_key_usage != nullptr) {
    RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_ext_key_usage, spec.extended_key_usage));
  }
  RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr) {
    RETURN_IF_ERROR(AddExtension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always"));
  }
  if (spec.sans != nullptr && sk_GENERAL_NAME_num(spec.sans) > 0) {
    if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, spec.sans, 0, X509V3_ADD_DEFAULT) !=
        1) {
      return OpenSslInternal("adding the subjectAltName extension");
    }
  }

  if (X509_sign(cert.get(), issuer_key, SigningDigest(issuer_key)) <= 0) {
    return OpenSslInternal("signing the certificate");
  }
  return X509Pem(cert.get());
}

absl::Status CheckLifetime(absl::Duration lifetime) {
  if (lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat("certificate lifetime must be positive, got ",
                                                   absl::FormatDuration(lifetime)));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> IsCaCertificate(X509* cert) {
  int crit = 0;
  BasicConstraintsPtr bc(static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert, NID_basic_constraints, &crit, nullptr)));
  if (!bc) {
    if (crit == -1) return false;  // absent
    return OpenSslInvalid("reading the basicConstraints extension");
  }
  return bc->ca != 0;
}

std::string CommonNameOf(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return std::string();
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return std::string();
  OpenSslBuffer<unsigned char> owned(utf8);
  return std::string(reinterpret_cast<const char*>(utf8), static_cast<size_t>(len));
}

std::string Ia5ToString(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

}  // namespace

// --- Public API --------------------------------------------------------------

absl::StatusOr<KeyPair> GenerateKeyPair() {
  ERR_clear_error();
  ASSIGN_OR_RETURN(PkeyPtr pkey, GenerateKey());
  return ToKeyPair(pkey.get());
}

absl::StatusOr<KeyPair> LoadKeyPair(std::string_view private_key_pem) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(PkeyPtr pkey, ParsePrivateKey(private_key_pem));
  return ToKeyPair(pkey.get());
}

absl::StatusOr<std::string> CreateCsr(const KeyPair& key, std::string_view common_name) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(PkeyPtr pkey, ParsePrivateKey(key.private_key_pem));
  X509ReqPtr req(X509_REQ_new());
  if (!req) return OpenSslInternal("allocating a certificate request");
  if (X509_REQ_set_version(req.get(), 0L) != 1) {
    return OpenSslInternal("setting the certificate request version");
  }
  ASSIGN_OR_RETURN(X509NamePtr subject, NameWithCommonName(common_name));
  if (X509_REQ_set_subject_name(req.get(), subject.get()) != 1) {
    return OpenSslInternal("setting the certificate request subject");
  }
  if (X509_REQ_set_pubkey(req.get(), pkey.get()) != 1) {
    return OpenSslInternal("setting the certificate request public key");
  }
  if (X509_REQ_sign(req.get(), pkey.get(), SigningDigest(pkey.get())) <= 0) {
    return OpenSslInternal("signing the certificate request");
  }
  ASSIGN_OR_RETURN(BioPtr bio, WriteBio());
  if (PEM_write_bio_X509_REQ(bio.get(), req.get()) != 1) {
    return OpenSslInternal("encoding the certificate request as PEM");
  }
  return BioContents(bio.get());
}

absl::StatusOr<CsrInfo> VerifyCsr(std::string_view csr_pem) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(PkeyPtr pkey, ParseAndVerifyCsr(csr_pem));
  CsrInfo info;
  ASSIGN_OR_RETURN(info.public_key_pem, PublicKeyPem(pkey.get()));
  ASSIGN_OR_RETURN(std::string der, PublicKeyDer(pkey.get()));
  info.public_key_sha256 = Sha256Hex(der);
  return info;
}

absl::StatusOr<CertificateInfo> ParseCertificate(std::string_view cert_pem) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(X509Ptr cert, ParseX509(cert_pem));
  CertificateInfo info;

  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  if (!serial) return OpenSslInvalid("reading the certificate serial number");
  OpenSslBuffer<char> hex(BN_bn2hex(serial.get()));
  if (!hex) return OpenSslInternal("formatting the certificate serial number");
  info.serial_hex = absl::AsciiStrToLower(hex.get());

  ASSIGN_OR_RETURN(info.not_before, FromAsn1Time(X509_get0_notBefore(cert.get()), "notBefore"));
  ASSIGN_OR_RETURN(info.not_after, FromAsn1Time(X509_get0_notAfter(cert.get()), "notAfter"));

  int crit = 0;
  GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, &crit, nullptr)));
  if (!sans && crit != -1) return OpenSslInvalid("reading the subjectAltName extension");
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans.get(), i);
    if (name->type == GEN_URI) {
      info.uri_sans.push_back(Ia5ToString(name->d.uniformResourceIdentifier));
    } else if (name->type == GEN_DNS) {
      info.dns_sans.push_back(Ia5ToString(name->d.dNSName));
    }
  }

  info.common_name = CommonNameOf(cert.get());

  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (pkey == nullptr) return OpenSslInvalid("reading the certificate public key");
  ASSIGN_OR_RETURN(std::string der, PublicKeyDer(pkey));
  info.spki_sha256 = Sha256Hex(der);

  ASSIGN_OR_RETURN(info.is_ca, IsCaCertificate(cert.get()));

  ExtendedKeyUsagePtr eku(static_cast<EXTENDED_KEY_USAGE*>(
      X509_get_ext_d2i(cert.get(), NID_ext_key_usage, &crit, nullptr)));
  if (!eku && crit != -1) return OpenSslInvalid("reading the extendedKeyUsage extension");
  for (int i = 0; eku && i < sk_ASN1_OBJECT_num(eku.get()); ++i) {
    int nid = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku.get(), i));
    if (nid == NID_client_auth) info.client_auth = true;
    if (nid == NID_server_auth) info.server_auth = true;
  }
  return info;
}

absl::StatusOr<std::vector<std::string>> SplitPemCertificates(std::string_view pem_bundle) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(BioPtr bio, ReadBio(pem_bundle));
  std::vector<std::string> out;
  while (true) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
    if (!cert) {
      unsigned long err = ERR_peek_last_error();
      if (ERR_GET_LIB(err) == ERR_LIB_PEM && ERR_GET_REASON(err) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the normal end of the bundle
        break;
      }
      return OpenSslInvalid(
          absl::StrCat("reading certificate #", out.size() + 1, " of the PEM bundle"));
    }
    ASSIGN_OR_RETURN(std::string pem, X509Pem(cert.get()));
    out.push_back(std::move(pem));
  }
  if (out.empty()) return absl::InvalidArgumentError("no PEM certificate found in the bundle");
  return out;
}

absl::StatusOr<std::string> SpkiPin(std::string_view cert_pem) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(X509Ptr cert, ParseX509(cert_pem));
  EVP_PKEY* pkey = X509_get0_pubkey(cert.get());
  if (pkey == nullptr) return OpenSslInvalid("reading the certificate public key");
  ASSIGN_OR_RETURN(std::string der, PublicKeyDer(pkey));
  return absl::StrCat("sha256:", Sha256Hex(der));
}

absl::Status VerifyCertificate(std::string_view cert_pem, std::string_view ca_pem, absl::Time now) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(X509Ptr cert, ParseX509(cert_pem));
  ASSIGN_OR_RETURN(X509Ptr ca, ParseX509(ca_pem));
  X509StorePtr store(X509_STORE_new());
  if (!store) return OpenSslInternal("allocating a certificate store");
  if (X509_STORE_add_cert(store.get(), ca.get()) != 1) {
    return OpenSslInternal("adding the CA to the certificate store");
  }
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx) return OpenSslInternal("allocating a verification context");
  if (X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1) {
    return OpenSslInternal("initialising the verification context");
  }
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), absl::ToTimeT(now));
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();  // the verify error below is the useful part
    return absl::InvalidArgumentError(
        absl::StrCat("certificate does not verify against the CA at ", absl::FormatTime(now), ": ",
                     X509_verify_cert_error_string(err), " (X509_V_ERR ", err, ", depth ",
                     X509_STORE_CTX_get_error_depth(ctx.get()), ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::Create(std::string_view common_name,
                                                                  const Clock& clock) {
  ERR_clear_error();
  if (common_name.empty()) return absl::InvalidArgumentError("CA common name must not be empty");
  ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey());
  CertificateSpec spec;
  spec.common_name = common_name;
  spec.not_before = clock.Now() - kBackdate;
  absl::CivilSecond start = absl::ToCivilSecond(spec.not_before, absl::UTCTimeZone());
  spec.not_after =
      absl::FromCivil(absl::CivilSecond(start.year() + kCaLifetimeYears, start.month(), start.day(),
                                        start.hour(), start.minute(), start.second()),
                      absl::UTCTimeZone());
  spec.is_ca = true;
  spec.key_usage = "critical,keyCertSign,cRLSign";
  ASSIGN_OR_RETURN(std::string cert_pem, BuildCertificate(spec, key.get(), nullptr, key.get()));
  ASSIGN_OR_RETURN(std::string key_pem, PrivateKeyPem(key.get()));
  return CertificateAuthority(std::move(cert_pem), std::move(key_pem));
}

absl::Status CheckKeyMatchesCertificate(std::string_view key_pem, std::string_view cert_pem) {
  ERR_clear_error();
  auto cert = ParseX509(cert_pem);
  if (!cert.ok()) return Annotate(cert.status(), "certificate");
  auto key = ParsePrivateKey(key_pem);
  if (!key.ok()) return Annotate(key.status(), "private key");
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("the private key does not match the certificate");
  }
  return absl::OkStatus();
}

absl::StatusOr<CertificateAuthority> CertificateAuthority::Load(std::string_view cert_pem,
                                                                std::string_view key_pem) {
  ERR_clear_error();
  ASSIGN_OR_RETURN(X509Ptr cert, ParseX509(cert_pem));
  ASSIGN_OR_RETURN(PkeyPtr key, ParsePrivateKey(key_pem));
  ASSIGN_OR_RETURN(bool is_ca, IsCaCertificate(cert.get()));
  if (!is_ca) return absl::InvalidArgumentError("certificate is not a CA (basicConstraints)");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return OpenSslInvalid("CA private key does not match the CA certificate");
  }
  return CertificateAuthority(std::string(cert_pem), std::string(key_pem));
}

absl::StatusOr<std::pair<std::string, std::string>> CertificateAuthority::IssueServerCertificate(
    const std::vector<std::string>& hosts, absl::Duration lifetime, const Clock& clock) const {
  ERR_clear_error();
  if (hosts.empty()) {
    return absl::InvalidArgumentError("a server certificate needs at least one host");
  }
  RETURN_IF_ERROR(CheckLifetime(lifetime));
  GeneralNamesPtr sans(GENERAL_NAMES_new());
  if (!sans) return OpenSslInternal("allocating subjectAltNames");
  for (const std::string& host : hosts) {
    RETURN_IF_ERROR(AppendHostName(sans.get(), host));
  }
  ASSIGN_OR_RETURN(X509Ptr ca, ParseX509(cert_pem_));
  ASSIGN_OR_RETURN(PkeyPtr ca_key, ParsePrivateKey(key_pem_));
  ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey());

  absl::Time now = clock.Now();
  CertificateSpec spec;
  spec.common_name = hosts.front();
  spec.not_before = now - kBackdate;
  spec.not_after = now + lifetime;
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = "serverAuth";
  spec.sans = sans.get();
  ASSIGN_OR_RETURN(std::string cert_pem, BuildCertificate(spec, key.get(), ca.get(), ca_key.get()));
  ASSIGN_OR_RETURN(std::string key_pem, PrivateKeyPem(key.get()));
  return std::make_pair(std::move(cert_pem), std::move(key_pem));
}

absl::StatusOr<std::string> CertificateAuthority::SignClientCertificate(
    std::string_view csr_pem, std::string_view spiffe_uri, std::string_view common_name,
    absl::Duration lifetime, const Clock& clock) const {
  ERR_clear_error();
  RETURN_IF_ERROR(CheckLifetime(lifetime));
  if (!spiffe_uri.starts_with("spiffe://") || !IsPrintableAsciiToken(spiffe_uri)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", AbslView(spiffe_uri), "\" is not a spiffe:// URI of printable ASCII without spaces"));
  }
  ASSIGN_OR_RETURN(PkeyPtr subject_key, ParseAndVerifyCsr(csr_pem));
  GeneralNamesPtr sans(GENERAL_NAMES_new());
  if (!sans) return OpenSslInternal("allocating subjectAltNames");
  RETURN_IF_ERROR(AppendIa5Name(sans.get(), GEN_URI, spiffe_uri));
  ASSIGN_OR_RETURN(X509Ptr ca, ParseX509(cert_pem_));
  ASSIGN_OR_RETURN(PkeyPtr ca_key, ParsePrivateKey(key_pem_));

  absl::Time now = clock.Now();
  CertificateSpec spec;
  spec.common_name = common_name;
  spec.not_before = now - kBackdate;
  spec.not_after = now + lifetime;
  spec.key_usage = "critical,digitalSignature";
  spec.extended_key_usage = "clientAuth";
  spec.sans = sans.get();
  return BuildCertificate(spec, subject_key.get(), ca.get(), ca_key.get());
}

}  // namespace flotilla::common
