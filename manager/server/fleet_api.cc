#include "manager/server/fleet_api.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/fleet/fleet_objects.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/logging.h"
#include "common/selector.h"
#include "common/status_macros.h"
#include "common/yaml.h"
#include "flotilla/v1/state_names.h"
#include "manager/server/tokens.h"

namespace flotilla::manager {
namespace {

using common::Json;

constexpr int kMaxPageSize = 5000;
constexpr int kDefaultAuditLimit = 100;
constexpr int kMaxAuditLimit = 1000;

absl::StatusOr<std::optional<common::LabelSelector>> SelectorOf(const v1::ListOptions& o) {
  if (o.label_selector().empty()) return std::nullopt;
  auto s = common::ParseSelectorString(o.label_selector());
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("label_selector \"", o.label_selector(), "\": ", s.status().message()));
  }
  return *s;
}

bool Matches(const std::optional<common::LabelSelector>& s, const Labels& labels) {
  return !s.has_value() || s->Matches(labels);
}

// Keeps the page of `items` (sorted by key) that ListOptions asks for.
template <typename T>
absl::Status Page(std::vector<std::pair<std::string, T>> items, const v1::ListOptions& o,
                  google::protobuf::RepeatedPtrField<T>* out, std::string* next_page_token) {
  if (o.page_size() < 0 || o.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size ", o.page_size(), " must be between 0 (all) and ", kMaxPageSize));
  }
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  auto it = items.begin();
  if (!o.page_token().empty()) {
    it = std::upper_bound(
        items.begin(), items.end(), o.page_token(),
        [](const std::string& token, const auto& item) { return token < item.first; });
  }
  int n = 0;
  for (; it != items.end(); ++it) {
    if (o.page_size() > 0 && n == o.page_size()) {
      *next_page_token = std::prev(it)->first;
      break;
    }
    *out->Add() = std::move(it->second);
    ++n;
  }
  return absl::OkStatus();
}

void FillSummary(const BundleSummary& s, v1::BundleSummary* out) {
  out->set_not_ready(s.not_ready);
  out->set_wait_applied(s.wait_applied);
  out->set_err_applied(s.err_applied);
  out->set_out_of_sync(s.out_of_sync);
  out->set_modified(s.modified);
  out->set_ready(s.ready);
  out->set_pending(s.pending);
  out->set_desired_ready(s.desired_ready);
  for (const auto& r : s.non_ready_resources) {
    auto* nr = out->add_non_ready_resources();
    nr->set_name(r.name);
    nr->set_state(r.state);
    nr->set_message(r.message);
    for (const auto& l : r.non_ready) nr->add_non_ready(l);
    for (const auto& l : r.modified) nr->add_modified(l);
  }
}

// The state a summary shows: the worst listed one, Ready when all are, none
// when there is nothing to count.
v1::BundleDeploymentState StateOf(const BundleSummary& s) {
  v1::BundleDeploymentState worst = SummaryState(s);
  if (worst != v1::STATE_UNSPECIFIED) return worst;
  return s.desired_ready > 0 ? v1::READY : v1::STATE_UNSPECIFIED;
}

// Fleet's GitRepo conditions (gitops/reconciler/status_controller.go).
void AddGitRepoConditions(v1::GitRepo& g, const std::string& fetch_error,
                          const std::string& ready_message) {
  auto add = [&](const char* type, bool status, const std::string& reason,
                 const std::string& message) {
    v1::Condition* c = g.add_conditions();
    c->set_type(type);
    c->set_status(status ? "True" : "False");
    c->set_reason(reason);
    c->set_message(message);
  };
  const bool all_ready = ready_message.empty();
  add("Accepted", true, "", "");
  add("GitPolling", fetch_error.empty(), fetch_error.empty() ? "" : "FetchFailed", fetch_error);
  add("Reconciling", !all_ready && g.error().empty(), "", ready_message);
  add("Stalled", !g.error().empty(), "", g.error());
  add("Ready", g.error().empty() && all_ready,
      !g.error().empty() ? "Error" : (all_ready ? "" : "NotReady"),
      !g.error().empty() ? g.error() : ready_message);
}

Labels MetadataLabels(const std::string& yaml) {
  Labels out;
  auto doc = common::ParseYaml(yaml, "stored object");
  if (!doc.ok() || !doc->is_object() || !doc->contains("metadata")) return out;
  const Json& md = (*doc)["metadata"];
  if (!md.is_object() || !md.contains("labels") || !md["labels"].is_object()) return out;
  for (const auto& [k, v] : md["labels"].items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

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

v1::ApiToken ApiTokenView(const ApiTokenRecord& r) {
  v1::ApiToken t;
  t.set_id(r.id);
  t.set_role(r.role);
  t.set_workspace(r.workspace);
  t.set_description(r.description);
  t.set_created_unix_millis(ApiUnixMillis(r.created));
  t.set_expires_unix_millis(ApiUnixMillis(r.expires));
  t.set_last_used_unix_millis(ApiUnixMillis(r.last_used));
  t.set_revoked_unix_millis(ApiUnixMillis(r.revoked_at));
  return t;
}

}  // namespace

int64_t ApiUnixMillis(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) return 0;
  return absl::ToUnixMillis(t);
}

FleetApi::FleetApi(FleetController* controller, Store* store, const common::Clock* clock,
                   std::string ca_pin)
    : controller_(controller), store_(store), clock_(clock), ca_pin_(std::move(ca_pin)) {}

void FleetApi::SetClusterRevokedHook(std::function<void(const std::string&)> hook) {
  cluster_revoked_ = std::move(hook);
}

absl::StatusOr<Principal> FleetApi::Authenticate(absl::string_view authorization) {
  if (authorization.empty()) {
    return absl::UnauthenticatedError(
        "missing API token: send \"authorization: Bearer flta.<id>.<secret>\" (the CLI's "
        "--token-file, or `flotilla login`)");
  }
  if (!absl::ConsumePrefix(&authorization, "Bearer ")) {
    return absl::UnauthenticatedError(
        "authorization must be \"Bearer flta.<id>.<secret>\" (an API token)");
  }
  ASSIGN_OR_RETURN(ApiTokenRecord token, AuthenticateApiToken(*store_, *clock_, authorization));
  auto role = ParseRole(token.role);
  if (!role.ok()) {
    return absl::PermissionDeniedError(
        absl::StrCat("API token ", token.id, " has unknown role \"", token.role, "\""));
  }
  const absl::Time now = clock_->Now();
  if (now - token.last_used > absl::Minutes(1)) {
    token.last_used = now;
    auto st = store_->Write([&](Tx& tx) { return tx.UpdateApiToken(token); });
    if (!st.ok()) {
      common::Logger("manager.api")
          ->warn("API token {}: cannot record its last use: {}", token.id, st.message());
    }
  }
  return Principal{"token:" + token.id, *role, token.workspace};
}

std::string FleetApi::ScopeOf(const Principal& p, const std::string& gitrepo) {
  std::string ws = WorkspaceOf(gitrepo);
  if (!ws.empty()) return ws;
  // No such GitRepo: authorize as if it were in the caller's own workspace,
  // so that the answer is NOT_FOUND rather than a misleading refusal.
  return p.AllWorkspaces() ? std::string(kFleetWide) : p.workspace;
}

std::string FleetApi::WorkspaceOf(const std::string& gitrepo) {
  for (const auto& g : controller_->GitRepos()) {
    if (g.name != gitrepo) continue;
    auto spec = common::ParseGitRepo(g.spec_yaml, "GitRepo");
    return spec.ok() ? spec->namespace_ : "fleet-default";
  }
  return "";
}

// --- Apply and Delete --------------------------------------------------------

absl::StatusOr<v1::ApplyResponse> FleetApi::Apply(const Principal& p, const v1::ApplyRequest& req) {
  v1::ApplyResponse resp;
  ASSIGN_OR_RETURN(common::ObjectKind kind, common::DocumentKind(req.yaml(), "document"));
  resp.set_kind(kind.kind);
  FleetController::ApplyOutcome outcome = FleetController::ApplyOutcome::kCreated;
  if (kind.api_version == "fleet.cattle.io/v1alpha1" && kind.kind == "GitRepo") {
    ASSIGN_OR_RETURN(common::GitRepoSpec spec, common::ParseGitRepo(req.yaml(), "document"));
    RETURN_IF_ERROR(Authorize(p, "Apply", spec.namespace_));
    ASSIGN_OR_RETURN(GitRepoRecord rec, controller_->ApplyGitRepo(req.yaml(), p.actor, &outcome));
    resp.set_name(rec.name);
  } else if (kind.api_version == "fleet.cattle.io/v1alpha1" && kind.kind == "ClusterGroup") {
    ASSIGN_OR_RETURN(common::ClusterGroupSpec spec,
                     common::ParseClusterGroup(req.yaml(), "document"));
    RETURN_IF_ERROR(Authorize(p, "Apply", kFleetWide));
    resp.set_name(spec.name);
    ASSIGN_OR_RETURN(outcome, controller_->ApplyClusterGroup(req.yaml(), p.actor));
  } else if (kind.api_version == "fleet.cattle.io/v1alpha1" && kind.kind == "Cluster") {
    ASSIGN_OR_RETURN(common::ClusterSpec spec, common::ParseCluster(req.yaml(), "document"));
    RETURN_IF_ERROR(Authorize(p, "Apply", kFleetWide));
    resp.set_name(spec.name);
    ASSIGN_OR_RETURN(outcome, controller_->ApplyClusterSettings(req.yaml(), p.actor));
  } else if (kind.api_version == "v1" && kind.kind == "Secret") {
    ASSIGN_OR_RETURN(common::SecretSpec spec, common::ParseSecret(req.yaml(), "document"));
    RETURN_IF_ERROR(Authorize(p, "Apply", kFleetWide));
    resp.set_name(spec.name);
    ASSIGN_OR_RETURN(outcome, controller_->ApplySecret(req.yaml(), p.actor));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot apply ", kind.api_version, " ", kind.kind,
        ": flotilla applies fleet.cattle.io/v1alpha1 GitRepo, ClusterGroup and Cluster, and v1 "
        "Secret"));
  }
  resp.set_outcome(ToProto(outcome));
  if (outcome != FleetController::ApplyOutcome::kUnchanged) {
    common::Logger("manager.api")
        ->info("{} applied {} {}", p.actor, absl::AsciiStrToLower(resp.kind()), resp.name());
  }
  return resp;
}

absl::StatusOr<v1::DeleteResponse> FleetApi::Delete(const Principal& p,
                                                    const v1::DeleteRequest& req) {
  const std::string kind = absl::AsciiStrToLower(req.kind());
  if (req.name().empty()) return absl::InvalidArgumentError("a name is required");
  if (kind == "gitrepo" || kind == "gitrepos") {
    RETURN_IF_ERROR(Authorize(p, "Delete", ScopeOf(p, req.name())));
    RETURN_IF_ERROR(controller_->DeleteGitRepo(req.name(), p.actor));
  } else if (kind == "clustergroup" || kind == "clustergroups") {
    RETURN_IF_ERROR(Authorize(p, "Delete", kFleetWide));
    RETURN_IF_ERROR(controller_->DeleteClusterGroup(req.name(), p.actor));
  } else if (kind == "secret" || kind == "secrets") {
    RETURN_IF_ERROR(Authorize(p, "Delete", kFleetWide));
    RETURN_IF_ERROR(controller_->DeleteSecret(req.name(), p.actor));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot delete \"", req.kind(),
                     "\": flotilla deletes gitrepo, clustergroup and secret (a cluster is "
                     "revoked with `flotilla cluster revoke`)"));
  }
  common::Logger("manager.api")->info("{} deleted {} {}", p.actor, kind, req.name());
  return v1::DeleteResponse();
}

// --- GitRepos ----------------------------------------------------------------

v1::GitRepo FleetApi::GitRepoView(const GitRepoRecord& g) {
  v1::GitRepo out;
  out.set_name(g.name);
  auto spec = common::ParseGitRepo(g.spec_yaml, "GitRepo");
  if (spec.ok()) {
    out.set_repo(spec->repo);
    out.set_branch(spec->branch);
    out.set_revision(spec->revision);
    for (const auto& path : spec->paths) out.add_paths(path);
    out.set_polling_interval_seconds(absl::ToInt64Seconds(spec->polling_interval));
    out.set_workspace(spec->namespace_);
    out.set_paused(spec->paused);
  }
  for (const auto& [k, v] : MetadataLabels(g.spec_yaml)) (*out.mutable_labels())[k] = v;
  out.set_spec_yaml(g.spec_yaml);
  out.set_commit(g.commit);
  out.set_applied_commit(g.applied_commit);
  out.set_error(g.error);
  int bundles = 0;
  for (const auto& b : controller_->Bundles()) bundles += b.gitrepo == g.name ? 1 : 0;
  out.set_bundle_count(bundles);
  const BundleSummary s = controller_->GitRepoSummaryOf(g.name);
  FillSummary(s, out.mutable_summary());
  out.set_ready_bundle_deployments(s.ready);
  out.set_desired_bundle_deployments(s.desired_ready);
  auto [ready_clusters, clusters] = controller_->GitRepoReadyClusters(g.name);
  out.set_ready_clusters(ready_clusters);
  out.set_desired_ready_clusters(clusters);
  out.set_display_state(controller_->GitRepoDisplayOf(g.name).state);
  out.set_last_fetch_unix_millis(ApiUnixMillis(g.last_fetch));
  AddGitRepoConditions(out, controller_->FetchError(g.name), ReadyMessage(s, "Bundle"));
  return out;
}

absl::StatusOr<v1::ListGitReposResponse> FleetApi::ListGitRepos(
    const Principal& p, const v1::ListGitReposRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "ListGitRepos", kFleetWide));
  ASSIGN_OR_RETURN(auto selector, SelectorOf(req.options()));
  std::vector<std::pair<std::string, v1::GitRepo>> items;
  for (const auto& g : controller_->GitRepos()) {
    v1::GitRepo view = GitRepoView(g);
    if (!p.Sees(view.workspace())) continue;
    Labels labels(view.labels().begin(), view.labels().end());
    if (!Matches(selector, labels)) continue;
    items.emplace_back(g.name, std::move(view));
  }
  v1::ListGitReposResponse resp;
  RETURN_IF_ERROR(Page(std::move(items), req.options(), resp.mutable_gitrepos(),
                       resp.mutable_next_page_token()));
  return resp;
}

absl::StatusOr<v1::GitRepo> FleetApi::GetGitRepo(const Principal& p, const v1::GetRequest& req) {
  for (const auto& g : controller_->GitRepos()) {
    if (g.name != req.name()) continue;
    v1::GitRepo view = GitRepoView(g);
    RETURN_IF_ERROR(Authorize(p, "GetGitRepo", view.workspace()));
    return view;
  }
  RETURN_IF_ERROR(Authorize(p, "GetGitRepo", kFleetWide));
  return absl::NotFoundError(absl::StrCat("gitrepo \"", req.name(), "\" not found"));
}

// --- Bundles -----------------------------------------------------------------

v1::Bundle FleetApi::BundleView(const BundleRecord& b, const std::string& workspace) {
  v1::Bundle out;
  out.set_name(b.name);
  out.set_gitrepo_name(b.gitrepo);
  out.set_path(b.path);
  out.set_commit(b.commit);
  out.set_workspace(workspace);
  for (const auto& [k, v] : b.labels) (*out.mutable_labels())[k] = v;
  out.set_resource_count(static_cast<int>(b.resources.size()));
  out.set_error(b.error);
  const BundleSummary s = controller_->BundleSummaryOf(b.name);
  FillSummary(s, out.mutable_summary());
  out.set_ready(s.ready);
  out.set_desired(s.desired_ready);
  out.set_state(StateOf(s));
  out.set_ready_message(ReadyMessage(s, "Cluster"));
  auto spec = Json::parse(b.spec_json.empty() ? "{}" : b.spec_json, nullptr, false);
  out.set_paused(spec.is_object() && spec.value("paused", Json(false)) == Json(true));
  if (auto plan = controller_->RolloutOf(b.name)) {
    for (const auto& part : plan->partitions) {
      auto* rp = out.add_partitions();
      rp->set_name(part.name);
      rp->set_count(part.count);
      rp->set_max_unavailable(part.max_unavailable);
      rp->set_unavailable(part.unavailable);
    }
    out.set_max_unavailable(plan->max_unavailable);
    out.set_unavailable(plan->unavailable);
    out.set_max_unavailable_partitions(plan->max_unavailable_partitions);
    out.set_unavailable_partitions(plan->unavailable_partitions);
  }
  return out;
}

absl::StatusOr<v1::ListBundlesResponse> FleetApi::ListBundles(const Principal& p,
                                                              const v1::ListBundlesRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "ListBundles", kFleetWide));
  ASSIGN_OR_RETURN(auto selector, SelectorOf(req.options()));
  std::map<std::string, std::string> workspaces;
  for (const auto& g : controller_->GitRepos()) {
    auto spec = common::ParseGitRepo(g.spec_yaml, "GitRepo");
    workspaces[g.name] = spec.ok() ? spec->namespace_ : "fleet-default";
  }
  std::vector<std::pair<std::string, v1::Bundle>> items;
  for (const auto& b : controller_->Bundles()) {
    if (!req.gitrepo_name().empty() && b.gitrepo != req.gitrepo_name()) continue;
    const std::string& ws = workspaces[b.gitrepo];
    if (!p.Sees(ws) || !Matches(selector, b.labels)) continue;
    v1::Bundle view = BundleView(b, ws);
    if (!req.state().empty() && flotilla::v1::FleetStateName(view.state()) != req.state()) {
      continue;
    }
    items.emplace_back(b.name, std::move(view));
  }
  v1::ListBundlesResponse resp;
  RETURN_IF_ERROR(Page(std::move(items), req.options(), resp.mutable_bundles(),
                       resp.mutable_next_page_token()));
  return resp;
}

absl::StatusOr<v1::Bundle> FleetApi::GetBundle(const Principal& p, const v1::GetRequest& req) {
  for (const auto& b : controller_->Bundles()) {
    if (b.name != req.name()) continue;
    const std::string ws = WorkspaceOf(b.gitrepo);
    RETURN_IF_ERROR(Authorize(p, "GetBundle", ws));
    return BundleView(b, ws);
  }
  RETURN_IF_ERROR(Authorize(p, "GetBundle", kFleetWide));
  return absl::NotFoundError(absl::StrCat("bundle \"", req.name(), "\" not found"));
}

// --- Clusters ----------------------------------------------------------------

v1::Cluster FleetApi::ClusterView(const ClusterRecord& c) {
  v1::Cluster out;
  out.set_id(c.id);
  out.set_name(c.name);
  for (const auto& [k, v] : c.labels) (*out.mutable_labels())[k] = v;
  for (const auto& [k, v] : c.annotations) (*out.mutable_annotations())[k] = v;
  out.set_connected(controller_->connected(c.id));
  out.set_last_seen_unix_millis(ApiUnixMillis(c.last_seen));
  out.set_created_unix_millis(ApiUnixMillis(c.created));
  out.set_agent_version(c.agent_version);
  out.set_cert_not_after_unix_millis(ApiUnixMillis(c.cert_not_after));
  out.set_paused(c.paused);
  out.set_revoked(c.revoked);
  const BundleSummary s = controller_->ClusterSummaryOf(c.id);
  FillSummary(s, out.mutable_summary());
  out.set_ready_bundles(s.ready);
  out.set_desired_bundles(s.desired_ready);
  auto [ready_repos, repos] = controller_->ClusterReadyGitRepos(c.id);
  out.set_ready_gitrepos(ready_repos);
  out.set_desired_ready_gitrepos(repos);
  out.set_ready_message(ReadyMessage(s, "Bundle"));
  const bool checked_in = c.last_seen != absl::InfinitePast();
  out.set_state(checked_in ? StateOf(s) : v1::STATE_UNSPECIFIED);
  const bool offline = controller_->Offline(c.id);
  out.set_offline(offline);
  out.set_display_state(offline && checked_in ? "Offline" : ClusterDisplayState(s, checked_in));
  return out;
}

absl::StatusOr<v1::ListClustersResponse> FleetApi::ListClusters(
    const Principal& p, const v1::ListClustersRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "ListClusters", kFleetWide));
  ASSIGN_OR_RETURN(auto selector, SelectorOf(req.options()));
  std::vector<std::pair<std::string, v1::Cluster>> items;
  for (const auto& c : controller_->Clusters()) {
    if (!Matches(selector, c.labels)) continue;
    v1::Cluster view = ClusterView(c);
    if (!req.state().empty()) {
      const std::string shown = view.display_state().empty() ? "Ready" : view.display_state();
      if (shown != req.state()) continue;
    }
    items.emplace_back(c.name, std::move(view));
  }
  v1::ListClustersResponse resp;
  RETURN_IF_ERROR(Page(std::move(items), req.options(), resp.mutable_clusters(),
                       resp.mutable_next_page_token()));
  return resp;
}

absl::StatusOr<v1::Cluster> FleetApi::GetCluster(const Principal& p, const v1::GetRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "GetCluster", kFleetWide));
  auto c = controller_->FindCluster(req.name());
  if (!c) return absl::NotFoundError(absl::StrCat("cluster \"", req.name(), "\" not found"));
  return ClusterView(*c);
}

// --- BundleDeployments -------------------------------------------------------

absl::StatusOr<v1::ListBundleDeploymentsResponse> FleetApi::ListBundleDeployments(
    const Principal& p, const v1::ListBundleDeploymentsRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "ListBundleDeployments", kFleetWide));
  ASSIGN_OR_RETURN(auto selector, SelectorOf(req.options()));
  std::string cluster_filter;
  if (!req.cluster().empty()) {
    auto c = controller_->FindCluster(req.cluster());
    if (!c) return absl::NotFoundError(absl::StrCat("cluster \"", req.cluster(), "\" not found"));
    cluster_filter = c->id;
  }
  std::map<std::string, std::string> names;
  for (const auto& c : controller_->Clusters()) names[c.id] = c.name;
  std::map<std::string, const BundleRecord*> bundles;
  const std::vector<BundleRecord> bundle_list = controller_->Bundles();
  for (const auto& b : bundle_list) bundles[b.name] = &b;
  std::map<std::string, std::string> workspaces;
  for (const auto& g : controller_->GitRepos()) {
    auto spec = common::ParseGitRepo(g.spec_yaml, "GitRepo");
    workspaces[g.name] = spec.ok() ? spec->namespace_ : "fleet-default";
  }
  std::vector<std::pair<std::string, v1::BundleDeployment>> items;
  for (const auto& bd : controller_->BundleDeployments()) {
    if (!cluster_filter.empty() && bd.cluster_id != cluster_filter) continue;
    if (!req.bundle_name().empty() && bd.bundle != req.bundle_name()) continue;
    auto bit = bundles.find(bd.bundle);
    const std::string gitrepo = bit == bundles.end() ? "" : bit->second->gitrepo;
    if (!req.gitrepo_name().empty() && gitrepo != req.gitrepo_name()) continue;
    if (!p.Sees(workspaces[gitrepo])) continue;
    if (selector.has_value() && (bit == bundles.end() || !selector->Matches(bit->second->labels))) {
      continue;
    }
    const v1::BundleDeploymentState state = EffectiveState(bd);
    if (!req.state().empty() && flotilla::v1::FleetStateName(state) != req.state()) continue;
    v1::BundleDeployment out;
    out.set_bundle_name(bd.bundle);
    out.set_gitrepo_name(gitrepo);
    out.set_cluster_id(bd.cluster_id);
    out.set_cluster_name(names[bd.cluster_id]);
    out.set_deployment_id(bd.deployment_id);
    out.set_staged_deployment_id(bd.staged_deployment_id);
    out.set_applied_deployment_id(bd.applied_deployment_id);
    out.set_state(state);
    out.set_message(bd.message);
    out.set_status_unix_millis(ApiUnixMillis(bd.status_time));
    if (!bd.status_json.empty()) {
      v1::BundleDeploymentStatus st;
      if (google::protobuf::util::JsonStringToMessage(bd.status_json, &st).ok()) {
        for (const auto& r : st.non_ready()) *out.add_non_ready() = r;
        for (const auto& r : st.modified()) *out.add_modified() = r;
      }
    }
    // Stable name: bundle/cluster.
    items.emplace_back(absl::StrCat(bd.bundle, "/", names[bd.cluster_id]), std::move(out));
  }
  v1::ListBundleDeploymentsResponse resp;
  RETURN_IF_ERROR(Page(std::move(items), req.options(), resp.mutable_bundle_deployments(),
                       resp.mutable_next_page_token()));
  return resp;
}

// --- ClusterGroups and secrets -----------------------------------------------

absl::StatusOr<v1::ListClusterGroupsResponse> FleetApi::ListClusterGroups(
    const Principal& p, const v1::ListClusterGroupsRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "ListClusterGroups", kFleetWide));
  ASSIGN_OR_RETURN(auto selector, SelectorOf(req.options()));
  std::vector<std::pair<std::string, v1::ClusterGroup>> items;
  for (const auto& g : controller_->ClusterGroups()) {
    if (!Matches(selector, g.labels)) continue;
    v1::GetRequest get;
    get.set_name(g.name);
    auto view = GetClusterGroup(p, get);
    if (!view.ok()) {
      if (absl::IsNotFound(view.status())) continue;  // deleted meanwhile
      return view.status();
    }
    items.emplace_back(g.name, std::move(*view));
  }
  v1::ListClusterGroupsResponse resp;
  RETURN_IF_ERROR(Page(std::move(items), req.options(), resp.mutable_cluster_groups(),
                       resp.mutable_next_page_token()));
  return resp;
}

absl::StatusOr<v1::ClusterGroup> FleetApi::GetClusterGroup(const Principal& p,
                                                           const v1::GetRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "GetClusterGroup", kFleetWide));
  for (const auto& g : controller_->ClusterGroups()) {
    if (g.name != req.name()) continue;
    v1::ClusterGroup out;
    out.set_name(g.name);
    for (const auto& [k, v] : g.labels) (*out.mutable_labels())[k] = v;
    if (!g.selector_json.empty()) {
      out.set_has_selector(true);
      auto selector =
          common::ParseLabelSelector(Json::parse(g.selector_json, nullptr, false), "selector");
      if (selector.ok()) out.set_selector(selector->ToString());
    }
    ASSIGN_OR_RETURN(ClusterGroupSummary s, controller_->ClusterGroupSummaryOf(g.name));
    out.set_cluster_count(s.cluster_count);
    out.set_ready_clusters(s.cluster_count - s.non_ready_cluster_count);
    for (const auto& name : s.non_ready_clusters) out.add_non_ready_clusters(name);
    FillSummary(s.summary, out.mutable_summary());
    out.set_display_ready_clusters(s.ready_clusters);
    out.set_display_state(s.state);
    return out;
  }
  return absl::NotFoundError(absl::StrCat("clustergroup \"", req.name(), "\" not found"));
}

absl::StatusOr<v1::ListSecretsResponse> FleetApi::ListSecrets(const Principal& p,
                                                              const v1::ListSecretsRequest&) {
  RETURN_IF_ERROR(Authorize(p, "ListSecrets", kFleetWide));
  ASSIGN_OR_RETURN(auto secrets, controller_->SecretsWithoutValues());
  v1::ListSecretsResponse resp;
  for (const auto& s : secrets) {
    v1::Secret* out = resp.add_secrets();
    out->set_name(s.name);
    out->set_type(s.type);
    for (const auto& [k, unused] : s.data) out->add_keys(k);
    out->set_created_unix_millis(ApiUnixMillis(s.created));
    out->set_updated_unix_millis(ApiUnixMillis(s.updated));
  }
  return resp;
}

// --- Cluster and GitRepo operations --------------------------------------------

absl::StatusOr<v1::Cluster> FleetApi::LabelCluster(const Principal& p,
                                                   const v1::LabelClusterRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "LabelCluster", kFleetWide));
  std::map<std::string, std::string> set(req.set().begin(), req.set().end());
  std::vector<std::string> remove(req.remove().begin(), req.remove().end());
  ASSIGN_OR_RETURN(ClusterRecord c, controller_->LabelCluster(req.cluster(), set, remove, p.actor));
  return ClusterView(c);
}

absl::StatusOr<v1::SetPausedResponse> FleetApi::SetPaused(const Principal& p,
                                                          const v1::SetPausedRequest& req) {
  const std::string kind = absl::AsciiStrToLower(req.kind());
  v1::SetPausedResponse resp;
  if (kind == "gitrepo" || kind == "gitrepos") {
    RETURN_IF_ERROR(Authorize(p, "SetPaused", ScopeOf(p, req.name())));
    ASSIGN_OR_RETURN(bool changed,
                     controller_->SetGitRepoPaused(req.name(), req.paused(), p.actor));
    resp.set_changed(changed);
  } else if (kind == "cluster" || kind == "clusters") {
    RETURN_IF_ERROR(Authorize(p, "SetPaused/cluster", kFleetWide));
    ASSIGN_OR_RETURN(bool changed,
                     controller_->SetClusterPaused(req.name(), req.paused(), p.actor));
    resp.set_changed(changed);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot pause \"", req.kind(), "\": pause a gitrepo or a cluster"));
  }
  return resp;
}

absl::StatusOr<v1::ResyncResponse> FleetApi::Resync(const Principal& p,
                                                    const v1::ResyncRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "Resync", ScopeOf(p, req.gitrepo())));
  RETURN_IF_ERROR(controller_->RequestResync(req.gitrepo(), p.actor));
  return v1::ResyncResponse();
}

absl::StatusOr<v1::Cluster> FleetApi::RevokeCluster(const Principal& p,
                                                    const v1::RevokeClusterRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "RevokeCluster", kFleetWide));
  ASSIGN_OR_RETURN(ClusterRecord c, controller_->RevokeCluster(req.cluster(), p.actor));
  if (cluster_revoked_) cluster_revoked_(c.id);
  common::Logger("manager.api")->warn("{} revoked cluster {} ({})", p.actor, c.name, c.id);
  return ClusterView(c);
}

// --- Tokens --------------------------------------------------------------------

absl::StatusOr<v1::CreateRegistrationTokenResponse> FleetApi::CreateRegistrationToken(
    const Principal& p, const v1::CreateRegistrationTokenRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "CreateRegistrationToken", kFleetWide));
  RegistrationTokenOptions opts;
  if (req.ttl_seconds() != 0) opts.ttl = absl::Seconds(req.ttl_seconds());
  opts.max_uses = req.max_uses();
  opts.labels = std::map<std::string, std::string>(req.labels().begin(), req.labels().end());
  opts.cluster_name = req.cluster_name();
  opts.created_by = p.actor;
  ASSIGN_OR_RETURN(auto token, manager::CreateRegistrationToken(*store_, *clock_, opts));
  v1::CreateRegistrationTokenResponse resp;
  resp.set_token(token.first);
  resp.set_id(token.second.id);
  resp.set_expires_unix_millis(absl::ToUnixMillis(token.second.expires));
  resp.set_ca_pin(ca_pin_);
  common::Logger("manager.api")->info("{} created registration token {}", p.actor, token.second.id);
  return resp;
}

absl::StatusOr<v1::ListRegistrationTokensResponse> FleetApi::ListRegistrationTokens(
    const Principal& p, const v1::ListRegistrationTokensRequest&) {
  RETURN_IF_ERROR(Authorize(p, "ListRegistrationTokens", kFleetWide));
  std::vector<RegistrationTokenRecord> tokens;
  RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(tokens, tx.ListRegistrationTokens());
    return absl::OkStatus();
  }));
  v1::ListRegistrationTokensResponse resp;
  for (const auto& r : tokens) {
    v1::RegistrationToken* t = resp.add_tokens();
    t->set_id(r.id);
    t->set_created_by(r.created_by);
    t->set_created_unix_millis(ApiUnixMillis(r.created));
    t->set_expires_unix_millis(ApiUnixMillis(r.expires));
    t->set_max_uses(r.max_uses);
    t->set_uses(r.uses);
    t->set_revoked_unix_millis(ApiUnixMillis(r.revoked_at));
    for (const auto& [k, v] : r.labels) (*t->mutable_labels())[k] = v;
    t->set_cluster_name(r.cluster_name);
  }
  return resp;
}

absl::StatusOr<v1::RevokeTokenResponse> FleetApi::RevokeRegistrationToken(
    const Principal& p, const v1::RevokeTokenRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "RevokeRegistrationToken", kFleetWide));
  AuditEventRecord audit;
  audit.time = clock_->Now();
  audit.actor = p.actor;
  audit.action = "registrationtoken.revoke";
  audit.resource = "registrationtoken/" + req.id();
  audit.outcome = "ok";
  absl::Status st = store_->Write([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto token, tx.GetRegistrationToken(req.id()));
    if (!token) return absl::NotFoundError("no such token");
    if (token->revoked_at != absl::InfinitePast()) return absl::OkStatus();  // already
    RETURN_IF_ERROR(tx.RevokeRegistrationToken(req.id(), audit.time));
    return tx.AppendAudit(audit).status();
  });
  if (absl::IsNotFound(st)) {
    return absl::NotFoundError(absl::StrCat("registration token \"", req.id(), "\" not found"));
  }
  RETURN_IF_ERROR(st);
  return v1::RevokeTokenResponse();
}

absl::StatusOr<v1::CreateApiTokenResponse> FleetApi::CreateApiToken(
    const Principal& p, const v1::CreateApiTokenRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "CreateApiToken", kFleetWide));
  ApiTokenOptions opts;
  opts.role = req.role();
  opts.workspace = req.workspace().empty() ? "*" : req.workspace();
  opts.description = req.description();
  if (req.ttl_seconds() != 0) opts.ttl = absl::Seconds(req.ttl_seconds());
  opts.created_by = p.actor;
  ASSIGN_OR_RETURN(auto token, manager::CreateApiToken(*store_, *clock_, opts));
  v1::CreateApiTokenResponse resp;
  resp.set_token(token.first);
  *resp.mutable_api_token() = ApiTokenView(token.second);
  common::Logger("manager.api")
      ->info("{} created API token {} (role {}, workspace {})", p.actor, token.second.id,
             token.second.role, token.second.workspace);
  return resp;
}

absl::StatusOr<v1::ListApiTokensResponse> FleetApi::ListApiTokens(const Principal& p,
                                                                  const v1::ListApiTokensRequest&) {
  RETURN_IF_ERROR(Authorize(p, "ListApiTokens", kFleetWide));
  std::vector<ApiTokenRecord> tokens;
  RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(tokens, tx.ListApiTokens());
    return absl::OkStatus();
  }));
  v1::ListApiTokensResponse resp;
  for (const auto& r : tokens) *resp.add_tokens() = ApiTokenView(r);
  return resp;
}

absl::StatusOr<v1::RevokeTokenResponse> FleetApi::RevokeApiToken(
    const Principal& p, const v1::RevokeTokenRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "RevokeApiToken", kFleetWide));
  AuditEventRecord audit;
  audit.time = clock_->Now();
  audit.actor = p.actor;
  audit.action = "apitoken.revoke";
  audit.resource = "apitoken/" + req.id();
  audit.outcome = "ok";
  RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto token, tx.GetApiToken(req.id()));
    if (!token) {
      return absl::NotFoundError(absl::StrCat("API token \"", req.id(), "\" not found"));
    }
    if (token->revoked_at != absl::InfinitePast()) return absl::OkStatus();
    token->revoked_at = audit.time;
    RETURN_IF_ERROR(tx.UpdateApiToken(*token));
    return tx.AppendAudit(audit).status();
  }));
  return v1::RevokeTokenResponse();
}

// --- Audit ---------------------------------------------------------------------

absl::StatusOr<v1::ListAuditResponse> FleetApi::ListAudit(const Principal& p,
                                                          const v1::ListAuditRequest& req) {
  RETURN_IF_ERROR(Authorize(p, "ListAudit", kFleetWide));
  if (req.limit() < 0 || req.limit() > kMaxAuditLimit) {
    return absl::InvalidArgumentError(absl::StrCat("limit ", req.limit(),
                                                   " must be between 0 (default ",
                                                   kDefaultAuditLimit, ") and ", kMaxAuditLimit));
  }
  const int limit = req.limit() == 0 ? kDefaultAuditLimit : req.limit();
  v1::ListAuditResponse resp;
  resp.set_last_seq(req.after_seq());
  int64_t after = req.after_seq();
  // A resource filter pages through the log until the page is full.
  while (resp.events_size() < limit) {
    std::vector<AuditEventRecord> rows;
    RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
      ASSIGN_OR_RETURN(rows, tx.ListAudit(after, limit));
      return absl::OkStatus();
    }));
    if (rows.empty()) break;
    for (const auto& r : rows) {
      after = r.seq;
      if (!req.resource().empty() && r.resource != req.resource()) continue;
      if (resp.events_size() == limit) break;
      v1::AuditEvent* e = resp.add_events();
      e->set_seq(r.seq);
      e->set_time_unix_millis(absl::ToUnixMillis(r.time));
      e->set_actor(r.actor);
      e->set_action(r.action);
      e->set_resource(r.resource);
      e->set_outcome(r.outcome);
      e->set_details(r.details);
      e->set_hash(r.hash);
      resp.set_last_seq(r.seq);
    }
    if (req.resource().empty()) break;
    if (static_cast<int>(rows.size()) < limit) {
      resp.set_last_seq(after);
      break;
    }
  }
  return resp;
}

}  // namespace flotilla::manager
