#include "cli/commands.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/agent_manifest.h"
#include "cli/documents.h"
#include "cli/labels.h"
#include "cli/resource_printer.h"
#include "cli/secrets.h"
#include "cli/table.h"
#include "common/tls/pki.h"

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

// In a series of calls (apply's documents, delete's names), a failure that
// every later call would repeat: no manager, or a token it does not accept.
bool StopsTheRest(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kUnauthenticated;
}

// A series' exit code: "not authorized" (4) outranks "refused" (1).
int WorseExitCode(int so_far, int code) { return so_far == kExitNotAuthorized ? so_far : code; }

absl::Status UnexpectedArgument(const std::string& arg) {
  return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
}

// Prints a list as `format` says: a table (No resources found. on stderr when
// empty), or {"items": [...]} as JSON or YAML.
template <typename T>
int PrintList(CommandContext& ctx, OutputFormat format,
              const google::protobuf::RepeatedPtrField<T>& items,
              const std::function<Table(Columns)>& table) {
  if (format == OutputFormat::kJson || format == OutputFormat::kYaml) {
    absl::StatusOr<std::string> text =
        format == OutputFormat::kJson ? ItemsJson(items) : ItemsYaml(items);
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
  ctx.out() << RenderTable(
      table(format == OutputFormat::kWide ? Columns::kWide : Columns::kNormal));
  return kExitOk;
}

}  // namespace

// ---- apply ----------------------------------------------------------------

const std::vector<FlagSpec>& ApplyFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"filename", 'f', true, "FILE",
       "YAML to apply, \"-\" for stdin; repeatable, several documents per file"},
      {"wait", '\0', false, "", "then show progress until every GitRepo applied is Ready"},
      {"timeout", '\0', true, "DURATION", "--wait: give up after this long (default 5m)"},
  };
  return *flags;
}

namespace {

// One line on where a GitRepo is; it is printed whenever it changes.
std::string Progress(const v1::GitRepo& g) {
  const v1::BundleSummary& s = g.summary();
  std::string line = absl::StrCat("gitrepo/", g.name(), ": ");
  if (g.applied_commit().empty()) {
    absl::StrAppend(&line, "waiting for the first fetch");
  } else {
    absl::StrAppend(&line, s.ready(), "/", s.desired_ready(), " bundle deployments ready");
    std::vector<std::string> states;
    auto add = [&](const char* name, int n) {
      if (n > 0) states.push_back(absl::StrCat(name, " ", n));
    };
    add("WaitApplied", s.wait_applied());
    add("ErrApplied", s.err_applied());
    add("NotReady", s.not_ready());
    add("OutOfSync", s.out_of_sync());
    add("Modified", s.modified());
    add("Pending", s.pending());
    if (!states.empty()) absl::StrAppend(&line, " (", absl::StrJoin(states, ", "), ")");
    absl::StrAppend(&line, ", commit ", g.applied_commit().substr(0, 12));
  }
  if (!g.error().empty()) absl::StrAppend(&line, "; error: ", g.error());
  return line;
}

bool Converged(const v1::GitRepo& g) {
  return !g.applied_commit().empty() && g.commit() == g.applied_commit() && g.error().empty() &&
         g.summary().ready() == g.summary().desired_ready();
}

// apply --wait: polls each GitRepo until all have converged or `timeout`.
int WaitForGitRepos(CommandContext& ctx, FleetApi* api, const std::vector<std::string>& names,
                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::map<std::string, std::string> last;
  for (;;) {
    bool all = true;
    for (const auto& name : names) {
      v1::GetRequest get;
      get.set_name(name);
      auto g = api->GetGitRepo(get);
      if (!g.ok()) return ctx.ApiError(g.status(), "gitrepo/" + name);
      const std::string line = Progress(*g);
      if (last[name] != line) {
        ctx.out() << line << "\n";
        ctx.out().flush();
        last[name] = line;
      }
      all = all && Converged(*g);
    }
    if (all) {
      ctx.out() << "all GitRepos ready\n";
      return kExitOk;
    }
    if (absl::Now() >= deadline) {
      ctx.err() << "error: not ready after " << absl::FormatDuration(timeout)
                << " (see `flotilla describe gitrepo NAME`)\n";
      return kExitServerError;
    }
    absl::SleepFor(absl::Seconds(1));
  }
}

}  // namespace

int RunApply(CommandContext& ctx) {
  if (!ctx.args().positionals().empty()) {
    return ctx.UsageError(UnexpectedArgument(ctx.args().positionals().front()));
  }
  const bool wait = ctx.args().Has("wait");
  absl::Duration timeout = absl::Minutes(5);
  if (auto text = ctx.args().Value("timeout"); text.has_value()) {
    if (!wait) return ctx.UsageError(absl::InvalidArgumentError("--timeout needs --wait"));
    if (!absl::ParseDuration(*text, &timeout) || timeout <= absl::ZeroDuration() ||
        timeout == absl::InfiniteDuration()) {
      return ctx.UsageError(absl::InvalidArgumentError(
          absl::StrCat("invalid --timeout \"", *text, "\": want a duration such as 90s or 10m")));
    }
  }
  std::vector<std::string> gitrepos;  // applied, for --wait
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
    v1::ApplyRequest request;
    request.set_yaml(doc.text);
    absl::StatusOr<v1::ApplyResponse> applied = (*api)->Apply(request);
    if (!applied.ok()) {
      int code = ctx.ApiError(applied.status(), absl::StrCat(doc.file, ", document ", doc.index));
      if (StopsTheRest(applied.status())) return code;
      exit_code = WorseExitCode(exit_code, code);
      continue;
    }
    ctx.out() << ResourceRef(applied->kind(), applied->name()) << " "
              << ApplyOutcomeWord(applied->outcome()) << "\n";
    if (applied->kind() == "GitRepo") gitrepos.push_back(applied->name());
  }
  if (!wait || exit_code != kExitOk || gitrepos.empty()) return exit_code;
  return WaitForGitRepos(ctx, *api, gitrepos, timeout);
}

// ---- get ------------------------------------------------------------------

const std::vector<FlagSpec>& GetFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"output", 'o', true, "FORMAT", "table (default), wide, json or yaml",
       std::vector<std::string>(std::begin(kOutputFormatNames), std::end(kOutputFormatNames))},
      {"selector", 'l', true, "SELECTOR", "label selector, e.g. env=prod,tier in (web,db)"},
      {"state", '\0', true, "STATE", "only objects in this state, e.g. NotReady, OutOfSync"},
      {"watch", 'w', false, "", "keep watching: print objects again as they change (Ctrl-C stops)"},
      {"watch-interval", '\0', true, "DURATION", "how often --watch asks the manager (default 2s)"},
      {"gitrepo", '\0', true, "NAME", "bundles, bundledeployments: only those of this GitRepo"},
      {"cluster", '\0', true, "NAME", "bundledeployments: only those on this cluster (name or id)"},
      {"bundle", '\0', true, "NAME", "bundledeployments: only those of this bundle"},
  };
  return *flags;
}

namespace {

// One `get`: fetches the items (all, or the named one) and renders them;
// with --watch, again and again, printing only what changed.
template <typename T>
int GetItems(
    CommandContext& ctx, OutputFormat format, bool watch, absl::Duration interval,
    const std::function<absl::StatusOr<google::protobuf::RepeatedPtrField<T>>()>& fetch,
    const std::function<Table(const google::protobuf::RepeatedPtrField<T>&, Columns)>& table,
    const std::function<std::string(const T&)>& key) {
  if (!watch) {
    auto items = fetch();
    if (!items.ok()) return ctx.ApiError(items.status());
    return PrintList(ctx, format, *items, [&](Columns columns) { return table(*items, columns); });
  }
  std::map<std::string, std::string> seen;  // key -> serialized object
  bool first = true;
  const bool structured = format == OutputFormat::kJson || format == OutputFormat::kYaml;
  const Columns columns = format == OutputFormat::kWide ? Columns::kWide : Columns::kNormal;
  for (;;) {
    auto items = fetch();
    if (!items.ok()) return ctx.ApiError(items.status());
    google::protobuf::RepeatedPtrField<T> changed;
    std::map<std::string, std::string> now;
    for (const T& item : *items) {
      const std::string k = key(item);
      now[k] = item.SerializeAsString();
      if (seen.count(k) == 0 || seen[k] != now[k]) *changed.Add() = item;
    }
    std::vector<std::string> gone;
    for (const auto& [k, unused] : seen) {
      if (now.count(k) == 0) gone.push_back(k);
    }
    if (structured) {
      if (!changed.empty() || first) {
        auto text = format == OutputFormat::kJson ? ItemsJson(changed) : ItemsYaml(changed);
        if (!text.ok()) return ctx.ApiError(text.status());
        ctx.out() << *text;
      }
    } else if (!changed.empty() || first) {
      Table t = table(changed, columns);
      if (!first) t.headers.clear();
      if (!t.rows.empty() || first) ctx.out() << RenderTable(t);
    }
    // JSON and YAML consumers read stdout as a stream of documents: a
    // deletion is reported on stderr there.
    for (const auto& k : gone) (structured ? ctx.err() : ctx.out()) << k << " deleted\n";
    ctx.out().flush();
    seen = std::move(now);
    first = false;
    absl::SleepFor(interval);
  }
}

}  // namespace

int RunGet(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "get needs a KIND: gitrepos, bundles, clusters, bundledeployments, clustergroups or "
        "secrets"));
  }
  if (positionals.size() > 2) return ctx.UsageError(UnexpectedArgument(positionals[2]));
  absl::StatusOr<ResourceKind> kind = ParseResourceKind(positionals[0]);
  if (!kind.ok()) return ctx.UsageError(kind.status());
  const std::string name = positionals.size() == 2 ? positionals[1] : "";

  absl::StatusOr<OutputFormat> format =
      ParseOutputFormat(ctx.args().Value("output").value_or("table"));
  if (!format.ok()) return ctx.UsageError(format.status());
  std::optional<std::string> gitrepo = ctx.args().Value("gitrepo");
  std::optional<std::string> cluster = ctx.args().Value("cluster");
  std::optional<std::string> bundle = ctx.args().Value("bundle");
  const std::string selector = ctx.args().Value("selector").value_or("");
  const std::string state = ctx.args().Value("state").value_or("");
  if (gitrepo.has_value() && *kind != ResourceKind::kBundle &&
      *kind != ResourceKind::kBundleDeployment) {
    return ctx.UsageError(
        absl::InvalidArgumentError("--gitrepo applies to bundles and bundledeployments only"));
  }
  if ((cluster.has_value() || bundle.has_value()) && *kind != ResourceKind::kBundleDeployment) {
    return ctx.UsageError(
        absl::InvalidArgumentError("--cluster and --bundle apply to bundledeployments only"));
  }
  if (!state.empty() && *kind != ResourceKind::kBundle && *kind != ResourceKind::kCluster &&
      *kind != ResourceKind::kBundleDeployment) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "--state applies to bundles, clusters and bundledeployments only"));
  }
  if (!name.empty() &&
      (*kind == ResourceKind::kBundleDeployment || *kind == ResourceKind::kSecret)) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("get ", positionals[0],
                     " takes no NAME (filter bundledeployments with --cluster and --bundle)")));
  }
  if (!name.empty() && (!selector.empty() || !state.empty())) {
    return ctx.UsageError(
        absl::InvalidArgumentError("a NAME cannot be combined with --selector or --state"));
  }
  if (!selector.empty() && *kind == ResourceKind::kSecret) {
    return ctx.UsageError(absl::InvalidArgumentError("secrets have no labels to select by"));
  }
  const bool watch = ctx.args().Has("watch");
  absl::Duration interval = absl::Seconds(2);
  if (auto text = ctx.args().Value("watch-interval"); text.has_value()) {
    if (!absl::ParseDuration(*text, &interval) || interval < absl::Milliseconds(100) ||
        interval == absl::InfiniteDuration()) {
      return ctx.UsageError(absl::InvalidArgumentError(absl::StrCat(
          "invalid --watch-interval \"", *text, "\": want a duration of at least 100ms, e.g. 2s")));
    }
  }

  absl::StatusOr<FleetApi*> api_or = ctx.Api();
  if (!api_or.ok()) return ctx.UsageError(api_or.status());
  FleetApi* api = *api_or;
  v1::ListOptions options;
  options.set_label_selector(selector);
  v1::GetRequest get;
  get.set_name(name);
  switch (*kind) {
    case ResourceKind::kGitRepo:
      return GetItems<v1::GitRepo>(
          ctx, *format, watch, interval,
          [&]() -> absl::StatusOr<google::protobuf::RepeatedPtrField<v1::GitRepo>> {
            google::protobuf::RepeatedPtrField<v1::GitRepo> out;
            if (!name.empty()) {
              auto one = api->GetGitRepo(get);
              if (!one.ok()) return one.status();
              *out.Add() = std::move(*one);
              return out;
            }
            v1::ListGitReposRequest request;
            *request.mutable_options() = options;
            auto response = api->ListGitRepos(request);
            if (!response.ok()) return response.status();
            return std::move(*response->mutable_gitrepos());
          },
          [](const auto& items, Columns c) { return GitRepoTable(items, c); },
          [](const v1::GitRepo& g) { return "gitrepo/" + g.name(); });
    case ResourceKind::kBundle:
      return GetItems<v1::Bundle>(
          ctx, *format, watch, interval,
          [&]() -> absl::StatusOr<google::protobuf::RepeatedPtrField<v1::Bundle>> {
            google::protobuf::RepeatedPtrField<v1::Bundle> out;
            if (!name.empty()) {
              auto one = api->GetBundle(get);
              if (!one.ok()) return one.status();
              *out.Add() = std::move(*one);
              return out;
            }
            v1::ListBundlesRequest request;
            *request.mutable_options() = options;
            request.set_gitrepo_name(gitrepo.value_or(""));
            request.set_state(state);
            auto response = api->ListBundles(request);
            if (!response.ok()) return response.status();
            return std::move(*response->mutable_bundles());
          },
          [](const auto& items, Columns c) { return BundleTable(items, c); },
          [](const v1::Bundle& b) { return "bundle/" + b.name(); });
    case ResourceKind::kCluster:
      return GetItems<v1::Cluster>(
          ctx, *format, watch, interval,
          [&]() -> absl::StatusOr<google::protobuf::RepeatedPtrField<v1::Cluster>> {
            google::protobuf::RepeatedPtrField<v1::Cluster> out;
            if (!name.empty()) {
              auto one = api->GetCluster(get);
              if (!one.ok()) return one.status();
              *out.Add() = std::move(*one);
              return out;
            }
            v1::ListClustersRequest request;
            *request.mutable_options() = options;
            request.set_state(state);
            auto response = api->ListClusters(request);
            if (!response.ok()) return response.status();
            return std::move(*response->mutable_clusters());
          },
          [&](const auto& items, Columns c) { return ClusterTable(items, ctx.Now(), c); },
          [](const v1::Cluster& c) { return "cluster/" + c.name(); });
    case ResourceKind::kBundleDeployment:
      return GetItems<v1::BundleDeployment>(
          ctx, *format, watch, interval,
          [&]() -> absl::StatusOr<google::protobuf::RepeatedPtrField<v1::BundleDeployment>> {
            v1::ListBundleDeploymentsRequest request;
            *request.mutable_options() = options;
            request.set_cluster(cluster.value_or(""));
            request.set_bundle_name(bundle.value_or(""));
            request.set_gitrepo_name(gitrepo.value_or(""));
            request.set_state(state);
            auto response = api->ListBundleDeployments(request);
            if (!response.ok()) return response.status();
            return std::move(*response->mutable_bundle_deployments());
          },
          [](const auto& items, Columns c) { return BundleDeploymentTable(items, c); },
          [](const v1::BundleDeployment& bd) {
            return absl::StrCat("bundledeployment/", bd.bundle_name(), "/", bd.cluster_name());
          });
    case ResourceKind::kClusterGroup:
      return GetItems<v1::ClusterGroup>(
          ctx, *format, watch, interval,
          [&]() -> absl::StatusOr<google::protobuf::RepeatedPtrField<v1::ClusterGroup>> {
            google::protobuf::RepeatedPtrField<v1::ClusterGroup> out;
            if (!name.empty()) {
              auto one = api->GetClusterGroup(get);
              if (!one.ok()) return one.status();
              *out.Add() = std::move(*one);
              return out;
            }
            v1::ListClusterGroupsRequest request;
            *request.mutable_options() = options;
            auto response = api->ListClusterGroups(request);
            if (!response.ok()) return response.status();
            return std::move(*response->mutable_cluster_groups());
          },
          [](const auto& items, Columns c) { return ClusterGroupTable(items, c); },
          [](const v1::ClusterGroup& g) { return "clustergroup/" + g.name(); });
    case ResourceKind::kSecret:
      return GetItems<v1::Secret>(
          ctx, *format, watch, interval,
          [&]() -> absl::StatusOr<google::protobuf::RepeatedPtrField<v1::Secret>> {
            auto response = api->ListSecrets(v1::ListSecretsRequest());
            if (!response.ok()) return response.status();
            return std::move(*response->mutable_secrets());
          },
          [&](const auto& items, Columns c) { return SecretTable(items, ctx.Now(), c); },
          [](const v1::Secret& sec) { return "secret/" + sec.name(); });
  }
  return kExitOk;
}

// ---- delete ---------------------------------------------------------------

const std::vector<FlagSpec>& DeleteFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunDelete(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "delete needs a KIND and a NAME: gitrepo, clustergroup or secret"));
  }
  absl::StatusOr<ResourceKind> kind = ParseResourceKind(positionals[0]);
  if (!kind.ok()) {
    return ctx.UsageError(absl::InvalidArgumentError(absl::StrCat(
        "unknown resource kind \"", positionals[0], "\" (want gitrepo, clustergroup or secret)")));
  }
  if (*kind != ResourceKind::kGitRepo && *kind != ResourceKind::kClusterGroup &&
      *kind != ResourceKind::kSecret) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("cannot delete \"", positionals[0],
                     "\": flotilla deletes gitrepo, clustergroup and secret (bundles follow "
                     "their GitRepo, clusters leave when their agent is removed)")));
  }
  if (positionals.size() < 2) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("delete ", positionals[0], " needs at least one NAME")));
  }

  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  const std::string api_kind = ApiKindName(*kind);
  // As with apply: a name the manager refuses (NOT_FOUND) does not stop the
  // others; an unreachable manager does.
  int exit_code = kExitOk;
  for (size_t i = 1; i < positionals.size(); ++i) {
    const std::string ref = ResourceRef(api_kind, positionals[i]);
    v1::DeleteRequest request;
    request.set_kind(absl::AsciiStrToLower(api_kind));
    request.set_name(positionals[i]);
    absl::StatusOr<v1::DeleteResponse> deleted = (*api)->Delete(request);
    if (!deleted.ok()) {
      int code = ctx.ApiError(deleted.status(), ref);
      if (StopsTheRest(deleted.status())) return code;
      exit_code = WorseExitCode(exit_code, code);
      continue;
    }
    ctx.out() << ref << " deleted\n";
  }
  return exit_code;
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

// ---- secret create ----------------------------------------------------------

namespace {

constexpr char kBasicAuth[] = "basic-auth";
constexpr char kSshAuth[] = "ssh-auth";
constexpr char kGeneric[] = "generic";

// Flags that only one secret type reads: given with another type they are a
// mistake, not something to ignore silently.
struct TypedFlag {
  const char* flag;
  const char* type;
};
constexpr TypedFlag kTypedSecretFlags[] = {
    {"username", kBasicAuth},       {"password-file", kBasicAuth},  {"password-stdin", kBasicAuth},
    {"private-key-file", kSshAuth}, {"known-hosts-file", kSshAuth}, {"from-literal", kGeneric},
    {"from-file", kGeneric},
};

using SecretData = std::map<std::string, std::string>;

// The whole of `path` ("-": stdin), read for `flag`; a usage error names both.
absl::StatusOr<std::string> ReadFlagFile(CommandContext& ctx, absl::string_view flag,
                                         const std::string& path) {
  absl::StatusOr<std::string> text = ReadInput(path, ctx.in());
  if (!text.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", text.status().message()));
  }
  return text;
}

// `echo pw > file` and a typed line on stdin end in a newline that is not
// part of the password (docker login --password-stdin drops it too).
std::string WithoutFinalNewline(std::string text) {
  if (absl::EndsWith(text, "\n")) text.pop_back();
  if (absl::EndsWith(text, "\r")) text.pop_back();
  return text;
}

absl::StatusOr<SecretData> BasicAuthData(CommandContext& ctx) {
  std::optional<std::string> username = ctx.args().Value("username");
  if (!username.has_value()) {
    return absl::InvalidArgumentError("secret create basic-auth needs --username USER");
  }
  std::optional<std::string> password_file = ctx.args().Value("password-file");
  bool password_stdin = ctx.args().Has("password-stdin");
  if (password_file.has_value() && password_stdin) {
    return absl::InvalidArgumentError("give --password-file or --password-stdin, not both");
  }
  if (!password_file.has_value() && !password_stdin) {
    return absl::InvalidArgumentError(
        "secret create basic-auth needs --password-file FILE or --password-stdin (a password "
        "is never accepted as a flag value)");
  }
  std::string password;
  if (password_stdin) {
    absl::StatusOr<std::string> text = ReadInput("-", ctx.in());
    if (!text.ok()) return text.status();
    password = WithoutFinalNewline(*std::move(text));
    if (password.empty()) return absl::InvalidArgumentError("--password-stdin: stdin is empty");
  } else {
    absl::StatusOr<std::string> text = ReadFlagFile(ctx, "password-file", *password_file);
    if (!text.ok()) return text.status();
    password = WithoutFinalNewline(*std::move(text));
    if (password.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--password-file: ", *password_file, " is empty"));
    }
  }
  return SecretData{{"username", *username}, {"password", std::move(password)}};
}

absl::StatusOr<SecretData> SshAuthData(CommandContext& ctx) {
  std::optional<std::string> key_file = ctx.args().Value("private-key-file");
  if (!key_file.has_value()) {
    return absl::InvalidArgumentError("secret create ssh-auth needs --private-key-file FILE");
  }
  absl::StatusOr<std::string> key = ReadFlagFile(ctx, "private-key-file", *key_file);
  if (!key.ok()) return key.status();
  // OpenSSH and PEM keys, encrypted or not, all say "PRIVATE KEY-----"; the
  // usual mistake is the .pub file next to the key.
  if (!absl::StrContains(*key, "PRIVATE KEY-----")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--private-key-file: ", *key_file,
        " holds no private key (want \"-----BEGIN ... PRIVATE KEY-----\"; not the .pub file)"));
  }
  SecretData data{{"ssh-privatekey", *std::move(key)}};
  if (std::optional<std::string> hosts_file = ctx.args().Value("known-hosts-file");
      hosts_file.has_value()) {
    absl::StatusOr<std::string> hosts = ReadFlagFile(ctx, "known-hosts-file", *hosts_file);
    if (!hosts.ok()) return hosts.status();
    data["known_hosts"] = *std::move(hosts);
  }
  return data;
}

absl::StatusOr<SecretData> GenericData(CommandContext& ctx) {
  std::vector<std::string> literals = ctx.args().Values("from-literal");
  std::vector<std::string> files = ctx.args().Values("from-file");
  if (literals.empty() && files.empty()) {
    return absl::InvalidArgumentError(
        "secret create generic needs at least one --from-literal KEY=VALUE or --from-file "
        "[KEY=]PATH");
  }
  SecretData data;
  auto add = [&data](const std::string& key, std::string value) -> absl::Status {
    if (absl::Status valid = ValidateSecretKey(key); !valid.ok()) return valid;
    if (!data.emplace(key, std::move(value)).second) {
      return absl::InvalidArgumentError(absl::StrCat("Secret key \"", key, "\" given twice"));
    }
    return absl::OkStatus();
  };
  for (const std::string& literal : literals) {
    size_t eq = literal.find('=');
    // The argument may be a value: never echo it.
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError("--from-literal needs KEY=VALUE (no \"=\" found)");
    }
    if (absl::Status s = add(literal.substr(0, eq), literal.substr(eq + 1)); !s.ok()) return s;
  }
  for (const std::string& spec : files) {
    size_t eq = spec.find('=');
    std::string path = eq == std::string::npos ? spec : spec.substr(eq + 1);
    std::string key = eq == std::string::npos ? std::filesystem::path(spec).filename().string()
                                              : spec.substr(0, eq);
    if (path.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--from-file \"", spec, "\" names no file (want [KEY=]PATH)"));
    }
    absl::StatusOr<std::string> text = ReadFlagFile(ctx, "from-file", path);
    if (!text.ok()) return text.status();
    if (absl::Status s = add(key, *std::move(text)); !s.ok()) return s;
  }
  return data;
}

}  // namespace

const std::vector<FlagSpec>& SecretFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"username", '\0', true, "USER", "basic-auth: the user name"},
      {"password-file", '\0', true, "FILE",
       "basic-auth: read the password from FILE (a final newline is dropped)"},
      {"password-stdin", '\0', false, "", "basic-auth: read the password from stdin"},
      {"password", '\0', true, "PASSWORD",
       "refused (shell history, ps): use --password-file or --password-stdin"},
      {"private-key-file", '\0', true, "FILE", "ssh-auth: the SSH private key (ssh-privatekey)"},
      {"known-hosts-file", '\0', true, "FILE", "ssh-auth: known_hosts lines for the Git host"},
      {"from-literal", '\0', true, "KEY=VALUE", "generic: a key and its value; repeatable"},
      {"from-file", '\0', true, "[KEY=]PATH",
       "generic: a key (default: the file's name) from a file; repeatable"},
  };
  return *flags;
}

int RunSecret(CommandContext& ctx) {
  // Refused before anything else: the value is already in the shell's history.
  if (ctx.args().Has("password")) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "--password is not accepted: a password on the command line stays in shell history and "
        "is visible in ps; use --password-file FILE or --password-stdin"));
  }
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    return ctx.UsageError(absl::InvalidArgumentError("secret needs a subcommand: create"));
  }
  if (positionals[0] != "create") {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown secret subcommand \"", positionals[0], "\" (want create)")));
  }
  if (positionals.size() < 2) {
    return ctx.UsageError(
        absl::InvalidArgumentError("secret create needs a TYPE: basic-auth, ssh-auth or generic"));
  }
  const std::string& type = positionals[1];
  if (type != kBasicAuth && type != kSshAuth && type != kGeneric) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown secret type \"", type, "\" (want basic-auth, ssh-auth or generic)")));
  }
  if (positionals.size() < 3) {
    return ctx.UsageError(
        absl::InvalidArgumentError(absl::StrCat("secret create ", type, " needs a NAME")));
  }
  if (positionals.size() > 3) return ctx.UsageError(UnexpectedArgument(positionals[3]));
  const std::string& name = positionals[2];
  for (const TypedFlag& typed : kTypedSecretFlags) {
    if (typed.type != type && ctx.args().Has(typed.flag)) {
      return ctx.UsageError(absl::InvalidArgumentError(
          absl::StrCat("--", typed.flag, " applies to ", typed.type, " secrets only")));
    }
  }

  // Every file is read before connecting: a missing one is a usage error.
  absl::StatusOr<SecretData> data = type == kBasicAuth ? BasicAuthData(ctx)
                                    : type == kSshAuth ? SshAuthData(ctx)
                                                       : GenericData(ctx);
  if (!data.ok()) return ctx.UsageError(data.status());
  const char* k8s_type = type == kBasicAuth ? kBasicAuthType
                         : type == kSshAuth ? kSshAuthType
                                            : kOpaqueType;

  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  v1::ApplyRequest request;
  request.set_yaml(SecretDocument(name, k8s_type, *data));
  absl::StatusOr<v1::ApplyResponse> applied = (*api)->Apply(request);
  if (!applied.ok()) return ctx.ApiError(applied.status());
  ctx.out() << ResourceRef(applied->kind().empty() ? "Secret" : applied->kind(),
                           applied->name().empty() ? name : applied->name())
            << " " << ApplyOutcomeWord(applied->outcome()) << "\n";
  return kExitOk;
}

// ---- token create -----------------------------------------------------------

const std::vector<FlagSpec>& TokenFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"api", '\0', false, "", "an operator API token instead of an agent registration token"},
      {"role",
       '\0',
       true,
       "ROLE",
       "--api: viewer, deployer, cluster-admin or admin",
       {"viewer", "deployer", "cluster-admin", "admin"}},
      {"workspace", '\0', true, "NAME", "--api: limit it to one workspace (default * = all)"},
      {"description", '\0', true, "TEXT", "--api: what the token is for"},
      {"ttl", '\0', true, "DURATION",
       "how long the token is valid, e.g. 30m, 1h (default 1h; --api: never expires)"},
      {"max-uses", '\0', true, "N", "how many registrations it allows (default 0: unlimited)"},
      {"label", '\0', true, "KEY=VALUE", "label for the clusters it registers; repeatable"},
      {"cluster", '\0', true, "NAME", "name of the cluster it registers"},
      {"output", 'o', true, "FORMAT", "list: table (default), json or yaml",
       std::vector<std::string>(std::begin(kOutputFormatNames), std::end(kOutputFormatNames))},
  };
  return *flags;
}

namespace {

std::string UtcTime(int64_t unix_millis) {
  if (unix_millis == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_millis),
                          absl::UTCTimeZone());
}

int TokenList(CommandContext& ctx, FleetApi* api, bool api_tokens, OutputFormat format) {
  if (api_tokens) {
    auto response = api->ListApiTokens(v1::ListApiTokensRequest());
    if (!response.ok()) return ctx.ApiError(response.status());
    return PrintList(ctx, format, response->tokens(), [&](Columns) {
      Table t{
          {"ID", "ROLE", "WORKSPACE", "CREATED", "EXPIRES", "LAST-USED", "REVOKED", "DESCRIPTION"},
          {}};
      for (const auto& k : response->tokens()) {
        t.rows.push_back({k.id(), k.role(), k.workspace(), UtcTime(k.created_unix_millis()),
                          k.expires_unix_millis() == 0 ? "never" : UtcTime(k.expires_unix_millis()),
                          UtcTime(k.last_used_unix_millis()), UtcTime(k.revoked_unix_millis()),
                          k.description()});
      }
      return t;
    });
  }
  auto response = api->ListRegistrationTokens(v1::ListRegistrationTokensRequest());
  if (!response.ok()) return ctx.ApiError(response.status());
  return PrintList(ctx, format, response->tokens(), [&](Columns) {
    Table t{{"ID", "CLUSTER", "USES", "CREATED", "EXPIRES", "REVOKED", "CREATED-BY"}, {}};
    for (const auto& k : response->tokens()) {
      t.rows.push_back({k.id(), k.cluster_name().empty() ? "*" : k.cluster_name(),
                        absl::StrCat(k.uses(), "/",
                                     k.max_uses() == 0 ? "unlimited" : absl::StrCat(k.max_uses())),
                        UtcTime(k.created_unix_millis()), UtcTime(k.expires_unix_millis()),
                        UtcTime(k.revoked_unix_millis()), k.created_by()});
    }
    return t;
  });
}

}  // namespace

int RunToken(CommandContext& ctx) {
  const std::vector<std::string>& positionals = ctx.args().positionals();
  if (positionals.empty()) {
    return ctx.UsageError(
        absl::InvalidArgumentError("token needs a subcommand: create, list or revoke"));
  }
  const std::string& sub = positionals[0];
  const bool api_tokens = ctx.args().Has("api");
  if (sub == "list") {
    if (positionals.size() > 1) return ctx.UsageError(UnexpectedArgument(positionals[1]));
    absl::StatusOr<OutputFormat> format =
        ParseOutputFormat(ctx.args().Value("output").value_or("table"));
    if (!format.ok()) return ctx.UsageError(format.status());
    absl::StatusOr<FleetApi*> api = ctx.Api();
    if (!api.ok()) return ctx.UsageError(api.status());
    return TokenList(ctx, *api, api_tokens, *format);
  }
  if (sub == "revoke") {
    if (positionals.size() < 2) {
      return ctx.UsageError(absl::InvalidArgumentError("token revoke needs a token ID"));
    }
    absl::StatusOr<FleetApi*> api = ctx.Api();
    if (!api.ok()) return ctx.UsageError(api.status());
    int exit_code = kExitOk;
    for (size_t i = 1; i < positionals.size(); ++i) {
      v1::RevokeTokenRequest request;
      request.set_id(positionals[i]);
      auto revoked =
          api_tokens ? (*api)->RevokeApiToken(request) : (*api)->RevokeRegistrationToken(request);
      if (!revoked.ok()) {
        int code = ctx.ApiError(revoked.status(), positionals[i]);
        if (code == kExitUnreachable) return code;
        exit_code = std::max(exit_code, code);
        continue;
      }
      ctx.out() << (api_tokens ? "apitoken/" : "registrationtoken/") << positionals[i]
                << " revoked\n";
    }
    return exit_code;
  }
  if (sub != "create") {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown token subcommand \"", sub, "\" (want create, list or revoke)")));
  }
  if (positionals.size() > 1) return ctx.UsageError(UnexpectedArgument(positionals[1]));
  if (api_tokens) {
    for (const char* flag : {"max-uses", "label", "cluster"}) {
      if (ctx.args().Has(flag)) {
        return ctx.UsageError(absl::InvalidArgumentError(
            absl::StrCat("--", flag, " applies to registration tokens, not --api tokens")));
      }
    }
    v1::CreateApiTokenRequest request;
    std::optional<std::string> role = ctx.args().Value("role");
    if (!role.has_value()) {
      return ctx.UsageError(absl::InvalidArgumentError(
          "token create --api needs --role viewer|deployer|cluster-admin|admin"));
    }
    request.set_role(*role);
    request.set_workspace(ctx.args().Value("workspace").value_or("*"));
    request.set_description(ctx.args().Value("description").value_or(""));
    if (std::optional<std::string> ttl_text = ctx.args().Value("ttl"); ttl_text.has_value()) {
      absl::Duration ttl;
      if (!absl::ParseDuration(*ttl_text, &ttl) || ttl < absl::Seconds(1) ||
          ttl == absl::InfiniteDuration()) {
        return ctx.UsageError(absl::InvalidArgumentError(
            absl::StrCat("invalid --ttl \"", *ttl_text,
                         "\": want a finite duration of at least 1s, e.g. 720h")));
      }
      request.set_ttl_seconds(absl::ToInt64Seconds(ttl));
    }
    absl::StatusOr<FleetApi*> api = ctx.Api();
    if (!api.ok()) return ctx.UsageError(api.status());
    auto token = (*api)->CreateApiToken(request);
    if (!token.ok()) return ctx.ApiError(token.status());
    ctx.out() << token->token() << "\n"
              << "id: " << token->api_token().id() << "\n"
              << "role: " << token->api_token().role() << "\n"
              << "workspace: " << token->api_token().workspace() << "\n"
              << "expires: "
              << (token->api_token().expires_unix_millis() == 0
                      ? "never"
                      : UtcTime(token->api_token().expires_unix_millis()))
              << "\n";
    return kExitOk;
  }
  for (const char* flag : {"role", "workspace", "description"}) {
    if (ctx.args().Has(flag)) {
      return ctx.UsageError(
          absl::InvalidArgumentError(absl::StrCat("--", flag, " needs --api (an API token)")));
    }
  }

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

// ---- agent-manifest ---------------------------------------------------------

const std::vector<FlagSpec>& AgentManifestFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"token", '\0', true, "TOKEN",
       "registration token flt1.<id>.<secret> (`flotilla token create`)"},
      {"manager", '\0', true, "HOST:PORT",
       "the manager as the cluster reaches it; a name in its --server-names"},
      {"name", '\0', true, "NAME", "the cluster name the agent proposes"},
      {"label", '\0', true, "KEY=VALUE", "a cluster label the agent proposes; repeatable"},
      {"ca-pin", '\0', true, "sha256:HEX",
       "trust the manager CA by this pin instead of embedding --ca-file"},
      {"image", '\0', true, "IMAGE",
       absl::StrCat("pinned agent image (default ", DefaultAgentImage(), ")")},
      {"namespace", 'n', true, "NAMESPACE",
       absl::StrCat("the agent's namespace (default ", kAgentDefaultNamespace, ")")},
      {"template", '\0', false, "",
       "placeholders for token, manager and CA (deploy/kubernetes/agent.yaml)"},
  };
  return *flags;
}

namespace {

// The manager CA certificate for agent-manifest: --ca-file, else
// FLOTILLA_CA_FILE. InvalidArgument naming the file and where it came from.
absl::StatusOr<std::string> AgentManifestCa(CommandContext& ctx) {
  std::string path;
  std::string source;
  if (std::optional<std::string> flag = ctx.args().Value(kCaFileFlag); flag.has_value()) {
    path = *flag;
    source = absl::StrCat("--", kCaFileFlag);
  } else if (auto it = ctx.env().find(kCaFileEnv); it != ctx.env().end()) {
    path = it->second;
    source = kCaFileEnv;
  }
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "agent-manifest needs the manager CA: pass --", kCaFileFlag, " PATH (or set ", kCaFileEnv,
        ") to the manager's ca.crt, or --ca-pin sha256:<hex> as `flotilla token create` prints "
        "it"));
  }
  std::istringstream no_stdin;
  absl::StatusOr<std::string> pem = ReadInput(path, no_stdin);
  if (!pem.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA certificate file (from ", source, "): ", pem.status().message()));
  }
  if (absl::StatusOr<common::CertificateInfo> info = common::ParseCertificate(*pem); !info.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CA certificate file ", path, " (from ", source, ") holds no PEM certificate (",
        info.status().message(), "); want the manager's <data-dir>/ca.crt"));
  }
  return pem;
}

}  // namespace

int RunAgentManifest(CommandContext& ctx) {
  if (!ctx.args().positionals().empty()) {
    return ctx.UsageError(UnexpectedArgument(ctx.args().positionals().front()));
  }
  std::string image = ctx.args().Value("image").value_or("");
  std::string namespace_ = ctx.args().Value("namespace").value_or("");
  if (ctx.args().Has("image")) {
    if (absl::Status s = ValidateImageReference(image); !s.ok()) return ctx.UsageError(s);
  }
  if (ctx.args().Has("namespace")) {
    if (absl::Status s = ValidateNamespaceName(namespace_); !s.ok()) return ctx.UsageError(s);
  }

  if (ctx.args().Has("template")) {
    for (const char* flag : {"token", "manager", "name", "label", "ca-pin", kCaFileFlag}) {
      if (ctx.args().Has(flag)) {
        return ctx.UsageError(absl::InvalidArgumentError(
            absl::StrCat("--template prints placeholders and takes no --", flag,
                         " (only --image and --namespace)")));
      }
    }
    ctx.out() << AgentManifestTemplateYaml(image, namespace_);
    return kExitOk;
  }

  AgentManifestOptions options;
  std::optional<std::string> token = ctx.args().Value("token");
  if (!token.has_value()) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "agent-manifest needs --token flt1.<id>.<secret> (create one with `flotilla token "
        "create --max-uses 1`)"));
  }
  options.token = std::string(absl::StripAsciiWhitespace(*token));
  std::optional<std::string> manager = ctx.args().Value("manager");
  if (!manager.has_value()) {
    return ctx.UsageError(absl::InvalidArgumentError(
        "agent-manifest needs --manager HOST:PORT: the manager's address as the downstream "
        "cluster reaches it"));
  }
  options.manager = *manager;
  options.name = ctx.args().Value("name").value_or("");
  absl::StatusOr<std::map<std::string, std::string>> labels =
      ParseLabelAssignments(ctx.args().Values("label"));
  if (!labels.ok()) return ctx.UsageError(labels.status());
  options.labels = *std::move(labels);
  if (std::optional<std::string> pin = ctx.args().Value("ca-pin"); pin.has_value()) {
    if (ctx.args().Has(kCaFileFlag)) {
      return ctx.UsageError(absl::InvalidArgumentError(
          absl::StrCat("give --", kCaFileFlag, " or --ca-pin, not both")));
    }
    options.ca_pin = *pin;
  } else {
    absl::StatusOr<std::string> ca = AgentManifestCa(ctx);
    if (!ca.ok()) return ctx.UsageError(ca.status());
    options.ca_pem = *std::move(ca);
  }
  options.image = image;
  options.namespace_ = namespace_;

  absl::StatusOr<std::string> manifest = AgentManifestYaml(options);
  if (!manifest.ok()) return ctx.UsageError(manifest.status());
  ctx.out() << *manifest;
  return kExitOk;
}

}  // namespace flotilla::cli
