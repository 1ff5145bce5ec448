// The real client over loopback TLS: certificates made with the openssl CLI,
// a FleetService served by gRPC on 127.0.0.1:0, the CLI run end to end.
#include "cli/grpc_fleet_api.h"

#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "tests/cli/fake_fleet_api.h"

namespace flotilla::cli {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A self-signed certificate for 127.0.0.1, serving as its own CA.
struct TestCertificate {
  explicit TestCertificate(const testing::ScratchDir& dir, const std::string& name) {
    cert_path = dir.Path(name + ".pem");
    key_path = dir.Path(name + ".key");
    std::string command =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=flotilla-test -addext subjectAltName=IP:127.0.0.1 -keyout " +
        key_path + " -out " + cert_path + " >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
    cert_pem = ReadFile(cert_path);
    key_pem = ReadFile(key_path);
  }
  std::string cert_path, key_path, cert_pem, key_pem;
};

// Answers ListClusters with one cluster and LabelCluster with NOT_FOUND,
// Apply as a created Secret, Delete with NOT_FOUND for "nope", and lists one
// ClusterGroup and one Secret; remembers the authorization header and
// deadline of the last call and the Apply and Delete requests.
class RecordingFleetService : public v1::FleetService::Service {
 public:
  grpc::Status Apply(grpc::ServerContext* context, const v1::ApplyRequest* request,
                     v1::ApplyResponse* response) override {
    Record(*context);
    absl::MutexLock lock(&mu_);
    applied_.push_back(request->yaml());
    response->set_kind("Secret");
    response->set_name("git-auth");
    response->set_outcome(v1::APPLY_OUTCOME_CREATED);
    return grpc::Status::OK;
  }
  grpc::Status Delete(grpc::ServerContext* context, const v1::DeleteRequest* request,
                      v1::DeleteResponse*) override {
    Record(*context);
    absl::MutexLock lock(&mu_);
    deleted_.push_back(request->kind() + "/" + request->name());
    if (request->name() == "nope") {
      return grpc::Status(grpc::StatusCode::NOT_FOUND,
                          request->kind() + " \"" + request->name() + "\" not found");
    }
    return grpc::Status::OK;
  }
  grpc::Status ListClusterGroups(grpc::ServerContext* context, const v1::ListClusterGroupsRequest*,
                                 v1::ListClusterGroupsResponse* response) override {
    Record(*context);
    v1::ClusterGroup* group = response->add_cluster_groups();
    group->set_name("prod");
    group->set_has_selector(true);
    group->set_selector("env=prod");
    group->set_cluster_count(2);
    group->set_ready_clusters(1);
    group->add_non_ready_clusters("prod-us-1");
    return grpc::Status::OK;
  }
  grpc::Status ListSecrets(grpc::ServerContext* context, const v1::ListSecretsRequest*,
                           v1::ListSecretsResponse* response) override {
    Record(*context);
    v1::Secret* secret = response->add_secrets();
    secret->set_name("git-auth");
    secret->set_type("basic-auth");
    secret->add_keys("password");
    secret->add_keys("username");
    return grpc::Status::OK;
  }
  grpc::Status ListClusters(grpc::ServerContext* context, const v1::ListClustersRequest*,
                            v1::ListClustersResponse* response) override {
    Record(*context);
    v1::Cluster* cluster = response->add_clusters();
    cluster->set_name("prod-eu-1");
    cluster->set_ready_bundles(1);
    cluster->set_desired_bundles(1);
    return grpc::Status::OK;
  }
  grpc::Status LabelCluster(grpc::ServerContext* context, const v1::LabelClusterRequest* request,
                            v1::Cluster*) override {
    Record(*context);
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "cluster \"" + request->cluster() + "\" not found");
  }

  std::string authorization() {
    absl::MutexLock lock(&mu_);
    return authorization_;
  }
  std::chrono::system_clock::time_point deadline() {
    absl::MutexLock lock(&mu_);
    return deadline_;
  }
  std::vector<std::string> applied() {
    absl::MutexLock lock(&mu_);
    return applied_;
  }
  std::vector<std::string> deleted() {
    absl::MutexLock lock(&mu_);
    return deleted_;
  }

 private:
  void Record(const grpc::ServerContext& context) {
    absl::MutexLock lock(&mu_);
    auto it = context.client_metadata().find("authorization");
    authorization_ = it == context.client_metadata().end()
                         ? ""
                         : std::string(it->second.data(), it->second.size());
    deadline_ = context.deadline();
  }

  absl::Mutex mu_;
  std::string authorization_ ABSL_GUARDED_BY(mu_);
  std::chrono::system_clock::time_point deadline_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> applied_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> deleted_ ABSL_GUARDED_BY(mu_);
};

// A TLS FleetService on a free loopback port.
class TestManager {
 public:
  explicit TestManager(const TestCertificate& cert) {
    grpc::SslServerCredentialsOptions tls;
    tls.pem_key_cert_pairs.push_back({cert.key_pem, cert.cert_pem});
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::SslServerCredentials(tls), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
  }
  ~TestManager() { server_->Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  RecordingFleetService& service() { return service_; }

 private:
  RecordingFleetService service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// A loopback port with nothing listening: bound, then closed again.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

// Runs the CLI with the real gRPC factory and clock.
struct RealCli {
  explicit RealCli(const testing::ScratchDir& dir, const std::string& ca_path) {
    env[kCaFileEnv] = ca_path;
    env[kTokenFileEnv] = dir.Write("token", "flta.t0k3n.s3cret\n");
  }
  testing::CliResult Run(const std::vector<std::string>& args) {
    std::istringstream in;
    std::ostringstream out, err;
    testing::CliResult result;
    result.exit_code = RunCli(args, in, out, err, env, factory, *common::RealClock::Get());
    result.out = out.str();
    result.err = err.str();
    return result;
  }
  std::map<std::string, std::string> env;
  GrpcFleetApiFactory factory{*common::RealClock::Get()};
};

// The whole path: TLS verified against the CA file, bearer token sent,
// a 30 s deadline set, the answer printed.
TEST_CASE("The CLI calls a TLS manager with the bearer token and a 30s deadline", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  TestManager manager(cert);
  RealCli cli(dir, cert.cert_path);

  auto started = std::chrono::system_clock::now();
  auto result = cli.Run({"get", "clusters", "--server", manager.address()});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out ==
        "NAME        BUNDLES-READY   CONNECTED   LAST-SEEN   STATUS        LABELS\n"
        "prod-eu-1   1/1             false       <never>     WaitCheckIn   <none>\n");
  CHECK(manager.service().authorization() == "Bearer flta.t0k3n.s3cret");
  auto deadline = manager.service().deadline();
  CHECK(deadline > started + std::chrono::seconds(25));
  CHECK(deadline <= std::chrono::system_clock::now() + std::chrono::seconds(30));
}

// The server's own status code and message reach the operator.
TEST_CASE("A NOT_FOUND from a real manager exits 1 with the code name", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  TestManager manager(cert);
  RealCli cli(dir, cert.cert_path);

  auto result = cli.Run({"label", "cluster", "x", "env=prod", "--server", manager.address()});
  CHECK(result.exit_code == 1);
  CHECK(result.err == "error: NOT_FOUND: cluster \"x\" not found\n");
}

// Nothing listens on the port.
TEST_CASE("A manager that is not listening exits 3 naming the server", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  RealCli cli(dir, cert.cert_path);
  std::string address = "127.0.0.1:" + std::to_string(ClosedPort());

  auto result = cli.Run({"get", "clusters", "--server", address});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::StartsWith("error: cannot reach the manager at " + address +
                                           ": UNAVAILABLE: "));
}

// The manager's certificate is not signed by the CA the operator trusts.
TEST_CASE("A manager whose certificate the CA file does not vouch for exits 3", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  TestCertificate other(dir, "other-ca");
  TestManager manager(cert);
  RealCli cli(dir, other.cert_path);

  auto result = cli.Run({"get", "clusters", "--server", manager.address()});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::StartsWith("error: cannot reach the manager at " +
                                           manager.address() + ": UNAVAILABLE: "));
  CHECK(manager.service().authorization().empty());
}

// secret create builds the document locally; the manager's answer names it.
TEST_CASE("secret create reaches a real manager's Apply with the Secret document", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  TestManager manager(cert);
  RealCli cli(dir, cert.cert_path);

  auto result = cli.Run({"secret", "create", "generic", "git-auth", "--from-literal", "a=b",
                         "--server", manager.address()});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out == "secret/git-auth created\n");
  REQUIRE(manager.service().applied().size() == 1);
  nlohmann::json doc = nlohmann::json::parse(manager.service().applied()[0]);
  CHECK(doc["kind"] == "Secret");
  CHECK(doc["type"] == "Opaque");
  CHECK(doc["data"]["a"] == "Yg==");
  CHECK(manager.service().authorization() == "Bearer flta.t0k3n.s3cret");
}

// One Delete per name; the NOT_FOUND one is reported and the next still sent.
TEST_CASE("delete reaches a real manager once per name and reports its NOT_FOUND", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  TestManager manager(cert);
  RealCli cli(dir, cert.cert_path);

  auto result = cli.Run({"delete", "gitrepos", "nope", "simple", "--server", manager.address()});
  CHECK(result.exit_code == 1);
  CHECK(result.out == "gitrepo.fleet.cattle.io/simple deleted\n");
  CHECK(result.err ==
        "error: NOT_FOUND: gitrepo \"nope\" not found (gitrepo.fleet.cattle.io/nope)\n");
  CHECK(manager.service().deleted() == std::vector<std::string>{"gitrepo/nope", "gitrepo/simple"});
}

// ListClusterGroups and ListSecrets over the wire, printed as tables.
TEST_CASE("get clustergroups and secrets list from a real manager", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  TestManager manager(cert);
  RealCli cli(dir, cert.cert_path);

  auto groups = cli.Run({"get", "cg", "--server", manager.address()});
  INFO(groups.err);
  CHECK(groups.exit_code == 0);
  CHECK(groups.out ==
        "NAME   CLUSTERS-READY   SELECTOR   NON-READY   LABELS\n"
        "prod   1/2              env=prod   prod-us-1   <none>\n");

  auto secrets = cli.Run({"get", "secrets", "--server", manager.address()});
  CHECK(secrets.exit_code == 0);
  CHECK(secrets.out ==
        "NAME       TYPE         KEYS                AGE\n"
        "git-auth   basic-auth   password,username   <unknown>\n");
}

// login over real TLS: the check reaches the manager with the token, and
// the next command runs from the saved file alone.
TEST_CASE("login against a real manager saves settings the next command uses alone", "[grpc]") {
  testing::ScratchDir dir;
  TestCertificate cert(dir, "manager");
  TestManager manager(cert);
  RealCli cli(dir, cert.cert_path);
  const std::string config = dir.Path("config/flotilla/config");
  cli.env[kConfigEnv] = config;
  const std::string token_file = cli.env[kTokenFileEnv];
  cli.env.erase(kCaFileEnv);
  cli.env.erase(kTokenFileEnv);

  auto login = cli.Run({"login", "--server", manager.address(), "--ca-file", cert.cert_path,
                        "--token-file", token_file});
  INFO(login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(manager.service().authorization() == "Bearer flta.t0k3n.s3cret");

  auto groups = cli.Run({"get", "cg"});
  INFO(groups.err);
  CHECK(groups.exit_code == 0);
  CHECK(groups.out ==
        "NAME   CLUSTERS-READY   SELECTOR   NON-READY   LABELS\n"
        "prod   1/2              env=prod   prod-us-1   <none>\n");
}

}  // namespace
}  // namespace flotilla::cli
