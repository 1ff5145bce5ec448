// The JSON mirror of the operator API's reads on the HTTP port (docs/api.md):
// the same FleetApi calls as gRPC, with the same token, roles, filters and
// paging, answered as protobuf JSON (camelCase field names).
//
//   GET /api/v1/gitrepos[/NAME]            ?labelSelector=&pageSize=&pageToken=
//   GET /api/v1/bundles[/NAME]             ... &gitrepo=&state=
//   GET /api/v1/clusters[/NAME]            ... &state=
//   GET /api/v1/clustergroups[/NAME]
//   GET /api/v1/bundledeployments          ... &cluster=&bundle=&gitrepo=&state=
//   GET /api/v1/audit                      ?afterSeq=&limit=&resource=
//
// Errors: {"code": "NOT_FOUND", "message": "..."} with 400, 401, 403, 404,
// 500 or 503.
#pragma once

#include "manager/server/fleet_api.h"
#include "manager/server/http_server.h"

namespace flotilla::manager {

HttpServer::ApiReply ServeHttpApi(FleetApi& api, const std::string& path,
                                  const std::map<std::string, std::string>& query,
                                  const std::string& authorization);

}  // namespace flotilla::manager
