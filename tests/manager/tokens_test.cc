// Registration tokens (flt1.<id>.<secret>) and API tokens (flta.<id>.<secret>)
// against a real SqliteStore in a temporary directory, with a simulated clock.
#include "manager/server/tokens.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/hash.h"
#include "manager/store/records.h"
#include "manager/store/sqlite_store.h"
#include "manager/store/store.h"
#include "tests/support/test_util.h"

namespace flotilla::manager {
namespace {

using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

// The one message AuthenticateApiToken gives for every refusal.
constexpr char kDenied[] =
    "invalid, expired or revoked API token (send \"authorization: Bearer flta.<id>.<secret>\")";

// 43 characters of URL-safe base64, the shape of a real 256-bit secret.
const std::string kSecret = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5";

std::unique_ptr<SqliteStore> OpenStore(const testing::TempDir& dir) {
  auto store = SqliteStore::Open(dir.Sub("flotilla.db"));
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  return std::move(store).value();
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Everything SQLite has put on disk for the store: the database, its WAL and
// any rollback journal.
std::string StoreBytesOnDisk(const testing::TempDir& dir) {
  std::string bytes;
  for (const char* suffix : {"", "-wal", "-journal"}) {
    bytes += ReadBytes(dir.Sub(std::string("flotilla.db") + suffix));
  }
  return bytes;
}

std::optional<RegistrationTokenRecord> GetRegistrationToken(Store& store, const std::string& id) {
  std::optional<RegistrationTokenRecord> out;
  absl::Status st = store.Read([&](Tx& tx) -> absl::Status {
    auto rec = tx.GetRegistrationToken(id);
    if (!rec.ok()) return rec.status();
    out = *rec;
    return absl::OkStatus();
  });
  INFO(st.ToString());
  REQUIRE(st.ok());
  return out;
}

std::vector<ApiTokenRecord> ListApiTokens(Store& store) {
  std::vector<ApiTokenRecord> out;
  absl::Status st = store.Read([&](Tx& tx) -> absl::Status {
    auto list = tx.ListApiTokens();
    if (!list.ok()) return list.status();
    out = *list;
    return absl::OkStatus();
  });
  INFO(st.ToString());
  REQUIRE(st.ok());
  return out;
}

std::vector<AuditEventRecord> ListAudit(Store& store) {
  std::vector<AuditEventRecord> out;
  absl::Status st = store.Read([&](Tx& tx) -> absl::Status {
    auto list = tx.ListAudit(0, 1000);
    if (!list.ok()) return list.status();
    out = *list;
    return absl::OkStatus();
  });
  INFO(st.ToString());
  REQUIRE(st.ok());
  return out;
}

// Stores an API token with a known secret and returns its token string.
std::string InsertApiToken(Store& store, const std::string& id, const std::string& role,
                           absl::Time created, absl::Time expires = absl::InfiniteFuture(),
                           absl::Time revoked_at = absl::InfinitePast()) {
  ApiTokenRecord r;
  r.id = id;
  r.secret_sha256 = common::Sha256Hex(kSecret);
  r.role = role;
  r.description = "test token";
  r.created = created;
  r.expires = expires;
  r.revoked_at = revoked_at;
  absl::Status st = store.Write([&](Tx& tx) { return tx.InsertApiToken(r); });
  INFO(st.ToString());
  REQUIRE(st.ok());
  return absl::StrCat("flta.", id, ".", kSecret);
}

// --- ParseToken --------------------------------------------------------------

// Both token kinds split into id and secret; a secret of exactly 32
// characters is the shortest accepted.
TEST_CASE("ParseToken splits registration and API tokens into id and secret", "[tokens]") {
  auto reg =
      ParseToken(kRegistrationTokenPrefix, "flt1.a1b2c3.Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0");
  REQUIRE(reg.ok());
  CHECK(reg->id == "a1b2c3");
  CHECK(reg->secret == "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0");

  auto api = ParseToken(kApiTokenPrefix, "flta.0f0f0f0f0f0f." + kSecret);
  REQUIRE(api.ok());
  CHECK(api->id == "0f0f0f0f0f0f");
  CHECK(api->secret == kSecret);

  const std::string secret32(32, 'x');
  auto shortest = ParseToken(kApiTokenPrefix, "flta.id." + secret32);
  REQUIRE(shortest.ok());
  CHECK(shortest->secret == secret32);
}

// Every wrong shape is InvalidArgument naming the expected shape for the
// prefix that was asked for.
TEST_CASE("ParseToken rejects a wrong prefix, missing parts and a short secret", "[tokens]") {
  const std::string secret31(31, 's');
  const std::vector<std::string> bad = {
      "",
      "flt1",
      "flt1.",
      "flt1.abc",
      "flt1.abc.",
      "flt1." + kSecret,
      "flt1.." + kSecret,
      "flta.abc." + kSecret,  // an API token where a registration token is expected
      "FLT1.abc." + kSecret,
      "flt2.abc." + kSecret,
      "abc." + kSecret,
      "flt1.abc." + kSecret + ".extra",
      "flt1.abc.def." + kSecret,
      "flt1.abc." + secret31,
      " flt1.abc." + kSecret,
  };
  for (const std::string& token : bad) {
    INFO("token: \"" << token << "\"");
    auto parsed = ParseToken(kRegistrationTokenPrefix, token);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(parsed.status().message()) == "malformed token: expected flt1.<id>.<secret>");
  }

  auto api = ParseToken(kApiTokenPrefix, "flt1.abc." + kSecret);
  REQUIRE_FALSE(api.ok());
  CHECK(std::string(api.status().message()) == "malformed token: expected flta.<id>.<secret>");
}

// A token that fails to parse never has its secret (or id) echoed back, so a
// pasted token cannot leak through logs or error replies.
TEST_CASE("ParseToken error messages never contain the secret", "[tokens]") {
  const std::string secret = "SECRETabcdefghijklmnopqrstuvwxyz0123456789";
  for (const std::string& token :
       {"flta.myid." + secret, "flt1.myid." + secret + ".x", "flt1.." + secret,
        "flt1.myid." + secret.substr(0, 20), secret}) {
    INFO("token: \"" << token << "\"");
    auto parsed = ParseToken(kRegistrationTokenPrefix, token);
    REQUIRE_FALSE(parsed.ok());
    const std::string message(parsed.status().message());
    CHECK_THAT(message, !Contains("SECRET"));
    CHECK_THAT(message, !Contains("myid"));
    CHECK_THAT(parsed.status().ToString(), !Contains("SECRET"));
  }
}

// --- CreateRegistrationToken ---------------------------------------------------

// The token string is flt1.<id>.<secret> with a 256-bit secret; the store
// keeps SHA-256(secret) and the options, and nowhere on disk holds the secret.
TEST_CASE("CreateRegistrationToken stores only the hash of the secret, with the options",
          "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  RegistrationTokenOptions opts;
  opts.ttl = absl::Hours(2);
  opts.max_uses = 3;
  opts.labels = {{"env", "prod"}, {"example.com/team", "edge"}};
  opts.cluster_name = "edge-1";
  opts.created_by = "token:admin1";

  auto created = CreateRegistrationToken(*store, clock, opts);
  INFO(created.status().ToString());
  REQUIRE(created.ok());
  const auto& [token, record] = *created;
  CHECK_THAT(token, StartsWith("flt1."));
  auto parsed = ParseToken(kRegistrationTokenPrefix, token);
  REQUIRE(parsed.ok());
  CHECK(parsed->id == record.id);
  CHECK(parsed->secret.size() == 43);  // 32 random bytes, unpadded base64url
  CHECK(record.secret_sha256 == common::Sha256Hex(parsed->secret));

  auto stored = GetRegistrationToken(*store, record.id);
  REQUIRE(stored.has_value());
  CHECK(stored->secret_sha256 == common::Sha256Hex(parsed->secret));
  CHECK(stored->created_by == "token:admin1");
  CHECK(stored->created == clock.Now());
  CHECK(stored->expires == clock.Now() + absl::Hours(2));
  CHECK(stored->max_uses == 3);
  CHECK(stored->uses == 0);
  CHECK(stored->revoked_at == absl::InfinitePast());
  CHECK(stored->labels ==
        std::map<std::string, std::string>{{"env", "prod"}, {"example.com/team", "edge"}});
  CHECK(stored->cluster_name == "edge-1");
  for (const std::string& field :
       {stored->id, stored->secret_sha256, stored->created_by, stored->cluster_name}) {
    CHECK_THAT(field, !Contains(parsed->secret));
  }

  // The audit row records the creation, without the secret.
  auto audit = ListAudit(*store);
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].action == "token.create");
  CHECK(audit[0].actor == "token:admin1");
  CHECK(audit[0].resource == "registrationtoken/" + record.id);
  CHECK(audit[0].details == "ttl=2h max_uses=3");
  CHECK_THAT(audit[0].details, !Contains(parsed->secret));

  // Nothing SQLite wrote holds the secret, while it does hold the hash.
  const std::string on_disk = StoreBytesOnDisk(dir);
  CHECK(on_disk.find(record.secret_sha256) != std::string::npos);
  CHECK(on_disk.find(parsed->secret) == std::string::npos);
}

// Two tokens never share an id or a secret.
TEST_CASE("CreateRegistrationToken makes a fresh id and secret every time", "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  auto a = CreateRegistrationToken(*store, clock, {});
  auto b = CreateRegistrationToken(*store, clock, {});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->first != b->first);
  CHECK(a->second.id != b->second.id);
  CHECK(a->second.secret_sha256 != b->second.secret_sha256);
  // The defaults: one hour, unlimited uses.
  CHECK(a->second.expires == clock.Now() + absl::Hours(1));
  CHECK(a->second.max_uses == 0);
}

// The TTL must lie in (0, 24h]: 24h itself is accepted, a second more is
// refused with the allowed range in the message, and nothing is stored.
TEST_CASE("CreateRegistrationToken refuses a TTL above kMaxRegistrationTokenTtl or not positive",
          "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;

  RegistrationTokenOptions max;
  max.ttl = kMaxRegistrationTokenTtl;
  auto at_max = CreateRegistrationToken(*store, clock, max);
  REQUIRE(at_max.ok());
  CHECK(at_max->second.expires == clock.Now() + absl::Hours(24));

  for (absl::Duration ttl : {kMaxRegistrationTokenTtl + absl::Seconds(1), absl::Hours(48),
                             absl::ZeroDuration(), -absl::Hours(1)}) {
    INFO("ttl " << absl::FormatDuration(ttl));
    RegistrationTokenOptions opts;
    opts.ttl = ttl;
    auto refused = CreateRegistrationToken(*store, clock, opts);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(refused.status().message()) == "token ttl must be between 1s and 24h");
  }
  // Only the 24h token was stored (and audited).
  CHECK(ListAudit(*store).size() == 1);
}

// Negative max uses and labels that are not Kubernetes labels are refused as
// bad input, before anything is stored.
TEST_CASE("CreateRegistrationToken refuses negative max uses and invalid labels", "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;

  RegistrationTokenOptions negative;
  negative.max_uses = -1;
  auto uses = CreateRegistrationToken(*store, clock, negative);
  REQUIRE_FALSE(uses.ok());
  CHECK(uses.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(uses.status().message()) == "max uses must be 0 (unlimited) or more");

  RegistrationTokenOptions bad_key;
  bad_key.labels = {{"-env", "prod"}};
  auto key = CreateRegistrationToken(*store, clock, bad_key);
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(key.status().message()), Contains("label key \"-env\""));

  RegistrationTokenOptions bad_value;
  bad_value.labels = {{"env", "prod env"}};
  auto value = CreateRegistrationToken(*store, clock, bad_value);
  REQUIRE_FALSE(value.ok());
  CHECK(value.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(value.status().message()), Contains("value \"prod env\""));

  CHECK(ListAudit(*store).empty());
}

// --- EnsureAdminToken --------------------------------------------------------

// First start: an admin token is stored and written once to a 0600 file; it
// authenticates as admin. Second start: nothing is created and the file is
// left exactly as it was.
TEST_CASE("EnsureAdminToken writes a 0600 admin token file once and keeps it afterwards",
          "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  const std::string path = dir.Sub("admin.token");

  auto first = EnsureAdminToken(*store, clock, path);
  INFO(first.status().ToString());
  REQUIRE(first.ok());
  CHECK(*first);

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);

  const std::string contents = ReadBytes(path);
  REQUIRE(contents.size() > 1);
  CHECK(contents.back() == '\n');
  const std::string token = contents.substr(0, contents.size() - 1);
  auto parsed = ParseToken(kApiTokenPrefix, token);
  REQUIRE(parsed.ok());

  auto tokens = ListApiTokens(*store);
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0].id == parsed->id);
  CHECK(tokens[0].role == "admin");
  CHECK(tokens[0].secret_sha256 == common::Sha256Hex(parsed->secret));
  CHECK(tokens[0].created == clock.Now());
  CHECK(tokens[0].expires == absl::InfiniteFuture());
  CHECK(StoreBytesOnDisk(dir).find(parsed->secret) == std::string::npos);

  auto who = AuthenticateApiToken(*store, clock, token);
  REQUIRE(who.ok());
  CHECK(who->id == parsed->id);
  CHECK(who->role == "admin");

  auto audit = ListAudit(*store);
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].action == "apitoken.create");
  CHECK(audit[0].resource == "apitoken/" + parsed->id);
  CHECK_THAT(audit[0].details, !Contains(parsed->secret));

  clock.Advance(absl::Hours(1));
  auto second = EnsureAdminToken(*store, clock, path);
  REQUIRE(second.ok());
  CHECK_FALSE(*second);
  CHECK(ReadBytes(path) == contents);
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(ListApiTokens(*store).size() == 1);
  CHECK(ListAudit(*store).size() == 1);
}

// Any existing API token means "not the first start": no admin token file is
// written, even if none exists.
TEST_CASE("EnsureAdminToken creates nothing when another API token exists", "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  InsertApiToken(*store, "viewer1", "viewer", clock.Now());

  auto created = EnsureAdminToken(*store, clock, dir.Sub("admin.token"));
  REQUIRE(created.ok());
  CHECK_FALSE(*created);
  CHECK_FALSE(std::filesystem::exists(dir.Sub("admin.token")));
  CHECK(ListApiTokens(*store).size() == 1);
}

// The file is written inside the store transaction: when it cannot be
// written, no token is stored, so the next start (with a usable path) makes one.
TEST_CASE("EnsureAdminToken stores no token when the file cannot be written", "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;

  auto failed = EnsureAdminToken(*store, clock, dir.Sub("missing-dir/admin.token"));
  REQUIRE_FALSE(failed.ok());
  CHECK_THAT(std::string(failed.status().message()), Contains("missing-dir"));
  CHECK(ListApiTokens(*store).empty());
  CHECK(ListAudit(*store).empty());

  auto retried = EnsureAdminToken(*store, clock, dir.Sub("admin.token"));
  REQUIRE(retried.ok());
  CHECK(*retried);
  CHECK(ListApiTokens(*store).size() == 1);
}

// --- AuthenticateApiToken ----------------------------------------------------

// A stored, unexpired, unrevoked token authenticates and yields its record.
TEST_CASE("AuthenticateApiToken accepts a valid token and returns its record", "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  const std::string token = InsertApiToken(*store, "v1ewer", "viewer", clock.Now());

  auto rec = AuthenticateApiToken(*store, clock, token);
  INFO(rec.status().ToString());
  REQUIRE(rec.ok());
  CHECK(rec->id == "v1ewer");
  CHECK(rec->role == "viewer");
  CHECK(rec->description == "test token");
}

// Wrong secret, unknown id, a malformed string and a registration token all
// get Unauthenticated with one and the same message, which never holds the
// secret that was sent.
TEST_CASE("AuthenticateApiToken refuses wrong, unknown and malformed tokens with one message",
          "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  InsertApiToken(*store, "known", "admin", clock.Now());
  const std::string wrong_secret = "WRONGwrongWRONGwrongWRONGwrongWRONGwrong123";

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"wrong secret", "flta.known." + wrong_secret},
      {"unknown id", "flta.unknown." + kSecret},
      {"malformed", "flta.known"},
      {"short secret", "flta.known.short"},
      {"empty", ""},
      {"registration token prefix", "flt1.known." + kSecret},
      {"Bearer left in", "Bearer flta.known." + kSecret},
  };
  for (const auto& [what, token] : cases) {
    INFO(what << ": \"" << token << "\"");
    auto rec = AuthenticateApiToken(*store, clock, token);
    REQUIRE_FALSE(rec.ok());
    CHECK(rec.status().code() == absl::StatusCode::kUnauthenticated);
    CHECK(std::string(rec.status().message()) == kDenied);
    CHECK_THAT(std::string(rec.status().message()), !Contains(wrong_secret));
  }
}

// Expiry is checked against the injected clock: valid until the instant
// before `expires`, refused from `expires` on.
TEST_CASE("AuthenticateApiToken refuses a token once the simulated clock reaches its expiry",
          "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  const std::string token =
      InsertApiToken(*store, "shortlived", "viewer", clock.Now(), clock.Now() + absl::Hours(1));

  REQUIRE(AuthenticateApiToken(*store, clock, token).ok());
  clock.Advance(absl::Hours(1) - absl::Seconds(1));
  REQUIRE(AuthenticateApiToken(*store, clock, token).ok());

  clock.Advance(absl::Seconds(1));
  auto expired = AuthenticateApiToken(*store, clock, token);
  REQUIRE_FALSE(expired.ok());
  CHECK(expired.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(expired.status().message()) == kDenied);

  clock.Advance(absl::Hours(24));
  CHECK(AuthenticateApiToken(*store, clock, token).status().code() ==
        absl::StatusCode::kUnauthenticated);
}

// A revoked token is refused with the same message, whatever its expiry.
TEST_CASE("AuthenticateApiToken refuses a revoked token", "[tokens]") {
  testing::TempDir dir;
  auto store = OpenStore(dir);
  common::SimulatedClock clock;
  const std::string token =
      InsertApiToken(*store, "revoked", "admin", clock.Now(), absl::InfiniteFuture(), clock.Now());
  auto rec = AuthenticateApiToken(*store, clock, token);
  REQUIRE_FALSE(rec.ok());
  CHECK(rec.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(std::string(rec.status().message()) == kDenied);
}

}  // namespace
}  // namespace flotilla::manager
