#include "common/render/strategic_merge.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

constexpr absl::string_view kDirective = "$patch";
constexpr absl::string_view kRetainKeys = "$retainKeys";
constexpr absl::string_view kDeleteFromPrimitiveList = "$deleteFromPrimitiveList";
constexpr absl::string_view kSetElementOrder = "$setElementOrder";

// ---------------------------------------------------------------------------
// Field metadata: the patchStrategy / patchMergeKey struct tags of k8s.io/api
// (core/v1, apps/v1, batch/v1, policy/v1, admissionregistration/v1,
// storage/v1, ...) and k8s.io/apimachinery meta/v1 ObjectMeta, with the field
// types that lead to them. A type name of nullptr means "no tagged fields
// below": maps merge, lists are replaced.

struct FieldMeta {
  const char* type = nullptr;  // type of the value, or of the list items
  const char* strategy = "";   // "merge", "replace", "retainKeys", "merge,retainKeys"
  const char* merge_key = "";
};
using TypeFields = std::map<std::string, FieldMeta, std::less<>>;

const std::map<std::string, TypeFields, std::less<>>& Types() {
  static const auto* types = new std::map<std::string, TypeFields, std::less<>>{
      // Every object: metadata.
      {"Object", {{"metadata", {"ObjectMeta"}}}},
      {"ObjectMeta",
       {{"finalizers", {nullptr, "merge"}}, {"ownerReferences", {nullptr, "merge", "uid"}}}},
      {"ConditionsStatus", {{"conditions", {nullptr, "merge", "type"}}}},
      {"PodTemplateSpec", {{"metadata", {"ObjectMeta"}}, {"spec", {"PodSpec"}}}},
      {"PodSpec",
       {{"volumes", {nullptr, "merge,retainKeys", "name"}},
        {"initContainers", {"Container", "merge", "name"}},
        {"containers", {"Container", "merge", "name"}},
        {"ephemeralContainers", {"Container", "merge", "name"}},
        {"imagePullSecrets", {nullptr, "merge", "name"}},
        {"hostAliases", {nullptr, "merge", "ip"}},
        {"topologySpreadConstraints", {nullptr, "merge", "topologyKey"}},
        {"schedulingGates", {nullptr, "merge", "name"}},
        {"resourceClaims", {nullptr, "merge,retainKeys", "name"}},
        {"evictionResponders", {nullptr, "merge", "name"}}}},
      // Container and EphemeralContainer(Common) carry the same tags.
      {"Container",
       {{"ports", {nullptr, "merge", "containerPort"}},
        {"env", {nullptr, "merge", "name"}},
        {"volumeMounts", {nullptr, "merge", "mountPath"}},
        {"volumeDevices", {nullptr, "merge", "devicePath"}}}},
      {"PodStatus",
       {{"conditions", {nullptr, "merge", "type"}},
        {"hostIPs", {nullptr, "merge", "ip"}},
        {"podIPs", {nullptr, "merge", "ip"}},
        {"resourceClaimStatuses", {nullptr, "merge,retainKeys", "name"}}}},
      {"Pod", {{"metadata", {"ObjectMeta"}}, {"spec", {"PodSpec"}}, {"status", {"PodStatus"}}}},
      {"PodTemplate", {{"metadata", {"ObjectMeta"}}, {"template", {"PodTemplateSpec"}}}},
      {"TemplateSpec", {{"template", {"PodTemplateSpec"}}}},
      {"Workload",
       {{"metadata", {"ObjectMeta"}},
        {"spec", {"TemplateSpec"}},
        {"status", {"ConditionsStatus"}}}},
      {"DeploymentSpec",
       {{"template", {"PodTemplateSpec"}}, {"strategy", {nullptr, "retainKeys"}}}},
      {"Deployment",
       {{"metadata", {"ObjectMeta"}},
        {"spec", {"DeploymentSpec"}},
        {"status", {"ConditionsStatus"}}}},
      {"JobTemplateSpec", {{"metadata", {"ObjectMeta"}}, {"spec", {"TemplateSpec"}}}},
      {"CronJobSpec", {{"jobTemplate", {"JobTemplateSpec"}}}},
      {"CronJob", {{"metadata", {"ObjectMeta"}}, {"spec", {"CronJobSpec"}}}},
      {"ServiceSpec", {{"ports", {nullptr, "merge", "port"}}}},
      {"Service",
       {{"metadata", {"ObjectMeta"}}, {"spec", {"ServiceSpec"}}, {"status", {"ConditionsStatus"}}}},
      {"ServiceAccount", {{"metadata", {"ObjectMeta"}}, {"secrets", {nullptr, "merge", "name"}}}},
      {"NodeSpec", {{"podCIDRs", {nullptr, "merge"}}}},
      {"NodeStatus",
       {{"conditions", {nullptr, "merge", "type"}}, {"addresses", {nullptr, "merge", "type"}}}},
      {"Node", {{"metadata", {"ObjectMeta"}}, {"spec", {"NodeSpec"}}, {"status", {"NodeStatus"}}}},
      {"ObjectWithConditions", {{"metadata", {"ObjectMeta"}}, {"status", {"ConditionsStatus"}}}},
      {"ComponentStatus",
       {{"metadata", {"ObjectMeta"}}, {"conditions", {nullptr, "merge", "type"}}}},
      {"Webhook", {{"matchConditions", {nullptr, "merge", "name"}}}},
      {"WebhookConfiguration",
       {{"metadata", {"ObjectMeta"}}, {"webhooks", {"Webhook", "merge", "name"}}}},
      {"AdmissionPolicySpec",
       {{"matchConditions", {nullptr, "merge", "name"}},
        {"variables", {nullptr, "merge", "name"}}}},
      {"AdmissionPolicy", {{"metadata", {"ObjectMeta"}}, {"spec", {"AdmissionPolicySpec"}}}},
      {"PodDisruptionBudgetSpec", {{"selector", {nullptr, "replace"}}}},
      {"PodDisruptionBudget",
       {{"metadata", {"ObjectMeta"}},
        {"spec", {"PodDisruptionBudgetSpec"}},
        {"status", {"ConditionsStatus"}}}},
      {"CSINodeSpec", {{"drivers", {nullptr, "merge", "name"}}}},
      {"CSINode", {{"metadata", {"ObjectMeta"}}, {"spec", {"CSINodeSpec"}}}},
  };
  return *types;
}

// The type at the root of an object of this apiVersion/kind.
const TypeFields* RootType(absl::string_view api_version, absl::string_view kind) {
  static const auto* by_kind = new std::map<std::string, std::string, std::less<>>{
      {"Pod", "Pod"},
      {"PodTemplate", "PodTemplate"},
      {"ReplicationController", "Workload"},
      {"ReplicaSet", "Workload"},
      {"StatefulSet", "Workload"},
      {"DaemonSet", "Workload"},
      {"Job", "Workload"},
      {"Deployment", "Deployment"},
      {"CronJob", "CronJob"},
      {"Service", "Service"},
      {"ServiceAccount", "ServiceAccount"},
      {"Node", "Node"},
      {"Namespace", "ObjectWithConditions"},
      {"PersistentVolumeClaim", "ObjectWithConditions"},
      {"HorizontalPodAutoscaler", "ObjectWithConditions"},
      {"ComponentStatus", "ComponentStatus"},
      {"ValidatingWebhookConfiguration", "WebhookConfiguration"},
      {"MutatingWebhookConfiguration", "WebhookConfiguration"},
      {"ValidatingAdmissionPolicy", "AdmissionPolicy"},
      {"MutatingAdmissionPolicy", "AdmissionPolicy"},
      {"CSINode", "CSINode"},
  };
  std::string type = "Object";
  if (kind == "PodDisruptionBudget") {
    // Only policy/v1 replaces spec.selector whole; v1beta1 merges it.
    type = api_version == "policy/v1" ? "PodDisruptionBudget" : "ObjectWithConditions";
  } else if (auto it = by_kind->find(kind); it != by_kind->end()) {
    type = it->second;
  }
  return &Types().at(type);
}

const TypeFields* TypeNamed(const char* name) {
  if (name == nullptr) return nullptr;
  auto it = Types().find(name);
  return it == Types().end() ? nullptr : &it->second;
}

FieldMeta Lookup(const TypeFields* type, absl::string_view key) {
  if (type == nullptr) return {};
  auto it = type->find(key);
  return it == type->end() ? FieldMeta{} : it->second;
}

// The strategy besides retainKeys (extractRetainKeysPatchStrategy): on the
// apply side only "merge" and "replace" change what happens.
std::string MainStrategy(const FieldMeta& meta) {
  for (absl::string_view s : absl::StrSplit(meta.strategy, ',')) {
    if (s != "retainKeys" && !s.empty()) return std::string(s);
  }
  return "";
}

// ---------------------------------------------------------------------------
// Value helpers.

// Go's decoded JSON types: map, slice, string, float64, bool, nil. All
// numbers are one type there, so they are one category here.
enum class Category { kNull, kObject, kArray, kString, kNumber, kBool };

Category CategoryOf(const Json& v) {
  if (v.is_object()) return Category::kObject;
  if (v.is_array()) return Category::kArray;
  if (v.is_string()) return Category::kString;
  if (v.is_number()) return Category::kNumber;
  if (v.is_boolean()) return Category::kBool;
  return Category::kNull;
}

std::string Child(const std::string& path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string Item(const std::string& path, absl::string_view merge_key, const Json& value) {
  return absl::StrCat(path, "[", merge_key, "=",
                      value.is_string() ? value.get<std::string>() : value.dump(), "]");
}

absl::Status Error(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(path.empty() ? std::string(what)
                                                 : absl::StrCat(path, ": ", what));
}

absl::Status NoMergeKey(const std::string& path, const Json& item, absl::string_view merge_key) {
  return Error(path,
               absl::StrCat("list item ", item.dump(), " has no merge key \"", merge_key, "\""));
}

// removeDirectives: a map holding `$patch` is dropped (keep == false); lists
// drop such items; everything else is kept.
std::pair<Json, bool> RemoveDirectives(Json v) {
  if (v.is_object()) {
    if (v.contains(kDirective)) return {Json(), false};
    Json out = Json::object();
    for (auto& [k, child] : v.items()) {
      auto [value, keep] = RemoveDirectives(std::move(child));
      if (keep) out[k] = std::move(value);
    }
    return {std::move(out), true};
  }
  if (v.is_array()) {
    Json out = Json::array();
    for (auto& child : v) {
      auto [value, keep] = RemoveDirectives(std::move(child));
      if (keep) out.push_back(std::move(value));
    }
    return {std::move(out), true};
  }
  return {std::move(v), true};
}

// discardNullValuesFromPatch: null map values anywhere below are dropped
// (items of lists are kept, their maps cleaned).
void DiscardNulls(Json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it->is_null()) {
        it = v.erase(it);
      } else {
        DiscardNulls(*it);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (auto& item : v) DiscardNulls(item);
  }
}

// The value a new key takes: the patch value without nulls and directives
// (std::nullopt when the value itself is a directive map).
std::optional<Json> NewValue(Json patch_value) {
  DiscardNulls(patch_value);
  auto [value, keep] = RemoveDirectives(std::move(patch_value));
  if (!keep) return std::nullopt;
  return std::move(value);
}

// sliceElementType: every item of every list has one category; lists of
// lists are refused.
absl::StatusOr<Category> ElementCategory(const std::string& path, const Json& a, const Json& b) {
  std::optional<Category> seen;
  for (const Json* list : {&a, &b}) {
    for (const auto& item : *list) {
      Category c = CategoryOf(item);
      if (!seen) {
        if (c == Category::kArray) return Error(path, "lists of lists are not supported");
        seen = c;
      } else if (*seen != c) {
        return Error(path, "list items are not all of one type");
      }
    }
  }
  if (!seen) return Error(path, "no items in either list");
  return *seen;
}

// The value `index()` compares: the merge key of a map item (null if absent),
// or the item itself.
const Json& KeyOf(const Json& item, const std::string& merge_key, Category kind) {
  static const Json* null_value = new Json();
  if (kind != Category::kObject) return item;
  if (!item.is_object()) return *null_value;
  auto it = item.find(merge_key);
  return it == item.end() ? *null_value : *it;
}

std::optional<size_t> IndexIn(const Json& list, const Json& item, const std::string& merge_key,
                              Category kind) {
  const Json& want = KeyOf(item, merge_key, kind);
  for (size_t i = 0; i < list.size(); ++i) {
    if (KeyOf(list[i], merge_key, kind) == want) return i;
  }
  return std::nullopt;
}

// findMapInSliceBasedOnKeyValue.
absl::StatusOr<std::optional<size_t>> FindByKey(const std::string& path, const Json& list,
                                                const std::string& merge_key, const Json& value) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) return Error(path, absl::StrCat("list item ", i, " is not a map"));
    auto it = list[i].find(merge_key);
    if (it != list[i].end() && *it == value) return i;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// List ordering (normalizeElementOrder and friends).

// normalizeSliceOrder: sorts `to_sort` by the position of each item in
// `order`; items marked `$patch: delete` go last. (Kubernetes' comparator
// is undefined for items missing from `order`; they cannot occur in the
// cases that reach here, and are kept last in their own order.)
absl::StatusOr<Json> NormalizeSliceOrder(const std::string& path, const Json& to_sort,
                                         const Json& order, const std::string& merge_key,
                                         Category kind) {
  std::vector<Json> keep;
  Json to_delete = Json::array();
  if (kind == Category::kObject) {
    for (const Json* list : {&to_sort, &order}) {
      for (const auto& item : *list) {
        if (!item.is_object()) return Error(path, "expected a list of maps");
        if (!item.contains(merge_key)) return NoMergeKey(path, item, merge_key);
      }
    }
    for (const auto& item : to_sort) {
      auto d = item.find(kDirective);
      if (d != item.end() && *d == "delete") {
        to_delete.push_back(item);
      } else {
        keep.push_back(item);
      }
    }
  } else {
    keep.assign(to_sort.begin(), to_sort.end());
  }
  std::vector<std::pair<size_t, size_t>> rank;  // (position in order, input position)
  for (size_t i = 0; i < keep.size(); ++i) {
    rank.emplace_back(IndexIn(order, keep[i], merge_key, kind).value_or(order.size() + i), i);
  }
  std::stable_sort(rank.begin(), rank.end());
  Json out = Json::array();
  for (const auto& [pos, i] : rank) out.push_back(std::move(keep[i]));
  for (auto& item : to_delete) out.push_back(std::move(item));
  return out;
}

// mergeSortedSlice: inserts the server-only items (`left`, in live order)
// into the patch items (`right`, in patch order). A left item goes first
// only when both it and the next right item are in the live list and it
// comes earlier there; so new items from the patch lead.
Json MergeSortedSlice(const Json& left, const Json& right, const Json& server_order,
                      const std::string& merge_key, Category kind) {
  Json out = Json::array();
  size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i >= left.size()) {
      out.push_back(right[j++]);
    } else if (j >= right.size()) {
      out.push_back(left[i++]);
    } else {
      auto li = IndexIn(server_order, left[i], merge_key, kind);
      auto ri = IndexIn(server_order, right[j], merge_key, kind);
      if (li && ri && *li < *ri) {
        out.push_back(left[i++]);
      } else {
        out.push_back(right[j++]);
      }
    }
  }
  return out;
}

absl::StatusOr<Json> NormalizeElementOrder(const std::string& path, const Json& patch_items,
                                           const Json& server_only, const Json& patch_order,
                                           const Json& server_order, const std::string& merge_key,
                                           Category kind) {
  ASSIGN_OR_RETURN(Json p, NormalizeSliceOrder(path, patch_items, patch_order, merge_key, kind));
  ASSIGN_OR_RETURN(Json s, NormalizeSliceOrder(path, server_only, server_order, merge_key, kind));
  return MergeSortedSlice(s, p, server_order, merge_key, kind);
}

// Splits `merged` into the items the patch list names and the others.
absl::StatusOr<std::pair<Json, Json>> Partition(const std::string& path, const Json& merged,
                                                const Json& by, const std::string& merge_key) {
  Json in_patch = Json::array(), server_only = Json::array();
  for (const auto& item : merged) {
    bool found = false;
    if (merge_key.empty()) {
      found = std::find(by.begin(), by.end(), item) != by.end();
    } else {
      if (!item.is_object()) return Error(path, "expected a list of maps");
      auto key = item.find(merge_key);
      if (key == item.end()) return NoMergeKey(path, item, merge_key);
      ASSIGN_OR_RETURN(auto at, FindByKey(path, by, merge_key, *key));
      found = at.has_value();
    }
    (found ? in_patch : server_only).push_back(item);
  }
  return std::make_pair(std::move(in_patch), std::move(server_only));
}

// ---------------------------------------------------------------------------
// Merging.

absl::StatusOr<Json> MergeMap(Json original, Json patch, const TypeFields* type,
                              const std::string& path);

// mergeSliceWithSpecialElements + mergeSliceWithoutSpecialElements: items
// marked `$patch: delete` remove the original items with their key;
// `$patch: replace` makes the patch's other items the whole list; other
// items merge into the original item with the same key or are appended.
absl::StatusOr<Json> MergeListOfMaps(Json& original, Json patch, const std::string& merge_key,
                                     const TypeFields* item_type, const std::string& path,
                                     Json& plain_patch) {
  plain_patch = Json::array();
  bool replace = false;
  for (auto& item : patch) {
    auto d = item.find(kDirective);
    if (d == item.end()) {
      plain_patch.push_back(std::move(item));
      continue;
    }
    if (*d == "delete") {
      auto key = item.find(merge_key);
      if (key == item.end()) return NoMergeKey(path, item, merge_key);
      Json kept = Json::array();
      for (auto& o : original) {
        if (!o.is_object()) return Error(path, "expected a list of maps");
        auto ok = o.find(merge_key);
        if (ok == o.end() || *ok != *key) kept.push_back(std::move(o));
      }
      original = std::move(kept);
    } else if (*d == "replace") {
      replace = true;
    } else if (*d == "merge") {
      return Error(path,
                   "$patch: merge is not supported on list items (Kubernetes: \"merging "
                   "lists cannot yet be specified in the patch\")");
    } else {
      return Error(path, absl::StrCat("unknown $patch directive ", d->dump()));
    }
  }
  if (replace) {
    original = std::move(plain_patch);
    plain_patch = Json::array();
  }
  Json merged = original;
  for (const auto& item : plain_patch) {
    auto key = item.find(merge_key);
    if (key == item.end()) return NoMergeKey(path, item, merge_key);
    ASSIGN_OR_RETURN(auto at, FindByKey(path, merged, merge_key, *key));
    if (at) {
      ASSIGN_OR_RETURN(merged[*at], MergeMap(std::move(merged[*at]), item, item_type,
                                             Item(path, merge_key, *key)));
    } else {
      merged.push_back(item);
    }
  }
  return merged;
}

// mergeSlice: a list with the merge strategy (or a $deleteFromPrimitiveList
// parallel list).
absl::StatusOr<Json> MergeSlice(Json original, Json patch, const TypeFields* item_type,
                                const std::string& merge_key, bool is_delete_list,
                                const std::string& path) {
  if (original.empty() && patch.empty()) return original;
  ASSIGN_OR_RETURN(Category kind, ElementCategory(path, original, patch));
  Json merged;
  if (kind != Category::kObject) {
    if (is_delete_list) {
      Json kept = Json::array();
      for (auto& o : original) {
        if (std::find(patch.begin(), patch.end(), o) == patch.end()) kept.push_back(std::move(o));
      }
      return kept;
    }
    merged = Json::array();
    for (const Json* list : {&original, &patch}) {
      for (const auto& v : *list) {
        if (std::find(merged.begin(), merged.end(), v) == merged.end()) merged.push_back(v);
      }
    }
  } else {
    if (merge_key.empty()) {
      return Error(path, "cannot merge a list of maps that has no merge key");
    }
    Json plain_patch;
    ASSIGN_OR_RETURN(merged, MergeListOfMaps(original, std::move(patch), merge_key, item_type, path,
                                             plain_patch));
    patch = std::move(plain_patch);
  }
  ASSIGN_OR_RETURN(auto parts, Partition(path, merged, patch, merge_key));
  return NormalizeElementOrder(path, parts.first, parts.second, patch, original, merge_key, kind);
}

absl::StatusOr<Json> MergeSliceHandler(Json original, Json patch, const FieldMeta& meta,
                                       bool is_delete_list, const std::string& path) {
  if (MainStrategy(meta) == "merge" || is_delete_list) {
    return MergeSlice(std::move(original), std::move(patch), TypeNamed(meta.type), meta.merge_key,
                      is_delete_list, path);
  }
  return patch;  // untagged lists are replaced whole
}

// "$deleteFromPrimitiveList/finalizers" -> "finalizers".
absl::StatusOr<std::string> DirectiveTarget(const std::string& path, const std::string& key,
                                            absl::string_view prefix) {
  std::vector<std::string> parts = absl::StrSplit(key, absl::MaxSplits('/', 1));
  if (parts.size() < 2 || parts[0] != prefix) {
    return Error(
        path, absl::StrCat("invalid directive \"", key, "\" (expected \"", prefix, "/<field>\")"));
  }
  return parts[1];
}

// applyRetainKeysDirective: keys of the original not listed in $retainKeys
// are cleared; every key the patch sets must be listed.
absl::Status ApplyRetainKeys(Json& original, Json& patch, const std::string& path) {
  auto it = patch.find(kRetainKeys);
  if (it == patch.end()) return absl::OkStatus();
  Json keys = std::move(*it);
  patch.erase(it);
  if (!keys.is_array()) return Error(path, "$retainKeys must be a list of field names");
  auto listed = [&](const std::string& k) {
    return std::find(keys.begin(), keys.end(), Json(k)) != keys.end();
  };
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null() || absl::StartsWith(k, kDeleteFromPrimitiveList) ||
        absl::StartsWith(k, kSetElementOrder)) {
      continue;
    }
    if (!listed(k)) {
      return Error(path,
                   absl::StrCat("the patch sets \"", k, "\", which $retainKeys does not list"));
    }
  }
  for (auto o = original.begin(); o != original.end();) {
    o = listed(o.key()) ? std::next(o) : original.erase(o);
  }
  return absl::OkStatus();
}

// validatePatchWithSetOrderList: the patch list's items appear in the
// $setElementOrder list, in the same relative order.
absl::Status ValidateSetOrder(const std::string& path, const Json& patch_list, const Json& order,
                              const std::string& merge_key) {
  if (order.empty() || patch_list.empty()) return absl::OkStatus();
  std::vector<const Json*> items;
  for (const auto& item : patch_list) {
    if (!merge_key.empty()) {
      if (!item.is_object()) return Error(path, "expected a list of maps");
      auto d = item.find(kDirective);
      if (d != item.end() && *d == "delete") continue;
    }
    items.push_back(&item);
  }
  size_t p = 0, s = 0;
  while (p < items.size() && s < order.size()) {
    const Json& item = *items[p];
    if (item.is_object() && item.contains(kDirective)) {
      ++p;
      continue;
    }
    bool equal;
    if (merge_key.empty()) {
      equal = item == order[s];
    } else {
      if (!item.is_object() || !order[s].is_object()) {
        return Error(path, "expected a list of maps");
      }
      if (!item.contains(merge_key)) return NoMergeKey(path, item, merge_key);
      if (!order[s].contains(merge_key)) return NoMergeKey(path, order[s], merge_key);
      equal = item[merge_key] == order[s][merge_key];
    }
    if (equal) ++p;
    ++s;
  }
  if (p < items.size() && s >= order.size()) {
    return Error(path, absl::StrCat("the order of the patch list ", patch_list.dump(),
                                    " does not match its $setElementOrder list ", order.dump()));
  }
  return absl::OkStatus();
}

// mergePatchIntoOriginal: each $setElementOrder/<field> list merges its
// field and then fixes the order: $setElementOrder first, then the patch
// list, then the live list.
absl::Status ApplySetElementOrder(Json& original, Json& patch, const TypeFields* type,
                                  const std::string& path) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : patch.items()) {
    if (absl::StartsWith(k, kSetElementOrder)) keys.push_back(k);
  }
  for (const std::string& key : keys) {
    Json order = std::move(patch[key]);
    patch.erase(key);
    if (!order.is_array()) return Error(Child(path, key), "must be a list");
    ASSIGN_OR_RETURN(std::string field, DirectiveTarget(path, key, kSetElementOrder));
    std::string field_path = Child(path, field);
    bool in_original = original.contains(field);
    bool in_patch = patch.contains(field);
    if (in_original && !original[field].is_array()) return Error(field_path, "is not a list");
    if (in_patch && !patch[field].is_array())
      return Error(field_path, "is not a list in the patch");
    Json original_list = in_original ? original[field] : Json::array();
    Json patch_list = in_patch ? patch[field] : Json::array();
    FieldMeta meta = Lookup(type, field);
    RETURN_IF_ERROR(ValidateSetOrder(field_path, patch_list, order, meta.merge_key));
    Json merged;
    if (in_original && !in_patch) {
      merged = original_list;
    } else if (!in_original && in_patch) {
      merged = RemoveDirectives(patch_list).first;
    } else if (in_original && in_patch) {
      ASSIGN_OR_RETURN(merged,
                       MergeSliceHandler(original_list, patch_list, meta, false, field_path));
    } else {
      continue;
    }
    ASSIGN_OR_RETURN(auto parts, Partition(field_path, merged, order, meta.merge_key));
    ASSIGN_OR_RETURN(Category kind, ElementCategory(field_path, original_list, patch_list));
    ASSIGN_OR_RETURN(original[field],
                     NormalizeElementOrder(field_path, parts.first, parts.second, order,
                                           original_list, meta.merge_key, kind));
    patch.erase(field);
  }
  return absl::OkStatus();
}

// mergeMap.
absl::StatusOr<Json> MergeMap(Json original, Json patch, const TypeFields* type,
                              const std::string& path) {
  if (auto d = patch.find(kDirective); d != patch.end()) {
    if (*d == "replace") {
      patch.erase(d);
      return patch;
    }
    if (*d == "delete") return Json::object();
    return Error(path, absl::StrCat("unknown $patch directive ", d->dump(),
                                    " on a map (use replace or delete)"));
  }
  if (!original.is_object()) original = Json::object();
  RETURN_IF_ERROR(ApplyRetainKeys(original, patch, path));
  RETURN_IF_ERROR(ApplySetElementOrder(original, patch, type, path));

  for (auto& [patch_key, patch_value] : patch.items()) {
    std::string key = patch_key;
    bool is_delete_list = false;
    if (absl::StartsWith(key, kDeleteFromPrimitiveList)) {
      ASSIGN_OR_RETURN(key, DirectiveTarget(path, key, kDeleteFromPrimitiveList));
      is_delete_list = true;
    }
    std::string field_path = Child(path, key);
    if (patch_value.is_null()) {
      original.erase(key);
      continue;
    }
    auto it = original.find(key);
    if (it == original.end() || CategoryOf(*it) != CategoryOf(patch_value)) {
      // A new key, or one whose type changes, takes the patch value.
      if (is_delete_list) continue;
      std::optional<Json> value = NewValue(std::move(patch_value));
      if (value) {
        original[key] = std::move(*value);
      } else {
        original.erase(key);
      }
      continue;
    }
    FieldMeta meta = Lookup(type, key);
    if (it->is_object()) {
      if (MainStrategy(meta) == "replace") {
        *it = std::move(patch_value);
      } else {
        ASSIGN_OR_RETURN(*it, MergeMap(std::move(*it), std::move(patch_value), TypeNamed(meta.type),
                                       field_path));
      }
    } else if (it->is_array()) {
      ASSIGN_OR_RETURN(*it, MergeSliceHandler(std::move(*it), std::move(patch_value), meta,
                                              is_delete_list, field_path));
    } else {
      *it = std::move(patch_value);
    }
  }
  return original;
}

}  // namespace

bool IsBuiltinKind(absl::string_view api_version, absl::string_view kind) {
  // k8s.io/client-go/kubernetes/scheme/register.go lists the group versions;
  // each k8s.io/api/<group>/<version>/register.go lists the kinds.
  static const auto* kinds =
      new std::map<std::string, std::set<std::string, std::less<>>, std::less<>>{
          {"admissionregistration.k8s.io/v1",
           {"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
            "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration"}},
          {"admissionregistration.k8s.io/v1alpha1",
           {"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
            "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"}},
          {"admissionregistration.k8s.io/v1beta1",
           {"MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
            "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration"}},
          {"internal.apiserver.k8s.io/v1alpha1", {"StorageVersion"}},
          {"apps/v1",
           {"ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"}},
          {"apps/v1beta1",
           {"ControllerRevision", "Deployment", "DeploymentRollback", "Scale", "StatefulSet"}},
          {"apps/v1beta2",
           {"ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "Scale", "StatefulSet"}},
          {"authentication.k8s.io/v1", {"SelfSubjectReview", "TokenRequest", "TokenReview"}},
          {"authentication.k8s.io/v1alpha1", {"SelfSubjectReview"}},
          {"authentication.k8s.io/v1beta1", {"SelfSubjectReview", "TokenReview"}},
          {"authorization.k8s.io/v1",
           {"LocalSubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview",
            "SubjectAccessReview"}},
          {"authorization.k8s.io/v1beta1",
           {"LocalSubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview",
            "SubjectAccessReview"}},
          {"autoscaling/v1", {"HorizontalPodAutoscaler", "Scale"}},
          {"autoscaling/v2", {"HorizontalPodAutoscaler"}},
          {"batch/v1", {"CronJob", "Job"}},
          {"batch/v1beta1", {"CronJob"}},
          {"certificates.k8s.io/v1",
           {"CertificateSigningRequest", "ClusterTrustBundle", "PodCertificateRequest"}},
          {"certificates.k8s.io/v1alpha1", {"ClusterTrustBundle"}},
          {"certificates.k8s.io/v1beta1",
           {"CertificateSigningRequest", "ClusterTrustBundle", "PodCertificateRequest"}},
          {"coordination.k8s.io/v1", {"Lease"}},
          {"coordination.k8s.io/v1alpha2", {"LeaseCandidate"}},
          {"coordination.k8s.io/v1beta1", {"Lease", "LeaseCandidate"}},
          {"v1",
           {"Binding",
            "ComponentStatus",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "List",
            "Namespace",
            "Node",
            "NodeProxyOptions",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodAttachOptions",
            "PodExecOptions",
            "PodLogOptions",
            "PodPortForwardOptions",
            "PodProxyOptions",
            "PodTemplate",
            "RangeAllocation",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "SerializedReference",
            "Service",
            "ServiceAccount",
            "ServiceProxyOptions"}},
          {"discovery.k8s.io/v1", {"EndpointSlice"}},
          {"discovery.k8s.io/v1beta1", {"EndpointSlice"}},
          {"events.k8s.io/v1", {"Event"}},
          {"events.k8s.io/v1beta1", {"Event"}},
          {"extensions/v1beta1",
           {"DaemonSet", "Deployment", "DeploymentRollback", "Ingress", "NetworkPolicy",
            "ReplicaSet", "Scale"}},
          {"flowcontrol.apiserver.k8s.io/v1", {"FlowSchema", "PriorityLevelConfiguration"}},
          {"flowcontrol.apiserver.k8s.io/v1beta1", {"FlowSchema", "PriorityLevelConfiguration"}},
          {"flowcontrol.apiserver.k8s.io/v1beta2", {"FlowSchema", "PriorityLevelConfiguration"}},
          {"flowcontrol.apiserver.k8s.io/v1beta3", {"FlowSchema", "PriorityLevelConfiguration"}},
          {"lifecycle.k8s.io/v1alpha1", {"Eviction", "EvictionRequest"}},
          {"networking.k8s.io/v1",
           {"IPAddress", "Ingress", "IngressClass", "NetworkPolicy", "ServiceCIDR"}},
          {"networking.k8s.io/v1beta1", {"IPAddress", "Ingress", "IngressClass", "ServiceCIDR"}},
          {"node.k8s.io/v1", {"RuntimeClass"}},
          {"node.k8s.io/v1alpha1", {"RuntimeClass"}},
          {"node.k8s.io/v1beta1", {"RuntimeClass"}},
          {"policy/v1", {"Eviction", "PodDisruptionBudget"}},
          {"policy/v1beta1", {"Eviction", "PodDisruptionBudget"}},
          {"rbac.authorization.k8s.io/v1",
           {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}},
          {"rbac.authorization.k8s.io/v1alpha1",
           {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}},
          {"rbac.authorization.k8s.io/v1beta1",
           {"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}},
          {"resource.k8s.io/v1",
           {"DeviceClass", "DeviceTaintRule", "ResourceClaim", "ResourceClaimTemplate",
            "ResourceSlice"}},
          {"resource.k8s.io/v1alpha3", {"DeviceTaintRule", "ResourcePoolStatusRequest"}},
          {"resource.k8s.io/v1beta1",
           {"DeviceClass", "ResourceClaim", "ResourceClaimTemplate", "ResourceSlice"}},
          {"resource.k8s.io/v1beta2",
           {"DeviceClass", "DeviceTaintRule", "ResourceClaim", "ResourceClaimTemplate",
            "ResourceSlice"}},
          {"scheduling.k8s.io/v1", {"PriorityClass"}},
          {"scheduling.k8s.io/v1alpha3", {"CompositePodGroup", "PodGroup", "Workload"}},
          {"scheduling.k8s.io/v1beta1", {"PodGroup", "PriorityClass", "Workload"}},
          {"storage.k8s.io/v1",
           {"CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment",
            "VolumeAttributesClass"}},
          {"storage.k8s.io/v1alpha1",
           {"CSIStorageCapacity", "VolumeAttachment", "VolumeAttributesClass"}},
          {"storage.k8s.io/v1beta1",
           {"CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment",
            "VolumeAttributesClass"}},
          {"storagemigration.k8s.io/v1", {"StorageVersionMigration"}},
          {"storagemigration.k8s.io/v1beta1", {"StorageVersionMigration"}},
      };
  auto gv = kinds->find(api_version);
  if (gv == kinds->end() || kind.empty()) return false;
  if (gv->second.count(kind) > 0) return true;
  // Every object kind has its list kind registered beside it.
  return absl::EndsWith(kind, "List") && gv->second.count(kind.substr(0, kind.size() - 4)) > 0;
}

absl::StatusOr<Json> StrategicMergePatch(const Json& original, const Json& patch) {
  if (!original.is_object()) return Error("", "the patched document is not a map");
  if (!patch.is_object()) return Error("", "a strategic merge patch must be a map");
  std::string api_version, kind;
  if (auto a = original.find("apiVersion"); a != original.end() && a->is_string()) {
    api_version = a->get<std::string>();
  }
  if (auto k = original.find("kind"); k != original.end() && k->is_string()) {
    kind = k->get<std::string>();
  }
  return MergeMap(original, patch, RootType(api_version, kind), "");
}

}  // namespace flotilla::common
