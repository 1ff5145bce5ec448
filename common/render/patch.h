// Patching one Kubernetes object the way Fleet's overlays do
// (rancher/wrangler pkg/patch/apply.go and style.go, called from
// rancher/fleet internal/helmdeployer/render/patch/patch.go):
//   - a patch that is a list is a JSON Patch (RFC 6902);
//   - otherwise, when the object's apiVersion/kind is a built-in Kubernetes
//     kind (registered in client-go's scheme) other than
//     CustomResourceDefinition, a strategic merge patch;
//   - otherwise (custom resources, CRDs, documents without apiVersion or
//     kind) a JSON Merge Patch (RFC 7386).
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/yaml.h"

namespace flotilla::common {

enum class PatchType { kJsonPatch, kMergePatch, kStrategicMergePatch };

// "JSON patch", "merge patch", "strategic merge patch".
absl::string_view PatchTypeName(PatchType type);

// The patch type Fleet picks for `patch` applied to `original`.
PatchType DetectPatchType(const Json& original, const Json& patch);

// RFC 6902, with the extension Fleet's library (evanphx/json-patch) has on by
// default: a negative array index counts from the end ("/spec/ports/-1" is
// the last port). Errors are InvalidArgument and name the failing operation
// by its 0-based position: "op 2 (remove /spec/x): key 'x' not found".
absl::StatusOr<Json> ApplyJsonPatch(const Json& original, const Json& operations);

// RFC 7386: maps merge recursively, null deletes, anything else replaces.
Json ApplyMergePatch(const Json& original, const Json& patch);

// Applies `patch` with the type DetectPatchType picks. A map patch needs a
// map to patch. Errors are InvalidArgument and start with the patch type.
absl::StatusOr<Json> ApplyPatch(const Json& original, const Json& patch);

}  // namespace flotilla::common
