#include "common/audit_chain.h"

#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace flotilla::common {
namespace {

void AppendField(std::string& out, absl::string_view value) {
  absl::StrAppend(&out, value.size(), ":", value, "\n");
}

}  // namespace

std::string AuditChainHash(absl::string_view previous_hash, const AuditChainFields& row) {
  std::string encoded = "flotilla-audit-v1\n";
  AppendField(encoded, previous_hash);
  AppendField(encoded, absl::StrCat(row.seq));
  AppendField(encoded, absl::StrCat(row.time_unix_millis));
  AppendField(encoded, row.actor);
  AppendField(encoded, row.action);
  AppendField(encoded, row.resource);
  AppendField(encoded, row.outcome);
  AppendField(encoded, row.details);
  return Sha256Hex(encoded);
}

}  // namespace flotilla::common
