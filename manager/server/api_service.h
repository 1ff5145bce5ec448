// The operator gRPC service (proto/flotilla/v1/api.proto) on the callback
// API: each call authenticates its bearer token and hands the request to
// FleetApi (fleet_api.h), which authorizes, does the work and answers. The
// calls complete inline; nothing blocks on I/O beyond a store transaction.
#pragma once

#include <grpcpp/grpcpp.h>

#include "flotilla/v1/api.grpc.pb.h"
#include "manager/server/fleet_api.h"

namespace flotilla::manager {

class FleetServiceImpl final : public flotilla::v1::FleetService::CallbackService {
 public:
  explicit FleetServiceImpl(FleetApi* api) : api_(api) {}

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* ctx,
                                  const flotilla::v1::ApplyRequest* req,
                                  flotilla::v1::ApplyResponse* resp) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const flotilla::v1::DeleteRequest* req,
                                   flotilla::v1::DeleteResponse* resp) override;
  grpc::ServerUnaryReactor* ListGitRepos(grpc::CallbackServerContext* ctx,
                                         const flotilla::v1::ListGitReposRequest* req,
                                         flotilla::v1::ListGitReposResponse* resp) override;
  grpc::ServerUnaryReactor* GetGitRepo(grpc::CallbackServerContext* ctx,
                                       const flotilla::v1::GetRequest* req,
                                       flotilla::v1::GitRepo* resp) override;
  grpc::ServerUnaryReactor* ListBundles(grpc::CallbackServerContext* ctx,
                                        const flotilla::v1::ListBundlesRequest* req,
                                        flotilla::v1::ListBundlesResponse* resp) override;
  grpc::ServerUnaryReactor* GetBundle(grpc::CallbackServerContext* ctx,
                                      const flotilla::v1::GetRequest* req,
                                      flotilla::v1::Bundle* resp) override;
  grpc::ServerUnaryReactor* ListClusters(grpc::CallbackServerContext* ctx,
                                         const flotilla::v1::ListClustersRequest* req,
                                         flotilla::v1::ListClustersResponse* resp) override;
  grpc::ServerUnaryReactor* GetCluster(grpc::CallbackServerContext* ctx,
                                       const flotilla::v1::GetRequest* req,
                                       flotilla::v1::Cluster* resp) override;
  grpc::ServerUnaryReactor* ListBundleDeployments(
      grpc::CallbackServerContext* ctx, const flotilla::v1::ListBundleDeploymentsRequest* req,
      flotilla::v1::ListBundleDeploymentsResponse* resp) override;
  grpc::ServerUnaryReactor* ListClusterGroups(
      grpc::CallbackServerContext* ctx, const flotilla::v1::ListClusterGroupsRequest* req,
      flotilla::v1::ListClusterGroupsResponse* resp) override;
  grpc::ServerUnaryReactor* GetClusterGroup(grpc::CallbackServerContext* ctx,
                                            const flotilla::v1::GetRequest* req,
                                            flotilla::v1::ClusterGroup* resp) override;
  grpc::ServerUnaryReactor* ListSecrets(grpc::CallbackServerContext* ctx,
                                        const flotilla::v1::ListSecretsRequest* req,
                                        flotilla::v1::ListSecretsResponse* resp) override;
  grpc::ServerUnaryReactor* LabelCluster(grpc::CallbackServerContext* ctx,
                                         const flotilla::v1::LabelClusterRequest* req,
                                         flotilla::v1::Cluster* resp) override;
  grpc::ServerUnaryReactor* SetPaused(grpc::CallbackServerContext* ctx,
                                      const flotilla::v1::SetPausedRequest* req,
                                      flotilla::v1::SetPausedResponse* resp) override;
  grpc::ServerUnaryReactor* Resync(grpc::CallbackServerContext* ctx,
                                   const flotilla::v1::ResyncRequest* req,
                                   flotilla::v1::ResyncResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeCluster(grpc::CallbackServerContext* ctx,
                                          const flotilla::v1::RevokeClusterRequest* req,
                                          flotilla::v1::Cluster* resp) override;
  grpc::ServerUnaryReactor* CreateRegistrationToken(
      grpc::CallbackServerContext* ctx, const flotilla::v1::CreateRegistrationTokenRequest* req,
      flotilla::v1::CreateRegistrationTokenResponse* resp) override;
  grpc::ServerUnaryReactor* ListRegistrationTokens(
      grpc::CallbackServerContext* ctx, const flotilla::v1::ListRegistrationTokensRequest* req,
      flotilla::v1::ListRegistrationTokensResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeRegistrationToken(
      grpc::CallbackServerContext* ctx, const flotilla::v1::RevokeTokenRequest* req,
      flotilla::v1::RevokeTokenResponse* resp) override;
  grpc::ServerUnaryReactor* CreateApiToken(grpc::CallbackServerContext* ctx,
                                           const flotilla::v1::CreateApiTokenRequest* req,
                                           flotilla::v1::CreateApiTokenResponse* resp) override;
  grpc::ServerUnaryReactor* ListApiTokens(grpc::CallbackServerContext* ctx,
                                          const flotilla::v1::ListApiTokensRequest* req,
                                          flotilla::v1::ListApiTokensResponse* resp) override;
  grpc::ServerUnaryReactor* RevokeApiToken(grpc::CallbackServerContext* ctx,
                                           const flotilla::v1::RevokeTokenRequest* req,
                                           flotilla::v1::RevokeTokenResponse* resp) override;
  grpc::ServerUnaryReactor* ListAudit(grpc::CallbackServerContext* ctx,
                                      const flotilla::v1::ListAuditRequest* req,
                                      flotilla::v1::ListAuditResponse* resp) override;

 private:
  template <typename Resp, typename Fn>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* ctx, Resp* resp, Fn fn);

  FleetApi* const api_;
};

}  // namespace flotilla::manager
