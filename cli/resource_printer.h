// How `flotilla get` shows each kind: kubectl-style tables with Fleet's
// columns, and `-o json` as {"items": [...]}.
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
enum class ResourceKind { kGitRepo, kBundle, kCluster, kBundleDeployment };

// Accepts the plural, the singular and the short names (bd, bds), in any case
// and optionally suffixed ".fleet.cattle.io". InvalidArgument naming the
// kind otherwise.
absl::StatusOr<ResourceKind> ParseResourceKind(absl::string_view name);

// Fleet's spelling of a state: "Ready", "NotReady", ..., "ErrApplied"; "" for
// STATE_UNSPECIFIED.
std::string StateName(v1::BundleDeploymentState state);

// NAME, REPO, COMMIT (12 chars), BUNDLEDEPLOYMENTS-READY (ready/desired),
// STATUS (the error, else "NotReady(n)" while n deployments are not ready, else "").
Table GitRepoTable(const google::protobuf::RepeatedPtrField<v1::GitRepo>& gitrepos);

// NAME, GITREPO, BUNDLEDEPLOYMENTS-READY, STATUS (the error, else the state
// name unless Ready).
Table BundleTable(const google::protobuf::RepeatedPtrField<v1::Bundle>& bundles);

// NAME, BUNDLES-READY, CONNECTED, LAST-SEEN (age at `now`, "<never>"), STATUS
// (the state name, "WaitCheckIn" before the first check-in), LABELS (sorted
// k=v, "<none>").
Table ClusterTable(const google::protobuf::RepeatedPtrField<v1::Cluster>& clusters, absl::Time now);

// BUNDLE, CLUSTER, DEPLOYMENT-ID (19 chars), STATUS, MESSAGE.
Table BundleDeploymentTable(
    const google::protobuf::RepeatedPtrField<v1::BundleDeployment>& bundle_deployments);

// {"items": [...]}, two-space indented, each item the message's proto3 JSON
// with proto field names and default values included. Internal if a message
// cannot be converted.
absl::StatusOr<std::string> ItemsJson(absl::Span<const google::protobuf::Message* const> items);

template <typename T>
absl::StatusOr<std::string> ItemsJson(const google::protobuf::RepeatedPtrField<T>& items) {
  std::vector<const google::protobuf::Message*> messages;
  messages.reserve(items.size());
  for (const T& item : items) messages.push_back(&item);
  return ItemsJson(absl::MakeConstSpan(messages));
}

}  // namespace flotilla::cli
