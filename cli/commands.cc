#include "cli/commands.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/documents.h"
#include "cli/labels.h"
#include "cli/resource_printer.h"
#include "cli/table.h"

namespace flotilla::cli {
namespace {

// kubectl's words for what an apply did.
const char* ApplyOutcomeWord(v1::ApplyOutcome outcome) {
  switch (outcome) {
    case v1::APPLY_OUTCOME_CREATED:
      return "created";
    case v1::APPLY_OUTCOME_UNCHANGED:
      return "unchanged";
    default:
      return "configured";
  }
}

absl::Status UnexpectedArgument(const std::string& arg) {
  return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
}

// Prints a list as a table, or as {"items": [...]}.
template <typename T>
int PrintList(CommandContext& ctx, bool json, const google::protobuf::RepeatedPtrField<T>& items,
              const Table& table) {
  if (json) {
    absl::StatusOr<std::string> text = ItemsJson(items);
    if (!text.ok()) {
      ctx.err() << "error: " << text.status().message() << "\n";
      return kExitServerError;
    }
    ctx.out() << *text;
    return kExitOk;
  }
  if (items.empty()) {
    ctx.err() << "No resources found.\n";
    return kExitOk;
  }
  ctx.out() << RenderTable(table);
  return kExitOk;
}

}  // namespace

// ---- apply ----------------------------------------------------------------

const std::vector<FlagSpec>& ApplyFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"filename", 'f', true, "FILE",
       "Fleet GitRepo YAML to apply, \"-\" for stdin; repeatable, several documents per file"},
  };
  return *flags;
}

int RunApply(CommandContext& ctx) {
  if (!ctx.args().positionals().empty()) {
    return ctx.UsageError(UnexpectedArgument(ctx.args().positionals().front()));
  }
  std::vector<std::string> files = ctx.args().Values("filename");
  if (files.empty()) return ctx.UsageError(absl::InvalidArgumentError("apply needs -f FILE"));

  // Read everything first: an unreadable file is a usage error and nothing is applied.
  struct Document {
    std::string file;
    int index;  // 1-based within its file
    std::string text;
  };
  std::vector<Document> documents;
  for (const std::string& file : files) {
    absl::StatusOr<std::string> text = ReadInput(file, ctx.in());
    if (!text.ok()) return ctx.UsageError(text.status());
    std::vector<std::string> docs = SplitYamlDocuments(*text);
    std::string shown = file == "-" ? "stdin" : file;
    if (docs.empty()) {
      return ctx.UsageError(absl::InvalidArgumentError(absl::StrCat(shown, " has no documents")));
    }
    for (size_t i = 0; i < docs.size(); ++i) {
      documents.push_back({shown, static_cast<int>(i + 1), std::move(docs[i])});
    }
  }

  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  // Like kubectl, a rejected document does not stop the others; an
  // unreachable manager does.
  int exit_code = kExitOk;
  for (const Document& doc : documents) {
    v1::ApplyGitRepoRequest request;
    request.set_yaml(doc.text);
    absl::StatusOr<v1::ApplyGitRepoResponse> applied = (*api)->ApplyGitRepo(request);
    if (!applied.ok()) {
      int code = ctx.ApiError(applied.status(), absl::StrCat(doc.file, ", document ", doc.index));
      if (code == kExitUnreachable) return code;
      exit_code = code;
      continue;
    }
    ctx.out() << "gitrepo.fleet.cattle.io/" << applied->gitrepo().name() << " "
              << ApplyOutcomeWord(applied->outcome()) << "\n";
  }
  return exit_code;
}

// ---- get ------------------------------------------------------------------

const std::vector<FlagSpec>& GetFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"output", 'o', true, "FORMAT", "table (default) or json"},
      {"gitrepo", '\0', true, "NAME", "bundles: only those of this GitRepo"},
      {"cluster", '\0', true, "NAME", "bundledeployments: only those on this cluster (name or id)"},
      {"bundle", '\0', true, "NAME", "bundledeployments: only those of this bundle"},
  };
  return *flags;
}

int RunGet(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "get needs a KIND: gitrepos, bundles, clusters or bundledeployments"));
  }
  if (positionals.size() > 1) return ctx.UsageError(UnexpectedArgument(positionals[1]));
  absl::StatusOr<ResourceKind> kind = ParseResourceKind(positionals[0]);
  if (!kind.ok()) return ctx.UsageError(kind.status());

  std::string output = ctx.args().Value("output").value_or("table");
  if (output != "table" && output != "json") {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown output format \"", output, "\" (want table or json)")));
  }
  bool json = output == "json";
  std::optional<std::string> gitrepo = ctx.args().Value("gitrepo");
  std::optional<std::string> cluster = ctx.args().Value("cluster");
  std::optional<std::string> bundle = ctx.args().Value("bundle");
  if (gitrepo.has_value() && *kind != ResourceKind::kBundle) {
    return ctx.UsageError(absl::InvalidArgumentError("--gitrepo applies to bundles only"));
  }
  if ((cluster.has_value() || bundle.has_value()) && *kind != ResourceKind::kBundleDeployment) {
    return ctx.UsageError(
        absl::InvalidArgumentError("--cluster and --bundle apply to bundledeployments only"));
  }

  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  switch (*kind) {
    case ResourceKind::kGitRepo: {
      auto response = (*api)->ListGitRepos(v1::ListGitReposRequest());
      if (!response.ok()) return ctx.ApiError(response.status());
      return PrintList(ctx, json, response->gitrepos(), GitRepoTable(response->gitrepos()));
    }
    case ResourceKind::kBundle: {
      v1::ListBundlesRequest request;
      request.set_gitrepo_name(gitrepo.value_or(""));
      auto response = (*api)->ListBundles(request);
      if (!response.ok()) return ctx.ApiError(response.status());
      return PrintList(ctx, json, response->bundles(), BundleTable(response->bundles()));
    }
    case ResourceKind::kCluster: {
      auto response = (*api)->ListClusters(v1::ListClustersRequest());
      if (!response.ok()) return ctx.ApiError(response.status());
      return PrintList(ctx, json, response->clusters(),
                       ClusterTable(response->clusters(), ctx.Now()));
    }
    case ResourceKind::kBundleDeployment: {
      v1::ListBundleDeploymentsRequest request;
      request.set_cluster(cluster.value_or(""));
      request.set_bundle_name(bundle.value_or(""));
      auto response = (*api)->ListBundleDeployments(request);
      if (!response.ok()) return ctx.ApiError(response.status());
      return PrintList(ctx, json, response->bundle_deployments(),
                       BundleDeploymentTable(response->bundle_deployments()));
    }
  }
  return kExitOk;
}

// ---- label ----------------------------------------------------------------

const std::vector<FlagSpec>& LabelFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunLabel(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty() || (positionals[0] != "cluster" && positionals[0] != "clusters")) {
    return ctx.UsageError(absl::InvalidArgumentError(
        positionals.empty()
            ? "label needs a kind: label cluster NAME KEY=VALUE..."
            : absl::StrCat("cannot label \"", positionals[0], "\": only clusters have labels")));
  }
  if (positionals.size() < 2) {
    return ctx.UsageError(absl::InvalidArgumentError("label cluster needs a cluster NAME"));
  }
  if (positionals.size() < 3) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "label cluster needs at least one KEY=VALUE (set) or KEY- (remove)"));
  }
  absl::StatusOr<LabelChanges> changes =
      ParseLabelChanges(absl::MakeConstSpan(positionals).subspan(2));
  if (!changes.ok()) return ctx.UsageError(changes.status());

  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  v1::LabelClusterRequest request;
  request.set_cluster(positionals[1]);
  request.mutable_set()->insert(changes->set.begin(), changes->set.end());
  for (const std::string& key : changes->remove) request.add_remove(key);
  absl::StatusOr<v1::Cluster> cluster = (*api)->LabelCluster(request);
  if (!cluster.ok()) return ctx.ApiError(cluster.status());
  ctx.out() << "cluster/" << (cluster->name().empty() ? positionals[1] : cluster->name())
            << " labeled\n";
  return kExitOk;
}

// ---- token create -----------------------------------------------------------

const std::vector<FlagSpec>& TokenFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"ttl", '\0', true, "DURATION", "how long the token is valid, e.g. 30m, 1h (default 1h)"},
      {"max-uses", '\0', true, "N", "how many registrations it allows (default 0: unlimited)"},
      {"label", '\0', true, "KEY=VALUE", "label for the clusters it registers; repeatable"},
      {"cluster", '\0', true, "NAME", "name of the cluster it registers"},
  };
  return *flags;
}

int RunToken(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    return ctx.UsageError(absl::InvalidArgumentError("token needs a subcommand: create"));
  }
  if (positionals[0] != "create") {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown token subcommand \"", positionals[0], "\" (want create)")));
  }
  if (positionals.size() > 1) return ctx.UsageError(UnexpectedArgument(positionals[1]));

  v1::CreateRegistrationTokenRequest request;
  if (std::optional<std::string> ttl_text = ctx.args().Value("ttl"); ttl_text.has_value()) {
    absl::Duration ttl;
    if (!absl::ParseDuration(*ttl_text, &ttl)) {
      return ctx.UsageError(absl::InvalidArgumentError(absl::StrCat(
          "invalid --ttl \"", *ttl_text, "\": want a duration such as 30m, 1h or 90s")));
    }
    if (ttl < absl::Seconds(1) || ttl == absl::InfiniteDuration()) {
      return ctx.UsageError(absl::InvalidArgumentError(
          absl::StrCat("invalid --ttl \"", *ttl_text, "\": must be at least 1s and finite")));
    }
    request.set_ttl_seconds(absl::ToInt64Seconds(ttl));
  }
  if (std::optional<std::string> uses = ctx.args().Value("max-uses"); uses.has_value()) {
    int32_t max_uses = 0;
    if (!absl::SimpleAtoi(*uses, &max_uses) || max_uses < 0) {
      return ctx.UsageError(absl::InvalidArgumentError(
          absl::StrCat("invalid --max-uses \"", *uses, "\": want a whole number >= 0")));
    }
    request.set_max_uses(max_uses);
  }
  absl::StatusOr<std::map<std::string, std::string>> labels =
      ParseLabelAssignments(ctx.args().Values("label"));
  if (!labels.ok()) return ctx.UsageError(labels.status());
  request.mutable_labels()->insert(labels->begin(), labels->end());
  request.set_cluster_name(ctx.args().Value("cluster").value_or(""));

  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  absl::StatusOr<v1::CreateRegistrationTokenResponse> token =
      (*api)->CreateRegistrationToken(request);
  if (!token.ok()) return ctx.ApiError(token.status());
  ctx.out() << token->token() << "\n"
            << "expires: "
            << absl::FormatTime("%Y-%m-%dT%H:%M:%SZ",
                                absl::FromUnixMillis(token->expires_unix_millis()),
                                absl::UTCTimeZone())
            << "\n"
            << "ca-pin: " << token->ca_pin() << "\n";
  return kExitOk;
}

}  // namespace flotilla::cli
