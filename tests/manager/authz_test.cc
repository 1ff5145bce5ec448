// Authorize as a table: every RPC of FleetService (from the compiled
// descriptor) against every role, with workspace scoping (SECURITY.md §2).
#include "manager/server/authz.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace flotilla::manager {
namespace {

using R = Role;

// Who may call what; docs/access.md shows the same table.
const std::map<std::string, std::set<Role>> kTable = {
    {"ListGitRepos", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"GetGitRepo", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"ListBundles", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"GetBundle", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"ListBundleDeployments", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"ListClusters", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"GetCluster", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"ListClusterGroups", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"GetClusterGroup", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"ListAudit", {R::kViewer, R::kDeployer, R::kClusterAdmin, R::kAdmin}},
    {"SetPaused", {R::kDeployer, R::kAdmin}},
    {"Resync", {R::kDeployer, R::kAdmin}},
    {"LabelCluster", {R::kClusterAdmin, R::kAdmin}},
    {"RevokeCluster", {R::kClusterAdmin, R::kAdmin}},
    {"CreateRegistrationToken", {R::kClusterAdmin, R::kAdmin}},
    {"ListRegistrationTokens", {R::kClusterAdmin, R::kAdmin}},
    {"RevokeRegistrationToken", {R::kClusterAdmin, R::kAdmin}},
    {"Apply", {R::kAdmin}},
    {"Delete", {R::kAdmin}},
    {"ListSecrets", {R::kAdmin}},
    {"CreateApiToken", {R::kAdmin}},
    {"ListApiTokens", {R::kAdmin}},
    {"RevokeApiToken", {R::kAdmin}},
};

Principal As(Role role, const std::string& workspace = "*") {
  return Principal{"token:t", role, workspace};
}

// The table names every RPC, so a new RPC cannot ship without a decision.
TEST_CASE("The authorization table covers exactly the RPCs of FleetService", "[authz]") {
  std::set<std::string> rpcs;
  for (const auto& m : FleetServiceMethods()) rpcs.insert(m);
  REQUIRE(rpcs.size() > 20);
  std::set<std::string> table;
  for (const auto& [m, roles] : kTable) table.insert(m);
  CHECK(rpcs == table);
}

// Every RPC x every role: allowed exactly where the table says, and a
// refusal names the role, the RPC and the roles that may.
TEST_CASE("Authorize allows each role exactly its RPCs", "[authz]") {
  for (const auto& [method, allowed] : kTable) {
    for (Role role : AllRoles()) {
      INFO(RoleName(role) << " calling " << method);
      absl::Status st = Authorize(As(role), method, kFleetWide);
      CHECK(st.ok() == (allowed.count(role) == 1));
      if (!st.ok()) {
        CHECK(st.code() == absl::StatusCode::kPermissionDenied);
        CHECK_THAT(std::string(st.message()),
                   Catch::Contains("role " + RoleName(role) + " may not call " + method));
      }
      std::vector<Role> expected(allowed.begin(), allowed.end());
      CHECK(RolesFor(method) == expected);
    }
  }
  // Pausing a cluster is also the cluster-admin's (and the deployer's).
  CHECK(Authorize(As(R::kClusterAdmin), "SetPaused/cluster", kFleetWide).ok());
  CHECK(Authorize(As(R::kDeployer), "SetPaused/cluster", kFleetWide).ok());
  CHECK_FALSE(Authorize(As(R::kViewer), "SetPaused/cluster", kFleetWide).ok());
}

TEST_CASE("Authorize denies what is not an RPC to every role", "[authz]") {
  for (Role role : AllRoles()) {
    for (const char* method : {"", "Register", "Renew", "Connect", "listgitrepos", "DeleteAll"}) {
      INFO(RoleName(role) << " calling \"" << method << "\"");
      absl::Status st = Authorize(As(role), method, kFleetWide);
      CHECK(st.code() == absl::StatusCode::kPermissionDenied);
    }
  }
}

// A workspace token reads fleet-wide objects and its own workspace, changes
// only its own workspace's GitRepos, and nothing fleet-wide.
TEST_CASE("A workspace-scoped token acts only inside its workspace", "[authz]") {
  const Principal team = As(R::kAdmin, "team-a");
  CHECK(Authorize(team, "ListClusters", kFleetWide).ok());
  CHECK(Authorize(team, "GetGitRepo", "team-a").ok());
  CHECK(Authorize(team, "Apply", "team-a").ok());
  absl::Status other = Authorize(team, "GetGitRepo", "team-b");
  CHECK(other.code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(std::string(other.message()),
             Catch::Contains("limited to workspace team-a, not team-b"));
  CHECK(Authorize(team, "Apply", "team-b").code() == absl::StatusCode::kPermissionDenied);
  absl::Status global = Authorize(team, "LabelCluster", kFleetWide);
  CHECK(global.code() == absl::StatusCode::kPermissionDenied);
  CHECK_THAT(std::string(global.message()), Catch::Contains("every workspace (*)"));
  CHECK(Authorize(As(R::kAdmin), "Apply", "team-b").ok());
  // Scope never widens a role.
  CHECK_FALSE(Authorize(As(R::kViewer, "team-a"), "Apply", "team-a").ok());
}

TEST_CASE("ParseRole accepts the four roles and names them on a mistake", "[authz]") {
  for (Role r : AllRoles()) CHECK(ParseRole(RoleName(r)).value() == r);
  for (const char* bad : {"", "Admin", "root", "cluster_admin", "viewer "}) {
    auto st = ParseRole(bad).status();
    CHECK(st.code() == absl::StatusCode::kInvalidArgument);
    CHECK_THAT(std::string(st.message()),
               Catch::Contains("viewer, deployer, cluster-admin or admin"));
  }
}

}  // namespace
}  // namespace flotilla::manager
