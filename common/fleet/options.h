// Deployment options: Fleet's merge of a bundle's root options with a target
// customization (options/calculate.go Merge), and the deploymentID.
#pragma once

#include <string>

#include "common/yaml.h"

namespace flotilla::common {

// Root options merged with one customization, by Fleet's rules:
// non-empty strings override; helm.values deep-merged; helm.templateValues
// keys overwritten; helm.valuesFrom and diff.comparePatches unioned;
// yaml.overlays appended; correctDrift replaced; timeoutSeconds > 0 overrides
// and < 0 resets; booleans ORed (a customization cannot switch one off).
// deleteNamespace and ignore are never taken from a customization.
Json MergeOptions(const Json& base, const Json& custom);

// Deep merge of two values as Helm merges values: maps merge key by key,
// anything else in `over` replaces.
Json DeepMerge(const Json& base, const Json& over);

// sha256 over the canonical JSON of the options without diff and
// correctDrift (those never cause a redeploy): the second half of a
// deploymentID.
std::string OptionsHash(const Json& options);

// "s-<content hash>:<options hash>", Fleet's manifestID:optionsHash form.
std::string DeploymentId(const std::string& content_hash, const std::string& options_hash);

// The namespace objects without one land in: namespace > defaultNamespace >
// "default" (Fleet internal/namespaces).
std::string EffectiveDefaultNamespace(const Json& options);

}  // namespace flotilla::common
