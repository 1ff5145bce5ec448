#include "cli/resource_printer.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "flotilla/v1/state_names.h"
#include "google/protobuf/util/json_util.h"

namespace flotilla::cli {
namespace {

constexpr size_t kCommitChars = 12;
constexpr size_t kDeploymentIdChars = 19;
constexpr int32_t kNonReadyNamesShown = 3;

std::string Ready(int32_t ready, int32_t desired) { return absl::StrCat(ready, "/", desired); }

std::string Labels(const google::protobuf::Map<std::string, std::string>& labels) {
  if (labels.empty()) return "<none>";
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  return absl::StrJoin(sorted, ",", absl::PairFormatter("="));
}

}  // namespace

absl::StatusOr<ResourceKind> ParseResourceKind(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  absl::string_view kind = lower;
  // A core Kubernetes kind: no Fleet group suffix.
  if (kind == "secrets" || kind == "secret") return ResourceKind::kSecret;
  absl::ConsumeSuffix(&kind, ".fleet.cattle.io");
  if (kind == "gitrepos" || kind == "gitrepo") return ResourceKind::kGitRepo;
  if (kind == "bundles" || kind == "bundle") return ResourceKind::kBundle;
  if (kind == "clusters" || kind == "cluster") return ResourceKind::kCluster;
  if (kind == "bundledeployments" || kind == "bundledeployment" || kind == "bd" || kind == "bds") {
    return ResourceKind::kBundleDeployment;
  }
  if (kind == "clustergroups" || kind == "clustergroup" || kind == "cg" || kind == "cgs") {
    return ResourceKind::kClusterGroup;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown resource kind \"", name,
      "\" (want gitrepos, bundles, clusters, bundledeployments, clustergroups or secrets)"));
}

std::string ApiKindName(ResourceKind kind) {
  switch (kind) {
    case ResourceKind::kGitRepo:
      return "GitRepo";
    case ResourceKind::kBundle:
      return "Bundle";
    case ResourceKind::kCluster:
      return "Cluster";
    case ResourceKind::kBundleDeployment:
      return "BundleDeployment";
    case ResourceKind::kClusterGroup:
      return "ClusterGroup";
    case ResourceKind::kSecret:
      return "Secret";
  }
  return "";
}

std::string ResourceRef(absl::string_view api_kind, absl::string_view name) {
  std::string kind = absl::AsciiStrToLower(api_kind);
  if (kind == "gitrepo" || kind == "bundle" || kind == "cluster" || kind == "bundledeployment" ||
      kind == "clustergroup") {
    return absl::StrCat(kind, ".fleet.cattle.io/", name);
  }
  return absl::StrCat(kind, "/", name);
}

std::string StateName(v1::BundleDeploymentState state) { return v1::FleetStateName(state); }

Table GitRepoTable(const google::protobuf::RepeatedPtrField<v1::GitRepo>& gitrepos) {
  Table table{{"NAME", "REPO", "COMMIT", "BUNDLEDEPLOYMENTS-READY", "STATUS"}, {}};
  for (const v1::GitRepo& g : gitrepos) {
    std::string status = g.error();
    int32_t not_ready = g.desired_bundle_deployments() - g.ready_bundle_deployments();
    if (status.empty() && not_ready > 0) status = absl::StrCat("NotReady(", not_ready, ")");
    table.rows.push_back({g.name(), g.repo(), g.commit().substr(0, kCommitChars),
                          Ready(g.ready_bundle_deployments(), g.desired_bundle_deployments()),
                          status});
  }
  return table;
}

Table BundleTable(const google::protobuf::RepeatedPtrField<v1::Bundle>& bundles) {
  Table table{{"NAME", "GITREPO", "BUNDLEDEPLOYMENTS-READY", "STATUS"}, {}};
  for (const v1::Bundle& b : bundles) {
    std::string status = b.error();
    if (status.empty() && b.state() != v1::READY) status = StateName(b.state());
    table.rows.push_back({b.name(), b.gitrepo_name(), Ready(b.ready(), b.desired()), status});
  }
  return table;
}

Table ClusterTable(const google::protobuf::RepeatedPtrField<v1::Cluster>& clusters,
                   absl::Time now) {
  Table table{{"NAME", "BUNDLES-READY", "CONNECTED", "LAST-SEEN", "STATUS", "LABELS"}, {}};
  for (const v1::Cluster& c : clusters) {
    bool never_seen = c.last_seen_unix_millis() == 0;
    std::string last_seen =
        never_seen ? "<never>"
                   : HumanDuration(now - absl::FromUnixMillis(c.last_seen_unix_millis()));
    table.rows.push_back({c.name(), Ready(c.ready_bundles(), c.desired_bundles()),
                          c.connected() ? "true" : "false", last_seen,
                          never_seen ? "WaitCheckIn" : StateName(c.state()), Labels(c.labels())});
  }
  return table;
}

Table BundleDeploymentTable(
    const google::protobuf::RepeatedPtrField<v1::BundleDeployment>& bundle_deployments) {
  Table table{{"BUNDLE", "CLUSTER", "DEPLOYMENT-ID", "STATUS", "MESSAGE"}, {}};
  for (const v1::BundleDeployment& bd : bundle_deployments) {
    table.rows.push_back({bd.bundle_name(), bd.cluster_name(),
                          bd.deployment_id().substr(0, kDeploymentIdChars), StateName(bd.state()),
                          bd.message()});
  }
  return table;
}

Table ClusterGroupTable(const google::protobuf::RepeatedPtrField<v1::ClusterGroup>& groups) {
  Table table{{"NAME", "CLUSTERS-READY", "SELECTOR", "NON-READY", "LABELS"}, {}};
  for (const v1::ClusterGroup& g : groups) {
    std::string selector = !g.has_selector()      ? "<none>"
                           : g.selector().empty() ? "<all>"
                                                  : g.selector();
    // A few names keep the table readable; -o json has every name the manager sent.
    int32_t not_ready = g.cluster_count() - g.ready_clusters();
    int32_t shown = std::min<int32_t>(g.non_ready_clusters_size(), kNonReadyNamesShown);
    std::string non_ready =
        absl::StrJoin(g.non_ready_clusters().begin(), g.non_ready_clusters().begin() + shown, ",");
    if (not_ready > shown) {
      absl::StrAppend(&non_ready, shown > 0 ? "," : "", "+", not_ready - shown, " more");
    }
    table.rows.push_back({g.name(), Ready(g.ready_clusters(), g.cluster_count()), selector,
                          non_ready, Labels(g.labels())});
  }
  return table;
}

Table SecretTable(const google::protobuf::RepeatedPtrField<v1::Secret>& secrets, absl::Time now) {
  Table table{{"NAME", "TYPE", "KEYS", "AGE"}, {}};
  for (const v1::Secret& s : secrets) {
    std::string keys = s.keys().empty() ? "<none>" : absl::StrJoin(s.keys(), ",");
    std::string age = s.created_unix_millis() == 0
                          ? "<unknown>"
                          : HumanDuration(now - absl::FromUnixMillis(s.created_unix_millis()));
    table.rows.push_back({s.name(), s.type(), keys, age});
  }
  return table;
}

absl::StatusOr<std::string> ItemsJson(absl::Span<const google::protobuf::Message* const> items) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  nlohmann::json list = nlohmann::json::array();
  for (const google::protobuf::Message* item : items) {
    std::string json;
    auto status = google::protobuf::util::MessageToJsonString(*item, &json, options);
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat("cannot convert ", item->GetTypeName(),
                                              " to JSON: ", std::string(status.message())));
    }
    nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      return absl::InternalError(
          absl::StrCat("protobuf printed invalid JSON for ", item->GetTypeName()));
    }
    list.push_back(std::move(parsed));
  }
  nlohmann::json document = {{"items", std::move(list)}};
  return document.dump(2, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace flotilla::cli
