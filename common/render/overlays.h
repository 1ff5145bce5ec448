// Fleet's plain-YAML overlays (`yaml.overlays` in fleet.yaml), as
// rancher/fleet internal/helmdeployer/render/patch/patch.go applies them to a
// bundle's files before they are rendered:
//   - for each overlay name in order, every file below `overlays/<name>/`
//     applies to the bundle file at the same relative path F;
//   - a file whose base name contains "_patch." (first occurrence removed:
//     `sub/web_patch.yaml` -> `sub/web.yaml`, `x_patch.json` -> `x.json`)
//     patches F (see patch.h for which patch type applies); F must exist;
//   - any other file replaces F, or adds it; an empty file empties F, so it
//     renders nothing;
//   - an overlay name without an `overlays/<name>/` directory changes
//     nothing, silently, as in Fleet;
//   - afterwards every file under `overlays/` is dropped.
//
// Where Fleet is undefined or loses data, this is deterministic instead:
//   - within one overlay, replacements apply first, then patches, each in
//     path order (Fleet walks a Go map: random order);
//   - F with several documents: each patch document applies to the
//     documents it names by kind, apiVersion, metadata.name and
//     metadata.namespace (those it sets), else to the first document, and the
//     other documents are kept (Fleet patches the first document and drops
//     the rest);
//   - a patch file with several documents applies each in turn (Fleet uses
//     the first only); an empty patch file changes nothing;
//   - patching an F with no document is an error (Fleet patches `{}`).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/yaml.h"

namespace flotilla::common {

// Bundle-relative path -> content.
using BundleFiles = std::map<std::string, std::string>;

// The overlay names of merged deployment options (`yaml.overlays`), in
// order. InvalidArgument when yaml or yaml.overlays has the wrong shape.
absl::StatusOr<std::vector<std::string>> OverlayNames(const Json& options);

// The file a patch file patches ("dir/web_patch.yaml" -> "dir/web.yaml"), or
// nullopt when the base name has no "_patch.".
std::optional<std::string> PatchTarget(absl::string_view path);

// Applies `patch_content` (the file at `patch_path`) to `target_content` (the
// file at `target_path`) and returns the new content of the target (YAML, one
// document per object). Errors are InvalidArgument, start with `patch_path`
// and say what is wrong: malformed YAML (with line:column), no document
// matching the patch, or the patch error (for a JSON patch, the op index).
absl::StatusOr<std::string> PatchFile(const std::string& target_path,
                                      const std::string& target_content,
                                      const std::string& patch_path,
                                      const std::string& patch_content);

// Applies the overlays in order to `files` and returns the result without
// the overlays/ directory.
absl::StatusOr<BundleFiles> ApplyOverlays(const BundleFiles& files,
                                          const std::vector<std::string>& overlays);

}  // namespace flotilla::common
