#include "manager/server/api_service.h"

#include <string>

#include "common/grpc_status.h"

namespace flotilla::manager {

template <typename Resp, typename Fn>
grpc::ServerUnaryReactor* FleetServiceImpl::Serve(grpc::CallbackServerContext* ctx, Resp* resp,
                                                  Fn fn) {
  auto* reactor = ctx->DefaultReactor();
  std::string authorization;
  const auto& md = ctx->client_metadata();
  if (auto it = md.find("authorization"); it != md.end()) {
    authorization.assign(it->second.data(), it->second.size());
  }
  auto principal = api_->Authenticate(authorization);
  if (!principal.ok()) {
    reactor->Finish(common::ToGrpcStatus(principal.status()));
    return reactor;
  }
  auto result = fn(*principal);
  if (result.ok()) *resp = std::move(*result);
  reactor->Finish(common::ToGrpcStatus(result.status()));
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::Apply(grpc::CallbackServerContext* ctx,
                                                  const v1::ApplyRequest* req,
                                                  v1::ApplyResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->Apply(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::Delete(grpc::CallbackServerContext* ctx,
                                                   const v1::DeleteRequest* req,
                                                   v1::DeleteResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->Delete(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListGitRepos(grpc::CallbackServerContext* ctx,
                                                         const v1::ListGitReposRequest* req,
                                                         v1::ListGitReposResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListGitRepos(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::GetGitRepo(grpc::CallbackServerContext* ctx,
                                                       const v1::GetRequest* req,
                                                       v1::GitRepo* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->GetGitRepo(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListBundles(grpc::CallbackServerContext* ctx,
                                                        const v1::ListBundlesRequest* req,
                                                        v1::ListBundlesResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListBundles(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::GetBundle(grpc::CallbackServerContext* ctx,
                                                      const v1::GetRequest* req, v1::Bundle* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->GetBundle(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListClusters(grpc::CallbackServerContext* ctx,
                                                         const v1::ListClustersRequest* req,
                                                         v1::ListClustersResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListClusters(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::GetCluster(grpc::CallbackServerContext* ctx,
                                                       const v1::GetRequest* req,
                                                       v1::Cluster* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->GetCluster(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListBundleDeployments(
    grpc::CallbackServerContext* ctx, const v1::ListBundleDeploymentsRequest* req,
    v1::ListBundleDeploymentsResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListBundleDeployments(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListClusterGroups(
    grpc::CallbackServerContext* ctx, const v1::ListClusterGroupsRequest* req,
    v1::ListClusterGroupsResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListClusterGroups(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::GetClusterGroup(grpc::CallbackServerContext* ctx,
                                                            const v1::GetRequest* req,
                                                            v1::ClusterGroup* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->GetClusterGroup(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListSecrets(grpc::CallbackServerContext* ctx,
                                                        const v1::ListSecretsRequest* req,
                                                        v1::ListSecretsResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListSecrets(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::LabelCluster(grpc::CallbackServerContext* ctx,
                                                         const v1::LabelClusterRequest* req,
                                                         v1::Cluster* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->LabelCluster(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::SetPaused(grpc::CallbackServerContext* ctx,
                                                      const v1::SetPausedRequest* req,
                                                      v1::SetPausedResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->SetPaused(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::Resync(grpc::CallbackServerContext* ctx,
                                                   const v1::ResyncRequest* req,
                                                   v1::ResyncResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->Resync(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::RevokeCluster(grpc::CallbackServerContext* ctx,
                                                          const v1::RevokeClusterRequest* req,
                                                          v1::Cluster* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->RevokeCluster(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::CreateRegistrationToken(
    grpc::CallbackServerContext* ctx, const v1::CreateRegistrationTokenRequest* req,
    v1::CreateRegistrationTokenResponse* resp) {
  return Serve(ctx, resp,
               [&](const Principal& p) { return api_->CreateRegistrationToken(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListRegistrationTokens(
    grpc::CallbackServerContext* ctx, const v1::ListRegistrationTokensRequest* req,
    v1::ListRegistrationTokensResponse* resp) {
  return Serve(ctx, resp,
               [&](const Principal& p) { return api_->ListRegistrationTokens(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::RevokeRegistrationToken(
    grpc::CallbackServerContext* ctx, const v1::RevokeTokenRequest* req,
    v1::RevokeTokenResponse* resp) {
  return Serve(ctx, resp,
               [&](const Principal& p) { return api_->RevokeRegistrationToken(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::CreateApiToken(grpc::CallbackServerContext* ctx,
                                                           const v1::CreateApiTokenRequest* req,
                                                           v1::CreateApiTokenResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->CreateApiToken(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListApiTokens(grpc::CallbackServerContext* ctx,
                                                          const v1::ListApiTokensRequest* req,
                                                          v1::ListApiTokensResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListApiTokens(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::RevokeApiToken(grpc::CallbackServerContext* ctx,
                                                           const v1::RevokeTokenRequest* req,
                                                           v1::RevokeTokenResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->RevokeApiToken(p, *req); });
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListAudit(grpc::CallbackServerContext* ctx,
                                                      const v1::ListAuditRequest* req,
                                                      v1::ListAuditResponse* resp) {
  return Serve(ctx, resp, [&](const Principal& p) { return api_->ListAudit(p, *req); });
}

}  // namespace flotilla::manager
