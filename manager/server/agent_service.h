// The agent-facing gRPC service (proto/flotilla/v1/agent.proto), on gRPC's
// callback API: one reactor per Connect stream, no thread per stream, one
// write in flight per stream.
//
// Each stream remembers what it has sent its agent (deployment ids and
// content hashes, seeded from the agent's Hello), so an agent gets only what
// changed, and a manifest at most once, even across reconnects.
//
// Identity: the cluster id comes from the verified client certificate's
// SPIFFE URI, never from a message field.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/metrics.h"
#include "flotilla/v1/agent.grpc.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/server/registrar.h"

namespace flotilla::manager {

class AgentServiceImpl final : public flotilla::v1::AgentService::CallbackService {
 public:
  AgentServiceImpl(FleetController* controller, Registrar* registrar,
                   common::MetricsRegistry* metrics);
  ~AgentServiceImpl() override;

  grpc::ServerUnaryReactor* Register(grpc::CallbackServerContext* ctx,
                                     const flotilla::v1::RegisterRequest* req,
                                     flotilla::v1::RegisterResponse* resp) override;
  grpc::ServerUnaryReactor* Renew(grpc::CallbackServerContext* ctx,
                                  const flotilla::v1::RenewRequest* req,
                                  flotilla::v1::RenewResponse* resp) override;
  grpc::ServerBidiReactor<flotilla::v1::AgentMessage, flotilla::v1::ManagerMessage>* Connect(
      grpc::CallbackServerContext* ctx) override;

  // Tells the streams of these clusters that their assignments changed.
  void Kick(const std::vector<std::string>& cluster_ids);
  // Ends every stream of a cluster (revocation).
  void CloseCluster(const std::string& cluster_id);
  size_t StreamCount();

  // Declares the service's series (docs/metrics.md) in `registry`, every
  // known label combination at zero; the constructor does it for its own
  // registry. No label carries a cluster: per-cluster detail is in the
  // logs and the API, not in time series.
  static void DeclareMetrics(common::MetricsRegistry& registry);

 private:
  class Stream;
  friend class Stream;
  // The authenticated cluster of a call, from its client certificate.
  absl::StatusOr<ClusterRecord> PeerCluster(grpc::CallbackServerContext* ctx);
  void Add(Stream* s);
  void Remove(Stream* s);

  FleetController* const controller_;
  Registrar* const registrar_;
  common::MetricsRegistry* const metrics_;
  absl::Mutex mu_;
  std::map<std::string, std::set<Stream*>> streams_ ABSL_GUARDED_BY(mu_);
  uint64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
};

}  // namespace flotilla::manager
