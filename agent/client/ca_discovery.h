// Trust on first use, done safely: with only a `sha256:<hex>` pin of the
// manager CA's public key (from `flotilla token create`), the agent opens a
// TLS connection without verification, takes the certificate chain the
// manager presents, and keeps the certificate whose SPKI hash equals the pin.
// Everything after that is verified against that CA.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace flotilla::agent {

// `address` is HOST:PORT. NotFound if no certificate in the chain matches the
// pin; Unavailable if the manager cannot be reached.
absl::StatusOr<std::string> DiscoverCaByPin(const std::string& address, const std::string& pin);

}  // namespace flotilla::agent
