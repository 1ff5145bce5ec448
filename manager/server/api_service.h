// The operator gRPC service (proto/flotilla/v1/api.proto) on the callback
// API. Every call is authenticated with an API token ("authorization: Bearer
// flta.<id>.<secret>") and authorized by role through Authorize(); deny by
// default.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>

#include "common/clock.h"
#include "flotilla/v1/api.grpc.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/store/store.h"

namespace flotilla::manager {

// Whether `role` may call `method` (the RPC name, e.g. "Apply").
// viewer: List* (except ListSecrets); cluster-admin: viewer + LabelCluster,
// CreateRegistrationToken; admin: everything (Apply, Delete, ListSecrets).
// deployer: viewer (pause/resume/resync arrive later). Unknown methods are
// denied to every role.
bool Authorize(const std::string& role, const std::string& method);

class FleetServiceImpl final : public flotilla::v1::FleetService::CallbackService {
 public:
  FleetServiceImpl(FleetController* controller, Store* store, const common::Clock* clock,
                   std::string ca_pin);

  // Apply, Delete, ListClusterGroups, ListSecrets: api_objects.cc.
  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* ctx,
                                  const flotilla::v1::ApplyRequest* req,
                                  flotilla::v1::ApplyResponse* resp) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* ctx,
                                   const flotilla::v1::DeleteRequest* req,
                                   flotilla::v1::DeleteResponse* resp) override;
  grpc::ServerUnaryReactor* ListClusterGroups(
      grpc::CallbackServerContext* ctx, const flotilla::v1::ListClusterGroupsRequest* req,
      flotilla::v1::ListClusterGroupsResponse* resp) override;
  grpc::ServerUnaryReactor* ListSecrets(grpc::CallbackServerContext* ctx,
                                        const flotilla::v1::ListSecretsRequest* req,
                                        flotilla::v1::ListSecretsResponse* resp) override;
  grpc::ServerUnaryReactor* ListGitRepos(grpc::CallbackServerContext* ctx,
                                         const flotilla::v1::ListGitReposRequest* req,
                                         flotilla::v1::ListGitReposResponse* resp) override;
  grpc::ServerUnaryReactor* ListBundles(grpc::CallbackServerContext* ctx,
                                        const flotilla::v1::ListBundlesRequest* req,
                                        flotilla::v1::ListBundlesResponse* resp) override;
  grpc::ServerUnaryReactor* ListClusters(grpc::CallbackServerContext* ctx,
                                         const flotilla::v1::ListClustersRequest* req,
                                         flotilla::v1::ListClustersResponse* resp) override;
  grpc::ServerUnaryReactor* ListBundleDeployments(
      grpc::CallbackServerContext* ctx, const flotilla::v1::ListBundleDeploymentsRequest* req,
      flotilla::v1::ListBundleDeploymentsResponse* resp) override;
  grpc::ServerUnaryReactor* LabelCluster(grpc::CallbackServerContext* ctx,
                                         const flotilla::v1::LabelClusterRequest* req,
                                         flotilla::v1::Cluster* resp) override;
  grpc::ServerUnaryReactor* CreateRegistrationToken(
      grpc::CallbackServerContext* ctx, const flotilla::v1::CreateRegistrationTokenRequest* req,
      flotilla::v1::CreateRegistrationTokenResponse* resp) override;

 private:
  // The caller's principal ("token:<id>") if authenticated and authorized.
  absl::StatusOr<std::string> Authenticate(grpc::CallbackServerContext* ctx,
                                           const std::string& method);

  FleetController* const controller_;
  Store* const store_;
  const common::Clock* const clock_;
  const std::string ca_pin_;
};

// Unix milliseconds as the API reports times: 0 for "no time".
int64_t ApiUnixMillis(absl::Time t);

}  // namespace flotilla::manager
