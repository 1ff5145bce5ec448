// Status summaries (manager/status/summary.h): the free functions against the
// values and strings Rancher Fleet produces, and StatusIndex against a
// from-scratch recount in Fleet's way after every change.
#include "manager/status/summary.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "flotilla/v1/state_names.h"
#include "flotilla/v1/types.pb.h"

namespace Catch {
template <>
struct StringMaker<flotilla::manager::BundleSummary> {
  static std::string convert(const flotilla::manager::BundleSummary& s) {
    std::vector<std::string> entries;
    for (const auto& e : s.non_ready_resources) {
      entries.push_back(absl::StrCat(e.name, "=", flotilla::v1::FleetStateName(e.state), ":",
                                     e.message, " nr[", absl::StrJoin(e.non_ready, "|"), "] mod[",
                                     absl::StrJoin(e.modified, "|"), "]"));
    }
    return absl::StrCat("{notReady=", s.not_ready, " waitApplied=", s.wait_applied,
                        " errApplied=", s.err_applied, " outOfSync=", s.out_of_sync,
                        " modified=", s.modified, " ready=", s.ready, " pending=", s.pending,
                        " desiredReady=", s.desired_ready, " [", absl::StrJoin(entries, ", "),
                        "]}");
  }
};
}  // namespace Catch

namespace flotilla::manager {
namespace {

namespace v1 = flotilla::v1;

std::vector<std::string> Names(const BundleSummary& s) {
  std::vector<std::string> names;
  for (const auto& e : s.non_ready_resources) names.push_back(e.name);
  return names;
}

v1::ResourceStatus Resource(const std::string& api_version, const std::string& kind,
                            const std::string& ns, const std::string& name,
                            const std::string& message) {
  v1::ResourceStatus r;
  r.set_api_version(api_version);
  r.set_kind(kind);
  r.set_namespace_(ns);
  r.set_name(name);
  r.set_message(message);
  return r;
}

DeploymentSummaryInput Bd(const std::string& bundle, const std::string& gitrepo,
                          const std::string& cluster, v1::BundleDeploymentState state,
                          const std::string& message = "") {
  DeploymentSummaryInput bd;
  bd.bundle = bundle;
  bd.gitrepo = gitrepo;
  bd.cluster_id = "id-" + cluster;
  bd.cluster_name = cluster;
  bd.state = state;
  bd.message = message;
  return bd;
}

// Adds one target the way Fleet's callers do: IncrementState, then one more
// desired.
void Count(BundleSummary& s, const std::string& name, v1::BundleDeploymentState state,
           const std::string& message = "", const std::vector<std::string>& modified = {},
           const std::vector<std::string>& non_ready = {}) {
  IncrementState(s, name, state, message, modified, non_ready);
  ++s.desired_ready;
}

// Fleet's StateRank table, value for value.
TEST_CASE("StateRank orders states from ErrApplied down to Ready", "[summary]") {
  CHECK(StateRank(v1::ERR_APPLIED) == 7);
  CHECK(StateRank(v1::WAIT_APPLIED) == 6);
  CHECK(StateRank(v1::MODIFIED) == 5);
  CHECK(StateRank(v1::OUT_OF_SYNC) == 4);
  CHECK(StateRank(v1::PENDING) == 3);
  CHECK(StateRank(v1::NOT_READY) == 2);
  CHECK(StateRank(v1::READY) == 1);
  CHECK(StateRank(v1::STATE_UNSPECIFIED) == 0);
  CHECK(StateRank(static_cast<v1::BundleDeploymentState>(42)) == 0);
}

// Fleet prints kind.group ns/name, with the core group spelled "v1".
TEST_CASE("resource lines name the object as Fleet does", "[summary]") {
  CHECK(NonReadyLine(Resource("apps/v1", "Deployment", "default", "web",
                              "[progressing] Deployment does not have minimum availability.")) ==
        "deployment.apps default/web [progressing] Deployment does not have minimum "
        "availability.");
  CHECK(NonReadyLine(Resource("v1", "Pod", "kube-system", "p", "error] CrashLoopBackOff")) ==
        "pod.v1 kube-system/p error] CrashLoopBackOff");
  CHECK(NonReadyLine(Resource("", "Pod", "default", "p", "Pending")) == "pod default/p Pending");
  CHECK(NonReadyLine(Resource("", "Namespace", "", "apps", "Terminating")) ==
        "namespace apps Terminating");
  CHECK(ModifiedLine(Resource("rbac.authorization.k8s.io/v1", "ClusterRole", "", "admin",
                              "extra")) == "clusterrole.rbac.authorization.k8s.io admin extra");
  CHECK(ModifiedLine(Resource("v1", "ConfigMap", "default", "cfg", "missing")) ==
        "configmap.v1 default/cfg missing");
  CHECK(ModifiedLine(Resource("v1", "ConfigMap", "default", "cfg", "not owned by us")) ==
        "configmap.v1 default/cfg is not owned by us");
  CHECK(ModifiedLine(
            Resource("v1", "Service", "default", "web", R"(modified {"spec":{"ports":null}})")) ==
        R"(service.v1 default/web modified {"spec":{"ports":null}})");
}

// Each state has its own counter; Ready entries and nameless ones are not
// listed; an unknown state counts nothing but is listed.
TEST_CASE("IncrementState counts every state and lists the non-Ready ones", "[summary]") {
  BundleSummary s;
  IncrementState(s, "a", v1::READY, "", {}, {});
  IncrementState(s, "b", v1::NOT_READY, "waiting", {}, {"pod.v1 ns/p starting"});
  IncrementState(s, "c", v1::WAIT_APPLIED, "", {}, {});
  IncrementState(s, "d", v1::ERR_APPLIED, "boom", {}, {});
  IncrementState(s, "e", v1::OUT_OF_SYNC, "", {}, {});
  IncrementState(s, "f", v1::MODIFIED, "", {"configmap.v1 ns/c missing"}, {});
  IncrementState(s, "g", v1::PENDING, "", {}, {});
  IncrementState(s, "", v1::NOT_READY, "unnamed", {}, {});
  IncrementState(s, "h", v1::STATE_UNSPECIFIED, "", {}, {});

  CHECK(s.ready == 1);
  CHECK(s.not_ready == 2);
  CHECK(s.wait_applied == 1);
  CHECK(s.err_applied == 1);
  CHECK(s.out_of_sync == 1);
  CHECK(s.modified == 1);
  CHECK(s.pending == 1);
  CHECK(s.desired_ready == 0);  // the callers count desired themselves
  CHECK(Names(s) == std::vector<std::string>{"b", "c", "d", "e", "f", "g", "h"});
  REQUIRE(s.non_ready_resources.size() == 7);
  CHECK(s.non_ready_resources[0] == NonReadyResource{.name = "b",
                                                     .state = v1::NOT_READY,
                                                     .message = "waiting",
                                                     .non_ready = {"pod.v1 ns/p starting"},
                                                     .modified = {}});
  CHECK(s.non_ready_resources[4].modified == std::vector<std::string>{"configmap.v1 ns/c missing"});
}

// desiredReady counts targets; a summary is ready when every one is Ready.
TEST_CASE("IsReady compares ready with desiredReady", "[summary]") {
  BundleSummary s;
  CHECK(IsReady(s));
  Count(s, "a", v1::READY);
  Count(s, "b", v1::READY);
  CHECK(s.desired_ready == 2);
  CHECK(IsReady(s));
  Count(s, "c", v1::MODIFIED);
  CHECK(s.desired_ready == 3);
  CHECK(s.ready == 2);
  CHECK_FALSE(IsReady(s));
}

// The eleventh non-Ready entry is counted but not listed.
TEST_CASE("IncrementState lists at most 10 entries", "[summary]") {
  BundleSummary s;
  for (int i = 0; i < 12; ++i) Count(s, absl::StrCat("c", i), v1::NOT_READY);
  CHECK(s.not_ready == 12);
  CHECK(s.desired_ready == 12);
  REQUIRE(s.non_ready_resources.size() == 10);
  CHECK(s.non_ready_resources.front().name == "c0");
  CHECK(s.non_ready_resources.back().name == "c9");
}

// Fleet's Increment appends all of the right side while the left lists fewer
// than 10, so 9 + 10 gives 19; a full left side takes none.
TEST_CASE("Increment adds the counters and appends while the left has room", "[summary]") {
  BundleSummary left;
  for (int i = 0; i < 9; ++i) Count(left, absl::StrCat("l", i), v1::NOT_READY);
  Count(left, "ok", v1::READY);
  BundleSummary right;
  for (int i = 0; i < 10; ++i) Count(right, absl::StrCat("r", i), v1::ERR_APPLIED);
  Count(right, "p", v1::PENDING);
  Count(right, "w", v1::WAIT_APPLIED);
  Count(right, "o", v1::OUT_OF_SYNC);
  Count(right, "m", v1::MODIFIED);

  Increment(left, right);
  CHECK(left.not_ready == 9);
  CHECK(left.err_applied == 10);
  CHECK(left.pending == 1);
  CHECK(left.wait_applied == 1);
  CHECK(left.out_of_sync == 1);
  CHECK(left.modified == 1);
  CHECK(left.ready == 1);
  CHECK(left.desired_ready == 24);
  CHECK(left.non_ready_resources.size() == 19);
  CHECK(left.non_ready_resources[9].name == "r0");

  Increment(left, right);
  CHECK(left.err_applied == 20);
  CHECK(left.desired_ready == 38);
  CHECK(left.non_ready_resources.size() == 19);
}

// The worst listed state by rank; nothing listed gives STATE_UNSPECIFIED.
TEST_CASE("SummaryState is the worst listed state by rank", "[summary]") {
  BundleSummary s;
  CHECK(SummaryState(s) == v1::STATE_UNSPECIFIED);
  CHECK(DisplayState(s) == "");
  Count(s, "a", v1::READY);
  CHECK(SummaryState(s) == v1::STATE_UNSPECIFIED);
  Count(s, "b", v1::NOT_READY);
  CHECK(SummaryState(s) == v1::NOT_READY);
  Count(s, "c", v1::OUT_OF_SYNC);
  Count(s, "d", v1::PENDING);
  CHECK(SummaryState(s) == v1::OUT_OF_SYNC);
  Count(s, "e", v1::MODIFIED);
  CHECK(SummaryState(s) == v1::MODIFIED);
  Count(s, "f", v1::ERR_APPLIED);
  Count(s, "g", v1::WAIT_APPLIED);
  CHECK(SummaryState(s) == v1::ERR_APPLIED);
  CHECK(DisplayState(s) == "ErrApplied");
}

// Only the listed entries count: an ErrApplied eleventh is invisible to the
// state and to the Ready message, though it is counted.
TEST_CASE("an unlisted worse entry changes neither state nor message", "[summary]") {
  BundleSummary s;
  for (int i = 0; i < 10; ++i) Count(s, absl::StrCat("c", i), v1::NOT_READY);
  Count(s, "c10", v1::ERR_APPLIED, "boom");
  CHECK(s.err_applied == 1);
  CHECK(SummaryState(s) == v1::NOT_READY);
  CHECK(ReadyMessage(s, "Cluster") == "NotReady(10) [Cluster c0]");
}

TEST_CASE("ReadyMessage is empty when everything is Ready", "[summary]") {
  BundleSummary s;
  CHECK(ReadyMessage(s, "Bundle") == "");
  Count(s, "a", v1::READY);
  Count(s, "b", v1::READY);
  CHECK(ReadyMessage(s, "Bundle") == "");
}

// One NotReady cluster with a resource line: header and line, sorted
// byte-wise (upper case before lower case).
TEST_CASE("ReadyMessage names one NotReady entry with its resource lines", "[summary]") {
  BundleSummary s;
  Count(s, "fleet-default/c1", v1::NOT_READY, "", {},
        {"deployment.apps default/web [progressing] Deployment does not have minimum "
         "availability."});
  Count(s, "fleet-default/c2", v1::READY);
  CHECK(ReadyMessage(s, "Cluster") ==
        "NotReady(1) [Cluster fleet-default/c1]; deployment.apps default/web [progressing] "
        "Deployment does not have minimum availability.");

  BundleSummary with_message;
  Count(with_message, "c1", v1::NOT_READY, "waiting for rollout");
  CHECK(ReadyMessage(with_message, "Cluster") == "NotReady(1) [Cluster c1: waiting for rollout]");
}

// One header per state (the first entry in it), counts per state, modified
// lines, and every string sorted as one list.
TEST_CASE("ReadyMessage reports every state sorted, modified lines included", "[summary]") {
  BundleSummary s;
  Count(s, "web", v1::ERR_APPLIED, "install failed");
  Count(s, "db", v1::NOT_READY, "", {}, {"statefulset.apps data/db [progressing] waiting"});
  Count(s, "cache", v1::NOT_READY);
  Count(s, "api", v1::MODIFIED, "",
        {"configmap.v1 default/cfg missing", "secret.v1 default/s extra"}, {});
  Count(s, "jobs", v1::PENDING);
  Count(s, "ui", v1::OUT_OF_SYNC);
  Count(s, "auth", v1::WAIT_APPLIED);
  Count(s, "ok", v1::READY);
  CHECK(ReadyMessage(s, "Bundle") ==
        "ErrApplied(1) [Bundle web: install failed]; Modified(1) [Bundle api]; "
        "NotReady(2) [Bundle db]; OutOfSync(1) [Bundle ui]; Pending(1) [Bundle jobs]; "
        "WaitApplied(1) [Bundle auth]; configmap.v1 default/cfg missing; "
        "secret.v1 default/s extra; statefulset.apps data/db [progressing] waiting");
}

// Fleet keeps the first 4 modified and the first 4 non-ready lines of an
// entry (in the entry's order), then sorts.
TEST_CASE("ReadyMessage keeps four lines of each kind per entry", "[summary]") {
  BundleSummary s;
  std::vector<std::string> non_ready;
  for (int i = 6; i >= 1; --i) non_ready.push_back(absl::StrCat("pod.v1 ns/p", i, " Pending"));
  std::vector<std::string> modified;
  for (int i = 1; i <= 5; ++i) modified.push_back(absl::StrCat("configmap.v1 ns/c", i, " missing"));
  Count(s, "app", v1::NOT_READY, "", modified, non_ready);
  CHECK(ReadyMessage(s, "Bundle") ==
        "NotReady(1) [Bundle app]; configmap.v1 ns/c1 missing; configmap.v1 ns/c2 missing; "
        "configmap.v1 ns/c3 missing; configmap.v1 ns/c4 missing; pod.v1 ns/p3 Pending; "
        "pod.v1 ns/p4 Pending; pod.v1 ns/p5 Pending; pod.v1 ns/p6 Pending");
}

TEST_CASE("ReadyDisplay prints ready/desired", "[summary]") {
  CHECK(ReadyDisplay(0, 0) == "0/0");
  CHECK(ReadyDisplay(3, 5) == "3/5");
  CHECK(ReadyDisplay(12, 12) == "12/12");
}

// A cluster whose agent never checked in shows WaitCheckIn whatever its
// bundles say; afterwards the worst listed state, "" when all are Ready.
TEST_CASE("a cluster shows WaitCheckIn until its agent checks in", "[summary]") {
  StatusIndex index;
  index.Upsert(Bd("web", "repo", "c1", v1::READY));
  BundleSummary s = index.Cluster("id-c1");
  CHECK(ClusterDisplayState(s, /*checked_in=*/false) == "WaitCheckIn");
  CHECK(ClusterDisplayState(s, /*checked_in=*/true) == "");
  CHECK(ReadyDisplay(s.ready, s.desired_ready) == "1/1");

  index.Upsert(Bd("db", "repo", "c1", v1::WAIT_APPLIED));
  index.Upsert(Bd("api", "repo", "c1", v1::NOT_READY));
  s = index.Cluster("id-c1");
  CHECK(ClusterDisplayState(s, /*checked_in=*/false) == "WaitCheckIn");
  CHECK(ClusterDisplayState(s, /*checked_in=*/true) == "WaitApplied");
  CHECK(ReadyDisplay(s.ready, s.desired_ready) == "1/3");
  CHECK(Names(s) == std::vector<std::string>{"api", "db"});  // by bundle, as Fleet's BD names
  CHECK(ClusterDisplayState(BundleSummary{}, /*checked_in=*/false) == "WaitCheckIn");
}

// ClusterGroup: members in name order; up to 10 non-ready names in the
// readyClusters display.
TEST_CASE("a ClusterGroup lists ten of its eleven non-ready clusters", "[summary]") {
  std::vector<ClusterGroupMember> members;
  for (int i = 12; i >= 1; --i) {
    ClusterGroupMember m;
    m.name = absl::StrCat("c", i < 10 ? "0" : "", i);
    Count(m.summary, "web", i == 12 ? v1::READY : v1::NOT_READY);
    Count(m.summary, "db", v1::READY);
    members.push_back(std::move(m));
  }
  ClusterGroupMember empty;  // no bundles: 0/0 is ready
  empty.name = "c00";
  members.push_back(empty);

  ClusterGroupSummary g = SummarizeClusterGroup(members);
  CHECK(g.cluster_count == 13);
  CHECK(g.non_ready_cluster_count == 11);
  CHECK(g.non_ready_clusters == std::vector<std::string>{"c01", "c02", "c03", "c04", "c05", "c06",
                                                         "c07", "c08", "c09", "c10"});
  CHECK(g.ready_clusters == "2/13 (c01,c02,c03,c04,c05,c06,c07,c08,c09,c10)");
  CHECK(g.ready_bundles == "13/24");
  CHECK(g.summary.not_ready == 11);
  CHECK(g.summary.non_ready_resources.size() == 10);
  CHECK(g.state == "NotReady");
  CHECK(ReadyMessage(g.summary, "Bundle") == "NotReady(11) [Bundle web]");
}

TEST_CASE("a ClusterGroup of ready clusters shows no names", "[summary]") {
  ClusterGroupMember a{.name = "a", .summary = {}};
  Count(a.summary, "web", v1::READY);
  ClusterGroupSummary g = SummarizeClusterGroup({a});
  CHECK(g.ready_clusters == "1/1");
  CHECK(g.ready_bundles == "1/1");
  CHECK(g.state == "");
  CHECK(SummarizeClusterGroup({}).ready_clusters == "0/0");
}

// One bundle on two clusters: each aggregate follows upserts, a state change
// and a removal.
TEST_CASE("StatusIndex follows upsert, state change and remove", "[summary]") {
  StatusIndex index;
  index.Upsert(Bd("web", "repo", "c1", v1::READY));
  index.Upsert(Bd("web", "repo", "c2", v1::NOT_READY, "waiting"));
  index.Upsert(Bd("db", "repo", "c1", v1::READY));

  BundleSummary web = index.Bundle("web");
  CHECK(web.ready == 1);
  CHECK(web.not_ready == 1);
  CHECK(web.desired_ready == 2);
  CHECK(Names(web) == std::vector<std::string>{"c2"});  // a Bundle lists clusters
  CHECK(ReadyMessage(web, "Cluster") == "NotReady(1) [Cluster c2: waiting]");
  BundleSummary repo = index.GitRepo("repo");
  CHECK(repo.ready == 2);
  CHECK(repo.desired_ready == 3);
  CHECK(Names(repo) == std::vector<std::string>{"web"});  // a GitRepo lists bundles
  CHECK(index.Cluster("id-c1").ready == 2);
  CHECK(index.Cluster("id-c2").not_ready == 1);

  index.Upsert(Bd("web", "repo", "c2", v1::ERR_APPLIED, "boom"));
  web = index.Bundle("web");
  CHECK(web.not_ready == 0);
  CHECK(web.err_applied == 1);
  CHECK(web.desired_ready == 2);
  CHECK(DisplayState(web) == "ErrApplied");
  CHECK(index.GitRepo("repo").err_applied == 1);
  CHECK(index.size() == 3);

  index.Remove("web", "id-c2");
  web = index.Bundle("web");
  CHECK(web == BundleSummary{.ready = 1, .desired_ready = 1});
  CHECK(index.Cluster("id-c2") == BundleSummary{});
  CHECK(index.GitRepo("repo").desired_ready == 2);
  CHECK(index.size() == 2);
  index.Remove("web", "id-c2");  // unknown: nothing happens
  CHECK(index.size() == 2);
}

// The aggregate lists the first 10 in order; removing one lets the 11th in.
TEST_CASE("StatusIndex lets the eleventh entry in when one is removed", "[summary]") {
  StatusIndex index;
  for (int i = 11; i >= 1; --i) {
    index.Upsert(Bd("web", "repo", absl::StrCat("c", i < 10 ? "0" : "", i), v1::NOT_READY));
  }
  BundleSummary web = index.Bundle("web");
  CHECK(web.not_ready == 11);
  CHECK(Names(web) == std::vector<std::string>{"c01", "c02", "c03", "c04", "c05", "c06", "c07",
                                               "c08", "c09", "c10"});
  index.Remove("web", "id-c03");
  web = index.Bundle("web");
  CHECK(web.not_ready == 10);
  CHECK(Names(web) == std::vector<std::string>{"c01", "c02", "c04", "c05", "c06", "c07", "c08",
                                               "c09", "c10", "c11"});
  index.Upsert(Bd("web", "repo", "c01", v1::READY));
  CHECK(Names(index.Bundle("web")) ==
        std::vector<std::string>{"c02", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11"});
}

// Fleet's target/status.go counts a target without a BundleDeployment as
// Pending for the bundle; GitRepo and Cluster count BundleDeployments only.
TEST_CASE("a pending target counts for its bundle only", "[summary]") {
  StatusIndex index;
  index.Upsert(Bd("web", "repo", "c1", v1::READY));
  index.SetPending("web", "id-c2", "c2");
  BundleSummary web = index.Bundle("web");
  CHECK(web.pending == 1);
  CHECK(web.desired_ready == 2);
  REQUIRE(web.non_ready_resources.size() == 1);
  CHECK(web.non_ready_resources[0] ==
        NonReadyResource{.name = "c2", .state = v1::PENDING, .message = ""});
  CHECK(ReadyMessage(web, "Cluster") == "Pending(1) [Cluster c2]");
  CHECK(ReadyDisplay(web.ready, web.desired_ready) == "1/2");
  CHECK(index.GitRepo("repo") == BundleSummary{.ready = 1, .desired_ready = 1});
  CHECK(index.Cluster("id-c2") == BundleSummary{});
  CHECK(index.GitRepoReadyClusters("repo") == std::pair{1, 1});

  index.Upsert(Bd("web", "repo", "c2", v1::WAIT_APPLIED));
  web = index.Bundle("web");
  CHECK(web.pending == 0);
  CHECK(web.wait_applied == 1);
  CHECK(web.desired_ready == 2);
  CHECK(index.Cluster("id-c2").wait_applied == 1);
  CHECK(index.GitRepoReadyClusters("repo") == std::pair{1, 2});

  index.SetPending("web", "id-c2", "c2");  // the deployment went away again
  CHECK(index.Bundle("web").pending == 1);
  CHECK(index.Cluster("id-c2") == BundleSummary{});
}

// A GitRepo is ready on a cluster when all of its deployments there are
// Ready (Fleet's Cluster controller accepts any one; see README.md).
TEST_CASE("a GitRepo is ready on a cluster only when all its deployments are", "[summary]") {
  StatusIndex index;
  index.Upsert(Bd("a", "repo", "c1", v1::READY));
  index.Upsert(Bd("b", "repo", "c1", v1::READY));
  index.Upsert(Bd("a", "repo", "c2", v1::READY));
  index.Upsert(Bd("b", "repo", "c2", v1::NOT_READY));
  index.Upsert(Bd("x", "other", "c2", v1::READY));
  index.Upsert(Bd("y", "", "c2", v1::NOT_READY));  // no GitRepo

  CHECK(index.GitRepoReadyClusters("repo") == std::pair{1, 2});
  CHECK(index.GitRepoReadyClusters("other") == std::pair{1, 1});
  CHECK(index.GitRepoReadyClusters("missing") == std::pair{0, 0});
  CHECK(index.ClusterReadyGitRepos("id-c1") == std::pair{1, 1});
  CHECK(index.ClusterReadyGitRepos("id-c2") == std::pair{1, 2});
  BundleSummary repo = index.GitRepo("repo");
  CHECK(ReadyDisplay(repo.ready, repo.desired_ready) == "3/4");  // readyBundleDeployments

  index.Upsert(Bd("b", "repo", "c2", v1::READY));
  CHECK(index.GitRepoReadyClusters("repo") == std::pair{2, 2});
  CHECK(index.ClusterReadyGitRepos("id-c2") == std::pair{2, 2});

  index.Remove("a", "id-c1");
  index.Remove("b", "id-c1");
  CHECK(index.GitRepoReadyClusters("repo") == std::pair{1, 1});
  CHECK(index.ClusterReadyGitRepos("id-c1") == std::pair{0, 0});

  // A bundle moving to another GitRepo takes its deployments along.
  index.Upsert(Bd("b", "other", "c2", v1::NOT_READY));
  CHECK(index.GitRepoReadyClusters("repo") == std::pair{1, 1});
  CHECK(index.GitRepoReadyClusters("other") == std::pair{0, 1});
  CHECK(index.GitRepo("repo").desired_ready == 1);
  CHECK(index.GitRepo("other").desired_ready == 2);
}

// The GitRepo's display state is the worst over all its deployments, with the
// message of the first one in that state, not only over the listed ten.
TEST_CASE("a GitRepo's display state looks past the ten listed entries", "[summary]") {
  StatusIndex index;
  CHECK(index.GitRepoDisplayOf("repo", true).state == "");
  for (int i = 1; i <= 10; ++i) {
    index.Upsert(Bd("web", "repo", absl::StrCat("c", i < 10 ? "0" : "", i), v1::NOT_READY));
  }
  index.Upsert(Bd("web", "repo", "c11", v1::ERR_APPLIED, "boom on c11"));
  index.Upsert(Bd("web", "repo", "c12", v1::ERR_APPLIED, "boom on c12"));

  BundleSummary repo = index.GitRepo("repo");
  CHECK(DisplayState(repo) == "NotReady");
  GitRepoDisplay d = index.GitRepoDisplayOf("repo", /*git_job_current=*/true);
  CHECK(d.state == "ErrApplied");
  CHECK(d.message == "boom on c11");
  CHECK(d.error);
  d = index.GitRepoDisplayOf("repo", /*git_job_current=*/false);
  CHECK(d.state == "GitUpdating");
  CHECK(d.message == "boom on c11");

  for (int i = 1; i <= 12; ++i) {
    index.Upsert(Bd("web", "repo", absl::StrCat("c", i < 10 ? "0" : "", i), v1::READY, "fine"));
  }
  d = index.GitRepoDisplayOf("repo", /*git_job_current=*/true);
  CHECK(d.state == "");
  CHECK(d.message == "");
  CHECK_FALSE(d.error);
  CHECK(ReadyMessage(index.GitRepo("repo"), "Bundle") == "");
}

// What Fleet computes from scratch: every aggregate, in its order, through
// IncrementState. The reference the index must equal after every change.
struct Model {
  struct Item {
    DeploymentSummaryInput input;
    bool pending = false;
  };
  std::map<std::pair<std::string, std::string>, Item> items;

  BundleSummary Recount(const std::function<bool(const Item&)>& member,
                        const std::function<std::tuple<std::string, std::string, std::string>(
                            const DeploymentSummaryInput&)>& order,
                        bool named_by_cluster) const {
    std::vector<const Item*> chosen;
    for (const auto& [key, item] : items) {
      if (member(item)) chosen.push_back(&item);
    }
    std::sort(chosen.begin(), chosen.end(),
              [&](const Item* a, const Item* b) { return order(a->input) < order(b->input); });
    BundleSummary s;
    for (const Item* item : chosen) {
      const auto& in = item->input;
      Count(s, named_by_cluster ? in.cluster_name : in.bundle, in.state, in.message, in.modified,
            in.non_ready);
    }
    return s;
  }
  BundleSummary Bundle(const std::string& bundle) const {
    return Recount([&](const Item& i) { return i.input.bundle == bundle; },
                   [](const DeploymentSummaryInput& in) {
                     return std::tuple{in.cluster_name, in.bundle, in.cluster_id};
                   },
                   true);
  }
  BundleSummary GitRepo(const std::string& gitrepo) const {
    return Recount([&](const Item& i) { return !i.pending && i.input.gitrepo == gitrepo; },
                   [](const DeploymentSummaryInput& in) {
                     return std::tuple{in.cluster_name, in.bundle, in.cluster_id};
                   },
                   false);
  }
  BundleSummary Cluster(const std::string& cluster_id) const {
    return Recount([&](const Item& i) { return !i.pending && i.input.cluster_id == cluster_id; },
                   [](const DeploymentSummaryInput& in) {
                     return std::tuple{std::string(), in.bundle, in.cluster_id};
                   },
                   false);
  }
  // {ready, all} over (gitrepo, cluster) cells selected by `select`.
  std::pair<int, int> ReadyCells(
      const std::function<std::string(const DeploymentSummaryInput&)>& select,
      const std::string& want) const {
    std::map<std::pair<std::string, std::string>, std::pair<int, int>> cells;
    for (const auto& [key, item] : items) {
      if (item.pending || item.input.gitrepo.empty() || select(item.input) != want) continue;
      auto& cell = cells[{item.input.gitrepo, item.input.cluster_id}];
      ++cell.first;
      if (item.input.state == v1::READY) ++cell.second;
    }
    int ready = 0;
    for (const auto& [key, cell] : cells) ready += cell.first == cell.second ? 1 : 0;
    return {ready, static_cast<int>(cells.size())};
  }
  // Fleet's status.SetFields: the first deployment that raises the max rank.
  std::pair<std::string, std::string> GitRepoWorst(const std::string& gitrepo) const {
    std::vector<const Item*> chosen;
    for (const auto& [key, item] : items) {
      if (!item.pending && item.input.gitrepo == gitrepo) chosen.push_back(&item);
    }
    std::sort(chosen.begin(), chosen.end(), [](const Item* a, const Item* b) {
      return std::tie(a->input.cluster_name, a->input.bundle, a->input.cluster_id) <
             std::tie(b->input.cluster_name, b->input.bundle, b->input.cluster_id);
    });
    v1::BundleDeploymentState max = v1::STATE_UNSPECIFIED;
    std::string message;
    for (const Item* item : chosen) {
      if (StateRank(item->input.state) > StateRank(max)) {
        max = item->input.state;
        message = item->input.message;
      }
    }
    if (max == v1::READY) return {"", ""};
    return {v1::FleetStateName(max), message};
  }
};

// Random upserts, pending targets and removals over a small universe (fixed
// seed); after each one, every aggregate equals the from-scratch recount.
TEST_CASE("StatusIndex equals a from-scratch recount after every change", "[summary]") {
  const std::vector<v1::BundleDeploymentState> states = {
      v1::READY,       v1::READY,    v1::READY,       v1::NOT_READY, v1::WAIT_APPLIED,
      v1::ERR_APPLIED, v1::MODIFIED, v1::OUT_OF_SYNC, v1::PENDING,   v1::STATE_UNSPECIFIED};
  const std::vector<std::string> gitrepos = {"g0", "g1", "g2", ""};
  constexpr int kBundles = 8;
  constexpr int kClusters = 14;  // enough for more than 10 entries per bundle
  std::mt19937 rng(20240611);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  auto cluster_name = [](int c) { return absl::StrCat("n", (c * 5) % kClusters); };

  StatusIndex index;
  Model model;
  int pending_ops = 0;
  int removals = 0;
  for (int step = 0; step < 3000; ++step) {
    const int b = pick(kBundles);
    const int c = pick(kClusters);
    const std::string bundle = absl::StrCat("b", b);
    const std::string cluster_id = absl::StrCat("id", c);
    const int op = pick(10);
    if (op < 7) {
      DeploymentSummaryInput bd;
      bd.bundle = bundle;
      // Mostly the bundle's own GitRepo; sometimes it moves.
      bd.gitrepo = pick(8) == 0 ? gitrepos[pick(4)] : gitrepos[b % 4];
      bd.cluster_id = cluster_id;
      bd.cluster_name = cluster_name(c);
      bd.state = states[pick(static_cast<int>(states.size()))];
      bd.message = pick(2) == 0 ? "" : absl::StrCat("m", step);
      for (int i = pick(3); i > 0; --i) bd.non_ready.push_back(absl::StrCat("pod.v1 ns/p", i));
      for (int i = pick(2); i > 0; --i) bd.modified.push_back(absl::StrCat("cm.v1 ns/c", i));
      index.Upsert(bd);
      model.items[{bundle, cluster_id}] = Model::Item{.input = bd, .pending = false};
    } else if (op < 8) {
      ++pending_ops;
      index.SetPending(bundle, cluster_id, cluster_name(c));
      DeploymentSummaryInput bd;
      bd.bundle = bundle;
      bd.cluster_id = cluster_id;
      bd.cluster_name = cluster_name(c);
      bd.state = v1::PENDING;
      model.items[{bundle, cluster_id}] = Model::Item{.input = bd, .pending = true};
    } else {
      removals += model.items.erase({bundle, cluster_id}) > 0 ? 1 : 0;
      index.Remove(bundle, cluster_id);
    }

    INFO("step " << step);
    REQUIRE(index.size() == model.items.size());
    for (int i = 0; i < kBundles; ++i) {
      const std::string name = absl::StrCat("b", i);
      REQUIRE(index.Bundle(name) == model.Bundle(name));
    }
    for (const std::string& g : gitrepos) {
      if (g.empty()) continue;
      REQUIRE(index.GitRepo(g) == model.GitRepo(g));
      REQUIRE(index.GitRepoReadyClusters(g) ==
              model.ReadyCells([](const DeploymentSummaryInput& in) { return in.gitrepo; }, g));
      GitRepoDisplay d = index.GitRepoDisplayOf(g, true);
      REQUIRE(std::pair{d.state, d.message} == model.GitRepoWorst(g));
    }
    for (int i = 0; i < kClusters; ++i) {
      const std::string id = absl::StrCat("id", i);
      REQUIRE(index.Cluster(id) == model.Cluster(id));
      REQUIRE(index.ClusterReadyGitRepos(id) ==
              model.ReadyCells([](const DeploymentSummaryInput& in) { return in.cluster_id; }, id));
    }
  }
  // The run exercised what it claims to: full lists, pending targets, removals.
  CHECK(pending_ops > 100);
  CHECK(removals > 100);
  int full = 0;
  for (int i = 0; i < kBundles; ++i) {
    full += index.Bundle(absl::StrCat("b", i)).non_ready_resources.size() == 10 ? 1 : 0;
  }
  CHECK(full > 0);
}

}  // namespace
}  // namespace flotilla::manager
