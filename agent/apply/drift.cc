#include "agent/apply/drift.h"

#include <fnmatch.h>

#include "re2/re2.h"

namespace flotilla::agent {
namespace {

using nlohmann::json;

std::string GroupOf(const std::string& api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

bool Glob(const std::string& pattern, const std::string& value) {
  return pattern.empty() || fnmatch(pattern.c_str(), value.c_str(), 0) == 0;
}

bool SameKind(const ComparePatch& patch, const ObjectRef& ref) {
  return Glob(GroupOf(patch.api_version), GroupOf(ref.api_version)) && Glob(patch.kind, ref.kind);
}

bool Equal(const json& live, const json& desired) {
  // Numbers compare by value (1 and 1.0 are one quantity in JSON).
  if (desired.is_number() && live.is_number()) return desired.get<double>() == live.get<double>();
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!DriftPatch(live[i], desired[i]).empty()) return false;
    }
    return true;
  }
  if (desired.is_object()) return live.is_object() && DriftPatch(live, desired).empty();
  return live == desired;
}

}  // namespace

bool ComparePatchMatches(const ComparePatch& patch, const ObjectRef& ref) {
  return SameKind(patch, ref) && (patch.name.empty() || patch.name == ref.name) &&
         (patch.namespace_.empty() || patch.namespace_ == ref.namespace_);
}

bool IgnoredByComparePatches(const std::vector<ComparePatch>& patches, const ObjectRef& ref) {
  for (const ComparePatch& p : patches) {
    if (!p.ignore || !SameKind(p, ref)) continue;
    if (!p.namespace_.empty() && p.namespace_ != ref.namespace_) continue;
    if (p.name.empty()) return true;
    RE2 re(p.name, RE2::Quiet);
    if (re.ok() && RE2::PartialMatch(ref.name, re)) return true;
  }
  return false;
}

void NormalizeForCompare(const std::vector<ComparePatch>& patches, const ObjectRef& ref,
                         json& object) {
  for (const ComparePatch& p : patches) {
    if (!ComparePatchMatches(p, ref)) continue;
    for (const std::string& pointer : p.json_pointers) {
      try {
        json::json_pointer ptr(pointer);
        if (!object.contains(ptr)) continue;
        object = object.patch(json::array({{{"op", "remove"}, {"path", pointer}}}));
      } catch (const json::exception&) {
        // A malformed pointer matches nothing.
      }
    }
    // Each operation by itself, so one that fails does not block the others.
    for (const json& op : p.operations) {
      try {
        object = object.patch(json::array({op}));
      } catch (const json::exception&) {
      }
    }
  }
}

json DriftPatch(const json& live, const json& desired) {
  json patch = json::object();
  if (!desired.is_object()) return patch;
  for (const auto& [key, want] : desired.items()) {
    if (want.is_null()) continue;
    const bool has = live.is_object() && live.contains(key);
    if (!has) {
      // An empty map or list the server dropped is not a difference.
      if ((want.is_object() || want.is_array()) && want.empty()) continue;
      patch[key] = want;
      continue;
    }
    const json& got = live[key];
    if (want.is_object() && got.is_object()) {
      json sub = DriftPatch(got, want);
      if (!sub.empty()) patch[key] = std::move(sub);
    } else if (!Equal(got, want)) {
      patch[key] = want;
    }
  }
  return patch;
}

}  // namespace flotilla::agent
