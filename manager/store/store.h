// The manager's persistent state: typed tables behind transactions.
//
// Every mutation happens inside Store::Write, which runs the callback in one
// transaction and commits only if it returns OK (otherwise everything it did
// is rolled back). Reads may run in Store::Read. The Tx passed to a callback
// is valid only during that callback. Implementations: SqliteStore (embedded
// default); an etcd store is planned for scale-out.
//
// Errors: NotFound for a missing row where one is required, AlreadyExists for a
// duplicate key, Unavailable for I/O failures (disk full, locked database),
// DataLoss for a corrupt store. Messages carry the backend's own text.
//
// Threading: Store methods are thread-safe; writers are serialised.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "manager/store/records.h"

namespace flotilla::manager {

class Tx {
 public:
  virtual ~Tx() = default;

  // GitRepos.
  virtual absl::Status PutGitRepo(const GitRepoRecord& r) = 0;  // insert or replace
  virtual absl::StatusOr<std::optional<GitRepoRecord>> GetGitRepo(const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<GitRepoRecord>> ListGitRepos() = 0;
  virtual absl::Status DeleteGitRepo(const std::string& name) = 0;

  // Bundles.
  virtual absl::Status PutBundle(const BundleRecord& r) = 0;  // insert or replace
  virtual absl::Status DeleteBundle(const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<BundleRecord>> ListBundles() = 0;

  // Contents (content-addressed; putting an existing hash is a no-op).
  virtual absl::Status PutContent(const ContentRecord& r) = 0;
  virtual absl::StatusOr<std::optional<ContentRecord>> GetContent(const std::string& hash) = 0;
  virtual absl::StatusOr<bool> HasContent(const std::string& hash) = 0;
  // Deletes contents referenced by no bundle resource and no BundleDeployment.
  virtual absl::StatusOr<int> DeleteUnreferencedContents() = 0;

  // Clusters.
  virtual absl::Status InsertCluster(const ClusterRecord& r) = 0;  // AlreadyExists on id or name
  virtual absl::Status UpdateCluster(const ClusterRecord& r) = 0;  // NotFound if missing
  virtual absl::StatusOr<std::optional<ClusterRecord>> GetCluster(const std::string& id) = 0;
  virtual absl::StatusOr<std::optional<ClusterRecord>> GetClusterByName(
      const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<ClusterRecord>> ListClusters() = 0;

  // ClusterGroups.
  virtual absl::Status PutClusterGroup(const ClusterGroupRecord& r) = 0;  // insert or replace
  virtual absl::StatusOr<std::vector<ClusterGroupRecord>> ListClusterGroups() = 0;
  virtual absl::Status DeleteClusterGroup(const std::string& name) = 0;  // NotFound if missing

  // Secrets (values may be binary).
  virtual absl::Status PutSecret(const SecretRecord& r) = 0;  // insert or replace
  virtual absl::StatusOr<std::optional<SecretRecord>> GetSecret(const std::string& name) = 0;
  virtual absl::StatusOr<std::vector<SecretRecord>> ListSecrets() = 0;
  virtual absl::Status DeleteSecret(const std::string& name) = 0;  // NotFound if missing

  // BundleDeployments, keyed by (bundle, cluster_id).
  virtual absl::Status PutBundleDeployment(const BundleDeploymentRecord& r) = 0;
  virtual absl::Status DeleteBundleDeployment(const std::string& bundle,
                                              const std::string& cluster_id) = 0;
  virtual absl::StatusOr<std::vector<BundleDeploymentRecord>> ListBundleDeployments() = 0;
  virtual absl::StatusOr<std::vector<BundleDeploymentRecord>> ListBundleDeploymentsForCluster(
      const std::string& cluster_id) = 0;

  // Registration tokens.
  virtual absl::Status InsertRegistrationToken(const RegistrationTokenRecord& r) = 0;
  virtual absl::StatusOr<std::optional<RegistrationTokenRecord>> GetRegistrationToken(
      const std::string& id) = 0;
  // Atomically counts one use: one UPDATE ... WHERE not revoked AND not expired
  // at `now` AND (max_uses = 0 OR uses < max_uses). Returns false (and changes
  // nothing) when the token cannot be used.
  virtual absl::StatusOr<bool> ConsumeRegistrationToken(const std::string& id, absl::Time now) = 0;
  virtual absl::StatusOr<std::vector<RegistrationTokenRecord>> ListRegistrationTokens() = 0;
  // Sets revoked_at (an already revoked token keeps its first time);
  // NotFound if there is no such token.
  virtual absl::Status RevokeRegistrationToken(const std::string& id, absl::Time now) = 0;

  // API tokens.
  virtual absl::Status InsertApiToken(const ApiTokenRecord& r) = 0;
  virtual absl::StatusOr<std::optional<ApiTokenRecord>> GetApiToken(const std::string& id) = 0;
  virtual absl::StatusOr<std::vector<ApiTokenRecord>> ListApiTokens() = 0;
  virtual absl::Status UpdateApiToken(const ApiTokenRecord& r) = 0;  // NotFound if missing

  // Audit log (append-only); returns the assigned sequence number. The store
  // sets the row's hash (common/audit_chain.h) from the previous row's.
  virtual absl::StatusOr<int64_t> AppendAudit(const AuditEventRecord& r) = 0;
  virtual absl::StatusOr<std::vector<AuditEventRecord>> ListAudit(int64_t after_seq, int limit) = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  // Runs `fn` in one write transaction; commits iff it returns OK.
  virtual absl::Status Write(const std::function<absl::Status(Tx&)>& fn) = 0;
  // Runs `fn` in a read transaction (a consistent snapshot).
  virtual absl::Status Read(const std::function<absl::Status(Tx&)>& fn) = 0;
};

}  // namespace flotilla::manager
