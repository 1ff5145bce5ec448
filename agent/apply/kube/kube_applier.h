// KubeApplier: the Applier for a real cluster. Every object goes to the API
// server by server-side apply under one field manager; namespaces the bundle
// uses are created first, then CustomResourceDefinitions, then the rest in
// the order the manager rendered them (Helm's install order). Each object
// carries the inventory: label kInventoryLabel (the bundle deployment, as a
// label value) and annotations naming the bundle deployment and its
// deploymentID. Objects a deployment no longer has are deleted (background
// propagation), CRDs only with deleteCRDResources.
//
// References: https://kubernetes.io/docs/reference/using-api/server-side-apply/
// and https://kubernetes.io/docs/concepts/architecture/garbage-collection/
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/apply/applier.h"
#include "agent/apply/kube/discovery.h"
#include "agent/apply/kube/kube_client.h"

namespace flotilla::agent::kube {

inline constexpr char kFieldManager[] = "flotilla-agent";
inline constexpr char kInventoryLabel[] = "flotilla.dev/bundle-deployment";
inline constexpr char kBundleDeploymentAnnotation[] = "flotilla.dev/bundle-deployment";
inline constexpr char kDeploymentIdAnnotation[] = "flotilla.dev/deployment-id";

// The inventory label's value for a bundle deployment id: the id itself
// when it is a valid label value, else "sha256-" and 40 hex digits of its
// hash (still unique in practice, and valid).
std::string InventoryLabelValue(const std::string& bundle_deployment_id);

class KubeApplier : public Applier {
 public:
  explicit KubeApplier(std::unique_ptr<KubeClient> client);

  absl::StatusOr<ApplyResult> Apply(const ApplyRequest& request) override;
  // Deletes the objects (CRDs are kept, as Fleet's default).
  absl::Status Remove(const std::vector<ObjectRef>& objects, bool keep_resources) override;
  // An object is drifted when it is missing, or when a field of the desired
  // object has another value live (fields the server or others add are not
  // drift; lists compare element by element).
  absl::StatusOr<std::vector<ObjectRef>> Drifted(
      const std::vector<nlohmann::json>& desired) override;

  KubeClient& client() { return *client_; }

 private:
  // The object as it is sent: inventory metadata, namespace fixed to the
  // resource's scope.
  nlohmann::json Prepared(const nlohmann::json& object, const ResourceInfo& info,
                          const ApplyRequest& request) const;
  absl::Status EnsureNamespace(const std::string& ns, const ApplyRequest& request);
  absl::StatusOr<nlohmann::json> ServerSideApply(const ResourceInfo& info,
                                                 const nlohmann::json& object, bool force);
  absl::Status Delete(const ObjectRef& ref);

  std::unique_ptr<KubeClient> client_;
  Discovery discovery_;
  // resourceVersion of each object after the last apply, to count writes.
  std::map<ObjectRef, std::string> versions_;
};

}  // namespace flotilla::agent::kube
