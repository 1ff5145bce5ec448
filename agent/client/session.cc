#include "agent/client/session.h"

#include <google/protobuf/util/json_util.h>

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/compress.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/yaml.h"
#include "flotilla/v1/state_names.h"

namespace flotilla::agent {

namespace v1 = flotilla::v1;

namespace {

v1::DeploymentOptions ParseOptions(const std::string& json) {
  v1::DeploymentOptions o;
  if (!json.empty()) (void)google::protobuf::util::JsonStringToMessage(json, &o);
  return o;
}

// The options of the assigned deployment.
v1::DeploymentOptions OptionsOf(const DeploymentRecord& r) { return ParseOptions(r.options_json); }

// The options of what is running (the last successful apply).
v1::DeploymentOptions AppliedOptionsOf(const DeploymentRecord& r) {
  return ParseOptions(r.applied_options_json);
}

std::string OptionsJson(const v1::DeploymentOptions& o) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(o, &out, opts);
  return out;
}

// The comparePatches of the options, as the appliers take them.
std::vector<ComparePatch> ComparePatchesOf(const v1::DeploymentOptions& o) {
  std::vector<ComparePatch> out;
  for (const auto& p : o.compare_patches()) {
    ComparePatch c;
    c.api_version = p.api_version();
    c.kind = p.kind();
    c.name = p.name();
    c.namespace_ = p.namespace_();
    c.json_pointers.assign(p.json_pointers().begin(), p.json_pointers().end());
    for (const auto& op : p.operations()) {
      if (op.op() == "ignore") {
        c.ignore = true;
        continue;
      }
      nlohmann::json j = {{"op", op.op()}, {"path", op.path()}};
      if (!op.value_json().empty()) {
        j["value"] = nlohmann::json::parse(op.value_json(), nullptr, /*allow_exceptions=*/false);
      }
      c.operations.push_back(std::move(j));
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<std::map<std::string, std::string>> IgnoreConditionsOf(const v1::DeploymentOptions& o) {
  std::vector<std::map<std::string, std::string>> out;
  for (const auto& m : o.ignore_conditions())
    out.emplace_back(m.fields().begin(), m.fields().end());
  return out;
}

std::string ReleaseNamespace(const v1::DeploymentOptions& o) {
  return !o.namespace_().empty() ? o.namespace_() : o.default_namespace();
}

// Drift that re-applying fixes: not "extra" objects or ones another owner
// holds, which an apply leaves as they are.
bool Correctable(const std::vector<ResourceProblem>& modified) {
  for (const ResourceProblem& p : modified) {
    if (absl::StartsWith(p.message, "missing") || absl::StartsWith(p.message, "modified")) {
      return true;
    }
  }
  return false;
}

// "Kind ns/name: message", with how many more there are.
std::string Summary(const std::vector<ResourceProblem>& problems, absl::string_view what) {
  std::string out =
      absl::StrCat(problems.size(), " resource(s) ", what,
                   "; first: ", problems.front().ref.ToString(), ": ", problems.front().message);
  constexpr size_t kMaxMessage = 512;
  if (out.size() > kMaxMessage) out = absl::StrCat(out.substr(0, kMaxMessage - 3), "...");
  return out;
}

void AddResourceStatuses(const std::vector<ResourceProblem>& problems,
                         google::protobuf::RepeatedPtrField<v1::ResourceStatus>* out) {
  for (size_t i = 0; i < problems.size() && i < kMaxReportedResources; ++i) {
    v1::ResourceStatus* s = out->Add();
    s->set_api_version(problems[i].ref.api_version);
    s->set_kind(problems[i].ref.kind);
    s->set_namespace_(problems[i].ref.namespace_);
    s->set_name(problems[i].ref.name);
    s->set_message(problems[i].message);
  }
}

std::string StateName(int state) {
  std::string name = v1::FleetStateName(state);
  return name.empty() ? "Unknown" : name;
}

}  // namespace

AgentSession::AgentSession(AgentState* state, Applier* applier, std::string agent_version)
    : state_(state), applier_(applier), agent_version_(std::move(agent_version)) {}

v1::AgentMessage AgentSession::Hello() const {
  v1::AgentMessage m;
  auto* h = m.mutable_hello();
  h->set_agent_version(agent_version_);
  for (const auto& [id, r] : state_->deployments()) {
    // Only what was applied counts as held; anything else must be resent.
    if (!r.applied_deployment_id.empty() && r.applied_deployment_id == r.deployment_id) {
      (*h->mutable_deployments())[id] = r.deployment_id;
    }
  }
  for (const auto& hash : state_->ContentHashes()) h->add_content_hashes(hash);
  return m;
}

v1::BundleDeploymentStatus AgentSession::StatusOf(const DeploymentRecord& r) const {
  v1::BundleDeploymentStatus s;
  s.set_bundle_deployment_id(r.bundle_deployment_id);
  s.set_applied_deployment_id(r.applied_deployment_id);
  s.set_state(static_cast<v1::BundleDeploymentState>(r.state));
  s.set_ready(r.state == v1::READY || r.state == v1::MODIFIED);
  s.set_non_modified(r.modified.empty() && r.state != v1::MODIFIED);
  s.set_message(r.message);
  s.set_resource_count(static_cast<int>(r.applied_objects.size()));
  AddResourceStatuses(r.non_ready, s.mutable_non_ready());
  AddResourceStatuses(r.modified, s.mutable_modified());
  s.set_incomplete_state(r.non_ready.size() > kMaxReportedResources ||
                         r.modified.size() > kMaxReportedResources);
  return s;
}

v1::AgentMessage AgentSession::FullStatus() const {
  v1::AgentMessage m;
  for (const auto& [id, r] : state_->deployments())
    *m.mutable_status()->add_statuses() = StatusOf(r);
  return m;
}

absl::Status AgentSession::ApplyRecord(DeploymentRecord& r, bool correcting) {
  RETURN_IF_ERROR(ApplyContent(r, r.deployment_id, r.content_hash, r.options_json, correcting));
  r.applied_deployment_id = r.deployment_id;
  r.applied_content_hash = r.content_hash;
  r.applied_options_json = r.options_json;
  return absl::OkStatus();
}

absl::Status AgentSession::ApplyContent(DeploymentRecord& r, const std::string& deployment_id,
                                        const std::string& content_hash,
                                        const std::string& options_json, bool correcting) {
  ASSIGN_OR_RETURN(const std::vector<nlohmann::json>* objects,
                   ObjectsOf(content_hash, r.bundle_deployment_id));
  ApplyRequest req;
  req.bundle_deployment_id = r.bundle_deployment_id;
  req.deployment_id = deployment_id;
  req.objects = *objects;
  req.previously_applied = r.applied_objects;
  const v1::DeploymentOptions options = ParseOptions(options_json);
  req.keep_resources = options.keep_resources();
  // Correcting drift takes back the fields someone else set since: the
  // point of correctDrift (Fleet's rollback has no field owners to respect).
  req.force = options.force() || correcting;
  req.release_namespace = ReleaseNamespace(options);
  req.namespace_labels.insert(options.namespace_labels().begin(), options.namespace_labels().end());
  req.namespace_annotations.insert(options.namespace_annotations().begin(),
                                   options.namespace_annotations().end());
  req.delete_crd_resources = options.delete_crd_resources();
  req.take_ownership = options.take_ownership();
  req.service_account = options.service_account();
  ++applies_;
  ASSIGN_OR_RETURN(ApplyResult result, applier_->Apply(req));
  r.applied_objects = result.applied;
  return absl::OkStatus();
}

absl::StatusOr<const std::vector<nlohmann::json>*> AgentSession::ObjectsOf(
    const std::string& content_hash, const std::string& source) {
  auto it = parsed_.find(content_hash);
  if (it == parsed_.end()) {
    ASSIGN_OR_RETURN(std::string yaml, state_->GetContent(content_hash));
    ASSIGN_OR_RETURN(std::vector<nlohmann::json> objects, common::ParseYamlDocuments(yaml, source));
    it = parsed_.emplace(content_hash, std::move(objects)).first;
  }
  return &it->second;
}

absl::StatusOr<CheckResult> AgentSession::CheckRunning(const DeploymentRecord& r) {
  ASSIGN_OR_RETURN(const std::vector<nlohmann::json>* objects,
                   ObjectsOf(r.applied_content_hash, r.bundle_deployment_id));
  CheckRequest req;
  req.bundle_deployment_id = r.bundle_deployment_id;
  req.desired = *objects;
  // diff and ignore come from the assigned options: they are left out of
  // the deploymentID, so a change to them alone reaches the agent this way.
  const v1::DeploymentOptions options = OptionsOf(r);
  req.release_namespace = ReleaseNamespace(AppliedOptionsOf(r));
  req.compare_patches = ComparePatchesOf(options);
  req.ignore_conditions = IgnoreConditionsOf(options);
  return applier_->Check(req);
}

void AgentSession::Judge(DeploymentRecord& r, const absl::StatusOr<CheckResult>& check) const {
  // FLEET-SEMANTICS.md §4: not ready before modified before ready.
  if (!check.ok()) {
    r.state = v1::NOT_READY;
    r.message = absl::StrCat("cannot check the deployed resources: ", check.status().message());
    return;
  }
  r.non_ready = check->non_ready;
  r.modified = check->modified;
  if (!r.non_ready.empty()) {
    r.state = v1::NOT_READY;
    r.message = Summary(r.non_ready, "not ready");
  } else if (!r.modified.empty()) {
    r.state = v1::MODIFIED;
    r.message = Summary(r.modified, "modified");
  } else {
    r.state = v1::READY;
    r.message.clear();
  }
}

std::string AgentSession::PendingDependencies(const DeploymentRecord& r) const {
  const v1::DeploymentOptions options = OptionsOf(r);
  std::vector<std::string> pending;
  for (const v1::Dependency& dep : options.depends_on()) {
    std::set<int> accepted(dep.accepted_states().begin(), dep.accepted_states().end());
    if (accepted.empty()) accepted.insert(v1::READY);
    bool found = false;
    for (const auto& [id, other] : state_->deployments()) {
      if (id == r.bundle_deployment_id || other.bundle_name != dep.bundle_name()) continue;
      found = true;
      const bool current = !other.applied_deployment_id.empty() &&
                           other.applied_deployment_id == other.deployment_id;
      if (!current || !accepted.count(other.state)) {
        pending.push_back(absl::StrCat(dep.bundle_name(), " is ",
                                       current ? StateName(other.state) : "WaitApplied"));
      }
    }
    if (!found) pending.push_back(absl::StrCat(dep.bundle_name(), " is not on this cluster"));
  }
  if (pending.empty()) return "";
  return absl::StrCat("dependent bundle(s) are not ready: [", absl::StrJoin(pending, ", "), "]");
}

bool AgentSession::Settling() const {
  for (const auto& [id, r] : state_->deployments()) {
    if (r.state == v1::NOT_READY || r.state == v1::WAIT_APPLIED) return true;
  }
  return false;
}

std::vector<v1::AgentMessage> AgentSession::HandleAssignments(const v1::Assignments& a) {
  auto log = common::Logger("agent.session");
  std::vector<v1::AgentMessage> out;
  std::map<std::string, std::string> content_errors;
  for (const auto& c : a.contents()) {
    auto data = common::ZlibDecompress(c.zlib_data(), kMaxManifestBytes);
    absl::Status st = data.ok() ? state_->PutContent(c.hash(), *data) : data.status();
    if (!st.ok()) {
      content_errors[c.hash()] = std::string(st.message());
      log->error("nonce {}: content {}: {}", a.nonce(), c.hash(), st.message());
    }
  }
  for (const auto& id : a.removals()) {
    auto r = state_->Deployment(id);
    if (!r) continue;
    RemoveRequest removal;
    removal.objects = r->applied_objects;
    const v1::DeploymentOptions options = AppliedOptionsOf(*r);
    removal.keep_resources = options.keep_resources();
    removal.service_account = options.service_account();
    if (options.delete_namespace() && !options.namespace_().empty() &&
        !NamespaceInUse(options.namespace_(), id)) {
      removal.delete_namespace = options.namespace_();
    }
    auto st = applier_->Remove(removal);
    if (!st.ok()) log->error("removing {}: {}", id, st.message());
    auto rs = state_->RemoveDeployment(id);
    if (!rs.ok()) log->error("forgetting {}: {}", id, rs.message());
    log->info("nonce {}: removed {} ({} object(s))", a.nonce(), id, r->applied_objects.size());
  }
  v1::AgentMessage status;
  for (const auto& asg : a.upserts()) {
    DeploymentRecord r;
    if (auto existing = state_->Deployment(asg.bundle_deployment_id())) r = *existing;
    r.bundle_deployment_id = asg.bundle_deployment_id();
    r.bundle_name = asg.bundle_name();
    r.deployment_id = asg.deployment_id();
    r.content_hash = asg.content_hash();
    r.options_json = OptionsJson(asg.options());
    absl::Status st;
    bool applied = false;
    std::string waiting;  // dependencies not ready yet
    // Content already cached was verified when it arrived; a corrupt resend
    // of it changes nothing.
    if (state_->HasContent(asg.content_hash())) {
      if (r.applied_deployment_id != r.deployment_id) {
        waiting = PendingDependencies(r);
        if (waiting.empty()) {
          st = ApplyRecord(r);
          applied = true;
        }
      }
    } else if (content_errors.count(asg.content_hash())) {
      st = absl::DataLossError(content_errors[asg.content_hash()]);
    } else {
      st = absl::NotFoundError(
          absl::StrCat("content ", asg.content_hash(), " was neither sent nor cached"));
    }
    if (!waiting.empty()) {
      // What runs stays; the next check applies once they are ready.
      r.state = v1::WAIT_APPLIED;
      r.message = waiting;
      log->info("nonce {}: {} waits: {}", a.nonce(), r.bundle_deployment_id, waiting);
    } else if (st.ok()) {
      // Applied now, or already running this deployment with maybe other
      // diff/ignore options: judge what runs.
      Judge(r, CheckRunning(r));
      if (applied) {
        log->info("nonce {}: applied {} {} ({} object(s)): {}", a.nonce(), r.bundle_deployment_id,
                  r.deployment_id.substr(0, 20), r.applied_objects.size(), StateName(r.state));
      }
    } else {
      r.state = v1::ERR_APPLIED;
      r.message = std::string(st.message());
      log->warn("nonce {}: cannot apply {} {}: {}", a.nonce(), r.bundle_deployment_id,
                r.deployment_id.substr(0, 20), st.message());
    }
    auto ps = state_->PutDeployment(r);
    if (!ps.ok()) log->error("saving state of {}: {}", r.bundle_deployment_id, ps.message());
    v1::AgentMessage ack;
    ack.mutable_ack()->set_nonce(a.nonce());
    ack.mutable_ack()->set_bundle_deployment_id(r.bundle_deployment_id);
    ack.mutable_ack()->set_deployment_id(r.deployment_id);
    ack.mutable_ack()->set_ok(st.ok());
    if (!st.ok()) ack.mutable_ack()->set_error(std::string(st.message()));
    out.push_back(std::move(ack));
    *status.mutable_status()->add_statuses() = StatusOf(r);
  }
  if (status.status().statuses_size() > 0) out.push_back(std::move(status));
  // No pruning of the content cache here: the manager's stream remembers
  // every hash it sent and never resends one, so cached content must outlive
  // the stream (a deployment may come back to it). Pruning happens before the
  // next Hello, which tells the manager what is left.
  return out;
}

bool AgentSession::NamespaceInUse(const std::string& ns, const std::string& except_id) const {
  for (const auto& [id, r] : state_->deployments()) {
    if (id == except_id) continue;
    for (const ObjectRef& ref : r.applied_objects) {
      if (ref.namespace_ == ns || (ref.kind == "Namespace" && ref.name == ns)) return true;
    }
  }
  return false;
}

void AgentSession::CheckAndCorrect(DeploymentRecord& r) {
  absl::StatusOr<CheckResult> check = CheckRunning(r);
  if (check.ok() && Correctable(check->modified) && OptionsOf(r).correct_drift()) {
    common::Logger("agent.check")
        ->info("{}: {} object(s) drifted, first {}: {}; correcting", r.bundle_deployment_id,
               check->modified.size(), check->modified.front().ref.ToString(),
               check->modified.front().message);
    if (absl::Status st = ApplyRecord(r, /*correcting=*/true); !st.ok()) {
      r.state = v1::ERR_APPLIED;
      r.message = absl::StrCat("correcting drift: ", st.message());
      return;
    }
    ++drift_corrections_;
    check = CheckRunning(r);
  }
  Judge(r, check);
}

std::optional<v1::AgentMessage> AgentSession::CheckDeployments() {
  auto log = common::Logger("agent.check");
  v1::AgentMessage status;
  // A copy: PutDeployment below changes the state's map.
  const std::map<std::string, DeploymentRecord> deployments = state_->deployments();
  for (const auto& [id, rec] : deployments) {
    DeploymentRecord r = rec;
    const bool current =
        !r.applied_deployment_id.empty() && r.applied_deployment_id == r.deployment_id;
    if (!current && r.state == v1::WAIT_APPLIED && state_->HasContent(r.content_hash)) {
      // Held for its dependencies: apply once they are ready.
      std::string waiting = PendingDependencies(r);
      if (waiting.empty()) {
        absl::Status st = ApplyRecord(r);
        if (st.ok()) {
          Judge(r, CheckRunning(r));
          log->info("{}: dependencies ready; applied {}: {}", id, r.deployment_id.substr(0, 20),
                    StateName(r.state));
        } else {
          r.state = v1::ERR_APPLIED;
          r.message = std::string(st.message());
          log->warn("{}: cannot apply {}: {}", id, r.deployment_id.substr(0, 20), st.message());
        }
      } else {
        r.message = waiting;
      }
    } else if (r.applied_deployment_id.empty() || r.applied_content_hash.empty()) {
      continue;
    } else if (!current) {
      // A newer deployment failed to apply (its error is the state): keep
      // what is running correct, without changing the reported state.
      absl::StatusOr<CheckResult> check = CheckRunning(r);
      if (check.ok() && Correctable(check->modified) && AppliedOptionsOf(r).correct_drift()) {
        log->info("{}: {} object(s) of the running {} drifted; correcting", id,
                  check->modified.size(), r.applied_deployment_id.substr(0, 20));
        auto st = ApplyContent(r, r.applied_deployment_id, r.applied_content_hash,
                               r.applied_options_json, /*correcting=*/true);
        if (!st.ok()) log->warn("{}: correcting drift: {}", id, st.message());
        (void)state_->PutDeployment(r);
      }
      continue;
    } else {
      CheckAndCorrect(r);
    }
    if (r.state != rec.state || r.message != rec.message || r.non_ready != rec.non_ready ||
        r.modified != rec.modified || r.applied_deployment_id != rec.applied_deployment_id) {
      if (r.state != rec.state) {
        log->info("{}: {} -> {}{}{}", id, StateName(rec.state), StateName(r.state),
                  r.message.empty() ? "" : ": ", r.message);
      }
      (void)state_->PutDeployment(r);
      *status.mutable_status()->add_statuses() = StatusOf(r);
    }
  }
  // Parsed contents no deployment refers to any more.
  std::set<std::string> in_use;
  for (const auto& [id, r] : state_->deployments()) {
    in_use.insert(r.content_hash);
    in_use.insert(r.applied_content_hash);
  }
  std::erase_if(parsed_, [&](const auto& entry) { return in_use.count(entry.first) == 0; });
  if (status.status().statuses_size() == 0) return std::nullopt;
  return status;
}

}  // namespace flotilla::agent
