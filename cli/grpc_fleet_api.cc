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

}  // namespace flotilla::cli
