// Fleet's GitRepo object (fleet.cattle.io/v1alpha1), read unchanged.
// Unknown fields are errors (like kubectl's strict field validation), so a
// typo never silently deploys something else.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/fleet/bundle_target.h"

namespace flotilla::common {

// GitRepo.spec.bundles[]: an explicit bundle directory (no recursive scan),
// with an optional options file (relative to `base`) instead of fleet.yaml.
struct BundlePath {
  std::string base;
  std::string options;
};

// GitRepo.spec.correctDrift.
struct CorrectDriftSpec {
  bool enabled = false;
  bool force = false;
  bool keep_fail_history = false;
};

struct GitRepoSpec {
  std::string name;
  std::string namespace_ = "fleet-default";
  std::string repo;
  std::string branch;               // default "master" when neither branch nor revision is set
  std::string revision;             // pinned commit, tag or branch; wins over branch
  std::vector<std::string> paths;   // default ["."]; globs allowed (filepath.Match)
  std::vector<BundlePath> bundles;  // when set, replaces the recursive scan of `paths`
  // Default (Fleet): [{name: default, clusterGroup: default}].
  std::vector<BundleTarget> targets;
  absl::Duration polling_interval = absl::Seconds(15);
  bool disable_polling = false;
  bool paused = false;
  bool keep_resources = false;
  bool delete_namespace = false;
  std::string target_namespace;
  std::string service_account;
  int64_t force_sync_generation = 0;
  CorrectDriftSpec correct_drift;
  // Credentials and TLS for the Git server. Secret names refer to the
  // manager's secret store (`flotilla secret create`).
  std::string client_secret_name;
  std::string helm_secret_name;
  std::string helm_secret_name_for_paths;
  std::string helm_repo_url_regex;
  std::string ca_bundle;  // PEM
  bool insecure_skip_tls_verify = false;
  std::string webhook_secret;

  // The branch or revision that Fetch resolves.
  std::string Ref() const { return revision.empty() ? branch : revision; }
};

// Parses one GitRepo document. InvalidArgument errors name
// "<filename>:<line>:<column>: <field>: <problem>".
absl::StatusOr<GitRepoSpec> ParseGitRepo(absl::string_view text, absl::string_view filename);

// Kubernetes object name rules (DNS-1123 subdomain, ≤ 253).
absl::Status ValidateObjectName(absl::string_view kind, absl::string_view name);

}  // namespace flotilla::common
