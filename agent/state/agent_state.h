// The agent's local state under --state-dir, kept across restarts:
//   key.pem (0600)      the agent's private key; never leaves the machine
//   cert.pem            its client certificate
//   ca.crt              the manager's server CA (trusted for TLS)
//   agent-ca.crt        the CA that signed cert.pem
//   identity.json       {"cluster_id": ..., "cluster_name": ...}
//   deployments.json    per BundleDeployment: deployment id, content hash,
//                       options, applied objects, last state and message
//   content/<hash>      cached rendered manifests (plain YAML)
// Every file is written atomically (write temp, fsync, rename).
//
// Threading: not thread-safe; owned by the agent's apply worker.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/apply/applier.h"

namespace flotilla::agent {

struct Identity {
  std::string cluster_id;
  std::string cluster_name;
};

struct DeploymentRecord {
  std::string bundle_deployment_id;
  std::string bundle_name;
  std::string deployment_id;  // assigned by the manager
  std::string content_hash;
  std::string options_json;           // flotilla.v1.DeploymentOptions as JSON
  std::string applied_deployment_id;  // what was last applied successfully
  // The content and options of that last successful apply: what drift is
  // checked against while a newer deployment fails to apply.
  std::string applied_content_hash;
  std::string applied_options_json;
  std::vector<ObjectRef> applied_objects;
  int state = 0;  // flotilla.v1.BundleDeploymentState
  std::string message;
  // From the last check of what runs (all of them; the report carries 10).
  std::vector<ResourceProblem> non_ready;
  std::vector<ResourceProblem> modified;
};

class AgentState {
 public:
  // Opens (creating with mode 0700) the state directory and loads
  // deployments.json if present. DataLoss naming the file if it is corrupt.
  static absl::StatusOr<AgentState> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }

  // Credentials. Missing files read as std::nullopt.
  absl::StatusOr<std::optional<std::string>> ReadFileIfExists(const std::string& name) const;
  // Writes a file in the state dir atomically; key.pem gets mode 0600.
  absl::Status WriteFile(const std::string& name, const std::string& data);

  absl::StatusOr<std::optional<Identity>> LoadIdentity() const;
  absl::Status SaveIdentity(const Identity& id);

  // Deployments.
  const std::map<std::string, DeploymentRecord>& deployments() const { return deployments_; }
  std::optional<DeploymentRecord> Deployment(const std::string& bd_id) const;
  absl::Status PutDeployment(const DeploymentRecord& r);    // persists at once
  absl::Status RemoveDeployment(const std::string& bd_id);  // persists at once

  // Content cache, content-addressed: Put verifies sha256(data) == hash
  // (InvalidArgument otherwise).
  bool HasContent(const std::string& hash) const;
  absl::Status PutContent(const std::string& hash, const std::string& data);
  absl::StatusOr<std::string> GetContent(const std::string& hash) const;
  std::vector<std::string> ContentHashes() const;
  // Deletes cached content no deployment refers to.
  absl::Status PruneContent();

 private:
  explicit AgentState(std::string dir) : dir_(std::move(dir)) {}
  absl::Status SaveDeployments();
  std::string dir_;
  std::map<std::string, DeploymentRecord> deployments_;
};

}  // namespace flotilla::agent
