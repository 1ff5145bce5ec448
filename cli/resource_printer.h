// How `flotilla get` shows each kind: kubectl-style tables with Fleet's
// columns (`-o wide` adds some), and `-o json` / `-o yaml` as {"items": [...]}.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "cli/table.h"
#include "flotilla/v1/api.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace flotilla::cli {

// The resource kinds `flotilla get` lists.
enum class ResourceKind {
  kGitRepo,
  kBundle,
  kCluster,
  kBundleDeployment,
  kClusterGroup,
  kSecret,
};

// `get`'s -o values.
enum class OutputFormat { kTable, kWide, kJson, kYaml };

// The -o values in the order help and completion show them.
inline constexpr const char* kOutputFormatNames[] = {"table", "wide", "json", "yaml"};

// "table", "wide", "json" or "yaml" (exactly). InvalidArgument naming the
// value and the allowed ones otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name);

// Which columns a table has: kubectl's default set or `-o wide`.
enum class Columns { kNormal, kWide };

// The kind names `get` completes and its errors suggest, plural.
inline constexpr const char* kResourceKindNames[] = {
    "gitrepos", "bundles", "clusters", "bundledeployments", "clustergroups", "secrets"};

// Accepts the plural, the singular and the short names (bd, bds, cg, cgs), in
// any case; Fleet's kinds also suffixed ".fleet.cattle.io". InvalidArgument
// naming the kind otherwise.
absl::StatusOr<ResourceKind> ParseResourceKind(absl::string_view name);

// The kind as the API and YAML spell it: "GitRepo", "ClusterGroup", "Secret".
std::string ApiKindName(ResourceKind kind);

// How kubectl names one object in what it prints: "gitrepo.fleet.cattle.io/simple"
// for Fleet's kinds, "secret/NAME" for the core Secret. `api_kind` is spelled
// as in YAML ("GitRepo"), in any case; an unknown kind is shown lowercased.
std::string ResourceRef(absl::string_view api_kind, absl::string_view name);

// Fleet's spelling of a state: "Ready", "NotReady", ..., "ErrApplied"; "" for
// STATE_UNSPECIFIED.
std::string StateName(v1::BundleDeploymentState state);

// NAME, REPO, COMMIT (12 chars), BUNDLEDEPLOYMENTS-READY (ready/desired),
// STATUS (the error, else "NotReady(n)" while n deployments are not ready, else "").
// Wide: BRANCH/REVISION (the revision, else the branch) after REPO, and the
// whole COMMIT.
Table GitRepoTable(const google::protobuf::RepeatedPtrField<v1::GitRepo>& gitrepos,
                   Columns columns = Columns::kNormal);

// NAME, GITREPO, BUNDLEDEPLOYMENTS-READY, STATUS (the error, else the state
// name unless Ready). Wide: PATH and COMMIT (whole) after GITREPO.
Table BundleTable(const google::protobuf::RepeatedPtrField<v1::Bundle>& bundles,
                  Columns columns = Columns::kNormal);

// NAME, BUNDLES-READY, CONNECTED, LAST-SEEN (age at `now`, "<never>"), STATUS
// (the state name, "WaitCheckIn" before the first check-in), LABELS (sorted
// k=v, "<none>"). Wide: AGENT-VERSION and CERT-EXPIRES (the agent
// certificate's expiry, RFC 3339 UTC; "<unknown>") before LABELS.
Table ClusterTable(const google::protobuf::RepeatedPtrField<v1::Cluster>& clusters, absl::Time now,
                   Columns columns = Columns::kNormal);

// BUNDLE, CLUSTER, DEPLOYMENT-ID (19 chars), STATUS, MESSAGE. Wide: the whole
// DEPLOYMENT-ID, then APPLIED-ID (what the agent last applied).
Table BundleDeploymentTable(
    const google::protobuf::RepeatedPtrField<v1::BundleDeployment>& bundle_deployments,
    Columns columns = Columns::kNormal);

// NAME, CLUSTERS-READY (ready/count), SELECTOR ("<none>" for a null selector,
// which selects nothing; "<all>" for {}), NON-READY (the first 3 non-ready
// clusters the manager names, then "+N more" for the rest), LABELS (sorted
// k=v, "<none>"). Wide: NON-READY names every cluster the manager sent.
Table ClusterGroupTable(const google::protobuf::RepeatedPtrField<v1::ClusterGroup>& groups,
                        Columns columns = Columns::kNormal);

// NAME, TYPE (basic-auth, ssh-auth, generic), KEYS (comma-separated, "<none>"),
// AGE (since creation at `now`, "<unknown>" when the manager gives no time).
// Wide: UPDATED (since the last change, the same way).
Table SecretTable(const google::protobuf::RepeatedPtrField<v1::Secret>& secrets, absl::Time now,
                  Columns columns = Columns::kNormal);

// {"items": [...]}, two-space indented, each item the message's proto3 JSON
// with proto field names and default values included. Internal if a message
// cannot be converted.
absl::StatusOr<std::string> ItemsJson(absl::Span<const google::protobuf::Message* const> items);

// The same document as ItemsJson, as block YAML (keys sorted, strings that
// would read back as another type quoted: int64 fields stay strings).
absl::StatusOr<std::string> ItemsYaml(absl::Span<const google::protobuf::Message* const> items);

template <typename T>
std::vector<const google::protobuf::Message*> MessagePointers(
    const google::protobuf::RepeatedPtrField<T>& items) {
  std::vector<const google::protobuf::Message*> messages;
  messages.reserve(items.size());
  for (const T& item : items) messages.push_back(&item);
  return messages;
}

template <typename T>
absl::StatusOr<std::string> ItemsJson(const google::protobuf::RepeatedPtrField<T>& items) {
  return ItemsJson(absl::MakeConstSpan(MessagePointers(items)));
}

template <typename T>
absl::StatusOr<std::string> ItemsYaml(const google::protobuf::RepeatedPtrField<T>& items) {
  return ItemsYaml(absl::MakeConstSpan(MessagePointers(items)));
}

}  // namespace flotilla::cli
