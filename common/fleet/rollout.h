// Staged rollouts (FLEET-SEMANTICS.md §6; Fleet's target/{rollout,partition,
// status}.go): which clusters may move to a bundle's new deploymentID now.
// A pure planner: the controller gives it the targets as they are and applies
// the plan; progress comes only from readiness changes, never from timers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace flotilla::common {

// Fleet's limit(): how many of `count` an int-or-percent allows. The first
// value that is not null wins, else `fallback` ("100%" when that is null too).
// An int is clamped to [0, count]; a string that is a number is taken as is;
// "p%" gives floor(count * p) / 100 with a minimum of 1 (p <= 0 gives 1);
// count <= 0 gives 1. InvalidArgument names `what` for anything else.
absl::StatusOr<int> RolloutLimit(int count, const nlohmann::json& value,
                                 const nlohmann::json& fallback, const std::string& what);

// One cluster a bundle targets, as the controller sees it.
struct RolloutTarget {
  std::string cluster;                // name: auto partitions go in name order
  std::string desired_deployment_id;  // what targeting and rendering give now
  bool has_deployment = false;        // a BundleDeployment exists
  std::string deployment_id;          // what the agent is told to run
  std::string applied_deployment_id;  // what the agent reports as applied
  bool ready = false;
  bool paused = false;  // bundle or cluster paused
  // Flotilla, not Fleet: the cluster has been offline longer than the
  // manager's --offline-after and the bundle sets
  // rolloutStrategy.excludeOfflineClusters. It never counts as unavailable
  // and takes the new deploymentID without using up maxUnavailable, so one
  // dead cluster does not stall the rollout; its agent applies it on return.
  bool offline_excluded = false;
  // Which manual partitions (rolloutStrategy.partitions[] indexes) the
  // cluster falls into; a cluster can be in several, or in none (then it is
  // never rolled out, as in Fleet).
  std::vector<int> partitions;
};

struct PartitionStatus {
  std::string name;
  int count = 0;
  int max_unavailable = 0;
  int unavailable = 0;
};

struct RolloutPlan {
  // Parallel to the targets: does it get a BundleDeployment, and is its
  // deploymentID to become the desired one now?
  std::vector<bool> create;
  std::vector<bool> promote;
  std::vector<PartitionStatus> partitions;
  int max_unavailable = 0;
  int unavailable = 0;  // after the plan
  int max_unavailable_partitions = 0;
  int unavailable_partitions = 0;
};

// Plans one reconcile of a bundle with `strategy` (fleet.yaml
// rolloutStrategy: maxUnavailable, maxUnavailablePartitions,
// autoPartitionSize, autoPartitionThreshold, maxNew, partitions[] with name
// and maxUnavailable). InvalidArgument for a malformed limit.
absl::StatusOr<RolloutPlan> PlanRollout(const nlohmann::json& strategy,
                                        const std::vector<RolloutTarget>& targets);

}  // namespace flotilla::common
