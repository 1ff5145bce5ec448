// KubeApplier: the Applier for a real cluster. Writes go as the agent, or,
// for a bundle with serviceAccount, as that account (impersonation), so the
// bundle gets only that account's rights; reads (checks) go as the agent. Every object goes to the
// API server by server-side apply under one field manager; namespaces the bundle uses are created
// first, then CustomResourceDefinitions, then the rest in the order the manager rendered them
// (Helm's install order). Each object carries the inventory: label kInventoryLabel (the bundle
// deployment, as a label value) and annotations naming the bundle deployment and its deploymentID.
// Objects a deployment no longer has are deleted (background propagation), CRDs only with
// deleteCRDResources.
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
  // Deletes the objects (CRDs are kept, as Fleet's default), then the
  // deleteNamespace namespace unless it is default, kube-* or Flotilla's own.
  absl::Status Remove(const RemoveRequest& request) override;
  // Lists each kind and namespace of the deployment by the inventory label:
  // a desired object not there is "missing" (or "not owned by us" when it
  // exists without the label), one there but not desired is "extra", and a
  // desired field with another value live is "modified <merge patch>" after
  // comparePatches. Fields the server or other managers add are not drift.
  // Readiness per kind, see readiness.h.
  absl::StatusOr<CheckResult> Check(const CheckRequest& request) override;

  KubeClient& client() { return *client_; }

 private:
  // The object as it is sent: inventory metadata, namespace fixed to the
  // resource's scope.
  nlohmann::json Prepared(const nlohmann::json& object, const ResourceInfo& info,
                          const ApplyRequest& request) const;
  // The client that writes: the agent's own, or one impersonating the
  // bundle's serviceAccount (in the agent's namespace, which must exist).
  absl::StatusOr<KubeClient*> WriterFor(const std::string& service_account);
  absl::Status EnsureNamespace(KubeClient& writer, const std::string& ns,
                               const ApplyRequest& request);
  absl::StatusOr<nlohmann::json> ServerSideApply(KubeClient& writer, const ResourceInfo& info,
                                                 const nlohmann::json& object, bool force);
  absl::Status Delete(KubeClient& writer, const ObjectRef& ref);
  // OK when the object is absent or this deployment's; FailedPrecondition
  // naming its owner otherwise (takeOwnership is off).
  absl::Status CheckOwner(const ResourceInfo& info, const ObjectRef& ref,
                          const std::string& bundle_deployment_id);

  std::unique_ptr<KubeClient> client_;
  Discovery discovery_;
  // Who applied each object last and its resourceVersion then: to count
  // writes, and to skip the ownership check of our own objects.
  struct Applied {
    std::string bundle_deployment_id;
    std::string resource_version;
  };
  std::map<ObjectRef, Applied> versions_;
  // Clients impersonating a serviceAccount, by its name.
  std::map<std::string, std::unique_ptr<KubeClient>> impersonating_;
};

}  // namespace flotilla::agent::kube
