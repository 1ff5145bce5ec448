// RETURN_IF_ERROR / ASSIGN_OR_RETURN: Debian's Abseil (20220623) lacks the
// ABSL_ versions.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#define FLOTILLA_CONCAT_INNER_(a, b) a##b
#define FLOTILLA_CONCAT_(a, b) FLOTILLA_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr) \
  FLOTILLA_RETURN_IF_ERROR_IMPL_(FLOTILLA_CONCAT_(flotilla_status_, __COUNTER__), expr)

#define FLOTILLA_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                               \
    ::absl::Status status = (expr);                  \
    if (!status.ok()) return status;                 \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, rexpr) \
  FLOTILLA_ASSIGN_OR_RETURN_IMPL_(FLOTILLA_CONCAT_(flotilla_statusor_, __COUNTER__), lhs, rexpr)

#define FLOTILLA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                    \
  if (!statusor.ok()) return statusor.status();               \
  lhs = std::move(statusor).value()

namespace flotilla::common {

// Prefixes a status message with context, keeping the code.
inline absl::Status Annotate(const absl::Status& s, absl::string_view context) {
  if (s.ok()) return s;
  return absl::Status(s.code(), std::string(context) + ": " + std::string(s.message()));
}

}  // namespace flotilla::common
