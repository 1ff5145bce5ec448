#include "manager/server/api_service.h"

#include <google/protobuf/util/json_util.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/grpc_status.h"
#include "common/logging.h"
#include "manager/server/tokens.h"

namespace flotilla::manager {

namespace v1 = flotilla::v1;

namespace {

// Fleet's GitRepo conditions (gitops/reconciler/status_controller.go), from
// what the GitRepo's status already says.
void AddGitRepoConditions(v1::GitRepo& g, const std::string& fetch_error) {
  auto add = [&](const char* type, bool ok, const std::string& reason, const std::string& message) {
    v1::Condition* c = g.add_conditions();
    c->set_type(type);
    c->set_status(ok ? "True" : "False");
    c->set_reason(reason);
    c->set_message(message);
  };
  const bool all_ready = g.ready_bundle_deployments() == g.desired_bundle_deployments();
  add("Accepted", true, "", "");
  add("GitPolling", fetch_error.empty(), fetch_error.empty() ? "" : "FetchFailed", fetch_error);
  // Reconciling and Stalled read True when the condition holds.
  v1::Condition* reconciling = g.add_conditions();
  reconciling->set_type("Reconciling");
  reconciling->set_status(!all_ready && g.error().empty() ? "True" : "False");
  if (!all_ready) {
    reconciling->set_message(
        absl::StrCat(g.desired_bundle_deployments() - g.ready_bundle_deployments(),
                     " bundle deployment(s) not ready"));
  }
  v1::Condition* stalled = g.add_conditions();
  stalled->set_type("Stalled");
  stalled->set_status(g.error().empty() ? "False" : "True");
  stalled->set_message(g.error());
  add("Ready", g.error().empty() && all_ready,
      !g.error().empty() ? "Error" : (all_ready ? "" : "NotReady"),
      !g.error().empty()
          ? g.error()
          : (all_ready ? ""
                       : absl::StrCat("NotReady(",
                                      g.desired_bundle_deployments() - g.ready_bundle_deployments(),
                                      ")")));
}

}  // namespace

int64_t ApiUnixMillis(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return 0;
  return absl::ToUnixMillis(t);
}

bool Authorize(const std::string& role, const std::string& method) {
  // Every RPC is named here; anything else is denied to every role.
  static const auto* kRead = new absl::flat_hash_set<std::string>{
      "ListGitRepos", "ListBundles", "ListClusters", "ListBundleDeployments", "ListClusterGroups"};
  static const auto* kClusterAdmin =
      new absl::flat_hash_set<std::string>{"LabelCluster", "CreateRegistrationToken"};
  static const auto* kAdminOnly =
      new absl::flat_hash_set<std::string>{"Apply", "Delete", "ListSecrets"};
  const bool read = kRead->contains(method);
  if (role == "viewer" || role == "deployer") return read;
  if (role == "cluster-admin") return read || kClusterAdmin->contains(method);
  if (role == "admin") {
    return read || kClusterAdmin->contains(method) || kAdminOnly->contains(method);
  }
  return false;
}

FleetServiceImpl::FleetServiceImpl(FleetController* controller, Store* store,
                                   const common::Clock* clock, std::string ca_pin)
    : controller_(controller), store_(store), clock_(clock), ca_pin_(std::move(ca_pin)) {}

absl::StatusOr<std::string> FleetServiceImpl::Authenticate(grpc::CallbackServerContext* ctx,
                                                           const std::string& method) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) {
    return absl::UnauthenticatedError(
        "missing API token: send \"authorization: Bearer flta.<id>.<secret>\" (the CLI's "
        "--token-file)");
  }
  std::string value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, "Bearer ")) {
    return absl::UnauthenticatedError("authorization metadata must be \"Bearer <token>\"");
  }
  auto token = AuthenticateApiToken(*store_, *clock_, value.substr(7));
  if (!token.ok()) return token.status();
  if (!Authorize(token->role, method)) {
    return absl::PermissionDeniedError(
        absl::StrCat("role ", token->role, " may not call ", method));
  }
  return "token:" + token->id;
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListGitRepos(grpc::CallbackServerContext* ctx,
                                                         const v1::ListGitReposRequest*,
                                                         v1::ListGitReposResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "ListGitRepos");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  auto bds = controller_->BundleDeployments();
  auto bundles = controller_->Bundles();
  std::map<std::string, std::string> bundle_repo;
  std::map<std::string, int> bundle_count;
  for (const auto& b : bundles) {
    bundle_repo[b.name] = b.gitrepo;
    bundle_count[b.gitrepo]++;
  }
  std::map<std::string, std::pair<int, int>> ready;  // repo -> ready, desired
  for (const auto& bd : bds) {
    auto& r = ready[bundle_repo[bd.bundle]];
    r.second++;
    if (EffectiveState(bd) == v1::READY) r.first++;
  }
  for (const auto& g : controller_->GitRepos()) {
    v1::GitRepo* out = resp->add_gitrepos();
    out->set_name(g.name);
    auto spec = common::ParseGitRepo(g.spec_yaml, "GitRepo");
    if (spec.ok()) {
      out->set_repo(spec->repo);
      out->set_branch(spec->branch);
      out->set_revision(spec->revision);
      for (const auto& p : spec->paths) out->add_paths(p);
      out->set_polling_interval_seconds(absl::ToInt64Seconds(spec->polling_interval));
    }
    out->set_spec_yaml(g.spec_yaml);
    out->set_commit(g.commit);
    out->set_applied_commit(g.applied_commit);
    out->set_error(g.error);
    out->set_bundle_count(bundle_count[g.name]);
    out->set_ready_bundle_deployments(ready[g.name].first);
    out->set_desired_bundle_deployments(ready[g.name].second);
    out->set_last_fetch_unix_millis(ApiUnixMillis(g.last_fetch));
    AddGitRepoConditions(*out, controller_->FetchError(g.name));
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListBundles(grpc::CallbackServerContext* ctx,
                                                        const v1::ListBundlesRequest* req,
                                                        v1::ListBundlesResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "ListBundles");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  std::map<std::string, std::vector<BundleDeploymentRecord>> by_bundle;
  for (auto& bd : controller_->BundleDeployments()) by_bundle[bd.bundle].push_back(bd);
  for (const auto& b : controller_->Bundles()) {
    if (!req->gitrepo_name().empty() && b.gitrepo != req->gitrepo_name()) continue;
    v1::Bundle* out = resp->add_bundles();
    out->set_name(b.name);
    out->set_gitrepo_name(b.gitrepo);
    out->set_path(b.path);
    out->set_commit(b.commit);
    for (const auto& [k, v] : b.labels) (*out->mutable_labels())[k] = v;
    out->set_resource_count(static_cast<int>(b.resources.size()));
    out->set_error(b.error);
    int ready = 0;
    int worst = v1::READY;
    for (const auto& bd : by_bundle[b.name]) {
      auto s = EffectiveState(bd);
      if (s == v1::READY) ready++;
      worst = std::max<int>(worst, s);
    }
    out->set_ready(ready);
    out->set_desired(static_cast<int>(by_bundle[b.name].size()));
    out->set_state(by_bundle[b.name].empty() ? v1::STATE_UNSPECIFIED
                                             : static_cast<v1::BundleDeploymentState>(worst));
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListClusters(grpc::CallbackServerContext* ctx,
                                                         const v1::ListClustersRequest*,
                                                         v1::ListClustersResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "ListClusters");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  std::map<std::string, std::vector<BundleDeploymentRecord>> by_cluster;
  for (auto& bd : controller_->BundleDeployments()) by_cluster[bd.cluster_id].push_back(bd);
  for (const auto& c : controller_->Clusters()) {
    v1::Cluster* out = resp->add_clusters();
    out->set_id(c.id);
    out->set_name(c.name);
    for (const auto& [k, v] : c.labels) (*out->mutable_labels())[k] = v;
    out->set_connected(controller_->connected(c.id));
    out->set_last_seen_unix_millis(ApiUnixMillis(c.last_seen));
    out->set_agent_version(c.agent_version);
    out->set_cert_not_after_unix_millis(ApiUnixMillis(c.cert_not_after));
    int ready = 0;
    int worst = v1::READY;
    for (const auto& bd : by_cluster[c.id]) {
      auto s = EffectiveState(bd);
      if (s == v1::READY) ready++;
      worst = std::max<int>(worst, s);
    }
    out->set_ready_bundles(ready);
    out->set_desired_bundles(static_cast<int>(by_cluster[c.id].size()));
    out->set_state(c.last_seen == absl::InfinitePast()
                       ? v1::STATE_UNSPECIFIED
                       : static_cast<v1::BundleDeploymentState>(worst));
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::ListBundleDeployments(
    grpc::CallbackServerContext* ctx, const v1::ListBundleDeploymentsRequest* req,
    v1::ListBundleDeploymentsResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "ListBundleDeployments");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  std::string cluster_filter;
  if (!req->cluster().empty()) {
    auto c = controller_->FindCluster(req->cluster());
    if (!c) {
      reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                   absl::StrCat("cluster \"", req->cluster(), "\" not found")));
      return reactor;
    }
    cluster_filter = c->id;
  }
  std::map<std::string, std::string> names;
  for (const auto& c : controller_->Clusters()) names[c.id] = c.name;
  for (const auto& bd : controller_->BundleDeployments()) {
    if (!cluster_filter.empty() && bd.cluster_id != cluster_filter) continue;
    if (!req->bundle_name().empty() && bd.bundle != req->bundle_name()) continue;
    v1::BundleDeployment* out = resp->add_bundle_deployments();
    out->set_bundle_name(bd.bundle);
    out->set_cluster_id(bd.cluster_id);
    out->set_cluster_name(names[bd.cluster_id]);
    out->set_deployment_id(bd.deployment_id);
    out->set_applied_deployment_id(bd.applied_deployment_id);
    out->set_state(EffectiveState(bd));
    out->set_message(bd.message);
    if (!bd.status_json.empty()) {
      v1::BundleDeploymentStatus st;
      if (google::protobuf::util::JsonStringToMessage(bd.status_json, &st).ok()) {
        for (const auto& r : st.non_ready()) *out->add_non_ready() = r;
      }
    }
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::LabelCluster(grpc::CallbackServerContext* ctx,
                                                         const v1::LabelClusterRequest* req,
                                                         v1::Cluster* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "LabelCluster");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  std::map<std::string, std::string> set(req->set().begin(), req->set().end());
  std::vector<std::string> remove(req->remove().begin(), req->remove().end());
  auto c = controller_->LabelCluster(req->cluster(), set, remove, *who);
  if (c.ok()) {
    resp->set_id(c->id);
    resp->set_name(c->name);
    for (const auto& [k, v] : c->labels) (*resp->mutable_labels())[k] = v;
    resp->set_connected(controller_->connected(c->id));
  }
  reactor->Finish(common::ToGrpcStatus(c.status()));
  return reactor;
}

grpc::ServerUnaryReactor* FleetServiceImpl::CreateRegistrationToken(
    grpc::CallbackServerContext* ctx, const v1::CreateRegistrationTokenRequest* req,
    v1::CreateRegistrationTokenResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto who = Authenticate(ctx, "CreateRegistrationToken");
  if (!who.ok()) {
    reactor->Finish(common::ToGrpcStatus(who.status()));
    return reactor;
  }
  RegistrationTokenOptions opts;
  if (req->ttl_seconds() != 0) opts.ttl = absl::Seconds(req->ttl_seconds());
  opts.max_uses = req->max_uses();
  opts.labels = std::map<std::string, std::string>(req->labels().begin(), req->labels().end());
  opts.cluster_name = req->cluster_name();
  opts.created_by = *who;
  auto token = manager::CreateRegistrationToken(*store_, *clock_, opts);
  if (token.ok()) {
    resp->set_token(token->first);
    resp->set_id(token->second.id);
    resp->set_expires_unix_millis(absl::ToUnixMillis(token->second.expires));
    resp->set_ca_pin(ca_pin_);
    common::Logger("manager.api")->info("{} created registration token {}", *who, token->second.id);
  }
  reactor->Finish(common::ToGrpcStatus(token.status()));
  return reactor;
}

}  // namespace flotilla::manager
