#include "manager/server/authz.h"

#include <google/protobuf/descriptor.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flotilla/v1/api.pb.h"

namespace flotilla::manager {
namespace {

enum class Access {
  kRead,          // every role
  kDeploy,        // deployer, admin
  kClusterOps,    // deployer, cluster-admin, admin: pausing clusters
  kClusterAdmin,  // cluster-admin, admin
  kAdmin,         // admin
};

// Every RPC with its access class and whether it changes something.
struct Rule {
  Access access;
  bool mutates;
};

const std::map<std::string, Rule, std::less<>>& Rules() {
  static const auto* rules = new std::map<std::string, Rule, std::less<>>{
      {"ListGitRepos", {Access::kRead, false}},
      {"GetGitRepo", {Access::kRead, false}},
      {"ListBundles", {Access::kRead, false}},
      {"GetBundle", {Access::kRead, false}},
      {"ListBundleDeployments", {Access::kRead, false}},
      {"ListClusters", {Access::kRead, false}},
      {"GetCluster", {Access::kRead, false}},
      {"ListClusterGroups", {Access::kRead, false}},
      {"GetClusterGroup", {Access::kRead, false}},
      {"ListAudit", {Access::kRead, false}},
      {"Resync", {Access::kDeploy, true}},
      // SetPaused is checked per kind: GitRepo -> kDeploy, cluster ->
      // kClusterOps (see Authorize's `method` for "SetPaused/cluster").
      {"SetPaused", {Access::kDeploy, true}},
      {"SetPaused/cluster", {Access::kClusterOps, true}},
      {"LabelCluster", {Access::kClusterAdmin, true}},
      {"RevokeCluster", {Access::kClusterAdmin, true}},
      {"CreateRegistrationToken", {Access::kClusterAdmin, true}},
      {"ListRegistrationTokens", {Access::kClusterAdmin, false}},
      {"RevokeRegistrationToken", {Access::kClusterAdmin, true}},
      {"Apply", {Access::kAdmin, true}},
      {"Delete", {Access::kAdmin, true}},
      {"ListSecrets", {Access::kAdmin, false}},
      {"CreateApiToken", {Access::kAdmin, true}},
      {"ListApiTokens", {Access::kAdmin, false}},
      {"RevokeApiToken", {Access::kAdmin, true}},
  };
  return *rules;
}

bool Allows(Access access, Role role) {
  switch (access) {
    case Access::kRead:
      return true;
    case Access::kDeploy:
      return role == Role::kDeployer || role == Role::kAdmin;
    case Access::kClusterOps:
      return role != Role::kViewer;
    case Access::kClusterAdmin:
      return role == Role::kClusterAdmin || role == Role::kAdmin;
    case Access::kAdmin:
      return role == Role::kAdmin;
  }
  return false;
}

}  // namespace

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role r : AllRoles()) {
    if (RoleName(r) == name) return r;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role \"", name, "\": use viewer, deployer, cluster-admin or admin"));
}

std::string RoleName(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kDeployer:
      return "deployer";
    case Role::kClusterAdmin:
      return "cluster-admin";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

const std::vector<Role>& AllRoles() {
  static const auto* roles =
      new std::vector<Role>{Role::kViewer, Role::kDeployer, Role::kClusterAdmin, Role::kAdmin};
  return *roles;
}

std::vector<Role> RolesFor(absl::string_view method) {
  std::vector<Role> out;
  auto it = Rules().find(method);
  if (it == Rules().end()) return out;
  for (Role r : AllRoles()) {
    if (Allows(it->second.access, r)) out.push_back(r);
  }
  return out;
}

absl::Status Authorize(const Principal& principal, absl::string_view method,
                       absl::string_view workspace) {
  auto it = Rules().find(method);
  if (it == Rules().end()) {
    return absl::PermissionDeniedError(
        absl::StrCat("no role may call ", method, ": it is not part of the operator API"));
  }
  if (!Allows(it->second.access, principal.role)) {
    std::vector<std::string> names;
    for (Role r : RolesFor(method)) names.push_back(RoleName(r));
    // "SetPaused/cluster" is the RPC SetPaused applied to a cluster.
    std::string call(method);
    if (const size_t slash = call.find('/'); slash != std::string::npos) {
      call = absl::StrCat(call.substr(0, slash), " on a ", call.substr(slash + 1));
    }
    return absl::PermissionDeniedError(absl::StrCat("role ", RoleName(principal.role),
                                                    " may not call ", call, " (it needs ",
                                                    absl::StrJoin(names, ", "), ")"));
  }
  if (principal.AllWorkspaces() || !it->second.mutates) {
    if (principal.AllWorkspaces() || workspace.empty() || workspace == principal.workspace) {
      return absl::OkStatus();
    }
  }
  if (workspace.empty()) {
    return absl::PermissionDeniedError(
        absl::StrCat("this token is limited to workspace ", principal.workspace, "; ", method,
                     " changes fleet-wide objects and needs a token for every workspace (*)"));
  }
  if (workspace != principal.workspace) {
    return absl::PermissionDeniedError(absl::StrCat("this token is limited to workspace ",
                                                    principal.workspace, ", not ", workspace));
  }
  return absl::OkStatus();
}

std::vector<std::string> FleetServiceMethods() {
  std::vector<std::string> out;
  // api.proto's file descriptor, reached through one of its messages so the
  // generated code is linked in.
  const google::protobuf::ServiceDescriptor* service =
      flotilla::v1::ApplyRequest::descriptor()->file()->FindServiceByName("FleetService");
  if (service == nullptr) return out;
  for (int i = 0; i < service->method_count(); ++i) out.push_back(service->method(i)->name());
  return out;
}

}  // namespace flotilla::manager
