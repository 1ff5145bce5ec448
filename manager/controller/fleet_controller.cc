#include "manager/controller/fleet_controller.h"

#include <google/protobuf/util/json_util.h>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fleet/fleet_objects.h"
#include "common/fleet/options.h"
#include "common/fleet/targeting.h"
#include "common/fleet/values_template.h"
#include "common/hash.h"
#include "common/helm/chart_source.h"
#include "common/logging.h"
#include "common/render/manifest.h"
#include "common/selector.h"
#include "common/status_macros.h"
#include "manager/controller/chart_credentials.h"
#include "manager/controller/controller_metrics.h"
#include "manager/source/git_repository.h"

namespace flotilla::manager {
namespace {

using common::Json;

std::string FilesKey(const std::map<std::string, std::string>& files) {
  std::string acc;
  for (const auto& [path, content] : files) {
    absl::StrAppend(&acc, path, "\n", common::Sha256Hex(content), "\n");
  }
  return common::Sha256Hex(acc);
}

// The subset of merged options the agent needs to apply and prune.
flotilla::v1::DeploymentOptions AgentOptions(const Json& options, const common::GitRepoSpec& repo) {
  flotilla::v1::DeploymentOptions o;
  o.set_default_namespace(options.value("defaultNamespace", ""));
  o.set_namespace_(options.value("namespace", ""));
  o.set_service_account(options.value("serviceAccount", ""));
  o.set_keep_resources(options.value("keepResources", false) || repo.keep_resources);
  o.set_delete_namespace(options.value("deleteNamespace", false) || repo.delete_namespace);
  if (options.contains("correctDrift") && options["correctDrift"].is_object()) {
    o.set_correct_drift(options["correctDrift"].value("enabled", false));
    o.set_force(options["correctDrift"].value("force", false));
  }
  if (options.contains("helm") && options["helm"].is_object()) {
    if (options["helm"].value("force", false)) o.set_force(true);
    o.set_take_ownership(options["helm"].value("takeOwnership", false));
  }
  for (const auto& [field, target] :
       {std::pair{"namespaceLabels", o.mutable_namespace_labels()},
        std::pair{"namespaceAnnotations", o.mutable_namespace_annotations()}}) {
    if (!options.contains(field) || !options[field].is_object()) continue;
    for (const auto& [k, v] : options[field].items()) {
      if (v.is_string()) (*target)[k] = v.get<std::string>();
    }
  }
  o.set_delete_crd_resources(options.value("deleteCRDResources", false));
  // ignore.conditions: [{type: X, status: "False"}, ...]
  if (options.contains("ignore") && options["ignore"].is_object() &&
      options["ignore"].contains("conditions") && options["ignore"]["conditions"].is_array()) {
    for (const Json& c : options["ignore"]["conditions"]) {
      if (!c.is_object()) continue;
      auto* match = o.add_ignore_conditions();
      for (const auto& [k, v] : c.items()) {
        (*match->mutable_fields())[k] = v.is_string() ? v.get<std::string>() : v.dump();
      }
    }
  }
  if (options.contains("diff") && options["diff"].is_object() &&
      options["diff"].contains("comparePatches") && options["diff"]["comparePatches"].is_array()) {
    for (const Json& p : options["diff"]["comparePatches"]) {
      if (!p.is_object()) continue;
      auto* patch = o.add_compare_patches();
      patch->set_api_version(p.value("apiVersion", ""));
      patch->set_kind(p.value("kind", ""));
      patch->set_name(p.value("name", ""));
      patch->set_namespace_(p.value("namespace", ""));
      if (p.contains("jsonPointers") && p["jsonPointers"].is_array()) {
        for (const Json& ptr : p["jsonPointers"]) {
          if (ptr.is_string()) patch->add_json_pointers(ptr.get<std::string>());
        }
      }
      if (p.contains("operations") && p["operations"].is_array()) {
        for (const Json& op : p["operations"]) {
          if (!op.is_object()) continue;
          auto* out = patch->add_operations();
          out->set_op(op.value("op", ""));
          out->set_path(op.value("path", ""));
          if (op.contains("value")) out->set_value_json(op["value"].dump());
        }
      }
    }
  }
  return o;
}

// Whether a reported state means ready (for the rollout).
bool ReadyState(int state) {
  return state == flotilla::v1::READY || state == flotilla::v1::MODIFIED;
}

std::string ToJsonString(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, opts);
  return out;
}

}  // namespace

FleetController::FleetController(Store* store, const common::Clock* clock,
                                 ControllerOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

FleetController::~FleetController() = default;

common::ClusterView FleetController::ViewOf(const ClusterRecord& c) const {
  common::ClusterView v;
  v.name = c.name;
  v.labels = c.labels;
  v.annotations = c.annotations;
  v.template_values = Json::parse(c.template_values_json, nullptr, false);
  if (!v.template_values.is_object()) v.template_values = Json::object();
  // Fleet: a cluster's groups are those whose selector matches its labels; a
  // null selector has no members.
  for (const auto& [name, g] : groups_) {
    if (g.view.selector.has_value() && g.view.selector->Matches(c.labels)) {
      v.groups.push_back(&g.view);
    }
  }
  return v;
}

AuditEventRecord FleetController::Audit(const std::string& actor, const std::string& action,
                                        const std::string& resource,
                                        const std::string& details) const {
  AuditEventRecord audit;
  audit.time = clock_->Now();
  audit.actor = actor;
  audit.action = action;
  audit.resource = resource;
  audit.outcome = "ok";
  audit.details = details;
  return audit;
}

absl::Status FleetController::Load() {
  absl::MutexLock lock(&mu_);
  return LoadLocked();
}

absl::Status FleetController::LoadLocked() {
  std::vector<GitRepoRecord> repos;
  std::vector<BundleRecord> bundles;
  std::vector<ClusterRecord> clusters;
  std::vector<ClusterGroupRecord> groups;
  std::vector<BundleDeploymentRecord> bds;
  std::map<std::string, std::string> contents;
  RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(repos, tx.ListGitRepos());
    ASSIGN_OR_RETURN(bundles, tx.ListBundles());
    ASSIGN_OR_RETURN(clusters, tx.ListClusters());
    ASSIGN_OR_RETURN(groups, tx.ListClusterGroups());
    ASSIGN_OR_RETURN(bds, tx.ListBundleDeployments());
    std::set<std::string> wanted;
    for (const auto& b : bundles) {
      for (const auto& [path, hash] : b.resources) wanted.insert(hash);
    }
    for (const auto& bd : bds) wanted.insert(bd.content_hash);
    for (const auto& h : wanted) {
      ASSIGN_OR_RETURN(auto c, tx.GetContent(h));
      if (c) contents[h] = std::move(c->data);
    }
    return absl::OkStatus();
  }));
  for (auto& r : repos) {
    auto spec = common::ParseGitRepo(r.spec_yaml, "gitrepo/" + r.name);
    if (!spec.ok()) {
      return absl::DataLossError(
          absl::StrCat("stored GitRepo ", r.name, " no longer parses: ", spec.status().message()));
    }
    RepoState st;
    st.record = r;
    st.spec = std::move(*spec);
    repos_[r.name] = std::move(st);
  }
  for (auto& b : bundles) {
    BundleState st;
    auto spec_json = Json::parse(b.spec_json.empty() ? "{}" : b.spec_json, nullptr, false);
    auto spec = common::BundleSpec::FromJson(spec_json);
    if (spec.ok()) st.spec = std::move(*spec);
    auto files = std::make_shared<std::map<std::string, std::string>>();
    for (const auto& [path, hash] : b.resources) {
      auto it = contents.find(hash);
      if (it == contents.end()) {
        return absl::DataLossError(
            absl::StrCat("bundle ", b.name, ": content ", hash, " of ", path, " is missing"));
      }
      (*files)[path] = it->second;
    }
    st.files_key = FilesKey(*files);
    st.files = std::move(files);
    st.record = b;
    bundles_[b.name] = std::move(st);
  }
  for (auto& c : clusters) clusters_[c.id] = c;
  for (auto& g : groups) {
    auto spec = common::ParseClusterGroup(g.spec_yaml, "clustergroup/" + g.name);
    if (!spec.ok()) {
      return absl::DataLossError(absl::StrCat("stored ClusterGroup ", g.name,
                                              " no longer parses: ", spec.status().message()));
    }
    GroupState st;
    st.record = g;
    st.view.name = spec->name;
    st.view.selector = spec->selector;
    st.view.labels = spec->labels;
    groups_[g.name] = std::move(st);
  }
  for (auto& bd : bds) {
    auto it = contents.find(bd.content_hash);
    if (it != contents.end()) contents_[bd.content_hash] = it->second;
    PutBdLocked(bd);
  }
  std::set<std::string> all;
  for (const auto& [id, c] : clusters_) all.insert(id);
  PublishAssignments(all);
  common::Logger("manager.controller")
      ->info("loaded {} gitrepos, {} bundles, {} clusters, {} bundle deployments", repos_.size(),
             bundles_.size(), clusters_.size(), bds.size());
  return absl::OkStatus();
}

void FleetController::SetAssignmentListener(
    std::function<void(const std::vector<std::string>&)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

void FleetController::Notify(const std::set<std::string>& clusters) {
  if (clusters.empty()) return;
  std::function<void(const std::vector<std::string>&)> listener;
  {
    absl::MutexLock lock(&listener_mu_);
    listener = listener_;
  }
  if (listener) listener(std::vector<std::string>(clusters.begin(), clusters.end()));
}

absl::StatusOr<GitRepoRecord> FleetController::ApplyGitRepo(const std::string& yaml,
                                                            const std::string& actor,
                                                            ApplyOutcome* outcome) {
  ASSIGN_OR_RETURN(common::GitRepoSpec spec, common::ParseGitRepo(yaml, "GitRepo"));
  std::set<std::string> changed;
  GitRepoRecord record;
  ApplyOutcome result = ApplyOutcome::kCreated;
  {
    absl::MutexLock lock(&mu_);
    auto it = repos_.find(spec.name);
    if (it != repos_.end()) {
      record = it->second.record;
      if (record.spec_yaml == yaml) {
        if (outcome != nullptr) *outcome = ApplyOutcome::kUnchanged;
        return record;
      }
      ++record.generation;
      result = ApplyOutcome::kConfigured;
    } else {
      record.name = spec.name;
    }
    record.spec_yaml = yaml;
    AuditEventRecord audit;
    audit.time = clock_->Now();
    audit.actor = actor;
    audit.action = "gitrepo.apply";
    audit.resource = "gitrepo/" + spec.name;
    audit.outcome = "ok";
    audit.details =
        absl::StrCat("repo=", spec.repo, " ref=", spec.Ref(), " generation=", record.generation);
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.PutGitRepo(record));
      return tx.AppendAudit(audit).status();
    }));
    RepoState& st = repos_[spec.name];
    st.record = record;
    st.spec = std::move(spec);
    st.next_poll = absl::InfinitePast();  // sync at the next poll
    // Targets may have changed: re-evaluate this repo's bundles now.
    std::set<std::string> mine;
    for (const auto& [name, b] : bundles_) {
      if (b.record.gitrepo == record.name) mine.insert(name);
    }
    if (!mine.empty()) {
      ASSIGN_OR_RETURN(changed, Retarget(mine, {}));
    }
  }
  Notify(changed);
  {
    absl::MutexLock lock(&wake_mu_);
    wake_ = true;
  }
  if (outcome != nullptr) *outcome = result;
  return record;
}

void FleetController::WaitForPollWork(absl::Duration max) {
  absl::MutexLock lock(&wake_mu_);
  wake_mu_.AwaitWithTimeout(absl::Condition(&wake_), max);
  wake_ = false;
}

absl::Duration FleetController::NextPollIn() {
  absl::MutexLock lock(&mu_);
  absl::Time now = clock_->Now();
  absl::Duration next = absl::Seconds(5);
  for (const auto& [name, st] : repos_) {
    if (PollingDisabled(st)) continue;
    next = std::min(next, std::max(absl::ZeroDuration(), st.next_poll - now));
  }
  return next;
}

void FleetController::PollDue() {
  std::vector<std::string> due;
  {
    absl::MutexLock lock(&mu_);
    absl::Time now = clock_->Now();
    for (const auto& [name, st] : repos_) {
      if (PollingDisabled(st)) continue;
      if (st.next_poll <= now) due.push_back(name);
    }
  }
  for (const auto& name : due) {
    auto st = SyncGitRepo(name);
    if (!st.ok()) {
      common::Logger("manager.git")->warn("gitrepo {}: {}", name, st.message());
    }
  }
}

absl::Status FleetController::AddRemoteCharts(const common::GitRepoSpec& spec, ScannedBundle& sb) {
  // Each customization can name its own chart or version: decide on the
  // options as they merge, before the root is rewritten.
  const Json original_root = sb.spec.options;
  auto remote = [](const Json& options) {
    return options.is_object() && options.contains("helm") &&
           common::helm::IsRemoteChart(options["helm"]);
  };
  // The GitRepo's credentials are read only for bundles that download.
  std::optional<common::helm::ChartSourceOptions> source;
  auto source_options = [&]() -> absl::StatusOr<const common::helm::ChartSourceOptions*> {
    if (!source) {
      ASSIGN_OR_RETURN(source, ChartSourceForBundle(
                                   options_.chart_source, spec, sb.path,
                                   [this](const std::string& name) { return ReadSecret(name); }));
    }
    return &*source;
  };
  for (auto& c : sb.spec.target_customizations) {
    Json merged = common::MergeOptions(original_root, c.options);
    if (remote(merged)) {
      ASSIGN_OR_RETURN(const common::helm::ChartSourceOptions* chart_source, source_options());
      RETURN_IF_ERROR(common::helm::AddRemoteChartToBundle(sb.files, merged, *chart_source));
      c.options["helm"]["chart"] = merged["helm"]["chart"];
      c.options["helm"].erase("repo");
      c.options["helm"].erase("version");
    } else if (common::helm::NeedsDependencyUpdate(sb.files, merged)) {
      ASSIGN_OR_RETURN(const common::helm::ChartSourceOptions* chart_source, source_options());
      RETURN_IF_ERROR(
          common::helm::AddMissingDependenciesToBundle(sb.files, merged, *chart_source));
    }
  }
  if (remote(sb.spec.options)) {
    ASSIGN_OR_RETURN(const common::helm::ChartSourceOptions* chart_source, source_options());
    RETURN_IF_ERROR(common::helm::AddRemoteChartToBundle(sb.files, sb.spec.options, *chart_source));
  } else if (common::helm::NeedsDependencyUpdate(sb.files, sb.spec.options)) {
    // Fleet runs `helm dependency update` on a chart directory whose
    // dependencies are not all in charts/ (internal/helmupdater).
    ASSIGN_OR_RETURN(const common::helm::ChartSourceOptions* chart_source, source_options());
    RETURN_IF_ERROR(
        common::helm::AddMissingDependenciesToBundle(sb.files, sb.spec.options, *chart_source));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SecretRecord>> FleetController::ReadSecret(const std::string& name) {
  std::optional<SecretRecord> secret;
  RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(secret, tx.GetSecret(name));
    return absl::OkStatus();
  }));
  return secret;
}

absl::StatusOr<GitAuth> FleetController::GitAuthFor(const common::GitRepoSpec& spec) {
  GitAuth auth;
  auth.ca_bundle_pem = spec.ca_bundle;
  auth.insecure_skip_tls_verify = spec.insecure_skip_tls_verify;
  if (spec.client_secret_name.empty()) return auth;
  auth.secret_name = spec.client_secret_name;
  ASSIGN_OR_RETURN(std::optional<SecretRecord> secret, ReadSecret(spec.client_secret_name));
  if (!secret) {
    return absl::FailedPreconditionError(absl::StrCat(
        "clientSecretName: secret \"", spec.client_secret_name,
        "\" does not exist (create it with `flotilla secret create basic-auth|ssh-auth ",
        spec.client_secret_name, " ...`)"));
  }
  auto value = [&](const char* key) {
    auto it = secret->data.find(key);
    return it == secret->data.end() ? std::string() : it->second;
  };
  if (secret->type == "basic-auth") {
    auth.username = value("username");
    auth.password = value("password");
  } else if (secret->type == "ssh-auth") {
    auth.ssh_private_key = value("ssh-privatekey");
    auth.ssh_known_hosts = value("known_hosts");
  } else {
    return absl::FailedPreconditionError(
        absl::StrCat("clientSecretName: secret \"", spec.client_secret_name, "\" is of type ",
                     secret->type, "; Git credentials need basic-auth or ssh-auth"));
  }
  return auth;
}

void FleetController::RecordRepoError(const std::string& repo_name, const std::string& commit,
                                      const std::string& error) {
  absl::MutexLock lock(&mu_);
  auto it = repos_.find(repo_name);
  if (it == repos_.end()) return;
  it->second.force_rescan = true;
  // No commit: the fetch itself failed (GitPolling), not the scan.
  it->second.fetch_error = commit.empty() ? error : "";
  GitRepoRecord r = it->second.record;
  if (!commit.empty()) r.commit = commit;
  r.error = error;
  r.last_fetch = clock_->Now();
  auto st = store_->Write([&](Tx& tx) { return tx.PutGitRepo(r); });
  if (!st.ok()) {
    common::Logger("manager.git")
        ->error("gitrepo {}: cannot record status: {}", repo_name, st.message());
    return;
  }
  it->second.record = r;
}

absl::Status FleetController::SyncGitRepo(const std::string& name) {
  absl::MutexLock fetch_lock(&fetch_mu_);
  common::GitRepoSpec spec;
  {
    absl::MutexLock lock(&mu_);
    auto it = repos_.find(name);
    if (it == repos_.end())
      return absl::NotFoundError(absl::StrCat("gitrepo \"", name, "\" not found"));
    spec = it->second.spec;
    // Next poll: the interval with up to 10% jitter, as Fleet does.
    absl::BitGen gen;
    double jitter = absl::Uniform(gen, 0.0, 0.1);
    it->second.next_poll = clock_->Now() + spec.polling_interval * (1.0 + jitter);
  }
  auto log = common::Logger("manager.git");
  auto repo = GitRepository::Open(options_.git_cache_dir, spec.repo);
  if (!repo.ok()) {
    RecordFetchError(FetchStage::kOpen, repo.status());
    RecordRepoError(name, "", std::string(repo.status().message()));
    return repo.status();
  }
  auto auth = GitAuthFor(spec);
  if (!auth.ok()) {
    RecordFetchError(FetchStage::kCredentials, auth.status());
    RecordRepoError(name, "", std::string(auth.status().message()));
    return auth.status();
  }
  common::ScopedTimer fetch_timer(&ControllerMetrics(), kGitRepoFetchDurationSeconds);
  auto commit = (*repo)->Fetch(spec.Ref(), !spec.revision.empty(), options_.fetch_timeout, *auth);
  fetch_timer.Stop();
  if (!commit.ok()) {
    RecordFetchError(FetchStage::kFetch, commit.status());
    RecordRepoError(name, "", std::string(commit.status().message()));
    return commit.status();
  }
  {
    absl::MutexLock lock(&mu_);
    auto it = repos_.find(name);
    if (it == repos_.end()) return absl::OkStatus();
    it->second.fetch_error.clear();
    RepoState& st = it->second;
    // After a failed fetch the scan runs again, so the GitRepo's error is
    // the scan's once more.
    if (*commit == st.scanned_commit && st.record.generation == st.scanned_generation &&
        !st.force_rescan) {
      st.record.last_fetch = clock_->Now();
      return absl::OkStatus();  // nothing new
    }
  }
  auto tree = (*repo)->Tree(*commit);
  if (!tree.ok()) {
    RecordRepoError(name, *commit, std::string(tree.status().message()));
    return tree.status();
  }
  auto scanned = ScanCommit(**tree, spec, options_.scan_limits);
  if (!scanned.ok()) {
    RecordRepoError(name, *commit, std::string(scanned.status().message()));
    return scanned.status();
  }
  if (scanned->empty()) {
    std::string msg = absl::StrCat("no bundles found at commit ", commit->substr(0, 12),
                                   " in paths [", absl::StrJoin(spec.paths, ", "), "]");
    RecordRepoError(name, *commit, msg);
    return absl::FailedPreconditionError(msg);
  }
  log->info("gitrepo {}: commit {} has {} bundle(s)", name, commit->substr(0, 12), scanned->size());
  // Charts from URLs and chart repositories join their bundles now, as Fleet
  // downloads them when it builds a bundle (outside the lock: network I/O).
  for (ScannedBundle& sb : *scanned) {
    if (!sb.error.empty()) continue;
    if (auto st = AddRemoteCharts(spec, sb); !st.ok()) {
      sb.error = std::string(st.message());
      sb.files.clear();
    }
  }
  return ApplyScan(name, *commit, std::move(*scanned));
}

absl::Status FleetController::ApplyScan(const std::string& repo_name, const std::string& commit,
                                        std::vector<ScannedBundle> scanned) {
  std::set<std::string> notify;
  {
    absl::MutexLock lock(&mu_);
    auto rit = repos_.find(repo_name);
    if (rit == repos_.end()) return absl::OkStatus();
    GitRepoRecord repo = rit->second.record;

    std::vector<BundleState> puts;
    std::vector<std::string> errors;
    std::set<std::string> keep;
    std::map<std::string, std::string> new_contents;
    for (auto& sb : scanned) {
      keep.insert(sb.name);
      auto old = bundles_.find(sb.name);
      // A name another GitRepo owns is never taken over, broken or not.
      if (old != bundles_.end() && old->second.record.gitrepo != repo_name) {
        std::string msg = absl::StrCat("bundle name \"", sb.name, "\" (", sb.path,
                                       ") is already used by gitrepo ", old->second.record.gitrepo);
        errors.push_back(msg);
        keep.erase(sb.name);
        continue;
      }
      if (!sb.error.empty()) {
        errors.push_back(sb.error);
        // Keep the last good version running; only record the error.
        BundleState st;
        if (old != bundles_.end()) {
          st = old->second;
        } else {
          st.record.name = sb.name;
          st.record.gitrepo = repo_name;
          st.record.path = sb.path;
          st.files = std::make_shared<std::map<std::string, std::string>>();
          st.files_key = FilesKey(*st.files);
        }
        st.record.error = sb.error;
        puts.push_back(std::move(st));
        continue;
      }
      BundleState st;
      st.record.name = sb.name;
      st.record.gitrepo = repo_name;
      st.record.path = sb.path;
      st.record.commit = commit;
      st.record.labels = sb.spec.labels;
      st.record.spec_json = common::CanonicalJson(sb.spec.ToJson());
      for (const auto& [path, content] : sb.files) {
        std::string h = common::Sha256Hex(content);
        st.record.resources[path] = h;
        new_contents[h] = content;
      }
      st.spec = std::move(sb.spec);
      st.files = std::make_shared<std::map<std::string, std::string>>(std::move(sb.files));
      st.files_key = FilesKey(*st.files);
      puts.push_back(std::move(st));
    }
    std::vector<std::string> removed;
    for (const auto& [name, b] : bundles_) {
      if (b.record.gitrepo == repo_name && !keep.count(name)) removed.push_back(name);
    }
    repo.commit = commit;
    repo.applied_commit = commit;
    repo.last_fetch = clock_->Now();
    repo.error =
        errors.empty()
            ? ""
            : absl::StrCat(errors.size(), " bundle(s) have errors: ", absl::StrJoin(errors, "; "));
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      for (const auto& [h, data] : new_contents) {
        RETURN_IF_ERROR(tx.PutContent(ContentRecord{h, data}));
      }
      for (const auto& st : puts) RETURN_IF_ERROR(tx.PutBundle(st.record));
      for (const auto& name : removed) RETURN_IF_ERROR(tx.DeleteBundle(name));
      return tx.PutGitRepo(repo);
    }));
    std::set<std::string> changed;
    for (auto& st : puts) {
      changed.insert(st.record.name);
      bundles_[st.record.name] = std::move(st);
    }
    for (const auto& name : removed) {
      bundles_.erase(name);
      changed.insert(name);
    }
    rit->second.record = repo;
    rit->second.scanned_commit = commit;
    rit->second.force_rescan = false;
    rit->second.scanned_generation = repo.generation;
    ASSIGN_OR_RETURN(notify, Retarget(changed, {}));
  }
  Notify(notify);
  return absl::OkStatus();
}

absl::StatusOr<std::string> FleetController::Render(const BundleState& b, const Json& options) {
  std::string key = absl::StrCat(b.files_key, ":", common::OptionsHash(options));
  auto it = render_cache_.find(key);
  if (it == render_cache_.end()) {
    common::RenderInput in;
    in.bundle_name = b.record.name;
    in.files = *b.files;
    in.options = options;
    in.kustomize = options_.kustomize;
    common::ScopedTimer render_timer(&ControllerMetrics(), kRenderDurationSeconds,
                                     {{"kind", common::RenderKind(in)}});
    auto rendered = common::RenderBundle(in);
    render_timer.Stop();
    RenderCacheEntry e;
    if (rendered.ok()) {
      e.content_hash = rendered->hash;
      contents_.emplace(rendered->hash, std::move(rendered->yaml));
    } else {
      e.error = std::string(rendered.status().message());
    }
    it = render_cache_.emplace(key, std::move(e)).first;
  }
  if (!it->second.error.empty()) return absl::InvalidArgumentError(it->second.error);
  return it->second.content_hash;
}

absl::StatusOr<std::set<std::string>> FleetController::Retarget(
    const std::set<std::string>& bundle_names, const std::set<std::string>& cluster_ids) {
  // Every record this pass writes, by (bundle, cluster id): staged changes
  // first, then what the rollout promotes.
  BdWrites writes;
  std::vector<std::pair<std::string, std::string>> deletes;  // bundle, cluster
  std::set<std::string> new_contents;
  std::map<std::string, std::string> bundle_errors;
  std::set<std::string> held_bundles;
  std::set<std::string> to_roll_out;

  std::set<std::string> bundle_set = bundle_names;
  if (bundle_set.empty()) {
    for (const auto& [n, b] : bundles_) bundle_set.insert(n);
  }
  std::set<std::string> cluster_set = cluster_ids;
  if (cluster_set.empty()) {
    for (const auto& [id, c] : clusters_) cluster_set.insert(id);
  }
  // Each cluster's view (with its groups) is computed once per call.
  std::map<std::string, common::ClusterView> views;

  for (const std::string& bname : bundle_set) {
    auto bit = bundles_.find(bname);
    const BundleState* b = bit == bundles_.end() ? nullptr : &bit->second;
    const RepoState* repo = nullptr;
    if (b != nullptr) {
      auto rit = repos_.find(b->record.gitrepo);
      if (rit != repos_.end()) repo = &rit->second;
    }
    // A bundle that never rendered (no good version) deploys nowhere.
    bool usable =
        b != nullptr && repo != nullptr && (b->record.error.empty() || !b->files->empty());
    common::BundleSpec effective;
    if (usable) effective = common::WithGitRepoSettings(b->spec, repo->spec);
    std::string render_error;
    for (const std::string& cid : cluster_set) {
      auto cit = clusters_.find(cid);
      if (cit == clusters_.end()) continue;
      const ClusterRecord& cluster = cit->second;
      auto& existing_map = bds_[cid];
      auto existing = existing_map.find(bname);
      bool want = false;
      BundleDeploymentRecord desired;
      if (usable && !cluster.revoked) {
        auto view = views.find(cid);
        if (view == views.end()) view = views.emplace(cid, ViewOf(cluster)).first;
        common::TargetDecision d =
            common::DecideTarget(repo->spec.targets, effective, view->second);
        if (d.deploy) {
          // Per-cluster Helm values (global.fleet.clusterLabels, ${ }).
          if (auto st = common::PreprocessHelmValues(d.options, view->second); !st.ok()) {
            render_error = std::string(st.message());
            continue;  // keep whatever the cluster has
          }
          auto content = Render(*b, d.options);
          if (!content.ok()) {
            render_error = std::string(content.status().message());
            continue;  // keep whatever the cluster has
          }
          want = true;
          std::string options_hash = common::OptionsHash(d.options);
          desired.content_hash = *content;
          desired.deployment_id = common::DeploymentId(*content, options_hash);
          flotilla::v1::DeploymentOptions agent_options = AgentOptions(d.options, repo->spec);
          ResolveDependencies(*b, cid, &agent_options);
          desired.options_json = ToJsonString(agent_options);
        }
      }
      if (!want) {
        held_[cid].erase(bname);
        DropUncreatedLocked(bname, cid);
        if (existing != existing_map.end()) deletes.emplace_back(bname, cid);
        continue;
      }
      std::string pending = PendingDependencies(*b, cid);
      if (!pending.empty()) {
        // Held: the cluster keeps what it has; a new one gets a placeholder
        // with no deployment, so the reason shows.
        held_[cid][bname] = pending;
        held_bundles.insert(bname);
        DropUncreatedLocked(bname, cid);
        if (existing == existing_map.end()) {
          BundleDeploymentRecord placeholder;
          placeholder.bundle = bname;
          placeholder.cluster_id = cid;
          placeholder.state = flotilla::v1::WAIT_APPLIED;
          placeholder.message = pending;
          writes[{bname, cid}] = std::move(placeholder);
        }
        continue;
      }
      held_[cid].erase(bname);
      // Stage what targeting wants; the rollout decides when it runs.
      BundleDeploymentRecord rec;
      if (existing != existing_map.end()) {
        rec = existing->second;
      } else {
        rec.bundle = bname;
        rec.cluster_id = cid;
      }
      if (rec.staged_deployment_id != desired.deployment_id ||
          rec.staged_content_hash != desired.content_hash ||
          rec.staged_options_json != desired.options_json) {
        rec.staged_deployment_id = desired.deployment_id;
        rec.staged_content_hash = desired.content_hash;
        rec.staged_options_json = std::move(desired.options_json);
        new_contents.insert(desired.content_hash);
        if (existing == existing_map.end()) {
          StageUncreatedLocked(std::move(rec));
        } else {
          writes[{bname, cid}] = std::move(rec);
        }
      }
    }
    if (usable) to_roll_out.insert(bname);
    // A render error is cleared only when every cluster was evaluated: a
    // cluster where the bundle renders says nothing about the others.
    const bool all_clusters = cluster_ids.empty();
    if (b != nullptr && !render_error.empty() && b->record.error != "render: " + render_error) {
      bundle_errors[bname] = render_error;
    } else if (b != nullptr && all_clusters && render_error.empty() && usable &&
               absl::StartsWith(b->record.error, "render: ")) {
      bundle_errors[bname] = "";
    }
  }
  for (const std::string& bname : to_roll_out) RollOutLocked(bname, writes);

  std::set<std::string> changed_clusters;
  RETURN_IF_ERROR(
      WriteBundleDeployments(writes, deletes, new_contents, bundle_errors, &changed_clusters));
  // Bundles held for dependencies that this very pass created or changed
  // (say, both bundles arrived in one commit) are looked at once more.
  if (!held_bundles.empty() && !changed_clusters.empty() && !second_pass_) {
    second_pass_ = true;
    auto more = Retarget(held_bundles, changed_clusters);
    second_pass_ = false;
    if (!more.ok()) return more.status();
    changed_clusters.insert(more->begin(), more->end());
  }
  return changed_clusters;
}

absl::Status FleetController::WriteBundleDeployments(
    const BdWrites& writes, const std::vector<std::pair<std::string, std::string>>& deletes,
    const std::set<std::string>& new_contents,
    const std::map<std::string, std::string>& bundle_errors, std::set<std::string>* changed) {
  if (writes.empty() && deletes.empty() && bundle_errors.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
    for (const auto& h : new_contents) {
      ASSIGN_OR_RETURN(bool has, tx.HasContent(h));
      if (!has) RETURN_IF_ERROR(tx.PutContent(ContentRecord{h, contents_.at(h)}));
    }
    for (const auto& [key, bd] : writes) RETURN_IF_ERROR(tx.PutBundleDeployment(bd));
    for (const auto& [bundle, cid] : deletes) {
      RETURN_IF_ERROR(tx.DeleteBundleDeployment(bundle, cid));
    }
    for (const auto& [bname, err] : bundle_errors) {
      BundleRecord r = bundles_.at(bname).record;
      r.error = err.empty() ? "" : "render: " + err;
      RETURN_IF_ERROR(tx.PutBundle(r));
    }
    return absl::OkStatus();
  }));
  // An agent hears only of changes to what it is told to run.
  for (const auto& [key, bd] : writes) {
    const auto& [bname, cid] = key;
    const BundleDeploymentRecord* old = FindBd(bname, cid);
    if (old == nullptr || old->deployment_id != bd.deployment_id ||
        old->content_hash != bd.content_hash || old->options_json != bd.options_json) {
      changed->insert(cid);
    }
    PutBdLocked(bd);
  }
  for (const auto& [bundle, cid] : deletes) {
    changed->insert(cid);
    EraseBdLocked(bundle, cid);
  }
  for (const auto& [bname, err] : bundle_errors) {
    bundles_.at(bname).record.error = err.empty() ? "" : "render: " + err;
  }
  PublishAssignments(*changed);
  return absl::OkStatus();
}

void FleetController::PublishAssignments(const std::set<std::string>& clusters) {
  for (const auto& cid : clusters) {
    auto snapshot = std::make_shared<ClusterAssignments>();
    for (const auto& [bname, bd] : bds_[cid]) {
      if (bd.deployment_id.empty()) continue;  // held for its dependencies
      flotilla::v1::Assignment a;
      a.set_bundle_deployment_id(bname);
      a.set_bundle_name(bname);
      auto bit = bundles_.find(bname);
      if (bit != bundles_.end()) {
        a.set_gitrepo_name(bit->second.record.gitrepo);
        a.set_commit(bit->second.record.commit);
      }
      a.set_deployment_id(bd.deployment_id);
      a.set_content_hash(bd.content_hash);
      google::protobuf::util::JsonParseOptions opts;
      (void)google::protobuf::util::JsonStringToMessage(bd.options_json, a.mutable_options(), opts);
      snapshot->by_id[bname] = std::move(a);
    }
    assignments_[cid] = std::move(snapshot);
  }
}

std::shared_ptr<const ClusterAssignments> FleetController::AssignmentsFor(
    const std::string& cluster_id) {
  absl::MutexLock lock(&mu_);
  auto it = assignments_.find(cluster_id);
  if (it == assignments_.end()) return std::make_shared<const ClusterAssignments>();
  return it->second;
}

absl::StatusOr<std::string> FleetController::Content(const std::string& hash) {
  {
    absl::MutexLock lock(&mu_);
    auto it = contents_.find(hash);
    if (it != contents_.end()) return it->second;
  }
  std::optional<ContentRecord> rec;
  RETURN_IF_ERROR(store_->Read([&](Tx& tx) -> absl::Status {
    ASSIGN_OR_RETURN(rec, tx.GetContent(hash));
    return absl::OkStatus();
  }));
  if (!rec) return absl::NotFoundError(absl::StrCat("content ", hash, " not found"));
  absl::MutexLock lock(&mu_);
  contents_[hash] = rec->data;
  return rec->data;
}

absl::Status FleetController::ReportStatus(
    const std::string& cluster_id,
    const std::vector<flotilla::v1::BundleDeploymentStatus>& statuses) {
  std::set<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    std::set<std::string> progressed;
    RETURN_IF_ERROR(ReportStatusLocked(cluster_id, statuses, &progressed));
    // A change of readiness may let a rollout move on.
    BdWrites writes;
    for (const auto& bundle : progressed) {
      if (NeedsRollOutLocked(bundle)) RollOutLocked(bundle, writes);
    }
    RETURN_IF_ERROR(WriteBundleDeployments(writes, {}, {}, {}, &changed));
    // A dependency's new state may release bundles waiting on it here.
    std::set<std::string> dependents;
    for (const auto& [name, b] : bundles_) {
      if (b.spec.depends_on.is_array() && !b.spec.depends_on.empty()) dependents.insert(name);
    }
    if (!dependents.empty() && !statuses.empty()) {
      ASSIGN_OR_RETURN(std::set<std::string> more, Retarget(dependents, {cluster_id}));
      changed.insert(more.begin(), more.end());
    }
  }
  Notify(changed);
  return absl::OkStatus();
}

absl::Status FleetController::ReportStatusLocked(
    const std::string& cluster_id,
    const std::vector<flotilla::v1::BundleDeploymentStatus>& statuses,
    std::set<std::string>* progressed) {
  auto cit = clusters_.find(cluster_id);
  if (cit == clusters_.end()) return absl::NotFoundError("cluster not found");
  std::vector<BundleDeploymentRecord> updates;
  std::vector<const flotilla::v1::BundleDeploymentStatus*> reports;  // parallel to updates
  absl::Time now = clock_->Now();
  for (const auto& s : statuses) {
    auto& m = bds_[cluster_id];
    auto it = m.find(s.bundle_deployment_id());
    if (it == m.end()) continue;  // stale report for a removed deployment
    BundleDeploymentRecord r = it->second;
    if (r.applied_deployment_id != s.applied_deployment_id() ||
        ReadyState(r.state) != ReadyState(s.state())) {
      progressed->insert(r.bundle);
    }
    r.applied_deployment_id = s.applied_deployment_id();
    r.state = s.state();
    r.message = s.message();
    r.status_json = ToJsonString(s);
    r.status_time = now;
    updates.push_back(std::move(r));
    reports.push_back(&s);
  }
  ClusterRecord c = cit->second;
  c.last_seen = now;
  RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
    for (const auto& r : updates) RETURN_IF_ERROR(tx.PutBundleDeployment(r));
    return tx.UpdateCluster(c);
  }));
  for (size_t i = 0; i < updates.size(); ++i) PutBdLocked(std::move(updates[i]), reports[i]);
  cit->second = c;
  return absl::OkStatus();
}

absl::Status FleetController::AddCluster(const ClusterRecord& cluster) {
  std::set<std::string> changed;
  {
    absl::MutexLock lock(&mu_);
    clusters_[cluster.id] = cluster;
    ASSIGN_OR_RETURN(changed, Retarget({}, {cluster.id}));
    if (!assignments_.count(cluster.id)) PublishAssignments({cluster.id});
  }
  Notify(changed);
  return absl::OkStatus();
}

absl::Status FleetController::UpdateCluster(const ClusterRecord& cluster,
                                            const AuditEventRecord* audit) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
    RETURN_IF_ERROR(tx.UpdateCluster(cluster));
    if (audit != nullptr) return tx.AppendAudit(*audit).status();
    return absl::OkStatus();
  }));
  clusters_[cluster.id] = cluster;
  return absl::OkStatus();
}

std::optional<ClusterRecord> FleetController::GetCluster(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = clusters_.find(id);
  if (it == clusters_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<ClusterRecord*> FleetController::FindClusterLocked(const std::string& id_or_name) {
  auto it = clusters_.find(id_or_name);
  if (it != clusters_.end()) return &it->second;
  for (auto& [id, c] : clusters_) {
    if (c.name == id_or_name) return &c;
  }
  return absl::NotFoundError(absl::StrCat("cluster \"", id_or_name, "\" not found"));
}

std::optional<ClusterRecord> FleetController::FindCluster(const std::string& id_or_name) {
  absl::MutexLock lock(&mu_);
  auto it = clusters_.find(id_or_name);
  if (it != clusters_.end()) return it->second;
  for (const auto& [id, c] : clusters_) {
    if (c.name == id_or_name) return c;
  }
  return std::nullopt;
}

absl::StatusOr<ClusterRecord> FleetController::LabelCluster(
    const std::string& id_or_name, const std::map<std::string, std::string>& set,
    const std::vector<std::string>& remove, const std::string& actor) {
  for (const auto& [k, v] : set) {
    RETURN_IF_ERROR(common::ValidateLabelKey(k));
    RETURN_IF_ERROR(common::ValidateLabelValue(k, v));
  }
  std::set<std::string> changed;
  ClusterRecord c;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(ClusterRecord * found, FindClusterLocked(id_or_name));
    c = *found;
    for (const auto& [k, v] : set) c.labels[k] = v;
    for (const auto& k : remove) c.labels.erase(k);
    AuditEventRecord audit;
    audit.time = clock_->Now();
    audit.actor = actor;
    audit.action = "cluster.label";
    audit.resource = "cluster/" + c.id;
    audit.outcome = "ok";
    std::vector<std::string> parts;
    for (const auto& [k, v] : set) parts.push_back(absl::StrCat(k, "=", v));
    for (const auto& k : remove) parts.push_back(k + "-");
    audit.details = absl::StrJoin(parts, " ");
    RETURN_IF_ERROR(store_->Write([&](Tx& tx) -> absl::Status {
      RETURN_IF_ERROR(tx.UpdateCluster(c));
      return tx.AppendAudit(audit).status();
    }));
    *found = c;
    ASSIGN_OR_RETURN(changed, Retarget({}, {c.id}));
  }
  Notify(changed);
  return c;
}

void FleetController::SetConnected(const std::string& cluster_id, bool connected,
                                   const std::string& version) {
  absl::MutexLock lock(&mu_);
  auto it = clusters_.find(cluster_id);
  if (it == clusters_.end()) return;
  if (connected) {
    connected_.insert(cluster_id);
  } else {
    connected_.erase(cluster_id);
  }
  ClusterRecord c = it->second;
  c.last_seen = clock_->Now();
  if (!version.empty()) c.agent_version = version;
  auto st = store_->Write([&](Tx& tx) { return tx.UpdateCluster(c); });
  if (!st.ok()) {
    common::Logger("manager.controller")
        ->warn("cluster {}: cannot record last seen: {}", cluster_id, st.message());
  }
  it->second = c;
}

void FleetController::Heartbeat(const std::string& cluster_id) {
  absl::MutexLock lock(&mu_);
  auto it = clusters_.find(cluster_id);
  if (it != clusters_.end()) it->second.last_seen = clock_->Now();
}

std::vector<GitRepoRecord> FleetController::GitRepos() {
  absl::MutexLock lock(&mu_);
  std::vector<GitRepoRecord> out;
  for (const auto& [n, r] : repos_) out.push_back(r.record);
  return out;
}

std::vector<BundleRecord> FleetController::Bundles() {
  absl::MutexLock lock(&mu_);
  std::vector<BundleRecord> out;
  for (const auto& [n, b] : bundles_) out.push_back(b.record);
  return out;
}

std::vector<ClusterRecord> FleetController::Clusters() {
  absl::MutexLock lock(&mu_);
  std::vector<ClusterRecord> out;
  for (const auto& [id, c] : clusters_) out.push_back(c);
  return out;
}

std::vector<BundleDeploymentRecord> FleetController::BundleDeployments() {
  absl::MutexLock lock(&mu_);
  std::vector<BundleDeploymentRecord> out;
  for (const auto& [cid, m] : bds_) {
    auto held = held_.find(cid);
    for (const auto& [b, bd] : m) {
      out.push_back(bd);
      // A held update shows why it waits, over the running one's status.
      if (held != held_.end()) {
        auto why = held->second.find(b);
        if (why != held->second.end()) out.back().message = why->second;
      }
    }
  }
  return out;
}

std::string FleetController::FetchError(const std::string& gitrepo) {
  absl::MutexLock lock(&mu_);
  auto it = repos_.find(gitrepo);
  return it == repos_.end() ? "" : it->second.fetch_error;
}

bool FleetController::connected(const std::string& cluster_id) {
  absl::MutexLock lock(&mu_);
  return connected_.count(cluster_id) > 0;
}

size_t FleetController::connected_count() {
  absl::MutexLock lock(&mu_);
  return connected_.size();
}

}  // namespace flotilla::manager
