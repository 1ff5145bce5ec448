// The operator API: EffectiveState, and FleetServiceImpl (over FleetApi) served
// in-process by gRPC on 127.0.0.1:0 (insecure transport: this test is about
// tokens and roles, not TLS) over a real SqliteStore.
#include "manager/server/api_service.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/hash.h"
#include "flotilla/v1/api.grpc.pb.h"
#include "manager/controller/fleet_controller.h"
#include "manager/server/tokens.h"
#include "manager/store/records.h"
#include "manager/store/sqlite_store.h"
#include "manager/store/store.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

constexpr char kDenied[] =
    "invalid, expired or revoked API token (send \"authorization: Bearer flta.<id>.<secret>\")";
constexpr char kCaPin[] = "sha256:0123456789abcdef";

// --- EffectiveState ------------------------------------------------------------

BundleDeploymentRecord Bd(const std::string& deployment_id, const std::string& applied, int state) {
  BundleDeploymentRecord bd;
  bd.bundle = "b";
  bd.cluster_id = "c-1";
  bd.deployment_id = deployment_id;
  bd.applied_deployment_id = applied;
  bd.state = state;
  return bd;
}

// Not yet applied (applied id differs, including never applied): WaitApplied,
// unless the agent reported ErrApplied.
TEST_CASE("EffectiveState of a deployment not yet applied is WaitApplied or ErrApplied", "[api]") {
  for (int state : {v1::STATE_UNSPECIFIED, v1::READY, v1::NOT_READY, v1::PENDING, v1::OUT_OF_SYNC,
                    v1::MODIFIED, v1::WAIT_APPLIED}) {
    INFO("reported state " << v1::BundleDeploymentState_Name(state));
    CHECK(EffectiveState(Bd("h2:o", "h1:o", state)) == v1::WAIT_APPLIED);
    CHECK(EffectiveState(Bd("h2:o", "", state)) == v1::WAIT_APPLIED);
  }
  CHECK(EffectiveState(Bd("h2:o", "h1:o", v1::ERR_APPLIED)) == v1::ERR_APPLIED);
  CHECK(EffectiveState(Bd("h2:o", "", v1::ERR_APPLIED)) == v1::ERR_APPLIED);
}

// Applied: the agent's reported state, and WaitApplied while it has reported
// none.
TEST_CASE("EffectiveState of an applied deployment is the agent's reported state", "[api]") {
  CHECK(EffectiveState(Bd("h1:o", "h1:o", v1::STATE_UNSPECIFIED)) == v1::WAIT_APPLIED);
  for (int state : {v1::READY, v1::NOT_READY, v1::PENDING, v1::OUT_OF_SYNC, v1::MODIFIED,
                    v1::WAIT_APPLIED, v1::ERR_APPLIED}) {
    INFO("reported state " << v1::BundleDeploymentState_Name(state));
    CHECK(EffectiveState(Bd("h1:o", "h1:o", state)) ==
          static_cast<v1::BundleDeploymentState>(state));
  }
  // Staged but not released (rollout or pause): OutOfSync once applied and
  // ready, but NotReady and ErrApplied win.
  BundleDeploymentRecord held = Bd("h1:o", "h1:o", v1::READY);
  held.staged_deployment_id = "h2:o";
  CHECK(EffectiveState(held) == v1::OUT_OF_SYNC);
  held.state = v1::MODIFIED;
  CHECK(EffectiveState(held) == v1::OUT_OF_SYNC);
  held.state = v1::NOT_READY;
  CHECK(EffectiveState(held) == v1::NOT_READY);
  held.state = v1::ERR_APPLIED;
  CHECK(EffectiveState(held) == v1::ERR_APPLIED);
  BundleDeploymentRecord never_released = Bd("", "", v1::STATE_UNSPECIFIED);
  never_released.staged_deployment_id = "h2:o";
  CHECK(EffectiveState(never_released) == v1::OUT_OF_SYNC);
  // A record with no deployment id at all counts as applied.
  CHECK(EffectiveState(Bd("", "", v1::STATE_UNSPECIFIED)) == v1::WAIT_APPLIED);
  CHECK(EffectiveState(Bd("", "", v1::READY)) == v1::READY);
}

// --- FleetServiceImpl over gRPC --------------------------------------------------

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::unique_ptr<SqliteStore> OpenStore(const testing::TempDir& dir) {
  auto store = SqliteStore::Open(dir.Sub("flotilla.db"));
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

ControllerOptions ControllerOptionsIn(const testing::TempDir& dir) {
  ControllerOptions options;
  options.git_cache_dir = dir.Sub("git");
  return options;
}

// A manager with one registered cluster (edge-1, labels env=dev and
// tier=web), an admin token from EnsureAdminToken, and FleetService on
// 127.0.0.1:<ephemeral port>.
class ApiServer {
 public:
  static constexpr char kClusterId[] = "c-00000000000000e1";

  ApiServer()
      : store_(OpenStore(dir_)),
        controller_(store_.get(), &clock_, ControllerOptionsIn(dir_)),
        api_(&controller_, store_.get(), &clock_, kCaPin),
        service_(&api_) {
    auto created = EnsureAdminToken(*store_, clock_, dir_.Sub("admin.token"));
    INFO(created.status().ToString());
    REQUIRE(created.ok());
    REQUIRE(*created);
    std::string file = ReadBytes(dir_.Sub("admin.token"));
    REQUIRE(!file.empty());
    admin_token_ = file.substr(0, file.find('\n'));

    ClusterRecord c;
    c.id = kClusterId;
    c.name = "edge-1";
    c.labels = {{"env", "dev"}, {"tier", "web"}};
    c.created = clock_.Now();
    c.cert_not_after = clock_.Now() + absl::Hours(24);
    absl::Status st = store_->Write([&](Tx& tx) { return tx.InsertCluster(c); });
    INFO(st.ToString());
    REQUIRE(st.ok());
    st = controller_.Load();
    INFO(st.ToString());
    REQUIRE(st.ok());

    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
    REQUIRE(port_ > 0);
    stub_ = v1::FleetService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials()));
  }
  ~ApiServer() {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    server_->Wait();
  }
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Stores an API token with `role` and returns its "flta.<id>.<secret>".
  std::string AddApiToken(const std::string& role, absl::Time expires = absl::InfiniteFuture()) {
    ApiTokenRecord r;
    r.id = common::RandomHex(6);
    const std::string secret = common::Base64UrlEncode(common::RandomBytes(32));
    r.secret_sha256 = common::Sha256Hex(secret);
    r.role = role;
    r.description = "test " + role;
    r.created = clock_.Now();
    r.expires = expires;
    absl::Status st = store_->Write([&](Tx& tx) { return tx.InsertApiToken(r); });
    INFO(st.ToString());
    REQUIRE(st.ok());
    return absl::StrCat("flta.", r.id, ".", secret);
  }

  // A client context with a deadline and, unless empty, this authorization value.
  static std::unique_ptr<grpc::ClientContext> Context(const std::string& authorization) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
    return ctx;
  }
  static std::string Bearer(const std::string& token) { return "Bearer " + token; }

  grpc::Status ListClusters(const std::string& authorization, v1::ListClustersResponse* resp) {
    return stub_->ListClusters(Context(authorization).get(), v1::ListClustersRequest(), resp);
  }
  grpc::Status LabelCluster(const std::string& authorization, const v1::LabelClusterRequest& req,
                            v1::Cluster* resp) {
    return stub_->LabelCluster(Context(authorization).get(), req, resp);
  }
  grpc::Status CreateRegistrationToken(const std::string& authorization,
                                       const v1::CreateRegistrationTokenRequest& req,
                                       v1::CreateRegistrationTokenResponse* resp) {
    return stub_->CreateRegistrationToken(Context(authorization).get(), req, resp);
  }

  std::optional<ClusterRecord> StoredCluster() {
    std::optional<ClusterRecord> out;
    absl::Status st = store_->Read([&](Tx& tx) -> absl::Status {
      auto rec = tx.GetCluster(kClusterId);
      if (!rec.ok()) return rec.status();
      out = *rec;
      return absl::OkStatus();
    });
    INFO(st.ToString());
    REQUIRE(st.ok());
    return out;
  }

  std::optional<RegistrationTokenRecord> StoredRegistrationToken(const std::string& id) {
    std::optional<RegistrationTokenRecord> out;
    absl::Status st = store_->Read([&](Tx& tx) -> absl::Status {
      auto rec = tx.GetRegistrationToken(id);
      if (!rec.ok()) return rec.status();
      out = *rec;
      return absl::OkStatus();
    });
    INFO(st.ToString());
    REQUIRE(st.ok());
    return out;
  }

  std::vector<AuditEventRecord> Audit(const std::string& action) {
    std::vector<AuditEventRecord> out;
    absl::Status st = store_->Read([&](Tx& tx) -> absl::Status {
      auto list = tx.ListAudit(0, 10000);
      if (!list.ok()) return list.status();
      for (const auto& a : *list) {
        if (a.action == action) out.push_back(a);
      }
      return absl::OkStatus();
    });
    INFO(st.ToString());
    REQUIRE(st.ok());
    return out;
  }

  v1::FleetService::Stub& stub() { return *stub_; }
  FleetController& controller() { return controller_; }
  common::SimulatedClock& clock() { return clock_; }
  const std::string& admin_token() const { return admin_token_; }

 private:
  testing::TempDir dir_;
  common::SimulatedClock clock_;
  std::unique_ptr<SqliteStore> store_;
  FleetController controller_;
  FleetApi api_;
  FleetServiceImpl service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::FleetService::Stub> stub_;
  std::string admin_token_;
};

v1::LabelClusterRequest SetLabel(const std::string& cluster, const std::string& key,
                                 const std::string& value) {
  v1::LabelClusterRequest req;
  req.set_cluster(cluster);
  (*req.mutable_set())[key] = value;
  return req;
}

// No authorization metadata: every RPC is UNAUTHENTICATED and says how to
// send a token; nothing changes.
TEST_CASE("An API call without a token is UNAUTHENTICATED", "[api]") {
  ApiServer api;
  v1::ListClustersResponse clusters;
  grpc::Status st = api.ListClusters("", &clusters);
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK_THAT(st.error_message(), Contains("missing API token"));
  CHECK(clusters.clusters_size() == 0);

  v1::Cluster cluster;
  st = api.LabelCluster("", SetLabel("edge-1", "env", "prod"), &cluster);
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  v1::CreateRegistrationTokenResponse token;
  st = api.CreateRegistrationToken("", v1::CreateRegistrationTokenRequest(), &token);
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(token.token().empty());

  v1::ListGitReposResponse repos;
  st = api.stub().ListGitRepos(ApiServer::Context("").get(), v1::ListGitReposRequest(), &repos);
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(api.StoredCluster()->labels.at("env") == "dev");
}

// A token that is unknown, has the wrong secret or shape, is a registration
// token, or is sent without "Bearer ": all UNAUTHENTICATED.
TEST_CASE("An API call with a bad token is UNAUTHENTICATED", "[api]") {
  ApiServer api;
  const std::string admin_id = api.admin_token().substr(5, api.admin_token().find('.', 5) - 5);
  const std::string wrong_secret = std::string(43, 'A');
  for (const std::string& token :
       {"flta.000000000000." + wrong_secret, "flta." + admin_id + "." + wrong_secret,
        std::string("flta.garbage"), std::string("nonsense"),
        "flt1." + admin_id + "." + wrong_secret}) {
    INFO("token " << token);
    v1::ListClustersResponse resp;
    grpc::Status st = api.ListClusters(ApiServer::Bearer(token), &resp);
    CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
    CHECK(st.error_message() == kDenied);
    CHECK(resp.clusters_size() == 0);
  }

  v1::ListClustersResponse resp;
  grpc::Status st = api.ListClusters(api.admin_token(), &resp);  // no "Bearer "
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(st.error_message() == "authorization must be \"Bearer flta.<id>.<secret>\" (an API token)");
  st = api.ListClusters("Basic " + api.admin_token(), &resp);
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
}

// A viewer reads but does not write: List calls work, LabelCluster and
// CreateRegistrationToken are PERMISSION_DENIED naming the role and the RPC,
// and nothing is changed or created.
TEST_CASE("A viewer token may list but not label clusters or create registration tokens", "[api]") {
  ApiServer api;
  const std::string viewer = ApiServer::Bearer(api.AddApiToken("viewer"));

  v1::ListClustersResponse clusters;
  grpc::Status st = api.ListClusters(viewer, &clusters);
  INFO(st.error_message());
  REQUIRE(st.ok());
  REQUIRE(clusters.clusters_size() == 1);
  CHECK(clusters.clusters(0).id() == ApiServer::kClusterId);
  CHECK(clusters.clusters(0).name() == "edge-1");
  CHECK(clusters.clusters(0).labels().at("env") == "dev");
  CHECK(clusters.clusters(0).state() == v1::STATE_UNSPECIFIED);  // never checked in
  CHECK(clusters.clusters(0).cert_not_after_unix_millis() ==
        absl::ToUnixMillis(api.clock().Now() + absl::Hours(24)));

  v1::ListGitReposResponse repos;
  CHECK(api.stub().ListGitRepos(ApiServer::Context(viewer).get(), {}, &repos).ok());
  v1::ListBundlesResponse bundles;
  CHECK(api.stub().ListBundles(ApiServer::Context(viewer).get(), {}, &bundles).ok());
  v1::ListBundleDeploymentsResponse bds;
  CHECK(api.stub().ListBundleDeployments(ApiServer::Context(viewer).get(), {}, &bds).ok());

  v1::Cluster labelled;
  st = api.LabelCluster(viewer, SetLabel("edge-1", "env", "prod"), &labelled);
  CHECK(st.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(st.error_message() ==
        "role viewer may not call LabelCluster (it needs cluster-admin, admin)");
  CHECK(api.StoredCluster()->labels.at("env") == "dev");
  CHECK(api.Audit("cluster.label").empty());

  v1::CreateRegistrationTokenResponse token;
  st = api.CreateRegistrationToken(viewer, v1::CreateRegistrationTokenRequest(), &token);
  CHECK(st.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(st.error_message() ==
        "role viewer may not call CreateRegistrationToken (it needs cluster-admin, admin)");
  CHECK(token.token().empty());
  CHECK(api.Audit("token.create").empty());
}

// The admin token written at first start can do all three: list, label
// (stored and audited under its id) and create a registration token (with
// the CA pin, stored with the requested options).
TEST_CASE("The first-start admin token may list, label clusters and create registration tokens",
          "[api]") {
  ApiServer api;
  const std::string admin = ApiServer::Bearer(api.admin_token());
  const std::string admin_id = api.admin_token().substr(5, api.admin_token().find('.', 5) - 5);

  v1::ListClustersResponse clusters;
  grpc::Status st = api.ListClusters(admin, &clusters);
  INFO(st.error_message());
  REQUIRE(st.ok());
  REQUIRE(clusters.clusters_size() == 1);
  CHECK(clusters.clusters(0).name() == "edge-1");

  v1::LabelClusterRequest label = SetLabel("edge-1", "env", "prod");
  label.add_remove("tier");
  v1::Cluster labelled;
  st = api.LabelCluster(admin, label, &labelled);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(labelled.id() == ApiServer::kClusterId);
  CHECK(labelled.name() == "edge-1");
  CHECK(std::map<std::string, std::string>(labelled.labels().begin(), labelled.labels().end()) ==
        std::map<std::string, std::string>{{"env", "prod"}});
  CHECK(api.StoredCluster()->labels == std::map<std::string, std::string>{{"env", "prod"}});
  auto label_audit = api.Audit("cluster.label");
  REQUIRE(label_audit.size() == 1);
  CHECK(label_audit[0].actor == "token:" + admin_id);
  CHECK(label_audit[0].resource == std::string("cluster/") + ApiServer::kClusterId);

  v1::ListClustersResponse relisted;
  st = api.ListClusters(admin, &relisted);
  REQUIRE(st.ok());
  REQUIRE(relisted.clusters_size() == 1);
  CHECK(relisted.clusters(0).labels().at("env") == "prod");

  v1::CreateRegistrationTokenRequest req;
  req.set_ttl_seconds(7200);
  req.set_max_uses(1);
  (*req.mutable_labels())["env"] = "prod";
  req.set_cluster_name("edge-2");
  v1::CreateRegistrationTokenResponse token;
  st = api.CreateRegistrationToken(admin, req, &token);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK_THAT(token.token(), StartsWith("flt1." + token.id() + "."));
  CHECK(ParseToken(kRegistrationTokenPrefix, token.token()).ok());
  CHECK(token.ca_pin() == kCaPin);
  CHECK(token.expires_unix_millis() == absl::ToUnixMillis(api.clock().Now() + absl::Hours(2)));
  auto stored = api.StoredRegistrationToken(token.id());
  REQUIRE(stored.has_value());
  CHECK(stored->created_by == "token:" + admin_id);
  CHECK(stored->max_uses == 1);
  CHECK(stored->cluster_name == "edge-2");
  CHECK(stored->labels == std::map<std::string, std::string>{{"env", "prod"}});

  // No TTL means the default hour; a TTL over the maximum is bad input.
  v1::CreateRegistrationTokenResponse default_ttl;
  REQUIRE(api.CreateRegistrationToken(admin, {}, &default_ttl).ok());
  CHECK(default_ttl.expires_unix_millis() ==
        absl::ToUnixMillis(api.clock().Now() + absl::Hours(1)));
  v1::CreateRegistrationTokenRequest too_long;
  too_long.set_ttl_seconds(25 * 3600);
  v1::CreateRegistrationTokenResponse refused;
  st = api.CreateRegistrationToken(admin, too_long, &refused);
  CHECK(st.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(st.error_message() == "token ttl must be between 1s and 24h");
  CHECK(refused.token().empty());
}

// cluster-admin labels clusters and creates tokens; deployer, like viewer,
// only reads.
TEST_CASE("A cluster-admin token may label and create tokens, a deployer token may not", "[api]") {
  ApiServer api;
  const std::string cluster_admin = ApiServer::Bearer(api.AddApiToken("cluster-admin"));
  const std::string deployer = ApiServer::Bearer(api.AddApiToken("deployer"));

  v1::Cluster labelled;
  grpc::Status st =
      api.LabelCluster(cluster_admin, SetLabel(ApiServer::kClusterId, "env", "qa"), &labelled);
  INFO(st.error_message());
  CHECK(st.ok());
  CHECK(api.StoredCluster()->labels.at("env") == "qa");
  v1::CreateRegistrationTokenResponse token;
  CHECK(api.CreateRegistrationToken(cluster_admin, {}, &token).ok());

  v1::ListClustersResponse clusters;
  CHECK(api.ListClusters(deployer, &clusters).ok());
  st = api.LabelCluster(deployer, SetLabel("edge-1", "env", "prod"), &labelled);
  CHECK(st.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(st.error_message() ==
        "role deployer may not call LabelCluster (it needs cluster-admin, admin)");
  st = api.CreateRegistrationToken(deployer, {}, &token);
  CHECK(st.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(api.StoredCluster()->labels.at("env") == "qa");
}

// The server checks expiry with its clock: a viewer token that worked stops
// working once the simulated clock reaches its expiry.
TEST_CASE("An API token stops working over gRPC when it expires", "[api]") {
  ApiServer api;
  const std::string viewer =
      ApiServer::Bearer(api.AddApiToken("viewer", api.clock().Now() + absl::Hours(1)));
  v1::ListClustersResponse clusters;
  CHECK(api.ListClusters(viewer, &clusters).ok());

  api.clock().Advance(absl::Hours(1));
  grpc::Status st = api.ListClusters(viewer, &clusters);
  CHECK(st.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(st.error_message() == kDenied);
}

// Labeling a cluster that does not exist is NOT_FOUND for a caller who may
// label; listing deployments of an unknown cluster is NOT_FOUND for a reader.
TEST_CASE("Authorized calls about an unknown cluster are NOT_FOUND", "[api]") {
  ApiServer api;
  v1::Cluster labelled;
  grpc::Status st = api.LabelCluster(ApiServer::Bearer(api.admin_token()),
                                     SetLabel("nowhere", "env", "prod"), &labelled);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(st.error_message() == "cluster \"nowhere\" not found");

  v1::ListBundleDeploymentsRequest req;
  req.set_cluster("nowhere");
  v1::ListBundleDeploymentsResponse bds;
  st = api.stub().ListBundleDeployments(
      ApiServer::Context(ApiServer::Bearer(api.AddApiToken("viewer"))).get(), req, &bds);
  CHECK(st.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(st.error_message() == "cluster \"nowhere\" not found");
}

// Fleet's GitRepo conditions (status_controller.go): a repository that
// cannot be fetched is Accepted but not GitPolling, Stalled and not Ready,
// with the fetch error as the message.
TEST_CASE("ListGitRepos reports Fleet's conditions for a GitRepo that cannot be fetched", "[api]") {
  ApiServer server;
  const std::string yaml =
      "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata: {name: gone}\n"
      "spec: {repo: /nonexistent/repository, branch: main}\n";
  v1::ApplyRequest apply;
  apply.set_yaml(yaml);
  v1::ApplyResponse applied;
  grpc::Status st = server.stub().Apply(
      ApiServer::Context(ApiServer::Bearer(server.admin_token())).get(), apply, &applied);
  INFO(st.error_message());
  REQUIRE(st.ok());
  CHECK(applied.kind() == "GitRepo");
  CHECK(applied.outcome() == v1::APPLY_OUTCOME_CREATED);
  CHECK_FALSE(server.controller().SyncGitRepo("gone").ok());

  v1::ListGitReposResponse list;
  st = server.stub().ListGitRepos(ApiServer::Context(ApiServer::Bearer(server.admin_token())).get(),
                                  v1::ListGitReposRequest(), &list);
  REQUIRE(st.ok());
  REQUIRE(list.gitrepos_size() == 1);
  std::map<std::string, v1::Condition> conditions;
  for (const auto& c : list.gitrepos(0).conditions()) conditions[c.type()] = c;
  CHECK(conditions.at("Accepted").status() == "True");
  CHECK(conditions.at("GitPolling").status() == "False");
  CHECK(conditions.at("GitPolling").reason() == "FetchFailed");
  CHECK_FALSE(conditions.at("GitPolling").message().empty());
  CHECK(conditions.at("Stalled").status() == "True");
  CHECK(conditions.at("Ready").status() == "False");
  CHECK(conditions.at("Ready").message() == list.gitrepos(0).error());
}

}  // namespace
}  // namespace flotilla::manager
