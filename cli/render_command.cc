#include "cli/render_command.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "cli/labels.h"
#include "common/fleet/bundle_target.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/fleet/targeting.h"
#include "common/fleet/values_template.h"
#include "common/helm/chart_source.h"
#include "common/render/manifest.h"
#include "common/scan/directory_tree.h"
#include "common/scan/scanner.h"
#include "common/yaml.h"

namespace flotilla::cli {

const std::vector<FlagSpec>& RenderFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"label", 'l', true, "KEY=VALUE", "a label of the cluster to render for (repeatable)"},
      {"cluster-name", '\0', true, "NAME",
       "the cluster's name (clusterName targets; default local)"},
      {"gitrepo-name", '\0', true, "NAME",
       "the GitRepo name bundle names derive from (default test)"},
      {"output", 'o', true, "FORMAT", "yaml (default) or json (a v1 List)"},
      {"kustomize", '\0', true, "PATH",
       "the kustomize or kubectl binary for kustomize.dir bundles"},
      {"chart-mirror", '\0', true, "PREFIX=REPLACEMENT",
       "fetch Helm charts (helm.chart URLs, helm.repo index.yaml and archives) whose URL starts "
       "with PREFIX from REPLACEMENT instead: another URL prefix, or a local directory "
       "(repeatable; the first matching PREFIX wins)"},
  };
  return *flags;
}

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
  common::helm::ChartSourceOptions chart_source;
  for (const std::string& flag : ctx.args().Values("chart-mirror")) {
    auto mirror = common::helm::ParseChartMirror(flag);
    if (!mirror.ok()) return ctx.UsageError(mirror.status());
    chart_source.mirrors.push_back(*mirror);
  }

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
  if (auto st = common::helm::AddRemoteChartToBundle(input.files, input.options, chart_source);
      !st.ok()) {
    ctx.err() << "error: bundle " << bundle.name << ": " << st.message() << "\n";
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
