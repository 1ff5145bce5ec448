// Staged rollouts as Fleet plans them (FLEET-SEMANTICS.md §6,
// target/{rollout,partition,status}.go): limit() rounding, and which
// clusters get the new deploymentID after each readiness change.
#include "common/fleet/rollout.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace flotilla::common {
namespace {

using Json = nlohmann::json;

int Limit(int count, const Json& value, const Json& fallback = nullptr) {
  auto l = RolloutLimit(count, value, fallback, "maxUnavailable");
  INFO(l.status().ToString());
  REQUIRE(l.ok());
  return *l;
}

TEST_CASE("limit() clamps ints, floors percentages with a minimum of 1", "[rollout]") {
  CHECK(Limit(10, 3) == 3);
  CHECK(Limit(10, 20) == 10);
  CHECK(Limit(10, -1) == 0);
  CHECK(Limit(10, 0) == 0);
  CHECK(Limit(10, "25%") == 2);
  CHECK(Limit(10, "5%") == 1);  // floor 0.5 -> 0 -> at least 1
  CHECK(Limit(10, "0%") == 1);  // p <= 0 gives 1
  CHECK(Limit(3, "33.3%") == 1);
  CHECK(Limit(200, "33.3%") == 66);
  CHECK(Limit(10, "150%") == 10);
  CHECK(Limit(0, 5) == 1);  // no targets: 1, as Fleet
  CHECK(Limit(10, "5") == 5);
  CHECK(Limit(10, "50") == 50);  // a numeric string is taken as is (Fleet)
  CHECK(Limit(10, nullptr, "25%") == 2);
  CHECK(Limit(10, nullptr) == 10);  // default 100%

  auto bad = RolloutLimit(10, "lots", nullptr, "rolloutStrategy maxUnavailable");
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        "rolloutStrategy maxUnavailable: \"lots\" must be an integer or a percentage ending "
        "with %, like \"25%\"");
  CHECK(RolloutLimit(10, "x%", nullptr, "m").status().message() ==
        "m: \"x%\" is not a number followed by %");
  CHECK(RolloutLimit(10, true, nullptr, "m").status().code() == absl::StatusCode::kInvalidArgument);
}

// Clusters all Ready on version "old"; the bundle now renders "new".
std::vector<RolloutTarget> Fleet(int n, const std::string& prefix = "c") {
  std::vector<RolloutTarget> targets;
  for (int i = 0; i < n; ++i) {
    RolloutTarget t;
    t.cluster = absl::StrCat(prefix, i < 10 ? "0" : "", i);
    t.desired_deployment_id = "new";
    t.has_deployment = true;
    t.deployment_id = "old";
    t.applied_deployment_id = "old";
    t.ready = true;
    targets.push_back(t);
  }
  return targets;
}

// Applies a plan as the controller and agents would: promoted clusters are
// told "new"; created ones exist.
void Apply(std::vector<RolloutTarget>& targets, const RolloutPlan& plan) {
  for (size_t i = 0; i < targets.size(); ++i) {
    if (plan.create[i]) targets[i].has_deployment = true;
    if (plan.promote[i]) targets[i].deployment_id = targets[i].desired_deployment_id;
  }
}

// The agents apply what they were told and become Ready.
void Converge(std::vector<RolloutTarget>& targets) {
  for (RolloutTarget& t : targets) {
    if (!t.has_deployment) continue;
    t.applied_deployment_id = t.deployment_id;
    t.ready = true;
  }
}

std::vector<std::string> Promoted(const std::vector<RolloutTarget>& targets,
                                  const RolloutPlan& plan) {
  std::vector<std::string> out;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (plan.promote[i]) out.push_back(targets[i].cluster);
  }
  return out;
}

RolloutPlan Plan(const Json& strategy, const std::vector<RolloutTarget>& targets) {
  auto plan = PlanRollout(strategy, targets);
  INFO(plan.status().ToString());
  REQUIRE(plan.ok());
  return *plan;
}

TEST_CASE("maxUnavailable 1 moves one cluster per readiness change, in name order", "[rollout]") {
  std::vector<RolloutTarget> targets = Fleet(3);
  const Json strategy = {{"maxUnavailable", 1}};
  for (const char* next : {"c00", "c01", "c02"}) {
    RolloutPlan plan = Plan(strategy, targets);
    CHECK(Promoted(targets, plan) == std::vector<std::string>{next});
    Apply(targets, plan);
    // Nothing more until the promoted one is Ready on "new".
    CHECK(Promoted(targets, Plan(strategy, targets)).empty());
    Converge(targets);
  }
  CHECK(Promoted(targets, Plan(strategy, targets)).empty());
}

TEST_CASE("maxUnavailable 0 never moves an available cluster; percent limits", "[rollout]") {
  std::vector<RolloutTarget> targets = Fleet(4);
  CHECK(Promoted(targets, Plan({{"maxUnavailable", 0}}, targets)).empty());
  CHECK(Promoted(targets, Plan({{"maxUnavailable", "50%"}}, targets)).size() == 2);
  CHECK(Promoted(targets, Plan(Json::object(), targets)).size() == 4);  // default 100%
}

TEST_CASE("a NotReady cluster uses up the budget, and is itself updated", "[rollout]") {
  std::vector<RolloutTarget> targets = Fleet(3);
  targets[1].ready = false;  // c01
  RolloutPlan plan = Plan({{"maxUnavailable", 1}}, targets);
  // c00 may not go (one is already unavailable); c01 may, being unavailable.
  CHECK(Promoted(targets, plan) == std::vector<std::string>{"c01"});
  CHECK(plan.unavailable == 1);
}

TEST_CASE("paused clusters keep their deployment", "[rollout]") {
  std::vector<RolloutTarget> targets = Fleet(2);
  targets[0].paused = true;
  CHECK(Promoted(targets, Plan(Json::object(), targets)) == std::vector<std::string>{"c01"});
}

TEST_CASE("manual partitions go in order; maxUnavailablePartitions stops the next one",
          "[rollout]") {
  std::vector<RolloutTarget> targets = Fleet(5);
  // canary = c00, c01; rest = c02, c03; c04 matches no partition.
  targets[0].partitions = {0};
  targets[1].partitions = {0};
  targets[2].partitions = {1};
  targets[3].partitions = {1};
  const Json strategy = {
      {"partitions",
       {{{"name", "canary"}, {"maxUnavailable", 1}}, {{"name", "rest"}, {"maxUnavailable", 1}}}}};
  RolloutPlan plan = Plan(strategy, targets);
  // One canary moves; the canary partition is then unavailable (2 not up to
  // date > 1), which is more than maxUnavailablePartitions 0: stop.
  CHECK(Promoted(targets, plan) == std::vector<std::string>{"c00"});
  REQUIRE(plan.partitions.size() == 2);
  CHECK(plan.partitions[0].name == "canary");
  CHECK(plan.partitions[0].unavailable == 2);
  CHECK(plan.unavailable_partitions == 1);
  Apply(targets, plan);
  Converge(targets);

  plan = Plan(strategy, targets);
  // The second canary; the canary partition (1 not up to date) is within
  // its limit, so the rest partition starts too.
  CHECK(Promoted(targets, plan) == std::vector<std::string>{"c01", "c02"});
  Apply(targets, plan);
  Converge(targets);
  plan = Plan(strategy, targets);
  CHECK(Promoted(targets, plan) == std::vector<std::string>{"c03"});
  Apply(targets, plan);
  Converge(targets);
  // c04 is in no partition: never rolled out.
  CHECK(Promoted(targets, Plan(strategy, targets)).empty());
  CHECK(targets[4].deployment_id == "old");

  // With maxUnavailablePartitions 1 the rest partition starts at once.
  std::vector<RolloutTarget> fresh = Fleet(4);
  for (int i = 0; i < 4; ++i) fresh[i].partitions = {i < 2 ? 0 : 1};
  Json two = strategy;
  two["maxUnavailablePartitions"] = 1;
  CHECK(Promoted(fresh, Plan(two, fresh)) == std::vector<std::string>{"c00", "c02"});
}

TEST_CASE("automatic partitions above autoPartitionThreshold, by autoPartitionSize", "[rollout]") {
  std::vector<RolloutTarget> targets = Fleet(8);
  CHECK(Plan(Json::object(), targets).partitions.size() == 1);  // below 200
  RolloutPlan plan = Plan({{"autoPartitionThreshold", 4}}, targets);
  REQUIRE(plan.partitions.size() == 4);  // 25% of 8 = 2 per partition
  CHECK(plan.partitions[0].name == "Partition 0 - 2");
  CHECK(plan.partitions[3].name == "Partition 6 - 8");
  plan = Plan({{"autoPartitionThreshold", 4}, {"autoPartitionSize", 3}}, targets);
  REQUIRE(plan.partitions.size() == 3);
  CHECK(plan.partitions[2].count == 2);
  plan = Plan({{"autoPartitionThreshold", 4}, {"autoPartitionSize", 0}}, targets);
  REQUIRE(plan.partitions.size() == 1);
  CHECK(plan.partitions[0].name == "All");
  // maxUnavailable 1 across the bundle: one cluster of the first partition.
  plan = Plan({{"autoPartitionThreshold", 4}, {"maxUnavailable", 1}}, targets);
  CHECK(Promoted(targets, plan) == std::vector<std::string>{"c00"});
}

TEST_CASE("at most maxNew BundleDeployments are created per reconcile", "[rollout]") {
  std::vector<RolloutTarget> targets = Fleet(5);
  for (RolloutTarget& t : targets) {
    t.has_deployment = false;
    t.deployment_id.clear();
    t.applied_deployment_id.clear();
    t.ready = false;
  }
  RolloutPlan plan = Plan({{"maxNew", 2}, {"maxUnavailable", 0}}, targets);
  CHECK(std::count(plan.create.begin(), plan.create.end(), true) == 2);
  // New ones are unavailable, so they get the deployment whatever the limit.
  CHECK(Promoted(targets, plan) == std::vector<std::string>{"c00", "c01"});
  Apply(targets, plan);
  plan = Plan({{"maxNew", 2}, {"maxUnavailable", 0}}, targets);
  CHECK(Promoted(targets, plan) == std::vector<std::string>{"c02", "c03"});
}

TEST_CASE("a malformed limit is an error naming the field", "[rollout]") {
  auto plan = PlanRollout({{"maxUnavailable", "half"}}, Fleet(2));
  CHECK(plan.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(plan.status().message() ==
        "rolloutStrategy partition All maxUnavailable: \"half\" must be an integer or a "
        "percentage ending with %, like \"25%\"");
}

}  // namespace
}  // namespace flotilla::common
