// Operator access (SECURITY.md §2): who may call which FleetService RPC on
// which workspace. One table, one function; deny by default.
//
// Roles: viewer reads; deployer also pauses, resumes and resyncs; cluster-
// admin also manages clusters (labels, pause, revoke) and registration
// tokens; admin may do everything (apply, delete, secrets, API tokens). A
// token is bound to one role and to one workspace or "*". A workspace token
// reads fleet-wide objects (clusters, groups) but changes only GitRepos in
// its workspace; changing a fleet-wide object needs a "*" token.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::manager {

enum class Role { kViewer, kDeployer, kClusterAdmin, kAdmin };

// "viewer", "deployer", "cluster-admin", "admin"; InvalidArgument naming the
// four for anything else.
absl::StatusOr<Role> ParseRole(absl::string_view name);
std::string RoleName(Role role);
const std::vector<Role>& AllRoles();

// An authenticated caller.
struct Principal {
  std::string actor;  // "token:<id>": what the audit log records
  Role role = Role::kViewer;
  std::string workspace = "*";
  bool AllWorkspaces() const { return workspace == "*"; }
  // Whether a list shows objects of `workspace` ("" = fleet-wide) to it.
  bool Sees(absl::string_view object_workspace) const {
    return AllWorkspaces() || object_workspace.empty() || object_workspace == workspace;
  }
};

// The workspace argument for objects that belong to none (clusters,
// ClusterGroups, secrets, tokens, the audit log).
inline constexpr absl::string_view kFleetWide = "";

// OK if `principal` may call `method` (the RPC name, e.g. "Apply") on an
// object in `workspace`; PermissionDenied naming the role, the method and
// what it would need otherwise. Unknown methods are denied to everyone.
absl::Status Authorize(const Principal& principal, absl::string_view method,
                       absl::string_view workspace);

// The roles that may call `method` (empty for an unknown method).
std::vector<Role> RolesFor(absl::string_view method);

// Every RPC of flotilla.v1.FleetService, from the compiled descriptor: what
// the table test walks, so a new RPC without a rule fails it.
std::vector<std::string> FleetServiceMethods();

}  // namespace flotilla::manager
