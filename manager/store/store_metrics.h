// The store's Prometheus series (docs/metrics.md), recorded into
// common::DefaultMetrics() by SqliteStore::Write and Read:
// flotilla_store_transaction_duration_seconds{kind} and
// flotilla_store_transaction_errors_total{kind}, kind = read | write.
#pragma once

#include <chrono>

#include "absl/status/status.h"
#include "common/metrics.h"

namespace flotilla::manager {

inline constexpr char kStoreTransactionDurationSeconds[] =
    "flotilla_store_transaction_duration_seconds";
inline constexpr char kStoreTransactionErrorsTotal[] = "flotilla_store_transaction_errors_total";

// Declares the store's families in `registry` with both kinds at zero.
// Idempotent.
void DeclareStoreMetrics(common::MetricsRegistry& registry);

// Times one Store::Write or Store::Read call from its start (waiting for the
// connection included: that is what the caller waits) to Done(). Not
// thread-safe; one per call.
class StoreTransactionTimer {
 public:
  enum class Kind { kRead, kWrite };
  explicit StoreTransactionTimer(Kind kind);

  // Observes the duration, counts an error when `status` is not OK (the
  // transaction was rolled back or never began), and returns `status`.
  absl::Status Done(absl::Status status);

 private:
  const char* const kind_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace flotilla::manager
