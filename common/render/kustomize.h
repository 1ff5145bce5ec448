// Kustomize rendering (fleet.yaml `kustomize.dir`) by running an external
// tool: a standalone `kustomize` (`kustomize build DIR`) or the kustomize
// built into `kubectl` (`kubectl kustomize DIR`).
//
// What Fleet does (rancher/fleet internal/bundlereader/style.go,
// internal/helmdeployer/kustomize/kustomize.go, postrender.go): a bundle is a
// kustomize bundle when `<kustomize.dir>/kustomization.yaml` is one of its
// files (kustomize.dir "" means the bundle root; a leading "/" is ignored).
// Fleet then builds that directory with the kustomize Go API over an
// in-memory copy of the bundle's files, with load restrictions "root only"
// and plugins disabled, and deploys what comes out; yaml.overlays and
// *_patch files do not apply. Any Helm output is passed in as
// `<dir>/fleet-manifests.yaml`, prepended to the kustomization's resources
// (for plain YAML bundles there is none).
//
// Here the files are written to a fresh private directory (mode 0700) and the
// tool runs there with its defaults, which are the same restrictions (root
// only, no plugins, no Helm) in every version, from kubectl 1.20's kustomize
// v2.0.3 to kustomize v5. Differences from Fleet:
//  - kustomization.yml and Kustomization count too (the tool accepts them;
//    Fleet would render such a directory as plain YAML);
//  - the tool sorts objects in kustomize's "legacy" kind order, while Fleet's
//    kustomize keeps resource order (Helm installs by kind order either way);
//  - kustomize v2.0.3 (Debian's kubectl) needs `bases:` for directories;
//    `resources:` may only name files there.
//
// Remote content is never fetched: before the tool runs, every kustomization
// reachable from kustomize.dir is checked, and an entry of resources, bases,
// components, generators, transformers or validators that is a URL (https://,
// ssh://, file://, git::, gh:, github.com/..., user@host:...) is refused, as is
// an http(s) URL in a file field (patches, generators' files, crds, ...), and
// a directory entry that is absolute or climbs out of the bundle (the tool
// would load such a base from the host's file system). As a second line, the
// tool's environment points HTTP(S) proxies at a closed local port and
// allows git no transport.
//
// Thread-safe; blocks for up to `timeout` (call it from an executor, never
// from a gRPC reaction).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace flotilla::common {

struct KustomizeOptions {
  // The tool. "" searches `search_path` for `kustomize`, then `kubectl`. A name
  // without "/" is searched for too; a relative path is taken from the current
  // directory. A tool whose file name starts with "kubectl" runs as
  // `kubectl kustomize DIR`, anything else as `kustomize build DIR`.
  std::string binary;
  // Colon-separated directories to search (only absolute ones are used); also
  // the tool's PATH. nullopt = this process's $PATH.
  std::optional<std::string> search_path;
  absl::Duration timeout = absl::Minutes(1);
  size_t max_output_bytes = 64 << 20;
  // Where the private directory is created; "" = $TMPDIR, else /tmp.
  std::string work_root;
};

// Whether `dir` (kustomize.dir; "", "." and "/" mean the bundle root) holds
// kustomization.yaml, kustomization.yml or Kustomization among `files`
// (bundle-relative path -> content). False for a dir that is not a clean
// bundle-relative path (one with ".." components).
bool HasKustomization(const std::map<std::string, std::string>& files, const std::string& dir);

// The kustomization file the tool reads at `dir` (kustomize.dir as above), as
// its key in `files`: kustomization.yaml, else kustomization.yml, else
// Kustomization. nullopt when HasKustomization is false.
std::optional<std::string> KustomizationFile(const std::map<std::string, std::string>& files,
                                             const std::string& dir);

// Builds the kustomization at `dir` from `files` and returns the tool's
// output: the objects as one multi-document YAML stream (namespaces not yet
// applied). Always removes its private directory. Errors:
//  - InvalidArgument: a file path that is absolute or has ".." components, a
//    dir without a kustomization, a remote or escaping reference (naming the
//    kustomization file and the entry), a kustomization that is not valid YAML
//    (file:line:column), or the tool failing (its stderr, cleaned up and
//    capped, with bundle-relative paths);
//  - FailedPrecondition: no tool found, or the tool cannot be run;
//  - DeadlineExceeded: the tool ran past `timeout` (its process group is
//    killed);
//  - ResourceExhausted: the output exceeded `max_output_bytes` (killed too);
//  - Unavailable: the private directory could not be written (disk full), or
//    the tool died from a signal.
absl::StatusOr<std::string> RunKustomize(const std::map<std::string, std::string>& files,
                                         const std::string& dir,
                                         const KustomizeOptions& options = {});

}  // namespace flotilla::common
