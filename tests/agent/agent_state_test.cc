#include "agent/state/agent_state.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "common/fs.h"
#include "common/hash.h"

namespace flotilla::agent {
namespace {

// A fresh directory under $TMPDIR, removed with everything in it.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = getenv("TMPDIR");
    std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/agent_state_test.XXXXXX";
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 07777);
}

AgentState OpenState(const std::string& dir) {
  auto state = AgentState::Open(dir);
  REQUIRE(state.ok());
  return *std::move(state);
}

DeploymentRecord FullRecord(const std::string& id, const std::string& content_hash) {
  DeploymentRecord r;
  r.bundle_deployment_id = id;
  r.bundle_name = "guestbook";
  r.deployment_id = "s-42:abc";
  r.content_hash = content_hash;
  r.options_json = R"({"defaultNamespace":"web"})";
  r.applied_deployment_id = "s-41:def";
  r.applied_objects = {{"v1", "ConfigMap", "web", "settings"},
                       {"rbac.authorization.k8s.io/v1", "ClusterRole", "", "reader"}};
  r.state = 3;
  r.message = "Deployment web/api: 1 of 2 replicas ready";
  return r;
}

void CheckSameRecord(const DeploymentRecord& a, const DeploymentRecord& b) {
  CHECK(a.bundle_deployment_id == b.bundle_deployment_id);
  CHECK(a.bundle_name == b.bundle_name);
  CHECK(a.deployment_id == b.deployment_id);
  CHECK(a.content_hash == b.content_hash);
  CHECK(a.options_json == b.options_json);
  CHECK(a.applied_deployment_id == b.applied_deployment_id);
  CHECK(a.applied_objects == b.applied_objects);
  CHECK(a.state == b.state);
  CHECK(a.message == b.message);
}

// The agent restarts: every field of every deployment record is read back
// from deployments.json as it was written, and removals persist too.
TEST_CASE("Deployment records survive reopening the state directory with every field") {
  ScratchDir tmp;
  std::string dir = tmp.path() + "/state";
  DeploymentRecord a = FullRecord("bd-a", std::string(64, 'a'));
  DeploymentRecord b = FullRecord("bd-b", std::string(64, 'b'));
  b.applied_objects.clear();
  b.state = 0;
  {
    AgentState state = OpenState(dir);
    REQUIRE(state.PutDeployment(a).ok());
    REQUIRE(state.PutDeployment(b).ok());
  }

  AgentState reopened = OpenState(dir);

  REQUIRE(reopened.deployments().size() == 2);
  auto got_a = reopened.Deployment("bd-a");
  REQUIRE(got_a.has_value());
  CheckSameRecord(*got_a, a);
  auto got_b = reopened.Deployment("bd-b");
  REQUIRE(got_b.has_value());
  CheckSameRecord(*got_b, b);
  CHECK_FALSE(reopened.Deployment("bd-c").has_value());

  REQUIRE(reopened.RemoveDeployment("bd-a").ok());
  REQUIRE(reopened.RemoveDeployment("bd-missing").ok());
  AgentState again = OpenState(dir);
  CHECK(again.deployments().size() == 1);
  CHECK(again.deployments().count("bd-b") == 1);
}

// deployments.json was truncated by a full disk or edited badly: opening
// fails with DataLoss naming the file and telling the operator what to do.
TEST_CASE("A corrupt deployments.json is reported as DataLoss naming the file") {
  ScratchDir tmp;
  std::string path = tmp.path() + "/deployments.json";
  auto content = GENERATE(as<std::string>{}, R"({"bd-a": {"bundle_name": )", "[1, 2]",
                          R"({"bd-a": "not a record"})", R"({"bd-a": {"state": "three"}})");
  CAPTURE(content);
  REQUIRE(common::WriteFileAtomic(path, content).ok());

  auto state = AgentState::Open(tmp.path());

  REQUIRE(state.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(state.status().message()),
             Catch::StartsWith("state file " + path + " is corrupt: ") &&
                 Catch::EndsWith("; move it away to resync from the manager"));
}

// First start: the state directory is created private to the agent's user.
TEST_CASE("Opening creates a missing state directory with mode 0700") {
  ScratchDir tmp;
  std::string dir = tmp.path() + "/nested/state";

  AgentState state = OpenState(dir);

  CHECK(state.dir() == dir);
  CHECK(ModeOf(dir) == 0700);
  CHECK(state.deployments().empty());
}

// The private key must not be readable by other users; certificates may be.
TEST_CASE("key.pem is written with mode 0600 and other files with 0644") {
  ScratchDir tmp;
  AgentState state = OpenState(tmp.path());

  REQUIRE(state.WriteFile("key.pem", "-----BEGIN PRIVATE KEY-----\n").ok());
  REQUIRE(state.WriteFile("cert.pem", "-----BEGIN CERTIFICATE-----\n").ok());

  CHECK(ModeOf(tmp.path() + "/key.pem") == 0600);
  CHECK(ModeOf(tmp.path() + "/cert.pem") == 0644);
  auto key = state.ReadFileIfExists("key.pem");
  REQUIRE(key.ok());
  CHECK(*key == std::optional<std::string>("-----BEGIN PRIVATE KEY-----\n"));
}

// Before registration there are no credentials: reading one gives nullopt,
// not an error. A name that would leave the directory is refused.
TEST_CASE("Reading a missing state file gives nullopt") {
  ScratchDir tmp;
  AgentState state = OpenState(tmp.path());

  auto missing = state.ReadFileIfExists("ca.crt");

  REQUIRE(missing.ok());
  CHECK_FALSE(missing->has_value());
  CHECK(state.ReadFileIfExists("../etc/passwd").status().code() ==
        absl::StatusCode::kInvalidArgument);
}

// Registration stores the cluster id and name; a restart reads them back.
TEST_CASE("The identity round-trips through identity.json") {
  ScratchDir tmp;
  {
    AgentState state = OpenState(tmp.path());
    auto none = state.LoadIdentity();
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
    REQUIRE(state.SaveIdentity({"c-7f3a", "edge-paris-1"}).ok());
  }

  AgentState reopened = OpenState(tmp.path());
  auto id = reopened.LoadIdentity();

  REQUIRE(id.ok());
  REQUIRE(id->has_value());
  CHECK((*id)->cluster_id == "c-7f3a");
  CHECK((*id)->cluster_name == "edge-paris-1");
}

// Manifests fetched from the manager are cached under their sha256 and read
// back byte for byte.
TEST_CASE("Content is stored under its hash and read back") {
  ScratchDir tmp;
  AgentState state = OpenState(tmp.path());
  std::string data = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
  std::string hash = common::Sha256Hex(data);
  CHECK_FALSE(state.HasContent(hash));

  REQUIRE(state.PutContent(hash, data).ok());

  CHECK(state.HasContent(hash));
  CHECK(common::PathExists(tmp.path() + "/content/" + hash));
  auto got = state.GetContent(hash);
  REQUIRE(got.ok());
  CHECK(*got == data);
  CHECK(state.ContentHashes() == std::vector<std::string>{hash});
  CHECK(state.GetContent(std::string(64, '0')).status().code() == absl::StatusCode::kNotFound);
}

// Content whose bytes do not hash to the claimed name is refused and not
// stored (it could be a corrupted or substituted download).
TEST_CASE("Content whose sha256 differs from the claimed hash is rejected") {
  ScratchDir tmp;
  AgentState state = OpenState(tmp.path());
  std::string claimed = common::Sha256Hex("the real manifest");

  absl::Status st = state.PutContent(claimed, "something else");

  REQUIRE(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(st.message() == "content hash mismatch: expected " + claimed + ", got " +
                            common::Sha256Hex("something else"));
  CHECK_FALSE(state.HasContent(claimed));
  CHECK(state.ContentHashes().empty());
}

// The hash becomes a file name, so anything but 64 lowercase hex characters is
// refused before the filesystem is touched.
TEST_CASE("A content hash that is not 64 lowercase hex characters is rejected") {
  ScratchDir tmp;
  AgentState state = OpenState(tmp.path());
  auto hash = GENERATE(as<std::string>{}, "../../key.pem", std::string(63, 'a'),
                       std::string(65, 'a'), std::string(64, 'A'), std::string(64, 'g'), "");
  CAPTURE(hash);

  absl::Status put = state.PutContent(hash, "data");
  auto get = state.GetContent(hash);

  REQUIRE(put.code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(put.message()), Catch::StartsWith("invalid content hash"));
  CHECK(get.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_FALSE(state.HasContent(hash));
}

// Two bundles' content is cached but only one deployment still refers to
// its hash: pruning keeps that one and deletes the other.
TEST_CASE("PruneContent keeps referenced content and removes the rest") {
  ScratchDir tmp;
  AgentState state = OpenState(tmp.path());
  std::string kept = "kind: ConfigMap\n";
  std::string dropped = "kind: Secret\n";
  REQUIRE(state.PutContent(common::Sha256Hex(kept), kept).ok());
  REQUIRE(state.PutContent(common::Sha256Hex(dropped), dropped).ok());
  REQUIRE(state.PutDeployment(FullRecord("bd-a", common::Sha256Hex(kept))).ok());

  REQUIRE(state.PruneContent().ok());

  CHECK(state.ContentHashes() == std::vector<std::string>{common::Sha256Hex(kept)});
  CHECK(state.HasContent(common::Sha256Hex(kept)));
  CHECK_FALSE(state.HasContent(common::Sha256Hex(dropped)));
}

}  // namespace
}  // namespace flotilla::agent
