// Digests, encodings and randomness, on OpenSSL.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::common {

std::string Sha256Hex(absl::string_view data);
std::string Sha256Raw(absl::string_view data);
std::string Md5Hex(absl::string_view data);

// Cryptographically secure random bytes (RAND_bytes). Aborts if the RNG fails,
// which on Linux means the kernel has no entropy source at all.
std::string RandomBytes(size_t n);
// Lowercase hex of n random bytes.
std::string RandomHex(size_t n);

std::string HexEncode(absl::string_view data);
// URL-safe base64 without padding (tokens), and standard base64 (PEM-like uses).
std::string Base64UrlEncode(absl::string_view data);
std::string Base64Encode(absl::string_view data);
absl::StatusOr<std::string> Base64Decode(absl::string_view data);

// Compares in time independent of where the inputs differ.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

}  // namespace flotilla::common
