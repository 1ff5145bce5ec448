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
#include <sstream>
#include <string>

#include "absl/synchronization/mutex.h"
#include "cli/cli.h"
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
// remembering the authorization header and deadline of the last call.
class RecordingFleetService : public v1::FleetService::Service {
 public:
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

}  // namespace
}  // namespace flotilla::cli
