#include "common/render/patch.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/render/strategic_merge.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

// nlohmann's messages start with "[json.exception.out_of_range.403] " (and
// "parse error: " for malformed operations).
std::string CleanMessage(absl::string_view what) {
  if (absl::StartsWith(what, "[json.exception.")) {
    size_t end = what.find("] ");
    if (end != absl::string_view::npos) what.remove_prefix(end + 2);
    absl::ConsumePrefix(&what, "parse error: ");
  }
  return std::string(what);
}

// Rewrites negative array indices in a JSON pointer ("/a/-1") to the index
// they stand for in `doc` (evanphx/json-patch's SupportNegativeIndices). An
// index still out of range after that is left for the patch to refuse.
std::string ResolveNegativeIndices(const Json& doc, const std::string& pointer) {
  if (pointer.empty() || pointer[0] != '/') return pointer;
  std::vector<std::string> tokens = absl::StrSplit(pointer.substr(1), '/');
  const Json* node = &doc;
  for (std::string& token : tokens) {
    if (node == nullptr) break;
    if (node->is_array()) {
      int64_t negative = 0;
      if (token.size() > 1 && token[0] == '-' && absl::SimpleAtoi(token, &negative) &&
          negative < 0) {
        int64_t index = static_cast<int64_t>(node->size()) + negative;
        if (index >= 0) token = std::to_string(index);
      }
      size_t index = 0;
      node = absl::SimpleAtoi(token, &index) && index < node->size() ? &(*node)[index] : nullptr;
    } else if (node->is_object()) {
      auto it = node->find(absl::StrReplaceAll(token, {{"~1", "/"}, {"~0", "~"}}));
      node = it == node->end() ? nullptr : &*it;
    } else {
      node = nullptr;
    }
  }
  return absl::StrCat("/", absl::StrJoin(tokens, "/"));
}

// " (replace /spec/replicas)" for messages.
std::string Describe(const Json& op) {
  if (!op.is_object()) return "";
  std::string name = op.contains("op") && op["op"].is_string() ? op["op"].get<std::string>() : "?";
  std::string path =
      op.contains("path") && op["path"].is_string() ? op["path"].get<std::string>() : "?";
  return absl::StrCat(" (", name, " ", path, ")");
}

// "a string", "an array", ... for messages.
std::string TypeName(const Json& v) {
  std::string name = v.type_name();
  return absl::StrCat(name[0] == 'a' || name[0] == 'o' ? "an " : "a ", name);
}

}  // namespace

absl::string_view PatchTypeName(PatchType type) {
  switch (type) {
    case PatchType::kJsonPatch:
      return "JSON patch";
    case PatchType::kMergePatch:
      return "merge patch";
    case PatchType::kStrategicMergePatch:
      return "strategic merge patch";
  }
  return "patch";
}

PatchType DetectPatchType(const Json& original, const Json& patch) {
  // wrangler pkg/patch/style.go: a list is a JSON patch.
  if (patch.is_array()) return PatchType::kJsonPatch;
  // gvk.Detect: apiVersion and kind of the original; without a kind or a
  // version (apiVersion "", "a/", or with two slashes) it is a merge patch.
  std::string api_version, kind;
  if (original.is_object()) {
    if (auto a = original.find("apiVersion"); a != original.end() && a->is_string()) {
      api_version = a->get<std::string>();
    }
    if (auto k = original.find("kind"); k != original.end() && k->is_string()) {
      kind = k->get<std::string>();
    }
  }
  std::vector<absl::string_view> gv = absl::StrSplit(api_version, '/');
  if (kind.empty() || gv.size() > 2 || gv.back().empty()) return PatchType::kMergePatch;
  // scheme.Scheme.New(gvk) succeeds only for built-in kinds; CRDs are
  // excluded by name.
  if (kind == "CustomResourceDefinition" || !IsBuiltinKind(api_version, kind)) {
    return PatchType::kMergePatch;
  }
  return PatchType::kStrategicMergePatch;
}

absl::StatusOr<Json> ApplyJsonPatch(const Json& original, const Json& operations) {
  if (!operations.is_array()) {
    return absl::InvalidArgumentError("a JSON patch must be a list of operations");
  }
  Json doc = original;
  for (size_t i = 0; i < operations.size(); ++i) {
    const Json& op = operations[i];
    if (!op.is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("op ", i, ": an operation must be a map, not ", TypeName(op)));
    }
    Json resolved = op;
    for (const char* key : {"path", "from"}) {
      if (resolved.contains(key) && resolved[key].is_string()) {
        resolved[key] = ResolveNegativeIndices(doc, resolved[key].get<std::string>());
      }
    }
    try {
      doc = doc.patch(Json::array({resolved}));
    } catch (const Json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("op ", i, Describe(op), ": ", CleanMessage(e.what())));
    }
  }
  return doc;
}

Json ApplyMergePatch(const Json& original, const Json& patch) {
  Json doc = original;
  doc.merge_patch(patch);
  return doc;
}

absl::StatusOr<Json> ApplyPatch(const Json& original, const Json& patch) {
  if (!patch.is_object() && !patch.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a patch must be a map (merge or strategic merge patch) or a list (JSON patch), not ",
        TypeName(patch)));
  }
  PatchType type = DetectPatchType(original, patch);
  if (type != PatchType::kJsonPatch && !original.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        PatchTypeName(type), ": the patched document is ", TypeName(original), ", not a map"));
  }
  absl::StatusOr<Json> out;
  switch (type) {
    case PatchType::kJsonPatch:
      out = ApplyJsonPatch(original, patch);
      break;
    case PatchType::kMergePatch:
      out = ApplyMergePatch(original, patch);
      break;
    case PatchType::kStrategicMergePatch:
      out = StrategicMergePatch(original, patch);
      break;
  }
  if (!out.ok()) return Annotate(out.status(), PatchTypeName(type));
  return out;
}

}  // namespace flotilla::common
