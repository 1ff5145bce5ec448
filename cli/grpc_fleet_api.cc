#include "cli/grpc_fleet_api.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "cli/version.h"

namespace flotilla::cli {
namespace {

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share their numbering.
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace

GrpcFleetApi::GrpcFleetApi(std::unique_ptr<v1::FleetService::StubInterface> stub, std::string token,
                           const common::Clock& clock, absl::Duration timeout)
    : stub_(std::move(stub)), token_(std::move(token)), clock_(clock), timeout_(timeout) {}

template <typename Request, typename Response, typename Method>
absl::StatusOr<Response> GrpcFleetApi::Call(Method method, const Request& request) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + token_);
  context.set_deadline(absl::ToChronoTime(clock_.Now() + timeout_));
  Response response;
  absl::Status status = FromGrpcStatus((stub_.get()->*method)(&context, request, &response));
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<v1::ApplyResponse> GrpcFleetApi::Apply(const v1::ApplyRequest& request) {
  return Call<v1::ApplyRequest, v1::ApplyResponse>(&v1::FleetService::StubInterface::Apply,
                                                   request);
}

absl::StatusOr<v1::DeleteResponse> GrpcFleetApi::Delete(const v1::DeleteRequest& request) {
  return Call<v1::DeleteRequest, v1::DeleteResponse>(&v1::FleetService::StubInterface::Delete,
                                                     request);
}

absl::StatusOr<v1::ListGitReposResponse> GrpcFleetApi::ListGitRepos(
    const v1::ListGitReposRequest& request) {
  return Call<v1::ListGitReposRequest, v1::ListGitReposResponse>(
      &v1::FleetService::StubInterface::ListGitRepos, request);
}

absl::StatusOr<v1::ListBundlesResponse> GrpcFleetApi::ListBundles(
    const v1::ListBundlesRequest& request) {
  return Call<v1::ListBundlesRequest, v1::ListBundlesResponse>(
      &v1::FleetService::StubInterface::ListBundles, request);
}

absl::StatusOr<v1::ListClustersResponse> GrpcFleetApi::ListClusters(
    const v1::ListClustersRequest& request) {
  return Call<v1::ListClustersRequest, v1::ListClustersResponse>(
      &v1::FleetService::StubInterface::ListClusters, request);
}

absl::StatusOr<v1::ListBundleDeploymentsResponse> GrpcFleetApi::ListBundleDeployments(
    const v1::ListBundleDeploymentsRequest& request) {
  return Call<v1::ListBundleDeploymentsRequest, v1::ListBundleDeploymentsResponse>(
      &v1::FleetService::StubInterface::ListBundleDeployments, request);
}

absl::StatusOr<v1::ListClusterGroupsResponse> GrpcFleetApi::ListClusterGroups(
    const v1::ListClusterGroupsRequest& request) {
  return Call<v1::ListClusterGroupsRequest, v1::ListClusterGroupsResponse>(
      &v1::FleetService::StubInterface::ListClusterGroups, request);
}

absl::StatusOr<v1::ListSecretsResponse> GrpcFleetApi::ListSecrets(
    const v1::ListSecretsRequest& request) {
  return Call<v1::ListSecretsRequest, v1::ListSecretsResponse>(
      &v1::FleetService::StubInterface::ListSecrets, request);
}

absl::StatusOr<v1::Cluster> GrpcFleetApi::LabelCluster(const v1::LabelClusterRequest& request) {
  return Call<v1::LabelClusterRequest, v1::Cluster>(&v1::FleetService::StubInterface::LabelCluster,
                                                    request);
}

absl::StatusOr<v1::CreateRegistrationTokenResponse> GrpcFleetApi::CreateRegistrationToken(
    const v1::CreateRegistrationTokenRequest& request) {
  return Call<v1::CreateRegistrationTokenRequest, v1::CreateRegistrationTokenResponse>(
      &v1::FleetService::StubInterface::CreateRegistrationToken, request);
}

std::unique_ptr<FleetApi> GrpcFleetApiFactory::Connect(const ConnectionConfig& config) {
  grpc::SslCredentialsOptions tls;
  tls.pem_root_certs = config.ca_pem;
  grpc::ChannelArguments args;
  args.SetUserAgentPrefix(std::string("flotilla-cli/") + kCliVersion);
  auto channel = grpc::CreateCustomChannel(config.server, grpc::SslCredentials(tls), args);
  return std::make_unique<GrpcFleetApi>(v1::FleetService::NewStub(channel), config.token, clock_);
}

absl::StatusOr<v1::GitRepo> GrpcFleetApi::GetGitRepo(const v1::GetRequest& request) {
  return Call<v1::GetRequest, v1::GitRepo>(&v1::FleetService::StubInterface::GetGitRepo, request);
}

absl::StatusOr<v1::Bundle> GrpcFleetApi::GetBundle(const v1::GetRequest& request) {
  return Call<v1::GetRequest, v1::Bundle>(&v1::FleetService::StubInterface::GetBundle, request);
}

absl::StatusOr<v1::Cluster> GrpcFleetApi::GetCluster(const v1::GetRequest& request) {
  return Call<v1::GetRequest, v1::Cluster>(&v1::FleetService::StubInterface::GetCluster, request);
}

absl::StatusOr<v1::ClusterGroup> GrpcFleetApi::GetClusterGroup(const v1::GetRequest& request) {
  return Call<v1::GetRequest, v1::ClusterGroup>(&v1::FleetService::StubInterface::GetClusterGroup,
                                                request);
}

absl::StatusOr<v1::SetPausedResponse> GrpcFleetApi::SetPaused(const v1::SetPausedRequest& request) {
  return Call<v1::SetPausedRequest, v1::SetPausedResponse>(
      &v1::FleetService::StubInterface::SetPaused, request);
}

absl::StatusOr<v1::ResyncResponse> GrpcFleetApi::Resync(const v1::ResyncRequest& request) {
  return Call<v1::ResyncRequest, v1::ResyncResponse>(&v1::FleetService::StubInterface::Resync,
                                                     request);
}

absl::StatusOr<v1::Cluster> GrpcFleetApi::RevokeCluster(const v1::RevokeClusterRequest& request) {
  return Call<v1::RevokeClusterRequest, v1::Cluster>(
      &v1::FleetService::StubInterface::RevokeCluster, request);
}

absl::StatusOr<v1::ListRegistrationTokensResponse> GrpcFleetApi::ListRegistrationTokens(
    const v1::ListRegistrationTokensRequest& request) {
  return Call<v1::ListRegistrationTokensRequest, v1::ListRegistrationTokensResponse>(
      &v1::FleetService::StubInterface::ListRegistrationTokens, request);
}

absl::StatusOr<v1::RevokeTokenResponse> GrpcFleetApi::RevokeRegistrationToken(
    const v1::RevokeTokenRequest& request) {
  return Call<v1::RevokeTokenRequest, v1::RevokeTokenResponse>(
      &v1::FleetService::StubInterface::RevokeRegistrationToken, request);
}

absl::StatusOr<v1::CreateApiTokenResponse> GrpcFleetApi::CreateApiToken(
    const v1::CreateApiTokenRequest& request) {
  return Call<v1::CreateApiTokenRequest, v1::CreateApiTokenResponse>(
      &v1::FleetService::StubInterface::CreateApiToken, request);
}

absl::StatusOr<v1::ListApiTokensResponse> GrpcFleetApi::ListApiTokens(
    const v1::ListApiTokensRequest& request) {
  return Call<v1::ListApiTokensRequest, v1::ListApiTokensResponse>(
      &v1::FleetService::StubInterface::ListApiTokens, request);
}

absl::StatusOr<v1::RevokeTokenResponse> GrpcFleetApi::RevokeApiToken(
    const v1::RevokeTokenRequest& request) {
  return Call<v1::RevokeTokenRequest, v1::RevokeTokenResponse>(
      &v1::FleetService::StubInterface::RevokeApiToken, request);
}

absl::StatusOr<v1::ListAuditResponse> GrpcFleetApi::ListAudit(const v1::ListAuditRequest& request) {
  return Call<v1::ListAuditRequest, v1::ListAuditResponse>(
      &v1::FleetService::StubInterface::ListAudit, request);
}

}  // namespace flotilla::cli
