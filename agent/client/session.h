// AgentSession: the agent's side of the protocol, with no network code
// (Envoy's xDS style): it turns the manager's Assignments into applied
// objects, ACKs/NACKs and status reports, and keeps AgentState current.
//
// Threading: not thread-safe; the caller serialises calls.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/apply/applier.h"
#include "agent/state/agent_state.h"
#include "flotilla/v1/agent.pb.h"

namespace flotilla::agent {

inline constexpr size_t kMaxManifestBytes = 64 << 20;
// Not-ready and modified resources in one report, as Fleet's nonReadyStatus
// and modifiedStatus (incompleteState says there were more).
inline constexpr size_t kMaxReportedResources = 10;

class AgentSession {
 public:
  AgentSession(AgentState* state, Applier* applier, std::string agent_version);

  // The stream's opening message: what this agent already holds.
  flotilla::v1::AgentMessage Hello() const;
  // Applies one delta; returns the messages to send back (one Ack per
  // assignment, then one status report).
  std::vector<flotilla::v1::AgentMessage> HandleAssignments(const flotilla::v1::Assignments& a);
  // Checks every deployment's resources: drift (re-applied when the
  // deployment has correctDrift) and readiness; applies deployments whose
  // dependencies became ready. Returns a status report when anything
  // changed.
  std::optional<flotilla::v1::AgentMessage> CheckDeployments();
  // True while a deployment is NotReady or waiting: worth checking sooner
  // than the drift interval.
  bool Settling() const;
  // A status report for every deployment.
  flotilla::v1::AgentMessage FullStatus() const;

  int applies_for_test() const { return applies_; }
  // How many times drift was corrected by re-applying.
  int drift_corrections() const { return drift_corrections_; }

 private:
  flotilla::v1::BundleDeploymentStatus StatusOf(const DeploymentRecord& r) const;
  // Applies a record's assigned content; on success it becomes the applied
  // deployment. Returns the error, if any.
  // With `correcting`, fields other managers took are taken back (force).
  absl::Status ApplyRecord(DeploymentRecord& r, bool correcting = false);
  // Applies the given content over what the record says is applied; updates
  // only applied_objects.
  absl::Status ApplyContent(DeploymentRecord& r, const std::string& deployment_id,
                            const std::string& content_hash, const std::string& options_json,
                            bool correcting = false);

  // Checks the applied content of a record against the target.
  absl::StatusOr<CheckResult> CheckRunning(const DeploymentRecord& r);
  // A content's objects, read from the state and parsed once per session
  // (checks run every few seconds); `source` names it in parse errors.
  absl::StatusOr<const std::vector<nlohmann::json>*> ObjectsOf(const std::string& content_hash,
                                                               const std::string& source);
  // Sets state, message and the resource lists from a check.
  void Judge(DeploymentRecord& r, const absl::StatusOr<CheckResult>& check) const;
  // "" when every dependsOn bundle on this agent is in an accepted state;
  // else the message naming those that are not.
  std::string PendingDependencies(const DeploymentRecord& r) const;
  // Checks a current deployment, re-applying it first when it drifted and
  // has correctDrift; sets its state.
  void CheckAndCorrect(DeploymentRecord& r);
  // Does a deployment other than `except_id` have objects in `ns`?
  bool NamespaceInUse(const std::string& ns, const std::string& except_id) const;

  AgentState* const state_;
  Applier* const applier_;
  const std::string agent_version_;
  int applies_ = 0;
  int drift_corrections_ = 0;
  // content hash -> its parsed objects; entries no deployment uses are
  // dropped after each CheckDeployments.
  std::map<std::string, std::vector<nlohmann::json>> parsed_;
};

}  // namespace flotilla::agent
