// The audit log's hash chain (SECURITY.md §2): each row's hash covers the
// previous row's hash and every field of the row, so editing, deleting or
// reordering a stored row breaks every hash after it. The manager computes
// it when it appends a row; `flotilla audit verify` recomputes it from the
// rows the API returns.
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace flotilla::common {

// The fields of one audit row, as stored.
struct AuditChainFields {
  int64_t seq = 0;
  int64_t time_unix_millis = 0;
  absl::string_view actor;
  absl::string_view action;
  absl::string_view resource;
  absl::string_view outcome;
  absl::string_view details;
};

// The hash before the first row.
inline constexpr absl::string_view kAuditChainGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

// sha256 hex over `previous_hash` and the length-prefixed fields (so no two
// different rows encode the same way).
std::string AuditChainHash(absl::string_view previous_hash, const AuditChainFields& row);

}  // namespace flotilla::common
