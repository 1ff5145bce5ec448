// Agent registration and renewal (SECURITY.md §1) with the real parts: a
// SqliteStore in a temporary directory, a FleetController on it, an agent CA
// from common/tls/pki.h and a simulated clock.
#include "manager/server/registrar.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/tls/pki.h"
#include "flotilla/v1/agent.pb.h"
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

constexpr char kTrustDomain[] = "flotilla.test";

std::string SpiffeUri(const std::string& cluster_id) {
  return absl::StrCat("spiffe://", kTrustDomain, "/cluster/", cluster_id);
}

std::unique_ptr<SqliteStore> OpenStore(const testing::TempDir& dir) {
  auto store = SqliteStore::Open(dir.Sub("flotilla.db"));
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

common::CertificateAuthority MakeCa(const std::string& name, const common::Clock& clock) {
  auto ca = common::CertificateAuthority::Create(name, clock);
  INFO(ca.status().ToString());
  REQUIRE(ca.ok());
  return *std::move(ca);
}

ControllerOptions ControllerOptionsIn(const testing::TempDir& dir) {
  ControllerOptions options;
  options.git_cache_dir = dir.Sub("git");
  return options;
}

RegistrarOptions TestRegistrarOptions() {
  RegistrarOptions options;
  options.trust_domain = kTrustDomain;
  options.cert_lifetime = absl::Hours(24);
  return options;
}

// An agent's key and the CSR it sends.
struct AgentKey {
  common::KeyPair key;
  std::string csr_pem;
  std::string public_key_sha256;
};

AgentKey NewAgentKey() {
  AgentKey agent;
  auto key = common::GenerateKeyPair();
  REQUIRE(key.ok());
  agent.key = *key;
  auto csr = common::CreateCsr(agent.key, "the-agent-says-anything");
  REQUIRE(csr.ok());
  agent.csr_pem = *csr;
  auto info = common::VerifyCsr(agent.csr_pem);
  REQUIRE(info.ok());
  agent.public_key_sha256 = info->public_key_sha256;
  return agent;
}

// Everything a Registrar needs, wired as the manager's main.cc wires it.
struct Harness {
  Harness()
      : store(OpenStore(dir)),
        controller(store.get(), &clock, ControllerOptionsIn(dir)),
        agent_ca(MakeCa("flotilla agent CA", clock)),
        registrar(store.get(), &controller, &agent_ca, &clock, TestRegistrarOptions()) {
    absl::Status loaded = controller.Load();
    INFO(loaded.ToString());
    REQUIRE(loaded.ok());
  }

  // Creates a registration token; returns {token string, record}.
  std::pair<std::string, RegistrationTokenRecord> Token(RegistrationTokenOptions options = {}) {
    if (options.created_by.empty()) options.created_by = "token:admin";
    auto token = CreateRegistrationToken(*store, clock, options);
    INFO(token.status().ToString());
    REQUIRE(token.ok());
    return *token;
  }

  std::optional<RegistrationTokenRecord> StoredToken(const std::string& id) {
    std::optional<RegistrationTokenRecord> out;
    absl::Status st = store->Read([&](Tx& tx) -> absl::Status {
      auto rec = tx.GetRegistrationToken(id);
      if (!rec.ok()) return rec.status();
      out = *rec;
      return absl::OkStatus();
    });
    INFO(st.ToString());
    REQUIRE(st.ok());
    return out;
  }

  std::vector<ClusterRecord> StoredClusters() {
    std::vector<ClusterRecord> out;
    absl::Status st = store->Read([&](Tx& tx) -> absl::Status {
      auto list = tx.ListClusters();
      if (!list.ok()) return list.status();
      out = *list;
      return absl::OkStatus();
    });
    INFO(st.ToString());
    REQUIRE(st.ok());
    return out;
  }

  std::optional<ClusterRecord> StoredCluster(const std::string& id) {
    std::optional<ClusterRecord> out;
    absl::Status st = store->Read([&](Tx& tx) -> absl::Status {
      auto rec = tx.GetCluster(id);
      if (!rec.ok()) return rec.status();
      out = *rec;
      return absl::OkStatus();
    });
    INFO(st.ToString());
    REQUIRE(st.ok());
    return out;
  }

  std::vector<AuditEventRecord> AuditWithAction(const std::string& action) {
    std::vector<AuditEventRecord> out;
    absl::Status st = store->Read([&](Tx& tx) -> absl::Status {
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

  testing::TempDir dir;
  common::SimulatedClock clock;
  std::unique_ptr<SqliteStore> store;
  FleetController controller;
  common::CertificateAuthority agent_ca;
  Registrar registrar;
};

v1::RegisterRequest Request(const std::string& token, const AgentKey& agent,
                            const std::string& name = "",
                            const std::map<std::string, std::string>& labels = {}) {
  v1::RegisterRequest req;
  req.set_token(token);
  req.set_csr_pem(agent.csr_pem);
  req.set_name(name);
  req.set_agent_version("0.1.0-test");
  for (const auto& [k, v] : labels) {
    v1::Label* label = req.add_labels();
    label->set_key(k);
    label->set_value(v);
  }
  return req;
}

v1::RegisterResponse RegisterOrDie(Harness& h, const v1::RegisterRequest& req) {
  auto resp = h.registrar.Register(req);
  INFO(resp.status().ToString());
  REQUIRE(resp.ok());
  return *std::move(resp);
}

common::CertificateInfo ParseOrDie(const std::string& pem) {
  auto info = common::ParseCertificate(pem);
  INFO(info.status().ToString());
  REQUIRE(info.ok());
  return *std::move(info);
}

bool IsLowerHex(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// --- Register ----------------------------------------------------------------

// The happy path: the manager assigns the id, and the certificate is a
// clientAuth leaf for the agent's own key with exactly one SPIFFE URI naming
// that id. The cluster is stored, known to the controller, the token counted
// and the registration audited without the token secret.
TEST_CASE("Registering with a valid token and CSR yields a SPIFFE certificate for a new cluster",
          "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.max_uses = 1;
  auto [token, record] = h.Token(opts);
  AgentKey agent = NewAgentKey();

  v1::RegisterResponse resp = RegisterOrDie(h, Request(token, agent, "edge-1"));
  const std::string id = resp.cluster_id();
  CHECK_THAT(id, StartsWith("c-"));
  CHECK(id.size() == 2 + 16);
  CHECK(IsLowerHex(id.substr(2)));
  CHECK(resp.cluster_name() == "edge-1");
  CHECK(resp.agent_ca_pem() == h.agent_ca.cert_pem());

  common::CertificateInfo cert = ParseOrDie(resp.certificate_pem());
  CHECK(cert.uri_sans == std::vector<std::string>{SpiffeUri(id)});
  CHECK(cert.dns_sans.empty());
  CHECK(cert.client_auth);
  CHECK_FALSE(cert.server_auth);
  CHECK_FALSE(cert.is_ca);
  CHECK(cert.common_name == "edge-1");
  CHECK(cert.spki_sha256 == agent.public_key_sha256);
  CHECK(cert.not_before == h.clock.Now() - absl::Minutes(5));
  CHECK(cert.not_after == h.clock.Now() + absl::Hours(24));
  CHECK(
      common::VerifyCertificate(resp.certificate_pem(), h.agent_ca.cert_pem(), h.clock.Now()).ok());

  auto from_cert = h.registrar.ClusterIdFromCertificate(resp.certificate_pem());
  REQUIRE(from_cert.ok());
  CHECK(*from_cert == id);

  auto stored = h.StoredCluster(id);
  REQUIRE(stored.has_value());
  CHECK(stored->name == "edge-1");
  CHECK(stored->created == h.clock.Now());
  CHECK(stored->agent_version == "0.1.0-test");
  CHECK(stored->cert_pem == resp.certificate_pem());
  CHECK(stored->cert_serial == cert.serial_hex);
  CHECK(stored->cert_not_after == cert.not_after);
  CHECK(stored->public_key_sha256 == agent.public_key_sha256);
  CHECK(stored->registration_token_id == record.id);
  CHECK_FALSE(stored->revoked);

  auto in_memory = h.controller.GetCluster(id);
  REQUIRE(in_memory.has_value());
  CHECK(in_memory->name == "edge-1");
  CHECK(in_memory->cert_serial == cert.serial_hex);

  auto used = h.StoredToken(record.id);
  REQUIRE(used.has_value());
  CHECK(used->uses == 1);

  auto audit = h.AuditWithAction("cluster.register");
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].actor == "cluster:" + id);
  CHECK(audit[0].resource == "cluster/" + id);
  CHECK(audit[0].outcome == "ok");
  CHECK(audit[0].details ==
        absl::StrCat("name=edge-1 token=", record.id, " serial=", cert.serial_hex));
  auto secret = ParseToken(kRegistrationTokenPrefix, token);
  REQUIRE(secret.ok());
  CHECK_THAT(audit[0].details, !Contains(secret->secret));
}

// No proposed name: the manager names the cluster after the id it assigned.
TEST_CASE("A cluster registered without a name is named after its id", "[registrar]") {
  Harness h;
  auto [token, record] = h.Token();
  v1::RegisterResponse resp = RegisterOrDie(h, Request(token, NewAgentKey()));
  CHECK(resp.cluster_name() == "cluster-" + resp.cluster_id().substr(2));
  CHECK(ParseOrDie(resp.certificate_pem()).common_name == resp.cluster_name());
}

// The agent proposes labels; reserved prefixes are dropped, and where the
// token (the operator) sets the same key, the operator's value wins.
TEST_CASE("A registered cluster gets the requested labels overlaid by the token's labels",
          "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.labels = {{"env", "prod"}, {"team", "edge"}};
  auto [token, record] = h.Token(opts);

  v1::RegisterResponse resp =
      RegisterOrDie(h, Request(token, NewAgentKey(), "edge-1",
                               {{"env", "dev"},
                                {"region", "eu-west"},
                                {"example.com/rack", "r12"},
                                {"flotilla.io/trusted", "true"},
                                {"fleet.cattle.io/cluster-namespace", "fleet-local"},
                                {"management.cattle.io/cluster-name", "local"}}));

  const std::map<std::string, std::string> want = {
      {"env", "prod"}, {"team", "edge"}, {"region", "eu-west"}, {"example.com/rack", "r12"}};
  auto stored = h.StoredCluster(resp.cluster_id());
  REQUIRE(stored.has_value());
  CHECK(stored->labels == want);
  auto in_memory = h.controller.GetCluster(resp.cluster_id());
  REQUIRE(in_memory.has_value());
  CHECK(in_memory->labels == want);
}

// A requested label that is not a valid Kubernetes label fails the whole
// registration: no cluster, and the token use is rolled back.
TEST_CASE("A registration with an invalid requested label is refused and consumes nothing",
          "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.max_uses = 1;
  auto [token, record] = h.Token(opts);

  auto resp = h.registrar.Register(Request(token, NewAgentKey(), "edge-1", {{"env", "not ok"}}));
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(resp.status().message()), Contains("label \"env\": value \"not ok\""));
  CHECK(h.StoredClusters().empty());
  CHECK(h.controller.Clusters().empty());
  CHECK(h.StoredToken(record.id)->uses == 0);

  // The token is still good for a correct request.
  RegisterOrDie(h, Request(token, NewAgentKey(), "edge-1", {{"env", "ok"}}));
}

// A token is usable until the instant before its expiry. From then on it is
// refused with the expiry time and what to do about it.
TEST_CASE("Registering with an expired token is refused with its expiry time", "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.ttl = absl::Hours(1);
  auto [token, record] = h.Token(opts);  // expires 2023-11-14 23:13:20 UTC

  h.clock.Advance(absl::Hours(1) - absl::Seconds(1));
  RegisterOrDie(h, Request(token, NewAgentKey(), "early"));

  h.clock.Advance(absl::Seconds(1));
  auto late = h.registrar.Register(Request(token, NewAgentKey(), "late"));
  REQUIRE_FALSE(late.ok());
  CHECK(late.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(late.status().message()) ==
        absl::StrCat("registration token ", record.id,
                     " expired at 2023-11-14T23:13:20Z; create a new one with `flotilla token "
                     "create`"));
  CHECK(h.StoredClusters().size() == 1);
  CHECK(h.StoredToken(record.id)->uses == 1);
}

// max_uses = 2: two agents (two keys) register, the third is refused and
// nothing is created for it.
TEST_CASE("A token used up to its max uses refuses the next registration", "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.max_uses = 2;
  auto [token, record] = h.Token(opts);

  RegisterOrDie(h, Request(token, NewAgentKey(), "one"));
  RegisterOrDie(h, Request(token, NewAgentKey(), "two"));
  auto third = h.registrar.Register(Request(token, NewAgentKey(), "three"));
  REQUIRE_FALSE(third.ok());
  CHECK(third.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(third.status().message()) ==
        absl::StrCat("registration token ", record.id,
                     " has already been used 2 time(s), its maximum; create a new one with "
                     "`flotilla token create`"));
  CHECK(h.StoredClusters().size() == 2);
  CHECK(h.controller.Clusters().size() == 2);
  CHECK(h.StoredToken(record.id)->uses == 2);
}

// A one-use token replayed by many agents at once: exactly one registers
// (SECURITY.md §5), the others are told the token is used up.
TEST_CASE("Concurrent registrations with a one-use token let exactly one win", "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.max_uses = 1;
  auto [token, record] = h.Token(opts);
  constexpr int kAgents = 50;
  std::vector<AgentKey> keys;
  for (int i = 0; i < kAgents; ++i) keys.push_back(NewAgentKey());

  std::vector<absl::Status> results(kAgents);
  std::vector<std::thread> threads;
  for (int i = 0; i < kAgents; ++i) {
    threads.emplace_back(
        [&, i] { results[i] = h.registrar.Register(Request(token, keys[i])).status(); });
  }
  for (auto& t : threads) t.join();

  int won = 0;
  for (const absl::Status& st : results) {
    if (st.ok()) {
      ++won;
      continue;
    }
    INFO(st.ToString());
    CHECK(st.code() == absl::StatusCode::kUnauthenticated);
    CHECK_THAT(std::string(st.message()), Contains("has already been used 1 time(s)"));
  }
  CHECK(won == 1);
  CHECK(h.StoredClusters().size() == 1);
  CHECK(h.controller.Clusters().size() == 1);
  CHECK(h.StoredToken(record.id)->uses == 1);
}

// An agent that lost the reply retries with the same token and key and gets
// the same cluster and certificate; the use is not counted twice. Another key
// with the same one-use token is refused, whether it asks for the same name or
// none.
TEST_CASE("A retry with the same token and key returns the same cluster; another key is refused",
          "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.max_uses = 1;
  auto [token, record] = h.Token(opts);
  AgentKey agent = NewAgentKey();

  v1::RegisterResponse first = RegisterOrDie(h, Request(token, agent, "edge-1"));
  h.clock.Advance(absl::Minutes(10));
  v1::RegisterResponse retry = RegisterOrDie(h, Request(token, agent, "edge-1"));
  CHECK(retry.cluster_id() == first.cluster_id());
  CHECK(retry.cluster_name() == "edge-1");
  CHECK(retry.certificate_pem() == first.certificate_pem());
  CHECK(retry.agent_ca_pem() == first.agent_ca_pem());
  CHECK(h.StoredClusters().size() == 1);
  CHECK(h.StoredToken(record.id)->uses == 1);
  CHECK(h.AuditWithAction("cluster.register").size() == 1);

  AgentKey other = NewAgentKey();
  auto unnamed = h.registrar.Register(Request(token, other));
  REQUIRE_FALSE(unnamed.ok());
  CHECK(unnamed.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK_THAT(std::string(unnamed.status().message()),
             Contains(absl::StrCat("registration token ", record.id,
                                   " has already been used 1 time(s), its maximum")));

  auto same_name = h.registrar.Register(Request(token, other, "edge-1"));
  REQUIRE_FALSE(same_name.ok());
  CHECK(same_name.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK_THAT(std::string(same_name.status().message()),
             Contains("cluster name \"edge-1\" is already registered"));

  auto stored = h.StoredCluster(first.cluster_id());
  REQUIRE(stored.has_value());
  CHECK(stored->public_key_sha256 == agent.public_key_sha256);
  CHECK(stored->cert_pem == first.certificate_pem());
  CHECK(h.StoredClusters().size() == 1);
}

// A second token (unlimited uses) cannot take over the name of a registered
// cluster: AlreadyExists, the existing cluster untouched, the token not used.
TEST_CASE("A name that belongs to a registered cluster is never re-bound", "[registrar]") {
  Harness h;
  auto [token1, record1] = h.Token();
  AgentKey owner = NewAgentKey();
  v1::RegisterResponse first = RegisterOrDie(h, Request(token1, owner, "edge-1"));

  auto [token2, record2] = h.Token();
  auto takeover = h.registrar.Register(Request(token2, NewAgentKey(), "edge-1"));
  REQUIRE_FALSE(takeover.ok());
  CHECK(takeover.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(std::string(takeover.status().message()) ==
        "cluster name \"edge-1\" is already registered; choose another --name, or delete that "
        "cluster first");
  CHECK(h.StoredToken(record2.id)->uses == 0);

  // Not even by a token issued for exactly that name.
  RegistrationTokenOptions named;
  named.cluster_name = "edge-1";
  auto [token3, record3] = h.Token(named);
  auto by_name = h.registrar.Register(Request(token3, NewAgentKey()));
  REQUIRE_FALSE(by_name.ok());
  CHECK(by_name.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(h.StoredToken(record3.id)->uses == 0);

  auto stored = h.StoredClusters();
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].id == first.cluster_id());
  CHECK(stored[0].public_key_sha256 == owner.public_key_sha256);
  CHECK(stored[0].cert_pem == first.certificate_pem());
  CHECK(stored[0].registration_token_id == record1.id);
}

// A token bound to a cluster name registers that name when none is proposed
// and refuses any other name.
TEST_CASE("A token for a named cluster registers only that name", "[registrar]") {
  Harness h;
  RegistrationTokenOptions named;
  named.cluster_name = "edge-7";
  auto [token, record] = h.Token(named);

  auto other = h.registrar.Register(Request(token, NewAgentKey(), "edge-8"));
  REQUIRE_FALSE(other.ok());
  CHECK(other.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(other.status().message()) ==
        absl::StrCat("registration token ", record.id,
                     " is only for cluster \"edge-7\", not \"edge-8\""));

  v1::RegisterResponse resp = RegisterOrDie(h, Request(token, NewAgentKey()));
  CHECK(resp.cluster_name() == "edge-7");
}

// A token string that does not parse, a wrong secret and an unknown id are
// all Unauthenticated, without echoing the secret.
TEST_CASE("Registering with a malformed, unknown or wrong token is unauthenticated",
          "[registrar]") {
  Harness h;
  auto [token, record] = h.Token();
  AgentKey agent = NewAgentKey();
  const std::string forged = "FORGEDforgedFORGEDforgedFORGEDforgedFORGED0";

  auto malformed = h.registrar.Register(Request("flt1." + record.id, agent));
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(malformed.status().message()) ==
        "registration token is malformed: expected flt1.<id>.<secret>");

  auto api_token = h.registrar.Register(Request("flta." + record.id + "." + forged, agent));
  REQUIRE_FALSE(api_token.ok());
  CHECK(api_token.status().code() == absl::StatusCode::kUnauthenticated);

  for (const std::string& bad :
       {"flt1." + record.id + "." + forged, "flt1.000000000000." + forged}) {
    INFO(bad);
    auto resp = h.registrar.Register(Request(bad, agent));
    REQUIRE_FALSE(resp.ok());
    CHECK(resp.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(std::string(resp.status().message()) == "registration token is not valid");
  }
  CHECK(h.StoredClusters().empty());
  CHECK(h.StoredToken(record.id)->uses == 0);
}

// A CSR that is not a PEM request, or one cut short, is bad input; the token
// is not consumed.
TEST_CASE("Registering with a malformed CSR is refused with a clear error", "[registrar]") {
  Harness h;
  RegistrationTokenOptions opts;
  opts.max_uses = 1;
  auto [token, record] = h.Token(opts);
  AgentKey agent = NewAgentKey();

  v1::RegisterRequest garbage = Request(token, agent, "edge-1");
  garbage.set_csr_pem("this is not a certificate request");
  auto resp = h.registrar.Register(garbage);
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(resp.status().message()), Contains("not a PEM certificate request"));

  v1::RegisterRequest truncated = Request(token, agent, "edge-1");
  truncated.set_csr_pem(agent.csr_pem.substr(0, agent.csr_pem.size() / 2));
  resp = h.registrar.Register(truncated);
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(resp.status().message()), Contains("not a PEM certificate request"));

  v1::RegisterRequest empty = Request(token, agent, "edge-1");
  empty.clear_csr_pem();
  resp = h.registrar.Register(empty);
  REQUIRE_FALSE(resp.ok());
  CHECK(resp.status().code() == absl::StatusCode::kInvalidArgument);

  CHECK(h.StoredClusters().empty());
  CHECK(h.StoredToken(record.id)->uses == 0);
  RegisterOrDie(h, Request(token, agent, "edge-1"));
}

// --- Renew -------------------------------------------------------------------

// Renewal with a fresh key: same SPIFFE identity and name, the new key, a new
// serial and a new validity window; the store and the controller record it.
TEST_CASE("Renewing with a new CSR returns a new certificate with the same identity",
          "[registrar]") {
  Harness h;
  auto [token, record] = h.Token();
  v1::RegisterResponse registered = RegisterOrDie(h, Request(token, NewAgentKey(), "edge-1"));
  const std::string id = registered.cluster_id();
  common::CertificateInfo old_cert = ParseOrDie(registered.certificate_pem());

  h.clock.Advance(absl::Hours(18));
  AgentKey fresh = NewAgentKey();
  v1::RenewRequest req;
  req.set_csr_pem(fresh.csr_pem);
  auto renewed = h.registrar.Renew(id, req);
  INFO(renewed.status().ToString());
  REQUIRE(renewed.ok());

  common::CertificateInfo cert = ParseOrDie(renewed->certificate_pem());
  CHECK(cert.uri_sans == std::vector<std::string>{SpiffeUri(id)});
  CHECK(cert.common_name == "edge-1");
  CHECK(cert.client_auth);
  CHECK_FALSE(cert.is_ca);
  CHECK(cert.spki_sha256 == fresh.public_key_sha256);
  CHECK(cert.serial_hex != old_cert.serial_hex);
  CHECK(cert.not_before == h.clock.Now() - absl::Minutes(5));
  CHECK(cert.not_after == h.clock.Now() + absl::Hours(24));
  CHECK(common::VerifyCertificate(renewed->certificate_pem(), h.agent_ca.cert_pem(),
                                  h.clock.Now() + absl::Hours(12))
            .ok());
  auto from_cert = h.registrar.ClusterIdFromCertificate(renewed->certificate_pem());
  REQUIRE(from_cert.ok());
  CHECK(*from_cert == id);

  auto stored = h.StoredCluster(id);
  REQUIRE(stored.has_value());
  CHECK(stored->cert_pem == renewed->certificate_pem());
  CHECK(stored->cert_serial == cert.serial_hex);
  CHECK(stored->cert_not_after == cert.not_after);
  CHECK(stored->public_key_sha256 == fresh.public_key_sha256);
  auto in_memory = h.controller.GetCluster(id);
  REQUIRE(in_memory.has_value());
  CHECK(in_memory->cert_serial == cert.serial_hex);
  // Audited in the same transaction (SECURITY.md §2).
  auto audit = h.AuditWithAction("cluster.renew");
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].actor == "cluster:" + id);
  CHECK(audit[0].resource == "cluster/edge-1");
  CHECK(audit[0].details == "serial=" + cert.serial_hex);
}

// Only an active, registered cluster can renew; a bad CSR is bad input and
// changes nothing.
TEST_CASE("Renew refuses an unknown or revoked cluster and a malformed CSR", "[registrar]") {
  Harness h;
  auto [token, record] = h.Token();
  v1::RegisterResponse registered = RegisterOrDie(h, Request(token, NewAgentKey(), "edge-1"));
  const std::string id = registered.cluster_id();
  v1::RenewRequest req;
  req.set_csr_pem(NewAgentKey().csr_pem);

  auto unknown = h.registrar.Renew("c-0000000000000000", req);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(unknown.status().message()) == "cluster c-0000000000000000 is not active");

  v1::RenewRequest bad;
  bad.set_csr_pem("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n");
  auto malformed = h.registrar.Renew(id, bad);
  REQUIRE_FALSE(malformed.ok());
  CHECK(malformed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(malformed.status().message()), Contains("not a PEM certificate request"));
  CHECK(h.StoredCluster(id)->cert_pem == registered.certificate_pem());

  auto cluster = h.controller.GetCluster(id);
  REQUIRE(cluster.has_value());
  cluster->revoked = true;
  REQUIRE(h.controller.UpdateCluster(*cluster).ok());
  auto revoked = h.registrar.Renew(id, req);
  REQUIRE_FALSE(revoked.ok());
  CHECK(revoked.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(std::string(revoked.status().message()) == absl::StrCat("cluster ", id, " is not active"));
}

// --- ClusterIdFromCertificate --------------------------------------------------

// Certificates that are not agent certificates of this trust domain give no
// cluster id: not a certificate at all, a server certificate (no SPIFFE SAN,
// not clientAuth), and a client certificate of another trust domain.
TEST_CASE("ClusterIdFromCertificate refuses certificates without this trust domain's SPIFFE SAN",
          "[registrar]") {
  Harness h;
  const std::string not_agent = "client certificate is not a Flotilla agent certificate";

  auto garbage = h.registrar.ClusterIdFromCertificate("not a certificate");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(garbage.status().message()) == "client certificate cannot be parsed");

  auto server = h.agent_ca.IssueServerCertificate({"localhost"}, absl::Hours(1), h.clock);
  REQUIRE(server.ok());
  auto no_san = h.registrar.ClusterIdFromCertificate(server->first);
  REQUIRE_FALSE(no_san.ok());
  CHECK(no_san.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(no_san.status().message()) == not_agent);

  auto ca_cert = h.registrar.ClusterIdFromCertificate(h.agent_ca.cert_pem());
  REQUIRE_FALSE(ca_cert.ok());
  CHECK(ca_cert.status().code() == absl::StatusCode::kUnauthenticated);

  for (const std::string& uri :
       {std::string("spiffe://other.test/cluster/c-1"), std::string("spiffe://flotilla.test/c-1"),
        std::string("spiffe://flotilla.testing/cluster/c-1")}) {
    INFO(uri);
    auto signed_cert =
        h.agent_ca.SignClientCertificate(NewAgentKey().csr_pem, uri, "x", absl::Hours(1), h.clock);
    REQUIRE(signed_cert.ok());
    auto id = h.registrar.ClusterIdFromCertificate(*signed_cert);
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(std::string(id.status().message()) == not_agent);
  }

  // Another CA's certificate for another trust domain is refused too.
  common::CertificateAuthority other = MakeCa("some other CA", h.clock);
  auto foreign = other.SignClientCertificate(
      NewAgentKey().csr_pem, "spiffe://other.test/cluster/c-1", "x", absl::Hours(1), h.clock);
  REQUIRE(foreign.ok());
  CHECK(h.registrar.ClusterIdFromCertificate(*foreign).status().code() ==
        absl::StatusCode::kUnauthenticated);
}

// A certificate that another CA signed with this trust domain's SPIFFE URI
// gives no cluster id: identity does not rely on the TLS handshake alone.
TEST_CASE("ClusterIdFromCertificate refuses a certificate from another CA", "[registrar]") {
  Harness h;
  auto [token, record] = h.Token();
  v1::RegisterResponse registered = RegisterOrDie(h, Request(token, NewAgentKey(), "edge-1"));

  common::CertificateAuthority impostor = MakeCa("flotilla agent CA", h.clock);
  auto forged = impostor.SignClientCertificate(
      NewAgentKey().csr_pem, SpiffeUri(registered.cluster_id()), "edge-1", absl::Hours(1), h.clock);
  REQUIRE(forged.ok());
  auto id = h.registrar.ClusterIdFromCertificate(*forged);
  CHECK_FALSE(id.ok());
  CHECK(id.status().code() == absl::StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace flotilla::manager
