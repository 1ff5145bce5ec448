// The manager's /metrics body (docs/metrics.md lists every series).
//
// Counters and histograms are recorded where things happen: the controller
// (GitRepo fetches, renders) and the store (transactions) into
// common::DefaultMetrics(), the agent service into the registry it is given.
// The fleet gauges (bundles, BundleDeployments and clusters by state,
// GitRepos, connected agents) are not kept up to date on every change:
// Scrape computes them from the controller's read API, so they can never
// drift from what the API shows.
#pragma once

#include <string>

#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "manager/controller/fleet_controller.h"

namespace flotilla::manager {

class FleetMetrics {
 public:
  // Declares the fleet gauges and flotilla_build_info{version}, and the
  // controller's and the store's families, in `registry` (normally
  // common::DefaultMetrics(), where the controller and the store record).
  // Neither pointer is owned; both must outlive this object.
  FleetMetrics(FleetController* controller, common::MetricsRegistry* registry,
               const std::string& version);

  // Sets the fleet gauges from the controller's current state and renders
  // the whole registry in the text format 0.0.4. Thread-safe; overlapping
  // scrapes are serialised so that each renders one consistent snapshot.
  std::string Scrape();

 private:
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  FleetController* const controller_;
  common::MetricsRegistry* const registry_;
  absl::Mutex mu_;
};

}  // namespace flotilla::manager
