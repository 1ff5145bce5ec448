// Store on one SQLite file (WAL mode, foreign keys on, versioned migrations).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "manager/store/store.h"

struct sqlite3;

namespace flotilla::manager {

class SqliteStore : public Store {
 public:
  // Opens (creating if absent) the database at `path`, runs
  // `PRAGMA integrity_check` on an existing file (DataLoss naming the file and
  // SQLite's findings if it fails: a corrupt store is never re-created
  // silently), sets WAL, synchronous=NORMAL, busy_timeout, and applies pending
  // schema migrations. FailedPrecondition if the file's schema is newer than
  // this binary knows. The store holds secrets: the file and its -wal/-shm
  // companions are made mode 0600 whatever the umask (FailedPrecondition if
  // that fails, e.g. the file belongs to another user).
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& path);
  ~SqliteStore() override;

  absl::Status Write(const std::function<absl::Status(Tx&)>& fn) override;
  absl::Status Read(const std::function<absl::Status(Tx&)>& fn) override;

  // The schema version this binary writes.
  static int LatestSchemaVersion();
  int SchemaVersionForTest();

 private:
  explicit SqliteStore(sqlite3* db);
  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace flotilla::manager
