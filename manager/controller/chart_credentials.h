// The chart download settings of one bundle: the manager's (mirrors, limits,
// `--chart-mirror`) plus its GitRepo's Helm credentials and TLS settings, as
// Fleet's gitjob hands them to `fleet apply` (FLEET-SEMANTICS.md §3):
//
//   helmSecretNameForPaths  a secret whose `secrets-path.yaml` maps bundle
//                           paths (exact, else filepath.Match globs in
//                           lexical order) to {username, password, caBundle,
//                           insecureSkipVerify}; it wins over helmSecretName
//   helmSecretName          a secret with username, password, cacerts (PEM)
//                           and insecureSkipVerify ("true"/"false")
//   helmRepoURLRegex        credentials go only to repositories matching it
//                           (empty: nowhere, as Fleet)
//   insecureSkipTLSVerify   the GitRepo's, which also covers chart downloads
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/helm/chart_source.h"
#include "manager/store/records.h"

namespace flotilla::manager {

using SecretLookup =
    std::function<absl::StatusOr<std::optional<SecretRecord>>(const std::string& name)>;

// `bundle_path` is the bundle directory relative to the repository root ("."
// for the root), as the scanner reports it. FailedPrecondition when a named
// secret is missing or malformed (the message names the secret and the key,
// never a value); the error becomes the bundle's.
absl::StatusOr<common::helm::ChartSourceOptions> ChartSourceForBundle(
    const common::helm::ChartSourceOptions& manager_options, const common::GitRepoSpec& spec,
    absl::string_view bundle_path, const SecretLookup& get_secret);

}  // namespace flotilla::manager
