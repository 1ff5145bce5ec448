// AgentSession with the Kubernetes applier against the API double: the
// states an agent reports as the cluster's controllers move (NotReady until a
// Deployment rolls out, then Ready), drift corrected over another manager's
// edit, at most 10 resources per report, dependsOn checked on the agent, and
// deleteNamespace only once no other deployment uses the namespace.
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/apply/kube/kube_applier.h"
#include "agent/client/session.h"
#include "agent/state/agent_state.h"
#include "common/compress.h"
#include "common/hash.h"
#include "flotilla/v1/agent.pb.h"
#include "tests/support/kube_api_double.h"
#include "tests/support/test_util.h"

namespace flotilla::agent {
namespace {

namespace v1 = flotilla::v1;
using nlohmann::json;
using testing::KubeApiDouble;

std::string DeploymentYaml(const std::string& name, const std::string& ns = "apps") {
  return absl::StrCat(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: )",
                      name, "\n  namespace: ", ns, R"(
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - {name: web, image: "nginx:1.25"}
)");
}

std::string ConfigMapYaml(const std::string& name, const std::string& color,
                          const std::string& ns = "apps") {
  return absl::StrCat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ", name,
                      "\n  namespace: ", ns, "\ndata:\n  color: ", color, "\n");
}

json RolledOut(int n, int generation = 1) {
  return {{"observedGeneration", generation},
          {"replicas", n},
          {"updatedReplicas", n},
          {"readyReplicas", n},
          {"availableReplicas", n}};
}

// The agent process's parts, wired as main.cc wires them, over HTTPS to the
// double.
class KubeAgent {
 public:
  KubeAgent() {
    auto state = AgentState::Open(tmp_.Sub("state"));
    REQUIRE(state.ok());
    state_.emplace(*std::move(state));
    kube::KubeConfig config;
    config.server = api_.url();
    config.ca_pem = api_.ca_pem();
    config.token = "test-token";
    config.source = "test";
    auto client = kube::KubeClient::Create(config);
    REQUIRE(client.ok());
    applier_ = std::make_unique<kube::KubeApplier>(*std::move(client));
    session_ = std::make_unique<AgentSession>(&*state_, applier_.get(), "test");
  }

  KubeApiDouble& api() { return api_; }
  AgentSession& session() { return *session_; }
  AgentState& state() { return *state_; }

  // Sends one upsert with its content; returns the status it reports.
  v1::BundleDeploymentStatus Assign(const std::string& bundle, const std::string& yaml,
                                    const v1::DeploymentOptions& options = {}) {
    v1::Assignments a;
    a.set_nonce(absl::StrCat("n", ++nonce_));
    v1::Assignment* u = a.add_upserts();
    u->set_bundle_deployment_id(bundle);
    u->set_bundle_name(bundle);
    u->set_content_hash(common::Sha256Hex(yaml));
    u->set_deployment_id(
        absl::StrCat(common::Sha256Hex(yaml), ":", common::Sha256Hex(options.SerializeAsString())));
    *u->mutable_options() = options;
    v1::Content* c = a.add_contents();
    c->set_hash(common::Sha256Hex(yaml));
    c->set_zlib_data(common::ZlibCompress(yaml));
    c->set_uncompressed_size(yaml.size());
    std::optional<v1::BundleDeploymentStatus> status;
    for (const v1::AgentMessage& m : session_->HandleAssignments(a)) {
      if (m.has_ack()) CHECK(m.ack().ok());
      if (m.has_status()) status = m.status().statuses(0);
    }
    REQUIRE(status.has_value());
    return *status;
  }

  void Remove(const std::string& bundle) {
    v1::Assignments a;
    a.set_nonce(absl::StrCat("n", ++nonce_));
    a.add_removals(bundle);
    session_->HandleAssignments(a);
  }

  // The status a check reports for `bundle`, if it changed.
  std::optional<v1::BundleDeploymentStatus> Check(const std::string& bundle) {
    std::optional<v1::AgentMessage> report = session_->CheckDeployments();
    if (!report) return std::nullopt;
    for (const auto& s : report->status().statuses()) {
      if (s.bundle_deployment_id() == bundle) return s;
    }
    return std::nullopt;
  }

 private:
  testing::TempDir tmp_;
  KubeApiDouble api_;
  std::optional<AgentState> state_;
  std::unique_ptr<kube::KubeApplier> applier_;
  std::unique_ptr<AgentSession> session_;
  int nonce_ = 0;
};

TEST_CASE("a deployment is NotReady until its Deployment rolls out, then Ready", "[session-kube]") {
  KubeAgent agent;
  v1::BundleDeploymentStatus s = agent.Assign("web", DeploymentYaml("web"));
  CHECK(s.state() == v1::NOT_READY);
  CHECK_FALSE(s.ready());
  CHECK(s.message() == "1 resource(s) not ready; first: Deployment apps/web: Replicas: 0/2");
  REQUIRE(s.non_ready_size() == 1);
  CHECK(s.non_ready(0).api_version() == "apps/v1");
  CHECK(s.non_ready(0).namespace_() == "apps");
  CHECK(s.non_ready(0).message() == "Replicas: 0/2");
  CHECK(agent.session().Settling());

  // Nothing moved: nothing to report.
  CHECK_FALSE(agent.Check("web").has_value());

  agent.api().SetStatus("apps/v1", "Deployment", "apps", "web", RolledOut(2));
  std::optional<v1::BundleDeploymentStatus> ready = agent.Check("web");
  REQUIRE(ready.has_value());
  CHECK(ready->state() == v1::READY);
  CHECK(ready->ready());
  CHECK(ready->non_ready_size() == 0);
  CHECK(ready->message().empty());
  CHECK_FALSE(agent.session().Settling());
}

TEST_CASE("more than 10 resources not ready: the first 10 and incompleteState", "[session-kube]") {
  KubeAgent agent;
  std::string yaml;
  for (int i = 0; i < 12; ++i)
    absl::StrAppend(&yaml, "---\n", DeploymentYaml(absl::StrCat("w", i)));
  v1::BundleDeploymentStatus s = agent.Assign("many", yaml);
  CHECK(s.state() == v1::NOT_READY);
  CHECK(s.non_ready_size() == 10);
  CHECK(s.incomplete_state());
  CHECK(s.message() == "12 resource(s) not ready; first: Deployment apps/w0: Replicas: 0/2");
}

TEST_CASE("correctDrift takes back a field another manager changed; without it, Modified",
          "[session-kube]") {
  KubeAgent agent;
  v1::DeploymentOptions correct;
  correct.set_correct_drift(GENERATE(false, true));
  REQUIRE(agent.Assign("web", ConfigMapYaml("web", "blue"), correct).state() == v1::READY);
  json edited = *agent.api().Get("v1", "ConfigMap", "apps", "web");
  edited["data"]["color"] = "red";
  agent.api().Put(edited);  // as kubectl edit: the field now has another manager

  std::optional<v1::BundleDeploymentStatus> s = agent.Check("web");
  if (correct.correct_drift()) {
    // Corrected within the check: still Ready, nothing to report.
    CHECK_FALSE(s.has_value());
    CHECK((*agent.api().Get("v1", "ConfigMap", "apps", "web"))["data"]["color"] == "blue");
    CHECK(agent.session().drift_corrections() == 1);
  } else {
    REQUIRE(s.has_value());
    CHECK(s->state() == v1::MODIFIED);
    CHECK(s->ready());
    CHECK_FALSE(s->non_modified());
    REQUIRE(s->modified_size() == 1);
    CHECK(s->modified(0).message() == R"(modified {"data":{"color":"blue"}})");
    CHECK((*agent.api().Get("v1", "ConfigMap", "apps", "web"))["data"]["color"] == "red");
  }
}

TEST_CASE("comparePatches and ignore.conditions arrive with the options", "[session-kube]") {
  KubeAgent agent;
  v1::DeploymentOptions options;
  v1::ComparePatch* patch = options.add_compare_patches();
  patch->set_api_version("v1");
  patch->set_kind("ConfigMap");
  patch->set_name("web");
  v1::PatchOperation* op = patch->add_operations();
  op->set_op("remove");
  op->set_path("/data/color");
  REQUIRE(agent.Assign("web", ConfigMapYaml("web", "blue"), options).state() == v1::READY);
  json edited = *agent.api().Get("v1", "ConfigMap", "apps", "web");
  edited["data"]["color"] = "red";
  agent.api().Put(edited);
  CHECK_FALSE(agent.Check("web").has_value());  // still Ready
  CHECK(agent.state().Deployment("web")->state == v1::READY);
}

TEST_CASE("dependsOn is checked on the agent: applied once the dependency is Ready",
          "[session-kube]") {
  KubeAgent agent;
  REQUIRE(agent.Assign("db", DeploymentYaml("db")).state() == v1::NOT_READY);
  v1::DeploymentOptions options;
  options.add_depends_on()->set_bundle_name("db");
  v1::BundleDeploymentStatus app = agent.Assign("app", ConfigMapYaml("app", "blue"), options);
  CHECK(app.state() == v1::WAIT_APPLIED);
  CHECK(app.message() == "dependent bundle(s) are not ready: [db is NotReady]");
  CHECK(app.applied_deployment_id().empty());
  CHECK_FALSE(agent.api().Get("v1", "ConfigMap", "apps", "app").has_value());

  agent.api().SetStatus("apps/v1", "Deployment", "apps", "db", RolledOut(2));
  std::optional<v1::AgentMessage> report = agent.session().CheckDeployments();
  REQUIRE(report.has_value());
  std::optional<v1::BundleDeploymentStatus> app_now;
  for (const auto& s : report->status().statuses()) {
    if (s.bundle_deployment_id() == "app") app_now = s;
  }
  // Checks go in id order: "app" was looked at before "db" turned Ready, so
  // it goes out at the next check.
  if (!app_now) app_now = agent.Check("app");
  REQUIRE(app_now.has_value());
  CHECK(app_now->state() == v1::READY);
  CHECK_FALSE(app_now->applied_deployment_id().empty());
  CHECK(agent.api().Get("v1", "ConfigMap", "apps", "app").has_value());

  // A dependency that is not on this cluster at all.
  v1::DeploymentOptions missing;
  missing.add_depends_on()->set_bundle_name("cache");
  CHECK(agent.Assign("other", ConfigMapYaml("other", "red"), missing).message() ==
        "dependent bundle(s) are not ready: [cache is not on this cluster]");
}

TEST_CASE("deleteNamespace waits until no other deployment uses the namespace", "[session-kube]") {
  KubeAgent agent;
  v1::DeploymentOptions options;
  options.set_namespace_("team");
  options.set_delete_namespace(true);
  REQUIRE(agent.Assign("a", ConfigMapYaml("a", "blue", "team"), options).state() == v1::READY);
  REQUIRE(agent.Assign("b", ConfigMapYaml("b", "blue", "team"), options).state() == v1::READY);

  agent.Remove("a");
  CHECK_FALSE(agent.api().Get("v1", "ConfigMap", "team", "a").has_value());
  CHECK(agent.api().Get("v1", "Namespace", "", "team").has_value());  // b is still there

  agent.Remove("b");
  CHECK_FALSE(agent.api().Get("v1", "Namespace", "", "team").has_value());
}

TEST_CASE("a check the API server refuses: NotReady with the reason, objects left alone",
          "[session-kube]") {
  KubeAgent agent;
  REQUIRE(agent.Assign("web", ConfigMapYaml("web", "blue")).state() == v1::READY);
  agent.api().FailNext("GET", "/api/v1/namespaces/apps/configmaps", 403,
                       "configmaps is forbidden: the agent's role was edited");
  std::optional<v1::BundleDeploymentStatus> s = agent.Check("web");
  REQUIRE(s.has_value());
  CHECK(s->state() == v1::NOT_READY);
  CHECK(absl::StartsWith(s->message(), "cannot check the deployed resources: "));
  CHECK(s->message().find("the agent's role was edited") != std::string::npos);
  CHECK(agent.api().Get("v1", "ConfigMap", "apps", "web").has_value());
  // The next check succeeds: Ready again.
  s = agent.Check("web");
  REQUIRE(s.has_value());
  CHECK(s->state() == v1::READY);
}

}  // namespace
}  // namespace flotilla::agent
