// The seam between the CLI's commands and the manager's FleetService.
//
// Commands talk to a FleetApi, never to gRPC directly: GrpcFleetApi
// (grpc_fleet_api.h) is the real one, tests use a fake. Keeping the interface
// to the unary calls the CLI makes keeps fakes small.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "flotilla/v1/api.pb.h"

namespace flotilla::cli {

// The operator API of one manager, as the CLI uses it. Every method is one
// unary call; errors carry the server's gRPC code and message unchanged
// (UNAVAILABLE / DEADLINE_EXCEEDED when the manager cannot be reached).
// Not thread-safe: the CLI makes one call at a time.
class FleetApi {
 public:
  virtual ~FleetApi() = default;

  // Creates or updates the one object (GitRepo, ClusterGroup, Cluster or
  // Secret) in request.yaml; the response names its kind and what changed.
  virtual absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request) = 0;
  // Deletes one GitRepo, ClusterGroup or Secret; NOT_FOUND when there is none.
  virtual absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request) = 0;
  virtual absl::StatusOr<v1::ListGitReposResponse> ListGitRepos(
      const v1::ListGitReposRequest& request) = 0;
  virtual absl::StatusOr<v1::ListBundlesResponse> ListBundles(
      const v1::ListBundlesRequest& request) = 0;
  virtual absl::StatusOr<v1::ListClustersResponse> ListClusters(
      const v1::ListClustersRequest& request) = 0;
  virtual absl::StatusOr<v1::ListBundleDeploymentsResponse> ListBundleDeployments(
      const v1::ListBundleDeploymentsRequest& request) = 0;
  virtual absl::StatusOr<v1::ListClusterGroupsResponse> ListClusterGroups(
      const v1::ListClusterGroupsRequest& request) = 0;
  // Names, types and keys; the manager never sends secret values.
  virtual absl::StatusOr<v1::ListSecretsResponse> ListSecrets(
      const v1::ListSecretsRequest& request) = 0;
  virtual absl::StatusOr<v1::Cluster> LabelCluster(const v1::LabelClusterRequest& request) = 0;
  virtual absl::StatusOr<v1::CreateRegistrationTokenResponse> CreateRegistrationToken(
      const v1::CreateRegistrationTokenRequest& request) = 0;
  // The rest of FleetService (api.proto documents each).
  virtual absl::StatusOr<v1::GitRepo> GetGitRepo(const v1::GetRequest& request) = 0;
  virtual absl::StatusOr<v1::Bundle> GetBundle(const v1::GetRequest& request) = 0;
  virtual absl::StatusOr<v1::Cluster> GetCluster(const v1::GetRequest& request) = 0;
  virtual absl::StatusOr<v1::ClusterGroup> GetClusterGroup(const v1::GetRequest& request) = 0;
  virtual absl::StatusOr<v1::SetPausedResponse> SetPaused(const v1::SetPausedRequest& request) = 0;
  virtual absl::StatusOr<v1::ResyncResponse> Resync(const v1::ResyncRequest& request) = 0;
  virtual absl::StatusOr<v1::Cluster> RevokeCluster(const v1::RevokeClusterRequest& request) = 0;
  virtual absl::StatusOr<v1::ListRegistrationTokensResponse> ListRegistrationTokens(
      const v1::ListRegistrationTokensRequest& request) = 0;
  virtual absl::StatusOr<v1::RevokeTokenResponse> RevokeRegistrationToken(
      const v1::RevokeTokenRequest& request) = 0;
  virtual absl::StatusOr<v1::CreateApiTokenResponse> CreateApiToken(
      const v1::CreateApiTokenRequest& request) = 0;
  virtual absl::StatusOr<v1::ListApiTokensResponse> ListApiTokens(
      const v1::ListApiTokensRequest& request) = 0;
  virtual absl::StatusOr<v1::RevokeTokenResponse> RevokeApiToken(
      const v1::RevokeTokenRequest& request) = 0;
  virtual absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& request) = 0;
};

// Where and how to reach the manager, resolved from flags and environment
// (connection.h) with the files already read.
struct ConnectionConfig {
  std::string server;  // HOST:PORT (any gRPC target)
  std::string ca_pem;  // the manager CA certificate(s), PEM
  std::string token;   // flta.<id>.<secret>, sent as "authorization: Bearer <token>"
};

// Makes the FleetApi a command talks to. Called at most once per command, and
// only after the command's own arguments were found valid.
class FleetApiFactory {
 public:
  virtual ~FleetApiFactory() = default;
  virtual std::unique_ptr<FleetApi> Connect(const ConnectionConfig& config) = 0;
};

}  // namespace flotilla::cli
