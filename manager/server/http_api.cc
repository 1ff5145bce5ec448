#include "manager/server/http_api.h"

#include <google/protobuf/util/json_util.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"

namespace flotilla::manager {
namespace {

int HttpStatusOf(const absl::Status& st) {
  switch (st.code()) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

HttpServer::ApiReply Error(const absl::Status& st) {
  nlohmann::json body = {{"code", absl::StatusCodeToString(st.code())},
                         {"message", std::string(st.message())}};
  return {HttpStatusOf(st), body.dump()};
}

template <typename Msg>
HttpServer::ApiReply Reply(const absl::StatusOr<Msg>& result) {
  if (!result.ok()) return Error(result.status());
  std::string json;
  google::protobuf::util::JsonPrintOptions opts;
  auto st = google::protobuf::util::MessageToJsonString(*result, &json, opts);
  if (!st.ok()) return Error(absl::InternalError(std::string(st.message())));
  return {200, json};
}

std::string Param(const std::map<std::string, std::string>& q, const char* key) {
  auto it = q.find(key);
  return it == q.end() ? "" : it->second;
}

absl::Status ListOptionsFrom(const std::map<std::string, std::string>& q, v1::ListOptions* o) {
  o->set_label_selector(Param(q, "labelSelector"));
  o->set_page_token(Param(q, "pageToken"));
  if (const std::string size = Param(q, "pageSize"); !size.empty()) {
    int n = 0;
    if (!absl::SimpleAtoi(size, &n)) {
      return absl::InvalidArgumentError(absl::StrCat("pageSize \"", size, "\" is not a number"));
    }
    o->set_page_size(n);
  }
  return absl::OkStatus();
}

}  // namespace

HttpServer::ApiReply ServeHttpApi(FleetApi& api, const std::string& path,
                                  const std::map<std::string, std::string>& query,
                                  const std::string& authorization) {
  auto principal = api.Authenticate(authorization);
  if (!principal.ok()) return Error(principal.status());
  const Principal& p = *principal;
  absl::string_view rest = path;
  if (!absl::ConsumePrefix(&rest, "/api/v1/")) {
    return Error(absl::NotFoundError(absl::StrCat("no API at ", path)));
  }
  std::vector<std::string> parts = absl::StrSplit(rest, '/', absl::SkipEmpty());
  if (parts.empty() || parts.size() > 2) {
    return Error(absl::NotFoundError(absl::StrCat("no API at ", path)));
  }
  const std::string& kind = parts[0];
  if (parts.size() == 2) {
    v1::GetRequest get;
    get.set_name(parts[1]);
    if (kind == "gitrepos") return Reply(api.GetGitRepo(p, get));
    if (kind == "bundles") return Reply(api.GetBundle(p, get));
    if (kind == "clusters") return Reply(api.GetCluster(p, get));
    if (kind == "clustergroups") return Reply(api.GetClusterGroup(p, get));
    return Error(absl::NotFoundError(absl::StrCat("no API at ", path)));
  }
  if (kind == "audit") {
    v1::ListAuditRequest req;
    int64_t after = 0;
    int limit = 0;
    if (!Param(query, "afterSeq").empty() && !absl::SimpleAtoi(Param(query, "afterSeq"), &after)) {
      return Error(absl::InvalidArgumentError("afterSeq must be a number"));
    }
    if (!Param(query, "limit").empty() && !absl::SimpleAtoi(Param(query, "limit"), &limit)) {
      return Error(absl::InvalidArgumentError("limit must be a number"));
    }
    req.set_after_seq(after);
    req.set_limit(limit);
    req.set_resource(Param(query, "resource"));
    return Reply(api.ListAudit(p, req));
  }
  if (kind == "gitrepos") {
    v1::ListGitReposRequest req;
    if (auto st = ListOptionsFrom(query, req.mutable_options()); !st.ok()) return Error(st);
    return Reply(api.ListGitRepos(p, req));
  }
  if (kind == "bundles") {
    v1::ListBundlesRequest req;
    if (auto st = ListOptionsFrom(query, req.mutable_options()); !st.ok()) return Error(st);
    req.set_gitrepo_name(Param(query, "gitrepo"));
    req.set_state(Param(query, "state"));
    return Reply(api.ListBundles(p, req));
  }
  if (kind == "clusters") {
    v1::ListClustersRequest req;
    if (auto st = ListOptionsFrom(query, req.mutable_options()); !st.ok()) return Error(st);
    req.set_state(Param(query, "state"));
    return Reply(api.ListClusters(p, req));
  }
  if (kind == "clustergroups") {
    v1::ListClusterGroupsRequest req;
    if (auto st = ListOptionsFrom(query, req.mutable_options()); !st.ok()) return Error(st);
    return Reply(api.ListClusterGroups(p, req));
  }
  if (kind == "bundledeployments") {
    v1::ListBundleDeploymentsRequest req;
    if (auto st = ListOptionsFrom(query, req.mutable_options()); !st.ok()) return Error(st);
    req.set_cluster(Param(query, "cluster"));
    req.set_bundle_name(Param(query, "bundle"));
    req.set_gitrepo_name(Param(query, "gitrepo"));
    req.set_state(Param(query, "state"));
    return Reply(api.ListBundleDeployments(p, req));
  }
  return Error(absl::NotFoundError(absl::StrCat(
      "no API at ", path,
      ": use gitrepos, bundles, clusters, clustergroups, bundledeployments or audit")));
}

}  // namespace flotilla::manager
