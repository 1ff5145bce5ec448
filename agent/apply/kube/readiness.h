// Readiness: is a live Kubernetes object done rolling out? Rules per kind as
// kstatus (sigs.k8s.io/cli-utils/pkg/kstatus) and Fleet's summarizers judge
// them (FLEET-SEMANTICS.md §4 "Readiness"): a resource is ready when it is
// neither failed nor in progress.
//
// References: the status fields of each kind in the API reference,
// https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/
// (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, Pod),
// .../config-and-storage-resources/persistent-volume-claim-v1/,
// .../service-resources/service-v1/ (status.loadBalancer.ingress),
// .../extend-resources/custom-resource-definition-v1/ (Established) and
// https://github.com/kubernetes-sigs/cli-utils/blob/master/pkg/kstatus/README.md
// (observedGeneration, Reconciling/Stalled, generic Ready).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace flotilla::agent::kube {

struct Readiness {
  bool ready = true;
  bool failed = false;  // an error, not only a rollout in progress
  std::string message;  // why it is not ready ("Available: 1/3")
};

// Judges a live object. Conditions in status.conditions that match every
// key/value of one `ignore_conditions` entry (ignore.conditions) are left
// out first.
Readiness JudgeReadiness(const nlohmann::json& live,
                         const std::vector<std::map<std::string, std::string>>& ignore_conditions);

}  // namespace flotilla::agent::kube
