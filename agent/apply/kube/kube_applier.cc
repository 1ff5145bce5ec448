#include "agent/apply/kube/kube_applier.h"

#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/apply/drift.h"
#include "agent/apply/kube/readiness.h"
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

std::string Query(bool force) {
  return absl::StrCat("?fieldManager=", kFieldManager, force ? "&force=true" : "");
}

// Namespaces deleteNamespace never deletes: the cluster's own and
// Flotilla's install namespaces (Fleet keeps default and its own too).
bool ProtectedNamespace(const std::string& ns) {
  return ns == "default" || absl::StartsWith(ns, "kube-") || ns == "flotilla-system" ||
         ns == "flotilla-agent";
}

std::string AnnotationOf(const json& object, const char* key) {
  if (!object.is_object() || !object.contains("metadata")) return "";
  const json& meta = object["metadata"];
  if (!meta.is_object() || !meta.contains("annotations") || !meta["annotations"].is_object()) {
    return "";
  }
  const json& a = meta["annotations"];
  return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : "";
}

// https://kubernetes.io/docs/reference/using-api/api-concepts/#collections
// (labelSelector is a query parameter; its "=" and "/" are escaped).
std::string SelectorQuery(const std::string& label_value) {
  return absl::StrCat("?labelSelector=flotilla.dev%2Fbundle-deployment%3D", label_value);
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

absl::StatusOr<json> KubeApplier::ServerSideApply(KubeClient& writer, const ResourceInfo& info,
                                                  const json& object, bool force) {
  const json& meta = object["metadata"];
  const std::string ns = meta.value("namespace", "");
  const std::string path =
      absl::StrCat(info.Path(ns, meta["name"].get<std::string>()), Query(force));
  return writer.Call("PATCH", path, object.dump(), "application/apply-patch+yaml");
}

absl::Status KubeApplier::EnsureNamespace(KubeClient& writer, const std::string& ns,
                                          const ApplyRequest& request) {
  ASSIGN_OR_RETURN(ResourceInfo info, discovery_.Lookup("v1", "Namespace"));
  const bool release = ns == request.release_namespace;
  if (!release || (request.namespace_labels.empty() && request.namespace_annotations.empty())) {
    absl::StatusOr<json> live = client_->Call("GET", info.Path("", ns));
    if (live.ok()) return absl::OkStatus();
    if (live.status().code() != absl::StatusCode::kNotFound) return live.status();
  }
  // Created (or, for the release namespace, labelled) by apply.
  json object = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
  if (release) {
    for (const auto& [k, v] : request.namespace_labels) {
      // As Fleet: pod security admission stays the cluster's decision.
      if (absl::StartsWith(k, "pod-security.kubernetes.io/")) continue;
      object["metadata"]["labels"][k] = v;
    }
    for (const auto& [k, v] : request.namespace_annotations) {
      object["metadata"]["annotations"][k] = v;
    }
  }
  absl::StatusOr<json> applied = ServerSideApply(writer, info, object, request.force);
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
  ASSIGN_OR_RETURN(KubeClient * writer, WriterFor(request.service_account));
  ApplyResult result;
  const std::set<ObjectRef> ours(request.previously_applied.begin(),
                                 request.previously_applied.end());
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
      RETURN_IF_ERROR(EnsureNamespace(*writer, ref.namespace_, request));
    }
    auto known = versions_.find(ref);
    const bool applied_by_us =
        ours.count(ref) > 0 || (known != versions_.end() &&
                                known->second.bundle_deployment_id == request.bundle_deployment_id);
    bool force = request.force;
    if (!applied_by_us) {
      absl::Status owner = CheckOwner(*info, ref, request.bundle_deployment_id);
      if (!owner.ok()) {
        if (!request.take_ownership || owner.code() != absl::StatusCode::kFailedPrecondition) {
          return owner;
        }
        // Adopting: the fields its old managers set become ours too.
        force = true;
      }
    }
    absl::StatusOr<json> applied = ServerSideApply(*writer, *info, object, force);
    if (!applied.ok()) {
      return absl::Status(applied.status().code(),
                          absl::StrCat(ref.ToString(), ": ", applied.status().message()));
    }
    const std::string version =
        applied->is_object() ? (*applied)["metadata"].value("resourceVersion", "") : "";
    auto [it, inserted] = versions_.try_emplace(ref);
    if (inserted || it->second.resource_version != version) ++result.written;
    it->second = {request.bundle_deployment_id, version};
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
      RETURN_IF_ERROR(Delete(*writer, old));
      ++result.pruned;
    }
  }
  return result;
}

absl::Status KubeApplier::Delete(KubeClient& writer, const ObjectRef& ref) {
  absl::StatusOr<ResourceInfo> info = discovery_.Lookup(ref.api_version, ref.kind);
  // A kind the server no longer serves has no objects left to delete.
  if (info.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (!info.ok()) return info.status();
  // https://kubernetes.io/docs/concepts/architecture/garbage-collection/#background-deletion
  absl::StatusOr<json> deleted = writer.Call(
      "DELETE",
      absl::StrCat(info->Path(ref.namespace_, ref.name), "?propagationPolicy=Background"));
  versions_.erase(ref);
  if (deleted.ok() || deleted.status().code() == absl::StatusCode::kNotFound) {
    return absl::OkStatus();
  }
  return absl::Status(deleted.status().code(),
                      absl::StrCat("deleting ", ref.ToString(), ": ", deleted.status().message()));
}

absl::StatusOr<KubeClient*> KubeApplier::WriterFor(const std::string& service_account) {
  if (service_account.empty()) return client_.get();
  const std::string ns =
      client_->config().default_namespace.empty() ? "default" : client_->config().default_namespace;
  // Fleet looks the account up in the agent's namespace, and so do we; a
  // missing one is an error, never a silent fall-back to the agent's rights.
  absl::StatusOr<json> sa = client_->Call(
      "GET", absl::StrCat("/api/v1/namespaces/", ns, "/serviceaccounts/", service_account));
  if (sa.status().code() == absl::StatusCode::kNotFound) {
    return absl::FailedPreconditionError(
        absl::StrCat("serviceAccount ", service_account, ": no such ServiceAccount in namespace ",
                     ns, " (the agent's); create it there with the rights the bundle needs"));
  }
  if (!sa.ok()) {
    return absl::Status(sa.status().code(), absl::StrCat("serviceAccount ", service_account, ": ",
                                                         sa.status().message()));
  }
  auto it = impersonating_.find(service_account);
  if (it == impersonating_.end()) {
    ASSIGN_OR_RETURN(std::unique_ptr<KubeClient> as,
                     client_->Impersonating(ServiceAccountUser(ns, service_account)));
    it = impersonating_.emplace(service_account, std::move(as)).first;
  }
  return it->second.get();
}

absl::Status KubeApplier::CheckOwner(const ResourceInfo& info, const ObjectRef& ref,
                                     const std::string& bundle_deployment_id) {
  absl::StatusOr<json> live = client_->Call("GET", info.Path(ref.namespace_, ref.name));
  if (live.status().code() == absl::StatusCode::kNotFound) return absl::OkStatus();
  if (!live.ok()) {
    return absl::Status(live.status().code(),
                        absl::StrCat(ref.ToString(), ": ", live.status().message()));
  }
  const std::string owner = AnnotationOf(*live, kBundleDeploymentAnnotation);
  if (owner == bundle_deployment_id) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(ref.ToString(), " already exists and ",
                   owner.empty() ? "is not managed by Flotilla"
                                 : absl::StrCat("belongs to bundle deployment ", owner),
                   "; set takeOwnership: true in fleet.yaml to adopt it"));
}

absl::Status KubeApplier::Remove(const RemoveRequest& request) {
  if (request.keep_resources) return absl::OkStatus();
  ASSIGN_OR_RETURN(KubeClient * writer, WriterFor(request.service_account));
  absl::Status first;
  // In reverse: the objects go before their namespaces and CRDs.
  for (auto it = request.objects.rbegin(); it != request.objects.rend(); ++it) {
    if (IsCrd(*it)) continue;
    absl::Status st = Delete(*writer, *it);
    if (!st.ok() && first.ok()) first = st;
  }
  if (!request.delete_namespace.empty() && !ProtectedNamespace(request.delete_namespace)) {
    absl::Status st = Delete(*writer, {"v1", "Namespace", "", request.delete_namespace});
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

absl::StatusOr<CheckResult> KubeApplier::Check(const CheckRequest& request) {
  struct Wanted {
    ObjectRef ref;
    const json* object;
  };
  struct Collection {
    ResourceInfo info;
    std::string ns;
    std::vector<Wanted> wanted;
  };
  CheckResult result;
  // One list per kind and namespace, by the inventory label: the live
  // objects and, among them, the extra ones.
  std::map<std::string, Collection> collections;
  for (const json& o : request.desired) {
    ASSIGN_OR_RETURN(ObjectRef ref, RefOf(o));
    absl::StatusOr<ResourceInfo> info = discovery_.Lookup(ref.api_version, ref.kind);
    if (info.status().code() == absl::StatusCode::kNotFound) {
      result.modified.push_back({ref, absl::StrCat("missing: ", info.status().message())});
      continue;
    }
    if (!info.ok()) return info.status();
    if (!info->namespaced) {
      ref.namespace_.clear();
    } else if (ref.namespace_.empty()) {
      ref.namespace_ = request.release_namespace.empty() ? "default" : request.release_namespace;
    }
    if (IgnoredByComparePatches(request.compare_patches, ref)) continue;
    Collection& c = collections[info->Path(ref.namespace_, "")];
    c.info = *info;
    c.ns = ref.namespace_;
    c.wanted.push_back({ref, &o});
  }
  const std::string label = InventoryLabelValue(request.bundle_deployment_id);
  for (auto& [path, c] : collections) {
    ASSIGN_OR_RETURN(json list, client_->Call("GET", absl::StrCat(path, SelectorQuery(label))));
    std::map<std::string, json> live;
    if (list.contains("items") && list["items"].is_array()) {
      for (json& item : list["items"]) {
        std::string name = item["metadata"].value("name", "");
        live[name] = std::move(item);
      }
    }
    for (const Wanted& w : c.wanted) {
      auto it = live.find(w.ref.name);
      if (it == live.end()) {
        // Gone, or there without our label (someone else's object now).
        absl::StatusOr<json> one = client_->Call("GET", c.info.Path(c.ns, w.ref.name));
        if (one.ok()) {
          result.modified.push_back({w.ref, "not owned by us"});
        } else if (one.status().code() == absl::StatusCode::kNotFound) {
          result.modified.push_back({w.ref, "missing"});
        } else {
          return one.status();
        }
        continue;
      }
      json got = std::move(it->second);
      live.erase(it);
      // List items carry no apiVersion and kind.
      got["apiVersion"] = w.ref.api_version;
      got["kind"] = w.ref.kind;
      json want = *w.object;
      if (c.info.namespaced) {
        want["metadata"]["namespace"] = c.ns;
      } else if (want["metadata"].is_object()) {
        want["metadata"].erase("namespace");
      }
      json live_cmp = got;
      NormalizeForCompare(request.compare_patches, w.ref, live_cmp);
      NormalizeForCompare(request.compare_patches, w.ref, want);
      json patch = DriftPatch(live_cmp, want);
      if (!patch.empty())
        result.modified.push_back({w.ref, absl::StrCat("modified ", patch.dump())});
      Readiness r = JudgeReadiness(got, request.ignore_conditions);
      if (!r.ready) {
        result.non_ready.push_back(
            {w.ref, r.failed ? absl::StrCat("error: ", r.message) : r.message});
      }
    }
    for (const auto& [name, extra] : live) {
      ObjectRef ref{c.info.api_version, c.info.kind, c.info.namespaced ? c.ns : "", name};
      if (IgnoredByComparePatches(request.compare_patches, ref)) continue;
      result.modified.push_back({ref, "extra"});
    }
  }
  return result;
}

}  // namespace flotilla::agent::kube
