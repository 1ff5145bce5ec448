#include "agent/apply/kube/kube_applier.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/hash.h"
#include "common/logging.h"
#include "common/status_macros.h"

namespace flotilla::agent::kube {
namespace {

using nlohmann::json;

bool IsCrd(const ObjectRef& ref) {
  return ref.kind == "CustomResourceDefinition" &&
         absl::StartsWith(ref.api_version, "apiextensions.k8s.io/");
}

bool IsNamespace(const ObjectRef& ref) {
  return ref.kind == "Namespace" && ref.api_version == "v1";
}

// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
bool ValidLabelValue(const std::string& v) {
  if (v.empty()) return true;
  if (v.size() > 63) return false;
  for (char c : v) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return absl::ascii_isalnum(v.front()) && absl::ascii_isalnum(v.back());
}

// Is every field of `desired` in `live` with the same value?
bool Covers(const json& live, const json& desired) {
  if (desired.is_object()) {
    if (!live.is_object()) return false;
    for (const auto& [k, v] : desired.items()) {
      if (!live.contains(k)) {
        // An empty map or list the server dropped is not a difference.
        if ((v.is_object() || v.is_array()) && v.empty()) continue;
        if (v.is_null()) continue;
        return false;
      }
      if (!Covers(live[k], v)) return false;
    }
    return true;
  }
  if (desired.is_array()) {
    if (!live.is_array() || live.size() != desired.size()) return false;
    for (size_t i = 0; i < desired.size(); ++i) {
      if (!Covers(live[i], desired[i])) return false;
    }
    return true;
  }
  // Numbers compare by value (1 and 1.0 are the same quantity in JSON).
  if (desired.is_number() && live.is_number()) return desired.get<double>() == live.get<double>();
  return live == desired;
}

std::string Query(bool force) {
  return absl::StrCat("?fieldManager=", kFieldManager, force ? "&force=true" : "");
}

}  // namespace

std::string InventoryLabelValue(const std::string& bundle_deployment_id) {
  if (ValidLabelValue(bundle_deployment_id)) return bundle_deployment_id;
  return absl::StrCat("sha256-", common::Sha256Hex(bundle_deployment_id).substr(0, 40));
}

KubeApplier::KubeApplier(std::unique_ptr<KubeClient> client)
    : client_(std::move(client)), discovery_(client_.get()) {}

json KubeApplier::Prepared(const json& object, const ResourceInfo& info,
                           const ApplyRequest& request) const {
  json out = object;
  json& meta = out["metadata"];
  if (!info.namespaced) {
    meta.erase("namespace");
  } else if (!meta.contains("namespace") || !meta["namespace"].is_string() ||
             meta["namespace"].get<std::string>().empty()) {
    meta["namespace"] = request.release_namespace.empty() ? "default" : request.release_namespace;
  }
  meta["labels"][kInventoryLabel] = InventoryLabelValue(request.bundle_deployment_id);
  meta["annotations"][kBundleDeploymentAnnotation] = request.bundle_deployment_id;
  meta["annotations"][kDeploymentIdAnnotation] = request.deployment_id;
  return out;
}

absl::StatusOr<json> KubeApplier::ServerSideApply(const ResourceInfo& info, const json& object,
                                                  bool force) {
  const json& meta = object["metadata"];
  const std::string ns = meta.value("namespace", "");
  const std::string path =
      absl::StrCat(info.Path(ns, meta["name"].get<std::string>()), Query(force));
  return client_->Call("PATCH", path, object.dump(), "application/apply-patch+yaml");
}

absl::Status KubeApplier::EnsureNamespace(const std::string& ns, const ApplyRequest& request) {
  ASSIGN_OR_RETURN(ResourceInfo info, discovery_.Lookup("v1", "Namespace"));
  const bool release = ns == request.release_namespace;
  if (!release || (request.namespace_labels.empty() && request.namespace_annotations.empty())) {
    absl::StatusOr<json> live = client_->Call("GET", info.Path("", ns));
    if (live.ok()) return absl::OkStatus();
    if (live.status().code() != absl::StatusCode::kNotFound) return live.status();
  }
  // Created (or, for the release namespace, labelled) by apply; Fleet
  // leaves pod-security labels to the cluster's own policy, and so do we:
  // only the labels the bundle names are set.
  json object = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
  if (release) {
    for (const auto& [k, v] : request.namespace_labels) object["metadata"]["labels"][k] = v;
    for (const auto& [k, v] : request.namespace_annotations) {
      object["metadata"]["annotations"][k] = v;
    }
  }
  absl::StatusOr<json> applied = ServerSideApply(info, object, request.force);
  if (!applied.ok()) {
    return absl::Status(applied.status().code(),
                        absl::StrCat("namespace ", ns, ": ", applied.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ApplyResult> KubeApplier::Apply(const ApplyRequest& request) {
  struct Item {
    const json* object;
    ObjectRef ref;
  };
  std::vector<Item> namespaces, crds, rest;
  for (const json& o : request.objects) {
    ASSIGN_OR_RETURN(ObjectRef ref, RefOf(o));
    (IsNamespace(ref) ? namespaces : IsCrd(ref) ? crds : rest).push_back({&o, ref});
  }
  ApplyResult result;
  std::set<std::string> made;  // namespaces applied or checked in this call
  for (const Item& n : namespaces) made.insert(n.ref.name);
  auto apply_one = [&](const Item& item) -> absl::Status {
    absl::StatusOr<ResourceInfo> info = discovery_.Lookup(item.ref.api_version, item.ref.kind);
    if (!info.ok()) {
      return absl::Status(info.status().code(),
                          absl::StrCat(item.ref.ToString(), ": ", info.status().message()));
    }
    json object = Prepared(*item.object, *info, request);
    ObjectRef ref = item.ref;
    ref.namespace_ = object["metadata"].value("namespace", "");
    if (info->namespaced && made.insert(ref.namespace_).second) {
      RETURN_IF_ERROR(EnsureNamespace(ref.namespace_, request));
    }
    absl::StatusOr<json> applied = ServerSideApply(*info, object, request.force);
    if (!applied.ok()) {
      return absl::Status(applied.status().code(),
                          absl::StrCat(ref.ToString(), ": ", applied.status().message()));
    }
    const std::string version =
        applied->is_object() ? (*applied)["metadata"].value("resourceVersion", "") : "";
    auto [it, inserted] = versions_.try_emplace(ref, version);
    if (inserted || it->second != version) ++result.written;
    it->second = version;
    result.applied.push_back(ref);
    if (IsCrd(ref)) {
      // Its kinds are served from now on: forget what discovery said.
      const json& spec = (*item.object)["spec"];
      if (spec.is_object() && spec.contains("versions") && spec["versions"].is_array()) {
        for (const json& v : spec["versions"]) {
          if (v.is_object() && v.contains("name") && v["name"].is_string()) {
            discovery_.Invalidate(
                absl::StrCat(spec.value("group", ""), "/", v["name"].get<std::string>()));
          }
        }
      }
    }
    return absl::OkStatus();
  };
  for (const auto* group : {&namespaces, &crds, &rest}) {
    for (const Item& item : *group) RETURN_IF_ERROR(apply_one(item));
  }
  // Pruning: what this deployment applied before and no longer has.
  if (!request.keep_resources) {
    std::set<ObjectRef> now(result.applied.begin(), result.applied.end());
    for (const ObjectRef& old : request.previously_applied) {
      if (now.count(old) > 0) continue;
      if (IsCrd(old) && !request.delete_crd_resources) continue;
      RETURN_IF_ERROR(Delete(old));
      ++result.pruned;
    }
  }
  return result;
}

absl::Status KubeApplier::Delete(const ObjectRef& ref) {
  absl::StatusOr<ResourceInfo> info = discovery_.Lookup(ref.api_version, ref.kind);
  // A kind the server no longer serves has no objects left to delete.
  if (info.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (!info.ok()) return info.status();
  // https://kubernetes.io/docs/concepts/architecture/garbage-collection/#background-deletion
  absl::StatusOr<json> deleted = client_->Call(
      "DELETE",
      absl::StrCat(info->Path(ref.namespace_, ref.name), "?propagationPolicy=Background"));
  versions_.erase(ref);
  if (deleted.ok() || deleted.status().code() == absl::StatusCode::kNotFound) {
    return absl::OkStatus();
  }
  return absl::Status(deleted.status().code(),
                      absl::StrCat("deleting ", ref.ToString(), ": ", deleted.status().message()));
}

absl::Status KubeApplier::Remove(const std::vector<ObjectRef>& objects, bool keep_resources) {
  if (keep_resources) return absl::OkStatus();
  absl::Status first;
  // In reverse: the objects go before their namespaces and CRDs.
  for (auto it = objects.rbegin(); it != objects.rend(); ++it) {
    if (IsCrd(*it)) continue;
    absl::Status st = Delete(*it);
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

absl::StatusOr<std::vector<ObjectRef>> KubeApplier::Drifted(const std::vector<json>& desired) {
  std::vector<ObjectRef> drifted;
  for (const json& o : desired) {
    ASSIGN_OR_RETURN(ObjectRef ref, RefOf(o));
    ASSIGN_OR_RETURN(ResourceInfo info, discovery_.Lookup(ref.api_version, ref.kind));
    if (!info.namespaced) ref.namespace_.clear();
    // Without the inventory, which the live object carries too: compare the
    // bundle's own fields.
    json want = o;
    if (!info.namespaced && want["metadata"].is_object()) want["metadata"].erase("namespace");
    if (info.namespaced && ref.namespace_.empty()) {
      // Applied into the release namespace; only the rest can be compared.
      want["metadata"].erase("namespace");
    }
    absl::StatusOr<json> live = client_->Call("GET", info.Path(ref.namespace_, ref.name));
    if (!live.ok()) {
      if (live.status().code() == absl::StatusCode::kNotFound) {
        drifted.push_back(ref);
        continue;
      }
      return live.status();
    }
    if (!Covers(*live, want)) drifted.push_back(ref);
  }
  return drifted;
}

}  // namespace flotilla::agent::kube
