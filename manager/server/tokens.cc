#include "manager/server/tokens.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "common/hash.h"
#include "common/selector.h"
#include "common/status_macros.h"

namespace flotilla::manager {

absl::StatusOr<ParsedToken> ParseToken(absl::string_view prefix, absl::string_view token) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3 || parts[0] != prefix || parts[1].empty() || parts[2].size() < 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed token: expected ", prefix, ".<id>.<secret>"));
  }
  return ParsedToken{parts[1], parts[2]};
}

absl::StatusOr<std::pair<std::string, RegistrationTokenRecord>> CreateRegistrationToken(
    Store& store, const common::Clock& clock, const RegistrationTokenOptions& options) {
  if (options.ttl <= absl::ZeroDuration() || options.ttl > kMaxRegistrationTokenTtl) {
    return absl::InvalidArgumentError(absl::StrCat("token ttl must be between 1s and ",
                                                   absl::FormatDuration(kMaxRegistrationTokenTtl)));
  }
  if (options.max_uses < 0)
    return absl::InvalidArgumentError("max uses must be 0 (unlimited) or more");
  for (const auto& [k, v] : options.labels) {
    RETURN_IF_ERROR(common::ValidateLabelKey(k));
    RETURN_IF_ERROR(common::ValidateLabelValue(k, v));
  }
  RegistrationTokenRecord r;
  r.id = common::RandomHex(6);
  std::string secret = common::Base64UrlEncode(common::RandomBytes(32));
  r.secret_sha256 = common::Sha256Hex(secret);
  r.created_by = options.created_by;
  r.created = clock.Now();
  r.expires = r.created + options.ttl;
  r.max_uses = options.max_uses;
  r.labels = options.labels;
  r.cluster_name = options.cluster_name;
  RETURN_IF_ERROR(store.Write([&](Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.InsertRegistrationToken(r));
    AuditEventRecord a;
    a.time = r.created;
    a.actor = options.created_by;
    a.action = "token.create";
    a.resource = "registrationtoken/" + r.id;
    a.outcome = "ok";
    a.details = absl::StrCat("ttl=", absl::FormatDuration(options.ttl), " max_uses=", r.max_uses);
    return tx.AppendAudit(a).status();
  }));
  return std::make_pair(absl::StrCat(kRegistrationTokenPrefix, ".", r.id, ".", secret), r);
}

absl::StatusOr<bool> EnsureAdminToken(Store& store, const common::Clock& clock,
                                      const std::string& path) {
  bool created = false;
  std::string token;
  RETURN_IF_ERROR(store.Write([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto existing, tx.ListApiTokens());
    if (!existing.empty()) return absl::OkStatus();
    ApiTokenRecord r;
    r.id = common::RandomHex(6);
    std::string secret = common::Base64UrlEncode(common::RandomBytes(32));
    r.secret_sha256 = common::Sha256Hex(secret);
    r.role = "admin";
    r.description = "initial admin token";
    r.created = clock.Now();
    RETURN_IF_ERROR(tx.InsertApiToken(r));
    AuditEventRecord a;
    a.time = r.created;
    a.actor = "manager";
    a.action = "apitoken.create";
    a.resource = "apitoken/" + r.id;
    a.outcome = "ok";
    a.details = "role=admin (first start)";
    RETURN_IF_ERROR(tx.AppendAudit(a).status());
    token = absl::StrCat(kApiTokenPrefix, ".", r.id, ".", secret);
    // Written inside the transaction: if the file cannot be written, the token
    // is not stored either, and the next start tries again.
    RETURN_IF_ERROR(common::WriteFileAtomic(path, token + "\n", 0600));
    created = true;
    return absl::OkStatus();
  }));
  return created;
}

absl::StatusOr<std::pair<std::string, ApiTokenRecord>> CreateApiToken(
    Store& store, const common::Clock& clock, const ApiTokenOptions& options) {
  if (options.role != "viewer" && options.role != "deployer" && options.role != "cluster-admin" &&
      options.role != "admin") {
    return absl::InvalidArgumentError(absl::StrCat(
        "role \"", options.role, "\" is not one of viewer, deployer, cluster-admin, admin"));
  }
  if (options.workspace != "*") {
    RETURN_IF_ERROR(common::ValidateLabelValue("workspace", options.workspace));
    if (options.workspace.empty()) {
      return absl::InvalidArgumentError("workspace must be a name or \"*\" (every workspace)");
    }
  }
  if (options.ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("ttl must be positive (or unset: the token never expires)");
  }
  ApiTokenRecord r;
  r.id = common::RandomHex(6);
  const std::string secret = common::Base64UrlEncode(common::RandomBytes(32));
  r.secret_sha256 = common::Sha256Hex(secret);
  r.role = options.role;
  r.workspace = options.workspace;
  r.description = options.description;
  r.created = clock.Now();
  r.expires =
      options.ttl == absl::InfiniteDuration() ? absl::InfiniteFuture() : r.created + options.ttl;
  AuditEventRecord a;
  a.time = r.created;
  a.actor = options.created_by;
  a.action = "apitoken.create";
  a.resource = "apitoken/" + r.id;
  a.outcome = "ok";
  a.details = absl::StrCat("role=", r.role, " workspace=", r.workspace);
  RETURN_IF_ERROR(store.Write([&](Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.InsertApiToken(r));
    return tx.AppendAudit(a).status();
  }));
  return std::make_pair(absl::StrCat(kApiTokenPrefix, ".", r.id, ".", secret), r);
}

absl::StatusOr<ApiTokenRecord> AuthenticateApiToken(Store& store, const common::Clock& clock,
                                                    absl::string_view token) {
  const absl::Status denied = absl::UnauthenticatedError(
      "invalid, expired or revoked API token (send \"authorization: Bearer flta.<id>.<secret>\")");
  auto parsed = ParseToken(kApiTokenPrefix, token);
  if (!parsed.ok()) return denied;
  std::optional<ApiTokenRecord> rec;
  RETURN_IF_ERROR(store.Read([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(rec, tx.GetApiToken(parsed->id));
    return absl::OkStatus();
  }));
  if (!rec || !common::ConstantTimeEquals(rec->secret_sha256, common::Sha256Hex(parsed->secret))) {
    return denied;
  }
  absl::Time now = clock.Now();
  if (rec->revoked_at != absl::InfinitePast() || rec->expires <= now) return denied;
  return *rec;
}

}  // namespace flotilla::manager
