// FleetServiceImpl: Apply and Delete of operator objects (GitRepo,
// ClusterGroup, Cluster, Secret), ListClusterGroups and ListSecrets.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/fleet/fleet_objects.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "common/selector.h"
#include "common/status_macros.h"
#include "manager/server/api_service.h"

namespace flotilla::manager {

namespace v1 = flotilla::v1;

namespace {

v1::ApplyOutcome ToProto(FleetController::ApplyOutcome outcome) {
  switch (outcome) {
    case FleetController::ApplyOutcome::kCreated:
      return v1::APPLY_OUTCOME_CREATED;
    case FleetController::ApplyOutcome::kConfigured:
      return v1::APPLY_OUTCOME_CONFIGURED;
    case FleetController::ApplyOutcome::kUnchanged:
      return v1::APPLY_OUTCOME_UNCHANGED;
  }
  return v1::APPLY_OUTCOME_UNSPECIFIED;
}

// Dispatches one document by its kind.
absl::StatusOr<FleetController::ApplyOutcome> ApplyDocument(FleetController& controller,
                                                            const std::string& yaml,
                                                            const std::string& who,
                                                            v1::ApplyResponse& resp) {
  ASSIGN_OR_RETURN(common::ObjectKind kind, common::DocumentKind(yaml, "document"));
  resp.set_kind(kind.kind);
  if (kind.api_version == "fleet.cattle.io/v1alpha1" && kind.kind == "GitRepo") {
    FleetController::ApplyOutcome outcome = FleetController::ApplyOutcome::kCreated;
    ASSIGN_OR_RETURN(GitRepoRecord rec, controller.ApplyGitRepo(yaml, who, &outcome));
    resp.set_name(rec.name);
    return outcome;
  }
  if (kind.api_version == "fleet.cattle.io/v1alpha1" && kind.kind == "ClusterGroup") {
    ASSIGN_OR_RETURN(common::ClusterGroupSpec spec, common::ParseClusterGroup(yaml, "document"));
    resp.set_name(spec.name);
    return controller.ApplyClusterGroup(yaml, who);
  }
  if (kind.api_version == "fleet.cattle.io/v1alpha1" && kind.kind == "Cluster") {
    ASSIGN_OR_RETURN(common::ClusterSpec spec, common::ParseCluster(yaml, "document"));
    resp.set_name(spec.name);
    return controller.ApplyClusterSettings(yaml, who);
  }
  if (kind.api_version == "v1" && kind.kind == "Secret") {
    ASSIGN_OR_RETURN(common::SecretSpec spec, common::ParseSecret(yaml, "document"));
    resp.set_name(spec.name);
    return controller.ApplySecret(yaml, who);
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "cannot apply ", kind.api_version, " ", kind.kind,
      ": flotilla applies fleet.cattle.io/v1alpha1 GitRepo, ClusterGroup and Cluster, and v1 "
      "Secret"));
}

}  // namespace

grpc::ServerUnaryReactor* FleetServiceImpl::Apply(grpc::CallbackServerContext* ctx,
                                                  const v1::ApplyRequest* req,
                                                  v1::ApplyResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "Apply");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  auto outcome = ApplyDocument(*controller_, req->yaml(), *who, *resp);
  if (outcome.ok()) {
    resp->set_outcome(ToProto(*outcome));
    if (*outcome != FleetController::ApplyOutcome::kUnchanged) {
      common::Logger("manager.api")
          ->info("{} applied {} {}", *who, absl::AsciiStrToLower(resp->kind()), resp->name());
    }
  }
  reactor->Finish(common::ToGrpcStatus(outcome.status()));
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::Delete(grpc::CallbackServerContext* ctx,
                                                   const v1::DeleteRequest* req,
                                                   v1::DeleteResponse*) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "Delete");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  std::string kind = absl::AsciiStrToLower(req->kind());
  absl::Status st;
  if (req->name().empty()) {
    st = absl::InvalidArgumentError("a name is required");
  } else if (kind == "gitrepo" || kind == "gitrepos") {
    st = controller_->DeleteGitRepo(req->name(), *who);
  } else if (kind == "clustergroup" || kind == "clustergroups") {
    st = controller_->DeleteClusterGroup(req->name(), *who);
  } else if (kind == "secret" || kind == "secrets") {
    st = controller_->DeleteSecret(req->name(), *who);
  } else {
    st = absl::InvalidArgumentError(
        absl::StrCat("cannot delete \"", req->kind(),
                     "\": flotilla deletes gitrepo, clustergroup and secret (clusters leave "
                     "when their agent is removed)"));
  }
  if (st.ok()) common::Logger("manager.api")->info("{} deleted {} {}", *who, kind, req->name());
  reactor->Finish(common::ToGrpcStatus(st));
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListClusterGroups(grpc::CallbackServerContext* ctx,
                                                              const v1::ListClusterGroupsRequest*,
                                                              v1::ListClusterGroupsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "ListClusterGroups");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  // Readiness per cluster: every BundleDeployment on it Ready.
  std::map<std::string, bool> cluster_ready;
  for (const auto& bd : controller_->BundleDeployments()) {
    auto [it, inserted] = cluster_ready.emplace(bd.cluster_id, true);
    it->second = it->second && EffectiveState(bd) == v1::READY;
  }
  std::map<std::string, std::string> id_of;
  for (const auto& c : controller_->Clusters()) id_of[c.name] = c.id;
  for (const auto& g : controller_->ClusterGroups()) {
    v1::ClusterGroup* out = resp->add_cluster_groups();
    out->set_name(g.name);
    for (const auto& [k, v] : g.labels) (*out->mutable_labels())[k] = v;
    if (!g.selector_json.empty()) {
      out->set_has_selector(true);
      auto json = common::Json::parse(g.selector_json, nullptr, false);
      auto selector = common::ParseLabelSelector(json, "selector");
      if (selector.ok()) out->set_selector(selector->ToString());
    }
    auto members = controller_->ClusterGroupMembers(g.name);
    out->set_cluster_count(static_cast<int>(members.size()));
    int ready = 0;
    for (const auto& name : members) {
      auto it = cluster_ready.find(id_of[name]);
      if (it == cluster_ready.end() || it->second) {
        ++ready;
      } else if (out->non_ready_clusters_size() < 10) {
        out->add_non_ready_clusters(name);
      }
    }
    out->set_ready_clusters(ready);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListSecrets(grpc::CallbackServerContext* ctx,
                                                        const v1::ListSecretsRequest*,
                                                        v1::ListSecretsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "ListSecrets");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  auto secrets = controller_->SecretsWithoutValues();
  if (secrets.ok()) {
    for (const auto& s : *secrets) {
      v1::Secret* out = resp->add_secrets();
      out->set_name(s.name);
      out->set_type(s.type);
      for (const auto& [k, unused] : s.data) out->add_keys(k);
      out->set_created_unix_millis(ApiUnixMillis(s.created));
      out->set_updated_unix_millis(ApiUnixMillis(s.updated));
    }
  }
  reactor->Finish(common::ToGrpcStatus(secrets.status()));
  return reactor;
}

}  // namespace flotilla::manager
