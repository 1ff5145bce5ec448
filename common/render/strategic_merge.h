// Kubernetes strategic merge patch (the apply side of
// k8s.io/apimachinery/pkg/util/strategicpatch/patch.go, as the API server and
// Fleet's overlays run it: StrategicMergeMapPatchUsingLookupPatchMeta with
// MergeParallelList and IgnoreUnmatchedNulls).
//
// How a field merges comes from the patchStrategy/patchMergeKey struct tags of
// the Go types in k8s.io/api and k8s.io/apimachinery (meta/v1). Covered: every
// tagged list reachable from the objects people deploy: ObjectMeta
// (finalizers, ownerReferences by uid), pod templates in Pod, PodTemplate,
// ReplicationController, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job
// and CronJob (containers, initContainers and ephemeralContainers by name,
// their ports by containerPort, env by name, volumeMounts by mountPath,
// volumeDevices by devicePath; volumes, imagePullSecrets, schedulingGates,
// resourceClaims by name; hostAliases by ip; topologySpreadConstraints by
// topologyKey), Service ports by port, ServiceAccount secrets by name, Node
// podCIDRs, webhook configurations and admission policies (webhooks,
// matchConditions, variables by name), CSINode drivers by name,
// PodDisruptionBudget (policy/v1) spec.selector replaced whole, and the
// status condition lists (by type). Untagged lists (tolerations, args,
// command, rules, ...) are replaced whole, maps merge key by key, null
// deletes.
//
// Directives: `$patch: replace|delete` on maps and list items, `$patch: merge`
// (an error, as in Kubernetes), `$retainKeys`, `$deleteFromPrimitiveList/<f>`
// and `$setElementOrder/<f>`, with Kubernetes' ordering rules for merged lists
// (items named by the patch first in patch order, interleaved with the
// original's other items in their original order).
//
// Difference: Kubernetes fails with "unable to find api field" when a patch
// merges a map or list into a field its Go type does not have; here such a
// field merges as an untagged one (maps merge, lists are replaced), since the
// key table covers the tagged fields, not every field of every type.
#pragma once

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/yaml.h"

namespace flotilla::common {

// Whether apiVersion/kind is registered in client-go's Kubernetes scheme
// (k8s.io/client-go/kubernetes/scheme, built from k8s.io/api): the kinds Fleet
// patches with a strategic merge patch. "<Kind>List" counts when <Kind> does.
bool IsBuiltinKind(absl::string_view api_version, absl::string_view kind);

// Applies `patch` (a map) to `original` (a map) with strategic merge
// semantics; field metadata is chosen by the original's apiVersion and kind
// (a kind without tagged fields merges like an untagged object). Errors are
// InvalidArgument naming the field path ("spec.template.spec.containers")
// and what is wrong (missing merge key, unknown directive, mixed list types).
absl::StatusOr<Json> StrategicMergePatch(const Json& original, const Json& patch);

}  // namespace flotilla::common
