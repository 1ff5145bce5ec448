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
#include "common/yaml.h"
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

// An age since `unix_millis`, "<unknown>" for 0 (no time from the manager).
std::string AgeSince(int64_t unix_millis, absl::Time now) {
  if (unix_millis == 0) return "<unknown>";
  return HumanDuration(now - absl::FromUnixMillis(unix_millis));
}

// Keeps the headers and the cells of the columns that belong to `columns`.
class TableBuilder {
 public:
  explicit TableBuilder(Columns columns) : wide_(columns == Columns::kWide) {}
  // A column in every table.
  TableBuilder& Column(std::string header) {
    table_.headers.push_back(std::move(header));
    return *this;
  }
  // A column of -o wide only.
  TableBuilder& WideColumn(std::string header) {
    if (wide_) table_.headers.push_back(std::move(header));
    return *this;
  }
  TableBuilder& Cell(std::string cell) {
    row_.push_back(std::move(cell));
    return *this;
  }
  TableBuilder& WideCell(std::string cell) {
    if (wide_) row_.push_back(std::move(cell));
    return *this;
  }
  void EndRow() {
    table_.rows.push_back(std::move(row_));
    row_.clear();
  }
  bool wide() const { return wide_; }
  Table Build() { return std::move(table_); }

 private:
  bool wide_;
  Table table_;
  std::vector<std::string> row_;
};

absl::StatusOr<nlohmann::json> ItemsDocument(
    absl::Span<const google::protobuf::Message* const> items) {
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
  return nlohmann::json{{"items", std::move(list)}};
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name) {
  if (name == "table") return OutputFormat::kTable;
  if (name == "wide") return OutputFormat::kWide;
  if (name == "json") return OutputFormat::kJson;
  if (name == "yaml") return OutputFormat::kYaml;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown output format \"", name, "\" (want ",
                   absl::StrJoin(absl::MakeConstSpan(kOutputFormatNames).first(3), ", "), " or ",
                   kOutputFormatNames[3], ")"));
}

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

Table GitRepoTable(const google::protobuf::RepeatedPtrField<v1::GitRepo>& gitrepos,
                   Columns columns) {
  TableBuilder table(columns);
  table.Column("NAME").Column("REPO").WideColumn("BRANCH/REVISION").Column("COMMIT");
  table.Column("BUNDLEDEPLOYMENTS-READY").Column("STATUS");
  for (const v1::GitRepo& g : gitrepos) {
    std::string status = g.error();
    int32_t not_ready = g.desired_bundle_deployments() - g.ready_bundle_deployments();
    if (status.empty() && not_ready > 0) status = absl::StrCat("NotReady(", not_ready, ")");
    table.Cell(g.name()).Cell(g.repo());
    // Fleet checks out the revision when one is set, else the branch.
    table.WideCell(g.revision().empty() ? g.branch() : g.revision());
    table.Cell(table.wide() ? g.commit() : g.commit().substr(0, kCommitChars));
    table.Cell(Ready(g.ready_bundle_deployments(), g.desired_bundle_deployments())).Cell(status);
    table.EndRow();
  }
  return table.Build();
}

Table BundleTable(const google::protobuf::RepeatedPtrField<v1::Bundle>& bundles, Columns columns) {
  TableBuilder table(columns);
  table.Column("NAME").Column("GITREPO").WideColumn("PATH").WideColumn("COMMIT");
  table.Column("BUNDLEDEPLOYMENTS-READY").Column("STATUS");
  for (const v1::Bundle& b : bundles) {
    std::string status = b.error();
    if (status.empty() && b.state() != v1::READY) status = StateName(b.state());
    table.Cell(b.name()).Cell(b.gitrepo_name()).WideCell(b.path()).WideCell(b.commit());
    table.Cell(Ready(b.ready(), b.desired())).Cell(status);
    table.EndRow();
  }
  return table.Build();
}

Table ClusterTable(const google::protobuf::RepeatedPtrField<v1::Cluster>& clusters, absl::Time now,
                   Columns columns) {
  TableBuilder table(columns);
  table.Column("NAME").Column("BUNDLES-READY").Column("CONNECTED").Column("LAST-SEEN");
  table.Column("STATUS").WideColumn("AGENT-VERSION").WideColumn("CERT-EXPIRES").Column("LABELS");
  for (const v1::Cluster& c : clusters) {
    bool never_seen = c.last_seen_unix_millis() == 0;
    std::string last_seen =
        never_seen ? "<never>"
                   : HumanDuration(now - absl::FromUnixMillis(c.last_seen_unix_millis()));
    std::string cert_expires =
        c.cert_not_after_unix_millis() == 0
            ? "<unknown>"
            : absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                               absl::FromUnixMillis(c.cert_not_after_unix_millis()),
                               absl::UTCTimeZone());
    table.Cell(c.name()).Cell(Ready(c.ready_bundles(), c.desired_bundles()));
    table.Cell(c.connected() ? "true" : "false").Cell(last_seen);
    table.Cell(never_seen ? "WaitCheckIn" : StateName(c.state()));
    table.WideCell(c.agent_version()).WideCell(cert_expires).Cell(Labels(c.labels()));
    table.EndRow();
  }
  return table.Build();
}

Table BundleDeploymentTable(
    const google::protobuf::RepeatedPtrField<v1::BundleDeployment>& bundle_deployments,
    Columns columns) {
  TableBuilder table(columns);
  table.Column("BUNDLE").Column("CLUSTER").Column("DEPLOYMENT-ID").WideColumn("APPLIED-ID");
  table.Column("STATUS").Column("MESSAGE");
  for (const v1::BundleDeployment& bd : bundle_deployments) {
    table.Cell(bd.bundle_name()).Cell(bd.cluster_name());
    table.Cell(table.wide() ? bd.deployment_id()
                            : bd.deployment_id().substr(0, kDeploymentIdChars));
    table.WideCell(bd.applied_deployment_id());
    table.Cell(StateName(bd.state())).Cell(bd.message());
    table.EndRow();
  }
  return table.Build();
}

Table ClusterGroupTable(const google::protobuf::RepeatedPtrField<v1::ClusterGroup>& groups,
                        Columns columns) {
  TableBuilder table(columns);
  table.Column("NAME").Column("CLUSTERS-READY").Column("SELECTOR").Column("NON-READY");
  table.Column("LABELS");
  for (const v1::ClusterGroup& g : groups) {
    std::string selector = !g.has_selector()      ? "<none>"
                           : g.selector().empty() ? "<all>"
                                                  : g.selector();
    // A few names keep the table readable; -o wide and -o json have every
    // name the manager sent.
    int32_t not_ready = g.cluster_count() - g.ready_clusters();
    int32_t shown = table.wide()
                        ? g.non_ready_clusters_size()
                        : std::min<int32_t>(g.non_ready_clusters_size(), kNonReadyNamesShown);
    std::string non_ready =
        absl::StrJoin(g.non_ready_clusters().begin(), g.non_ready_clusters().begin() + shown, ",");
    if (not_ready > shown) {
      absl::StrAppend(&non_ready, shown > 0 ? "," : "", "+", not_ready - shown, " more");
    }
    table.Cell(g.name()).Cell(Ready(g.ready_clusters(), g.cluster_count())).Cell(selector);
    table.Cell(non_ready).Cell(Labels(g.labels()));
    table.EndRow();
  }
  return table.Build();
}

Table SecretTable(const google::protobuf::RepeatedPtrField<v1::Secret>& secrets, absl::Time now,
                  Columns columns) {
  TableBuilder table(columns);
  table.Column("NAME").Column("TYPE").Column("KEYS").Column("AGE").WideColumn("UPDATED");
  for (const v1::Secret& s : secrets) {
    std::string keys = s.keys().empty() ? "<none>" : absl::StrJoin(s.keys(), ",");
    table.Cell(s.name()).Cell(s.type()).Cell(keys).Cell(AgeSince(s.created_unix_millis(), now));
    table.WideCell(AgeSince(s.updated_unix_millis(), now));
    table.EndRow();
  }
  return table.Build();
}

absl::StatusOr<std::string> ItemsJson(absl::Span<const google::protobuf::Message* const> items) {
  absl::StatusOr<nlohmann::json> document = ItemsDocument(items);
  if (!document.ok()) return document.status();
  return document->dump(2, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

absl::StatusOr<std::string> ItemsYaml(absl::Span<const google::protobuf::Message* const> items) {
  absl::StatusOr<nlohmann::json> document = ItemsDocument(items);
  if (!document.ok()) return document.status();
  return common::ToYaml(*document);
}

}  // namespace flotilla::cli
