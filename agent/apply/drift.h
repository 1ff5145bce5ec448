// Drift: how a live object differs from what was applied, after
// diff.comparePatches has taken out what the bundle says not to compare
// (FLEET-SEMANTICS.md §5 "Drift"). Shared by every Applier.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/apply/applier.h"
#include "nlohmann/json.hpp"

namespace flotilla::agent {

// Does the patch entry name this object? Kind is a glob and the group of
// apiVersion is compared (as Fleet's normalizer does); an empty name or
// namespace matches any.
bool ComparePatchMatches(const ComparePatch& patch, const ObjectRef& ref);

// True when an "ignore" operation names the object: it is not checked at all
// (Fleet leaves such objects out of its plan). The name is a regular
// expression there; one that does not compile matches nothing.
bool IgnoredByComparePatches(const std::vector<ComparePatch>& patches, const ObjectRef& ref);

// Applies every matching entry to `object`: its jsonPointers are removed and
// its JSON patch operations run. A pointer or operation that does not apply
// (the field is absent) is skipped, as Fleet skips it.
void NormalizeForCompare(const std::vector<ComparePatch>& patches, const ObjectRef& ref,
                         nlohmann::json& object);

// A JSON merge patch (RFC 7386) that would give `live` every field of
// `desired`; an empty object when `live` already has them. Fields only `live`
// has (defaults, status, other managers' fields) are not drift. Lists compare
// whole, numbers by value.
nlohmann::json DriftPatch(const nlohmann::json& live, const nlohmann::json& desired);

}  // namespace flotilla::agent
