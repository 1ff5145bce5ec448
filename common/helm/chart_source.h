// Charts that are not in the bundle: an `http(s)://` URL to a packed chart, or
// a chart name in an HTTP chart repository (`helm.repo`, its `index.yaml`,
// a semver constraint in `helm.version`), as Fleet's bundlereader downloads
// them when a bundle is built (FLEET-SEMANTICS.md §1, §2).
//
// A mirror map rewrites URL prefixes before anything is fetched: to another
// URL (a local chart server) or to a local directory (an air-gapped fleet,
// tests). The fetched archive is added to the bundle's files under
// `.chart/<sha256(chart:repo:version)>/`, where common/render/manifest.cc
// (`RenderBundle`) finds it as an ordinary packed chart.
//
// HTTP goes through libcurl (privately, in chart_source.cc only). Calls block
// for at most the options' timeout per request; the functions are stateless
// and may run on several threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/yaml.h"

namespace flotilla::common::helm {

// One `--chart-mirror PREFIX=REPLACEMENT` entry. A URL starting with `prefix`
// has it replaced by `replacement`: a URL prefix (it contains "://"), or else
// a local directory the rest of the URL is read from as a relative path.
struct ChartMirror {
  std::string prefix;
  std::string replacement;
};

struct ChartSourceOptions {
  // Tried in order; the first matching prefix wins.
  std::vector<ChartMirror> mirrors;
  // Per request (index.yaml and the archive each get this much).
  absl::Duration timeout = absl::Seconds(60);
  // Largest index.yaml or archive accepted, in bytes (as the archive reader's
  // uncompressed limit, common/helm/archive.h).
  int64_t max_bytes = int64_t{32} << 20;
  // HTTP Basic credentials (a GitRepo's helmSecretName or
  // helmSecretNameForPaths). They are sent only to a chart whose repository
  // URL (helm.repo, else the helm.chart URL) matches
  // `credentials_url_regex`, anchored at the start as Fleet's
  // helmRepoURLRegex; an empty regex sends them nowhere, as Fleet. An archive
  // URL from index.yaml gets them only on the repository's own scheme, host
  // and port (Helm's default, no --pass-credentials), and libcurl does not
  // resend them to another host after a redirect. A mirror receives what
  // the original URL would have.
  std::string username;
  std::string password;
  std::string credentials_url_regex;
  // PEM CA certificates trusted for https, instead of the system's; empty =
  // the system's.
  std::string ca_bundle_pem;
  // Accept any server certificate (helm secret's insecureSkipVerify or the
  // GitRepo's insecureSkipTLSVerify).
  bool insecure_skip_tls_verify = false;
};

struct ResolvedChart {
  // Where the archive came from: the chart URL, or the one index.yaml named
  // (before mirroring).
  std::string url;
  // What it was actually read from (a URL or a local file), after mirroring.
  std::string fetched_from;
  // sha256 hex of "<helm.chart>:<helm.repo>:<helm.version>", Fleet's
  // `.chart/<key>/` directory.
  std::string key;
  // The archive's file name: the URL's last path segment (with ".tgz"
  // appended when it has neither .tgz nor .tar.gz).
  std::string file_name;
  // The packed chart's bytes, not yet validated (helm::ReadChartArchive does
  // that when the bundle is rendered).
  std::string archive;
};

// Whether the helm options ask for a chart outside the bundle: helm.repo is
// set, or helm.chart has a URL scheme ("https://", "oci://", ...).
bool IsRemoteChart(const Json& helm_options);

// Fetches the chart the helm options (the `helm` section of merged bundle
// options) name: helm.chart as an http(s) URL to a .tgz, or helm.repo +
// helm.chart (a name) + helm.version (a constraint; empty = the newest
// release) through `<repo>/index.yaml`, as Helm's repo.IndexFile.Get: an
// exact version string first, else the highest version the constraint allows.
// A URL in the index may be relative to the repository.
//
// Errors name the URL (or file) and the problem:
//   InvalidArgument     no helm.chart; a bad constraint; an index.yaml that
//                       does not parse or has no such entries; a ".." in the
//                       part of a URL mapped to a local directory
//   NotFound            HTTP 404 or a missing mirror file; no chart of that
//                       name in the index; no version matching the constraint
//   PermissionDenied    HTTP 401 or 403
//   DeadlineExceeded    no complete answer within the timeout
//   ResourceExhausted   an index or archive over max_bytes
//   Unavailable         connection failures, HTTP 5xx and other statuses
//   Unimplemented       oci:// charts, schemes other than http(s)
// When credentials are configured but the regex is empty, an error says that
// they were not sent and how to send them.
absl::StatusOr<ResolvedChart> FetchChart(const Json& helm_options,
                                         const ChartSourceOptions& options);

// Whether the credentials in `options` go with a request for the chart whose
// repository is `repo` (or, without one, the chart URL `chart`); see
// ChartSourceOptions. InvalidArgument for a regex that does not compile.
absl::StatusOr<bool> SendCredentialsTo(const ChartSourceOptions& options, absl::string_view repo,
                                       absl::string_view chart);

// Parses a `PREFIX=REPLACEMENT` flag value (split at the first '='; both
// sides non-empty), InvalidArgument otherwise.
absl::StatusOr<ChartMirror> ParseChartMirror(absl::string_view flag);

// For a bundle whose merged `options` name a remote chart (IsRemoteChart on
// options.helm): fetches it, adds it to `files` as
// `.chart/<key>/<file_name>` and rewrites options.helm.chart to that path
// (clearing helm.repo and helm.version), so RenderBundle renders it as a
// packed chart in the bundle. Anything else is left untouched. Errors are
// FetchChart's, prefixed with "helm chart".
absl::Status AddRemoteChartToBundle(std::map<std::string, std::string>& files, Json& options,
                                    const ChartSourceOptions& source);

// Fleet's dependency update (internal/helmupdater: `helm dependency update`
// when a Chart.yaml dependency is missing from charts/), for the bundle's
// chart directory (options.helm.chart, else the root; packed charts and
// `helm.disableDependencyUpdate: true` are left alone). Each missing
// dependency is taken from its `repository`:
//   http(s)://...   a chart repository: index.yaml, `version` as a
//                   constraint (FetchChart), saved as
//                   `<chart>/charts/<archive>.tgz`
//   file://PATH     a chart directory in the bundle, relative to the chart,
//                   copied to `<chart>/charts/<name>/`
// Errors name the dependency: InvalidArgument for a dependency without a
// repository, a Helm repository alias ("@name", "alias:name") that only a
// local Helm configuration knows, or a file:// path outside the bundle or
// without a Chart.yaml; FetchChart's errors otherwise. NeedsDependencyUpdate
// says whether there is anything to fetch (so credentials are looked up only
// then).
bool NeedsDependencyUpdate(const std::map<std::string, std::string>& files, const Json& options);
absl::Status AddMissingDependenciesToBundle(std::map<std::string, std::string>& files,
                                            const Json& options, const ChartSourceOptions& source);

}  // namespace flotilla::common::helm
