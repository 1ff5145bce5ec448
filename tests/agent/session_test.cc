#include "agent/client/session.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/apply/dir_applier.h"
#include "agent/state/agent_state.h"
#include "common/compress.h"
#include "common/fs.h"
#include "common/hash.h"
#include "common/yaml.h"
#include "flotilla/v1/agent.pb.h"
#include "tests/support/test_util.h"

namespace flotilla::agent {
namespace {

namespace v1 = flotilla::v1;
using Catch::Matchers::StartsWith;

// Rendered manifests as the manager sends them: multi-document YAML.
constexpr char kWebV1[] = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: web
data:
  color: blue
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: web
spec:
  replicas: 2
)";

// The next version of the same bundle: the ConfigMap changes, the Deployment
// is gone.
constexpr char kWebV2[] = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: web
data:
  color: green
)";

constexpr char kOps[] = R"(apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
rules: []
)";

// Not YAML: a flow sequence that is never closed.
constexpr char kMalformed[] = R"(apiVersion: v1
kind: ConfigMap
metadata:
  name: [settings
data:
  color: red
)";

constexpr char kSettingsFile[] = "web/configmap/settings.yaml";
constexpr char kApiFile[] = "web/deployment/api.yaml";
constexpr char kReaderFile[] = "_cluster/clusterrole/reader.yaml";

std::string HashOf(const std::string& yaml) { return common::Sha256Hex(yaml); }

v1::DeploymentOptions CorrectDrift() {
  v1::DeploymentOptions o;
  o.set_correct_drift(true);
  return o;
}

v1::DeploymentOptions KeepResources() {
  v1::DeploymentOptions o;
  o.set_keep_resources(true);
  return o;
}

// One upsert as the manager builds it: the deployment id is
// "<content hash>:<options hash>".
v1::Assignment Upsert(const std::string& bd_id, const std::string& yaml,
                      const v1::DeploymentOptions& options = {}) {
  v1::Assignment a;
  a.set_bundle_deployment_id(bd_id);
  a.set_bundle_name(bd_id);
  a.set_gitrepo_name("repo");
  a.set_commit("0123abcd");
  a.set_content_hash(HashOf(yaml));
  a.set_deployment_id(HashOf(yaml) + ":" +
                      common::Sha256Hex(options.SerializeAsString()).substr(0, 16));
  *a.mutable_options() = options;
  return a;
}

// The manifest as the manager ships it (manager/server/agent_service.cc):
// zlib-compressed under its sha256.
void AddContent(v1::Assignments& a, const std::string& yaml) {
  v1::Content* c = a.add_contents();
  c->set_hash(HashOf(yaml));
  c->set_zlib_data(common::ZlibCompress(yaml));
  c->set_uncompressed_size(yaml.size());
}

v1::Assignments Message(const std::string& nonce, std::vector<v1::Assignment> upserts,
                        std::vector<std::string> contents = {},
                        std::vector<std::string> removals = {}) {
  v1::Assignments a;
  a.set_nonce(nonce);
  a.set_version(1);
  for (auto& u : upserts) *a.add_upserts() = std::move(u);
  for (const auto& yaml : contents) AddContent(a, yaml);
  for (const auto& id : removals) a.add_removals(id);
  return a;
}

// What a file of the target directory must hold for the `index`th document of
// `yaml`: the DirApplier writes each object in canonical YAML.
std::string ObjectYaml(const std::string& yaml, size_t index) {
  auto docs = common::ParseYamlDocuments(yaml, "expected");
  REQUIRE(docs.ok());
  REQUIRE(index < docs->size());
  return common::ToYaml((*docs)[index]);
}

std::map<std::string, std::string> HeldDeployments(const v1::AgentMessage& hello) {
  REQUIRE(hello.has_hello());
  return {hello.hello().deployments().begin(), hello.hello().deployments().end()};
}

std::vector<std::string> HeldContent(const v1::AgentMessage& hello) {
  REQUIRE(hello.has_hello());
  return {hello.hello().content_hashes().begin(), hello.hello().content_hashes().end()};
}

// An agent as agent_runner wires it: a real AgentState under a temporary state
// directory and a real DirApplier writing to a temporary target directory.
class Agent {
 public:
  Agent() : state_dir_(tmp_.Sub("state")), target_dir_(tmp_.Sub("target")) { Restart(); }

  // Drops the session, applier and state, and opens them again from disk, as
  // a restarted agent process does.
  void Restart() {
    session_.reset();
    applier_.reset();
    state_.reset();
    auto state = AgentState::Open(state_dir_);
    REQUIRE(state.ok());
    state_.emplace(*std::move(state));
    applier_ = std::make_unique<DirApplier>(target_dir_);
    session_ = std::make_unique<AgentSession>(&*state_, applier_.get(), "1.2.3-test");
  }

  AgentSession& session() { return *session_; }
  AgentState& state() { return *state_; }

  std::string Path(const std::string& rel) const { return target_dir_ + "/" + rel; }
  std::string Read(const std::string& rel) const {
    auto data = common::ReadFile(Path(rel));
    REQUIRE(data.ok());
    return *data;
  }
  void Write(const std::string& rel, const std::string& data) {
    REQUIRE(common::WriteFileAtomic(Path(rel), data).ok());
  }
  void Delete(const std::string& rel) {
    REQUIRE(common::PathExists(Path(rel)));
    REQUIRE(common::RemoveFile(Path(rel)).ok());
  }
  std::vector<std::string> Files() const {
    if (!common::PathExists(target_dir_)) return {};
    auto files = common::ListFilesRecursive(target_dir_);
    REQUIRE(files.ok());
    return *files;
  }

  // Handles a message that must be answered entirely with ACKs.
  std::vector<v1::AgentMessage> MustApply(const v1::Assignments& a) {
    auto out = session_->HandleAssignments(a);
    for (const auto& m : out) {
      if (m.has_ack()) {
        INFO("NACK " << m.ack().bundle_deployment_id() << ": " << m.ack().error());
        REQUIRE(m.ack().ok());
      }
    }
    return out;
  }

 private:
  testing::TempDir tmp_;
  std::string state_dir_;
  std::string target_dir_;
  std::optional<AgentState> state_;
  std::unique_ptr<DirApplier> applier_;
  std::unique_ptr<AgentSession> session_;
};

// The acks of a HandleAssignments answer, in order.
std::vector<v1::Ack> Acks(const std::vector<v1::AgentMessage>& out) {
  std::vector<v1::Ack> acks;
  for (const auto& m : out) {
    if (m.has_ack()) acks.push_back(m.ack());
  }
  return acks;
}

// The single status report of a HandleAssignments answer (always last).
v1::StatusReport StatusOfAnswer(const std::vector<v1::AgentMessage>& out) {
  REQUIRE_FALSE(out.empty());
  REQUIRE(out.back().has_status());
  return out.back().status();
}

// A new agent has nothing yet: its Hello names its version and neither
// deployments nor content, so the manager sends everything.
TEST_CASE("A fresh agent says hello with its version and holds nothing", "[session]") {
  Agent agent;

  v1::AgentMessage hello = agent.session().Hello();

  REQUIRE(hello.has_hello());
  CHECK(hello.hello().agent_version() == "1.2.3-test");
  CHECK(hello.hello().deployments().empty());
  CHECK(hello.hello().content_hashes().empty());
}

// The manager's first delta: two bundles with their compressed manifests.
// Every object lands in the target directory, and the answer is one ACK per
// assignment (in order, naming nonce, bundle deployment and deployment id),
// then one status report with both Ready.
TEST_CASE("Assignments with compressed content are applied, ACKed and reported Ready",
          "[session]") {
  Agent agent;
  v1::Assignment web = Upsert("web", kWebV1);
  v1::Assignment ops = Upsert("ops", kOps);

  auto out = agent.session().HandleAssignments(Message("nonce-1", {web, ops}, {kWebV1, kOps}));

  REQUIRE(out.size() == 3);
  auto acks = Acks(out);
  REQUIRE(acks.size() == 2);
  CHECK(acks[0].nonce() == "nonce-1");
  CHECK(acks[0].bundle_deployment_id() == "web");
  CHECK(acks[0].deployment_id() == web.deployment_id());
  CHECK(acks[0].ok());
  CHECK(acks[0].error().empty());
  CHECK(acks[1].nonce() == "nonce-1");
  CHECK(acks[1].bundle_deployment_id() == "ops");
  CHECK(acks[1].deployment_id() == ops.deployment_id());
  CHECK(acks[1].ok());

  v1::StatusReport report = StatusOfAnswer(out);
  REQUIRE(report.statuses_size() == 2);
  const auto& s0 = report.statuses(0);
  CHECK(s0.bundle_deployment_id() == "web");
  CHECK(s0.applied_deployment_id() == web.deployment_id());
  CHECK(s0.state() == v1::READY);
  CHECK(s0.ready());
  CHECK(s0.non_modified());
  CHECK(s0.message().empty());
  CHECK(s0.resource_count() == 2);
  const auto& s1 = report.statuses(1);
  CHECK(s1.bundle_deployment_id() == "ops");
  CHECK(s1.state() == v1::READY);
  CHECK(s1.resource_count() == 1);

  CHECK(agent.Files() == std::vector<std::string>{kReaderFile, kSettingsFile, kApiFile});
  CHECK(agent.Read(kSettingsFile) == ObjectYaml(kWebV1, 0));
  CHECK(agent.Read(kApiFile) == ObjectYaml(kWebV1, 1));
  CHECK(agent.Read(kReaderFile) == ObjectYaml(kOps, 0));
  CHECK(agent.session().applies_for_test() == 2);

  // The state records what was applied.
  auto rec = agent.state().Deployment("web");
  REQUIRE(rec.has_value());
  CHECK(rec->deployment_id == web.deployment_id());
  CHECK(rec->applied_deployment_id == web.deployment_id());
  CHECK(rec->content_hash == HashOf(kWebV1));
  CHECK(rec->applied_objects.size() == 2);
  CHECK(rec->state == v1::READY);
  CHECK(agent.state().GetContent(HashOf(kWebV1)).value_or("") == kWebV1);
}

// After applying, Hello names every applied deployment with its deployment
// id, and every cached content hash (sorted), so the manager resends nothing.
TEST_CASE("Hello lists the applied deployments and the cached content hashes", "[session]") {
  Agent agent;
  v1::Assignment web = Upsert("web", kWebV1);
  v1::Assignment ops = Upsert("ops", kOps);
  agent.MustApply(Message("n1", {web, ops}, {kWebV1, kOps}));

  v1::AgentMessage hello = agent.session().Hello();

  CHECK(HeldDeployments(hello) == std::map<std::string, std::string>{{"ops", ops.deployment_id()},
                                                                     {"web", web.deployment_id()}});
  std::vector<std::string> hashes = {HashOf(kWebV1), HashOf(kOps)};
  std::sort(hashes.begin(), hashes.end());
  CHECK(HeldContent(hello) == hashes);
  CHECK(agent.session().FullStatus().status().statuses_size() == 2);
}

// A bundle no longer targets this cluster: its objects are deleted, its
// record forgotten, and Hello stops naming it. Removals carry no ACK. The
// other bundle is untouched.
TEST_CASE("A removal deletes the deployment's objects and forgets it", "[session]") {
  Agent agent;
  agent.MustApply(Message("n1", {Upsert("web", kWebV1), Upsert("ops", kOps)}, {kWebV1, kOps}));

  auto out = agent.session().HandleAssignments(Message("n2", {}, {}, {"web"}));

  CHECK(out.empty());
  CHECK(agent.Files() == std::vector<std::string>{kReaderFile});
  CHECK_FALSE(agent.state().Deployment("web").has_value());
  CHECK(agent.state().Deployment("ops").has_value());
  v1::AgentMessage hello = agent.session().Hello();
  CHECK(HeldDeployments(hello).count("web") == 0);
  CHECK(HeldDeployments(hello).count("ops") == 1);
  // The cache is pruned by the runner before the next Hello, not here.
  CHECK(agent.state().HasContent(HashOf(kWebV1)));

  // Removing what the agent does not hold is a no-op.
  CHECK(agent.session().HandleAssignments(Message("n3", {}, {}, {"web", "never-seen"})).empty());
  CHECK(agent.Files() == std::vector<std::string>{kReaderFile});
}

// keepResources: the deployment is forgotten but its objects stay on the
// cluster.
TEST_CASE("A removal of a deployment with keepResources leaves its objects", "[session]") {
  Agent agent;
  agent.MustApply(Message("n1", {Upsert("web", kWebV1, KeepResources())}, {kWebV1}));

  auto out = agent.session().HandleAssignments(Message("n2", {}, {}, {"web"}));

  CHECK(out.empty());
  CHECK_FALSE(agent.state().Deployment("web").has_value());
  CHECK(agent.Files() == std::vector<std::string>{kSettingsFile, kApiFile});
}

// A new version of a bundle: changed objects are rewritten, objects that left
// the bundle are pruned.
TEST_CASE("An updated deployment rewrites changed objects and prunes removed ones", "[session]") {
  Agent agent;
  agent.MustApply(Message("n1", {Upsert("web", kWebV1)}, {kWebV1}));
  v1::Assignment v2 = Upsert("web", kWebV2);

  auto out = agent.MustApply(Message("n2", {v2}, {kWebV2}));

  REQUIRE(out.size() == 2);
  CHECK(Acks(out)[0].deployment_id() == v2.deployment_id());
  v1::StatusReport report = StatusOfAnswer(out);
  REQUIRE(report.statuses_size() == 1);
  CHECK(report.statuses(0).state() == v1::READY);
  CHECK(report.statuses(0).applied_deployment_id() == v2.deployment_id());
  CHECK(report.statuses(0).resource_count() == 1);
  CHECK(agent.Files() == std::vector<std::string>{kSettingsFile});
  CHECK(agent.Read(kSettingsFile) == ObjectYaml(kWebV2, 0));
  CHECK(agent.session().applies_for_test() == 2);
}

// A new version whose manifests cannot be used is NACKed with the reason;
// the agent keeps running what it applied before (files untouched), reports
// ErrApplied with the previously applied deployment id, and does not claim
// the new deployment in Hello, so the manager will resend it.
TEST_CASE("Unusable manifests are NACKed naming the problem and the previous version stays",
          "[session]") {
  Agent agent;
  v1::Assignment good = Upsert("web", kWebV1);
  agent.MustApply(Message("n1", {good}, {kWebV1}));

  std::string bad_yaml;
  std::string want_error;
  SECTION("malformed YAML") {
    bad_yaml = kMalformed;
    // ParseYamlDocuments names the bundle deployment as the file, with the
    // line and column.
    want_error = "web:";
  }
  SECTION("a YAML document that is not a Kubernetes object") {
    bad_yaml = "apiVersion: v1\nmetadata:\n  name: no-kind\n";
    want_error = "apply object #1: object no-kind has no kind";
  }
  v1::Assignment bad = Upsert("web", bad_yaml);

  auto out = agent.session().HandleAssignments(Message("n2", {bad}, {bad_yaml}));

  REQUIRE(out.size() == 2);
  auto acks = Acks(out);
  REQUIRE(acks.size() == 1);
  CHECK(acks[0].nonce() == "n2");
  CHECK(acks[0].bundle_deployment_id() == "web");
  CHECK(acks[0].deployment_id() == bad.deployment_id());
  CHECK_FALSE(acks[0].ok());
  CHECK_THAT(acks[0].error(), StartsWith(want_error));

  v1::StatusReport report = StatusOfAnswer(out);
  REQUIRE(report.statuses_size() == 1);
  const auto& s = report.statuses(0);
  CHECK(s.state() == v1::ERR_APPLIED);
  CHECK_FALSE(s.ready());
  CHECK(s.message() == acks[0].error());
  CHECK(s.applied_deployment_id() == good.deployment_id());
  CHECK(s.resource_count() == 2);

  CHECK(agent.Files() == std::vector<std::string>{kSettingsFile, kApiFile});
  CHECK(agent.Read(kSettingsFile) == ObjectYaml(kWebV1, 0));
  CHECK(agent.Read(kApiFile) == ObjectYaml(kWebV1, 1));
  CHECK(HeldDeployments(agent.session().Hello()).count("web") == 0);
  auto rec = agent.state().Deployment("web");
  REQUIRE(rec.has_value());
  CHECK(rec->applied_deployment_id == good.deployment_id());
  CHECK(rec->state == v1::ERR_APPLIED);
}

// The YAML error carries the file (the bundle deployment), line and column,
// so the author can find it.
TEST_CASE("A YAML syntax error NACK names the bundle deployment, line and column", "[session]") {
  Agent agent;
  auto out =
      agent.session().HandleAssignments(Message("n1", {Upsert("web", kMalformed)}, {kMalformed}));

  auto acks = Acks(out);
  REQUIRE(acks.size() == 1);
  CHECK_FALSE(acks[0].ok());
  CHECK(acks[0].error() == "web:5:5: end of sequence flow not found");
  CHECK(agent.Files().empty());
  CHECK(agent.session().applies_for_test() == 0);
}

// Content that does not arrive intact: its hash does not match, or the zlib
// stream is damaged. The upsert using it is NACKed with the reason, nothing
// of it is cached, and the previous version stays applied.
TEST_CASE("Content that fails its hash or does not inflate is NACKed and not applied",
          "[session]") {
  Agent agent;
  v1::Assignment good = Upsert("web", kWebV1);
  agent.MustApply(Message("n1", {good}, {kWebV1}));
  v1::Assignment next = Upsert("web", kWebV2);
  v1::Assignments msg = Message("n2", {next});
  v1::Content* c = msg.add_contents();
  c->set_hash(HashOf(kWebV2));
  std::string want_error;

  SECTION("the hash does not match the content") {
    std::string tampered = std::string(kWebV2) + "# tampered\n";
    c->set_zlib_data(common::ZlibCompress(tampered));
    want_error = "content hash mismatch: expected " + HashOf(kWebV2) + ", got " + HashOf(tampered);
  }
  SECTION("the zlib stream is corrupt") {
    c->set_zlib_data("definitely not zlib");
    want_error = "corrupt compressed content: incorrect header check";
  }
  SECTION("the zlib stream is truncated") {
    std::string z = common::ZlibCompress(kWebV2);
    c->set_zlib_data(z.substr(0, z.size() / 2));
    want_error = "compressed content is truncated";
  }

  auto out = agent.session().HandleAssignments(msg);

  auto acks = Acks(out);
  REQUIRE(acks.size() == 1);
  CHECK_FALSE(acks[0].ok());
  CHECK(acks[0].deployment_id() == next.deployment_id());
  CHECK(acks[0].error() == want_error);
  v1::StatusReport report = StatusOfAnswer(out);
  REQUIRE(report.statuses_size() == 1);
  CHECK(report.statuses(0).state() == v1::ERR_APPLIED);
  CHECK(report.statuses(0).message() == want_error);
  CHECK(report.statuses(0).applied_deployment_id() == good.deployment_id());

  CHECK_FALSE(agent.state().HasContent(HashOf(kWebV2)));
  CHECK(HeldContent(agent.session().Hello()) == std::vector<std::string>{HashOf(kWebV1)});
  CHECK(agent.Files() == std::vector<std::string>{kSettingsFile, kApiFile});
  CHECK(agent.Read(kSettingsFile) == ObjectYaml(kWebV1, 0));
  CHECK(agent.session().applies_for_test() == 1);
}

// An upsert naming content the message does not carry and the cache does
// not hold cannot be applied: NACK saying so. Nothing is applied, Hello does
// not claim it, and a later message that carries the content applies it.
TEST_CASE("An upsert whose content was neither sent nor cached is NACKed", "[session]") {
  Agent agent;
  v1::Assignment web = Upsert("web", kWebV1);

  auto out = agent.session().HandleAssignments(Message("n1", {web}));

  auto acks = Acks(out);
  REQUIRE(acks.size() == 1);
  CHECK_FALSE(acks[0].ok());
  CHECK(acks[0].error() == "content " + HashOf(kWebV1) + " was neither sent nor cached");
  v1::StatusReport report = StatusOfAnswer(out);
  REQUIRE(report.statuses_size() == 1);
  CHECK(report.statuses(0).state() == v1::ERR_APPLIED);
  CHECK(report.statuses(0).applied_deployment_id().empty());
  CHECK(report.statuses(0).resource_count() == 0);
  CHECK(agent.Files().empty());
  CHECK(agent.session().applies_for_test() == 0);
  CHECK(HeldDeployments(agent.session().Hello()).empty());

  auto retry = agent.MustApply(Message("n2", {web}, {kWebV1}));

  CHECK(StatusOfAnswer(retry).statuses(0).state() == v1::READY);
  CHECK(agent.Files() == std::vector<std::string>{kSettingsFile, kApiFile});
  CHECK(agent.session().applies_for_test() == 1);
}

// Content is sent at most once per agent: a second bundle using content the
// agent already cached is applied from the cache.
TEST_CASE("An upsert of content already cached needs no content in the message", "[session]") {
  Agent agent;
  agent.MustApply(Message("n1", {Upsert("web", kWebV2)}, {kWebV2}));
  // A different bundle with the very same manifests (same objects, so the
  // same files).
  auto out = agent.MustApply(Message("n2", {Upsert("web-copy", kWebV2)}));

  CHECK(Acks(out).size() == 1);
  CHECK(StatusOfAnswer(out).statuses(0).state() == v1::READY);
  CHECK(agent.session().applies_for_test() == 2);
}

// The same Assignments again (a duplicate delivery): every assignment is ACKed
// and reported Ready again, but nothing is re-applied, with or without the
// content in the message.
TEST_CASE("A repeated identical Assignments is ACKed without applying again", "[session]") {
  Agent agent;
  v1::Assignments msg = Message("n1", {Upsert("web", kWebV1), Upsert("ops", kOps)}, {kWebV1, kOps});
  agent.MustApply(msg);
  REQUIRE(agent.session().applies_for_test() == 2);

  auto again = agent.MustApply(msg);

  CHECK(agent.session().applies_for_test() == 2);
  REQUIRE(again.size() == 3);
  CHECK(Acks(again).size() == 2);
  v1::StatusReport report = StatusOfAnswer(again);
  REQUIRE(report.statuses_size() == 2);
  CHECK(report.statuses(0).state() == v1::READY);
  CHECK(report.statuses(1).state() == v1::READY);

  v1::Assignments without_content = msg;
  without_content.clear_contents();
  agent.MustApply(without_content);
  CHECK(agent.session().applies_for_test() == 2);
  CHECK(agent.Files() == std::vector<std::string>{kReaderFile, kSettingsFile, kApiFile});
}

// Nothing touched the target: CheckDeployments has nothing to report and applies
// nothing.
TEST_CASE("CheckDeployments reports nothing when the target matches what was applied",
          "[session]") {
  Agent agent;
  agent.MustApply(
      Message("n1", {Upsert("web", kWebV1, CorrectDrift()), Upsert("ops", kOps)}, {kWebV1, kOps}));

  CHECK_FALSE(agent.session().CheckDeployments().has_value());
  CHECK(agent.session().applies_for_test() == 2);
}

// correctDrift: someone deleted or edited an applied object; CheckDeployments puts
// it back as it was applied. The deployment was Ready and is Ready again, so
// no state changed and there is no status report to send.
TEST_CASE("CheckDeployments with correctDrift restores a deleted or modified object", "[session]") {
  Agent agent;
  agent.MustApply(Message("n1", {Upsert("web", kWebV1, CorrectDrift())}, {kWebV1}));
  std::string drifted_file;

  SECTION("a deleted object") {
    drifted_file = kSettingsFile;
    agent.Delete(kSettingsFile);
  }
  SECTION("a modified object") {
    drifted_file = kApiFile;
    agent.Write(kApiFile, "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 9\n");
  }

  std::optional<v1::AgentMessage> report = agent.session().CheckDeployments();

  CHECK_FALSE(report.has_value());
  CHECK(agent.session().applies_for_test() == 2);
  CHECK(agent.Files() == std::vector<std::string>{kSettingsFile, kApiFile});
  CHECK(agent.Read(kSettingsFile) == ObjectYaml(kWebV1, 0));
  CHECK(agent.Read(kApiFile) == ObjectYaml(kWebV1, 1));
  auto rec = agent.state().Deployment("web");
  REQUIRE(rec.has_value());
  CHECK(rec->state == v1::READY);
  CHECK(rec->message.empty());
  CHECK(rec->applied_deployment_id == rec->deployment_id);

  // Corrected: the next check finds nothing.
  CHECK_FALSE(agent.session().CheckDeployments().has_value());
  CHECK(agent.session().applies_for_test() == 2);
}

// Without correctDrift the drift is left alone but reported: Modified, not
// ready, naming how many objects and the first one. The state persists, and
// the report is sent once per change, and again when the drift goes away.
TEST_CASE("CheckDeployments without correctDrift reports Modified and leaves the target alone",
          "[session]") {
  Agent agent;
  v1::Assignment web = Upsert("web", kWebV1);
  agent.MustApply(Message("n1", {web, Upsert("ops", kOps)}, {kWebV1, kOps}));
  const std::string edited = "apiVersion: v1\nkind: ConfigMap\ndata:\n  color: red\n";
  agent.Write(kSettingsFile, edited);

  std::optional<v1::AgentMessage> report = agent.session().CheckDeployments();

  REQUIRE(report.has_value());
  REQUIRE(report->has_status());
  REQUIRE(report->status().statuses_size() == 1);
  const auto& s = report->status().statuses(0);
  CHECK(s.bundle_deployment_id() == "web");
  CHECK(s.state() == v1::MODIFIED);
  CHECK(s.ready());  // its resources are ready, only modified
  CHECK_FALSE(s.non_modified());
  const std::string patch =
      R"(modified {"data":{"color":"blue"},"metadata":{"name":"settings","namespace":"web"}})";
  CHECK(s.message() == "1 resource(s) modified; first: ConfigMap web/settings: " + patch);
  REQUIRE(s.modified_size() == 1);
  CHECK(s.modified(0).kind() == "ConfigMap");
  CHECK(s.modified(0).namespace_() == "web");
  CHECK(s.modified(0).name() == "settings");
  CHECK(s.modified(0).message() == patch);
  CHECK(s.non_ready_size() == 0);
  CHECK_FALSE(s.incomplete_state());
  CHECK(s.applied_deployment_id() == web.deployment_id());
  CHECK(agent.Read(kSettingsFile) == edited);
  CHECK(agent.session().applies_for_test() == 2);
  {
    auto rec = agent.state().Deployment("web");
    REQUIRE(rec.has_value());
    CHECK(rec->state == v1::MODIFIED);
  }
  // Still held: the deployment is applied, only drifted.
  CHECK(HeldDeployments(agent.session().Hello()).count("web") == 1);

  // Nothing changed since: nothing to report.
  CHECK_FALSE(agent.session().CheckDeployments().has_value());

  // More drift changes the message: reported again.
  agent.Delete(kApiFile);
  auto more = agent.session().CheckDeployments();
  REQUIRE(more.has_value());
  REQUIRE(more->status().statuses_size() == 1);
  CHECK(more->status().statuses(0).state() == v1::MODIFIED);
  CHECK(more->status().statuses(0).message() ==
        "2 resource(s) modified; first: ConfigMap web/settings: " + patch);
  REQUIRE(more->status().statuses(0).modified_size() == 2);
  CHECK(more->status().statuses(0).modified(1).message() == "missing");
  CHECK_FALSE(common::PathExists(agent.Path(kApiFile)));

  // The operator puts the objects back by hand: Ready again, reported.
  agent.Write(kSettingsFile, ObjectYaml(kWebV1, 0));
  agent.Write(kApiFile, ObjectYaml(kWebV1, 1));
  auto healed = agent.session().CheckDeployments();
  REQUIRE(healed.has_value());
  REQUIRE(healed->status().statuses_size() == 1);
  CHECK(healed->status().statuses(0).state() == v1::READY);
  CHECK(healed->status().statuses(0).ready());
  CHECK(healed->status().statuses(0).message().empty());
  CHECK(healed->status().statuses(0).modified_size() == 0);
  CHECK(agent.session().applies_for_test() == 2);
}

// The agent restarts: the state directory still knows what was applied, so
// Hello names the same deployments and content hashes as before, the same
// Assignments are not applied again, and drift correction still works.
TEST_CASE("After a restart Hello lists the same deployments and content hashes", "[session]") {
  Agent agent;
  v1::Assignments msg =
      Message("n1", {Upsert("web", kWebV1, CorrectDrift()), Upsert("ops", kOps)}, {kWebV1, kOps});
  agent.MustApply(msg);
  v1::AgentMessage before = agent.session().Hello();
  REQUIRE(HeldDeployments(before).size() == 2);
  REQUIRE(HeldContent(before).size() == 2);

  agent.Restart();

  v1::AgentMessage after = agent.session().Hello();
  CHECK(HeldDeployments(after) == HeldDeployments(before));
  CHECK(HeldContent(after) == HeldContent(before));
  CHECK(after.hello().agent_version() == "1.2.3-test");

  v1::Assignments without_content = msg;
  without_content.clear_contents();
  agent.MustApply(without_content);
  CHECK(agent.session().applies_for_test() == 0);

  agent.Delete(kApiFile);
  CHECK_FALSE(agent.session().CheckDeployments().has_value());
  CHECK(agent.Read(kApiFile) == ObjectYaml(kWebV1, 1));
  CHECK(agent.session().applies_for_test() == 1);

  v1::AgentMessage full = agent.session().FullStatus();
  REQUIRE(full.status().statuses_size() == 2);
  for (const auto& s : full.status().statuses()) {
    INFO(s.bundle_deployment_id());
    CHECK(s.state() == v1::READY);
  }
}

// A newer version that cannot be applied leaves the last good one running;
// drift correction keeps that one correct, and its content survives pruning.
TEST_CASE("A failed update keeps correcting drift of what is still running", "[session]") {
  Agent agent;
  agent.MustApply(Message("n1", {Upsert("web", kWebV1, CorrectDrift())}, {kWebV1}));
  auto nack = agent.session().HandleAssignments(
      Message("n2", {Upsert("web", kMalformed, CorrectDrift())}, {kMalformed}));
  REQUIRE(Acks(nack).size() == 1);
  REQUIRE_FALSE(Acks(nack)[0].ok());

  REQUIRE(agent.state().PruneContent().ok());
  agent.Delete(kSettingsFile);
  CHECK_FALSE(agent.session().CheckDeployments().has_value());  // state stays ErrApplied

  CHECK(agent.Read(kSettingsFile) == ObjectYaml(kWebV1, 0));
  auto rec = agent.state().Deployment("web");
  REQUIRE(rec.has_value());
  CHECK(rec->state == v1::ERR_APPLIED);
  CHECK(rec->applied_content_hash == HashOf(kWebV1));
  CHECK(agent.state().HasContent(HashOf(kWebV1)));
}

// Re-sending what already runs must not hide drift found by CheckDeployments.
TEST_CASE("A repeated Assignments keeps a Modified state the drift check found", "[session]") {
  Agent agent;
  v1::Assignments msg = Message("n1", {Upsert("web", kWebV1)}, {kWebV1});
  agent.MustApply(msg);
  agent.Write(kSettingsFile, "apiVersion: v1\nkind: ConfigMap\ndata:\n  color: red\n");
  REQUIRE(agent.session().CheckDeployments().has_value());

  auto again = agent.MustApply(msg);
  v1::StatusReport report = StatusOfAnswer(again);
  REQUIRE(report.statuses_size() == 1);
  CHECK(report.statuses(0).state() == v1::MODIFIED);
}

// Content the agent already holds was verified when it arrived: a corrupt
// resend of the same hash changes nothing.
TEST_CASE("A corrupt resend of cached content does not NACK a running deployment", "[session]") {
  Agent agent;
  agent.MustApply(Message("n1", {Upsert("web", kWebV1)}, {kWebV1}));
  v1::Assignments resend = Message("n2", {Upsert("web", kWebV1)});
  v1::Content* c = resend.add_contents();
  c->set_hash(HashOf(kWebV1));
  c->set_zlib_data("not zlib");
  auto out = agent.MustApply(resend);
  CHECK(StatusOfAnswer(out).statuses(0).state() == v1::READY);
}

}  // namespace
}  // namespace flotilla::agent
