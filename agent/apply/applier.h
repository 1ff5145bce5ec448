// Applier: puts a BundleDeployment's rendered objects onto a cluster, removes
// what left it, and checks what runs (drift and readiness).
// Implementations: DirApplier (a directory stands in for a cluster) and
// kube::KubeApplier (a Kubernetes API server).
//
// Threading: an Applier is called from one thread at a time (the agent's apply
// worker); implementations need no locking of their own.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace flotilla::agent {

// Identifies an object on the cluster.
struct ObjectRef {
  std::string api_version;
  std::string kind;
  std::string namespace_;  // "" for cluster-scoped objects
  std::string name;
  bool operator==(const ObjectRef&) const = default;
  bool operator<(const ObjectRef& o) const;
  std::string ToString() const;  // "Kind ns/name" or "Kind name"
};

struct ApplyRequest {
  std::string bundle_deployment_id;
  std::string deployment_id;
  // Fully rendered objects (namespaces already resolved by the manager).
  std::vector<nlohmann::json> objects;
  // Objects this BundleDeployment applied last time; those not in `objects`
  // are pruned unless keep_resources.
  std::vector<ObjectRef> previously_applied;
  bool keep_resources = false;
  // Kubernetes only (DirApplier has no field owners or namespaces to make):
  // take fields other managers own; labels and annotations of the bundle's
  // namespace `release_namespace`; delete pruned CRDs.
  bool force = false;
  std::string release_namespace;
  std::map<std::string, std::string> namespace_labels;
  std::map<std::string, std::string> namespace_annotations;
  bool delete_crd_resources = false;
  // Adopt objects that exist but are not this deployment's (takeOwnership);
  // otherwise applying over them is an error naming their owner.
  bool take_ownership = false;
  // Write as this service account (serviceAccount), not as the agent.
  std::string service_account;
};

struct ApplyResult {
  std::vector<ObjectRef> applied;  // what now belongs to this deployment
  int written = 0;                 // objects whose stored content changed
  int pruned = 0;
};

// What to do with a deleted deployment's objects.
struct RemoveRequest {
  std::vector<ObjectRef> objects;
  bool keep_resources = false;
  // Also delete this namespace (deleteNamespace), unless it is "default" or
  // a kube-* namespace; "" for none. The caller checks no other deployment
  // still uses it.
  std::string delete_namespace;
  // Delete as this service account, as the objects were applied.
  std::string service_account;
};

// One diff.comparePatches entry (FLEET-SEMANTICS.md §1).
struct ComparePatch {
  std::string api_version;
  std::string kind;  // a glob
  std::string name;  // "" matches any; a regular expression for "ignore"
  std::string namespace_;
  std::vector<std::string> json_pointers;  // removed before comparing
  // RFC 6902 operations run on both sides before comparing.
  nlohmann::json operations = nlohmann::json::array();
  bool ignore = false;  // an "ignore" operation: the object is not checked
};

// What to check of a running deployment.
struct CheckRequest {
  std::string bundle_deployment_id;
  std::vector<nlohmann::json> desired;  // the objects as last applied
  std::string release_namespace;
  std::vector<ComparePatch> compare_patches;
  // ignore.conditions: a condition matching every key/value of one entry
  // does not count for readiness.
  std::vector<std::map<std::string, std::string>> ignore_conditions;
};

// An object that is not as it should be.
struct ResourceProblem {
  ObjectRef ref;
  // Modified: "missing", "not owned by us", "extra" or "modified <merge
  // patch>" (Fleet's modifiedStatus). Not ready: why (kstatus-like summary).
  std::string message;
  bool operator==(const ResourceProblem&) const = default;
};

struct CheckResult {
  std::vector<ResourceProblem> modified;
  std::vector<ResourceProblem> non_ready;
};

class Applier {
 public:
  virtual ~Applier() = default;
  // Applies every object; on error nothing already written is rolled back, and
  // the error names the object. Idempotent: applying the same request again
  // writes nothing.
  virtual absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) = 0;
  // Removes the objects of a BundleDeployment that was deleted, unless
  // keep_resources.
  virtual absl::Status Remove(const RemoveRequest& request) = 0;
  // Compares what runs with what was applied (drift, in `modified`) and
  // judges its readiness (`non_ready`); both empty when all is well.
  // Errors only when the target cannot be read at all.
  virtual absl::StatusOr<CheckResult> Check(const CheckRequest& request) = 0;
};

// The reference of a rendered object; InvalidArgument if kind, apiVersion or
// metadata.name is missing.
absl::StatusOr<ObjectRef> RefOf(const nlohmann::json& object);

}  // namespace flotilla::agent
