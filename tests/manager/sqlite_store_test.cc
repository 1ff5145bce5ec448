#include "manager/store/sqlite_store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/audit_chain.h"
#include "manager/store/records.h"
#include "manager/store/store.h"

namespace flotilla::manager {
namespace {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/flotilla-store-XXXXXX";
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::unique_ptr<SqliteStore> OpenOrDie(const std::string& path) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  REQUIRE(out.good());
}

// Runs one SQL statement on a separate connection and returns the first
// column of its first row ("" if none).
std::string QueryWithSecondConnection(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
          SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  INFO(sqlite3_errmsg(db));
  REQUIRE(rc == SQLITE_OK);
  std::string answer;
  rc = sqlite3_step(stmt);
  if (rc == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    answer = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  REQUIRE((rc == SQLITE_ROW || rc == SQLITE_DONE));
  return answer;
}

// Runs `sql` (one or more statements) on a separate connection.
void ExecWithSecondConnection(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

const absl::Time kT0 = absl::FromUnixMillis(1'700'000'000'123);

GitRepoRecord Repo(const std::string& name, const std::string& spec_yaml = "",
                   int64_t generation = 1) {
  GitRepoRecord r;
  r.name = name;
  r.spec_yaml = spec_yaml;
  r.generation = generation;
  return r;
}

BundleRecord Bundle(const std::string& name, const std::string& gitrepo) {
  BundleRecord b;
  b.name = name;
  b.gitrepo = gitrepo;
  return b;
}

BundleDeploymentRecord Deployment(const std::string& bundle, const std::string& cluster_id,
                                  const std::string& content_hash) {
  BundleDeploymentRecord d;
  d.bundle = bundle;
  d.cluster_id = cluster_id;
  d.content_hash = content_hash;
  return d;
}

AuditEventRecord Event(const std::string& action) {
  AuditEventRecord e;
  e.time = kT0;
  e.action = action;
  return e;
}

ClusterRecord MakeCluster(const std::string& id, const std::string& name) {
  ClusterRecord c;
  c.id = id;
  c.name = name;
  c.created = kT0;
  return c;
}

RegistrationTokenRecord MakeToken(const std::string& id, int max_uses) {
  RegistrationTokenRecord t;
  t.id = id;
  t.secret_sha256 = "ab12";
  t.created_by = "token:admin";
  t.created = kT0;
  t.expires = kT0 + absl::Hours(1);
  t.max_uses = max_uses;
  return t;
}

// Consumes `id` at `now` in its own Write, returning whether a use was counted.
bool Consume(SqliteStore& store, const std::string& id, absl::Time now) {
  bool consumed = false;
  absl::Status status = store.Write([&](Tx& tx) -> absl::Status {
    absl::StatusOr<bool> result = tx.ConsumeRegistrationToken(id, now);
    if (!result.ok()) return result.status();
    consumed = *result;
    return absl::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
  return consumed;
}

// Every record type is written with every field set (times at both infinities
// and at a millisecond instant), read back in a later transaction, and comes
// back field for field; lists come back ordered by key, not insertion.
TEST_CASE("Every record type round-trips with every field, including infinite times", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));

  // Fields are set by name so the test keeps compiling as records grow; a new
  // field needs a line here and a CHECK below.
  GitRepoRecord repo;
  repo.name = "repo-b";
  repo.spec_yaml = "kind: GitRepo\n";
  repo.generation = 7;
  repo.commit = "c0ffee";
  repo.applied_commit = "beef";
  repo.error = "fetch failed";
  repo.last_fetch = absl::InfiniteFuture();
  GitRepoRecord repo_a = repo;
  repo_a.name = "repo-a";
  repo_a.last_fetch = kT0;

  BundleRecord bundle;
  bundle.name = "repo-b-app";
  bundle.gitrepo = "repo-b";
  bundle.path = "apps/app";
  bundle.commit = "c0ffee";
  bundle.labels = {{"env", "prod"}, {"team", "a\"b"}};
  bundle.spec_json = R"({"defaultNamespace":"app"})";
  bundle.resources = {{"deploy.yaml", "h1"}, {"svc.yaml", "h2"}};
  bundle.error = "render failed";

  std::string binary("\0\x01\xff payload", 11);
  ContentRecord content{"h1", binary};
  ContentRecord empty_content{"h-empty", ""};

  ClusterRecord cluster;
  cluster.id = "c-2";
  cluster.name = "prod-eu";
  cluster.labels = {{"region", "eu"}};
  cluster.created = kT0;
  cluster.last_seen = absl::InfiniteFuture();
  cluster.agent_version = "0.1.0";
  cluster.cert_serial = "0a1b";
  cluster.cert_not_after = kT0 + absl::Hours(24);
  cluster.cert_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  cluster.public_key_sha256 = "keyhash";
  cluster.registration_token_id = "tok-1";
  cluster.revoked = true;
  cluster.paused = true;
  cluster.template_values_json = R"({"replicas":3,"region":{"name":"eu"}})";
  cluster.annotations = {{"owner", "team-a"}, {"note", "line 1\nline 2"}};
  ClusterRecord cluster_1 = MakeCluster("c-1", "dev");

  ClusterGroupRecord group;
  group.name = "prod";
  group.selector_json = R"({"matchLabels":{"env":"prod"}})";
  group.labels = {{"tier", "gold"}};
  group.spec_yaml = "kind: ClusterGroup\n";
  group.created = kT0;
  group.updated = absl::InfiniteFuture();

  SecretRecord secret;
  secret.name = "git-auth";
  secret.type = "basic-auth";
  secret.data = {{"username", "bot"}, {"password", std::string("p\0w\xff", 4)}};
  secret.created = kT0;
  secret.updated = kT0 + absl::Seconds(1);

  BundleDeploymentRecord deployment;
  deployment.bundle = "repo-b-app";
  deployment.cluster_id = "c-2";
  deployment.deployment_id = "h1:o1";
  deployment.content_hash = "h1";
  deployment.options_json = R"({"ns":"app"})";
  deployment.applied_deployment_id = "h0:o0";
  deployment.state = 3;
  deployment.message = "Ready";
  deployment.status_json = R"({"ready":true})";
  deployment.status_time = kT0;
  deployment.staged_deployment_id = "h2:o2";
  deployment.staged_content_hash = "h2";
  deployment.staged_options_json = R"({"ns":"next"})";
  BundleDeploymentRecord deployment_a = deployment;
  deployment_a.bundle = "repo-a-app";

  RegistrationTokenRecord token;
  token.id = "tok-1";
  token.secret_sha256 = "secret-hash";
  token.created_by = "token:admin";
  token.created = kT0;
  token.expires = absl::InfiniteFuture();
  token.max_uses = 5;
  token.uses = 2;
  token.revoked_at = absl::InfinitePast();
  token.labels = {{"site", "lab"}};
  token.cluster_name = "prod-eu";

  ApiTokenRecord api;
  api.id = "api-2";
  api.secret_sha256 = "api-hash";
  api.role = "admin";
  api.description = "first admin";
  api.created = kT0;
  api.expires = absl::InfiniteFuture();
  api.last_used = absl::InfinitePast();
  api.revoked_at = kT0 + absl::Minutes(5);
  api.workspace = "team-a";
  ApiTokenRecord api_1;
  api_1.id = "api-1";
  api_1.secret_sha256 = "h";
  api_1.role = "viewer";
  api_1.created = absl::InfinitePast();
  api_1.expires = kT0;

  AuditEventRecord event;
  event.seq = 99;  // ignored: the store assigns it
  event.time = kT0;
  event.actor = "token:api-2";
  event.action = "cluster.register";
  event.resource = "cluster/c-2";
  event.outcome = "ok";
  event.details = "x=1";

  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                for (const auto* r : {&repo, &repo_a}) {
                  if (auto s = tx.PutGitRepo(*r); !s.ok()) return s;
                }
                if (auto s = tx.PutBundle(bundle); !s.ok()) return s;
                if (auto s = tx.PutContent(content); !s.ok()) return s;
                if (auto s = tx.PutContent(empty_content); !s.ok()) return s;
                if (auto s = tx.InsertCluster(cluster); !s.ok()) return s;
                if (auto s = tx.InsertCluster(cluster_1); !s.ok()) return s;
                if (auto s = tx.PutClusterGroup(group); !s.ok()) return s;
                if (auto s = tx.PutSecret(secret); !s.ok()) return s;
                if (auto s = tx.PutBundleDeployment(deployment); !s.ok()) return s;
                if (auto s = tx.PutBundleDeployment(deployment_a); !s.ok()) return s;
                if (auto s = tx.InsertRegistrationToken(token); !s.ok()) return s;
                if (auto s = tx.InsertApiToken(api); !s.ok()) return s;
                if (auto s = tx.InsertApiToken(api_1); !s.ok()) return s;
                return tx.AppendAudit(event).status();
              })
              .ok());

  absl::Status status = store->Read([&](Tx& tx) -> absl::Status {
    auto repos = tx.ListGitRepos();
    REQUIRE(repos.ok());
    REQUIRE(repos->size() == 2);
    CHECK((*repos)[0].name == "repo-a");
    CHECK((*repos)[0].last_fetch == kT0);
    const GitRepoRecord& r = (*repos)[1];
    CHECK(r.name == "repo-b");
    CHECK(r.spec_yaml == "kind: GitRepo\n");
    CHECK(r.generation == 7);
    CHECK(r.commit == "c0ffee");
    CHECK(r.applied_commit == "beef");
    CHECK(r.error == "fetch failed");
    CHECK(r.last_fetch == absl::InfiniteFuture());
    auto got_repo = tx.GetGitRepo("repo-b");
    REQUIRE(got_repo.ok());
    REQUIRE(got_repo->has_value());
    CHECK((*got_repo)->spec_yaml == "kind: GitRepo\n");
    auto missing_repo = tx.GetGitRepo("nope");
    REQUIRE(missing_repo.ok());
    CHECK_FALSE(missing_repo->has_value());

    auto bundles = tx.ListBundles();
    REQUIRE(bundles.ok());
    REQUIRE(bundles->size() == 1);
    const BundleRecord& b = (*bundles)[0];
    CHECK(b.name == "repo-b-app");
    CHECK(b.gitrepo == "repo-b");
    CHECK(b.path == "apps/app");
    CHECK(b.commit == "c0ffee");
    CHECK(b.labels == Labels{{"env", "prod"}, {"team", "a\"b"}});
    CHECK(b.spec_json == R"({"defaultNamespace":"app"})");
    CHECK(b.resources ==
          std::map<std::string, std::string>{{"deploy.yaml", "h1"}, {"svc.yaml", "h2"}});
    CHECK(b.error == "render failed");

    auto got_content = tx.GetContent("h1");
    REQUIRE(got_content.ok());
    REQUIRE(got_content->has_value());
    CHECK((*got_content)->hash == "h1");
    CHECK((*got_content)->data == binary);
    auto got_empty = tx.GetContent("h-empty");
    REQUIRE(got_empty.ok());
    REQUIRE(got_empty->has_value());
    CHECK((*got_empty)->data.empty());
    CHECK(tx.HasContent("h1").value());
    CHECK_FALSE(tx.HasContent("h2").value());
    CHECK_FALSE(tx.GetContent("h2").value().has_value());

    auto clusters = tx.ListClusters();
    REQUIRE(clusters.ok());
    REQUIRE(clusters->size() == 2);
    CHECK((*clusters)[0].id == "c-1");
    CHECK((*clusters)[0].labels.empty());
    CHECK((*clusters)[0].last_seen == absl::InfinitePast());
    CHECK_FALSE((*clusters)[0].revoked);
    CHECK_FALSE((*clusters)[0].paused);
    CHECK((*clusters)[0].template_values_json == "{}");
    CHECK((*clusters)[0].annotations.empty());
    const ClusterRecord& c = (*clusters)[1];
    CHECK(c.id == "c-2");
    CHECK(c.name == "prod-eu");
    CHECK(c.labels == Labels{{"region", "eu"}});
    CHECK(c.created == kT0);
    CHECK(c.last_seen == absl::InfiniteFuture());
    CHECK(c.agent_version == "0.1.0");
    CHECK(c.cert_serial == "0a1b");
    CHECK(c.cert_not_after == kT0 + absl::Hours(24));
    CHECK(c.cert_pem == "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    CHECK(c.public_key_sha256 == "keyhash");
    CHECK(c.registration_token_id == "tok-1");
    CHECK(c.revoked);
    CHECK(c.paused);
    CHECK(c.template_values_json == R"({"replicas":3,"region":{"name":"eu"}})");
    CHECK(c.annotations == Labels{{"owner", "team-a"}, {"note", "line 1\nline 2"}});
    auto by_name = tx.GetClusterByName("prod-eu");
    REQUIRE(by_name.ok());
    REQUIRE(by_name->has_value());
    CHECK((*by_name)->id == "c-2");
    CHECK((*by_name)->paused);
    CHECK((*by_name)->annotations == c.annotations);

    auto groups = tx.ListClusterGroups();
    REQUIRE(groups.ok());
    REQUIRE(groups->size() == 1);
    const ClusterGroupRecord& g = (*groups)[0];
    CHECK(g.name == "prod");
    CHECK(g.selector_json == R"({"matchLabels":{"env":"prod"}})");
    CHECK(g.labels == Labels{{"tier", "gold"}});
    CHECK(g.spec_yaml == "kind: ClusterGroup\n");
    CHECK(g.created == kT0);
    CHECK(g.updated == absl::InfiniteFuture());

    auto got_secret = tx.GetSecret("git-auth");
    REQUIRE(got_secret.ok());
    REQUIRE(got_secret->has_value());
    const SecretRecord& sec = **got_secret;
    CHECK(sec.name == "git-auth");
    CHECK(sec.type == "basic-auth");
    CHECK(sec.data == std::map<std::string, std::string>{{"username", "bot"},
                                                         {"password", std::string("p\0w\xff", 4)}});
    CHECK(sec.created == kT0);
    CHECK(sec.updated == kT0 + absl::Seconds(1));
    auto by_id = tx.GetCluster("c-1");
    REQUIRE(by_id.ok());
    REQUIRE(by_id->has_value());
    CHECK((*by_id)->name == "dev");

    auto deployments = tx.ListBundleDeployments();
    REQUIRE(deployments.ok());
    REQUIRE(deployments->size() == 2);
    CHECK((*deployments)[0].bundle == "repo-a-app");
    const BundleDeploymentRecord& d = (*deployments)[1];
    CHECK(d.bundle == "repo-b-app");
    CHECK(d.cluster_id == "c-2");
    CHECK(d.deployment_id == "h1:o1");
    CHECK(d.content_hash == "h1");
    CHECK(d.options_json == R"({"ns":"app"})");
    CHECK(d.applied_deployment_id == "h0:o0");
    CHECK(d.state == 3);
    CHECK(d.message == "Ready");
    CHECK(d.status_json == R"({"ready":true})");
    CHECK(d.status_time == kT0);
    CHECK(d.staged_deployment_id == "h2:o2");
    CHECK(d.staged_content_hash == "h2");
    CHECK(d.staged_options_json == R"({"ns":"next"})");
    auto for_cluster = tx.ListBundleDeploymentsForCluster("c-2");
    REQUIRE(for_cluster.ok());
    REQUIRE(for_cluster->size() == 2);
    CHECK((*for_cluster)[0].bundle == "repo-a-app");
    CHECK((*for_cluster)[1].bundle == "repo-b-app");
    CHECK(tx.ListBundleDeploymentsForCluster("c-1").value().empty());

    auto got_token = tx.GetRegistrationToken("tok-1");
    REQUIRE(got_token.ok());
    REQUIRE(got_token->has_value());
    const RegistrationTokenRecord& t = **got_token;
    CHECK(t.id == "tok-1");
    CHECK(t.secret_sha256 == "secret-hash");
    CHECK(t.created_by == "token:admin");
    CHECK(t.created == kT0);
    CHECK(t.expires == absl::InfiniteFuture());
    CHECK(t.max_uses == 5);
    CHECK(t.uses == 2);
    CHECK(t.revoked_at == absl::InfinitePast());
    CHECK(t.labels == Labels{{"site", "lab"}});
    CHECK(t.cluster_name == "prod-eu");

    auto api_tokens = tx.ListApiTokens();
    REQUIRE(api_tokens.ok());
    REQUIRE(api_tokens->size() == 2);
    CHECK((*api_tokens)[0].id == "api-1");
    CHECK((*api_tokens)[0].created == absl::InfinitePast());
    CHECK((*api_tokens)[0].expires == kT0);
    const ApiTokenRecord& a = (*api_tokens)[1];
    CHECK(a.id == "api-2");
    CHECK(a.secret_sha256 == "api-hash");
    CHECK(a.role == "admin");
    CHECK(a.description == "first admin");
    CHECK(a.created == kT0);
    CHECK(a.expires == absl::InfiniteFuture());
    CHECK(a.last_used == absl::InfinitePast());
    CHECK(a.revoked_at == kT0 + absl::Minutes(5));
    CHECK(a.workspace == "team-a");
    CHECK((*api_tokens)[0].workspace == "*");
    auto got_api = tx.GetApiToken("api-2");
    REQUIRE(got_api.ok());
    REQUIRE(got_api->has_value());
    CHECK((*got_api)->role == "admin");

    auto events = tx.ListAudit(0, 10);
    REQUIRE(events.ok());
    REQUIRE(events->size() == 1);
    const AuditEventRecord& e = (*events)[0];
    CHECK(e.seq == 1);
    CHECK(e.time == kT0);
    CHECK(e.actor == "token:api-2");
    CHECK(e.action == "cluster.register");
    CHECK(e.resource == "cluster/c-2");
    CHECK(e.outcome == "ok");
    CHECK(e.details == "x=1");
    return absl::OkStatus();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
}

// Puts replace the whole row, updates change existing clusters only, and
// deletes remove rows (deleting a missing row is not an error).
TEST_CASE("Puts replace rows, UpdateCluster needs an existing cluster, deletes remove rows",
          "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  REQUIRE(store
              ->Write([](Tx& tx) -> absl::Status {
                if (auto s = tx.PutGitRepo(Repo("r", "v1", 1)); !s.ok()) return s;
                if (auto s = tx.PutGitRepo(Repo("r", "v2", 2)); !s.ok()) return s;
                if (auto s = tx.PutBundle(Bundle("b", "r")); !s.ok()) return s;
                if (auto s = tx.PutBundleDeployment(Deployment("b", "c", "")); !s.ok()) return s;
                ClusterRecord c = MakeCluster("c", "one");
                if (auto s = tx.InsertCluster(c); !s.ok()) return s;
                c.name = "renamed";
                c.labels = {{"k", "v"}};
                c.paused = true;
                c.template_values_json = R"({"size":"large"})";
                c.annotations = {{"a", "1"}};
                return tx.UpdateCluster(c);
              })
              .ok());

  absl::Status missing =
      store->Write([](Tx& tx) { return tx.UpdateCluster(MakeCluster("ghost", "ghost-name")); });
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK_THAT(std::string(missing.message()),
             Catch::Contains("store: update cluster \"ghost\": no such cluster"));

  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto repo = tx.GetGitRepo("r");
                REQUIRE(repo.ok());
                REQUIRE(repo->has_value());
                CHECK((*repo)->spec_yaml == "v2");
                CHECK((*repo)->generation == 2);
                auto cluster = tx.GetCluster("c");
                REQUIRE(cluster.ok());
                REQUIRE(cluster->has_value());
                CHECK((*cluster)->name == "renamed");
                CHECK((*cluster)->labels == Labels{{"k", "v"}});
                CHECK((*cluster)->paused);
                CHECK((*cluster)->template_values_json == R"({"size":"large"})");
                CHECK((*cluster)->annotations == Labels{{"a", "1"}});
                CHECK_FALSE(tx.GetClusterByName("one").value().has_value());
                return absl::OkStatus();
              })
              .ok());

  REQUIRE(store
              ->Write([](Tx& tx) -> absl::Status {
                if (auto s = tx.DeleteGitRepo("r"); !s.ok()) return s;
                if (auto s = tx.DeleteGitRepo("r"); !s.ok()) return s;
                if (auto s = tx.DeleteBundle("b"); !s.ok()) return s;
                return tx.DeleteBundleDeployment("b", "c");
              })
              .ok());
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.ListGitRepos().value().empty());
                CHECK(tx.ListBundles().value().empty());
                CHECK(tx.ListBundleDeployments().value().empty());
                return absl::OkStatus();
              })
              .ok());
}

// A Write callback that makes changes and then fails is rolled back: Write
// returns the callback's status and none of the changes are visible.
TEST_CASE("A failed Write callback persists nothing", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  absl::Status status = store->Write([](Tx& tx) -> absl::Status {
    if (auto s = tx.PutGitRepo(Repo("r")); !s.ok()) return s;
    if (auto s = tx.InsertCluster(MakeCluster("c", "n")); !s.ok()) return s;
    if (auto s = tx.AppendAudit(Event("a")).status(); !s.ok()) return s;
    return absl::InvalidArgumentError("caller changed its mind");
  });
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "caller changed its mind");

  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.ListGitRepos().value().empty());
                CHECK(tx.ListClusters().value().empty());
                CHECK(tx.ListAudit(0, 10).value().empty());
                return absl::OkStatus();
              })
              .ok());
  // The store is usable afterwards.
  CHECK(store->Write([](Tx& tx) { return tx.PutGitRepo(Repo("r")); }).ok());
}

// A second cluster with a registered name, or with a registered id, is
// refused with AlreadyExists and SQLite's constraint message; the first
// cluster is unchanged.
TEST_CASE("Inserting a cluster whose name or id is taken fails with AlreadyExists", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  REQUIRE(store->Write([](Tx& tx) { return tx.InsertCluster(MakeCluster("c-1", "x")); }).ok());

  absl::Status same_name =
      store->Write([](Tx& tx) { return tx.InsertCluster(MakeCluster("c-2", "x")); });
  CHECK(same_name.code() == absl::StatusCode::kAlreadyExists);
  CHECK_THAT(std::string(same_name.message()),
             Catch::Contains("store: insert cluster \"x\" (id \"c-2\"): UNIQUE constraint "
                             "failed: clusters.name"));

  absl::Status same_id =
      store->Write([](Tx& tx) { return tx.InsertCluster(MakeCluster("c-1", "y")); });
  CHECK(same_id.code() == absl::StatusCode::kAlreadyExists);
  CHECK_THAT(std::string(same_id.message()), Catch::Contains("clusters.id"));

  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto clusters = tx.ListClusters();
                REQUIRE(clusters.ok());
                REQUIRE(clusters->size() == 1);
                CHECK((*clusters)[0].id == "c-1");
                CHECK((*clusters)[0].name == "x");
                return absl::OkStatus();
              })
              .ok());
}

// 50 threads each try to consume the same single-use token in their own
// Write: exactly one wins and the token records one use.
TEST_CASE("Fifty concurrent consumers of a single-use token produce exactly one winner",
          "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  REQUIRE(store->Write([](Tx& tx) { return tx.InsertRegistrationToken(MakeToken("t", 1)); }).ok());

  std::atomic<int> winners{0};
  std::atomic<int> failures{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      bool won = false;
      absl::Status status = store->Write([&](Tx& tx) -> absl::Status {
        absl::StatusOr<bool> consumed = tx.ConsumeRegistrationToken("t", kT0);
        if (!consumed.ok()) return consumed.status();
        won = *consumed;
        return absl::OkStatus();
      });
      if (!status.ok()) ++failures;
      if (won) ++winners;
    });
  }
  go.store(true);
  for (std::thread& t : threads) t.join();

  CHECK(failures.load() == 0);
  CHECK(winners.load() == 1);
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.GetRegistrationToken("t").value()->uses == 1);
                return absl::OkStatus();
              })
              .ok());
}

// Tokens are refused once expired (at and after the expiry instant), once
// revoked, when unknown, and after max_uses; max_uses = 0 means unlimited.
TEST_CASE("Expired, revoked, unknown and used-up registration tokens are refused", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  RegistrationTokenRecord revoked = MakeToken("revoked", 0);
  revoked.revoked_at = kT0 - absl::Minutes(1);
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                if (auto s = tx.InsertRegistrationToken(MakeToken("expiring", 0)); !s.ok()) {
                  return s;
                }
                if (auto s = tx.InsertRegistrationToken(revoked); !s.ok()) return s;
                if (auto s = tx.InsertRegistrationToken(MakeToken("twice", 2)); !s.ok()) return s;
                return tx.InsertRegistrationToken(MakeToken("unlimited", 0));
              })
              .ok());

  const absl::Time expiry = kT0 + absl::Hours(1);
  CHECK(Consume(*store, "expiring", expiry - absl::Milliseconds(1)));
  CHECK_FALSE(Consume(*store, "expiring", expiry));
  CHECK_FALSE(Consume(*store, "expiring", expiry + absl::Hours(1)));
  CHECK_FALSE(Consume(*store, "revoked", kT0));
  CHECK_FALSE(Consume(*store, "no-such-token", kT0));
  CHECK(Consume(*store, "twice", kT0));
  CHECK(Consume(*store, "twice", kT0));
  CHECK_FALSE(Consume(*store, "twice", kT0));
  for (int i = 0; i < 5; ++i) CHECK(Consume(*store, "unlimited", kT0));

  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.GetRegistrationToken("expiring").value()->uses == 1);
                CHECK(tx.GetRegistrationToken("revoked").value()->uses == 0);
                CHECK(tx.GetRegistrationToken("twice").value()->uses == 2);
                CHECK(tx.GetRegistrationToken("unlimited").value()->uses == 5);
                return absl::OkStatus();
              })
              .ok());
}

// Closing and reopening the store keeps every row and leaves the schema at
// the latest version (migrations are not re-applied).
TEST_CASE("Reopening the store keeps its data and schema version", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  {
    auto store = OpenOrDie(path);
    CHECK(store->SchemaVersionForTest() == SqliteStore::LatestSchemaVersion());
    REQUIRE(store->Write([](Tx& tx) { return tx.PutGitRepo(Repo("r", "spec", 3)); }).ok());
  }
  auto store = OpenOrDie(path);
  CHECK(SqliteStore::LatestSchemaVersion() >= 1);
  CHECK(store->SchemaVersionForTest() == SqliteStore::LatestSchemaVersion());
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto repo = tx.GetGitRepo("r");
                REQUIRE(repo.ok());
                REQUIRE(repo->has_value());
                CHECK((*repo)->spec_yaml == "spec");
                CHECK((*repo)->generation == 3);
                return absl::OkStatus();
              })
              .ok());
}

// A path whose directory does not exist cannot be created: the operator must
// fix the configuration, so FailedPrecondition with SQLite's reason.
TEST_CASE("A store path in a missing directory is refused with FailedPrecondition", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("missing/store.db");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(store.status().message() == "store: open " + path + ": unable to open database file");
  CHECK_FALSE(std::filesystem::exists(dir.Sub("missing")));
}

// A file that is not a database is refused with DataLoss naming the file,
// and is left byte for byte as it was (never re-created).
TEST_CASE("A file of garbage bytes is refused with DataLoss and left untouched", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  std::string garbage;
  for (int i = 0; i < 8192; ++i) garbage.push_back(static_cast<char>((i * 131 + 7) % 251));
  WriteBytes(path, garbage);

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(store.status().message()),
             Catch::Contains("store " + path +
                             " is corrupt: file is not a database; refusing "
                             "to start (restore a backup or move the file away)"));
  CHECK(ReadBytes(path) == garbage);
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
}

// A database whose pages were overwritten (header intact) fails the
// integrity check at open: DataLoss, and the file is left as it was.
TEST_CASE("A store with corrupted pages is refused with DataLoss", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  {
    auto store = OpenOrDie(path);
    REQUIRE(store
                ->Write([](Tx& tx) -> absl::Status {
                  for (int i = 0; i < 200; ++i) {
                    std::string name = "repo-" + std::to_string(i);
                    if (auto s = tx.PutGitRepo(Repo(name, std::string(300, 'y'))); !s.ok())
                      return s;
                  }
                  return absl::OkStatus();
                })
                .ok());
  }
  std::string bytes = ReadBytes(path);
  const size_t page_size = 4096;
  REQUIRE(bytes.size() > 8 * page_size);
  // Page 2 onwards holds the schema's tables and the rows; keep page 1 (header
  // and sqlite_schema) so the file still looks like a database.
  for (size_t i = page_size; i < bytes.size(); ++i) bytes[i] = static_cast<char>(0x5a);
  WriteBytes(path, bytes);

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == absl::StatusCode::kDataLoss);
  CHECK_THAT(std::string(store.status().message()),
             Catch::Contains("store " + path + " is corrupt: "));
  CHECK_THAT(std::string(store.status().message()), Catch::Contains("refusing to start"));
  CHECK(ReadBytes(path) == bytes);
}

// A database whose index no longer matches its table (the index definition
// was rewritten behind SQLite's back) opens as a database but fails
// `PRAGMA integrity_check`: DataLoss quoting SQLite's findings.
TEST_CASE("A store that fails the integrity check is refused with SQLite's findings", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  {
    auto store = OpenOrDie(path);
    REQUIRE(store
                ->Write([](Tx& tx) -> absl::Status {
                  BundleRecord b = Bundle("b1", "repo-1");
                  b.path = "p1";
                  if (auto s = tx.PutBundle(b); !s.ok()) return s;
                  b = Bundle("b2", "repo-2");
                  b.path = "p2";
                  return tx.PutBundle(b);
                })
                .ok());
  }
  ExecWithSecondConnection(path,
                           "PRAGMA writable_schema = ON;"
                           "UPDATE sqlite_schema SET sql = 'CREATE INDEX bundles_by_gitrepo ON "
                           "bundles (path)' WHERE name = 'bundles_by_gitrepo';");
  const std::string before = ReadBytes(path);

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == absl::StatusCode::kDataLoss);
  CHECK(store.status().message() ==
        "store " + path +
            " is corrupt: row 1 missing from index bundles_by_gitrepo; row 2 missing from index "
            "bundles_by_gitrepo; refusing to start (restore a backup or move the file away)");
  CHECK(ReadBytes(path) == before);
}

// A store written by a newer manager (user_version beyond what this binary
// knows) is refused with FailedPrecondition and not modified.
TEST_CASE("A store with a newer schema version is refused with FailedPrecondition", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  const int newer = SqliteStore::LatestSchemaVersion() + 1;
  QueryWithSecondConnection(path, "PRAGMA user_version = " + std::to_string(newer));
  const std::string before = ReadBytes(path);

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(store.status().message()),
             Catch::Contains("store " + path + " has schema version " + std::to_string(newer) +
                             " but this flotilla-manager knows only up to " +
                             std::to_string(SqliteStore::LatestSchemaVersion()) +
                             "; upgrade the manager"));
  CHECK(ReadBytes(path) == before);
}

// After open the database is in WAL mode: a write leaves a -wal file beside
// it and another connection sees journal_mode "wal".
TEST_CASE("The store runs in WAL journal mode", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  auto store = OpenOrDie(path);
  REQUIRE(store->Write([](Tx& tx) { return tx.PutGitRepo(Repo("r")); }).ok());
  CHECK(std::filesystem::exists(path + "-wal"));
  CHECK(QueryWithSecondConnection(path, "PRAGMA journal_mode") == "wal");
}

// Contents referenced by a bundle resource or a BundleDeployment survive;
// the others are deleted and counted.
TEST_CASE("DeleteUnreferencedContents keeps referenced contents and deletes the rest", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  REQUIRE(store
              ->Write([](Tx& tx) -> absl::Status {
                for (const char* hash : {"res-1", "res-2", "rendered", "orphan-1", "orphan-2"}) {
                  if (auto s = tx.PutContent({hash, std::string("data of ") + hash}); !s.ok()) {
                    return s;
                  }
                }
                BundleRecord bundle = Bundle("b", "r");
                bundle.resources = {{"a.yaml", "res-1"}, {"dir/b.yaml", "res-2"}};
                if (auto s = tx.PutBundle(bundle); !s.ok()) return s;
                return tx.PutBundleDeployment(Deployment("b", "c", "rendered"));
              })
              .ok());

  std::optional<int> deleted;
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                absl::StatusOr<int> n = tx.DeleteUnreferencedContents();
                if (!n.ok()) return n.status();
                deleted = *n;
                return absl::OkStatus();
              })
              .ok());
  CHECK(deleted == 2);

  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.HasContent("res-1").value());
                CHECK(tx.HasContent("res-2").value());
                CHECK(tx.HasContent("rendered").value());
                CHECK_FALSE(tx.HasContent("orphan-1").value());
                CHECK_FALSE(tx.HasContent("orphan-2").value());
                return absl::OkStatus();
              })
              .ok());
  // Putting an existing hash again is a no-op that keeps the stored data.
  REQUIRE(store->Write([](Tx& tx) { return tx.PutContent({"res-1", "other"}); }).ok());
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.GetContent("res-1").value()->data == "data of res-1");
                return absl::OkStatus();
              })
              .ok());
}

// Appended audit events get increasing sequence numbers (also across
// transactions), and ListAudit returns the events after a cursor, at most
// `limit` at a time, in order.
TEST_CASE("Audit sequence numbers increase and ListAudit pages through them", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  std::vector<int64_t> seqs;
  for (int batch = 0; batch < 2; ++batch) {
    REQUIRE(store
                ->Write([&](Tx& tx) -> absl::Status {
                  for (int i = 0; i < 3; ++i) {
                    AuditEventRecord e;
                    e.time = kT0 + absl::Seconds(seqs.size());
                    e.action = "event-" + std::to_string(seqs.size());
                    absl::StatusOr<int64_t> seq = tx.AppendAudit(e);
                    if (!seq.ok()) return seq.status();
                    seqs.push_back(*seq);
                  }
                  return absl::OkStatus();
                })
                .ok());
  }
  CHECK(seqs == std::vector<int64_t>{1, 2, 3, 4, 5, 6});

  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto first = tx.ListAudit(0, 4);
                REQUIRE(first.ok());
                REQUIRE(first->size() == 4);
                CHECK((*first)[0].seq == 1);
                CHECK((*first)[0].action == "event-0");
                CHECK((*first)[3].seq == 4);
                CHECK((*first)[3].time == kT0 + absl::Seconds(3));
                auto second = tx.ListAudit((*first)[3].seq, 4);
                REQUIRE(second.ok());
                REQUIRE(second->size() == 2);
                CHECK((*second)[0].seq == 5);
                CHECK((*second)[1].seq == 6);
                CHECK((*second)[1].action == "event-5");
                CHECK(tx.ListAudit(6, 4).value().empty());
                CHECK(tx.ListAudit(0, 0).value().empty());
                absl::Status negative = tx.ListAudit(0, -1).status();
                CHECK(negative.code() == absl::StatusCode::kInvalidArgument);
                CHECK_THAT(std::string(negative.message()), Catch::Contains("negative limit"));
                return absl::OkStatus();
              })
              .ok());
}

// The audit log is a hash chain: each row's hash covers the previous row's
// hash and its own fields, recomputable from what ListAudit returns; any
// change to a stored row no longer matches.
TEST_CASE("Audit rows carry a hash chain that ListAudit's rows reproduce", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                for (int i = 0; i < 3; ++i) {
                  AuditEventRecord e;
                  e.time = kT0 + absl::Seconds(i);
                  e.actor = "token:ops";
                  e.action = "gitrepo.apply";
                  e.resource = "gitrepo/apps-" + std::to_string(i);
                  e.outcome = "ok";
                  e.details = "generation=1";
                  e.hash = "ignored: the store computes it";
                  if (auto seq = tx.AppendAudit(e); !seq.ok()) return seq.status();
                }
                return absl::OkStatus();
              })
              .ok());
  std::vector<AuditEventRecord> rows;
  REQUIRE(store
              ->Read([&](Tx& tx) -> absl::Status {
                rows = tx.ListAudit(0, 10).value();
                return absl::OkStatus();
              })
              .ok());
  REQUIRE(rows.size() == 3);
  std::string previous(common::kAuditChainGenesis);
  for (const AuditEventRecord& r : rows) {
    common::AuditChainFields f{
        r.seq, absl::ToUnixMillis(r.time), r.actor, r.action, r.resource, r.outcome, r.details};
    CHECK(r.hash.size() == 64);
    CHECK(r.hash == common::AuditChainHash(previous, f));
    previous = r.hash;
  }
  CHECK(rows[0].hash != rows[1].hash);
  // A row edited behind the manager's back no longer hashes to its value.
  common::AuditChainFields edited{rows[1].seq,     absl::ToUnixMillis(rows[1].time),
                                  rows[1].actor,   rows[1].action,
                                  "gitrepo/other", rows[1].outcome,
                                  rows[1].details};
  CHECK(common::AuditChainHash(rows[0].hash, edited) != rows[1].hash);
}

// API tokens are updated in place (last use, revocation); registration
// tokens list in creation order and revoke once, keeping the first time.
TEST_CASE("UpdateApiToken, ListRegistrationTokens and RevokeRegistrationToken", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  ApiTokenRecord api;
  api.id = "a1";
  api.secret_sha256 = "h";
  api.role = "viewer";
  RegistrationTokenRecord reg;
  reg.id = "r1";
  reg.created = kT0;
  reg.expires = kT0 + absl::Hours(1);
  RegistrationTokenRecord reg2 = reg;
  reg2.id = "r0";
  reg2.created = kT0 + absl::Seconds(1);
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                REQUIRE(tx.InsertApiToken(api).ok());
                REQUIRE(tx.InsertRegistrationToken(reg).ok());
                REQUIRE(tx.InsertRegistrationToken(reg2).ok());
                return absl::OkStatus();
              })
              .ok());
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                ApiTokenRecord changed = api;
                changed.last_used = kT0 + absl::Minutes(1);
                changed.revoked_at = kT0 + absl::Minutes(2);
                REQUIRE(tx.UpdateApiToken(changed).ok());
                ApiTokenRecord missing = api;
                missing.id = "nope";
                absl::Status st = tx.UpdateApiToken(missing);
                CHECK(st.code() == absl::StatusCode::kNotFound);
                CHECK_THAT(std::string(st.message()), Catch::Contains("\"nope\""));
                REQUIRE(tx.RevokeRegistrationToken("r1", kT0 + absl::Minutes(3)).ok());
                REQUIRE(tx.RevokeRegistrationToken("r1", kT0 + absl::Minutes(4)).ok());
                CHECK(tx.RevokeRegistrationToken("r9", kT0).code() == absl::StatusCode::kNotFound);
                return absl::OkStatus();
              })
              .ok());
  REQUIRE(store
              ->Read([&](Tx& tx) -> absl::Status {
                auto a = tx.GetApiToken("a1").value();
                REQUIRE(a.has_value());
                CHECK(a->last_used == kT0 + absl::Minutes(1));
                CHECK(a->revoked_at == kT0 + absl::Minutes(2));
                auto regs = tx.ListRegistrationTokens().value();
                REQUIRE(regs.size() == 2);
                CHECK(regs[0].id == "r1");
                CHECK(regs[0].revoked_at == kT0 + absl::Minutes(3));
                CHECK(regs[1].id == "r0");
                CHECK(regs[1].revoked_at == absl::InfinitePast());
                return absl::OkStatus();
              })
              .ok());
}

// Write or Read called from inside a callback of the same store would
// deadlock; it is refused with FailedPrecondition and the outer transaction
// still works.
TEST_CASE("Calling the store from inside its own callback is refused instead of deadlocking",
          "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  absl::Status inner_write;
  absl::Status inner_read;
  absl::Status outer = store->Write([&](Tx& tx) -> absl::Status {
    inner_write = store->Write([](Tx&) { return absl::OkStatus(); });
    inner_read = store->Read([](Tx&) { return absl::OkStatus(); });
    return tx.PutGitRepo(Repo("r"));
  });
  CHECK(outer.ok());
  CHECK(inner_write.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(inner_write.message()),
             Catch::Contains("Write called from inside a Write or Read callback"));
  CHECK(inner_read.code() == absl::StatusCode::kFailedPrecondition);
}

// A Read callback that tries to modify the store gets FailedPrecondition and
// nothing is written.
TEST_CASE("A Read callback cannot modify the store", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  absl::Status status = store->Read([](Tx& tx) { return tx.PutGitRepo(Repo("r")); });
  CHECK(status.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(status.message()),
             Catch::Contains("store: put gitrepo \"r\": a Store::Read callback may not modify"));
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.ListGitRepos().value().empty());
                return absl::OkStatus();
              })
              .ok());
}

// Operator-set cluster fields (paused, templateValues, annotations) are
// written by InsertCluster and UpdateCluster and read back by GetCluster,
// GetClusterByName and ListClusters; an update can also clear them again.
TEST_CASE("Cluster pause, template values and annotations round-trip through insert and update",
          "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  ClusterRecord cluster = MakeCluster("c-1", "edge");
  cluster.paused = true;
  cluster.template_values_json = R"({"ingress":{"host":"edge.example"}})";
  cluster.annotations = {{"example.com/owner", "ops"}};
  REQUIRE(store->Write([&](Tx& tx) { return tx.InsertCluster(cluster); }).ok());

  auto read_back = [&](const std::function<void(const ClusterRecord&)>& check) {
    REQUIRE(store
                ->Read([&](Tx& tx) -> absl::Status {
                  auto by_id = tx.GetCluster("c-1");
                  REQUIRE(by_id.ok());
                  REQUIRE(by_id->has_value());
                  check(**by_id);
                  auto by_name = tx.GetClusterByName("edge");
                  REQUIRE(by_name.ok());
                  REQUIRE(by_name->has_value());
                  check(**by_name);
                  auto all = tx.ListClusters();
                  REQUIRE(all.ok());
                  REQUIRE(all->size() == 1);
                  check((*all)[0]);
                  return absl::OkStatus();
                })
                .ok());
  };
  read_back([](const ClusterRecord& c) {
    CHECK(c.paused);
    CHECK(c.template_values_json == R"({"ingress":{"host":"edge.example"}})");
    CHECK(c.annotations == Labels{{"example.com/owner", "ops"}});
  });

  cluster.paused = false;
  cluster.template_values_json = "{}";
  cluster.annotations.clear();
  REQUIRE(store->Write([&](Tx& tx) { return tx.UpdateCluster(cluster); }).ok());
  read_back([](const ClusterRecord& c) {
    CHECK_FALSE(c.paused);
    CHECK(c.template_values_json == "{}");
    CHECK(c.annotations.empty());
  });
}

// templateValues must be a JSON object: anything else is refused with
// InvalidArgument before it is written (so it cannot break later reads).
TEST_CASE("Cluster template values that are not a JSON object are refused", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  REQUIRE(store->Write([](Tx& tx) { return tx.InsertCluster(MakeCluster("c-1", "edge")); }).ok());
  for (const char* bad : {"", "[1,2]", "\"text\"", "{\"a\":", "null"}) {
    INFO("template_values_json = " << bad);
    ClusterRecord other = MakeCluster("c-2", "other");
    other.template_values_json = bad;
    absl::Status insert = store->Write([&](Tx& tx) { return tx.InsertCluster(other); });
    CHECK(insert.code() == absl::StatusCode::kInvalidArgument);
    CHECK(insert.message() ==
          "store: insert cluster \"other\" (id \"c-2\"): template_values_json is not a JSON "
          "object");
    ClusterRecord edge = MakeCluster("c-1", "edge");
    edge.template_values_json = bad;
    absl::Status update = store->Write([&](Tx& tx) { return tx.UpdateCluster(edge); });
    CHECK(update.code() == absl::StatusCode::kInvalidArgument);
    CHECK(update.message() ==
          "store: update cluster \"c-1\": template_values_json is not a JSON object");
  }
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto clusters = tx.ListClusters();
                REQUIRE(clusters.ok());
                REQUIRE(clusters->size() == 1);
                CHECK((*clusters)[0].template_values_json == "{}");
                return absl::OkStatus();
              })
              .ok());
}

// ClusterGroups come back ordered by name, a put replaces the whole row, an
// empty selector ("" = null) and empty labels round-trip, and deleting a group
// that does not exist is NotFound naming it.
TEST_CASE("ClusterGroups list by name, are replaced by put, and deleting a missing one fails",
          "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  ClusterGroupRecord beta;
  beta.name = "beta";
  beta.selector_json = R"({"matchLabels":{"env":"beta"}})";
  beta.labels = {{"team", "a"}};
  beta.spec_yaml = "v1";
  beta.created = kT0;
  beta.updated = kT0;
  ClusterGroupRecord alpha;
  alpha.name = "alpha";
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                if (auto s = tx.PutClusterGroup(beta); !s.ok()) return s;
                return tx.PutClusterGroup(alpha);
              })
              .ok());

  beta.selector_json = R"({"matchExpressions":[{"key":"env","operator":"Exists"}]})";
  beta.labels.clear();
  beta.spec_yaml = "v2";
  beta.updated = kT0 + absl::Minutes(1);
  REQUIRE(store->Write([&](Tx& tx) { return tx.PutClusterGroup(beta); }).ok());

  REQUIRE(store
              ->Read([&](Tx& tx) -> absl::Status {
                auto groups = tx.ListClusterGroups();
                REQUIRE(groups.ok());
                REQUIRE(groups->size() == 2);
                const ClusterGroupRecord& a = (*groups)[0];
                CHECK(a.name == "alpha");
                CHECK(a.selector_json.empty());
                CHECK(a.labels.empty());
                CHECK(a.spec_yaml.empty());
                CHECK(a.created == absl::InfinitePast());
                const ClusterGroupRecord& b = (*groups)[1];
                CHECK(b.name == "beta");
                CHECK(b.selector_json == beta.selector_json);
                CHECK(b.labels.empty());
                CHECK(b.spec_yaml == "v2");
                CHECK(b.created == kT0);
                CHECK(b.updated == kT0 + absl::Minutes(1));
                return absl::OkStatus();
              })
              .ok());

  ClusterGroupRecord bad;
  bad.name = "bad";
  bad.selector_json = "[]";
  absl::Status invalid = store->Write([&](Tx& tx) { return tx.PutClusterGroup(bad); });
  CHECK(invalid.code() == absl::StatusCode::kInvalidArgument);
  CHECK(invalid.message() ==
        "store: put cluster group \"bad\": selector_json is not a JSON object");

  REQUIRE(store->Write([](Tx& tx) { return tx.DeleteClusterGroup("alpha"); }).ok());
  absl::Status missing = store->Write([](Tx& tx) { return tx.DeleteClusterGroup("alpha"); });
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(missing.message() == "store: delete cluster group \"alpha\": no such cluster group");
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto groups = tx.ListClusterGroups();
                REQUIRE(groups.ok());
                REQUIRE(groups->size() == 1);
                CHECK((*groups)[0].name == "beta");
                return absl::OkStatus();
              })
              .ok());
}

// Secret values are arbitrary bytes: NUL bytes, bytes that are not UTF-8, an
// empty value and a secret with no keys all come back exactly; on disk each
// value is base64 inside data_json, never the plain value.
TEST_CASE("Secrets round-trip byte for byte, including NUL bytes and empty data", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  auto store = OpenOrDie(path);
  std::string every_byte;
  for (int i = 0; i < 256; ++i) every_byte.push_back(static_cast<char>(i));
  SecretRecord ssh;
  ssh.name = "ssh";
  ssh.type = "ssh-auth";
  ssh.data = {{"ssh-privatekey", std::string("\0\0key\0", 6)},
              {"known_hosts", "github.com ssh-ed25519 AAAA\n"},
              {"every-byte", every_byte},
              {"empty", ""}};
  ssh.created = kT0;
  ssh.updated = kT0;
  SecretRecord empty;
  empty.name = "empty";
  empty.type = "generic";
  SecretRecord basic;
  basic.name = "basic";
  basic.type = "basic-auth";
  basic.data = {{"password", "hunter2"}};
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                for (const SecretRecord* s : {&ssh, &empty, &basic}) {
                  if (auto status = tx.PutSecret(*s); !status.ok()) return status;
                }
                return absl::OkStatus();
              })
              .ok());

  REQUIRE(store
              ->Read([&](Tx& tx) -> absl::Status {
                auto got = tx.GetSecret("ssh");
                REQUIRE(got.ok());
                REQUIRE(got->has_value());
                CHECK((*got)->type == "ssh-auth");
                CHECK((*got)->data == ssh.data);
                CHECK((*got)->data.at("ssh-privatekey").size() == 6);
                CHECK((*got)->data.at("every-byte") == every_byte);
                CHECK((*got)->created == kT0);
                auto missing = tx.GetSecret("nope");
                REQUIRE(missing.ok());
                CHECK_FALSE(missing->has_value());

                auto all = tx.ListSecrets();
                REQUIRE(all.ok());
                REQUIRE(all->size() == 3);
                CHECK((*all)[0].name == "basic");
                CHECK((*all)[1].name == "empty");
                CHECK((*all)[1].type == "generic");
                CHECK((*all)[1].data.empty());
                CHECK((*all)[2].name == "ssh");
                CHECK((*all)[2].data == ssh.data);
                return absl::OkStatus();
              })
              .ok());
  CHECK(QueryWithSecondConnection(path, "SELECT data_json FROM secrets WHERE name = 'basic'") ==
        R"({"password":"aHVudGVyMg=="})");
}

// A put replaces the whole secret (keys it no longer has are gone); deleting
// removes it, and deleting a secret that does not exist is NotFound naming it.
TEST_CASE("PutSecret replaces the secret and deleting a missing secret fails", "[store]") {
  ScratchDir dir;
  auto store = OpenOrDie(dir.Sub("store.db"));
  SecretRecord secret;
  secret.name = "repo-creds";
  secret.type = "basic-auth";
  secret.data = {{"username", "u"}, {"password", "old"}};
  REQUIRE(store->Write([&](Tx& tx) { return tx.PutSecret(secret); }).ok());
  secret.type = "generic";
  secret.data = {{"token", "new"}};
  secret.updated = kT0;
  REQUIRE(store->Write([&](Tx& tx) { return tx.PutSecret(secret); }).ok());
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto got = tx.GetSecret("repo-creds");
                REQUIRE(got.ok());
                REQUIRE(got->has_value());
                CHECK((*got)->type == "generic");
                CHECK((*got)->data == std::map<std::string, std::string>{{"token", "new"}});
                CHECK((*got)->updated == kT0);
                CHECK(tx.ListSecrets().value().size() == 1);
                return absl::OkStatus();
              })
              .ok());

  REQUIRE(store->Write([](Tx& tx) { return tx.DeleteSecret("repo-creds"); }).ok());
  absl::Status missing = store->Write([](Tx& tx) { return tx.DeleteSecret("repo-creds"); });
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(missing.message() == "store: delete secret \"repo-creds\": no such secret");
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK_FALSE(tx.GetSecret("repo-creds").value().has_value());
                CHECK(tx.ListSecrets().value().empty());
                return absl::OkStatus();
              })
              .ok());
}

// However a secret write fails (written from a Read callback, a key that is not
// UTF-8, SQLite refusing the row), the message names the secret but never
// contains its values, plain or base64.
TEST_CASE("Errors from failed secret writes never contain the secret's values", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  auto store = OpenOrDie(path);
  const std::string value = "s3cr3t-hunter2-value";
  const std::string value_base64 = "czNjcjN0LWh1bnRlcjItdmFsdWU=";
  SecretRecord secret;
  secret.name = "creds";
  secret.type = "generic";
  secret.data = {{"password", value}};
  auto check_clean = [&](const absl::Status& status) {
    INFO(status.ToString());
    CHECK_FALSE(status.ok());
    CHECK_THAT(std::string(status.message()), Catch::Contains("secret \"creds\""));
    CHECK_THAT(std::string(status.message()), !Catch::Contains(value));
    CHECK_THAT(std::string(status.message()), !Catch::Contains(value_base64));
    CHECK_THAT(std::string(status.message()), !Catch::Contains("hunter2"));
  };

  absl::Status from_read = store->Read([&](Tx& tx) { return tx.PutSecret(secret); });
  CHECK(from_read.code() == absl::StatusCode::kFailedPrecondition);
  check_clean(from_read);

  SecretRecord bad_key = secret;
  bad_key.data["bad\xff"] = value;
  absl::Status not_utf8 = store->Write([&](Tx& tx) { return tx.PutSecret(bad_key); });
  CHECK(not_utf8.code() == absl::StatusCode::kInvalidArgument);
  CHECK(not_utf8.message() ==
        "store: put secret \"creds\": data key \"bad\\xff\" is not valid UTF-8");
  check_clean(not_utf8);

  ExecWithSecondConnection(path,
                           "CREATE TRIGGER refuse_secrets BEFORE INSERT ON secrets BEGIN"
                           " SELECT RAISE(ABORT, 'refused by trigger'); END;");
  absl::Status refused = store->Write([&](Tx& tx) { return tx.PutSecret(secret); });
  CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(refused.message() == "store: put secret \"creds\": refused by trigger");
  check_clean(refused);

  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.ListSecrets().value().empty());
                return absl::OkStatus();
              })
              .ok());
}

// A JSON column of the clusters, cluster_groups or secrets table that was
// changed behind the store's back into something it cannot be is DataLoss
// naming the column (and, for secrets, the key, never the value).
TEST_CASE("Corrupt JSON in cluster, cluster group and secret columns is DataLoss naming the column",
          "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  auto store = OpenOrDie(path);
  ClusterGroupRecord group;
  group.name = "g";
  SecretRecord secret;
  secret.name = "s";
  secret.data = {{"password", "x"}};
  REQUIRE(store
              ->Write([&](Tx& tx) -> absl::Status {
                if (auto s = tx.InsertCluster(MakeCluster("c-1", "n")); !s.ok()) return s;
                if (auto s = tx.PutClusterGroup(group); !s.ok()) return s;
                return tx.PutSecret(secret);
              })
              .ok());

  struct Corruption {
    std::string sql;
    std::function<absl::Status(Tx&)> read;
    std::string message;
  };
  const std::vector<Corruption> corruptions = {
      {"UPDATE clusters SET template_values_json = '[1]'",
       [](Tx& tx) { return tx.ListClusters().status(); },
       "store: list clusters: column template_values_json is not a JSON object"},
      {"UPDATE clusters SET template_values_json = ''",
       [](Tx& tx) { return tx.GetCluster("c-1").status(); },
       "store: get cluster \"c-1\": column template_values_json is not a JSON object"},
      {"UPDATE clusters SET annotations_json = 'nope'",
       [](Tx& tx) { return tx.GetClusterByName("n").status(); },
       "store: get cluster by name \"n\": column annotations_json is not a JSON object"},
      {"UPDATE clusters SET annotations_json = '{\"a\":1}'",
       [](Tx& tx) { return tx.ListClusters().status(); },
       "store: list clusters: column annotations_json key \"a\" is not a string"},
      {"UPDATE cluster_groups SET selector_json = '\"x\"'",
       [](Tx& tx) { return tx.ListClusterGroups().status(); },
       "store: list cluster groups: column selector_json is not a JSON object"},
      {"UPDATE cluster_groups SET labels_json = '[]'",
       [](Tx& tx) { return tx.ListClusterGroups().status(); },
       "store: list cluster groups: column labels_json is not a JSON object"},
      {"UPDATE secrets SET data_json = '{\"password\":\"%hunter2%\"}'",
       [](Tx& tx) { return tx.GetSecret("s").status(); },
       "store: get secret \"s\": column data_json key \"password\" is not base64"},
      {"UPDATE secrets SET data_json = '{\"password\":7}'",
       [](Tx& tx) { return tx.ListSecrets().status(); },
       "store: list secrets: column data_json key \"password\" is not a string"},
      {"UPDATE secrets SET data_json = 'hunter2'", [](Tx& tx) { return tx.ListSecrets().status(); },
       "store: list secrets: column data_json is not a JSON object"},
  };
  const std::string restore =
      "UPDATE clusters SET template_values_json = '{}', annotations_json = '{}';"
      "UPDATE cluster_groups SET selector_json = '', labels_json = '{}';"
      "UPDATE secrets SET data_json = '{}';";
  for (const Corruption& corruption : corruptions) {
    INFO(corruption.sql);
    ExecWithSecondConnection(path, restore + corruption.sql);
    absl::Status status = store->Read(corruption.read);
    CHECK(status.code() == absl::StatusCode::kDataLoss);
    CHECK(status.message() == corruption.message);
  }
}

// The schema of version 1 exactly as migration 1 shipped it (kMigrations[0]
// in sqlite_store.cc, which is never edited), to build a store as an older
// manager left it.
constexpr const char* kSchemaVersion1 = R"sql(
CREATE TABLE gitrepos (
  name TEXT PRIMARY KEY NOT NULL,
  spec_yaml TEXT NOT NULL,
  generation INTEGER NOT NULL,
  "commit" TEXT NOT NULL,
  applied_commit TEXT NOT NULL,
  error TEXT NOT NULL,
  last_fetch_ms INTEGER NOT NULL
);
CREATE TABLE bundles (
  name TEXT PRIMARY KEY NOT NULL,
  gitrepo TEXT NOT NULL,
  path TEXT NOT NULL,
  "commit" TEXT NOT NULL,
  labels_json TEXT NOT NULL,
  spec_json TEXT NOT NULL,
  resources_json TEXT NOT NULL,
  error TEXT NOT NULL
);
CREATE INDEX bundles_by_gitrepo ON bundles (gitrepo);
CREATE TABLE contents (
  hash TEXT PRIMARY KEY NOT NULL,
  data BLOB NOT NULL
);
CREATE TABLE clusters (
  id TEXT PRIMARY KEY NOT NULL,
  name TEXT NOT NULL UNIQUE,
  labels_json TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  agent_version TEXT NOT NULL,
  cert_serial TEXT NOT NULL,
  cert_not_after_ms INTEGER NOT NULL,
  cert_pem TEXT NOT NULL,
  public_key_sha256 TEXT NOT NULL,
  registration_token_id TEXT NOT NULL,
  revoked INTEGER NOT NULL
);
CREATE TABLE bundle_deployments (
  bundle TEXT NOT NULL,
  cluster_id TEXT NOT NULL,
  deployment_id TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  options_json TEXT NOT NULL,
  applied_deployment_id TEXT NOT NULL,
  state INTEGER NOT NULL,
  message TEXT NOT NULL,
  status_json TEXT NOT NULL,
  status_time_ms INTEGER NOT NULL,
  PRIMARY KEY (bundle, cluster_id)
);
CREATE INDEX bundle_deployments_by_cluster_id ON bundle_deployments (cluster_id);
CREATE TABLE registration_tokens (
  id TEXT PRIMARY KEY NOT NULL,
  secret_sha256 TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  max_uses INTEGER NOT NULL,
  uses INTEGER NOT NULL,
  revoked_at_ms INTEGER NOT NULL,
  labels_json TEXT NOT NULL,
  cluster_name TEXT NOT NULL
);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY NOT NULL,
  secret_sha256 TEXT NOT NULL,
  role TEXT NOT NULL,
  description TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL,
  last_used_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER NOT NULL
);
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  outcome TEXT NOT NULL,
  details TEXT NOT NULL
);
)sql";

// A data dir written by a manager at schema version 1 migrates to the latest
// version on open: its clusters keep every field and get the defaults for the
// new ones (not paused, template values "{}", no annotations), the new fields
// can then be set, and cluster groups and secrets can be stored.
TEST_CASE("A version 1 store migrates on open and its clusters keep their data", "[store]") {
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                            nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  ExecWithSecondConnection(
      path, std::string(kSchemaVersion1) +
                "PRAGMA user_version = 1;"
                "INSERT INTO clusters VALUES ('c-1', 'prod', '{\"env\":\"prod\"}', 1700000000123,"
                " 1700000060000, '0.1.0', '0a1b', 1700086400123, 'PEM', 'keyhash', 'tok-1', 1);"
                "INSERT INTO gitrepos VALUES ('r', 'spec', 4, 'c0ffee', 'c0ffee', '', 0);");
  REQUIRE(QueryWithSecondConnection(path, "PRAGMA user_version") == "1");

  auto store = OpenOrDie(path);
  CHECK(SqliteStore::LatestSchemaVersion() == 3);
  CHECK(store->SchemaVersionForTest() == 3);
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto got = tx.GetCluster("c-1");
                REQUIRE(got.ok());
                REQUIRE(got->has_value());
                const ClusterRecord& c = **got;
                CHECK(c.name == "prod");
                CHECK(c.labels == Labels{{"env", "prod"}});
                CHECK(c.created == kT0);
                CHECK(c.last_seen == absl::FromUnixMillis(1700000060000));
                CHECK(c.agent_version == "0.1.0");
                CHECK(c.cert_serial == "0a1b");
                CHECK(c.cert_not_after == kT0 + absl::Hours(24));
                CHECK(c.cert_pem == "PEM");
                CHECK(c.public_key_sha256 == "keyhash");
                CHECK(c.registration_token_id == "tok-1");
                CHECK(c.revoked);
                CHECK_FALSE(c.paused);
                CHECK(c.template_values_json == "{}");
                CHECK(c.annotations.empty());
                auto repo = tx.GetGitRepo("r");
                REQUIRE(repo.ok());
                REQUIRE(repo->has_value());
                CHECK((*repo)->generation == 4);
                CHECK(tx.ListClusterGroups().value().empty());
                CHECK(tx.ListSecrets().value().empty());
                return absl::OkStatus();
              })
              .ok());

  REQUIRE(store
              ->Write([](Tx& tx) -> absl::Status {
                ClusterRecord c = tx.GetCluster("c-1").value().value();
                c.paused = true;
                c.annotations = {{"a", "b"}};
                if (auto s = tx.UpdateCluster(c); !s.ok()) return s;
                ClusterGroupRecord group;
                group.name = "g";
                if (auto s = tx.PutClusterGroup(group); !s.ok()) return s;
                SecretRecord secret;
                secret.name = "s";
                return tx.PutSecret(secret);
              })
              .ok());
  store.reset();

  // Reopening runs no migration again and keeps the new data.
  store = OpenOrDie(path);
  CHECK(store->SchemaVersionForTest() == 3);
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                auto c = tx.GetCluster("c-1").value().value();
                CHECK(c.paused);
                CHECK(c.annotations == Labels{{"a", "b"}});
                CHECK(c.cert_pem == "PEM");
                CHECK(tx.ListClusterGroups().value().size() == 1);
                CHECK(tx.ListSecrets().value().size() == 1);
                return absl::OkStatus();
              })
              .ok());
}

// Sets the process umask for the life of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : previous_(umask(mask)) {}
  ~ScopedUmask() { umask(previous_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t previous_;
};

// The permission bits of `path`, or -1 if it cannot be stat'ed.
int ModeOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

// The store holds secrets: even with a umask that lets everyone read new
// files, the database and its -wal and -shm files are created mode 0600.
TEST_CASE("A new store file and its WAL and shared-memory files are mode 0600 whatever the umask",
          "[store]") {
  ScopedUmask open_umask(0);
  ScratchDir dir;
  const std::string path = dir.Sub("store.db");
  auto store = OpenOrDie(path);
  SecretRecord secret;
  secret.name = "s";
  secret.data = {{"password", "hunter2"}};
  REQUIRE(store->Write([&](Tx& tx) { return tx.PutSecret(secret); }).ok());
  REQUIRE(std::filesystem::exists(path + "-wal"));
  REQUIRE(std::filesystem::exists(path + "-shm"));
  CHECK(ModeOf(path) == 0600);
  CHECK(ModeOf(path + "-wal") == 0600);
  CHECK(ModeOf(path + "-shm") == 0600);
}

// A store an older manager left readable by others, with the WAL file a
// crash left beside it, is set to 0600 when opened, before anything is read;
// the rows in that WAL are still there.
TEST_CASE("Opening a store readable by others makes it and its WAL file mode 0600", "[store]") {
  ScratchDir dir;
  const std::string live = dir.Sub("live.db");
  const std::string path = dir.Sub("store.db");
  {
    // Copying the files of an open store whose last commit is still only in
    // its WAL is what a crash leaves behind.
    auto store = OpenOrDie(live);
    REQUIRE(store->Write([](Tx& tx) { return tx.PutGitRepo(Repo("r")); }).ok());
    REQUIRE(std::filesystem::copy_file(live, path));
    REQUIRE(std::filesystem::copy_file(live + "-wal", path + "-wal"));
  }
  REQUIRE(chmod(path.c_str(), 0644) == 0);
  REQUIRE(chmod((path + "-wal").c_str(), 0666) == 0);
  REQUIRE(std::filesystem::file_size(path + "-wal") > 0);

  auto store = OpenOrDie(path);
  CHECK(ModeOf(path) == 0600);
  CHECK(ModeOf(path + "-wal") == 0600);
  CHECK(ModeOf(path + "-shm") == 0600);
  REQUIRE(store
              ->Read([](Tx& tx) -> absl::Status {
                CHECK(tx.GetGitRepo("r").value().has_value());
                return absl::OkStatus();
              })
              .ok());
}

}  // namespace
}  // namespace flotilla::manager
