// The rows the manager keeps. Names follow Fleet (ARCHITECTURE.md "Data
// model"). Times are absl::Time; "no time" is absl::InfinitePast().
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace flotilla::manager {

using Labels = std::map<std::string, std::string>;

struct GitRepoRecord {
  std::string name;
  // The GitRepo document as applied (YAML); the parsed form is derived from it.
  std::string spec_yaml;
  int64_t generation = 1;  // bumped on every spec change
  // Status.
  std::string commit;          // last commit fetched
  std::string applied_commit;  // last commit whose bundles were stored
  std::string error;           // last fetch/scan error; "" when healthy
  absl::Time last_fetch = absl::InfinitePast();
};

struct BundleRecord {
  std::string name;  // unique across the manager
  std::string gitrepo;
  std::string path;    // bundle directory, relative to the repository root
  std::string commit;  // commit it was read from
  Labels labels;
  // The parsed fleet.yaml as canonical JSON (common/fleet BundleSpec).
  std::string spec_json;
  // Resource files: path relative to the bundle dir -> content hash.
  std::map<std::string, std::string> resources;
  std::string error;  // why this bundle could not be read/rendered; "" when fine
};

// Content-addressed blob: bundle resource files and rendered manifests.
struct ContentRecord {
  std::string hash;  // sha256 hex of data
  std::string data;
};

struct ClusterRecord {
  std::string id;    // manager-assigned, stable
  std::string name;  // unique
  Labels labels;     // effective labels: agent-proposed at registration, then operator edits
  absl::Time created = absl::InfinitePast();
  absl::Time last_seen = absl::InfinitePast();
  std::string agent_version;
  std::string cert_serial;
  absl::Time cert_not_after = absl::InfinitePast();
  std::string cert_pem;           // the current client certificate (for idempotent retries)
  std::string public_key_sha256;  // of the key registered with the token
  std::string registration_token_id;
  bool revoked = false;
  // Set by the operator (`flotilla apply -f cluster.yaml`, Fleet's Cluster
  // object): a paused cluster gets no new deployments; templateValues are
  // `.ClusterValues` in templated Helm values.
  bool paused = false;
  std::string template_values_json = "{}";  // JSON object
  Labels annotations;
};

// Fleet's ClusterGroup: a named label selector over clusters.
struct ClusterGroupRecord {
  std::string name;
  // spec.selector as LabelSelector JSON; "" is a null selector (no members).
  std::string selector_json;
  Labels labels;
  std::string spec_yaml;  // the document as applied
  absl::Time created = absl::InfinitePast();
  absl::Time updated = absl::InfinitePast();
};

// A credential the manager uses on the operator's behalf (Git and Helm
// authentication, webhook secrets). Never logged, never returned by the API.
struct SecretRecord {
  std::string name;
  // "basic-auth" (username, password), "ssh-auth" (ssh-privatekey,
  // known_hosts), or "generic" (any keys).
  std::string type;
  std::map<std::string, std::string> data;  // key -> value (may be binary)
  absl::Time created = absl::InfinitePast();
  absl::Time updated = absl::InfinitePast();
};

struct BundleDeploymentRecord {
  std::string bundle;
  std::string cluster_id;
  // What the cluster is told to run: "<content hash>:<options hash>" ("" for
  // a placeholder held for its dependencies).
  std::string deployment_id;
  std::string content_hash;  // rendered manifests (a ContentRecord)
  std::string options_json;  // the DeploymentOptions sent to the agent
  // What targeting and rendering want it to run (Fleet's stagedDeploymentID
  // and stagedOptions): the rollout promotes it to the fields above when the
  // bundle's rolloutStrategy allows, and a paused bundle or cluster keeps it
  // staged (shown OutOfSync).
  std::string staged_deployment_id;
  std::string staged_content_hash;
  std::string staged_options_json;
  // Reported by the agent.
  std::string applied_deployment_id;
  int state = 0;  // flotilla.v1.BundleDeploymentState
  std::string message;
  std::string status_json;  // the last BundleDeploymentStatus (JSON)
  absl::Time status_time = absl::InfinitePast();
};

struct RegistrationTokenRecord {
  std::string id;
  std::string secret_sha256;  // hex
  std::string created_by;
  absl::Time created = absl::InfinitePast();
  absl::Time expires = absl::InfinitePast();
  int max_uses = 0;  // 0 = unlimited within the TTL
  int uses = 0;
  absl::Time revoked_at = absl::InfinitePast();
  Labels labels;             // applied to clusters that register with it
  std::string cluster_name;  // if set, the only name it may register
};

struct ApiTokenRecord {
  std::string id;
  std::string secret_sha256;
  std::string role;  // viewer | deployer | cluster-admin | admin
  // The GitRepos it may act on: "*" for every one, else one workspace name
  // (GitRepos carry theirs in metadata.namespace, Fleet's workspace).
  std::string workspace = "*";
  std::string description;
  absl::Time created = absl::InfinitePast();
  absl::Time expires = absl::InfiniteFuture();
  absl::Time last_used = absl::InfinitePast();
  absl::Time revoked_at = absl::InfinitePast();
};

struct AuditEventRecord {
  int64_t seq = 0;  // assigned by the store
  absl::Time time = absl::InfinitePast();
  std::string actor;     // "token:<id>", "cluster:<id>", "manager"
  std::string action;    // "gitrepo.apply", "cluster.register", ...
  std::string resource;  // "gitrepo/<name>", "cluster/<id>", ...
  std::string outcome;   // "ok" or the error
  std::string details;   // never a secret
  // common::AuditChainHash over the previous row's hash and this row;
  // computed by the store when it appends the row.
  std::string hash;
};

}  // namespace flotilla::manager
