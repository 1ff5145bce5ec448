#include "agent/client/ca_discovery.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/tls/pki.h"

namespace flotilla::agent {
namespace {

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};

std::string PemOf(X509* cert) {
  std::unique_ptr<BIO, BioFree> mem(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(mem.get(), cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(mem.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace

absl::StatusOr<std::string> DiscoverCaByPin(const std::string& address, const std::string& pin) {
  if (pin.rfind("sha256:", 0) != 0 || pin.size() != 7 + 64) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ca-pin must be sha256:<64 hex digits>, got \"", pin, "\""));
  }
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return absl::InternalError("SSL_CTX_new failed");
  // No verification here on purpose: the pin is the check.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>("\x02h2"), 3);
  std::unique_ptr<BIO, BioFree> bio(BIO_new_ssl_connect(ctx.get()));
  if (!bio) return absl::InternalError("BIO_new_ssl_connect failed");
  BIO_set_conn_hostname(bio.get(), address.c_str());
  if (BIO_do_connect(bio.get()) <= 0 || BIO_do_handshake(bio.get()) <= 0) {
    char buf[256];
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    return absl::UnavailableError(
        absl::StrCat("cannot reach the manager at ", address, " to discover its CA: ", buf));
  }
  SSL* ssl = nullptr;
  BIO_get_ssl(bio.get(), &ssl);
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    std::string pem = PemOf(sk_X509_value(chain, i));
    auto got = common::SpkiPin(pem);
    if (got.ok() && *got == pin) {
      auto info = common::ParseCertificate(pem);
      if (info.ok() && info->is_ca) return pem;
    }
  }
  return absl::NotFoundError(absl::StrCat(
      "the manager at ", address, " presented no CA certificate matching ", pin,
      "; check the pin printed by `flotilla token create`, or that you reach the right manager"));
}

}  // namespace flotilla::agent
