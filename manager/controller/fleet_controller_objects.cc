// FleetController: the objects operators apply besides GitRepos
// (ClusterGroups, Cluster settings, Secrets) and deletions.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fleet/fleet_objects.h"
#include "common/logging.h"
#include "common/status_macros.h"
#include "manager/controller/fleet_controller.h"

namespace flotilla::manager {
namespace {

// Whether a GitRepo names the secret in any of its secret fields.
bool UsesSecret(const common::GitRepoSpec& spec, const std::string& secret) {
  return spec.client_secret_name == secret || spec.helm_secret_name == secret ||
         spec.helm_secret_name_for_paths == secret || spec.webhook_secret == secret;
}

}  // namespace

absl::StatusOr<FleetController::ApplyOutcome> FleetController::ApplyClusterGroup(
    const std::string& yaml, const std::string& actor) {
  ASSIGN_OR_RETURN(common::ClusterGroupSpec spec, common::ParseClusterGroup(yaml, "ClusterGroup"));
  std::set<std::string> changed;
  ApplyOutcome outcome = ApplyOutcome::kCreated;
  {
    absl::MutexLock lock(&mu_);
    GroupState st;
    auto it = groups_.find(spec.name);
    if (it != groups_.end()) {
      if (it->second.record.spec_yaml == yaml) return ApplyOutcome::kUnchanged;
      st.record = it->second.record;
      outcome = ApplyOutcome::kConfigured;
    } else {
      st.record.name = spec.name;
      st.record.created = clock_->Now();
    }
    st.record.updated = clock_->Now();
    st.record.spec_yaml = yaml;
    st.record.labels = spec.labels;
    st.record.selector_json = spec.selector ? spec.selector->ToJson().dump() : "";
    st.view.name = spec.name;
    st.view.selector = spec.selector;
    st.view.labels = spec.labels;
    AuditEventRecord audit =
        Audit(actor, "clustergroup.apply", "clustergroup/" + spec.name,
              spec.selector ? "selector=" + spec.selector->ToString() : "selector=null");
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.PutClusterGroup(st.record));
      return tx.AppendAudit(audit).status();
    }));
    groups_[spec.name] = std::move(st);
    // Group membership feeds every target: re-evaluate everything.
    ASSIGN_OR_RETURN(changed, Retarget({}, {}));
  }
  Notify(changed);
  return outcome;
}

absl::Status FleetController::DeleteClusterGroup(const std::string& name,
                                                 const std::string& actor) {
  std::set<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    if (!groups_.count(name)) {
      return absl::NotFoundError(absl::StrCat("clustergroup \"", name, "\" not found"));
    }
    AuditEventRecord audit = Audit(actor, "clustergroup.delete", "clustergroup/" + name, "");
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.DeleteClusterGroup(name));
      return tx.AppendAudit(audit).status();
    }));
    groups_.erase(name);
    ASSIGN_OR_RETURN(changed, Retarget({}, {}));
  }
  Notify(changed);
  return absl::OkStatus();
}

std::vector<ClusterGroupRecord> FleetController::ClusterGroups() {
  absl::MutexLock lock(&mu_);
  std::vector<ClusterGroupRecord> out;
  for (const auto& [name, g] : groups_) out.push_back(g.record);
  return out;
}

std::vector<std::string> FleetController::ClusterGroupMembers(const std::string& group) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  auto it = groups_.find(group);
  if (it == groups_.end() || !it->second.view.selector) return out;
  for (const auto& [id, c] : clusters_) {
    if (it->second.view.selector->Matches(c.labels)) out.push_back(c.name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<FleetController::ApplyOutcome> FleetController::ApplyClusterSettings(
    const std::string& yaml, const std::string& actor) {
  ASSIGN_OR_RETURN(common::ClusterSpec spec, common::ParseCluster(yaml, "Cluster"));
  std::set<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    ClusterRecord* found = nullptr;
    for (auto& [id, c] : clusters_) {
      if (c.name == spec.name) found = &c;
    }
    if (found == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          "cluster \"", spec.name,
          "\" is not registered: clusters are created when their agent registers (create a token "
          "with `flotilla token create --cluster ",
          spec.name, "`)"));
    }
    ClusterRecord c = *found;
    c.labels = spec.labels;
    c.annotations = spec.annotations;
    c.paused = spec.paused;
    c.template_values_json = spec.template_values.dump();
    if (c.labels == found->labels && c.annotations == found->annotations &&
        c.paused == found->paused && c.template_values_json == found->template_values_json) {
      return ApplyOutcome::kUnchanged;
    }
    std::vector<std::string> labels;
    for (const auto& [k, v] : c.labels) labels.push_back(absl::StrCat(k, "=", v));
    AuditEventRecord audit =
        Audit(actor, "cluster.apply", "cluster/" + c.id,
              absl::StrCat("labels=", absl::StrJoin(labels, ","), " paused=", c.paused));
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.UpdateCluster(c));
      return tx.AppendAudit(audit).status();
    }));
    *found = c;
    ASSIGN_OR_RETURN(changed, Retarget({}, {c.id}));
  }
  Notify(changed);
  return ApplyOutcome::kConfigured;
}

absl::StatusOr<FleetController::ApplyOutcome> FleetController::ApplySecret(
    const std::string& yaml, const std::string& actor) {
  ASSIGN_OR_RETURN(common::SecretSpec spec, common::ParseSecret(yaml, "Secret"));
  ApplyOutcome outcome = ApplyOutcome::kCreated;
  SecretRecord record;
  // Serialised with the other writes so that a GitRepo fetch sees either the
  // old or the new credentials.
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(auto existing, tx.GetSecret(spec.name));
    if (existing) {
      if (existing->type == spec.type && existing->data == spec.data) {
        outcome = ApplyOutcome::kUnchanged;
        return absl::OkStatus();
      }
      record = *existing;
      outcome = ApplyOutcome::kConfigured;
    } else {
      record.name = spec.name;
      record.created = clock_->Now();
    }
    record.type = spec.type;
    record.data = spec.data;
    record.updated = clock_->Now();
    RETURN_IF_ERROR(tx.PutSecret(record));
    std::vector<std::string> keys;
    for (const auto& [k, v] : spec.data) keys.push_back(k);
    // The audit names the keys, never a value.
    return tx
        .AppendAudit(Audit(actor, "secret.apply", "secret/" + spec.name,
                           absl::StrCat("type=", spec.type, " keys=", absl::StrJoin(keys, ","))))
        .status();
  }));
  if (outcome != ApplyOutcome::kUnchanged) {
    // GitRepos using it fetch again at the next poll.
    for (auto& [name, st] : repos_) {
      if (UsesSecret(st.spec, spec.name)) {
        st.next_poll = absl::InfinitePast();
        st.force_rescan = true;  // scan again even if the commit is unchanged
      }
    }
  }
  return outcome;
}

absl::Status FleetController::DeleteSecret(const std::string& name, const std::string& actor) {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> users;
  for (const auto& [repo, st] : repos_) {
    if (UsesSecret(st.spec, name)) {
      users.push_back(repo);
    }
  }
  if (!users.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "secret \"", name, "\" is still used by gitrepo(s) ", absl::StrJoin(users, ", ")));
  }
  return store_->Write([&](Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.DeleteSecret(name));
    return tx.AppendAudit(Audit(actor, "secret.delete", "secret/" + name, "")).status();
  });
}

absl::StatusOr<std::vector<SecretRecord>> FleetController::SecretsWithoutValues() {
  std::vector<SecretRecord> secrets;
  RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(secrets, tx.ListSecrets());
    return absl::OkStatus();
  }));
  for (auto& s : secrets) {
    for (auto& [k, v] : s.data) v.clear();
  }
  return secrets;
}

absl::Status FleetController::DeleteGitRepo(const std::string& name, const std::string& actor) {
  // Not while a fetch of it runs: take the fetch lock first, as SyncGitRepo.
  absl::MutexLock fetch_lock(&fetch_mu_);
  std::set<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    if (!repos_.count(name)) {
      return absl::NotFoundError(absl::StrCat("gitrepo \"", name, "\" not found"));
    }
    std::set<std::string> bundles;
    for (const auto& [bname, b] : bundles_) {
      if (b.record.gitrepo == name) bundles.insert(bname);
    }
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      for (const auto& b : bundles) RETURN_IF_ERROR(tx.DeleteBundle(b));
      RETURN_IF_ERROR(tx.DeleteGitRepo(name));
      return tx
          .AppendAudit(Audit(actor, "gitrepo.delete", "gitrepo/" + name,
                             absl::StrCat(bundles.size(), " bundle(s)")))
          .status();
    }));
    repos_.erase(name);
    for (const auto& b : bundles) bundles_.erase(b);
    // The bundles are gone: Retarget removes their BundleDeployments.
    if (!bundles.empty()) {
      ASSIGN_OR_RETURN(changed, Retarget(bundles, {}));
    }
  }
  common::Logger("manager.controller")->info("{} deleted gitrepo {}", actor, name);
  Notify(changed);
  return absl::OkStatus();
}

}  // namespace flotilla::manager

namespace flotilla::manager {

absl::StatusOr<bool> FleetController::SetGitRepoPaused(const std::string& name, bool paused,
                                                       const std::string& actor) {
  std::string yaml;
  {
    absl::MutexLock lock(&mu_);
    auto it = repos_.find(name);
    if (it == repos_.end()) {
      return absl::NotFoundError(absl::StrCat("gitrepo \"", name, "\" not found"));
    }
    if (it->second.spec.paused == paused) return false;
    ASSIGN_OR_RETURN(common::Json doc,
                     common::ParseYaml(it->second.record.spec_yaml, "gitrepo/" + name));
    if (!doc.is_object())
      return absl::DataLossError("stored GitRepo " + name + " is not a mapping");
    if (!doc.contains("spec") || !doc["spec"].is_object()) doc["spec"] = common::Json::object();
    doc["spec"]["paused"] = paused;
    // The stored document is re-emitted: comments in it do not survive.
    yaml = common::ToYaml(doc);
  }
  // As `flotilla apply` of the edited document: one audited generation bump.
  RETURN_IF_ERROR(ApplyGitRepo(yaml, actor).status());
  return true;
}

absl::StatusOr<bool> FleetController::SetClusterPaused(const std::string& id_or_name, bool paused,
                                                       const std::string& actor) {
  std::set<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ClusterRecord * found, FindClusterLocked(id_or_name));
    if (found->paused == paused) return false;
    ClusterRecord c = *found;
    c.paused = paused;
    AuditEventRecord audit =
        Audit(actor, paused ? "cluster.pause" : "cluster.resume", "cluster/" + c.id, "");
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.UpdateCluster(c));
      return tx.AppendAudit(audit).status();
    }));
    *found = c;
    ASSIGN_OR_RETURN(changed, Retarget({}, {c.id}));
  }
  Notify(changed);
  return true;
}

absl::Status FleetController::RequestResync(const std::string& name, const std::string& actor) {
  {
    absl::MutexLock lock(&mu_);
    auto it = repos_.find(name);
    if (it == repos_.end()) {
      return absl::NotFoundError(absl::StrCat("gitrepo \"", name, "\" not found"));
    }
    AuditEventRecord audit = Audit(actor, "gitrepo.resync", "gitrepo/" + name, "");
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) { return tx.AppendAudit(audit).status(); }));
    it->second.force_rescan = true;
    it->second.next_poll = absl::InfinitePast();
  }
  absl::MutexLock lock(&wake_mu_);
  wake_ = true;
  return absl::OkStatus();
}

absl::StatusOr<ClusterRecord> FleetController::RevokeCluster(const std::string& id_or_name,
                                                             const std::string& actor) {
  std::set<std::string> changed;
  ClusterRecord c;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ClusterRecord * found, FindClusterLocked(id_or_name));
    if (found->revoked) return *found;
    c = *found;
    c.revoked = true;
    AuditEventRecord audit = Audit(actor, "cluster.revoke", "cluster/" + c.id,
                                   absl::StrCat("name=", c.name, " serial=", c.cert_serial));
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.UpdateCluster(c));
      return tx.AppendAudit(audit).status();
    }));
    *found = c;
    connected_.erase(c.id);
    // A revoked cluster is targeted by nothing: its deployments go.
    ASSIGN_OR_RETURN(changed, Retarget({}, {c.id}));
  }
  Notify(changed);
  return c;
}

}  // namespace flotilla::manager
