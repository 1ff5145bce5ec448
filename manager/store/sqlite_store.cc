// SqliteStore: the Store on one SQLite file.
//
// One connection, serialised by mu_: SQLite allows one transaction per
// connection, so Write and Read both take mu_ for the whole transaction. Each
// call runs BEGIN [IMMEDIATE] / callback / COMMIT (or ROLLBACK). Calling Write
// or Read of the same store from inside a callback would deadlock on mu_; it is
// not supported, and is refused with FailedPrecondition instead of hanging.
//
// Prepared statements are cached per SQL text for the life of the connection
// and reset (bindings cleared) before and after every use.
//
// Times are stored as int64 Unix milliseconds, with InfinitePast as INT64_MIN
// and InfiniteFuture as INT64_MAX so both round-trip exactly. String maps
// (labels, bundle resources) are stored as JSON objects. Secret values may be
// any bytes, which a JSON string cannot hold, so secrets.data_json maps each
// key to its value base64-encoded. A JSON column that does not parse as what
// it should be is DataLoss naming the column; values never appear in messages.
//
// The store holds secrets, so the database file and the -wal, -shm and
// -journal files beside it are mode 0600 (see RestrictFileModes).
#include "manager/store/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/audit_chain.h"
#include "common/status_macros.h"
#include "manager/store/store_metrics.h"

namespace flotilla::manager {
namespace {

// Schema migrations, in order: migrations[i] takes the schema from version i
// to version i + 1 (recorded in PRAGMA user_version). Never edit a migration
// that has shipped; append a new one.
constexpr const char* kMigrations[] = {
    // Version 1.
    R"sql(
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
)sql",
    // Version 2: operator-set cluster fields (Fleet's Cluster object),
    // ClusterGroups, and Secrets.
    R"sql(
ALTER TABLE clusters ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
ALTER TABLE clusters ADD COLUMN template_values_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE clusters ADD COLUMN annotations_json TEXT NOT NULL DEFAULT '{}';
CREATE TABLE cluster_groups (
  name TEXT PRIMARY KEY NOT NULL,
  selector_json TEXT NOT NULL,
  labels_json TEXT NOT NULL,
  spec_yaml TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
CREATE TABLE secrets (
  name TEXT PRIMARY KEY NOT NULL,
  type TEXT NOT NULL,
  data_json TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
)sql",
    // Version 3: rollouts (a staged deployment beside the current one), API
    // token workspaces, and the audit log's hash chain. Rows from before keep
    // an empty hash; `flotilla audit verify` says how many.
    R"sql(
ALTER TABLE bundle_deployments ADD COLUMN staged_deployment_id TEXT NOT NULL DEFAULT '';
ALTER TABLE bundle_deployments ADD COLUMN staged_content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE bundle_deployments ADD COLUMN staged_options_json TEXT NOT NULL DEFAULT '';
UPDATE bundle_deployments SET staged_deployment_id = deployment_id,
  staged_content_hash = content_hash, staged_options_json = options_json;
ALTER TABLE api_tokens ADD COLUMN workspace TEXT NOT NULL DEFAULT '*';
ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
)sql",
};

constexpr int kLatestSchemaVersion = static_cast<int>(std::size(kMigrations));

constexpr int64_t kInfinitePastMillis = std::numeric_limits<int64_t>::min();
constexpr int64_t kInfiniteFutureMillis = std::numeric_limits<int64_t>::max();

// SQLITE_STATIC (a null destructor): SQLite does not copy the bound value. Safe
// because every Query clears its bindings before the bound strings go away.
constexpr sqlite3_destructor_type kBindStatic = nullptr;

int64_t TimeToMillis(absl::Time t) {
  if (t == absl::InfinitePast()) return kInfinitePastMillis;
  if (t == absl::InfiniteFuture()) return kInfiniteFutureMillis;
  // Keep finite times (even absurd ones) off the two sentinels.
  return std::clamp(absl::ToUnixMillis(t), kInfinitePastMillis + 1, kInfiniteFutureMillis - 1);
}

absl::Time MillisToTime(int64_t ms) {
  if (ms == kInfinitePastMillis) return absl::InfinitePast();
  if (ms == kInfiniteFutureMillis) return absl::InfiniteFuture();
  return absl::FromUnixMillis(ms);
}

// A user-supplied name inside an error message, quoted and with control bytes
// escaped.
std::string Quote(absl::string_view s) { return absl::StrCat("\"", absl::CHexEscape(s), "\""); }

absl::StatusCode CodeForSqlite(int rc) {
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return absl::StatusCode::kAlreadyExists;
  }
  switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    case SQLITE_NOMEM:
      return absl::StatusCode::kResourceExhausted;
    case SQLITE_TOOBIG:
      return absl::StatusCode::kInvalidArgument;
    case SQLITE_CONSTRAINT:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
    case SQLITE_AUTH:
      return absl::StatusCode::kFailedPrecondition;
    default:
      return absl::StatusCode::kInternal;
  }
}

bool IsCorruption(int rc) { return (rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB; }

// "store: <what>: <SQLite's message>", with the code the caller should act on.
absl::Status SqliteStatus(int rc, absl::string_view what, absl::string_view message) {
  return absl::Status(CodeForSqlite(rc), absl::StrCat("store: ", what, ": ", message));
}

absl::Status CorruptStore(absl::string_view path, absl::string_view findings) {
  return absl::DataLossError(absl::StrCat("store ", path, " is corrupt: ", findings,
                                          "; refusing to start (restore a backup or move the "
                                          "file away)"));
}

absl::StatusOr<std::string> StringMapToJson(const std::map<std::string, std::string>& map,
                                            absl::string_view what, absl::string_view field) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [key, value] : map) json[key] = value;
  try {
    return json.dump();
  } catch (const nlohmann::json::exception& e) {  // invalid UTF-8
    return absl::InvalidArgumentError(absl::StrCat("store: ", what, ": ", field, ": ", e.what()));
  }
}

absl::StatusOr<std::map<std::string, std::string>> JsonToStringMap(absl::string_view text,
                                                                   absl::string_view what,
                                                                   absl::string_view column) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::DataLossError(
        absl::StrCat("store: ", what, ": column ", column, " is not a JSON object"));
  }
  std::map<std::string, std::string> map;
  for (const auto& [key, value] : json.items()) {
    if (!value.is_string()) {
      return absl::DataLossError(absl::StrCat("store: ", what, ": column ", column, " key ",
                                              Quote(key), " is not a string"));
    }
    map.emplace(key, value.get<std::string>());
  }
  return map;
}

bool IsJsonObject(absl::string_view text) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  return !json.is_discarded() && json.is_object();
}

// A caller's field documented as JSON object text is refused before it is
// written, so that a bad value cannot make every later read of the table fail.
// `empty_ok`: "" is allowed too (a null selector).
absl::Status CheckJsonObjectField(absl::string_view text, absl::string_view what,
                                  absl::string_view field, bool empty_ok = false) {
  if ((empty_ok && text.empty()) || IsJsonObject(text)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("store: ", what, ": ", field, " is not a JSON object"));
}

// secrets.data_json: key -> base64 of the value. Errors name keys, never values.
absl::StatusOr<std::string> SecretDataToJson(const std::map<std::string, std::string>& data,
                                             absl::string_view what) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [key, value] : data) {
    try {
      (void)nlohmann::json(key).dump();
    } catch (const nlohmann::json::exception&) {
      return absl::InvalidArgumentError(
          absl::StrCat("store: ", what, ": data key ", Quote(key), " is not valid UTF-8"));
    }
    json[key] = absl::Base64Escape(value);
  }
  try {
    return json.dump();
  } catch (const nlohmann::json::exception&) {  // unreachable: keys checked, values base64
    return absl::InternalError(absl::StrCat("store: ", what, ": cannot encode data as JSON"));
  }
}

absl::StatusOr<std::map<std::string, std::string>> JsonToSecretData(absl::string_view text,
                                                                    absl::string_view what) {
  ASSIGN_OR_RETURN(auto encoded, JsonToStringMap(text, what, "data_json"));
  std::map<std::string, std::string> data;
  for (auto& [key, value] : encoded) {
    std::string decoded;
    if (!absl::Base64Unescape(value, &decoded)) {
      return absl::DataLossError(
          absl::StrCat("store: ", what, ": column data_json key ", Quote(key), " is not base64"));
    }
    data.emplace(key, std::move(decoded));
  }
  return data;
}

// The result of running SQL outside the statement cache (open, migrations).
struct SqlResult {
  int rc = SQLITE_OK;
  std::string error;              // SQLite's message when rc != SQLITE_OK
  std::vector<std::string> rows;  // first column of every result row
};

SqlResult ExecSql(sqlite3* db, const std::string& sql) {
  SqlResult result;
  char* error = nullptr;
  auto collect = [](void* out, int columns, char** values, char** /*names*/) -> int {
    static_cast<SqlResult*>(out)->rows.emplace_back(columns > 0 && values[0] ? values[0] : "");
    return 0;
  };
  result.rc = sqlite3_exec(db, sql.c_str(), collect, &result, &error);
  if (result.rc != SQLITE_OK) result.error = error ? error : sqlite3_errmsg(db);
  sqlite3_free(error);
  return result;
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// Prepared statements of one connection, by SQL text. Used only while the
// owning SqliteStore's mu_ is held.
struct StatementCache {
  absl::flat_hash_map<std::string, StmtPtr> statements;
};

// sqlite_store.h gives SqliteStore no member to hold its statement cache, so the
// caches live here, one per connection: created by the constructor, destroyed
// (finalising the statements) by the destructor before the connection closes.
class StatementCacheRegistry {
 public:
  static StatementCacheRegistry& Get() {
    static auto* registry = new StatementCacheRegistry;
    return *registry;
  }
  void Add(const sqlite3* db) {
    absl::MutexLock lock(&mu_);
    caches_[db] = std::make_unique<StatementCache>();
  }
  StatementCache& Find(const sqlite3* db) {
    absl::MutexLock lock(&mu_);
    return *caches_.at(db);  // present from construction to destruction
  }
  void Remove(const sqlite3* db) {
    std::unique_ptr<StatementCache> cache;
    {
      absl::MutexLock lock(&mu_);
      auto it = caches_.find(db);
      if (it == caches_.end()) return;
      cache = std::move(it->second);
      caches_.erase(it);
    }
    // `cache` finalises its statements here, outside the registry lock.
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<const sqlite3*, std::unique_ptr<StatementCache>> caches_ ABSL_GUARDED_BY(mu_);
};

// One use of a cached statement: binds parameters left to right, steps, reads
// columns, and resets the statement (clearing its bindings) when destroyed.
// Bind errors are remembered and reported by the first Step.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt, std::string what)
      : db_(db), stmt_(stmt), what_(std::move(what)) {}
  Query(Query&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        what_(std::move(other.what_)),
        next_param_(other.next_param_),
        bind_rc_(other.bind_rc_) {}
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query& operator=(Query&&) = delete;
  ~Query() {
    if (stmt_ == nullptr) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  const std::string& what() const { return what_; }
  bool read_only() const { return sqlite3_stmt_readonly(stmt_) != 0; }

  Query& Bind(absl::string_view text) {
    Record(sqlite3_bind_text64(stmt_, ++next_param_, NonNull(text), text.size(), kBindStatic,
                               SQLITE_UTF8));
    return *this;
  }
  Query& Bind(int64_t value) {
    Record(sqlite3_bind_int64(stmt_, ++next_param_, value));
    return *this;
  }
  Query& Bind(absl::Time time) { return Bind(TimeToMillis(time)); }
  Query& BindBlob(absl::string_view data) {
    Record(sqlite3_bind_blob64(stmt_, ++next_param_, NonNull(data), data.size(), kBindStatic));
    return *this;
  }

  // Steps once: true with a row to read, false when done.
  absl::StatusOr<bool> Step() {
    if (bind_rc_ != SQLITE_OK) return SqliteStatus(bind_rc_, what_, sqlite3_errstr(bind_rc_));
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteStatus(rc, what_, sqlite3_errmsg(db_));
  }
  // Steps to the end, for statements that return no rows.
  absl::Status Run() {
    for (;;) {
      ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return absl::OkStatus();
    }
  }

  std::string Text(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    if (text == nullptr) return "";
    return std::string(reinterpret_cast<const char*>(text),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  std::string Blob(int column) const {
    const void* data = sqlite3_column_blob(stmt_, column);
    if (data == nullptr) return "";  // also a zero-length blob
    return std::string(static_cast<const char*>(data),
                       static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  absl::Time Time(int column) const { return MillisToTime(Int(column)); }
  absl::StatusOr<std::map<std::string, std::string>> Map(int column,
                                                         absl::string_view column_name) const {
    return JsonToStringMap(Text(column), what_, column_name);
  }
  // The column's text, which must be a JSON object (or, if `empty_ok`, "").
  absl::StatusOr<std::string> JsonObjectText(int column, absl::string_view column_name,
                                             bool empty_ok = false) const {
    std::string text = Text(column);
    if ((empty_ok && text.empty()) || IsJsonObject(text)) return text;
    return absl::DataLossError(
        absl::StrCat("store: ", what_, ": column ", column_name, " is not a JSON object"));
  }

 private:
  // A null pointer would bind SQL NULL; an empty value must bind "" / x''.
  static const char* NonNull(absl::string_view s) { return s.data() ? s.data() : ""; }
  void Record(int rc) {
    if (bind_rc_ == SQLITE_OK) bind_rc_ = rc;
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string what_;
  int next_param_ = 0;
  int bind_rc_ = SQLITE_OK;
};

// Returns the cached statement for `sql`, preparing it on first use.
absl::StatusOr<Query> PrepareCached(sqlite3* db, StatementCache& cache, const char* sql,
                                    std::string what) {
  auto it = cache.statements.find(absl::string_view(sql));
  if (it == cache.statements.end()) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtPtr stmt(raw);
    if (rc != SQLITE_OK) return SqliteStatus(rc, what, sqlite3_errmsg(db));
    it = cache.statements.emplace(sql, std::move(stmt)).first;
  }
  sqlite3_stmt* stmt = it->second.get();
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  return Query(db, stmt, std::move(what));
}

absl::Status RunCached(sqlite3* db, StatementCache& cache, const char* sql, std::string what) {
  ASSIGN_OR_RETURN(Query query, PrepareCached(db, cache, sql, std::move(what)));
  return query.Run();
}

// Column lists, in the order the Read* functions below expect.
#define GITREPO_COLUMNS \
  "name, spec_yaml, generation, \"commit\", applied_commit, error, last_fetch_ms"
#define BUNDLE_COLUMNS \
  "name, gitrepo, path, \"commit\", labels_json, spec_json, resources_json, error"
#define CLUSTER_COLUMNS                                                              \
  "id, name, labels_json, created_ms, last_seen_ms, agent_version, cert_serial, "    \
  "cert_not_after_ms, cert_pem, public_key_sha256, registration_token_id, revoked, " \
  "paused, template_values_json, annotations_json"
#define CLUSTER_GROUP_COLUMNS "name, selector_json, labels_json, spec_yaml, created_ms, updated_ms"
#define SECRET_COLUMNS "name, type, data_json, created_ms, updated_ms"
#define BUNDLE_DEPLOYMENT_COLUMNS                                        \
  "bundle, cluster_id, deployment_id, content_hash, options_json, "      \
  "applied_deployment_id, state, message, status_json, status_time_ms, " \
  "staged_deployment_id, staged_content_hash, staged_options_json"
#define REGISTRATION_TOKEN_COLUMNS                                          \
  "id, secret_sha256, created_by, created_ms, expires_ms, max_uses, uses, " \
  "revoked_at_ms, labels_json, cluster_name"
#define API_TOKEN_COLUMNS                                                        \
  "id, secret_sha256, role, description, created_ms, expires_ms, last_used_ms, " \
  "revoked_at_ms, workspace"
#define AUDIT_COLUMNS "seq, time_ms, actor, action, resource, outcome, details, hash"

GitRepoRecord ReadGitRepo(const Query& q) {
  GitRepoRecord r;
  r.name = q.Text(0);
  r.spec_yaml = q.Text(1);
  r.generation = q.Int(2);
  r.commit = q.Text(3);
  r.applied_commit = q.Text(4);
  r.error = q.Text(5);
  r.last_fetch = q.Time(6);
  return r;
}

absl::StatusOr<BundleRecord> ReadBundle(const Query& q) {
  BundleRecord r;
  r.name = q.Text(0);
  r.gitrepo = q.Text(1);
  r.path = q.Text(2);
  r.commit = q.Text(3);
  ASSIGN_OR_RETURN(r.labels, q.Map(4, "labels_json"));
  r.spec_json = q.Text(5);
  ASSIGN_OR_RETURN(r.resources, q.Map(6, "resources_json"));
  r.error = q.Text(7);
  return r;
}

absl::StatusOr<ClusterRecord> ReadCluster(const Query& q) {
  ClusterRecord r;
  r.id = q.Text(0);
  r.name = q.Text(1);
  ASSIGN_OR_RETURN(r.labels, q.Map(2, "labels_json"));
  r.created = q.Time(3);
  r.last_seen = q.Time(4);
  r.agent_version = q.Text(5);
  r.cert_serial = q.Text(6);
  r.cert_not_after = q.Time(7);
  r.cert_pem = q.Text(8);
  r.public_key_sha256 = q.Text(9);
  r.registration_token_id = q.Text(10);
  r.revoked = q.Int(11) != 0;
  r.paused = q.Int(12) != 0;
  ASSIGN_OR_RETURN(r.template_values_json, q.JsonObjectText(13, "template_values_json"));
  ASSIGN_OR_RETURN(r.annotations, q.Map(14, "annotations_json"));
  return r;
}

absl::StatusOr<ClusterGroupRecord> ReadClusterGroup(const Query& q) {
  ClusterGroupRecord r;
  r.name = q.Text(0);
  ASSIGN_OR_RETURN(r.selector_json, q.JsonObjectText(1, "selector_json", /*empty_ok=*/true));
  ASSIGN_OR_RETURN(r.labels, q.Map(2, "labels_json"));
  r.spec_yaml = q.Text(3);
  r.created = q.Time(4);
  r.updated = q.Time(5);
  return r;
}

absl::StatusOr<SecretRecord> ReadSecret(const Query& q) {
  SecretRecord r;
  r.name = q.Text(0);
  r.type = q.Text(1);
  ASSIGN_OR_RETURN(r.data, JsonToSecretData(q.Text(2), q.what()));
  r.created = q.Time(3);
  r.updated = q.Time(4);
  return r;
}

BundleDeploymentRecord ReadBundleDeployment(const Query& q) {
  BundleDeploymentRecord r;
  r.bundle = q.Text(0);
  r.cluster_id = q.Text(1);
  r.deployment_id = q.Text(2);
  r.content_hash = q.Text(3);
  r.options_json = q.Text(4);
  r.applied_deployment_id = q.Text(5);
  r.state = static_cast<int>(q.Int(6));
  r.message = q.Text(7);
  r.status_json = q.Text(8);
  r.status_time = q.Time(9);
  r.staged_deployment_id = q.Text(10);
  r.staged_content_hash = q.Text(11);
  r.staged_options_json = q.Text(12);
  return r;
}

absl::StatusOr<RegistrationTokenRecord> ReadRegistrationToken(const Query& q) {
  RegistrationTokenRecord r;
  r.id = q.Text(0);
  r.secret_sha256 = q.Text(1);
  r.created_by = q.Text(2);
  r.created = q.Time(3);
  r.expires = q.Time(4);
  r.max_uses = static_cast<int>(q.Int(5));
  r.uses = static_cast<int>(q.Int(6));
  r.revoked_at = q.Time(7);
  ASSIGN_OR_RETURN(r.labels, q.Map(8, "labels_json"));
  r.cluster_name = q.Text(9);
  return r;
}

ApiTokenRecord ReadApiToken(const Query& q) {
  ApiTokenRecord r;
  r.id = q.Text(0);
  r.secret_sha256 = q.Text(1);
  r.role = q.Text(2);
  r.description = q.Text(3);
  r.created = q.Time(4);
  r.expires = q.Time(5);
  r.last_used = q.Time(6);
  r.revoked_at = q.Time(7);
  r.workspace = q.Text(8);
  return r;
}

AuditEventRecord ReadAudit(const Query& q) {
  AuditEventRecord r;
  r.seq = q.Int(0);
  r.time = q.Time(1);
  r.actor = q.Text(2);
  r.action = q.Text(3);
  r.resource = q.Text(4);
  r.outcome = q.Text(5);
  r.details = q.Text(6);
  r.hash = q.Text(7);
  return r;
}

// Adapts a row reader returning T or StatusOr<T> to StatusOr<T>.
template <typename T>
absl::StatusOr<T> AsStatusOr(T value) {
  return value;
}
template <typename T>
absl::StatusOr<T> AsStatusOr(absl::StatusOr<T> value) {
  return value;
}

// All rows of `query`, read with `read`.
template <typename Reader>
auto ReadAll(Query& query, Reader read)
    -> absl::StatusOr<std::vector<typename decltype(AsStatusOr(read(query)))::value_type>> {
  using T = typename decltype(AsStatusOr(read(query)))::value_type;
  std::vector<T> rows;
  for (;;) {
    ASSIGN_OR_RETURN(bool has_row, query.Step());
    if (!has_row) return rows;
    ASSIGN_OR_RETURN(T row, AsStatusOr(read(query)));
    rows.push_back(std::move(row));
  }
}

// The first row of `query`, if any.
template <typename Reader>
auto ReadOne(Query& query, Reader read)
    -> absl::StatusOr<std::optional<typename decltype(AsStatusOr(read(query)))::value_type>> {
  using T = typename decltype(AsStatusOr(read(query)))::value_type;
  ASSIGN_OR_RETURN(bool has_row, query.Step());
  if (!has_row) return std::optional<T>();
  ASSIGN_OR_RETURN(T row, AsStatusOr(read(query)));
  return std::optional<T>(std::move(row));
}

// The Tx of one Write or Read call, bound to the connection for its duration.
class SqliteTx final : public Tx {
 public:
  SqliteTx(sqlite3* db, StatementCache& cache, bool read_only)
      : db_(db), cache_(cache), read_only_(read_only) {}

  absl::Status PutGitRepo(const GitRepoRecord& r) override {
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT OR REPLACE INTO gitrepos (" GITREPO_COLUMNS
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                                      absl::StrCat("put gitrepo ", Quote(r.name))));
    q.Bind(r.name).Bind(r.spec_yaml).Bind(r.generation).Bind(r.commit).Bind(r.applied_commit);
    q.Bind(r.error).Bind(r.last_fetch);
    return q.Run();
  }

  absl::StatusOr<std::optional<GitRepoRecord>> GetGitRepo(const std::string& name) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " GITREPO_COLUMNS " FROM gitrepos WHERE name = ?",
                                      absl::StrCat("get gitrepo ", Quote(name))));
    q.Bind(name);
    return ReadOne(q, ReadGitRepo);
  }

  absl::StatusOr<std::vector<GitRepoRecord>> ListGitRepos() override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " GITREPO_COLUMNS " FROM gitrepos ORDER BY name",
                                      "list gitrepos"));
    return ReadAll(q, ReadGitRepo);
  }

  absl::Status DeleteGitRepo(const std::string& name) override {
    ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM gitrepos WHERE name = ?",
                                      absl::StrCat("delete gitrepo ", Quote(name))));
    q.Bind(name);
    return q.Run();
  }

  absl::Status PutBundle(const BundleRecord& r) override {
    std::string what = absl::StrCat("put bundle ", Quote(r.name));
    ASSIGN_OR_RETURN(std::string labels, StringMapToJson(r.labels, what, "labels"));
    ASSIGN_OR_RETURN(std::string resources, StringMapToJson(r.resources, what, "resources"));
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT OR REPLACE INTO bundles (" BUNDLE_COLUMNS
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                      std::move(what)));
    q.Bind(r.name).Bind(r.gitrepo).Bind(r.path).Bind(r.commit).Bind(labels).Bind(r.spec_json);
    q.Bind(resources).Bind(r.error);
    return q.Run();
  }

  absl::Status DeleteBundle(const std::string& name) override {
    ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM bundles WHERE name = ?",
                                      absl::StrCat("delete bundle ", Quote(name))));
    q.Bind(name);
    return q.Run();
  }

  absl::StatusOr<std::vector<BundleRecord>> ListBundles() override {
    ASSIGN_OR_RETURN(
        Query q, Prepare("SELECT " BUNDLE_COLUMNS " FROM bundles ORDER BY name", "list bundles"));
    return ReadAll(q, ReadBundle);
  }

  absl::Status PutContent(const ContentRecord& r) override {
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT OR IGNORE INTO contents (hash, data) VALUES (?, ?)",
                                      absl::StrCat("put content ", Quote(r.hash))));
    q.Bind(r.hash).BindBlob(r.data);
    return q.Run();
  }

  absl::StatusOr<std::optional<ContentRecord>> GetContent(const std::string& hash) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT hash, data FROM contents WHERE hash = ?",
                                      absl::StrCat("get content ", Quote(hash))));
    q.Bind(hash);
    return ReadOne(q, [](const Query& row) { return ContentRecord{row.Text(0), row.Blob(1)}; });
  }

  absl::StatusOr<bool> HasContent(const std::string& hash) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT 1 FROM contents WHERE hash = ?",
                                      absl::StrCat("look up content ", Quote(hash))));
    q.Bind(hash);
    return q.Step();
  }

  absl::StatusOr<int> DeleteUnreferencedContents() override {
    ASSIGN_OR_RETURN(
        Query q,
        Prepare("DELETE FROM contents"
                " WHERE hash NOT IN (SELECT content_hash FROM bundle_deployments)"
                " AND hash NOT IN (SELECT staged_content_hash FROM bundle_deployments)"
                " AND hash NOT IN (SELECT resource.value"
                "                  FROM bundles, json_each(bundles.resources_json) AS resource)",
                "delete unreferenced contents"));
    RETURN_IF_ERROR(q.Run());
    return sqlite3_changes(db_);
  }

  absl::Status InsertCluster(const ClusterRecord& r) override {
    std::string what = absl::StrCat("insert cluster ", Quote(r.name), " (id ", Quote(r.id), ")");
    ASSIGN_OR_RETURN(ClusterJson json, EncodeCluster(r, what));
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO clusters (" CLUSTER_COLUMNS
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      std::move(what)));
    BindCluster(q, r, json);
    return q.Run();
  }

  absl::Status UpdateCluster(const ClusterRecord& r) override {
    std::string what = absl::StrCat("update cluster ", Quote(r.id));
    ASSIGN_OR_RETURN(ClusterJson json, EncodeCluster(r, what));
    // Numbered parameters, so BindCluster binds them in CLUSTER_COLUMNS order.
    ASSIGN_OR_RETURN(Query q,
                     Prepare("UPDATE clusters SET name = ?2, labels_json = ?3, created_ms = ?4,"
                             " last_seen_ms = ?5, agent_version = ?6, cert_serial = ?7,"
                             " cert_not_after_ms = ?8, cert_pem = ?9, public_key_sha256 = ?10,"
                             " registration_token_id = ?11, revoked = ?12, paused = ?13,"
                             " template_values_json = ?14, annotations_json = ?15 WHERE id = ?1",
                             what));
    BindCluster(q, r, json);
    RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(absl::StrCat("store: ", what, ": no such cluster"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::optional<ClusterRecord>> GetCluster(const std::string& id) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " CLUSTER_COLUMNS " FROM clusters WHERE id = ?",
                                      absl::StrCat("get cluster ", Quote(id))));
    q.Bind(id);
    return ReadOne(q, ReadCluster);
  }

  absl::StatusOr<std::optional<ClusterRecord>> GetClusterByName(const std::string& name) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " CLUSTER_COLUMNS " FROM clusters WHERE name = ?",
                                      absl::StrCat("get cluster by name ", Quote(name))));
    q.Bind(name);
    return ReadOne(q, ReadCluster);
  }

  absl::StatusOr<std::vector<ClusterRecord>> ListClusters() override {
    ASSIGN_OR_RETURN(
        Query q, Prepare("SELECT " CLUSTER_COLUMNS " FROM clusters ORDER BY id", "list clusters"));
    return ReadAll(q, ReadCluster);
  }

  absl::Status PutClusterGroup(const ClusterGroupRecord& r) override {
    std::string what = absl::StrCat("put cluster group ", Quote(r.name));
    RETURN_IF_ERROR(
        CheckJsonObjectField(r.selector_json, what, "selector_json", /*empty_ok=*/true));
    ASSIGN_OR_RETURN(std::string labels, StringMapToJson(r.labels, what, "labels"));
    ASSIGN_OR_RETURN(Query q,
                     Prepare("INSERT OR REPLACE INTO cluster_groups (" CLUSTER_GROUP_COLUMNS
                             ") VALUES (?, ?, ?, ?, ?, ?)",
                             std::move(what)));
    q.Bind(r.name).Bind(r.selector_json).Bind(labels).Bind(r.spec_yaml).Bind(r.created);
    q.Bind(r.updated);
    return q.Run();
  }

  absl::StatusOr<std::vector<ClusterGroupRecord>> ListClusterGroups() override {
    ASSIGN_OR_RETURN(Query q,
                     Prepare("SELECT " CLUSTER_GROUP_COLUMNS " FROM cluster_groups ORDER BY name",
                             "list cluster groups"));
    return ReadAll(q, ReadClusterGroup);
  }

  absl::Status DeleteClusterGroup(const std::string& name) override {
    std::string what = absl::StrCat("delete cluster group ", Quote(name));
    ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM cluster_groups WHERE name = ?", what));
    q.Bind(name);
    RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(absl::StrCat("store: ", what, ": no such cluster group"));
    }
    return absl::OkStatus();
  }

  absl::Status PutSecret(const SecretRecord& r) override {
    std::string what = absl::StrCat("put secret ", Quote(r.name));
    ASSIGN_OR_RETURN(std::string data, SecretDataToJson(r.data, what));
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT OR REPLACE INTO secrets (" SECRET_COLUMNS
                                      ") VALUES (?, ?, ?, ?, ?)",
                                      std::move(what)));
    q.Bind(r.name).Bind(r.type).Bind(data).Bind(r.created).Bind(r.updated);
    return q.Run();
  }

  absl::StatusOr<std::optional<SecretRecord>> GetSecret(const std::string& name) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " SECRET_COLUMNS " FROM secrets WHERE name = ?",
                                      absl::StrCat("get secret ", Quote(name))));
    q.Bind(name);
    return ReadOne(q, ReadSecret);
  }

  absl::StatusOr<std::vector<SecretRecord>> ListSecrets() override {
    ASSIGN_OR_RETURN(
        Query q, Prepare("SELECT " SECRET_COLUMNS " FROM secrets ORDER BY name", "list secrets"));
    return ReadAll(q, ReadSecret);
  }

  absl::Status DeleteSecret(const std::string& name) override {
    std::string what = absl::StrCat("delete secret ", Quote(name));
    ASSIGN_OR_RETURN(Query q, Prepare("DELETE FROM secrets WHERE name = ?", what));
    q.Bind(name);
    RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(absl::StrCat("store: ", what, ": no such secret"));
    }
    return absl::OkStatus();
  }

  absl::Status PutBundleDeployment(const BundleDeploymentRecord& r) override {
    ASSIGN_OR_RETURN(Query q,
                     Prepare("INSERT OR REPLACE INTO bundle_deployments (" BUNDLE_DEPLOYMENT_COLUMNS
                             ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             absl::StrCat("put bundle deployment of bundle ", Quote(r.bundle),
                                          " to cluster ", Quote(r.cluster_id))));
    q.Bind(r.bundle).Bind(r.cluster_id).Bind(r.deployment_id).Bind(r.content_hash);
    q.Bind(r.options_json).Bind(r.applied_deployment_id).Bind(int64_t{r.state}).Bind(r.message);
    q.Bind(r.status_json).Bind(r.status_time).Bind(r.staged_deployment_id);
    q.Bind(r.staged_content_hash).Bind(r.staged_options_json);
    return q.Run();
  }

  absl::Status DeleteBundleDeployment(const std::string& bundle,
                                      const std::string& cluster_id) override {
    ASSIGN_OR_RETURN(Query q,
                     Prepare("DELETE FROM bundle_deployments WHERE bundle = ? AND cluster_id = ?",
                             absl::StrCat("delete bundle deployment of bundle ", Quote(bundle),
                                          " to cluster ", Quote(cluster_id))));
    q.Bind(bundle).Bind(cluster_id);
    return q.Run();
  }

  absl::StatusOr<std::vector<BundleDeploymentRecord>> ListBundleDeployments() override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " BUNDLE_DEPLOYMENT_COLUMNS
                                      " FROM bundle_deployments ORDER BY bundle, cluster_id",
                                      "list bundle deployments"));
    return ReadAll(q, ReadBundleDeployment);
  }

  absl::StatusOr<std::vector<BundleDeploymentRecord>> ListBundleDeploymentsForCluster(
      const std::string& cluster_id) override {
    ASSIGN_OR_RETURN(
        Query q, Prepare("SELECT " BUNDLE_DEPLOYMENT_COLUMNS
                         " FROM bundle_deployments WHERE cluster_id = ? ORDER BY bundle",
                         absl::StrCat("list bundle deployments of cluster ", Quote(cluster_id))));
    q.Bind(cluster_id);
    return ReadAll(q, ReadBundleDeployment);
  }

  absl::Status InsertRegistrationToken(const RegistrationTokenRecord& r) override {
    std::string what = absl::StrCat("insert registration token ", Quote(r.id));
    ASSIGN_OR_RETURN(std::string labels, StringMapToJson(r.labels, what, "labels"));
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO registration_tokens (" REGISTRATION_TOKEN_COLUMNS
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      std::move(what)));
    q.Bind(r.id).Bind(r.secret_sha256).Bind(r.created_by).Bind(r.created).Bind(r.expires);
    q.Bind(int64_t{r.max_uses}).Bind(int64_t{r.uses}).Bind(r.revoked_at).Bind(labels);
    q.Bind(r.cluster_name);
    return q.Run();
  }

  absl::StatusOr<std::optional<RegistrationTokenRecord>> GetRegistrationToken(
      const std::string& id) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " REGISTRATION_TOKEN_COLUMNS
                                      " FROM registration_tokens WHERE id = ?",
                                      absl::StrCat("get registration token ", Quote(id))));
    q.Bind(id);
    return ReadOne(q, ReadRegistrationToken);
  }

  absl::StatusOr<bool> ConsumeRegistrationToken(const std::string& id, absl::Time now) override {
    // One statement decides and counts, so two registrations can never both
    // take the last use.
    ASSIGN_OR_RETURN(Query q, Prepare("UPDATE registration_tokens SET uses = uses + 1"
                                      " WHERE id = ? AND revoked_at_ms = ? AND expires_ms > ?"
                                      " AND (max_uses = 0 OR uses < max_uses)",
                                      absl::StrCat("consume registration token ", Quote(id))));
    q.Bind(id).Bind(kInfinitePastMillis).Bind(now);
    RETURN_IF_ERROR(q.Run());
    return sqlite3_changes(db_) == 1;
  }

  absl::StatusOr<std::vector<RegistrationTokenRecord>> ListRegistrationTokens() override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " REGISTRATION_TOKEN_COLUMNS
                                      " FROM registration_tokens ORDER BY created_ms, id",
                                      "list registration tokens"));
    return ReadAll(q, ReadRegistrationToken);
  }

  absl::Status RevokeRegistrationToken(const std::string& id, absl::Time now) override {
    ASSIGN_OR_RETURN(Query q, Prepare("UPDATE registration_tokens SET revoked_at_ms = ?"
                                      " WHERE id = ? AND revoked_at_ms = ?",
                                      absl::StrCat("revoke registration token ", Quote(id))));
    q.Bind(now).Bind(id).Bind(kInfinitePastMillis);
    RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) {
      ASSIGN_OR_RETURN(auto existing, GetRegistrationToken(id));
      if (!existing) {
        return absl::NotFoundError(
            absl::StrCat("store: revoke registration token ", Quote(id), ": no such token"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status InsertApiToken(const ApiTokenRecord& r) override {
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO api_tokens (" API_TOKEN_COLUMNS
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                      absl::StrCat("insert API token ", Quote(r.id))));
    q.Bind(r.id).Bind(r.secret_sha256).Bind(r.role).Bind(r.description).Bind(r.created);
    q.Bind(r.expires).Bind(r.last_used).Bind(r.revoked_at).Bind(r.workspace);
    return q.Run();
  }

  absl::StatusOr<std::optional<ApiTokenRecord>> GetApiToken(const std::string& id) override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " API_TOKEN_COLUMNS " FROM api_tokens WHERE id = ?",
                                      absl::StrCat("get API token ", Quote(id))));
    q.Bind(id);
    return ReadOne(q, ReadApiToken);
  }

  absl::Status UpdateApiToken(const ApiTokenRecord& r) override {
    ASSIGN_OR_RETURN(Query q, Prepare("UPDATE api_tokens SET secret_sha256 = ?, role = ?,"
                                      " description = ?, created_ms = ?, expires_ms = ?,"
                                      " last_used_ms = ?, revoked_at_ms = ?, workspace = ?"
                                      " WHERE id = ?",
                                      absl::StrCat("update API token ", Quote(r.id))));
    q.Bind(r.secret_sha256).Bind(r.role).Bind(r.description).Bind(r.created).Bind(r.expires);
    q.Bind(r.last_used).Bind(r.revoked_at).Bind(r.workspace).Bind(r.id);
    RETURN_IF_ERROR(q.Run());
    if (sqlite3_changes(db_) == 0) {
      return absl::NotFoundError(
          absl::StrCat("store: update API token ", Quote(r.id), ": no such token"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<ApiTokenRecord>> ListApiTokens() override {
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " API_TOKEN_COLUMNS " FROM api_tokens ORDER BY id",
                                      "list API tokens"));
    return ReadAll(q, ReadApiToken);
  }

  absl::StatusOr<int64_t> AppendAudit(const AuditEventRecord& r) override {
    const std::string what =
        absl::StrCat("append audit event ", Quote(r.action), " on ", Quote(r.resource));
    // The chain: this row's hash covers the last row's. Writers are
    // serialised, so the last row cannot change under us.
    ASSIGN_OR_RETURN(Query last,
                     Prepare("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1", what));
    int64_t seq = 1;
    std::string previous(common::kAuditChainGenesis);
    ASSIGN_OR_RETURN(bool has_last, last.Step());
    if (has_last) {
      seq = last.Int(0) + 1;
      if (!last.Text(1).empty()) previous = last.Text(1);
    }
    common::AuditChainFields fields;
    fields.seq = seq;
    fields.time_unix_millis = absl::ToUnixMillis(r.time);
    fields.actor = r.actor;
    fields.action = r.action;
    fields.resource = r.resource;
    fields.outcome = r.outcome;
    fields.details = r.details;
    const std::string hash = common::AuditChainHash(previous, fields);
    ASSIGN_OR_RETURN(Query q, Prepare("INSERT INTO audit_events (" AUDIT_COLUMNS
                                      ") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                      what));
    q.Bind(seq).Bind(r.time).Bind(r.actor).Bind(r.action);
    q.Bind(r.resource).Bind(r.outcome).Bind(r.details).Bind(hash);
    RETURN_IF_ERROR(q.Run());
    return seq;
  }

  absl::StatusOr<std::vector<AuditEventRecord>> ListAudit(int64_t after_seq, int limit) override {
    if (limit < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("store: list audit events: negative limit ", limit));
    }
    ASSIGN_OR_RETURN(Query q, Prepare("SELECT " AUDIT_COLUMNS " FROM audit_events"
                                      " WHERE seq > ? ORDER BY seq LIMIT ?",
                                      absl::StrCat("list audit events after ", after_seq)));
    q.Bind(after_seq).Bind(int64_t{limit});
    return ReadAll(q, ReadAudit);
  }

 private:
  absl::StatusOr<Query> Prepare(const char* sql, std::string what) {
    ASSIGN_OR_RETURN(Query q, PrepareCached(db_, cache_, sql, std::move(what)));
    // A deferred read transaction would silently become a write one.
    if (read_only_ && !q.read_only()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store: ", q.what(), ": a Store::Read callback may not modify the store; use Write"));
    }
    return q;
  }

  // A cluster's map columns as JSON, checked before anything is written.
  struct ClusterJson {
    std::string labels;
    std::string annotations;
  };
  static absl::StatusOr<ClusterJson> EncodeCluster(const ClusterRecord& r, absl::string_view what) {
    RETURN_IF_ERROR(CheckJsonObjectField(r.template_values_json, what, "template_values_json"));
    ClusterJson json;
    ASSIGN_OR_RETURN(json.labels, StringMapToJson(r.labels, what, "labels"));
    ASSIGN_OR_RETURN(json.annotations, StringMapToJson(r.annotations, what, "annotations"));
    return json;
  }

  static void BindCluster(Query& q, const ClusterRecord& r, const ClusterJson& json) {
    q.Bind(r.id).Bind(r.name).Bind(json.labels).Bind(r.created).Bind(r.last_seen);
    q.Bind(r.agent_version).Bind(r.cert_serial).Bind(r.cert_not_after).Bind(r.cert_pem);
    q.Bind(r.public_key_sha256).Bind(r.registration_token_id).Bind(int64_t{r.revoked ? 1 : 0});
    q.Bind(int64_t{r.paused ? 1 : 0}).Bind(r.template_values_json).Bind(json.annotations);
  }

  sqlite3* db_;
  StatementCache& cache_;
  bool read_only_;
};

#undef GITREPO_COLUMNS
#undef BUNDLE_COLUMNS
#undef CLUSTER_COLUMNS
#undef CLUSTER_GROUP_COLUMNS
#undef SECRET_COLUMNS
#undef BUNDLE_DEPLOYMENT_COLUMNS
#undef REGISTRATION_TOKEN_COLUMNS
#undef API_TOKEN_COLUMNS
#undef AUDIT_COLUMNS

// Marks, for the duration of a callback, that this thread is inside a
// Write/Read callback of `store`, so that re-entry (which would deadlock on the
// store's mutex) is refused. The marks of one thread form a stack.
class ActiveCallback {
 public:
  explicit ActiveCallback(const void* store) : store_(store), outer_(innermost_) {
    innermost_ = this;
  }
  ~ActiveCallback() { innermost_ = outer_; }
  ActiveCallback(const ActiveCallback&) = delete;
  ActiveCallback& operator=(const ActiveCallback&) = delete;

  static bool IsActive(const void* store) {
    for (const ActiveCallback* a = innermost_; a != nullptr; a = a->outer_) {
      if (a->store_ == store) return true;
    }
    return false;
  }

 private:
  static inline thread_local const ActiveCallback* innermost_ = nullptr;
  const void* store_;
  const ActiveCallback* outer_;
};

void RollbackIfOpen(sqlite3* db, StatementCache& cache) {
  // SQLite rolls back by itself after some errors (SQLITE_FULL, SQLITE_IOERR);
  // a ROLLBACK then would only fail with "no transaction is active".
  if (sqlite3_get_autocommit(db)) return;
  // Nothing better to do if this fails: the next transaction retries it.
  RunCached(db, cache, "ROLLBACK", "roll back").IgnoreError();
}

absl::Status RunTransaction(const void* store, sqlite3* db, bool write,
                            const std::function<absl::Status(Tx&)>& fn) {
  StatementCache& cache = StatementCacheRegistry::Get().Find(db);
  // A transaction left open (a failed ROLLBACK, a callback that threw) would
  // make every later BEGIN fail; close it first.
  RollbackIfOpen(db, cache);
  RETURN_IF_ERROR(write ? RunCached(db, cache, "BEGIN IMMEDIATE", "begin write transaction")
                        : RunCached(db, cache, "BEGIN", "begin read transaction"));
  absl::Status status;
  {
    ActiveCallback active(store);
    SqliteTx tx(db, cache, /*read_only=*/!write);
    status = fn(tx);
  }
  if (!status.ok()) {
    RollbackIfOpen(db, cache);
    return status;
  }
  absl::Status commit = RunCached(db, cache, "COMMIT", "commit");
  if (!commit.ok()) RollbackIfOpen(db, cache);
  return commit;
}

absl::Status NestedCallError(absl::string_view method) {
  return absl::FailedPreconditionError(
      absl::StrCat("store: ", method,
                   " called from inside a Write or Read callback of the same store (this would "
                   "deadlock); use the Tx passed to the callback"));
}

// An error while opening or migrating `path`: a corrupt file gets the
// "refusing to start" message, anything else SQLite's own.
absl::Status OpenFailure(absl::string_view path, const SqlResult& result, absl::string_view what) {
  if (IsCorruption(result.rc)) return CorruptStore(path, result.error);
  return SqliteStatus(result.rc, what, result.error);
}

absl::StatusOr<int> ReadUserVersion(sqlite3* db, absl::string_view path) {
  SqlResult result = ExecSql(db, "PRAGMA user_version");
  std::string what = absl::StrCat("read schema version of ", path);
  if (result.rc != SQLITE_OK) return OpenFailure(path, result, what);
  int version = 0;
  if (result.rows.size() != 1 || !absl::SimpleAtoi(result.rows[0], &version)) {
    return absl::InternalError(absl::StrCat("store: ", what, ": unexpected answer ",
                                            Quote(absl::StrJoin(result.rows, ","))));
  }
  return version;
}

absl::Status SchemaTooNew(absl::string_view path, int version) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "store %s has schema version %d but this flotilla-manager knows only up to %d; upgrade "
      "the manager",
      path, version, kLatestSchemaVersion));
}

// Applies pending migrations, each in its own transaction together with the
// version it reaches.
absl::Status Migrate(sqlite3* db, const std::string& path) {
  auto fail = [&](const SqlResult& result, absl::string_view what) {
    if (!sqlite3_get_autocommit(db)) ExecSql(db, "ROLLBACK");
    return OpenFailure(path, result, what);
  };
  for (;;) {
    SqlResult result = ExecSql(db, "BEGIN IMMEDIATE");
    if (result.rc != SQLITE_OK) return fail(result, absl::StrCat("begin migration of ", path));
    absl::StatusOr<int> version = ReadUserVersion(db, path);
    if (!version.ok()) {
      ExecSql(db, "ROLLBACK");
      return version.status();
    }
    if (*version > kLatestSchemaVersion) {
      ExecSql(db, "ROLLBACK");
      return SchemaTooNew(path, *version);
    }
    if (*version == kLatestSchemaVersion) {
      result = ExecSql(db, "COMMIT");
      if (result.rc != SQLITE_OK) return fail(result, absl::StrCat("finish migration of ", path));
      return absl::OkStatus();
    }
    std::string what = absl::StrFormat("migrate %s to schema version %d", path, *version + 1);
    result = ExecSql(db, kMigrations[*version]);
    if (result.rc != SQLITE_OK) return fail(result, what);
    result = ExecSql(db, absl::StrCat("PRAGMA user_version = ", *version + 1));
    if (result.rc != SQLITE_OK) return fail(result, what);
    result = ExecSql(db, "COMMIT");
    if (result.rc != SQLITE_OK) return fail(result, what);
  }
}

// The store holds secrets: the database file and the files SQLite keeps
// beside it must be readable by the manager's user only. SQLite creates the
// database file with 0644 minus the umask, and its -wal, -shm and -journal
// files with the database file's mode (set with fchmod, so the umask does not
// matter). Setting the database file to 0600 right after it is opened, before
// SQLite has written anything, therefore covers all of them; companions left
// behind by an earlier process (a crash, an older manager) are set here too.
// Any other mode is replaced by exactly 0600.
absl::Status RestrictFileModes(const std::string& db_file) {
  constexpr std::filesystem::perms kMode =
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    const std::string file = db_file + suffix;
    std::error_code ec;
    std::filesystem::file_status status = std::filesystem::status(file, ec);
    if (status.type() == std::filesystem::file_type::not_found && *suffix != '\0') continue;
    if (!ec && (status.permissions() & std::filesystem::perms::mask) == kMode) continue;
    if (!ec) std::filesystem::permissions(file, kMode, std::filesystem::perm_options::replace, ec);
    if (ec) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store: make ", file, " readable by its owner only (mode 0600): ", ec.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path) {
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("store: open ", path, ": cannot stat: ", ec.message()));
  }

  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  DbPtr db(raw);  // closed on every early return
  auto fail = [&](const SqlResult& result, absl::string_view what) {
    return OpenFailure(path, result, absl::StrCat(what, " ", path));
  };
  if (rc != SQLITE_OK) {
    // With no handle (out of memory) sqlite3_errmsg(nullptr) still answers.
    return fail(SqlResult{rc, sqlite3_errmsg(db.get()), {}}, "open");
  }
  sqlite3_extended_result_codes(db.get(), 1);
  // Before anything is read or written (reading a WAL database creates -shm).
  // SQLite's name for the file is absolute with symlinks resolved: the file it
  // writes, and whose mode its -wal and -shm files copy.
  const char* db_file = sqlite3_db_filename(db.get(), "main");
  RETURN_IF_ERROR(RestrictFileModes(db_file != nullptr && *db_file != '\0' ? db_file : path));
  // First, so that a store another process is writing does not fail at once.
  SqlResult result = ExecSql(db.get(), "PRAGMA busy_timeout = 5000");
  if (result.rc != SQLITE_OK) return fail(result, "set busy_timeout on");

  if (existed) {
    result = ExecSql(db.get(), "PRAGMA integrity_check");
    if (result.rc != SQLITE_OK) return fail(result, "check integrity of");
    if (result.rows != std::vector<std::string>{"ok"}) {
      return CorruptStore(path, absl::StrJoin(result.rows, "; "));
    }
  }
  // Refuse a newer schema before changing anything in the file.
  ASSIGN_OR_RETURN(int version, ReadUserVersion(db.get(), path));
  if (version > kLatestSchemaVersion) return SchemaTooNew(path, version);

  result = ExecSql(db.get(), "PRAGMA journal_mode = WAL");
  if (result.rc != SQLITE_OK) return fail(result, "set journal_mode=WAL on");
  if (result.rows != std::vector<std::string>{"wal"}) {
    return absl::FailedPreconditionError(absl::StrCat("store: set journal_mode=WAL on ", path,
                                                      ": SQLite kept journal mode ",
                                                      Quote(absl::StrJoin(result.rows, ","))));
  }
  for (const char* pragma : {"PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON"}) {
    result = ExecSql(db.get(), pragma);
    if (result.rc != SQLITE_OK) return fail(result, absl::StrCat("run ", pragma, " on"));
  }
  RETURN_IF_ERROR(Migrate(db.get(), path));
  return std::unique_ptr<SqliteStore>(new SqliteStore(db.release()));
}

SqliteStore::SqliteStore(sqlite3* db) : db_(db) { StatementCacheRegistry::Get().Add(db); }

SqliteStore::~SqliteStore() {
  absl::MutexLock lock(&mu_);
  StatementCacheRegistry::Get().Remove(db_);  // finalises the cached statements
  sqlite3_close_v2(db_);
}

absl::Status SqliteStore::Write(const std::function<absl::Status(Tx&)>& fn) {
  StoreTransactionTimer timer(StoreTransactionTimer::Kind::kWrite);
  if (ActiveCallback::IsActive(this)) return timer.Done(NestedCallError("Write"));
  absl::MutexLock lock(&mu_);
  return timer.Done(RunTransaction(this, db_, /*write=*/true, fn));
}

absl::Status SqliteStore::Read(const std::function<absl::Status(Tx&)>& fn) {
  StoreTransactionTimer timer(StoreTransactionTimer::Kind::kRead);
  if (ActiveCallback::IsActive(this)) return timer.Done(NestedCallError("Read"));
  absl::MutexLock lock(&mu_);
  return timer.Done(RunTransaction(this, db_, /*write=*/false, fn));
}

int SqliteStore::LatestSchemaVersion() { return kLatestSchemaVersion; }

int SqliteStore::SchemaVersionForTest() {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<int> version = ReadUserVersion(db_, sqlite3_db_filename(db_, "main"));
  return version.ok() ? *version : -1;
}

}  // namespace flotilla::manager
