#include "common/fleet/options.h"

#include "absl/strings/str_cat.h"
#include "common/hash.h"

namespace flotilla::common {
namespace {

// True when `obj[key]` is the boolean true (anything else, absent included,
// counts as false; Json::value() would throw on a non-boolean).
bool IsTrue(const Json& obj, const std::string& key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

bool IsSet(const Json& v) {
  if (v.is_null()) return false;
  if (v.is_string()) return !v.get_ref<const std::string&>().empty();
  return true;
}

// Appends items of `extra` not already present (identity = equal JSON).
void UnionInto(Json& into, const Json& extra) {
  if (!extra.is_array()) return;
  if (!into.is_array()) into = Json::array();
  for (const auto& item : extra) {
    bool present = false;
    for (const auto& have : into) present = present || have == item;
    if (!present) into.push_back(item);
  }
}

Json MergeHelm(const Json& base, const Json& custom) {
  Json out = base.is_object() ? base : Json::object();
  for (const auto& [k, v] : custom.items()) {
    if (k == "values") {
      out[k] = DeepMerge(out.value(k, Json::object()), v);
    } else if (k == "templateValues") {
      if (!v.is_object()) continue;
      for (const auto& [tk, tv] : v.items()) out[k][tk] = tv;
    } else if (k == "valuesFrom") {
      UnionInto(out[k], v);
    } else if (k == "timeoutSeconds") {
      if (!v.is_number()) continue;
      if (v.get<double>() > 0) out[k] = v;
      if (v.get<double>() < 0) out[k] = 0;
    } else if (v.is_boolean()) {
      out[k] = IsTrue(out, k) || v.get<bool>();
    } else if (IsSet(v)) {
      out[k] = v;
    }
  }
  return out;
}

}  // namespace

Json DeepMerge(const Json& base, const Json& over) {
  if (!base.is_object() || !over.is_object()) return over.is_null() ? base : over;
  Json out = base;
  // Like wrangler's data.MergeMaps (what Fleet uses): only two maps merge; any
  // other value in `over`, null included, replaces (Helm then drops a null key).
  for (const auto& [k, v] : over.items()) {
    out[k] = out.contains(k) && out[k].is_object() && v.is_object() ? DeepMerge(out[k], v) : v;
  }
  return out;
}

Json MergeOptions(const Json& base, const Json& custom) {
  Json out = base.is_object() ? base : Json::object();
  if (!custom.is_object()) return out;
  for (const auto& [k, v] : custom.items()) {
    if (k == "deleteNamespace" || k == "ignore") continue;  // never per target
    if (k == "helm") {
      out[k] = MergeHelm(out.value(k, Json::object()), v);
    } else if (k == "yaml") {
      Json y = out.value(k, Json::object());
      for (const auto& [yk, yv] : v.items()) {
        if (yk == "overlays" && yv.is_array()) {
          if (!y[yk].is_array()) y[yk] = Json::array();
          for (const auto& o : yv) y[yk].push_back(o);
        } else if (IsSet(yv)) {
          y[yk] = yv;
        }
      }
      out[k] = y;
    } else if (k == "diff") {
      Json d = out.value(k, Json::object());
      if (v.contains("comparePatches")) UnionInto(d["comparePatches"], v["comparePatches"]);
      out[k] = d;
    } else if (k == "kustomize") {
      Json kz = out.value(k, Json::object());
      for (const auto& [kk, kv] : v.items()) {
        if (IsSet(kv)) kz[kk] = kv;
      }
      out[k] = kz;
    } else if (k == "correctDrift") {
      out[k] = v;
    } else if (k == "namespaceLabels" || k == "namespaceAnnotations") {
      if (!v.is_object()) continue;
      for (const auto& [mk, mv] : v.items()) out[k][mk] = mv;
    } else if (v.is_boolean()) {
      out[k] = IsTrue(out, k) || v.get<bool>();
    } else if (IsSet(v)) {
      out[k] = v;
    }
  }
  return out;
}

std::string OptionsHash(const Json& options) {
  Json copy = options.is_object() ? options : Json::object();
  copy.erase("diff");
  copy.erase("correctDrift");
  return Sha256Hex(CanonicalJson(copy));
}

std::string DeploymentId(const std::string& content_hash, const std::string& options_hash) {
  return absl::StrCat("s-", content_hash, ":", options_hash);
}

std::string EffectiveDefaultNamespace(const Json& options) {
  if (options.is_object()) {
    for (const char* key : {"namespace", "defaultNamespace"}) {
      auto it = options.find(key);
      if (it != options.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
        return it->get<std::string>();
      }
    }
  }
  return "default";
}

}  // namespace flotilla::common
