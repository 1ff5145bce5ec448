// Applier: puts a BundleDeployment's rendered objects onto a cluster and
// removes what left it. Implementations: DirApplier (a directory stands in for
// a cluster) and, with a later issue, the Kubernetes API server.
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
};

struct ApplyResult {
  std::vector<ObjectRef> applied;  // what now belongs to this deployment
  int written = 0;                 // objects whose stored content changed
  int pruned = 0;
};

class Applier {
 public:
  virtual ~Applier() = default;
  // Applies every object; on error nothing already written is rolled back, and
  // the error names the object. Idempotent: applying the same request again
  // writes nothing.
  virtual absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) = 0;
  // Removes the given objects (a BundleDeployment that was deleted), unless
  // keep_resources.
  virtual absl::Status Remove(const std::vector<ObjectRef>& objects, bool keep_resources) = 0;
  // Checks the applied objects still match what was applied; returns the
  // refs that are missing or modified (drift), empty when in sync.
  virtual absl::StatusOr<std::vector<ObjectRef>> Drifted(
      const std::vector<nlohmann::json>& desired) = 0;
};

// The reference of a rendered object; InvalidArgument if kind, apiVersion or
// metadata.name is missing.
absl::StatusOr<ObjectRef> RefOf(const nlohmann::json& object);

}  // namespace flotilla::agent
