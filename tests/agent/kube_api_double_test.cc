// The Kubernetes API double the applier tests run against, exercised over
// real HTTPS with libcurl the way a client would: discovery, server-side
// apply with field ownership, lists with label selectors, deletion, auth and
// injected faults.
#include "tests/support/kube_api_double.h"

#include <curl/curl.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/yaml.h"

namespace flotilla::testing {
namespace {

using Json = common::Json;

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lowercase names
  Json json;                                   // the body parsed, or null
};

// A minimal Kubernetes REST client over one libcurl handle, so requests reuse
// one keep-alive connection as client-go's would.
class KubeClient {
 public:
  KubeClient(const KubeApiDouble& server, std::string token)
      : base_(server.url()),
        ca_(server.ca_pem()),
        token_(std::move(token)),
        curl_(curl_easy_init(), &curl_easy_cleanup) {
    REQUIRE(curl_ != nullptr);
  }

  void set_token(std::string token) { token_ = std::move(token); }
  // One more request header ("Name: value") on every request; "" for none.
  void set_extra_header(std::string header) { extra_header_ = std::move(header); }

  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body = "", const std::string& content_type = "") {
    CURL* c = curl_.get();
    curl_easy_reset(c);  // keeps the connection cache
    HttpResult result;
    const std::string url = base_ + path;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_blob ca{const_cast<char*>(ca_.data()), ca_.size(), CURL_BLOB_COPY};
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (method == "GET") curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (!body.empty() || method == "PATCH") {
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_slist* headers = nullptr;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (!token_.empty()) {
      headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
    }
    if (!extra_header_.empty()) headers = curl_slist_append(headers, extra_header_.c_str());
    if (!content_type.empty()) {
      headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &KubeClient::OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &result.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &KubeClient::OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &result.headers);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    const CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(headers);
    INFO(method << " " << path << ": " << curl_easy_strerror(rc));
    REQUIRE(rc == CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &result.status);
    if (!result.body.empty()) result.json = Json::parse(result.body, nullptr, false);
    return result;
  }

  HttpResult Get(const std::string& path) { return Request("GET", path); }
  HttpResult Delete(const std::string& path, const std::string& body = "") {
    return Request("DELETE", path, body, body.empty() ? "" : "application/json");
  }
  // Server-side apply of `yaml` at `path` as `manager`.
  HttpResult Apply(const std::string& path, const std::string& yaml,
                   const std::string& manager = "flotilla", bool force = false) {
    std::string query = "?fieldManager=" + manager;
    if (force) query += "&force=true";
    return Request("PATCH", path + query, yaml, "application/apply-patch+yaml");
  }

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* out) {
    const std::string line(data, size * n);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      (*static_cast<std::map<std::string, std::string>*>(
          out))[absl::AsciiStrToLower(line.substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    }
    return size * n;
  }

  std::string base_;
  std::string ca_;
  std::string token_;
  std::string extra_header_;
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl_;
};

constexpr char kConfigMapPath[] = "/api/v1/namespaces/apps/configmaps/settings";

std::string Namespace(const std::string& name) {
  return absl::StrCat("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ", name, "\n");
}

std::string ConfigMap(const std::string& data, const std::string& labels = "") {
  return absl::StrCat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
                      labels.empty() ? "" : "  labels:\n" + labels, "data:\n", data);
}

// A double with namespace `apps` already applied.
struct Fixture {
  KubeApiDouble server;
  KubeClient client{server, "test-token"};
  Fixture() { REQUIRE(client.Apply("/api/v1/namespaces/apps", Namespace("apps")).status == 201); }
};

// Owned leaves of `manager` in the FieldsV1 of `object`'s managedFields.
Json FieldsOf(const Json& object, const std::string& manager) {
  for (const Json& entry : object["metadata"].value("managedFields", Json::array())) {
    if (entry["manager"] == manager) return entry["fieldsV1"];
  }
  return Json();
}

// Discovery answers what a client needs to map kinds to paths: core
// versions, groups with preferred versions, and resource lists; unknown group
// versions are 404.
TEST_CASE("Discovery lists the core version, the groups and their resources", "[kube-double]") {
  KubeApiDouble server;
  KubeClient client(server, "test-token");

  HttpResult api = client.Get("/api");
  REQUIRE(api.status == 200);
  CHECK(api.json["kind"] == "APIVersions");
  CHECK(api.json["versions"] == Json::array({"v1"}));

  HttpResult groups = client.Get("/apis");
  REQUIRE(groups.status == 200);
  CHECK(groups.json["kind"] == "APIGroupList");
  bool found_apps = false;
  for (const Json& g : groups.json["groups"]) {
    if (g["name"] != "apps") continue;
    found_apps = true;
    CHECK(g["versions"][0]["groupVersion"] == "apps/v1");
    CHECK(g["preferredVersion"] == Json({{"groupVersion", "apps/v1"}, {"version", "v1"}}));
  }
  CHECK(found_apps);

  HttpResult core = client.Get("/api/v1");
  REQUIRE(core.status == 200);
  CHECK(core.json["kind"] == "APIResourceList");
  CHECK(core.json["groupVersion"] == "v1");
  std::map<std::string, Json> by_name;
  for (const Json& r : core.json["resources"]) by_name[r["name"]] = r;
  REQUIRE(by_name.count("configmaps") == 1);
  CHECK(by_name["configmaps"]["kind"] == "ConfigMap");
  CHECK(by_name["configmaps"]["singularName"] == "configmap");
  CHECK(by_name["configmaps"]["namespaced"] == true);
  CHECK(by_name["namespaces"]["namespaced"] == false);
  const Json verbs = by_name["configmaps"]["verbs"];
  CHECK(std::find(verbs.begin(), verbs.end(), "patch") != verbs.end());

  HttpResult rbac = client.Get("/apis/rbac.authorization.k8s.io/v1");
  REQUIRE(rbac.status == 200);
  CHECK(rbac.json["groupVersion"] == "rbac.authorization.k8s.io/v1");
  bool cluster_role_cluster_scoped = false;
  for (const Json& r : rbac.json["resources"]) {
    if (r["kind"] == "ClusterRole") cluster_role_cluster_scoped = r["namespaced"] == false;
  }
  CHECK(cluster_role_cluster_scoped);

  HttpResult missing_group = client.Get("/apis/example.com/v1");
  CHECK(missing_group.status == 404);
  CHECK(missing_group.json["kind"] == "Status");
  CHECK(missing_group.json["reason"] == "NotFound");
  CHECK(client.Get("/apis/apps/v2").status == 404);

  HttpResult unknown = client.Get("/api/v1/namespaces/apps/widgets/x");
  CHECK(unknown.status == 404);
  CHECK(unknown.json["message"] == "the server could not find the requested resource");

  // All of it on one keep-alive connection, until the client asks to close.
  CHECK(server.connections() == 1);
  CHECK(server.requests().front() == "GET /api");
  client.set_extra_header("Connection: close");
  HttpResult closing = client.Get("/api");
  CHECK(closing.headers["connection"] == "close");
  CHECK(client.Get("/api").status == 200);
  CHECK(server.connections() == 2);
}

// The first apply creates the object with server-set metadata and the
// applier's managedFields; the same apply again changes nothing at all.
TEST_CASE("Apply creates with 201 and an unchanged re-apply is not a write", "[kube-double]") {
  Fixture f;
  HttpResult missing = f.client.Get(kConfigMapPath);
  CHECK(missing.status == 404);
  CHECK(missing.json == Json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"configmaps \"settings\" not found","reason":"NotFound",
      "details":{"name":"settings","kind":"configmaps"},"code":404})"));

  const int writes_before = f.server.writes();
  HttpResult created = f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n  size: L\n"));
  REQUIRE(created.status == 201);
  CHECK(f.server.writes() == writes_before + 1);
  const Json& md = created.json["metadata"];
  CHECK(created.json["data"] == Json({{"color", "blue"}, {"size", "L"}}));
  CHECK(md["namespace"] == "apps");
  CHECK(md["generation"] == 1);
  CHECK_FALSE(md["uid"].get<std::string>().empty());
  CHECK_FALSE(md["creationTimestamp"].get<std::string>().empty());
  const std::string rv = md["resourceVersion"];
  REQUIRE(md["managedFields"].size() == 1);
  const Json& entry = md["managedFields"][0];
  CHECK(entry["manager"] == "flotilla");
  CHECK(entry["operation"] == "Apply");
  CHECK(entry["apiVersion"] == "v1");
  CHECK(entry["fieldsType"] == "FieldsV1");
  CHECK(entry["fieldsV1"] == Json::parse(R"({"f:data":{"f:color":{},"f:size":{}}})"));

  HttpResult again = f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n  size: L\n"));
  CHECK(again.status == 200);
  CHECK(again.json["metadata"]["resourceVersion"] == rv);
  CHECK(f.server.writes() == writes_before + 1);

  HttpResult got = f.client.Get(kConfigMapPath);
  CHECK(got.status == 200);
  CHECK(got.json["kind"] == "ConfigMap");
  CHECK(got.json["metadata"]["resourceVersion"] == rv);
}

// A field the manager applied before and omits now is removed; the change
// bumps resourceVersion and generation.
TEST_CASE("Apply without a previously applied field removes it", "[kube-double]") {
  Fixture f;
  HttpResult first = f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n  size: L\n"));
  REQUIRE(first.status == 201);
  HttpResult second = f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n"));
  REQUIRE(second.status == 200);
  CHECK(second.json["data"] == Json({{"color", "blue"}}));
  CHECK(second.json["metadata"]["generation"] == 2);
  CHECK(std::stoll(second.json["metadata"]["resourceVersion"].get<std::string>()) >
        std::stoll(first.json["metadata"]["resourceVersion"].get<std::string>()));
  CHECK(FieldsOf(second.json, "flotilla") == Json::parse(R"({"f:data":{"f:color":{}}})"));

  // A status update by a controller moves resourceVersion, not generation.
  f.server.SetStatus("v1", "ConfigMap", "apps", "settings", Json{{"observed", true}});
  std::optional<Json> stored = f.server.Get("v1", "ConfigMap", "apps", "settings");
  REQUIRE(stored.has_value());
  CHECK((*stored)["metadata"]["generation"] == 2);
  CHECK((*stored)["metadata"]["resourceVersion"] != second.json["metadata"]["resourceVersion"]);
}

// Someone edits a field the applier owns (kubectl edit): the next apply
// conflicts on it, naming the field and the other manager; force takes it
// back. Another manager applying the same value only shares ownership.
TEST_CASE("Apply conflicts on a field another manager changed, and force takes it",
          "[kube-double]") {
  Fixture f;
  REQUIRE(f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n  size: L\n")).status == 201);
  Json edited = *f.server.Get("v1", "ConfigMap", "apps", "settings");
  edited["data"]["color"] = "red";
  f.server.Put(edited);
  Json drifted = *f.server.Get("v1", "ConfigMap", "apps", "settings");
  CHECK(drifted["data"]["color"] == "red");
  CHECK(FieldsOf(drifted, "kubectl-edit") == Json::parse(R"({"f:data":{"f:color":{}}})"));
  CHECK(FieldsOf(drifted, "flotilla") == Json::parse(R"({"f:data":{"f:size":{}}})"));

  const int writes_before = f.server.writes();
  HttpResult conflict = f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n  size: L\n"));
  CHECK(conflict.status == 409);
  CHECK(conflict.json["reason"] == "Conflict");
  CHECK(conflict.json["message"] ==
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using v1: .data.color");
  CHECK(conflict.json["details"]["causes"][0]["field"] == ".data.color");
  CHECK(f.server.writes() == writes_before);

  HttpResult forced =
      f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n  size: L\n"), "flotilla", true);
  CHECK(forced.status == 200);
  CHECK(forced.json["data"]["color"] == "blue");
  CHECK(FieldsOf(forced.json, "kubectl-edit").is_null());
  CHECK(FieldsOf(forced.json, "flotilla") ==
        Json::parse(R"({"f:data":{"f:color":{},"f:size":{}}})"));

  // Same value from a second applier: shared, no conflict.
  HttpResult shared = f.client.Apply(kConfigMapPath, ConfigMap("  color: blue\n"), "other");
  CHECK(shared.status == 200);
  CHECK(FieldsOf(shared.json, "other") == Json::parse(R"({"f:data":{"f:color":{}}})"));
  // flotilla dropping color keeps it: "other" still owns it.
  HttpResult dropped = f.client.Apply(kConfigMapPath, ConfigMap("  size: L\n"));
  CHECK(dropped.json["data"] == Json({{"color", "blue"}, {"size", "L"}}));
}

// Lists of containers merge by name: the conflict names the item by key, and
// an omitted container is removed.
TEST_CASE("Apply merges containers by name and reports keyed conflict paths", "[kube-double]") {
  Fixture f;
  const std::string path = "/apis/apps/v1/namespaces/apps/deployments/web";
  auto deployment = [](const std::string& containers) {
    return absl::StrCat(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n"
        "  template:\n    spec:\n      containers:\n",
        containers);
  };
  const std::string two =
      "      - name: web\n        image: nginx:1\n      - name: sidecar\n        image: envoy:1\n";
  HttpResult created = f.client.Apply(path, deployment(two));
  REQUIRE(created.status == 201);
  CHECK(FieldsOf(created.json, "flotilla")["f:spec"]["f:template"]["f:spec"]["f:containers"] ==
        Json::parse(R"({"k:{\"name\":\"sidecar\"}":{".":{},"f:image":{},"f:name":{}},
                        "k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}})"));

  Json edited = *f.server.Get("apps/v1", "Deployment", "apps", "web");
  edited["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2";
  f.server.Put(edited);
  HttpResult conflict = f.client.Apply(path, deployment(two));
  CHECK(conflict.status == 409);
  CHECK(conflict.json["message"] ==
        "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: "
        ".spec.template.spec.containers[name=\"web\"].image");

  HttpResult one = f.client.Apply(path, deployment("      - name: web\n        image: nginx:2\n"));
  CHECK(one.status == 200);
  CHECK(one.json["spec"]["template"]["spec"]["containers"] ==
        Json::parse(R"([{"name":"web","image":"nginx:2"}])"));
  CHECK(one.json["metadata"]["generation"] == 3);  // the edit, then the apply
}

// Malformed applies are rejected the way the real server rejects them.
TEST_CASE("Apply needs a field manager, a matching name and an existing namespace",
          "[kube-double]") {
  Fixture f;
  HttpResult no_manager = f.client.Request("PATCH", kConfigMapPath, ConfigMap("  a: b\n"),
                                           "application/apply-patch+yaml");
  CHECK(no_manager.status == 422);
  CHECK(absl::StrContains(no_manager.json["message"].get<std::string>(),
                          "fieldManager: Required value"));

  HttpResult wrong_name =
      f.client.Apply("/api/v1/namespaces/apps/configmaps/other", ConfigMap("  a: b\n"));
  CHECK(wrong_name.status == 400);
  CHECK(wrong_name.json["message"] ==
        "the name of the object (settings) does not match the name on the URL (other)");

  HttpResult no_namespace =
      f.client.Apply("/api/v1/namespaces/nope/configmaps/settings", ConfigMap("  a: b\n"));
  CHECK(no_namespace.status == 404);
  CHECK(no_namespace.json["message"] == "namespaces \"nope\" not found");
  CHECK(no_namespace.json["details"] == Json({{"name", "nope"}, {"kind", "namespaces"}}));

  HttpResult merge = f.client.Request("PATCH", kConfigMapPath + std::string("?fieldManager=x"),
                                      R"({"data":{"a":"b"}})", "application/merge-patch+json");
  CHECK(merge.status == 415);
  CHECK(merge.json["reason"] == "UnsupportedMediaType");

  // JSON is YAML: an apply body in JSON works as well.
  HttpResult json_body = f.client.Apply(
      kConfigMapPath,
      R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"b"}})");
  CHECK(json_body.status == 201);
}

// Label selectors: equality, inequality, existence and set-based, ANDed by
// commas; a malformed selector is 400.
TEST_CASE("List filters by label selector", "[kube-double]") {
  Fixture f;
  REQUIRE(f.client.Apply("/api/v1/namespaces/other", Namespace("other")).status == 201);
  auto apply = [&](const std::string& ns, const std::string& name, const Json& labels) {
    Json cm = {{"apiVersion", "v1"},
               {"kind", "ConfigMap"},
               {"metadata", {{"name", name}}},
               {"data", {{"k", "v"}}}};
    if (!labels.empty()) cm["metadata"]["labels"] = labels;
    REQUIRE(f.client.Apply(absl::StrCat("/api/v1/namespaces/", ns, "/configmaps/", name), cm.dump())
                .status == 201);
  };
  apply("apps", "a", {{"app", "web"}, {"tier", "front"}});
  apply("apps", "b", {{"app", "db"}});
  apply("apps", "c", Json::object());
  apply("other", "d", {{"app", "web"}});

  auto names = [&](const std::string& path) {
    HttpResult r = f.client.Get(path);
    REQUIRE(r.status == 200);
    CHECK(r.json["kind"] == "ConfigMapList");
    CHECK(r.json["apiVersion"] == "v1");
    CHECK_FALSE(r.json["metadata"]["resourceVersion"].get<std::string>().empty());
    std::vector<std::string> out;
    for (const Json& item : r.json["items"]) {
      CHECK_FALSE(item.contains("kind"));  // as the real server's built-in lists
      out.push_back(item["metadata"]["name"]);
    }
    return out;
  };
  using V = std::vector<std::string>;
  const std::string base = "/api/v1/namespaces/apps/configmaps";
  CHECK(names(base) == V{"a", "b", "c"});
  CHECK(names(base + "?labelSelector=app%3Dweb") == V{"a"});
  CHECK(names(base + "?labelSelector=app%3D%3Ddb") == V{"b"});
  CHECK(names(base + "?labelSelector=app!%3Dweb") == V{"b", "c"});
  CHECK(names(base + "?labelSelector=app") == V{"a", "b"});
  CHECK(names(base + "?labelSelector=!app") == V{"c"});
  CHECK(names(base + "?labelSelector=app%20in%20(web,db)") == V{"a", "b"});
  CHECK(names(base + "?labelSelector=app%20notin%20(web)") == V{"b", "c"});
  CHECK(names(base + "?labelSelector=app%3Dweb,tier%3Dfront") == V{"a"});
  CHECK(names(base + "?labelSelector=app%3Dweb,tier%3Dback").empty());
  CHECK(names("/api/v1/configmaps?labelSelector=app%3Dweb") == V{"a", "d"});

  HttpResult bad = f.client.Get(base + "?labelSelector=app%20in%20(web");
  CHECK(bad.status == 400);
  CHECK(bad.json["reason"] == "BadRequest");
}

// DELETE of one object answers a Success Status; deleting a namespace takes
// everything in it; a collection DELETE takes only what the selector matches.
TEST_CASE("Delete removes objects, namespaces with their contents and selected collections",
          "[kube-double]") {
  Fixture f;
  REQUIRE(f.client.Apply(kConfigMapPath, ConfigMap("  a: b\n")).status == 201);
  HttpResult deleted = f.client.Delete(
      kConfigMapPath + std::string("?propagationPolicy=Background"),
      R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})");
  CHECK(deleted.status == 200);
  CHECK(deleted.json["kind"] == "Status");
  CHECK(deleted.json["status"] == "Success");
  CHECK(deleted.json["details"]["name"] == "settings");
  CHECK(f.client.Delete(kConfigMapPath).status == 404);

  // YAML 1.1 (as sigs.k8s.io/yaml reads it): an unquoted `y` is a boolean.
  HttpResult bool_name = f.client.Apply("/api/v1/namespaces/apps/configmaps/y",
                                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: y\n");
  CHECK(bool_name.status == 400);

  for (const std::string name : {"x", "w", "z"}) {
    REQUIRE(f.client
                .Apply("/api/v1/namespaces/apps/configmaps/" + name,
                       absl::StrCat("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ", name,
                                    "\n  labels:\n    owner: ", name == "z" ? "other" : "me", "\n"))
                .status == 201);
  }
  HttpResult collection =
      f.client.Delete("/api/v1/namespaces/apps/configmaps?labelSelector=owner%3Dme");
  CHECK(collection.status == 200);
  CHECK(collection.json["kind"] == "ConfigMapList");
  CHECK(collection.json["items"].size() == 2);
  CHECK_FALSE(f.server.Get("v1", "ConfigMap", "apps", "x").has_value());
  CHECK(f.server.Get("v1", "ConfigMap", "apps", "z").has_value());

  HttpResult ns = f.client.Delete("/api/v1/namespaces/apps");
  CHECK(ns.status == 200);
  CHECK(ns.json["kind"] == "Namespace");
  CHECK(ns.json["status"]["phase"] == "Terminating");
  CHECK_FALSE(f.server.Get("v1", "ConfigMap", "apps", "z").has_value());
  CHECK_FALSE(f.server.Get("v1", "Namespace", "", "apps").has_value());
  CHECK(f.client.Get("/api/v1/namespaces/apps/configmaps/z").status == 404);
}

// A wrong bearer token is 401 Unauthorized; after rotation only the new one
// is accepted.
TEST_CASE("A wrong bearer token is 401 and SetToken rotates the accepted one", "[kube-double]") {
  KubeApiDouble server;
  KubeClient client(server, "wrong");
  HttpResult denied = client.Get("/api/v1/namespaces");
  CHECK(denied.status == 401);
  CHECK(denied.json == Json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},
      "status":"Failure","message":"Unauthorized","reason":"Unauthorized","details":{},
      "code":401})"));
  client.set_token("");
  CHECK(client.Get("/api").status == 401);
  client.set_token("test-token");
  CHECK(client.Get("/api/v1/namespaces").status == 200);

  server.SetToken("rotated");
  CHECK(client.Get("/api/v1/namespaces").status == 401);
  client.set_token("rotated");
  CHECK(client.Get("/api/v1/namespaces").status == 200);
}

// Injected failures answer a Status with the given code and message (and
// Retry-After) for exactly `count` matching requests, without effect.
TEST_CASE("FailNext answers matching requests with a Status and Retry-After", "[kube-double]") {
  Fixture f;
  f.server.FailNext("PATCH", "/api/v1/namespaces/apps/configmaps", 429, "slow down", 2, 7);
  const int writes_before = f.server.writes();
  CHECK(f.client.Get(kConfigMapPath).status == 404);  // other method: not affected
  for (int i = 0; i < 2; ++i) {
    HttpResult throttled = f.client.Apply(kConfigMapPath, ConfigMap("  a: b\n"));
    CHECK(throttled.status == 429);
    CHECK(throttled.headers["retry-after"] == "7");
    CHECK(throttled.json["reason"] == "TooManyRequests");
    CHECK(throttled.json["message"] == "slow down");
    CHECK(throttled.json["details"]["retryAfterSeconds"] == 7);
  }
  CHECK(f.server.writes() == writes_before);
  CHECK_FALSE(f.server.Get("v1", "ConfigMap", "apps", "settings").has_value());
  CHECK(f.client.Apply(kConfigMapPath, ConfigMap("  a: b\n")).status == 201);
  const std::vector<std::string> requests = f.server.requests();
  CHECK(requests.back() ==
        "PATCH /api/v1/namespaces/apps/configmaps/settings?fieldManager=flotilla");
}

// Applying a CRD serves its versions in discovery and marks it Established;
// its custom objects can then be applied and listed (with kind, as custom
// resources' list items have).
TEST_CASE("Applying a CRD registers its served versions in discovery", "[kube-double]") {
  Fixture f;
  const std::string crd = R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names:
    kind: Widget
    plural: widgets
    singular: widget
  scope: Namespaced
  versions:
  - name: v1alpha1
    served: false
    storage: false
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)";
  CHECK(f.client.Get("/apis/example.com/v1").status == 404);
  HttpResult applied = f.client.Apply(
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", crd);
  REQUIRE(applied.status == 201);
  bool established = false;
  for (const Json& c : applied.json["status"]["conditions"]) {
    if (c["type"] == "Established") established = c["status"] == "True";
  }
  CHECK(established);

  HttpResult resources = f.client.Get("/apis/example.com/v1");
  REQUIRE(resources.status == 200);
  CHECK(resources.json["resources"][0]["name"] == "widgets");
  CHECK(resources.json["resources"][0]["kind"] == "Widget");
  CHECK(resources.json["resources"][0]["namespaced"] == true);
  CHECK(f.client.Get("/apis/example.com/v1alpha1").status == 404);
  bool group_listed = false;
  const HttpResult groups = f.client.Get("/apis");
  for (const Json& g : groups.json["groups"]) {
    if (g["name"] == "example.com") {
      group_listed = g["preferredVersion"]["groupVersion"] == "example.com/v1";
    }
  }
  CHECK(group_listed);

  // Re-applying the unchanged CRD is not a write (its status is stable).
  const int writes = f.server.writes();
  CHECK(
      f.client
          .Apply("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com", crd)
          .status == 200);
  CHECK(f.server.writes() == writes);

  HttpResult widget = f.client.Apply(
      "/apis/example.com/v1/namespaces/apps/widgets/w1",
      "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\nspec:\n  size: 3\n");
  CHECK(widget.status == 201);
  HttpResult list = f.client.Get("/apis/example.com/v1/namespaces/apps/widgets");
  REQUIRE(list.status == 200);
  CHECK(list.json["kind"] == "WidgetList");
  REQUIRE(list.json["items"].size() == 1);
  CHECK(list.json["items"][0]["kind"] == "Widget");
}

}  // namespace
}  // namespace flotilla::testing
