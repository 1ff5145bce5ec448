#include "manager/controller/controller_metrics.h"

namespace flotilla::manager {
namespace {

constexpr const char* kFetchReasons[] = {"repository", "credentials", "timeout", "fetch"};
constexpr const char* kRenderKinds[] = {"yaml", "kustomize", "helm"};

}  // namespace

void DeclareControllerMetrics(common::MetricsRegistry& registry) {
  // A fetch is a network round trip or a clone: from tens of milliseconds
  // up to the two-minute fetch timeout.
  registry.DeclareHistogram(kGitRepoFetchDurationSeconds,
                            "Time to fetch a GitRepo's branch or revision from its remote, "
                            "failed fetches included.",
                            {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120});
  registry.InitSeries(kGitRepoFetchDurationSeconds, {});
  registry.Declare(kGitRepoFetchErrorsTotal, "counter",
                   "GitRepo syncs that failed before a commit was fetched, by reason.");
  for (const char* reason : kFetchReasons) {
    registry.InitSeries(kGitRepoFetchErrorsTotal, {{"reason", reason}});
  }
  registry.DeclareHistogram(kRenderDurationSeconds,
                            "Time to render one bundle for one set of options (render cache "
                            "misses only), by bundle kind.",
                            {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  for (const char* kind : kRenderKinds) {
    registry.InitSeries(kRenderDurationSeconds, {{"kind", kind}});
  }
}

common::MetricsRegistry& ControllerMetrics() {
  static const bool declared = (DeclareControllerMetrics(common::DefaultMetrics()), true);
  (void)declared;
  return common::DefaultMetrics();
}

void RecordFetchError(FetchStage stage, const absl::Status& status) {
  const char* reason = "fetch";
  switch (stage) {
    case FetchStage::kOpen:
      reason = "repository";
      break;
    case FetchStage::kCredentials:
      reason = "credentials";
      break;
    case FetchStage::kFetch:
      reason = status.code() == absl::StatusCode::kDeadlineExceeded ? "timeout" : "fetch";
      break;
  }
  ControllerMetrics().Add(kGitRepoFetchErrorsTotal, {{"reason", reason}}, 1);
}

}  // namespace flotilla::manager
