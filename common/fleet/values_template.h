// Per-cluster Helm values, as Fleet prepares them when it targets a bundle
// (internal/cmd/controller/target/builder.go preprocessHelmValues):
//   1. a string value "global.fleet.clusterLabels.X" becomes that cluster
//      label's value ("" when the cluster lacks it), in maps nested up to 50
//      levels (and maps inside lists);
//   2. unless helm.disablePreProcess, the values (as YAML) are rendered as a
//      Go template with `${ }` delimiters, missingkey=error and Sprig without
//      env, expandenv and getHostByName, over .ClusterName,
//      .ClusterNamespace, .ClusterLabels, .ClusterAnnotations and
//      .ClusterValues (Cluster.spec.templateValues);
//   3. each helm.templateValues entry is rendered the same way, read as YAML,
//      and overwrites the value of that key.
#pragma once

#include "absl/status/status.h"
#include "common/fleet/bundle_target.h"
#include "common/yaml.h"

namespace flotilla::common {

// Rewrites options.helm.values for `cluster`. InvalidArgument naming the
// template problem (unknown function, missing key, bad YAML after
// rendering); options are unchanged then.
absl::Status PreprocessHelmValues(Json& options, const ClusterView& cluster);

}  // namespace flotilla::common
