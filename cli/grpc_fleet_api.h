// FleetApi over gRPC with TLS and a bearer token: what the `flotilla` binary uses.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cli/fleet_api.h"
#include "common/clock.h"
#include "flotilla/v1/api.grpc.pb.h"

namespace flotilla::cli {

// How long one call may take, connecting included.
inline constexpr absl::Duration kCallTimeout = absl::Seconds(30);

// Calls a FleetService stub, adding "authorization: Bearer <token>" metadata
// and a deadline of `timeout` (measured on `clock`) to every call. gRPC status
// codes map one to one onto absl status codes.
class GrpcFleetApi : public FleetApi {
 public:
  GrpcFleetApi(std::unique_ptr<v1::FleetService::StubInterface> stub, std::string token,
               const common::Clock& clock, absl::Duration timeout = kCallTimeout);

  absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request) override;
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request) override;
  absl::StatusOr<v1::ListGitReposResponse> ListGitRepos(
      const v1::ListGitReposRequest& request) override;
  absl::StatusOr<v1::ListBundlesResponse> ListBundles(
      const v1::ListBundlesRequest& request) override;
  absl::StatusOr<v1::ListClustersResponse> ListClusters(
      const v1::ListClustersRequest& request) override;
  absl::StatusOr<v1::ListBundleDeploymentsResponse> ListBundleDeployments(
      const v1::ListBundleDeploymentsRequest& request) override;
  absl::StatusOr<v1::ListClusterGroupsResponse> ListClusterGroups(
      const v1::ListClusterGroupsRequest& request) override;
  absl::StatusOr<v1::ListSecretsResponse> ListSecrets(
      const v1::ListSecretsRequest& request) override;
  absl::StatusOr<v1::Cluster> LabelCluster(const v1::LabelClusterRequest& request) override;
  absl::StatusOr<v1::CreateRegistrationTokenResponse> CreateRegistrationToken(
      const v1::CreateRegistrationTokenRequest& request) override;
  absl::StatusOr<v1::GitRepo> GetGitRepo(const v1::GetRequest& request) override;
  absl::StatusOr<v1::Bundle> GetBundle(const v1::GetRequest& request) override;
  absl::StatusOr<v1::Cluster> GetCluster(const v1::GetRequest& request) override;
  absl::StatusOr<v1::ClusterGroup> GetClusterGroup(const v1::GetRequest& request) override;
  absl::StatusOr<v1::SetPausedResponse> SetPaused(const v1::SetPausedRequest& request) override;
  absl::StatusOr<v1::ResyncResponse> Resync(const v1::ResyncRequest& request) override;
  absl::StatusOr<v1::Cluster> RevokeCluster(const v1::RevokeClusterRequest& request) override;
  absl::StatusOr<v1::ListRegistrationTokensResponse> ListRegistrationTokens(
      const v1::ListRegistrationTokensRequest& request) override;
  absl::StatusOr<v1::RevokeTokenResponse> RevokeRegistrationToken(
      const v1::RevokeTokenRequest& request) override;
  absl::StatusOr<v1::CreateApiTokenResponse> CreateApiToken(
      const v1::CreateApiTokenRequest& request) override;
  absl::StatusOr<v1::ListApiTokensResponse> ListApiTokens(
      const v1::ListApiTokensRequest& request) override;
  absl::StatusOr<v1::RevokeTokenResponse> RevokeApiToken(
      const v1::RevokeTokenRequest& request) override;
  absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& request) override;

 private:
  // Runs one unary stub method with a prepared context.
  template <typename Request, typename Response, typename Method>
  absl::StatusOr<Response> Call(Method method, const Request& request);

  std::unique_ptr<v1::FleetService::StubInterface> stub_;
  std::string token_;
  const common::Clock& clock_;
  absl::Duration timeout_;
};

// Opens a TLS channel (server verified against ConnectionConfig::ca_pem) per
// Connect(). The channel connects lazily: an unreachable manager shows up as
// UNAVAILABLE on the first call.
class GrpcFleetApiFactory : public FleetApiFactory {
 public:
  explicit GrpcFleetApiFactory(const common::Clock& clock) : clock_(clock) {}
  std::unique_ptr<FleetApi> Connect(const ConnectionConfig& config) override;

 private:
  const common::Clock& clock_;
};

}  // namespace flotilla::cli
