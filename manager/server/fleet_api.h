// The operator API without its transport: every FleetService call as a
// function of an authenticated Principal and a request, returning the
// response or an error with the right code. The gRPC service
// (api_service.h) and the HTTP JSON mirror (http_api.h) both call it, so
// they authorize, filter and page identically.
//
// Lists: objects in name order, filtered by ListOptions.label_selector and
// the request's field filters, then paged (page_size, page_token); a
// workspace-scoped token sees only its workspace's GitRepos, Bundles and
// BundleDeployments. Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "flotilla/v1/api.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/server/authz.h"
#include "manager/store/store.h"

namespace flotilla::manager {

namespace v1 = flotilla::v1;

class FleetApi {
 public:
  FleetApi(FleetController* controller, Store* store, const common::Clock* clock,
           std::string ca_pin);

  // Called after a cluster is revoked (the agent service closes its streams).
  void SetClusterRevokedHook(std::function<void(const std::string& cluster_id)> hook);

  // "Bearer flta.<id>.<secret>" -> the principal; Unauthenticated with one
  // message for every bad token. Records the token's last use (at most
  // once a minute).
  absl::StatusOr<Principal> Authenticate(absl::string_view authorization);

  absl::StatusOr<v1::ApplyResponse> Apply(const Principal& p, const v1::ApplyRequest& req);
  absl::StatusOr<v1::DeleteResponse> Delete(const Principal& p, const v1::DeleteRequest& req);

  absl::StatusOr<v1::ListGitReposResponse> ListGitRepos(const Principal& p,
                                                        const v1::ListGitReposRequest& req);
  absl::StatusOr<v1::GitRepo> GetGitRepo(const Principal& p, const v1::GetRequest& req);
  absl::StatusOr<v1::ListBundlesResponse> ListBundles(const Principal& p,
                                                      const v1::ListBundlesRequest& req);
  absl::StatusOr<v1::Bundle> GetBundle(const Principal& p, const v1::GetRequest& req);
  absl::StatusOr<v1::ListClustersResponse> ListClusters(const Principal& p,
                                                        const v1::ListClustersRequest& req);
  absl::StatusOr<v1::Cluster> GetCluster(const Principal& p, const v1::GetRequest& req);
  absl::StatusOr<v1::ListBundleDeploymentsResponse> ListBundleDeployments(
      const Principal& p, const v1::ListBundleDeploymentsRequest& req);
  absl::StatusOr<v1::ListClusterGroupsResponse> ListClusterGroups(
      const Principal& p, const v1::ListClusterGroupsRequest& req);
  absl::StatusOr<v1::ClusterGroup> GetClusterGroup(const Principal& p, const v1::GetRequest& req);
  absl::StatusOr<v1::ListSecretsResponse> ListSecrets(const Principal& p,
                                                      const v1::ListSecretsRequest& req);

  absl::StatusOr<v1::Cluster> LabelCluster(const Principal& p, const v1::LabelClusterRequest& req);
  absl::StatusOr<v1::SetPausedResponse> SetPaused(const Principal& p,
                                                  const v1::SetPausedRequest& req);
  absl::StatusOr<v1::ResyncResponse> Resync(const Principal& p, const v1::ResyncRequest& req);
  absl::StatusOr<v1::Cluster> RevokeCluster(const Principal& p,
                                            const v1::RevokeClusterRequest& req);

  absl::StatusOr<v1::CreateRegistrationTokenResponse> CreateRegistrationToken(
      const Principal& p, const v1::CreateRegistrationTokenRequest& req);
  absl::StatusOr<v1::ListRegistrationTokensResponse> ListRegistrationTokens(
      const Principal& p, const v1::ListRegistrationTokensRequest& req);
  absl::StatusOr<v1::RevokeTokenResponse> RevokeRegistrationToken(
      const Principal& p, const v1::RevokeTokenRequest& req);
  absl::StatusOr<v1::CreateApiTokenResponse> CreateApiToken(const Principal& p,
                                                            const v1::CreateApiTokenRequest& req);
  absl::StatusOr<v1::ListApiTokensResponse> ListApiTokens(const Principal& p,
                                                          const v1::ListApiTokensRequest& req);
  absl::StatusOr<v1::RevokeTokenResponse> RevokeApiToken(const Principal& p,
                                                         const v1::RevokeTokenRequest& req);

  absl::StatusOr<v1::ListAuditResponse> ListAudit(const Principal& p,
                                                  const v1::ListAuditRequest& req);

 private:
  // The workspace of a GitRepo ("" when there is no such GitRepo).
  std::string WorkspaceOf(const std::string& gitrepo);
  // The workspace to authorize an action on `gitrepo` against: its own, or
  // for an unknown name the caller's (the action then fails NOT_FOUND).
  std::string ScopeOf(const Principal& p, const std::string& gitrepo);
  v1::GitRepo GitRepoView(const GitRepoRecord& g);
  v1::Bundle BundleView(const BundleRecord& b, const std::string& workspace);
  v1::Cluster ClusterView(const ClusterRecord& c);

  FleetController* const controller_;
  Store* const store_;
  const common::Clock* const clock_;
  const std::string ca_pin_;
  std::function<void(const std::string&)> cluster_revoked_;
};

// Unix milliseconds as the API reports times: 0 for "no time".
int64_t ApiUnixMillis(absl::Time t);

}  // namespace flotilla::manager
