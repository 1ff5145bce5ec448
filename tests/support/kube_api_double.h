// A Kubernetes API server double for the agent's Kubernetes applier: HTTPS on
// 127.0.0.1:<free port> with bearer-token auth, discovery, GET/list (with
// label selectors), server-side apply (PATCH application/apply-patch+yaml)
// with per-manager field ownership and conflicts, and DELETE (one object, a
// collection by label selector, a Namespace with everything in it).
//
// It speaks the real wire format (JSON objects, `Status` errors, the
// `managedFields` FieldsV1 encoding) so that the applier is tested against
// what a real API server answers; every behaviour names the Kubernetes page it
// follows. The deviations (no watch, no POST/PUT, no admission or schema
// validation, immediate deletion, ...) are listed at the top of the .cc file.
//
// Threading: one thread per connection (HTTP/1.1 keep-alive), every request
// handled under one lock, so requests are linearised in arrival order. The
// test-side methods (Get, Put, SetStatus, Remove, FailNext, ...) take the same
// lock and are safe from any thread. The destructor closes open connections and
// joins every thread. Construct it inside a running Catch2 test (TestPki
// REQUIREs).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/yaml.h"
#include "tests/support/http_connection.h"

namespace flotilla::testing {

// One served resource of one group version, as discovery lists it.
struct KubeResourceType {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string kind;      // "ConfigMap"
  std::string resource;  // "configmaps" (plural, lowercase)
  bool namespaced = true;
};

class KubeApiDouble {
 public:
  struct Options {
    // Required `Authorization: Bearer <token>`; empty = no auth check.
    std::string token = "test-token";
    // creationTimestamp and managedFields times; nullptr = the real clock.
    const common::Clock* clock = nullptr;
  };

  // Listens at once; throws std::runtime_error when it cannot. (Two
  // constructors rather than `Options options = {}`, which GCC rejects for a
  // nested struct with default member initializers.)
  KubeApiDouble() : KubeApiDouble(Options()) {}
  explicit KubeApiDouble(Options options);
  ~KubeApiDouble();
  KubeApiDouble(const KubeApiDouble&) = delete;
  KubeApiDouble& operator=(const KubeApiDouble&) = delete;

  std::string url() const;     // https://127.0.0.1:<port>
  std::string ca_pem() const;  // the CA that signed the server certificate
  int port() const { return listener_->port(); }

  // Serves `t` in discovery and at its paths (replacing a type of the same
  // group, version and resource). Built-ins are pre-registered (see the .cc).
  void AddResourceType(KubeResourceType t);
  // Token rotation: only the new one is accepted after this.
  void SetToken(std::string token);

  // Direct access for tests, bypassing HTTP (as another actor would, e.g.
  // kubectl edit or a controller). Objects are returned as a GET would return
  // them (managedFields included). Unknown kinds: nullopt / ignored.
  std::optional<common::Json> Get(const std::string& api_version, const std::string& kind,
                                  const std::string& ns, const std::string& name);
  // Create or replace the whole object (keeps managedFields of other managers
  // as they were; the changed fields move to manager "kubectl-edit", operation
  // Update); bumps resourceVersion, and metadata.generation when anything but
  // metadata/status changed. Unchanged objects are left alone. Does not count
  // in writes(). Throws std::invalid_argument for an unknown kind or a missing
  // name.
  void Put(common::Json object);
  // Replace only .status (as a controller's status update); bumps
  // resourceVersion, not generation. No-op when the object is missing. Like
  // Put and Remove, not counted in writes().
  void SetStatus(const std::string& api_version, const std::string& kind, const std::string& ns,
                 const std::string& name, common::Json status);
  // Deletes at once (a Namespace with its contents, a CRD with its objects).
  void Remove(const std::string& api_version, const std::string& kind, const std::string& ns,
              const std::string& name);

  // Fault injection: the next `count` requests whose method equals `method`
  // (e.g. "PATCH") and whose path starts with `path_prefix` are answered with
  // `status` and a Kubernetes Status body carrying `message` (and a
  // `Retry-After: <retry_after_seconds>` header when > 0), without effect.
  // Checked after authentication.
  void FailNext(const std::string& method, const std::string& path_prefix, int status,
                const std::string& message, int count = 1, int retry_after_seconds = 0);

  // Every request as "METHOD path?query" ("METHOD path" without a query), in
  // order of arrival.
  std::vector<std::string> requests();
  // Requests through HTTP that changed stored state (an apply that changed
  // nothing, a dry run, a failed or faulted request does not count).
  int writes() const { return writes_.load(); }
  // TCP connections accepted so far (keep-alive reuse shows as fewer).
  int connections() const { return listener_->connections(); }

  // A leaf field path in the FieldsV1 element syntax: "f:<field>" for a map
  // key, "k:{\"name\":\"<v>\"}" for an item of a list of maps merged by name.
  using FieldPath = std::vector<std::string>;

 private:
  struct Response {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
  };
  struct Fault {
    std::string method;
    std::string path_prefix;
    int status = 500;
    std::string message;
    int count = 1;
    int retry_after_seconds = 0;
  };
  struct ManagedFieldsEntry {
    std::string manager;
    std::string operation;  // "Apply" or "Update"
    std::string api_version;
    std::string time;  // RFC 3339
    std::set<FieldPath> fields;
  };
  struct StoredObject {
    common::Json object;  // without metadata.managedFields
    std::vector<ManagedFieldsEntry> managers;
  };
  // (group, resource, namespace, name); map order = etcd key order.
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  struct Target;  // a parsed request path

  void Handle(int fd);
  Response Serve(const IncomingRequest& req);
  Response ServeLocked(const IncomingRequest& req, const std::map<std::string, std::string>& query)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Response Discovery(const std::vector<std::string>& segments, bool* handled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Response GetObject(const Target& t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Response List(const Target& t, const std::map<std::string, std::string>& query)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Response Apply(const Target& t, const IncomingRequest& req,
                 const std::map<std::string, std::string>& query)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Response DeleteObject(const Target& t, const std::map<std::string, std::string>& query)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Response DeleteCollection(const Target& t, const std::map<std::string, std::string>& query)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const KubeResourceType* FindByResource(const std::string& group, const std::string& version,
                                         const std::string& resource) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const KubeResourceType* FindByKind(const std::string& api_version, const std::string& kind) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AddResourceTypeLocked(KubeResourceType t, bool builtin) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static common::Json Render(const StoredObject& stored, const std::string& api_version);
  std::string NextResourceVersion() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewUid() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NowRfc3339() const;
  // Server-set metadata for a new object, or carried over from `old`.
  void StampMetadata(common::Json* object, const common::Json* old)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fields the server itself sets on a write (a Namespace's phase and name
  // label, a CRD's Established condition), given the previous version.
  void SetServerFields(const KubeResourceType& type, const common::Json* old, common::Json* object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Side effects of storing/deleting an object (CRDs register their types;
  // Namespaces and CRDs take their contents with them).
  void AfterStore(const KubeResourceType& type, const common::Json& object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseWithDependents(const KubeResourceType& type, const Key& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const common::Clock* clock_;
  std::string ca_pem_;
  std::unique_ptr<ServerTls> tls_;
  std::atomic<int> writes_{0};

  absl::Mutex mu_;
  std::string token_ ABSL_GUARDED_BY(mu_);
  std::vector<KubeResourceType> types_ ABSL_GUARDED_BY(mu_);
  // "group/resource" of the built-in types, whose list items carry no
  // kind/apiVersion (custom resources' do).
  std::set<std::string> builtin_resources_ ABSL_GUARDED_BY(mu_);
  std::map<Key, StoredObject> objects_ ABSL_GUARDED_BY(mu_);
  uint64_t resource_version_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t uid_counter_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Fault> faults_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  // Last: stopped first, while the members its handlers use still exist.
  std::unique_ptr<LoopbackListener> listener_;
};

}  // namespace flotilla::testing
