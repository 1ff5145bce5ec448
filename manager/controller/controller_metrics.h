// The controller's Prometheus series (docs/metrics.md), recorded into
// common::DefaultMetrics(): GitRepo fetch duration and failures, and render
// duration. FleetController records them; FleetMetrics declares them so a
// scrape lists them before the first fetch.
#pragma once

#include "absl/status/status.h"
#include "common/metrics.h"

namespace flotilla::manager {

inline constexpr char kGitRepoFetchDurationSeconds[] = "flotilla_gitrepo_fetch_duration_seconds";
inline constexpr char kGitRepoFetchErrorsTotal[] = "flotilla_gitrepo_fetch_errors_total";
inline constexpr char kRenderDurationSeconds[] = "flotilla_render_duration_seconds";

// Declares the controller's families in `registry` and exports every known
// label combination at zero. Idempotent.
void DeclareControllerMetrics(common::MetricsRegistry& registry);

// common::DefaultMetrics() with the controller's families declared.
common::MetricsRegistry& ControllerMetrics();

// Where a GitRepo sync failed before it had a commit.
enum class FetchStage {
  kOpen,         // the local cache of the remote could not be opened
  kCredentials,  // the GitRepo's secrets could not be read
  kFetch,        // the fetch itself (network, auth, missing ref, timeout)
};
// Counts one failure in flotilla_gitrepo_fetch_errors_total, with `reason`
// "repository", "credentials", "timeout" (a fetch that hit
// ControllerOptions::fetch_timeout) or "fetch".
void RecordFetchError(FetchStage stage, const absl::Status& status);

}  // namespace flotilla::manager
