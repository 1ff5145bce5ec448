// AgentSession: the agent's side of the protocol, with no network code
// (Envoy's xDS style): it turns the manager's Assignments into applied
// objects, ACKs/NACKs and status reports, and keeps AgentState current.
//
// Threading: not thread-safe; the caller serialises calls.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/apply/applier.h"
#include "agent/state/agent_state.h"
#include "flotilla/v1/agent.pb.h"

namespace flotilla::agent {

inline constexpr size_t kMaxManifestBytes = 64 << 20;

class AgentSession {
 public:
  AgentSession(AgentState* state, Applier* applier, std::string agent_version);

  // The stream's opening message: what this agent already holds.
  flotilla::v1::AgentMessage Hello() const;
  // Applies one delta; returns the messages to send back (one Ack per
  // assignment, then one status report).
  std::vector<flotilla::v1::AgentMessage> HandleAssignments(const flotilla::v1::Assignments& a);
  // Compares the target with what was applied; re-applies drifted objects when
  // the deployment has correctDrift. Returns a status report when any state
  // changed.
  std::optional<flotilla::v1::AgentMessage> CheckDrift();
  // A status report for every deployment.
  flotilla::v1::AgentMessage FullStatus() const;

  int applies_for_test() const { return applies_; }

 private:
  flotilla::v1::BundleDeploymentStatus StatusOf(const DeploymentRecord& r) const;
  // Applies a record's assigned content; on success it becomes the applied
  // deployment. Returns the error, if any.
  absl::Status ApplyRecord(DeploymentRecord& r);
  // Applies the given content over what the record says is applied; updates
  // only applied_objects.
  absl::Status ApplyContent(DeploymentRecord& r, const std::string& deployment_id,
                            const std::string& content_hash, const std::string& options_json);

  AgentState* const state_;
  Applier* const applier_;
  const std::string agent_version_;
  int applies_ = 0;
};

}  // namespace flotilla::agent
