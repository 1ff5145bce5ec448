// Sprig's certificate and key functions (sprig/crypto.go): genPrivateKey,
// genCA, genCAWithKey, genSelfSignedCert, genSelfSignedCertWithKey,
// genSignedCert and genSignedCertWithKey, on OpenSSL.
//
// As in Sprig: generated certificate keys are RSA 2048 (genPrivateKey "rsa"
// is RSA 4096); NotBefore is now (the injected clock) and NotAfter now + 24h
// * daysValid; the serial is a random 128-bit number (the injected random
// source); KeyUsage is keyEncipherment|digitalSignature (plus keyCertSign for
// CAs, which also get CA:TRUE and a subject key id), ExtKeyUsage serverAuth
// and clientAuth, and keys are PEM "RSA PRIVATE KEY" / "EC PRIVATE KEY" /
// "PRIVATE KEY" (PKCS#8, ed25519). The key material itself comes from
// OpenSSL's generator, not the injected source.
//
// Go's `certificate` struct is modelled as a map[string]interface{} with the
// entries Cert and Key, tagged so that genSignedCert accepts only what genCA
// returned (Go rejects other values with a "wrong type" error).
#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/template/sprig_internal.h"

namespace flotilla::common::tmpl::sprig {

namespace {

using PT = ParamType;

struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, ExtFree>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, NamesFree>;

constexpr char kCertTypeName[] = "sprig.certificate";

// Marks maps that stand for Go's sprig.certificate.
const std::shared_ptr<const MethodTable>& CertificateTag() {
  static const auto* tag = new std::shared_ptr<const MethodTable>(std::make_shared<MethodTable>());
  return *tag;
}

std::string OpenSslText() {
  std::string out;
  while (unsigned long err = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(err, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

absl::Status Fail(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", OpenSslText()));
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return std::string();
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<PkeyPtr> GenerateKey(absl::string_view type) {
  PkeyPtr key;
  if (type == "rsa" || type == "rsa4096") {
    key.reset(EVP_RSA_gen(type == "rsa" ? 2048 : 4096));
  } else if (type == "ecdsa") {
    key.reset(EVP_EC_gen("P-256"));
  } else if (type == "ed25519") {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  }
  if (!key) return Fail("failed to generate private key");
  return key;
}

// pemBlockForKey: PKCS#1 for RSA, SEC 1 for EC, PKCS#8 otherwise.
absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return Fail("allocating a BIO");
  int id = EVP_PKEY_get_base_id(key);
  int ok = (id == EVP_PKEY_RSA || id == EVP_PKEY_EC)
               ? PEM_write_bio_PrivateKey_traditional(bio.get(), key, nullptr, nullptr, 0, nullptr,
                                                      nullptr)
               : PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  if (ok != 1) return Fail("encoding private key");
  return BioText(bio.get());
}

int NoPassphrase(char*, int, int, void*) { return 0; }

// parsePrivateKeyPEM.
absl::StatusOr<PkeyPtr> ParseKey(absl::string_view pem) {
  if (pem.find("-----BEGIN ") == absl::string_view::npos) {
    return absl::InvalidArgumentError("no PEM data in input");
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Fail("allocating a BIO");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassphrase, nullptr));
  if (!key) return Fail("parsing private key");
  return key;
}

// getNetIPs / getAlternateDNSStrs: nil or a []interface{} of strings.
absl::StatusOr<std::vector<Value>> InterfaceList(const Value& v) {
  if (v.is_nilish()) return std::vector<Value>{};
  if (!v.is_list() || v.elem_type() != ElemType::kInterface) {
    return absl::InvalidArgumentError(
        absl::StrCat("wrong type for value; expected []interface {}; got ", GoTypeName(v)));
  }
  std::vector<Value> out;
  if (v.list() != nullptr) {
    for (size_t i = 0; i < v.list()->items.size(); ++i) out.push_back(ListElem(*v.list(), i));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseIps(const Value& v) {
  ASSIGN_OR_RETURN(std::vector<Value> items, InterfaceList(v));
  std::vector<std::string> out;
  for (const Value& item : items) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error parsing ip: ", Strval(item), " is not a string"));
    }
    unsigned char buf[16];
    if (inet_pton(AF_INET, item.str().c_str(), buf) == 1) {
      out.emplace_back(reinterpret_cast<char*>(buf), 4);
    } else if (item.str().find('%') == std::string::npos &&
               inet_pton(AF_INET6, item.str().c_str(), buf) == 1) {
      static constexpr unsigned char kV4Prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
      if (std::memcmp(buf, kV4Prefix, 12) == 0) {
        out.emplace_back(reinterpret_cast<char*>(buf + 12), 4);  // Go encodes To4()
      } else {
        out.emplace_back(reinterpret_cast<char*>(buf), 16);
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("error parsing ip: ", item.str()));
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseDns(const Value& v) {
  ASSIGN_OR_RETURN(std::vector<Value> items, InterfaceList(v));
  std::vector<std::string> out;
  for (const Value& item : items) {
    if (!item.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("error processing alternate dns name: ", Strval(item), " is not a string"));
    }
    for (unsigned char c : item.str()) {
      if (c >= 0x80) {
        return absl::InvalidArgumentError(
            absl::StrCat("x509: \"", item.str(), "\" cannot be encoded as an IA5String"));
      }
    }
    out.push_back(item.str());
  }
  return out;
}

struct Spec {
  std::string cn;
  std::vector<std::string> ips;  // 4 or 16 raw bytes each
  std::vector<std::string> dns;
  int64_t days = 0;
  bool is_ca = false;
};

absl::Status AddExt(X509* cert, X509V3_CTX* ctx, int nid, const char* value) {
  ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return Fail(absl::StrCat("adding extension ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

absl::Status SetTime(ASN1_TIME* field, absl::Time t) {
  absl::CivilSecond cs = absl::ToCivilSecond(t, absl::UTCTimeZone());
  if (cs.year() < 0 || cs.year() > 9999) {
    return absl::InvalidArgumentError("x509: invalid certificate validity (year out of range)");
  }
  if (ASN1_TIME_set(field, absl::ToTimeT(t)) == nullptr) return Fail("setting validity");
  return absl::OkStatus();
}

// x509.CreateCertificate of getBaseCertTemplate (+ the CA overrides) for
// `key`, signed by `signer_key` as `issuer` (null: self-signed). Returns the
// certificate PEM.
absl::StatusOr<std::string> BuildCert(const Spec& spec, EVP_PKEY* key, X509* issuer,
                                      EVP_PKEY* signer_key, const Env& env) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return Fail("allocating a certificate");

  // rand.Int(rand.Reader, 2^128).
  unsigned char serial[16];
  for (int w = 0; w < 2; ++w) {
    uint64_t r = env.random->Next();
    for (int i = 0; i < 8; ++i) serial[w * 8 + i] = static_cast<unsigned char>(r >> (56 - 8 * i));
  }
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return Fail("setting the serial number");
  }

  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (!spec.cn.empty() &&
      X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.cn.data()),
                                 static_cast<int>(spec.cn.size()), -1, 0) != 1) {
    return Fail("setting the common name");
  }
  if (X509_set_issuer_name(cert.get(),
                           issuer != nullptr ? X509_get_subject_name(issuer) : subject) != 1) {
    return Fail("setting the issuer");
  }

  // time.Hour * 24 * time.Duration(daysValid), wrapping like Go's int64.
  absl::Time now = env.clock->Now();
  int64_t ns = static_cast<int64_t>(static_cast<uint64_t>(spec.days) * 86'400'000'000'000ULL);
  RETURN_IF_ERROR(SetTime(X509_getm_notBefore(cert.get()), now));
  RETURN_IF_ERROR(SetTime(X509_getm_notAfter(cert.get()), now + absl::Nanoseconds(ns)));
  if (X509_set_pubkey(cert.get(), key) != 1) return Fail("setting the public key");

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  RETURN_IF_ERROR(AddExt(cert.get(), &ctx, NID_key_usage,
                         spec.is_ca ? "critical,digitalSignature,keyEncipherment,keyCertSign"
                                    : "critical,digitalSignature,keyEncipherment"));
  RETURN_IF_ERROR(AddExt(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth"));
  RETURN_IF_ERROR(AddExt(cert.get(), &ctx, NID_basic_constraints,
                         spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE"));
  if (spec.is_ca) RETURN_IF_ERROR(AddExt(cert.get(), &ctx, NID_subject_key_identifier, "hash"));
  if (issuer != nullptr && X509_get0_subject_key_id(issuer) != nullptr) {
    RETURN_IF_ERROR(AddExt(cert.get(), &ctx, NID_authority_key_identifier, "keyid"));
  }
  if (!spec.dns.empty() || !spec.ips.empty()) {
    NamesPtr names(GENERAL_NAMES_new());
    if (!names) return Fail("allocating SANs");
    auto append = [&](int type, const std::string& data) -> absl::Status {
      GENERAL_NAME* gn = GENERAL_NAME_new();
      ASN1_STRING* s =
          ASN1_STRING_type_new(type == GEN_DNS ? V_ASN1_IA5STRING : V_ASN1_OCTET_STRING);
      if (gn == nullptr || s == nullptr ||
          ASN1_STRING_set(s, data.data(), static_cast<int>(data.size())) != 1) {
        GENERAL_NAME_free(gn);
        ASN1_STRING_free(s);
        return Fail("building a SAN");
      }
      GENERAL_NAME_set0_value(gn, type, s);
      if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
        GENERAL_NAME_free(gn);
        return Fail("building a SAN");
      }
      return absl::OkStatus();
    };
    for (const std::string& d : spec.dns) RETURN_IF_ERROR(append(GEN_DNS, d));
    for (const std::string& ip : spec.ips) RETURN_IF_ERROR(append(GEN_IPADD, ip));
    if (X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, names.get(), 0, 0) != 1) {
      return Fail("adding the SANs");
    }
  }

  const EVP_MD* md = EVP_PKEY_get_base_id(signer_key) == EVP_PKEY_ED25519 ? nullptr : EVP_sha256();
  if (X509_sign(cert.get(), signer_key, md) <= 0) return Fail("signing the certificate");

  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert.get()) != 1) return Fail("encoding certificate");
  return BioText(bio.get());
}

absl::StatusOr<Value> Certificate(const std::string& cert_pem, EVP_PKEY* key) {
  ASSIGN_OR_RETURN(std::string key_pem, KeyPem(key));
  Value v = Value::Map({{"Cert", Value::String(cert_pem)}, {"Key", Value::String(key_pem)}});
  v.map()->methods = CertificateTag();
  return v;
}

// The `ca certificate` parameter: only genCA's results.
absl::Status CheckCertificateArg(const Value& v) {
  if (v.is_map() && v.map() != nullptr && v.map()->methods == CertificateTag()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("wrong type for value; expected ", kCertTypeName,
                                                 "; got ", v.is_nil() ? "<nil>" : GoTypeName(v)));
}

std::string EntryString(const Value& cert, const std::string& key) {
  Value v = MapGet(*cert.map(), key);
  return v.is_string() ? v.str() : std::string();
}

absl::StatusOr<Value> GenCa(const std::string& cn, int64_t days, EVP_PKEY* key, const Env& env) {
  Spec spec{cn, {}, {}, days, true};
  ASSIGN_OR_RETURN(std::string cert, BuildCert(spec, key, nullptr, key, env));
  return Certificate(cert, key);
}

absl::StatusOr<Value> GenSelfSigned(std::vector<Value>& a, EVP_PKEY* key, const Env& env) {
  Spec spec;
  spec.cn = a[0].str();
  ASSIGN_OR_RETURN(spec.ips, ParseIps(a[1]));
  ASSIGN_OR_RETURN(spec.dns, ParseDns(a[2]));
  spec.days = a[3].int_value();
  ASSIGN_OR_RETURN(std::string cert, BuildCert(spec, key, nullptr, key, env));
  return Certificate(cert, key);
}

absl::StatusOr<Value> GenSigned(std::vector<Value>& a, EVP_PKEY* key, const Env& env) {
  Spec spec;
  spec.cn = a[0].str();
  ASSIGN_OR_RETURN(spec.ips, ParseIps(a[1]));
  ASSIGN_OR_RETURN(spec.dns, ParseDns(a[2]));
  spec.days = a[3].int_value();
  std::string ca_cert = EntryString(a[4], "Cert");
  std::string ca_key = EntryString(a[4], "Key");
  if (ca_cert.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError("unable to decode certificate");
  }
  BioPtr bio(BIO_new_mem_buf(ca_cert.data(), static_cast<int>(ca_cert.size())));
  X509Ptr issuer(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!issuer) return Fail("error parsing certificate: decodedSignerCert.Bytes");
  absl::StatusOr<PkeyPtr> signer = ParseKey(ca_key);
  if (!signer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "error parsing private key: decodedSignerKey.Bytes: ", signer.status().message()));
  }
  ASSIGN_OR_RETURN(std::string cert, BuildCert(spec, key, issuer.get(), signer->get(), env));
  return Certificate(cert, key);
}

// Go converts arguments in order before the call: the ips and dnsNames
// lists, then the CA. Checked before any key is generated.
absl::Status CheckArgs(const std::vector<Value>& a, bool with_ca) {
  RETURN_IF_ERROR(ParseIps(a[1]).status());
  RETURN_IF_ERROR(ParseDns(a[2]).status());
  if (with_ca) RETURN_IF_ERROR(CheckCertificateArg(a[4]));
  return absl::OkStatus();
}

absl::StatusOr<PkeyPtr> KeyArg(const Value& v) {
  absl::StatusOr<PkeyPtr> key = ParseKey(v.str());
  if (!key.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("parse private key: ", key.status().message()));
  }
  return key;
}

}  // namespace

void AddCryptoFunctions(FuncMap* m, const Env& env) {
  m->Add("genPrivateKey", Sig({PT::kString}),
         [](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           const std::string& type = a[0].str();
           if (type == "dsa") {
             return absl::UnimplementedError("genPrivateKey: dsa keys are not supported");
           }
           if (type != "" && type != "rsa" && type != "ecdsa" && type != "ed25519") {
             return Value::String("Unknown type " + type);
           }
           absl::StatusOr<PkeyPtr> key = GenerateKey(type == "ecdsa"     ? "ecdsa"
                                                     : type == "ed25519" ? "ed25519"
                                                                         : "rsa4096");
           if (!key.ok()) return Value::String(std::string(key.status().message()));
           ASSIGN_OR_RETURN(std::string pem, KeyPem(key->get()));
           return Value::String(std::move(pem));
         });
  m->Add("genCA", Sig({PT::kString, PT::kInt}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey("rsa"));
           return GenCa(a[0].str(), a[1].int_value(), key.get(), env);
         });
  m->Add("genCAWithKey", Sig({PT::kString, PT::kInt, PT::kString}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           ASSIGN_OR_RETURN(PkeyPtr key, KeyArg(a[2]));
           return GenCa(a[0].str(), a[1].int_value(), key.get(), env);
         });
  m->Add("genSelfSignedCert", Sig({PT::kString, PT::kAny, PT::kAny, PT::kInt}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(CheckArgs(a, false));
           ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey("rsa"));
           return GenSelfSigned(a, key.get(), env);
         });
  m->Add("genSelfSignedCertWithKey", Sig({PT::kString, PT::kAny, PT::kAny, PT::kInt, PT::kString}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(CheckArgs(a, false));
           ASSIGN_OR_RETURN(PkeyPtr key, KeyArg(a[4]));
           return GenSelfSigned(a, key.get(), env);
         });
  m->Add("genSignedCert", Sig({PT::kString, PT::kAny, PT::kAny, PT::kInt, PT::kAny}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(CheckArgs(a, true));
           ASSIGN_OR_RETURN(PkeyPtr key, GenerateKey("rsa"));
           return GenSigned(a, key.get(), env);
         });
  m->Add("genSignedCertWithKey",
         Sig({PT::kString, PT::kAny, PT::kAny, PT::kInt, PT::kAny, PT::kString}),
         [env](std::vector<Value>& a, CallContext&) -> absl::StatusOr<Value> {
           RETURN_IF_ERROR(CheckArgs(a, true));
           ASSIGN_OR_RETURN(PkeyPtr key, KeyArg(a[5]));
           return GenSigned(a, key.get(), env);
         });
}

}  // namespace flotilla::common::tmpl::sprig
