#include "cli/operate_commands.h"

#include <algorithm>
#include <iterator>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "cli/resource_printer.h"
#include "cli/table.h"
#include "common/audit_chain.h"

namespace flotilla::cli {
namespace {

absl::Status UnexpectedArgument(const std::string& arg) {
  return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
}

std::string UtcTime(int64_t unix_millis) {
  if (unix_millis == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_millis),
                          absl::UTCTimeZone());
}

// "gitrepo" or "cluster" from what the operator typed (plural, any case).
absl::StatusOr<std::string> PausableKind(const std::string& typed) {
  const std::string k = absl::AsciiStrToLower(typed);
  if (k == "gitrepo" || k == "gitrepos") return std::string("gitrepo");
  if (k == "cluster" || k == "clusters") return std::string("cluster");
  return absl::InvalidArgumentError(
      absl::StrCat("cannot pause or resume \"", typed, "\": use gitrepo or cluster"));
}

int SetPaused(CommandContext& ctx, bool paused) {
  const auto& pos = ctx.args().positionals();
  const char* verb = paused ? "pause" : "resume";
  if (pos.size() < 2) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat(verb, " needs a KIND (gitrepo or cluster) and a NAME")));
  }
  auto kind = PausableKind(pos[0]);
  if (!kind.ok()) return ctx.UsageError(kind.status());
  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  int exit_code = kExitOk;
  for (size_t i = 1; i < pos.size(); ++i) {
    v1::SetPausedRequest req;
    req.set_kind(*kind);
    req.set_name(pos[i]);
    req.set_paused(paused);
    auto resp = (*api)->SetPaused(req);
    if (!resp.ok()) {
      int code = ctx.ApiError(resp.status(), pos[i]);
      if (code == kExitUnreachable || code == kExitNotAuthorized) return code;
      exit_code = std::max(exit_code, code);
      continue;
    }
    ctx.out() << *kind << ".fleet.cattle.io/" << pos[i] << " "
              << (resp->changed() ? (paused ? "paused" : "resumed")
                                  : (paused ? "already paused" : "not paused"))
              << "\n";
  }
  return exit_code;
}

}  // namespace

const std::vector<FlagSpec>& PauseFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}
int RunPause(CommandContext& ctx) { return SetPaused(ctx, true); }
int RunResume(CommandContext& ctx) { return SetPaused(ctx, false); }

const std::vector<FlagSpec>& ResyncFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunResync(CommandContext& ctx) {
  const auto& pos = ctx.args().positionals();
  if (pos.size() < 2 || absl::AsciiStrToLower(pos[0]).rfind("gitrepo", 0) != 0) {
    return ctx.UsageError(absl::InvalidArgumentError("resync needs gitrepo and a NAME"));
  }
  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  int exit_code = kExitOk;
  for (size_t i = 1; i < pos.size(); ++i) {
    v1::ResyncRequest req;
    req.set_gitrepo(pos[i]);
    auto resp = (*api)->Resync(req);
    if (!resp.ok()) {
      int code = ctx.ApiError(resp.status(), pos[i]);
      if (code == kExitUnreachable || code == kExitNotAuthorized) return code;
      exit_code = std::max(exit_code, code);
      continue;
    }
    ctx.out() << "gitrepo.fleet.cattle.io/" << pos[i] << " resync requested\n";
  }
  return exit_code;
}

const std::vector<FlagSpec>& ClusterFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunCluster(CommandContext& ctx) {
  const auto& pos = ctx.args().positionals();
  if (pos.empty() || pos[0] != "revoke") {
    return ctx.UsageError(absl::InvalidArgumentError(
        pos.empty() ? "cluster needs a subcommand: revoke"
                    : absl::StrCat("unknown cluster subcommand \"", pos[0], "\" (want revoke)")));
  }
  if (pos.size() < 2) {
    return ctx.UsageError(absl::InvalidArgumentError("cluster revoke needs a cluster NAME or id"));
  }
  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());
  int exit_code = kExitOk;
  for (size_t i = 1; i < pos.size(); ++i) {
    v1::RevokeClusterRequest req;
    req.set_cluster(pos[i]);
    auto resp = (*api)->RevokeCluster(req);
    if (!resp.ok()) {
      int code = ctx.ApiError(resp.status(), pos[i]);
      if (code == kExitUnreachable || code == kExitNotAuthorized) return code;
      exit_code = std::max(exit_code, code);
      continue;
    }
    ctx.out() << "cluster.fleet.cattle.io/" << resp->name() << " revoked\n";
  }
  return exit_code;
}

// ---- describe ----------------------------------------------------------------

namespace {

void PrintSummary(std::ostream& out, const v1::BundleSummary& s) {
  out << "Summary:\n"
      << "  Desired ready: " << s.desired_ready() << "\n"
      << "  Ready: " << s.ready() << "  NotReady: " << s.not_ready()
      << "  WaitApplied: " << s.wait_applied() << "  ErrApplied: " << s.err_applied()
      << "  OutOfSync: " << s.out_of_sync() << "  Modified: " << s.modified()
      << "  Pending: " << s.pending() << "\n";
  if (s.non_ready_resources_size() > 0) {
    out << "Non-ready resources:\n";
    for (const auto& r : s.non_ready_resources()) {
      out << "  " << r.name() << "  " << StateName(r.state());
      if (!r.message().empty()) out << "  " << r.message();
      out << "\n";
      for (const auto& l : r.non_ready()) out << "    not ready: " << l << "\n";
      for (const auto& l : r.modified()) out << "    modified: " << l << "\n";
    }
  }
}

void PrintDeployments(CommandContext& ctx, FleetApi* api,
                      const v1::ListBundleDeploymentsRequest& req) {
  auto bds = api->ListBundleDeployments(req);
  if (!bds.ok()) {
    ctx.out() << "Deployments: (" << bds.status().message() << ")\n";
    return;
  }
  ctx.out() << "Deployments:\n";
  if (bds->bundle_deployments().empty()) {
    ctx.out() << "  <none>\n";
    return;
  }
  Table t{{"BUNDLE", "CLUSTER", "STATE", "DEPLOYMENT", "STAGED", "APPLIED", "MESSAGE"}, {}};
  auto short_id = [](const std::string& id) { return id.empty() ? "-" : id.substr(0, 12); };
  for (const auto& bd : bds->bundle_deployments()) {
    t.rows.push_back({bd.bundle_name(), bd.cluster_name(), StateName(bd.state()),
                      short_id(bd.deployment_id()), short_id(bd.staged_deployment_id()),
                      short_id(bd.applied_deployment_id()), bd.message()});
  }
  std::string table = RenderTable(t);
  // Indented under the heading.
  size_t start = 0;
  while (start < table.size()) {
    size_t end = table.find('\n', start);
    if (end == std::string::npos) end = table.size();
    ctx.out() << "  " << table.substr(start, end - start) << "\n";
    start = end + 1;
  }
}

void PrintRecentAudit(CommandContext& ctx, FleetApi* api, const std::string& resource) {
  v1::ListAuditRequest req;
  req.set_resource(resource);
  req.set_limit(1000);
  std::vector<v1::AuditEvent> events;
  for (int page = 0; page < 100; ++page) {
    auto resp = api->ListAudit(req);
    if (!resp.ok()) {
      // A role that may not read the log still sees the rest.
      ctx.out() << "Events: (" << resp.status().message() << ")\n";
      return;
    }
    for (const auto& e : resp->events()) events.push_back(e);
    if (resp->events().empty() || resp->last_seq() == req.after_seq()) break;
    req.set_after_seq(resp->last_seq());
  }
  ctx.out() << "Events:\n";
  if (events.empty()) ctx.out() << "  <none>\n";
  const size_t first = events.size() > 10 ? events.size() - 10 : 0;
  for (size_t i = first; i < events.size(); ++i) {
    const auto& e = events[i];
    ctx.out() << "  " << UtcTime(e.time_unix_millis()) << "  " << e.actor() << "  " << e.action()
              << "  " << e.outcome();
    if (!e.details().empty()) ctx.out() << "  " << e.details();
    ctx.out() << "\n";
  }
}

}  // namespace

const std::vector<FlagSpec>& DescribeFlags() {
  static const auto* flags = new std::vector<FlagSpec>{};
  return *flags;
}

int RunDescribe(CommandContext& ctx) {
  const auto& pos = ctx.args().positionals();
  if (pos.size() != 2) {
    return ctx.UsageError(absl::InvalidArgumentError(
        pos.size() > 2
            ? absl::StrCat("unexpected argument \"", pos[2], "\"")
            : "describe needs a KIND (gitrepo, bundle, cluster, clustergroup) and a NAME"));
  }
  absl::StatusOr<ResourceKind> kind = ParseResourceKind(pos[0]);
  if (!kind.ok()) return ctx.UsageError(kind.status());
  absl::StatusOr<FleetApi*> api_or = ctx.Api();
  if (!api_or.ok()) return ctx.UsageError(api_or.status());
  FleetApi* api = *api_or;
  v1::GetRequest get;
  get.set_name(pos[1]);
  std::ostream& out = ctx.out();
  switch (*kind) {
    case ResourceKind::kGitRepo: {
      auto g = api->GetGitRepo(get);
      if (!g.ok()) return ctx.ApiError(g.status());
      out << "Name: " << g->name() << "\nWorkspace: " << g->workspace() << "\nRepo: " << g->repo()
          << "\nRef: " << (g->revision().empty() ? g->branch() : g->revision())
          << "\nPaths: " << absl::StrJoin(g->paths(), ", ")
          << "\nPaused: " << (g->paused() ? "true" : "false") << "\nCommit: " << g->commit()
          << "\nApplied commit: " << g->applied_commit()
          << "\nLast fetch: " << UtcTime(g->last_fetch_unix_millis())
          << "\nBundles: " << g->bundle_count()
          << "\nReady bundle deployments: " << g->ready_bundle_deployments() << "/"
          << g->desired_bundle_deployments() << "\nReady clusters: " << g->ready_clusters() << "/"
          << g->desired_ready_clusters()
          << "\nState: " << (g->display_state().empty() ? "Ready" : g->display_state()) << "\n";
      if (!g->error().empty()) out << "Error: " << g->error() << "\n";
      out << "Conditions:\n";
      for (const auto& c : g->conditions()) {
        out << "  " << c.type() << "=" << c.status();
        if (!c.reason().empty()) out << " (" << c.reason() << ")";
        if (!c.message().empty()) out << ": " << c.message();
        out << "\n";
      }
      PrintSummary(out, g->summary());
      v1::ListBundleDeploymentsRequest req;
      req.set_gitrepo_name(g->name());
      PrintDeployments(ctx, api, req);
      PrintRecentAudit(ctx, api, "gitrepo/" + g->name());
      return kExitOk;
    }
    case ResourceKind::kBundle: {
      auto b = api->GetBundle(get);
      if (!b.ok()) return ctx.ApiError(b.status());
      out << "Name: " << b->name() << "\nGitRepo: " << b->gitrepo_name() << "\nPath: " << b->path()
          << "\nCommit: " << b->commit() << "\nPaused: " << (b->paused() ? "true" : "false")
          << "\nReady: " << b->ready() << "/" << b->desired()
          << "\nState: " << StateName(b->state()) << "\n";
      if (!b->error().empty()) out << "Error: " << b->error() << "\n";
      out << "Ready condition: " << (b->ready_message().empty() ? "True" : b->ready_message())
          << "\n";
      if (b->partitions_size() > 0) {
        out << "Rollout: unavailable " << b->unavailable() << "/" << b->max_unavailable()
            << ", unavailable partitions " << b->unavailable_partitions() << "/"
            << b->max_unavailable_partitions() << "\n";
        for (const auto& p : b->partitions()) {
          out << "  " << p.name() << ": " << p.count() << " clusters, unavailable "
              << p.unavailable() << "/" << p.max_unavailable() << "\n";
        }
      }
      PrintSummary(out, b->summary());
      v1::ListBundleDeploymentsRequest req;
      req.set_bundle_name(b->name());
      PrintDeployments(ctx, api, req);
      PrintRecentAudit(ctx, api, "gitrepo/" + b->gitrepo_name());
      return kExitOk;
    }
    case ResourceKind::kCluster: {
      auto c = api->GetCluster(get);
      if (!c.ok()) return ctx.ApiError(c.status());
      std::vector<std::string> labels;
      for (const auto& [k, v] : c->labels()) labels.push_back(absl::StrCat(k, "=", v));
      std::sort(labels.begin(), labels.end());
      out << "Name: " << c->name() << "\nID: " << c->id()
          << "\nLabels: " << absl::StrJoin(labels, ",")
          << "\nState: " << (c->display_state().empty() ? "Ready" : c->display_state())
          << "\nConnected: " << (c->connected() ? "true" : "false")
          << "\nOffline: " << (c->offline() ? "true" : "false")
          << "\nPaused: " << (c->paused() ? "true" : "false")
          << "\nRevoked: " << (c->revoked() ? "true" : "false")
          << "\nLast seen: " << UtcTime(c->last_seen_unix_millis())
          << "\nAgent version: " << c->agent_version()
          << "\nCertificate expires: " << UtcTime(c->cert_not_after_unix_millis())
          << "\nReady bundles: " << c->ready_bundles() << "/" << c->desired_bundles()
          << "\nReady GitRepos: " << c->ready_gitrepos() << "/" << c->desired_ready_gitrepos()
          << "\n";
      if (!c->ready_message().empty()) out << "Ready condition: " << c->ready_message() << "\n";
      PrintSummary(out, c->summary());
      v1::ListBundleDeploymentsRequest req;
      req.set_cluster(c->id());
      PrintDeployments(ctx, api, req);
      PrintRecentAudit(ctx, api, "cluster/" + c->id());
      return kExitOk;
    }
    case ResourceKind::kClusterGroup: {
      auto g = api->GetClusterGroup(get);
      if (!g.ok()) return ctx.ApiError(g.status());
      out << "Name: " << g->name() << "\nSelector: "
          << (g->has_selector() ? (g->selector().empty() ? "{} (every cluster)" : g->selector())
                                : "none (no members)")
          << "\nClusters: " << g->cluster_count()
          << "\nReady clusters: " << g->display_ready_clusters()
          << "\nState: " << (g->display_state().empty() ? "Ready" : g->display_state()) << "\n";
      PrintSummary(out, g->summary());
      PrintRecentAudit(ctx, api, "clustergroup/" + g->name());
      return kExitOk;
    }
    default:
      return ctx.UsageError(absl::InvalidArgumentError(absl::StrCat(
          "cannot describe \"", pos[0], "\": describe gitrepo, bundle, cluster or clustergroup")));
  }
}

// ---- audit --------------------------------------------------------------------

const std::vector<FlagSpec>& AuditFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"resource", '\0', true, "KIND/NAME", "only events about this resource, e.g. gitrepo/apps"},
      {"limit", '\0', true, "N", "at most N events (default: all)"},
      {"output", 'o', true, "FORMAT", "table (default), json or yaml",
       std::vector<std::string>(std::begin(kOutputFormatNames), std::end(kOutputFormatNames))},
  };
  return *flags;
}

int RunAudit(CommandContext& ctx) {
  const auto& pos = ctx.args().positionals();
  const bool verify = !pos.empty() && pos[0] == "verify";
  if (!pos.empty() && !verify) {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown audit subcommand \"", pos[0], "\" (want verify, or none to list)")));
  }
  if (pos.size() > 1) return ctx.UsageError(UnexpectedArgument(pos[1]));
  int limit = 0;
  if (auto text = ctx.args().Value("limit"); text.has_value()) {
    if (!absl::SimpleAtoi(*text, &limit) || limit <= 0) {
      return ctx.UsageError(absl::InvalidArgumentError(
          absl::StrCat("invalid --limit \"", *text, "\": want a whole number > 0")));
    }
  }
  if (verify && (ctx.args().Has("resource") || ctx.args().Has("limit"))) {
    return ctx.UsageError(
        absl::InvalidArgumentError("audit verify checks the whole log: no --resource or --limit"));
  }
  absl::StatusOr<OutputFormat> format =
      ParseOutputFormat(ctx.args().Value("output").value_or("table"));
  if (!format.ok()) return ctx.UsageError(format.status());
  absl::StatusOr<FleetApi*> api = ctx.Api();
  if (!api.ok()) return ctx.UsageError(api.status());

  google::protobuf::RepeatedPtrField<v1::AuditEvent> events;
  v1::ListAuditRequest req;
  req.set_resource(ctx.args().Value("resource").value_or(""));
  req.set_limit(1000);
  for (;;) {
    auto resp = (*api)->ListAudit(req);
    if (!resp.ok()) return ctx.ApiError(resp.status());
    for (const auto& e : resp->events()) *events.Add() = e;
    if (resp->last_seq() <= req.after_seq()) break;
    req.set_after_seq(resp->last_seq());
  }

  if (verify) {
    std::string previous(common::kAuditChainGenesis);
    int unchained = 0;
    int checked = 0;
    int64_t expected_seq = 0;
    for (const auto& e : events) {
      if (expected_seq != 0 && e.seq() != expected_seq) {
        ctx.err() << "error: audit log broken: row " << expected_seq
                  << " is missing (the next row is " << e.seq() << ")\n";
        return kExitServerError;
      }
      expected_seq = e.seq() + 1;
      if (e.hash().empty()) {
        if (checked > 0) {
          ctx.err() << "error: audit log broken at row " << e.seq()
                    << ": it has no hash but follows chained rows\n";
          return kExitServerError;
        }
        ++unchained;
        continue;
      }
      common::AuditChainFields f{e.seq(),      e.time_unix_millis(), e.actor(),  e.action(),
                                 e.resource(), e.outcome(),          e.details()};
      const std::string want = common::AuditChainHash(previous, f);
      if (want != e.hash()) {
        ctx.err() << "error: audit log broken at row " << e.seq() << " (" << e.action() << " "
                  << e.resource() << "): its hash does not match its contents and the row before "
                  << "it; it or an earlier row was changed\n";
        return kExitServerError;
      }
      previous = e.hash();
      ++checked;
    }
    ctx.out() << "audit log intact: " << checked << " rows verified";
    if (unchained > 0) ctx.out() << " (" << unchained << " earlier rows predate the hash chain)";
    ctx.out() << "\n";
    return kExitOk;
  }

  if (limit > 0 && events.size() > limit) {
    events.DeleteSubrange(0, events.size() - limit);  // the most recent N
  }
  if (*format == OutputFormat::kJson || *format == OutputFormat::kYaml) {
    auto text = *format == OutputFormat::kJson ? ItemsJson(events) : ItemsYaml(events);
    if (!text.ok()) return ctx.ApiError(text.status());
    ctx.out() << *text;
    return kExitOk;
  }
  if (events.empty()) {
    ctx.err() << "No audit events found.\n";
    return kExitOk;
  }
  Table t{{"SEQ", "TIME", "ACTOR", "ACTION", "RESOURCE", "OUTCOME", "DETAILS"}, {}};
  for (const auto& e : events) {
    t.rows.push_back({absl::StrCat(e.seq()), UtcTime(e.time_unix_millis()), e.actor(), e.action(),
                      e.resource(), e.outcome(), e.details()});
  }
  ctx.out() << RenderTable(t);
  return kExitOk;
}

}  // namespace flotilla::cli
