#include "common/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace flotilla::common {
namespace {

std::string Digest(const EVP_MD* md, absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(out), len);
}

}  // namespace

std::string Sha256Raw(absl::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha256Hex(absl::string_view data) { return HexEncode(Sha256Raw(data)); }
std::string Md5Hex(absl::string_view data) { return HexEncode(Digest(EVP_md5(), data)); }

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::abort();
  }
  return out;
}

std::string RandomHex(size_t n) { return HexEncode(RandomBytes(n)); }

std::string HexEncode(absl::string_view data) { return absl::BytesToHexString(data); }

std::string Base64UrlEncode(absl::string_view data) { return absl::WebSafeBase64Escape(data); }

std::string Base64Encode(absl::string_view data) { return absl::Base64Escape(data); }

absl::StatusOr<std::string> Base64Decode(absl::string_view data) {
  std::string out;
  if (!absl::Base64Unescape(data, &out)) {
    return absl::InvalidArgumentError("not valid base64");
  }
  return out;
}

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace flotilla::common
