#include "agent/apply/kube/discovery.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace flotilla::agent::kube {

std::string ResourceInfo::Path(const std::string& ns, const std::string& name) const {
  std::string path = absl::StrContains(api_version, '/') ? absl::StrCat("/apis/", api_version)
                                                         : absl::StrCat("/api/", api_version);
  if (namespaced && !ns.empty()) absl::StrAppend(&path, "/namespaces/", ns);
  absl::StrAppend(&path, "/", resource);
  if (!name.empty()) absl::StrAppend(&path, "/", name);
  return path;
}

absl::Status Discovery::Fetch(const std::string& api_version) {
  const std::string path = absl::StrContains(api_version, '/') ? absl::StrCat("/apis/", api_version)
                                                               : absl::StrCat("/api/", api_version);
  absl::StatusOr<common::Json> list = client_->Call("GET", path);
  if (!list.ok()) {
    if (list.status().code() == absl::StatusCode::kNotFound) {
      cache_[api_version];  // known to be empty until invalidated
      return absl::OkStatus();
    }
    return list.status();
  }
  std::map<std::string, ResourceInfo>& kinds = cache_[api_version];
  kinds.clear();
  if (!list->is_object() || !list->contains("resources") || !(*list)["resources"].is_array()) {
    return absl::InternalError(
        absl::StrCat("GET ", path, ": not an APIResourceList (no \"resources\" list)"));
  }
  for (const common::Json& r : (*list)["resources"]) {
    if (!r.is_object() || !r.contains("name") || !r["name"].is_string() || !r.contains("kind") ||
        !r["kind"].is_string()) {
      continue;
    }
    const std::string name = r["name"].get<std::string>();
    if (absl::StrContains(name, '/')) continue;  // a subresource (deployments/scale)
    ResourceInfo info;
    info.api_version = api_version;
    info.kind = r["kind"].get<std::string>();
    info.resource = name;
    info.namespaced = r.value("namespaced", false);
    kinds.emplace(info.kind, std::move(info));
  }
  return absl::OkStatus();
}

absl::StatusOr<ResourceInfo> Discovery::Lookup(const std::string& api_version,
                                               const std::string& kind) {
  auto find = [&]() -> const ResourceInfo* {
    auto gv = cache_.find(api_version);
    if (gv == cache_.end()) return nullptr;
    auto k = gv->second.find(kind);
    return k == gv->second.end() ? nullptr : &k->second;
  };
  if (const ResourceInfo* info = find()) return *info;
  RETURN_IF_ERROR(Fetch(api_version));
  if (const ResourceInfo* info = find()) return *info;
  return absl::NotFoundError(absl::StrCat("the API server does not serve kind ", kind, " in ",
                                          api_version,
                                          " (is its CustomResourceDefinition installed?)"));
}

}  // namespace flotilla::agent::kube
