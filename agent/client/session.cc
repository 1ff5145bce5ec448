#include "agent/client/session.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "common/compress.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "common/yaml.h"

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
  s.set_ready(r.state == v1::READY);
  s.set_non_modified(r.state != v1::MODIFIED);
  s.set_message(r.message);
  s.set_resource_count(static_cast<int>(r.applied_objects.size()));
  return s;
}

v1::AgentMessage AgentSession::FullStatus() const {
  v1::AgentMessage m;
  for (const auto& [id, r] : state_->deployments())
    *m.mutable_status()->add_statuses() = StatusOf(r);
  return m;
}

absl::Status AgentSession::ApplyRecord(DeploymentRecord& r) {
  RETURN_IF_ERROR(ApplyContent(r, r.deployment_id, r.content_hash, r.options_json));
  r.applied_deployment_id = r.deployment_id;
  r.applied_content_hash = r.content_hash;
  r.applied_options_json = r.options_json;
  return absl::OkStatus();
}

absl::Status AgentSession::ApplyContent(DeploymentRecord& r, const std::string& deployment_id,
                                        const std::string& content_hash,
                                        const std::string& options_json) {
  ASSIGN_OR_RETURN(std::string yaml, state_->GetContent(content_hash));
  ASSIGN_OR_RETURN(auto objects, common::ParseYamlDocuments(yaml, r.bundle_deployment_id));
  ApplyRequest req;
  req.bundle_deployment_id = r.bundle_deployment_id;
  req.deployment_id = deployment_id;
  req.objects = std::move(objects);
  req.previously_applied = r.applied_objects;
  const v1::DeploymentOptions options = ParseOptions(options_json);
  req.keep_resources = options.keep_resources();
  req.force = options.force();
  req.release_namespace =
      !options.namespace_().empty() ? options.namespace_() : options.default_namespace();
  req.namespace_labels.insert(options.namespace_labels().begin(), options.namespace_labels().end());
  req.namespace_annotations.insert(options.namespace_annotations().begin(),
                                   options.namespace_annotations().end());
  req.delete_crd_resources = options.delete_crd_resources();
  ++applies_;
  ASSIGN_OR_RETURN(ApplyResult result, applier_->Apply(req));
  r.applied_objects = result.applied;
  return absl::OkStatus();
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
    auto st = applier_->Remove(r->applied_objects, OptionsOf(*r).keep_resources());
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
    // Content already cached was verified when it arrived; a corrupt resend
    // of it changes nothing.
    if (state_->HasContent(asg.content_hash())) {
      if (r.applied_deployment_id != r.deployment_id) {
        st = ApplyRecord(r);
        applied = true;
      }
    } else if (content_errors.count(asg.content_hash())) {
      st = absl::DataLossError(content_errors[asg.content_hash()]);
    } else {
      st = absl::NotFoundError(
          absl::StrCat("content ", asg.content_hash(), " was neither sent nor cached"));
    }
    if (st.ok() && !applied && r.state != 0 && r.state != v1::ERR_APPLIED) {
      // Already running this deployment: the state (Ready, or Modified found
      // by the last drift check) stands.
    } else if (st.ok()) {
      r.state = v1::READY;
      r.message.clear();
      log->info("nonce {}: applied {} {} ({} object(s))", a.nonce(), r.bundle_deployment_id,
                r.deployment_id.substr(0, 20), r.applied_objects.size());
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

std::optional<v1::AgentMessage> AgentSession::CheckDrift() {
  auto log = common::Logger("agent.drift");
  v1::AgentMessage status;
  // A copy: PutDeployment below changes the state's map.
  const std::map<std::string, DeploymentRecord> deployments = state_->deployments();
  for (const auto& [id, rec] : deployments) {
    if (rec.applied_deployment_id.empty() || rec.applied_content_hash.empty()) continue;
    DeploymentRecord r = rec;
    auto yaml = state_->GetContent(r.applied_content_hash);
    if (!yaml.ok()) continue;
    auto objects = common::ParseYamlDocuments(*yaml, id);
    if (!objects.ok()) continue;
    auto drifted = applier_->Drifted(*objects);
    if (!drifted.ok()) continue;
    const bool current = r.applied_deployment_id == r.deployment_id;
    if (!current) {
      // A newer deployment failed to apply (its error is the state): keep
      // what is running correct, without changing the reported state.
      if (!drifted->empty() && AppliedOptionsOf(r).correct_drift()) {
        log->info("{}: {} object(s) of the running {} drifted; correcting", id, drifted->size(),
                  r.applied_deployment_id.substr(0, 20));
        auto st = ApplyContent(r, r.applied_deployment_id, r.applied_content_hash,
                               r.applied_options_json);
        if (!st.ok()) log->warn("{}: correcting drift: {}", id, st.message());
        (void)state_->PutDeployment(r);
      }
      continue;
    }
    int before = r.state;
    if (drifted->empty()) {
      r.state = v1::READY;
      r.message.clear();
    } else if (OptionsOf(r).correct_drift()) {
      log->info("{}: {} object(s) drifted; correcting", id, drifted->size());
      auto st = ApplyRecord(r);
      r.state = st.ok() ? v1::READY : v1::ERR_APPLIED;
      r.message = st.ok() ? "" : std::string(st.message());
    } else {
      r.state = v1::MODIFIED;
      r.message = absl::StrCat(drifted->size(),
                               " object(s) modified, first: ", drifted->front().ToString());
    }
    if (r.state != before || r.message != rec.message) {
      (void)state_->PutDeployment(r);
      *status.mutable_status()->add_statuses() = StatusOf(r);
    }
  }
  if (status.status().statuses_size() == 0) return std::nullopt;
  return status;
}

}  // namespace flotilla::agent
