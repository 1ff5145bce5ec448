#include "common/fleet/rollout.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

using Json = nlohmann::json;

constexpr int kDefaultAutoPartitionThreshold = 200;
constexpr int kDefaultMaxNew = 50;

Json Field(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key)) return nullptr;
  return object[key];
}

// Fleet's isUnavailable: told to run something it has not applied, or not
// ready. A cluster without a BundleDeployment is not counted.
bool Unavailable(const RolloutTarget& t) {
  return t.has_deployment && !t.offline_excluded &&
         (t.applied_deployment_id != t.deployment_id || !t.ready);
}

// Fleet's upToDate: staged, current and applied are all the desired one.
bool UpToDate(const RolloutTarget& t) {
  return t.has_deployment && t.deployment_id == t.desired_deployment_id &&
         t.applied_deployment_id == t.desired_deployment_id;
}

struct Partition {
  PartitionStatus status;
  std::vector<size_t> members;  // target indexes
};

}  // namespace

absl::StatusOr<int> RolloutLimit(int count, const Json& value, const Json& fallback,
                                 const std::string& what) {
  if (count <= 0) return 1;
  Json v = !value.is_null() ? value : !fallback.is_null() ? fallback : Json("100%");
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    return static_cast<int>(std::clamp<int64_t>(i, 0, count));
  }
  if (!v.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", v.dump(), " must be an integer or a percentage like \"25%\""));
  }
  const std::string s = v.get<std::string>();
  int as_int = 0;
  if (absl::SimpleAtoi(s, &as_int) && as_int > 0) return as_int;  // Fleet: not clamped
  absl::string_view digits = s;
  if (!absl::ConsumeSuffix(&digits, "%")) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": \"", s, "\" must be an integer or a percentage ending with %, like \"25%\""));
  }
  double percent = 0;
  if (!absl::SimpleAtod(digits, &percent)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", s, "\" is not a number followed by %"));
  }
  if (percent <= 0) return 1;
  // Go: int(float64(count)*percent) / 100.
  int i = static_cast<int>(static_cast<double>(count) * percent) / 100;
  if (i <= 0) return 1;
  return std::min(i, count);
}

absl::StatusOr<RolloutPlan> PlanRollout(const Json& strategy,
                                        const std::vector<RolloutTarget>& targets) {
  RolloutPlan plan;
  plan.create.assign(targets.size(), false);
  plan.promote.assign(targets.size(), false);
  const Json max_unavailable = Field(strategy, "maxUnavailable");
  const int n = static_cast<int>(targets.size());

  // Partitions: manual ones in order, else automatic by name.
  std::vector<Partition> partitions;
  auto add = [&](std::string name, std::vector<size_t> members,
                 const Json& own_max) -> absl::Status {
    Partition p;
    p.status.name = std::move(name);
    p.status.count = static_cast<int>(members.size());
    ASSIGN_OR_RETURN(
        p.status.max_unavailable,
        RolloutLimit(p.status.count, own_max, max_unavailable,
                     absl::StrCat("rolloutStrategy partition ", p.status.name, " maxUnavailable")));
    for (size_t i : members) p.status.unavailable += Unavailable(targets[i]) ? 1 : 0;
    p.members = std::move(members);
    partitions.push_back(std::move(p));
    return absl::OkStatus();
  };
  const Json manual = Field(strategy, "partitions");
  if (manual.is_array() && !manual.empty()) {
    for (size_t k = 0; k < manual.size(); ++k) {
      std::vector<size_t> members;
      for (size_t i = 0; i < targets.size(); ++i) {
        const auto& in = targets[i].partitions;
        if (std::find(in.begin(), in.end(), static_cast<int>(k)) != in.end()) members.push_back(i);
      }
      const Json& def = manual[k];
      RETURN_IF_ERROR(add(def.is_object() ? def.value("name", "") : "", std::move(members),
                          Field(def, "maxUnavailable")));
    }
  } else {
    std::vector<size_t> order(targets.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return targets[a].cluster < targets[b].cluster; });
    const Json size = Field(strategy, "autoPartitionSize");
    const Json threshold_json = Field(strategy, "autoPartitionThreshold");
    const int threshold = threshold_json.is_number_integer() ? threshold_json.get<int>()
                                                             : kDefaultAutoPartitionThreshold;
    if ((size.is_number_integer() && size.get<int64_t>() <= 0) || threshold <= 0 || n < threshold) {
      RETURN_IF_ERROR(add("All", std::move(order), nullptr));
    } else {
      ASSIGN_OR_RETURN(int chunk,
                       RolloutLimit(n, size, Json("25%"), "rolloutStrategy autoPartitionSize"));
      chunk = std::max(chunk, 1);
      for (int offset = 0; offset < n; offset += chunk) {
        const int end = std::min(n, offset + chunk);
        RETURN_IF_ERROR(add(absl::StrCat("Partition ", offset, " - ", end),
                            {order.begin() + offset, order.begin() + end}, nullptr));
      }
    }
  }

  ASSIGN_OR_RETURN(plan.max_unavailable,
                   RolloutLimit(n, max_unavailable, nullptr, "rolloutStrategy maxUnavailable"));
  for (const RolloutTarget& t : targets) plan.unavailable += Unavailable(t) ? 1 : 0;
  ASSIGN_OR_RETURN(
      plan.max_unavailable_partitions,
      RolloutLimit(static_cast<int>(partitions.size()), Field(strategy, "maxUnavailablePartitions"),
                   Json(0), "rolloutStrategy maxUnavailablePartitions"));
  const Json max_new_json = Field(strategy, "maxNew");
  const int max_new = max_new_json.is_number_integer() ? max_new_json.get<int>() : kDefaultMaxNew;

  // The plan works on a copy: what each target will be after it.
  std::vector<RolloutTarget> after = targets;
  int created = 0;
  for (Partition& p : partitions) {
    for (size_t i : p.members) {
      if (!after[i].has_deployment && created < max_new) {
        ++created;
        after[i].has_deployment = true;
        plan.create[i] = true;
      }
    }
    for (size_t i : p.members) {
      RolloutTarget& t = after[i];
      if (!t.has_deployment || t.paused || t.desired_deployment_id.empty() ||
          t.deployment_id == t.desired_deployment_id) {
        continue;
      }
      if (t.offline_excluded) {
        t.deployment_id = t.desired_deployment_id;
        plan.promote[i] = true;
        continue;
      }
      const bool unavailable = Unavailable(t);
      if ((plan.unavailable < plan.max_unavailable || unavailable) &&
          (p.status.unavailable < p.status.max_unavailable || unavailable)) {
        // Upgrading counts as unavailable.
        if (!unavailable) {
          ++plan.unavailable;
          ++p.status.unavailable;
        }
        t.deployment_id = t.desired_deployment_id;
        plan.promote[i] = true;
      }
    }
    p.status.unavailable = 0;
    for (size_t i : p.members) {
      if (after[i].offline_excluded) continue;
      if (!UpToDate(after[i]) || Unavailable(after[i])) ++p.status.unavailable;
    }
    if (p.status.unavailable > p.status.max_unavailable) ++plan.unavailable_partitions;
    if (plan.unavailable_partitions > plan.max_unavailable_partitions) break;
  }
  for (const Partition& p : partitions) plan.partitions.push_back(p.status);
  return plan;
}

}  // namespace flotilla::common
