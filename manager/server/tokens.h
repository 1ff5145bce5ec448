// Registration tokens (flt1.<id>.<secret>) and API tokens (flta.<id>.<secret>):
// the secret is 256 random bits, shown once; the store keeps only its SHA-256.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "manager/store/store.h"

namespace flotilla::manager {

inline constexpr absl::string_view kRegistrationTokenPrefix = "flt1";
inline constexpr absl::string_view kApiTokenPrefix = "flta";

struct ParsedToken {
  std::string id;
  std::string secret;
};
// Splits "<prefix>.<id>.<secret>"; InvalidArgument (never echoing the secret)
// if the shape is wrong.
absl::StatusOr<ParsedToken> ParseToken(absl::string_view prefix, absl::string_view token);

struct RegistrationTokenOptions {
  absl::Duration ttl = absl::Hours(1);
  int max_uses = 0;
  std::map<std::string, std::string> labels;
  std::string cluster_name;
  std::string created_by;
};
inline constexpr absl::Duration kMaxRegistrationTokenTtl = absl::Hours(24);

// Creates and stores a token; returns {token string, record}.
absl::StatusOr<std::pair<std::string, RegistrationTokenRecord>> CreateRegistrationToken(
    Store& store, const common::Clock& clock, const RegistrationTokenOptions& options);

// If no API token exists yet, creates an admin token and writes it to `path`
// (mode 0600). Returns true if it created one.
absl::StatusOr<bool> EnsureAdminToken(Store& store, const common::Clock& clock,
                                      const std::string& path);

struct ApiTokenOptions {
  std::string role;             // viewer | deployer | cluster-admin | admin (checked)
  std::string workspace = "*";  // one workspace, or "*"
  std::string description;
  absl::Duration ttl = absl::InfiniteDuration();
  std::string created_by;  // the actor, for the audit row
};
// Creates and stores an API token with its audit row; returns {token
// string (shown once), record}. InvalidArgument for an unknown role, a bad
// workspace name or a non-positive TTL.
absl::StatusOr<std::pair<std::string, ApiTokenRecord>> CreateApiToken(
    Store& store, const common::Clock& clock, const ApiTokenOptions& options);

// Verifies "flta.<id>.<secret>" against the store: Unauthenticated for an
// unknown, wrong, expired or revoked token (one message for all, so a caller
// learns nothing about which part was wrong).
absl::StatusOr<ApiTokenRecord> AuthenticateApiToken(Store& store, const common::Clock& clock,
                                                    absl::string_view token);

}  // namespace flotilla::manager
