#include "manager/store/store_metrics.h"

#include <utility>

namespace flotilla::manager {
namespace {

common::MetricsRegistry& StoreMetrics() {
  static const bool declared = (DeclareStoreMetrics(common::DefaultMetrics()), true);
  (void)declared;
  return common::DefaultMetrics();
}

}  // namespace

void DeclareStoreMetrics(common::MetricsRegistry& registry) {
  // SQLite transactions on a local file: from tens of microseconds (a read
  // from the page cache) to seconds (a large scan's write under fsync).
  registry.DeclareHistogram(
      kStoreTransactionDurationSeconds,
      "Time of one store transaction, waiting for the connection "
      "included, by kind (read or write).",
      {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5});
  registry.Declare(kStoreTransactionErrorsTotal, "counter",
                   "Store transactions that failed (rolled back or never began), by kind.");
  for (const char* kind : {"read", "write"}) {
    registry.InitSeries(kStoreTransactionDurationSeconds, {{"kind", kind}});
    registry.InitSeries(kStoreTransactionErrorsTotal, {{"kind", kind}});
  }
}

StoreTransactionTimer::StoreTransactionTimer(Kind kind)
    : kind_(kind == Kind::kWrite ? "write" : "read"), start_(std::chrono::steady_clock::now()) {}

absl::Status StoreTransactionTimer::Done(absl::Status status) {
  // Measured on the monotonic clock, as common::ScopedTimer does: an
  // observation of real time that nothing decides on.
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  common::MetricsRegistry& registry = StoreMetrics();
  registry.Observe(kStoreTransactionDurationSeconds, {{"kind", kind_}}, seconds);
  if (!status.ok()) registry.Add(kStoreTransactionErrorsTotal, {{"kind", kind_}}, 1);
  return status;
}

}  // namespace flotilla::manager
