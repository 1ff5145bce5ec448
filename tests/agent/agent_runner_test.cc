#include "agent/client/agent_runner.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>

#include "agent/apply/dir_applier.h"
#include "agent/state/agent_state.h"
#include "common/clock.h"
#include "common/tls/pki.h"
#include "tests/support/test_util.h"

namespace flotilla::agent {
namespace {

using Catch::Matchers::Contains;

// A state directory as a registered agent leaves it: identity, key and a
// certificate for that key.
struct RegisteredState {
  flotilla::testing::TempDir dir;
  common::SimulatedClock clock;
  std::string cert_pem;
  std::string key_pem;

  RegisteredState() {
    auto ca = common::CertificateAuthority::Create("test-ca", clock);
    REQUIRE(ca.ok());
    auto issued = ca->IssueServerCertificate({"127.0.0.1"}, absl::Hours(24), clock);
    REQUIRE(issued.ok());
    cert_pem = issued->first;
    key_pem = issued->second;
    auto state = AgentState::Open(dir.Sub("state"));
    REQUIRE(state.ok());
    REQUIRE(state->SaveIdentity(Identity{"c-1234", "dev"}).ok());
    REQUIRE(state->WriteFile("cert.pem", cert_pem).ok());
    REQUIRE(state->WriteFile("key.pem", key_pem).ok());
  }

  absl::Status EnsureRegistered() {
    auto state = AgentState::Open(dir.Sub("state"));
    REQUIRE(state.ok());
    DirApplier applier(dir.Sub("target"));
    AgentOptions options;
    options.manager = "127.0.0.1:1";  // never dialled: the agent is registered
    AgentRunner runner(options, &*state, &applier, &clock);
    return runner.EnsureRegistered();
  }
};

TEST_CASE("A registered agent with its own key and certificate starts without dialling") {
  RegisteredState s;
  CHECK(s.EnsureRegistered().ok());
}

TEST_CASE("An agent whose key.pem does not match cert.pem refuses to start and says why") {
  RegisteredState s;
  auto other = common::GenerateKeyPair();
  REQUIRE(other.ok());
  auto state = AgentState::Open(s.dir.Sub("state"));
  REQUIRE(state.ok());
  REQUIRE(state->WriteFile("key.pem", other->private_key_pem).ok());

  absl::Status st = s.EnsureRegistered();
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(st.message()), Contains("key.pem and cert.pem do not belong together"));
  CHECK_THAT(std::string(st.message()), Contains("register again"));
}

TEST_CASE("An agent with cert.pem but no key.pem refuses to start and names the file") {
  RegisteredState s;
  REQUIRE(std::remove(s.dir.Sub("state/key.pem").c_str()) == 0);
  absl::Status st = s.EnsureRegistered();
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(st.message()), Contains("key.pem is missing"));
}

TEST_CASE("An unregistered agent without a token is told to pass --token") {
  flotilla::testing::TempDir dir;
  common::SimulatedClock clock;
  auto state = AgentState::Open(dir.Sub("state"));
  REQUIRE(state.ok());
  DirApplier applier(dir.Sub("target"));
  AgentOptions options;
  options.manager = "127.0.0.1:1";
  AgentRunner runner(options, &*state, &applier, &clock);
  absl::Status st = runner.EnsureRegistered();
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(st.message()), Contains("--token"));
}

}  // namespace
}  // namespace flotilla::agent
