// API discovery: which resource (URL path segment) serves a kind in an
// apiVersion, and whether it is namespaced. Each group/version's
// APIResourceList is fetched once and cached; a kind that is not in the cache
// refetches its group/version (a CRD installed since), so a miss costs one
// request.
//
// Reference: https://kubernetes.io/docs/reference/using-api/api-concepts/#resources
// and the discovery endpoints (/api/v1, /apis/<group>/<version>).
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "agent/apply/kube/kube_client.h"

namespace flotilla::agent::kube {

struct ResourceInfo {
  std::string api_version;  // "v1", "apps/v1"
  std::string kind;
  std::string resource;  // plural, lowercase: "deployments"
  bool namespaced = true;

  // The object's path (its collection's when `name` is empty); `ns` is
  // ignored for cluster-scoped resources.
  std::string Path(const std::string& ns, const std::string& name) const;
};

class Discovery {
 public:
  explicit Discovery(KubeClient* client) : client_(client) {}

  // NotFound naming the kind and apiVersion when the API server does not
  // serve it (after one refresh); the client's errors otherwise.
  absl::StatusOr<ResourceInfo> Lookup(const std::string& api_version, const std::string& kind);
  // Forgets a group/version, so the next lookup fetches it again.
  void Invalidate(const std::string& api_version) { cache_.erase(api_version); }

 private:
  absl::Status Fetch(const std::string& api_version);

  KubeClient* const client_;
  // apiVersion -> kind -> resource.
  std::map<std::string, std::map<std::string, ResourceInfo>> cache_;
};

}  // namespace flotilla::agent::kube
