#include "cli/render_command.h"

#include <map>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/documents.h"
#include "cli/labels.h"
#include "common/fleet/bundle_target.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/fleet/targeting.h"
#include "common/fleet/values_template.h"
#include "common/fs.h"
#include "common/helm/chart_source.h"
#include "common/render/manifest.h"
#include "common/scan/directory_tree.h"
#include "common/scan/scanner.h"
#include "common/status_macros.h"
#include "common/yaml.h"

namespace flotilla::cli {

const std::vector<FlagSpec>& RenderFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"label", 'l', true, "KEY=VALUE", "a label of the cluster to render for (repeatable)"},
      {"cluster-name", '\0', true, "NAME",
       "the cluster's name (clusterName targets; default local)"},
      {"gitrepo-name", '\0', true, "NAME",
       "the GitRepo name bundle names derive from (default test)"},
      {"output", 'o', true, "FORMAT", "yaml (default) or json (a v1 List)", {"yaml", "json"}},
      {"kustomize", '\0', true, "PATH",
       "the kustomize or kubectl binary for kustomize.dir bundles"},
      {"chart-mirror", '\0', true, "PREFIX=REPLACEMENT",
       "fetch Helm charts (helm.chart URLs, helm.repo index.yaml and archives) whose URL starts "
       "with PREFIX from REPLACEMENT instead: another URL prefix, or a local directory "
       "(repeatable; the first matching PREFIX wins)"},
      {"helm-username", '\0', true, "USER",
       "HTTP Basic user for chart repositories matching --helm-repo-url-regex"},
      {"helm-password-file", '\0', true, "FILE",
       "the password for --helm-username, read from FILE (- for stdin)"},
      {"helm-repo-url-regex", '\0', true, "REGEX",
       "send the Helm credentials only to chart URLs or repositories matching REGEX, anchored "
       "at the start (the GitRepo's helmRepoURLRegex)"},
      {"helm-ca-file", '\0', true, "FILE",
       "PEM CA certificates to trust for https chart downloads instead of the system's"},
      {"helm-insecure-skip-tls", '\0', false, "", "accept any TLS certificate from chart servers"},
  };
  return *flags;
}

namespace {

// --chart-mirror and the --helm-* flags: what the manager takes from
// --chart-mirror and a GitRepo's helm secret.
absl::StatusOr<common::helm::ChartSourceOptions> ChartSourceFromFlags(CommandContext& ctx) {
  common::helm::ChartSourceOptions source;
  for (const std::string& flag : ctx.args().Values("chart-mirror")) {
    ASSIGN_OR_RETURN(common::helm::ChartMirror mirror, common::helm::ParseChartMirror(flag));
    source.mirrors.push_back(std::move(mirror));
  }
  const std::optional<std::string> username = ctx.args().Value("helm-username");
  const std::optional<std::string> password_file = ctx.args().Value("helm-password-file");
  const std::optional<std::string> regex = ctx.args().Value("helm-repo-url-regex");
  if (password_file && !username) {
    return absl::InvalidArgumentError("--helm-password-file needs --helm-username");
  }
  if (username) {
    if (!regex) {
      return absl::InvalidArgumentError(
          "--helm-username needs --helm-repo-url-regex: credentials are sent only to chart "
          "repositories matching it");
    }
    source.username = *username;
    if (password_file) {
      absl::StatusOr<std::string> password = ReadInput(*password_file, ctx.in());
      if (!password.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--helm-password-file: ", password.status().message()));
      }
      source.password = std::string(absl::StripTrailingAsciiWhitespace(*password));
    }
  }
  if (regex) {
    source.credentials_url_regex = *regex;
    // Checked now rather than at the first download.
    RETURN_IF_ERROR(common::helm::SendCredentialsTo(source, "", "").status());
  }
  if (const std::optional<std::string> ca_file = ctx.args().Value("helm-ca-file")) {
    absl::StatusOr<std::string> pem = common::ReadFile(*ca_file);
    if (!pem.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--helm-ca-file: ", pem.status().message()));
    }
    if (!absl::StrContains(*pem, "-----BEGIN CERTIFICATE-----")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--helm-ca-file: ", *ca_file, " holds no PEM certificate"));
    }
    source.ca_bundle_pem = *std::move(pem);
  }
  source.insecure_skip_tls_verify = ctx.args().Has("helm-insecure-skip-tls");
  return source;
}

}  // namespace

int RunRender(CommandContext& ctx) {
  const auto& positionals = ctx.args().positionals();
  if (positionals.size() != 1) {
    return ctx.UsageError(absl::InvalidArgumentError(
        positionals.empty() ? "render needs a bundle DIR" : "render takes one bundle DIR"));
  }
  const std::string format = ctx.args().Value("output").value_or("yaml");
  if (format != "yaml" && format != "json") {
    return ctx.UsageError(absl::InvalidArgumentError(
        absl::StrCat("unknown output format \"", format, "\" (want yaml or json)")));
  }
  auto labels = ParseLabelAssignments(ctx.args().Values("label"));
  if (!labels.ok()) return ctx.UsageError(labels.status());
  auto chart_source = ChartSourceFromFlags(ctx);
  if (!chart_source.ok()) return ctx.UsageError(chart_source.status());

  auto tree = common::DirectoryTree::Open(positionals[0]);
  if (!tree.ok()) return ctx.UsageError(tree.status());

  // The directory is one bundle, as `fleet test` reads it; every cluster is
  // allowed by the (absent) GitRepo, so only the bundle's own targeting
  // (overrideTargets, targetCustomizations) decides.
  common::GitRepoSpec gitrepo;
  gitrepo.name = ctx.args().Value("gitrepo-name").value_or("test");
  gitrepo.repo = positionals[0];
  gitrepo.bundles.push_back(common::BundlePath{".", ""});
  common::BundleTarget everyone;
  everyone.name = "all";
  everyone.cluster_selector = common::LabelSelector{};
  gitrepo.targets.push_back(everyone);

  auto scanned = common::ScanCommit(**tree, gitrepo);
  if (!scanned.ok()) {
    ctx.err() << "error: " << scanned.status().message() << "\n";
    return kExitServerError;
  }
  if (scanned->size() != 1) {
    ctx.err() << "error: " << positionals[0] << " holds " << scanned->size()
              << " bundles; render one bundle directory at a time\n";
    return kExitServerError;
  }
  const common::ScannedBundle& bundle = (*scanned)[0];
  if (!bundle.error.empty()) {
    ctx.err() << "error: " << bundle.error << "\n";
    return kExitServerError;
  }

  common::ClusterView cluster;
  cluster.name = ctx.args().Value("cluster-name").value_or("local");
  cluster.labels = *labels;
  common::TargetDecision decision = common::DecideTarget(
      gitrepo.targets, common::WithGitRepoSettings(bundle.spec, gitrepo), cluster);
  if (!decision.deploy) {
    // Not an error: this cluster gets nothing, and the reason says why.
    ctx.err() << "bundle " << bundle.name << " is not deployed to this cluster: " << decision.reason
              << "\n";
    return kExitOk;
  }

  if (auto st = common::PreprocessHelmValues(decision.options, cluster); !st.ok()) {
    ctx.err() << "error: bundle " << bundle.name << ": " << st.message() << "\n";
    return kExitServerError;
  }
  common::RenderInput input;
  input.bundle_name = bundle.name;
  input.files = bundle.files;
  input.options = decision.options;
  // A chart from a URL or a chart repository is downloaded into the bundle
  // (.chart/<sha>/), as Fleet does when it builds the bundle.
  // So is every dependency of a chart directory missing from its charts/
  // (Fleet's `helm dependency update`).
  absl::Status fetched =
      common::helm::AddRemoteChartToBundle(input.files, input.options, *chart_source);
  if (fetched.ok()) {
    fetched =
        common::helm::AddMissingDependenciesToBundle(input.files, input.options, *chart_source);
  }
  if (!fetched.ok()) {
    ctx.err() << "error: bundle " << bundle.name << ": " << fetched.message() << "\n";
    return kExitServerError;
  }
  if (auto tool = ctx.args().Value("kustomize")) input.kustomize.binary = *tool;
  auto rendered = common::RenderBundle(input);
  if (!rendered.ok()) {
    ctx.err() << "error: bundle " << bundle.name << ": " << rendered.status().message() << "\n";
    return kExitServerError;
  }
  if (format == "json") {
    common::Json list = {{"apiVersion", "v1"}, {"kind", "List"}, {"items", rendered->objects}};
    ctx.out() << list.dump(2) << "\n";
  } else {
    ctx.out() << rendered->yaml;
  }
  return kExitOk;
}

}  // namespace flotilla::cli
