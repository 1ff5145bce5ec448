// Test doubles for the CLI: a fake manager behind the FleetApi seam, and a
// harness that runs RunCli with CA and token files in a scratch directory.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/cli.h"
#include "cli/fleet_api.h"
#include "common/clock.h"

namespace flotilla::cli::testing {

// The manager as the CLI tests see it: canned answers and every request the
// CLI made. `error`, when set, fails every call with it.
struct FakeFleet {
  absl::Status error;
  v1::ListGitReposResponse gitrepos;
  v1::ListBundlesResponse bundles;
  v1::ListClustersResponse clusters;
  v1::ListBundleDeploymentsResponse bundle_deployments;
  v1::ListClusterGroupsResponse cluster_groups;
  v1::ListSecretsResponse secrets;
  v1::CreateRegistrationTokenResponse token;
  // Answers Apply; by default a created GitRepo named "gitrepo-<n>".
  std::function<absl::StatusOr<v1::ApplyResponse>(const v1::ApplyRequest&)> apply;
  // Answers Delete; by default OK.
  std::function<absl::Status(const v1::DeleteRequest&)> del;

  std::vector<v1::ApplyRequest> apply_requests;
  std::vector<v1::DeleteRequest> delete_requests;
  std::vector<v1::ListBundlesRequest> list_bundles_requests;
  std::vector<v1::ListBundleDeploymentsRequest> list_bundle_deployments_requests;
  std::vector<v1::LabelClusterRequest> label_requests;
  std::vector<v1::CreateRegistrationTokenRequest> token_requests;
  // The other calls: canned answers by method name (an empty message when
  // none is set), and every request as "Method: <text format>".
  std::map<std::string, std::string> answers;  // method -> serialized response
  std::map<std::string, absl::Status> errors;  // method -> its error
  std::vector<std::string> requests;
  int calls = 0;
};

// Serves a FakeFleet it does not own.
class FakeFleetApi : public FleetApi {
 public:
  explicit FakeFleetApi(FakeFleet& fleet) : fleet_(fleet) {}

  absl::StatusOr<v1::ApplyResponse> Apply(const v1::ApplyRequest& request) override {
    ++fleet_.calls;
    fleet_.apply_requests.push_back(request);
    if (!fleet_.error.ok()) return fleet_.error;
    if (fleet_.apply) return fleet_.apply(request);
    v1::ApplyResponse response;
    response.set_kind("GitRepo");
    response.set_name("gitrepo-" + std::to_string(fleet_.apply_requests.size()));
    response.set_outcome(v1::APPLY_OUTCOME_CREATED);
    return response;
  }
  absl::StatusOr<v1::DeleteResponse> Delete(const v1::DeleteRequest& request) override {
    ++fleet_.calls;
    fleet_.delete_requests.push_back(request);
    if (!fleet_.error.ok()) return fleet_.error;
    if (fleet_.del) {
      if (absl::Status status = fleet_.del(request); !status.ok()) return status;
    }
    return v1::DeleteResponse();
  }
  absl::StatusOr<v1::ListGitReposResponse> ListGitRepos(const v1::ListGitReposRequest&) override {
    return Answer(fleet_.gitrepos);
  }
  absl::StatusOr<v1::ListBundlesResponse> ListBundles(
      const v1::ListBundlesRequest& request) override {
    fleet_.list_bundles_requests.push_back(request);
    return Answer(fleet_.bundles);
  }
  absl::StatusOr<v1::ListClustersResponse> ListClusters(const v1::ListClustersRequest&) override {
    return Answer(fleet_.clusters);
  }
  absl::StatusOr<v1::ListBundleDeploymentsResponse> ListBundleDeployments(
      const v1::ListBundleDeploymentsRequest& request) override {
    fleet_.list_bundle_deployments_requests.push_back(request);
    return Answer(fleet_.bundle_deployments);
  }
  absl::StatusOr<v1::ListClusterGroupsResponse> ListClusterGroups(
      const v1::ListClusterGroupsRequest&) override {
    return Answer(fleet_.cluster_groups);
  }
  absl::StatusOr<v1::ListSecretsResponse> ListSecrets(const v1::ListSecretsRequest&) override {
    return Answer(fleet_.secrets);
  }
  absl::StatusOr<v1::Cluster> LabelCluster(const v1::LabelClusterRequest& request) override {
    fleet_.label_requests.push_back(request);
    v1::Cluster cluster;
    cluster.set_name(request.cluster());
    return Answer(cluster);
  }
  absl::StatusOr<v1::CreateRegistrationTokenResponse> CreateRegistrationToken(
      const v1::CreateRegistrationTokenRequest& request) override {
    fleet_.token_requests.push_back(request);
    return Answer(fleet_.token);
  }

  absl::StatusOr<v1::GitRepo> GetGitRepo(const v1::GetRequest& request) override {
    return Canned<v1::GitRepo>("GetGitRepo", request);
  }
  absl::StatusOr<v1::Bundle> GetBundle(const v1::GetRequest& request) override {
    return Canned<v1::Bundle>("GetBundle", request);
  }
  absl::StatusOr<v1::Cluster> GetCluster(const v1::GetRequest& request) override {
    return Canned<v1::Cluster>("GetCluster", request);
  }
  absl::StatusOr<v1::ClusterGroup> GetClusterGroup(const v1::GetRequest& request) override {
    return Canned<v1::ClusterGroup>("GetClusterGroup", request);
  }
  absl::StatusOr<v1::SetPausedResponse> SetPaused(const v1::SetPausedRequest& request) override {
    return Canned<v1::SetPausedResponse>("SetPaused", request);
  }
  absl::StatusOr<v1::ResyncResponse> Resync(const v1::ResyncRequest& request) override {
    return Canned<v1::ResyncResponse>("Resync", request);
  }
  absl::StatusOr<v1::Cluster> RevokeCluster(const v1::RevokeClusterRequest& request) override {
    return Canned<v1::Cluster>("RevokeCluster", request);
  }
  absl::StatusOr<v1::ListRegistrationTokensResponse> ListRegistrationTokens(
      const v1::ListRegistrationTokensRequest& request) override {
    return Canned<v1::ListRegistrationTokensResponse>("ListRegistrationTokens", request);
  }
  absl::StatusOr<v1::RevokeTokenResponse> RevokeRegistrationToken(
      const v1::RevokeTokenRequest& request) override {
    return Canned<v1::RevokeTokenResponse>("RevokeRegistrationToken", request);
  }
  absl::StatusOr<v1::CreateApiTokenResponse> CreateApiToken(
      const v1::CreateApiTokenRequest& request) override {
    return Canned<v1::CreateApiTokenResponse>("CreateApiToken", request);
  }
  absl::StatusOr<v1::ListApiTokensResponse> ListApiTokens(
      const v1::ListApiTokensRequest& request) override {
    return Canned<v1::ListApiTokensResponse>("ListApiTokens", request);
  }
  absl::StatusOr<v1::RevokeTokenResponse> RevokeApiToken(
      const v1::RevokeTokenRequest& request) override {
    return Canned<v1::RevokeTokenResponse>("RevokeApiToken", request);
  }
  absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& request) override {
    return Canned<v1::ListAuditResponse>("ListAudit", request);
  }

 private:
  template <typename T>
  absl::StatusOr<T> Canned(const std::string& method, const google::protobuf::Message& request) {
    fleet_.requests.push_back(method + ": " + request.ShortDebugString());
    if (auto e = fleet_.errors.find(method); e != fleet_.errors.end()) {
      ++fleet_.calls;
      return e->second;
    }
    T answer;
    if (auto a = fleet_.answers.find(method); a != fleet_.answers.end()) {
      answer.ParseFromString(a->second);
    }
    return Answer(answer);
  }
  template <typename T>
  absl::StatusOr<T> Answer(const T& value) {
    ++fleet_.calls;
    if (!fleet_.error.ok()) return fleet_.error;
    return value;
  }

  FakeFleet& fleet_;
};

// Hands out FakeFleetApis over one FakeFleet and records each connection.
class FakeFleetApiFactory : public FleetApiFactory {
 public:
  explicit FakeFleetApiFactory(FakeFleet& fleet) : fleet_(fleet) {}
  std::unique_ptr<FleetApi> Connect(const ConnectionConfig& config) override {
    connections.push_back(config);
    return std::make_unique<FakeFleetApi>(fleet_);
  }
  std::vector<ConnectionConfig> connections;

 private:
  FakeFleet& fleet_;
};

inline constexpr char kTestCaPem[] =
    "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
inline constexpr char kTestToken[] = "flta.abc123.s3cret";

// A fresh directory, removed with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "flotilla-cli-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  // Writes `content` to `name` in the directory; returns its path.
  std::string Write(const std::string& name, const std::string& content) const {
    std::string path = Path(name);
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// RunCli against a FakeFleet, with a simulated clock and, in `env`, valid
// FLOTILLA_CA_FILE and FLOTILLA_TOKEN_FILE.
class CliHarness {
 public:
  CliHarness() {
    env[kCaFileEnv] = dir.Write("ca.pem", kTestCaPem);
    env[kTokenFileEnv] = dir.Write("token", std::string(kTestToken) + "\n");
  }

  CliResult Run(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    std::ostringstream out;
    std::ostringstream err;
    CliResult result;
    result.exit_code = RunCli(args, in, out, err, env, factory, clock);
    result.out = out.str();
    result.err = err.str();
    return result;
  }

  ScratchDir dir;
  FakeFleet fleet;
  FakeFleetApiFactory factory{fleet};
  common::SimulatedClock clock{absl::FromUnixSeconds(1'700'000'000)};
  std::map<std::string, std::string> env;
};

}  // namespace flotilla::cli::testing
