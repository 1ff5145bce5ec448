#include "agent/apply/kube/readiness.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace flotilla::agent::kube {
namespace {

using nlohmann::json;
using Conditions = std::vector<json>;

Readiness Ready() { return {}; }
Readiness InProgress(std::string message) { return {false, false, std::move(message)}; }
Readiness Failed(std::string message) { return {false, true, std::move(message)}; }

int64_t IntAt(const json& object, const char* key, int64_t fallback = 0) {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_number()) return fallback;
  return it->get<int64_t>();
}

std::string StringAt(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& Child(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

bool Matches(const json& condition, const std::map<std::string, std::string>& match) {
  for (const auto& [k, v] : match) {
    const json& got = Child(condition, k.c_str());
    std::string value = got.is_string() ? got.get<std::string>() : got.is_null() ? "" : got.dump();
    if (value != v) return false;
  }
  return !match.empty();
}

Conditions ConditionsOf(const json& status,
                        const std::vector<std::map<std::string, std::string>>& ignore) {
  Conditions out;
  const json& list = Child(status, "conditions");
  if (!list.is_array()) return out;
  for (const json& c : list) {
    if (!c.is_object()) continue;
    bool ignored = false;
    for (const auto& m : ignore) ignored = ignored || Matches(c, m);
    if (!ignored) out.push_back(c);
  }
  return out;
}

// The condition of that type, if present.
std::optional<json> Condition(const Conditions& conditions, const std::string& type) {
  for (const json& c : conditions) {
    if (StringAt(c, "type") == type) return c;
  }
  return std::nullopt;
}

bool IsTrue(const std::optional<json>& c) { return c && StringAt(*c, "status") == "True"; }
bool IsFalse(const std::optional<json>& c) { return c && StringAt(*c, "status") == "False"; }

std::string Explain(const std::optional<json>& c, const std::string& fallback) {
  if (!c) return fallback;
  std::string reason = StringAt(*c, "reason");
  std::string message = StringAt(*c, "message");
  if (!reason.empty() && !message.empty()) return absl::StrCat(reason, ": ", message);
  if (!message.empty()) return message;
  if (!reason.empty()) return reason;
  return fallback;
}

std::string Count(const char* what, int64_t have, int64_t want) {
  return absl::StrCat(what, ": ", have, "/", want);
}

Readiness DeploymentReadiness(const json& spec, const json& status, const Conditions& cs) {
  auto progressing = Condition(cs, "Progressing");
  if (IsFalse(progressing) && StringAt(*progressing, "reason") == "ProgressDeadlineExceeded") {
    return Failed(Explain(progressing, "progress deadline exceeded"));
  }
  if (auto failure = Condition(cs, "ReplicaFailure"); IsTrue(failure)) {
    return Failed(Explain(failure, "replica failure"));
  }
  const int64_t want = IntAt(spec, "replicas", 1);
  const int64_t replicas = IntAt(status, "replicas");
  const int64_t updated = IntAt(status, "updatedReplicas");
  if (want > replicas) return InProgress(Count("Replicas", replicas, want));
  if (updated < want) return InProgress(Count("Updated", updated, want));
  if (replicas > want) {
    return InProgress(absl::StrCat("Pending termination: ", replicas - want, " old replica(s)"));
  }
  if (IntAt(status, "availableReplicas") < want) {
    return InProgress(Count("Available", IntAt(status, "availableReplicas"), want));
  }
  if (IntAt(status, "readyReplicas") < want) {
    return InProgress(Count("Ready", IntAt(status, "readyReplicas"), want));
  }
  // A rollout the controller has not finished still says so here.
  if (progressing && !IsTrue(progressing)) {
    return InProgress(Explain(progressing, "rollout in progress"));
  }
  if (auto available = Condition(cs, "Available"); IsFalse(available)) {
    return InProgress(Explain(available, "Deployment not available"));
  }
  return Ready();
}

Readiness StatefulSetReadiness(const json& spec, const json& status) {
  const json& strategy = Child(spec, "updateStrategy");
  // With OnDelete the controller never rolls pods itself: nothing to wait for
  // beyond the generation.
  if (StringAt(strategy, "type") == "OnDelete") return Ready();
  const int64_t want = IntAt(spec, "replicas", 1);
  if (IntAt(status, "replicas") < want) {
    return InProgress(Count("Replicas", IntAt(status, "replicas"), want));
  }
  if (IntAt(status, "readyReplicas") < want) {
    return InProgress(Count("Ready", IntAt(status, "readyReplicas"), want));
  }
  const int64_t partition = IntAt(Child(strategy, "rollingUpdate"), "partition", 0);
  if (partition > 0) {
    const int64_t rolled = want - partition;
    if (rolled > 0 && IntAt(status, "updatedReplicas") < rolled) {
      return InProgress(Count("Updated (partitioned)", IntAt(status, "updatedReplicas"), rolled));
    }
    return Ready();
  }
  if (IntAt(status, "updatedReplicas") < want) {
    return InProgress(Count("Updated", IntAt(status, "updatedReplicas"), want));
  }
  const std::string current = StringAt(status, "currentRevision");
  const std::string update = StringAt(status, "updateRevision");
  if (!update.empty() && current != update) {
    return InProgress(absl::StrCat("waiting for revision ", update, " to replace ", current));
  }
  return Ready();
}

Readiness DaemonSetReadiness(const json& status) {
  if (!status.is_object() || !status.contains("desiredNumberScheduled")) {
    return InProgress("waiting for the controller to report status");
  }
  const int64_t want = IntAt(status, "desiredNumberScheduled");
  for (const auto& [field, what] : {std::pair{"currentNumberScheduled", "Scheduled"},
                                    {"updatedNumberScheduled", "Updated"},
                                    {"numberAvailable", "Available"},
                                    {"numberReady", "Ready"}}) {
    if (IntAt(status, field) < want) return InProgress(Count(what, IntAt(status, field), want));
  }
  return Ready();
}

Readiness ReplicaSetReadiness(const json& spec, const json& status, const Conditions& cs) {
  if (auto failure = Condition(cs, "ReplicaFailure"); IsTrue(failure)) {
    return Failed(Explain(failure, "replica failure"));
  }
  const int64_t want = IntAt(spec, "replicas", 1);
  if (IntAt(status, "replicas") < want) {
    return InProgress(Count("Replicas", IntAt(status, "replicas"), want));
  }
  if (IntAt(status, "availableReplicas") < want) {
    return InProgress(Count("Available", IntAt(status, "availableReplicas"), want));
  }
  if (IntAt(status, "readyReplicas") < want) {
    return InProgress(Count("Ready", IntAt(status, "readyReplicas"), want));
  }
  return Ready();
}

Readiness JobReadiness(const json& status, const Conditions& cs) {
  if (auto failed = Condition(cs, "Failed"); IsTrue(failed)) {
    return Failed(Explain(failed, "Job failed"));
  }
  if (IsTrue(Condition(cs, "Complete"))) return Ready();
  return InProgress(absl::StrCat("Job running: ", IntAt(status, "active"), " active, ",
                                 IntAt(status, "succeeded"), " succeeded, ",
                                 IntAt(status, "failed"), " failed"));
}

// Reasons a container waits that will not fix themselves.
bool StuckReason(const std::string& reason) {
  return reason == "CrashLoopBackOff" || reason == "ImagePullBackOff" || reason == "ErrImagePull" ||
         reason == "InvalidImageName" || reason == "CreateContainerConfigError" ||
         reason == "CreateContainerError";
}

Readiness PodReadiness(const json& status, const Conditions& cs) {
  const std::string phase = StringAt(status, "phase");
  if (phase == "Succeeded") return Ready();
  if (phase == "Failed") {
    return Failed(absl::StrCat(
        "Pod failed",
        StringAt(status, "reason").empty() ? "" : absl::StrCat(": ", StringAt(status, "reason")),
        StringAt(status, "message").empty() ? ""
                                            : absl::StrCat(": ", StringAt(status, "message"))));
  }
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    const json& statuses = Child(status, list);
    if (!statuses.is_array()) continue;
    for (const json& c : statuses) {
      const json& waiting = Child(Child(c, "state"), "waiting");
      const std::string reason = StringAt(waiting, "reason");
      if (StuckReason(reason)) {
        std::string message = StringAt(waiting, "message");
        return Failed(absl::StrCat("container ", StringAt(c, "name"), ": ", reason,
                                   message.empty() ? "" : absl::StrCat(": ", message)));
      }
    }
  }
  auto ready = Condition(cs, "Ready");
  if (phase == "Running" && IsTrue(ready)) return Ready();
  if (phase != "Running")
    return InProgress(absl::StrCat("Pod phase ", phase.empty() ? "unknown" : phase));
  return InProgress(Explain(ready, "Pod not ready"));
}

Readiness PvcReadiness(const json& status) {
  const std::string phase = StringAt(status, "phase");
  if (phase == "Bound") return Ready();
  if (phase == "Lost") return Failed("PersistentVolumeClaim lost its volume");
  return InProgress(absl::StrCat("PersistentVolumeClaim is ", phase.empty() ? "not bound" : phase));
}

Readiness ServiceReadiness(const json& spec, const json& status) {
  if (StringAt(spec, "type") != "LoadBalancer") return Ready();
  const json& ingress = Child(Child(status, "loadBalancer"), "ingress");
  if (ingress.is_array() && !ingress.empty()) return Ready();
  return InProgress("waiting for the load balancer's ingress address");
}

Readiness EstablishedReadiness(const Conditions& cs, const char* condition) {
  auto c = Condition(cs, condition);
  if (IsTrue(c)) return Ready();
  if (auto names = Condition(cs, "NamesAccepted"); IsFalse(names)) {
    return Failed(Explain(names, "names not accepted"));
  }
  return InProgress(Explain(c, absl::StrCat("not ", condition)));
}

// Any other kind: the conventional conditions, if it has them.
Readiness GenericReadiness(const Conditions& cs) {
  if (auto stalled = Condition(cs, "Stalled"); IsTrue(stalled)) {
    return Failed(Explain(stalled, "stalled"));
  }
  if (auto reconciling = Condition(cs, "Reconciling"); IsTrue(reconciling)) {
    return InProgress(Explain(reconciling, "reconciling"));
  }
  for (const char* type : {"Ready", "Available"}) {
    auto c = Condition(cs, type);
    if (!IsFalse(c)) continue;
    const std::string reason = absl::AsciiStrToLower(StringAt(*c, "reason"));
    const bool error = absl::StrContains(reason, "error") || absl::StrContains(reason, "fail");
    std::string why = Explain(c, absl::StrCat("not ", type));
    return error ? Failed(why) : InProgress(why);
  }
  return Ready();
}

}  // namespace

Readiness JudgeReadiness(const json& live,
                         const std::vector<std::map<std::string, std::string>>& ignore_conditions) {
  const json& meta = Child(live, "metadata");
  const json& spec = Child(live, "spec");
  const json& status = Child(live, "status");
  if (!Child(meta, "deletionTimestamp").is_null()) return InProgress("being deleted");
  // The controller has not seen the latest spec yet: its status is stale.
  if (status.is_object() && status.contains("observedGeneration") && meta.is_object() &&
      meta.contains("generation") &&
      IntAt(status, "observedGeneration") < IntAt(meta, "generation")) {
    return InProgress(absl::StrCat("waiting for the controller to observe generation ",
                                   IntAt(meta, "generation"), " (at ",
                                   IntAt(status, "observedGeneration"), ")"));
  }
  const Conditions cs = ConditionsOf(status, ignore_conditions);
  const std::string api_version = StringAt(live, "apiVersion");
  const std::string kind = StringAt(live, "kind");
  const bool apps = api_version == "apps/v1";
  if (apps && kind == "Deployment") return DeploymentReadiness(spec, status, cs);
  if (apps && kind == "StatefulSet") return StatefulSetReadiness(spec, status);
  if (apps && kind == "DaemonSet") return DaemonSetReadiness(status);
  if (apps && kind == "ReplicaSet") return ReplicaSetReadiness(spec, status, cs);
  if (api_version == "batch/v1" && kind == "Job") return JobReadiness(status, cs);
  if (api_version == "v1") {
    if (kind == "Pod") return PodReadiness(status, cs);
    if (kind == "PersistentVolumeClaim") return PvcReadiness(status);
    if (kind == "Service") return ServiceReadiness(spec, status);
  }
  if (kind == "CustomResourceDefinition" &&
      absl::StartsWith(api_version, "apiextensions.k8s.io/")) {
    return EstablishedReadiness(cs, "Established");
  }
  if (kind == "APIService" && absl::StartsWith(api_version, "apiregistration.k8s.io/")) {
    return EstablishedReadiness(cs, "Available");
  }
  return GenericReadiness(cs);
}

}  // namespace flotilla::agent::kube
