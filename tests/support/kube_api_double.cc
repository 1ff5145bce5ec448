// KubeApiDouble: see the header. Each behaviour names the Kubernetes page it
// follows. Where the double knowingly differs from a real API server:
//
// - Only GET (object, list), PATCH with application/apply-patch+yaml
//   (server-side apply) and DELETE (object, collection) are served. POST, PUT,
//   other patch types and watch answer 405/415 Status errors, never a silent
//   success, so an applier that needs them fails loudly.
// - No schema, defaulting or admission: objects are stored as applied (apart
//   from the few server-set fields in SetServerFields). Field ownership is
//   computed on the JSON tree: lists of maps whose every item has a string
//   `name` merge by `name` (the listType=map case of containers, ports, env,
//   approximated by that key alone); every other list is an atomic leaf. Only
//   leaves are owned, so managedFields' FieldsV1 carries `f:`/`k:` leaves and
//   `.` only for keyed list items (the real server also records `.` for some
//   maps it considers set as a whole).
// - `.status` in an apply body is ignored (as the real server does for the
//   main resource of types with a status subresource) and status is never
//   owned; SetStatus() records no manager.
// - metadata.generation is kept (from 1) for every kind; the real server
//   leaves it unset for some core kinds (ConfigMap, Secret, ...).
// - Deletion is immediate: no finalizers, no graceful deletion, a Namespace
//   and its contents vanish at once (the DELETE answer still shows it
//   Terminating, as the real one does).
// - A CRD's status (NamesAccepted, Established) is set in the same write that
//   stores it, rather than a moment later by the CRD controller. Versions are
//   served without conversion (only apiVersion is rewritten).
// - Discovery is the legacy (unaggregated) JSON form, which real servers send
//   to clients that accept application/json; no subresources are listed.
// - Lists come in one page (limit/continue ignored); fieldSelector supports
//   metadata.name and metadata.namespace only.
#include "tests/support/kube_api_double.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tests/support/test_pki.h"

namespace flotilla::testing {

using common::Json;
using FieldPath = KubeApiDouble::FieldPath;
using Query = std::map<std::string, std::string>;

namespace {

constexpr char kEditManager[] = "kubectl-edit";

// The standard verbs of an etcd-backed resource, as discovery lists them.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#api-verbs
const std::vector<std::string> kVerbs = {"create", "delete", "deletecollection", "get",
                                         "list",   "patch",  "update",           "watch"};

// The `reason` of a Status for an HTTP code.
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
std::string StatusReason(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}

// A failure Status object.
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
Json FailureStatus(int code, const std::string& message, Json details = Json::object(),
                   const std::string& reason = "") {
  return Json{{"kind", "Status"},
              {"apiVersion", "v1"},
              {"metadata", Json::object()},
              {"status", "Failure"},
              {"message", message},
              {"reason", reason.empty() ? StatusReason(code) : reason},
              {"details", std::move(details)},
              {"code", code}};
}

std::string ApiVersionOf(const KubeResourceType& t) {
  return t.group.empty() ? t.version : absl::StrCat(t.group, "/", t.version);
}

// "configmaps" or "deployments.apps", as errors name a resource.
std::string QualifiedResource(const KubeResourceType& t) {
  return t.group.empty() ? t.resource : absl::StrCat(t.resource, ".", t.group);
}

Json ResourceDetails(const KubeResourceType& t, const std::string& name) {
  Json details = {{"name", name}, {"kind", t.resource}};
  if (!t.group.empty()) details["group"] = t.group;
  return details;
}

// `<resource> "<name>" not found`, the NotFound Status of the real server.
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
Json NotFoundStatus(const KubeResourceType& t, const std::string& name) {
  return FailureStatus(404, absl::StrCat(QualifiedResource(t), " \"", name, "\" not found"),
                       ResourceDetails(t, name));
}

// 404 for a path no resource is served at.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris
Json NoSuchResourceStatus() {
  return FailureStatus(404, "the server could not find the requested resource");
}

std::string UrlDecode(absl::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    int v = 0;
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%' && i + 3 <= in.size() && absl::SimpleHexAtoi(in.substr(i + 1, 2), &v)) {
      out += static_cast<char>(v);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

Query ParseQuery(const std::string& query) {
  Query out;
  for (absl::string_view pair : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    const size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) {
      out[UrlDecode(pair)] = "";
    } else {
      out[UrlDecode(pair.substr(0, eq))] = UrlDecode(pair.substr(eq + 1));
    }
  }
  return out;
}

std::string QueryValue(const Query& q, const std::string& key) {
  auto it = q.find(key);
  return it == q.end() ? "" : it->second;
}

// ---- Field paths (server-side apply) ---------------------------------------
// https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management

std::string KeyElement(const std::string& name) {
  return absl::StrCat("k:", Json{{"name", name}}.dump());
}

bool IsKeyedList(const Json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const Json& item : v) {
    if (!item.is_object() || !item.contains("name") || !item["name"].is_string()) return false;
  }
  return true;
}

void Flatten(const Json& v, FieldPath* prefix, std::map<FieldPath, Json>* out) {
  if (v.is_object() && !v.empty()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      prefix->push_back("f:" + it.key());
      Flatten(it.value(), prefix, out);
      prefix->pop_back();
    }
  } else if (IsKeyedList(v)) {
    for (const Json& item : v) {
      prefix->push_back(KeyElement(item["name"].get<std::string>()));
      Flatten(item, prefix, out);
      prefix->pop_back();
    }
  } else if (!prefix->empty()) {
    (*out)[*prefix] = v;
  }
}

// The fields of `object` a manager can own: everything but the identity, the
// server-set metadata and status.
Json TrackedContent(const Json& object) {
  Json copy = object;
  for (const char* key : {"apiVersion", "kind", "status"}) copy.erase(key);
  if (copy.contains("metadata") && copy["metadata"].is_object()) {
    Json& md = copy["metadata"];
    for (const char* key :
         {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
          "managedFields", "deletionTimestamp", "selfLink"}) {
      md.erase(key);
    }
    if (md.empty()) copy.erase("metadata");
  }
  return copy;
}

std::map<FieldPath, Json> TrackedFields(const Json& object) {
  std::map<FieldPath, Json> out;
  FieldPath prefix;
  Flatten(TrackedContent(object), &prefix, &out);
  return out;
}

std::string KeyName(const std::string& element) {
  return Json::parse(element.substr(2))["name"].get<std::string>();
}

Json* FindItem(Json* list, const std::string& name) {
  for (Json& item : *list) {
    if (item.is_object() && item.value("name", Json()) == name) return &item;
  }
  return nullptr;
}

const Json* Lookup(const Json& root, const FieldPath& path) {
  const Json* cur = &root;
  for (const std::string& element : path) {
    if (absl::StartsWith(element, "f:")) {
      if (!cur->is_object()) return nullptr;
      auto it = cur->find(element.substr(2));
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else {
      if (!cur->is_array()) return nullptr;
      cur = FindItem(const_cast<Json*>(cur), KeyName(element));
      if (cur == nullptr) return nullptr;
    }
  }
  return cur;
}

// Sets every field of `config` in `live`: maps field by field, lists of maps
// keyed by name item by item (new items appended in the applied order), every
// other value (empty maps and lists included) replaced as a whole. The same
// leaves as TrackedFields(config).
void MergeInto(Json* live, const Json& config) {
  if (config.is_object() && !config.empty()) {
    if (!live->is_object()) *live = Json::object();
    for (auto it = config.begin(); it != config.end(); ++it)
      MergeInto(&(*live)[it.key()], it.value());
  } else if (IsKeyedList(config)) {
    if (!IsKeyedList(*live)) *live = Json::array();
    for (const Json& item : config) {
      Json* target = FindItem(live, item["name"].get<std::string>());
      if (target == nullptr) {
        live->push_back(Json::object());
        target = &live->back();
      }
      MergeInto(target, item);
    }
  } else {
    *live = config;
  }
}

// Removes the field at `path` and then every ancestor that the removal left
// empty (a keyed list item, a map, a list), never the root.
void RemoveAt(Json* root, const FieldPath& path) {
  // The key of a keyed list item goes with the item, and only once nothing
  // else is left in it.
  if (path.size() >= 2 && path.back() == "f:name" &&
      absl::StartsWith(path[path.size() - 2], "k:")) {
    const FieldPath item_path(path.begin(), path.end() - 1);
    const Json* item = Lookup(*root, item_path);
    if (item != nullptr && item->is_object() && item->size() <= 1) RemoveAt(root, item_path);
    return;
  }
  std::vector<Json*> chain = {root};
  for (const std::string& element : path) {
    Json* cur = chain.back();
    Json* next = nullptr;
    if (absl::StartsWith(element, "f:")) {
      if (cur->is_object()) {
        auto it = cur->find(element.substr(2));
        if (it != cur->end()) next = &*it;
      }
    } else if (cur->is_array()) {
      next = FindItem(cur, KeyName(element));
    }
    if (next == nullptr) return;
    chain.push_back(next);
  }
  for (size_t i = path.size(); i >= 1; --i) {
    Json* parent = chain[i - 1];
    const std::string& element = path[i - 1];
    if (i < path.size()) {
      const Json* child = chain[i];
      const bool empty = (child->is_object() || child->is_array()) && child->empty();
      if (!empty) return;
    }
    if (absl::StartsWith(element, "f:")) {
      parent->erase(element.substr(2));
    } else {
      const std::string name = KeyName(element);
      for (size_t j = 0; j < parent->size(); ++j) {
        if ((*parent)[j].is_object() && (*parent)[j].value("name", Json()) == name) {
          parent->erase(j);
          break;
        }
      }
    }
  }
}

// ".spec.containers[name=\"web\"].image", as conflict messages print paths.
std::string PathString(const FieldPath& path) {
  std::string out;
  for (const std::string& element : path) {
    if (absl::StartsWith(element, "f:")) {
      absl::StrAppend(&out, ".", element.substr(2));
    } else {
      absl::StrAppend(&out, "[name=", Json(KeyName(element)).dump(), "]");
    }
  }
  return out;
}

bool IsPrefix(const FieldPath& prefix, const FieldPath& path) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// The FieldsV1 encoding of a set of leaves.
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/#System
Json FieldsV1(const std::set<FieldPath>& fields) {
  Json out = Json::object();
  for (const FieldPath& path : fields) {
    Json* cur = &out;
    for (const std::string& element : path) {
      cur = &(*cur)[element];
      if (!cur->is_object()) *cur = Json::object();
      if (absl::StartsWith(element, "k:")) (*cur)["."] = Json::object();
    }
  }
  return out;
}

// Everything but metadata and status: what metadata.generation tracks.
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/
Json GenerationContent(const Json& object) {
  Json copy = object;
  copy.erase("metadata");
  copy.erase("status");
  return copy;
}

// ---- Label selectors ---------------------------------------------------------
// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors

struct Requirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::set<std::string> values;
};

bool ValidLabelKey(absl::string_view key) {
  if (key.empty() || key.size() > 253 + 1 + 63) return false;
  const size_t slash = key.find('/');
  const absl::string_view name = slash == absl::string_view::npos ? key : key.substr(slash + 1);
  if (name.empty() || name.size() > 63) return false;
  for (char c : key) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.' && c != '/') return false;
  }
  return absl::ascii_isalnum(name.front()) && absl::ascii_isalnum(name.back());
}

bool ValidLabelValue(absl::string_view value) {
  if (value.size() > 63) return false;
  for (char c : value) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return value.empty() || (absl::ascii_isalnum(value.front()) && absl::ascii_isalnum(value.back()));
}

// Parses a labelSelector; on failure returns false and sets `error`.
bool ParseSelector(const std::string& text, std::vector<Requirement>* out, std::string* error) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  parts.push_back(current);
  if (text.empty()) return true;
  for (const std::string& raw : parts) {
    const std::string part(absl::StripAsciiWhitespace(raw));
    Requirement req;
    const size_t paren = part.find('(');
    if (part.empty()) {
      *error = "found '', expected: identifier";
      return false;
    } else if (part[0] == '!') {
      req.key = std::string(absl::StripAsciiWhitespace(absl::string_view(part).substr(1)));
      req.op = Requirement::Op::kDoesNotExist;
    } else if (paren != std::string::npos) {
      std::vector<std::string> head =
          absl::StrSplit(part.substr(0, paren), ' ', absl::SkipWhitespace());
      if (head.size() != 2 || (head[1] != "in" && head[1] != "notin") || part.back() != ')') {
        *error = absl::StrCat("found '(', expected: in, notin, =, ==, !=, or end of string in \"",
                              part, "\"");
        return false;
      }
      req.key = head[0];
      req.op = head[1] == "in" ? Requirement::Op::kIn : Requirement::Op::kNotIn;
      const std::string inner = part.substr(paren + 1, part.size() - paren - 2);
      for (absl::string_view v : absl::StrSplit(inner, ',')) {
        const std::string value(absl::StripAsciiWhitespace(v));
        if (!ValidLabelValue(value)) {
          *error = absl::StrCat("invalid label value: \"", value, "\"");
          return false;
        }
        req.values.insert(value);
      }
      if (absl::StripAsciiWhitespace(inner).empty()) {
        *error = "for 'in', 'notin' operators, values set can't be empty";
        return false;
      }
    } else {
      size_t pos;
      size_t len = 0;
      if ((pos = part.find("!=")) != std::string::npos) {
        req.op = Requirement::Op::kNotEquals;
        len = 2;
      } else if ((pos = part.find("==")) != std::string::npos) {
        req.op = Requirement::Op::kEquals;
        len = 2;
      } else if ((pos = part.find('=')) != std::string::npos) {
        req.op = Requirement::Op::kEquals;
        len = 1;
      }
      if (len == 0) {
        req.key = part;
        req.op = Requirement::Op::kExists;
      } else {
        req.key = std::string(absl::StripAsciiWhitespace(part.substr(0, pos)));
        const std::string value(absl::StripAsciiWhitespace(part.substr(pos + len)));
        if (!ValidLabelValue(value) || value.find('=') != std::string::npos) {
          *error = absl::StrCat("invalid label value: \"", value, "\"");
          return false;
        }
        req.values.insert(value);
      }
    }
    if (!ValidLabelKey(req.key)) {
      *error = absl::StrCat("invalid label key \"", req.key, "\"");
      return false;
    }
    out->push_back(std::move(req));
  }
  return true;
}

bool Matches(const std::vector<Requirement>& selector, const Json& object) {
  Json labels = Json::object();
  if (object.contains("metadata") && object["metadata"].contains("labels")) {
    labels = object["metadata"]["labels"];
  }
  for (const Requirement& req : selector) {
    const bool has = labels.contains(req.key) && labels[req.key].is_string();
    const std::string value = has ? labels[req.key].get<std::string>() : "";
    bool ok = false;
    switch (req.op) {
      case Requirement::Op::kEquals:
      case Requirement::Op::kIn:
        ok = has && req.values.count(value) > 0;
        break;
      case Requirement::Op::kNotEquals:
      case Requirement::Op::kNotIn:
        ok = !has || req.values.count(value) == 0;
        break;
      case Requirement::Op::kExists:
        ok = has;
        break;
      case Requirement::Op::kDoesNotExist:
        ok = !has;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

// fieldSelector on metadata.name / metadata.namespace (=, ==, !=).
// https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/
bool ParseFieldSelector(const std::string& text,
                        std::vector<std::tuple<std::string, bool, std::string>>* out,
                        std::string* error) {
  for (absl::string_view raw : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    const std::string part(absl::StripAsciiWhitespace(raw));
    size_t pos = part.find("!=");
    bool negate = pos != std::string::npos;
    size_t len = 2;
    if (!negate) {
      pos = part.find("==");
      if (pos == std::string::npos) {
        pos = part.find('=');
        len = 1;
      }
    }
    if (pos == std::string::npos) {
      *error = absl::StrCat("invalid selector: '", part, "'; can't understand '", part, "'");
      return false;
    }
    const std::string field = part.substr(0, pos);
    if (field != "metadata.name" && field != "metadata.namespace") {
      *error = absl::StrCat("field label not supported: ", field);
      return false;
    }
    out->emplace_back(field, negate, part.substr(pos + len));
  }
  return true;
}

// Kubernetes version priority (v1 > v1beta2 > v1beta1 > v1alpha1 > others).
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definition-versioning/#version-priority
std::tuple<int, int, int, std::string> VersionRank(const std::string& v) {
  int major = 0;
  int minor = 0;
  absl::string_view rest = v;
  if (absl::ConsumePrefix(&rest, "v")) {
    size_t digits = 0;
    while (digits < rest.size() && absl::ascii_isdigit(rest[digits])) ++digits;
    if (digits > 0 && absl::SimpleAtoi(rest.substr(0, digits), &major)) {
      rest.remove_prefix(digits);
      int stability = -1;
      if (rest.empty()) {
        stability = 3;
      } else if (absl::ConsumePrefix(&rest, "beta")) {
        stability = 2;
      } else if (absl::ConsumePrefix(&rest, "alpha")) {
        stability = 1;
      }
      if (stability > 0 && (stability == 3 || absl::SimpleAtoi(rest, &minor))) {
        return {-stability, -major, -minor, ""};
      }
    }
  }
  return {0, 0, 0, v};
}

}  // namespace

struct KubeApiDouble::Target {
  const KubeResourceType* type = nullptr;
  std::string ns;    // "" = cluster-scoped or all namespaces
  std::string name;  // "" = the collection
};

KubeApiDouble::KubeApiDouble(Options options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : common::RealClock::Get()) {
  TestPki pki({"127.0.0.1"});
  ca_pem_ = pki.ca_pem;
  tls_ = ServerTls::FromPem("KubeApiDouble", pki.cert_pem, pki.key_pem);
  {
    absl::MutexLock lock(&mu_);
    token_ = options_.token;
    // https://kubernetes.io/docs/reference/kubernetes-api/ (the built-in kinds)
    const std::vector<KubeResourceType> builtins = {
        {"", "v1", "Namespace", "namespaces", false},
        {"", "v1", "ConfigMap", "configmaps", true},
        {"", "v1", "Secret", "secrets", true},
        {"", "v1", "Service", "services", true},
        {"", "v1", "ServiceAccount", "serviceaccounts", true},
        {"", "v1", "Pod", "pods", true},
        {"", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true},
        {"apps", "v1", "Deployment", "deployments", true},
        {"apps", "v1", "StatefulSet", "statefulsets", true},
        {"apps", "v1", "DaemonSet", "daemonsets", true},
        {"apps", "v1", "ReplicaSet", "replicasets", true},
        {"batch", "v1", "Job", "jobs", true},
        {"rbac.authorization.k8s.io", "v1", "Role", "roles", true},
        {"rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", true},
        {"rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false},
        {"rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false},
        {"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions",
         false},
        {"networking.k8s.io", "v1", "Ingress", "ingresses", true},
        {"networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true},
    };
    for (const KubeResourceType& t : builtins) AddResourceTypeLocked(t, /*builtin=*/true);
  }
  listener_ = std::make_unique<LoopbackListener>("KubeApiDouble", [this](int fd) { Handle(fd); });
}

KubeApiDouble::~KubeApiDouble() { listener_->Stop(); }

std::string KubeApiDouble::url() const {
  return absl::StrCat("https://127.0.0.1:", listener_->port());
}

std::string KubeApiDouble::ca_pem() const { return ca_pem_; }

void KubeApiDouble::AddResourceType(KubeResourceType t) {
  absl::MutexLock lock(&mu_);
  AddResourceTypeLocked(std::move(t), /*builtin=*/false);
}

void KubeApiDouble::AddResourceTypeLocked(KubeResourceType t, bool builtin) {
  const std::string qualified = absl::StrCat(t.group, "/", t.resource);
  if (builtin) builtin_resources_.insert(qualified);
  for (KubeResourceType& existing : types_) {
    if (existing.group == t.group && existing.version == t.version &&
        existing.resource == t.resource) {
      existing = std::move(t);
      return;
    }
  }
  types_.push_back(std::move(t));
}

void KubeApiDouble::SetToken(std::string token) {
  absl::MutexLock lock(&mu_);
  token_ = std::move(token);
}

void KubeApiDouble::FailNext(const std::string& method, const std::string& path_prefix, int status,
                             const std::string& message, int count, int retry_after_seconds) {
  absl::MutexLock lock(&mu_);
  faults_.push_back(Fault{method, path_prefix, status, message, count, retry_after_seconds});
}

std::vector<std::string> KubeApiDouble::requests() {
  absl::MutexLock lock(&mu_);
  return requests_;
}

const KubeResourceType* KubeApiDouble::FindByResource(const std::string& group,
                                                      const std::string& version,
                                                      const std::string& resource) const {
  for (const KubeResourceType& t : types_) {
    if (t.group == group && t.version == version && t.resource == resource) return &t;
  }
  return nullptr;
}

const KubeResourceType* KubeApiDouble::FindByKind(const std::string& api_version,
                                                  const std::string& kind) const {
  const size_t slash = api_version.find('/');
  const std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  const std::string version =
      slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  for (const KubeResourceType& t : types_) {
    if (t.group == group && t.version == version && t.kind == kind) return &t;
  }
  return nullptr;
}

std::string KubeApiDouble::NextResourceVersion() { return std::to_string(++resource_version_); }

std::string KubeApiDouble::NewUid() {
  ++uid_counter_;
  return absl::StrFormat("%08x-%04x-4000-8000-%012x", static_cast<uint32_t>(port()),
                         static_cast<uint32_t>(uid_counter_ >> 48), uid_counter_ & 0xffffffffffff);
}

std::string KubeApiDouble::NowRfc3339() const {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", clock_->Now(), absl::UTCTimeZone());
}

// uid, creationTimestamp, generation and resourceVersion belong to the
// server: new for a new object, kept from `old` otherwise (whatever the
// client sent).
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/
void KubeApiDouble::StampMetadata(Json* object, const Json* old) {
  Json& md = (*object)["metadata"];
  md.erase("managedFields");
  md.erase("selfLink");
  if (old != nullptr) {
    const Json& old_md = (*old)["metadata"];
    for (const char* key : {"uid", "creationTimestamp", "generation", "resourceVersion"}) {
      if (old_md.contains(key)) {
        md[key] = old_md[key];
      } else {
        md.erase(key);
      }
    }
  } else {
    md["uid"] = NewUid();
    md["creationTimestamp"] = NowRfc3339();
    md["generation"] = 1;
    md.erase("resourceVersion");
  }
}

void KubeApiDouble::SetServerFields(const KubeResourceType& type, const Json* old, Json* object) {
  const std::string name = (*object)["metadata"].value("name", "");
  if (type.group.empty() && type.kind == "Namespace") {
    // The immutable name label, spec.finalizers and phase Active.
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/#automatic-labelling
    (*object)["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    if (!object->contains("spec") || !(*object)["spec"].contains("finalizers")) {
      (*object)["spec"]["finalizers"] = Json::array({"kubernetes"});
    }
    (*object)["status"] = Json{{"phase", "Active"}};
  }
  if (type.group == "apiextensions.k8s.io" && type.kind == "CustomResourceDefinition") {
    // What the CRD controller reports once the names are accepted.
    // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#create-a-customresourcedefinition
    const Json spec = object->value("spec", Json::object());
    const Json names = spec.value("names", Json::object());
    Json accepted = {{"kind", names.value("kind", "")}, {"plural", names.value("plural", "")}};
    accepted["listKind"] = names.value("listKind", accepted["kind"].get<std::string>() + "List");
    if (names.contains("singular")) accepted["singular"] = names["singular"];
    if (names.contains("shortNames")) accepted["shortNames"] = names["shortNames"];
    Json stored_versions = Json::array();
    for (const Json& v : spec.value("versions", Json::array())) {
      if (v.value("storage", false)) stored_versions.push_back(v.value("name", ""));
    }
    auto transition = [&](const std::string& condition) {
      if (old != nullptr && old->contains("status")) {
        for (const Json& c : (*old)["status"].value("conditions", Json::array())) {
          if (c.value("type", "") == condition && c.value("status", "") == "True") {
            return c.value("lastTransitionTime", NowRfc3339());
          }
        }
      }
      return NowRfc3339();
    };
    (*object)["status"] =
        Json{{"acceptedNames", accepted},
             {"conditions", Json::array({Json{{"type", "NamesAccepted"},
                                              {"status", "True"},
                                              {"reason", "NoConflicts"},
                                              {"message", "no conflicts found"},
                                              {"lastTransitionTime", transition("NamesAccepted")}},
                                         Json{{"type", "Established"},
                                              {"status", "True"},
                                              {"reason", "InitialNamesAccepted"},
                                              {"message", "the initial names have been accepted"},
                                              {"lastTransitionTime", transition("Established")}}})},
             {"storedVersions", stored_versions}};
  }
}

void KubeApiDouble::AfterStore(const KubeResourceType& type, const Json& object) {
  if (type.group != "apiextensions.k8s.io" || type.kind != "CustomResourceDefinition") return;
  // A CRD serves each version with served: true at
  // /apis/<group>/<version>/[namespaces/<ns>/]<plural>.
  // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#create-a-customresourcedefinition
  const Json spec = object.value("spec", Json::object());
  const std::string group = spec.value("group", "");
  const Json names = spec.value("names", Json::object());
  const std::string plural = names.value("plural", "");
  types_.erase(std::remove_if(types_.begin(), types_.end(),
                              [&](const KubeResourceType& t) {
                                return t.group == group && t.resource == plural;
                              }),
               types_.end());
  for (const Json& v : spec.value("versions", Json::array())) {
    if (!v.value("served", false)) continue;
    AddResourceTypeLocked(KubeResourceType{group, v.value("name", ""), names.value("kind", ""),
                                           plural, spec.value("scope", "") == "Namespaced"},
                          /*builtin=*/false);
  }
}

void KubeApiDouble::EraseWithDependents(const KubeResourceType& type, const Key& key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return;
  const Json object = it->second.object;
  objects_.erase(it);
  const std::string& name = std::get<3>(key);
  if (type.group.empty() && type.kind == "Namespace") {
    // Deleting a namespace deletes everything in it.
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
    for (auto o = objects_.begin(); o != objects_.end();) {
      o = std::get<2>(o->first) == name ? objects_.erase(o) : std::next(o);
    }
  }
  if (type.group == "apiextensions.k8s.io" && type.kind == "CustomResourceDefinition") {
    // Deleting a CRD deletes its custom objects and stops serving them.
    // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#delete-a-customresourcedefinition
    const Json spec = object.value("spec", Json::object());
    const std::string group = spec.value("group", "");
    const std::string plural = spec.value("names", Json::object()).value("plural", "");
    for (auto o = objects_.begin(); o != objects_.end();) {
      o = std::get<0>(o->first) == group && std::get<1>(o->first) == plural ? objects_.erase(o)
                                                                            : std::next(o);
    }
    types_.erase(std::remove_if(types_.begin(), types_.end(),
                                [&](const KubeResourceType& t) {
                                  return t.group == group && t.resource == plural;
                                }),
                 types_.end());
  }
}

// The object as the API returns it: apiVersion of the request, managedFields.
// https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
Json KubeApiDouble::Render(const StoredObject& stored, const std::string& api_version) {
  Json out = stored.object;
  out["apiVersion"] = api_version;
  if (!stored.managers.empty()) {
    Json entries = Json::array();
    for (const ManagedFieldsEntry& m : stored.managers) {
      entries.push_back(Json{{"manager", m.manager},
                             {"operation", m.operation},
                             {"apiVersion", m.api_version},
                             {"time", m.time},
                             {"fieldsType", "FieldsV1"},
                             {"fieldsV1", FieldsV1(m.fields)}});
    }
    out["metadata"]["managedFields"] = entries;
  }
  return out;
}

// ---- Test-side access ---------------------------------------------------------

std::optional<Json> KubeApiDouble::Get(const std::string& api_version, const std::string& kind,
                                       const std::string& ns, const std::string& name) {
  absl::MutexLock lock(&mu_);
  const KubeResourceType* type = FindByKind(api_version, kind);
  if (type == nullptr) return std::nullopt;
  auto it = objects_.find(Key{type->group, type->resource, type->namespaced ? ns : "", name});
  if (it == objects_.end()) return std::nullopt;
  return Render(it->second, api_version);
}

void KubeApiDouble::Put(Json object) {
  absl::MutexLock lock(&mu_);
  const KubeResourceType* type =
      FindByKind(object.value("apiVersion", ""), object.value("kind", ""));
  const std::string name = object.contains("metadata") ? object["metadata"].value("name", "") : "";
  if (type == nullptr || name.empty()) {
    throw std::invalid_argument("KubeApiDouble::Put: unknown kind or no name: " + object.dump());
  }
  const KubeResourceType t = *type;
  const std::string ns = t.namespaced ? object["metadata"].value("namespace", "default") : "";
  if (t.namespaced) {
    object["metadata"]["namespace"] = ns;
  } else {
    object["metadata"].erase("namespace");
  }
  const Key key{t.group, t.resource, ns, name};
  auto it = objects_.find(key);
  const StoredObject* old = it == objects_.end() ? nullptr : &it->second;
  StampMetadata(&object, old != nullptr ? &old->object : nullptr);
  SetServerFields(t, old != nullptr ? &old->object : nullptr, &object);
  if (old != nullptr && old->object == object) return;

  // An update moves the fields it changes to its manager, without conflicts.
  // https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
  StoredObject next;
  next.object = object;
  if (old != nullptr) next.managers = old->managers;
  const std::map<FieldPath, Json> before =
      old != nullptr ? TrackedFields(old->object) : std::map<FieldPath, Json>();
  const std::map<FieldPath, Json> after = TrackedFields(object);
  std::set<FieldPath> changed;
  for (const auto& [path, value] : after) {
    auto b = before.find(path);
    if (b == before.end() || b->second != value) changed.insert(path);
  }
  for (ManagedFieldsEntry& m : next.managers) {
    for (auto f = m.fields.begin(); f != m.fields.end();) {
      f = changed.count(*f) > 0 || Lookup(object, *f) == nullptr ? m.fields.erase(f) : std::next(f);
    }
  }
  if (!changed.empty()) {
    auto edit = std::find_if(next.managers.begin(), next.managers.end(), [](const auto& m) {
      return m.manager == kEditManager && m.operation == "Update";
    });
    if (edit == next.managers.end()) {
      next.managers.push_back(ManagedFieldsEntry{kEditManager, "Update", "", "", {}});
      edit = std::prev(next.managers.end());
    }
    edit->api_version = object.value("apiVersion", "");
    edit->time = NowRfc3339();
    edit->fields.insert(changed.begin(), changed.end());
  }
  next.managers.erase(std::remove_if(next.managers.begin(), next.managers.end(),
                                     [](const auto& m) { return m.fields.empty(); }),
                      next.managers.end());
  if (old != nullptr && GenerationContent(old->object) != GenerationContent(object)) {
    next.object["metadata"]["generation"] = old->object["metadata"].value("generation", 0) + 1;
  }
  next.object["metadata"]["resourceVersion"] = NextResourceVersion();
  objects_[key] = std::move(next);
  AfterStore(t, objects_[key].object);
}

void KubeApiDouble::SetStatus(const std::string& api_version, const std::string& kind,
                              const std::string& ns, const std::string& name, Json status) {
  absl::MutexLock lock(&mu_);
  const KubeResourceType* type = FindByKind(api_version, kind);
  if (type == nullptr) return;
  auto it = objects_.find(Key{type->group, type->resource, type->namespaced ? ns : "", name});
  if (it == objects_.end()) return;
  // A status update changes resourceVersion but not generation.
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
  it->second.object["status"] = std::move(status);
  it->second.object["metadata"]["resourceVersion"] = NextResourceVersion();
}

void KubeApiDouble::Remove(const std::string& api_version, const std::string& kind,
                           const std::string& ns, const std::string& name) {
  absl::MutexLock lock(&mu_);
  const KubeResourceType* type = FindByKind(api_version, kind);
  if (type == nullptr) return;
  const KubeResourceType t = *type;
  EraseWithDependents(t, Key{t.group, t.resource, t.namespaced ? ns : "", name});
  ++resource_version_;
}

// ---- HTTP ---------------------------------------------------------------------

void KubeApiDouble::Handle(int fd) {
  // The listener closes `fd` once the connection has ended here.
  {
    HttpConnection conn(fd, tls_.get());
    if (conn.Handshake()) {
      // HTTP/1.1 persistent connections: requests until EOF or
      // `Connection: close` (RFC 9112 section 9.3).
      for (;;) {
        IncomingRequest req;
        if (!conn.ReadRequest(&req)) break;
        const Response response = Serve(req);
        const bool close_after = absl::EqualsIgnoreCase(req.Header("connection"), "close");
        std::string head =
            absl::StrCat("HTTP/1.1 ", response.status, " ", HttpReason(response.status),
                         "\r\nContent-Type: application/json\r\n");
        for (const auto& [name, value] : response.headers) {
          absl::StrAppend(&head, name, ": ", value, "\r\n");
        }
        absl::StrAppend(&head, "Content-Length: ", response.body.size(), "\r\n",
                        close_after ? "Connection: close\r\n" : "", "\r\n");
        if (!conn.WriteAll(head + response.body) || close_after) break;
      }
    }
  }
}

KubeApiDouble::Response KubeApiDouble::Serve(const IncomingRequest& req) {
  const Query query = ParseQuery(req.query);
  absl::MutexLock lock(&mu_);
  requests_.push_back(req.query.empty() ? absl::StrCat(req.method, " ", req.path)
                                        : absl::StrCat(req.method, " ", req.path, "?", req.query));
  // Bearer token authentication; a failure is 401 with Status Unauthorized.
  // https://kubernetes.io/docs/reference/access-authn-authz/authentication/#putting-a-bearer-token-in-a-request
  if (!token_.empty()) {
    const std::string auth = req.Header("authorization");
    std::string presented;
    if (auth.size() > 7 && absl::EqualsIgnoreCase(auth.substr(0, 7), "bearer ")) {
      presented = std::string(absl::StripAsciiWhitespace(absl::string_view(auth).substr(7)));
    }
    if (presented != token_) {
      return Response{401, FailureStatus(401, "Unauthorized").dump(), {}};
    }
  }
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->method != req.method || !absl::StartsWith(req.path, it->path_prefix)) continue;
    // An injected failure carries a Status like the real one; 429/5xx may
    // carry Retry-After and details.retryAfterSeconds.
    // https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
    Json details = Json::object();
    Response r{it->status, "", {}};
    if (it->retry_after_seconds > 0) {
      details["retryAfterSeconds"] = it->retry_after_seconds;
      r.headers.emplace_back("Retry-After", std::to_string(it->retry_after_seconds));
    }
    r.body = FailureStatus(it->status, it->message, details).dump();
    if (--it->count <= 0) faults_.erase(it);
    return r;
  }
  try {
    return ServeLocked(req, query);
  } catch (const Json::exception& e) {
    // Input the double does not expect must fail the test, not the binary.
    return Response{500, FailureStatus(500, absl::StrCat("test double: ", e.what())).dump(), {}};
  }
}

KubeApiDouble::Response KubeApiDouble::ServeLocked(const IncomingRequest& req, const Query& query) {
  const std::vector<std::string> segments = absl::StrSplit(req.path, '/', absl::SkipEmpty());
  bool handled = false;
  Response discovery = Discovery(segments, &handled);
  if (handled) {
    if (req.method != "GET") {
      return Response{405,
                      FailureStatus(405,
                                    "the server does not allow this method on the requested "
                                    "resource")
                          .dump(),
                      {}};
    }
    return discovery;
  }
  // Resource URIs.
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris
  std::string group;
  std::string version;
  size_t rest = 0;
  if (segments.size() >= 2 && segments[0] == "api") {
    version = segments[1];
    rest = 2;
  } else if (segments.size() >= 3 && segments[0] == "apis") {
    group = segments[1];
    version = segments[2];
    rest = 3;
  } else {
    return Response{404, NoSuchResourceStatus().dump(), {}};
  }
  const std::vector<std::string> r(segments.begin() + static_cast<long>(rest), segments.end());
  Target t;
  if (r.size() == 1 || r.size() == 2) {
    t.type = FindByResource(group, version, r[0]);
    if (t.type != nullptr && r.size() == 2) {
      if (t.type->namespaced)
        t.type = nullptr;
      else
        t.name = r[1];
    }
  } else if ((r.size() == 3 || r.size() == 4) && r[0] == "namespaces") {
    t.type = FindByResource(group, version, r[2]);
    if (t.type != nullptr && !t.type->namespaced) t.type = nullptr;
    t.ns = r[1];
    if (r.size() == 4) t.name = r[3];
  }
  if (t.type == nullptr) return Response{404, NoSuchResourceStatus().dump(), {}};

  const Response not_allowed{
      405,
      FailureStatus(405, "the server does not allow this method on the requested resource").dump(),
      {}};
  if (req.method == "GET") {
    // Watch is not served (see the top of the file): fail loudly.
    const std::string watch = QueryValue(query, "watch");
    if (watch == "true" || watch == "1") {
      return Response{
          405, FailureStatus(405, "watch is not supported by the test double").dump(), {}};
    }
    return t.name.empty() ? List(t, query) : GetObject(t);
  }
  if (req.method == "PATCH") {
    if (t.name.empty()) return not_allowed;
    const std::string content_header = req.Header("content-type");
    const std::string content_type(absl::StripAsciiWhitespace(
        absl::string_view(content_header).substr(0, content_header.find(';'))));
    if (content_type != "application/apply-patch+yaml") {
      // https://kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply
      return Response{
          415,
          FailureStatus(415, absl::StrCat("the body of the request was in an unknown format - "
                                          "accepted media types include: "
                                          "application/apply-patch+yaml (test double; \"",
                                          content_type, "\" is not served)"))
              .dump(),
          {}};
    }
    return Apply(t, req, query);
  }
  if (req.method == "DELETE") {
    if (!t.name.empty()) return DeleteObject(t, query);
    // deletecollection is served per namespace (or for cluster-scoped types).
    if (t.type->namespaced && t.ns.empty()) return not_allowed;
    return DeleteCollection(t, query);
  }
  return not_allowed;
}

// Discovery documents (legacy JSON form).
// https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api
KubeApiDouble::Response KubeApiDouble::Discovery(const std::vector<std::string>& segments,
                                                 bool* handled) {
  *handled = true;
  auto resource_list = [&](const std::string& group, const std::string& version) {
    Json resources = Json::array();
    for (const KubeResourceType& t : types_) {
      if (t.group != group || t.version != version) continue;
      std::vector<std::string> verbs = kVerbs;
      if (t.group.empty() && t.kind == "Namespace") {
        verbs.erase(std::find(verbs.begin(), verbs.end(), "deletecollection"));
      }
      resources.push_back(Json{{"name", t.resource},
                               {"singularName", absl::AsciiStrToLower(t.kind)},
                               {"namespaced", t.namespaced},
                               {"kind", t.kind},
                               {"verbs", verbs}});
    }
    return resources;
  };
  // Groups in registration order, each with its versions by priority.
  std::vector<std::string> group_order;
  std::map<std::string, std::vector<std::string>> versions;
  for (const KubeResourceType& t : types_) {
    if (t.group.empty()) continue;
    if (versions.find(t.group) == versions.end()) group_order.push_back(t.group);
    auto& v = versions[t.group];
    if (std::find(v.begin(), v.end(), t.version) == v.end()) v.push_back(t.version);
  }
  for (auto& [group, v] : versions) {
    std::sort(v.begin(), v.end(), [](const std::string& a, const std::string& b) {
      return VersionRank(a) < VersionRank(b);
    });
  }
  auto group_json = [&](const std::string& group) {
    Json vs = Json::array();
    for (const std::string& v : versions[group]) {
      vs.push_back(Json{{"groupVersion", group + "/" + v}, {"version", v}});
    }
    return Json{{"name", group}, {"versions", vs}, {"preferredVersion", vs[0]}};
  };
  if (segments.size() == 1 && segments[0] == "api") {
    return Response{
        200,
        Json{{"kind", "APIVersions"},
             {"versions", Json::array({"v1"})},
             {"serverAddressByClientCIDRs",
              Json::array({Json{{"clientCIDR", "0.0.0.0/0"},
                                {"serverAddress", absl::StrCat("127.0.0.1:", port())}}})}}
            .dump(),
        {}};
  }
  if (segments.size() == 2 && segments[0] == "api" && segments[1] == "v1") {
    return Response{200,
                    Json{{"kind", "APIResourceList"},
                         {"groupVersion", "v1"},
                         {"resources", resource_list("", "v1")}}
                        .dump(),
                    {}};
  }
  if (segments.size() == 1 && segments[0] == "apis") {
    Json groups = Json::array();
    for (const std::string& g : group_order) groups.push_back(group_json(g));
    return Response{
        200, Json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}}.dump(), {}};
  }
  if (segments.size() == 2 && segments[0] == "apis") {
    if (versions.find(segments[1]) == versions.end()) {
      return Response{404, NoSuchResourceStatus().dump(), {}};
    }
    Json g = group_json(segments[1]);
    g["kind"] = "APIGroup";
    g["apiVersion"] = "v1";
    return Response{200, g.dump(), {}};
  }
  if (segments.size() == 3 && segments[0] == "apis") {
    auto v = versions.find(segments[1]);
    if (v == versions.end() ||
        std::find(v->second.begin(), v->second.end(), segments[2]) == v->second.end()) {
      return Response{404, NoSuchResourceStatus().dump(), {}};
    }
    return Response{200,
                    Json{{"kind", "APIResourceList"},
                         {"apiVersion", "v1"},
                         {"groupVersion", segments[1] + "/" + segments[2]},
                         {"resources", resource_list(segments[1], segments[2])}}
                        .dump(),
                    {}};
  }
  if (segments.size() == 2 && segments[0] == "api") {
    return Response{404, NoSuchResourceStatus().dump(), {}};
  }
  *handled = false;
  return Response{};
}

KubeApiDouble::Response KubeApiDouble::GetObject(const Target& t) {
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#api-verbs
  auto it = objects_.find(Key{t.type->group, t.type->resource, t.ns, t.name});
  if (it == objects_.end()) return Response{404, NotFoundStatus(*t.type, t.name).dump(), {}};
  return Response{200, Render(it->second, ApiVersionOf(*t.type)).dump(), {}};
}

KubeApiDouble::Response KubeApiDouble::List(const Target& t, const Query& query) {
  std::vector<Requirement> selector;
  std::string error;
  if (!ParseSelector(QueryValue(query, "labelSelector"), &selector, &error)) {
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#api
    return Response{400, FailureStatus(400, "unable to parse requirement: " + error).dump(), {}};
  }
  std::vector<std::tuple<std::string, bool, std::string>> fields;
  if (!ParseFieldSelector(QueryValue(query, "fieldSelector"), &fields, &error)) {
    return Response{400, FailureStatus(400, error).dump(), {}};
  }
  const std::string api_version = ApiVersionOf(*t.type);
  const bool builtin =
      builtin_resources_.count(absl::StrCat(t.type->group, "/", t.type->resource)) > 0;
  Json items = Json::array();
  for (const auto& [key, stored] : objects_) {
    if (std::get<0>(key) != t.type->group || std::get<1>(key) != t.type->resource) continue;
    if (!t.ns.empty() && std::get<2>(key) != t.ns) continue;
    if (!Matches(selector, stored.object)) continue;
    bool fields_match = true;
    for (const auto& [field, negate, value] : fields) {
      const std::string actual = field == "metadata.name" ? std::get<3>(key) : std::get<2>(key);
      if ((actual == value) == negate) fields_match = false;
    }
    if (!fields_match) continue;
    Json item = Render(stored, api_version);
    // Items of built-in lists carry no kind/apiVersion on the wire
    // (kubernetes/kubernetes#3030); custom resources' do.
    // https://kubernetes.io/docs/reference/using-api/api-concepts/#collections
    if (builtin) {
      item.erase("kind");
      item.erase("apiVersion");
    }
    items.push_back(std::move(item));
  }
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#collections
  return Response{200,
                  Json{{"kind", t.type->kind + "List"},
                       {"apiVersion", api_version},
                       {"metadata", Json{{"resourceVersion", std::to_string(resource_version_)}}},
                       {"items", items}}
                      .dump(),
                  {}};
}

// Server-side apply.
// https://kubernetes.io/docs/reference/using-api/server-side-apply/
KubeApiDouble::Response KubeApiDouble::Apply(const Target& t, const IncomingRequest& req,
                                             const Query& query) {
  const KubeResourceType type = *t.type;
  const std::string api_version = ApiVersionOf(type);
  auto bad = [](int code, const std::string& message) {
    return Response{code, FailureStatus(code, message).dump(), {}};
  };
  // fieldManager is required for apply; force is a boolean; dryRun=All only.
  // https://kubernetes.io/docs/reference/using-api/server-side-apply/#managers
  const std::string manager = QueryValue(query, "fieldManager");
  if (manager.empty()) {
    return Response{
        422,
        FailureStatus(422,
                      "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: "
                      "Required value: is required for apply patch",
                      Json{{"group", "meta.k8s.io"},
                           {"kind", "PatchOptions"},
                           {"causes", Json::array({Json{{"reason", "FieldValueRequired"},
                                                        {"message",
                                                         "Required value: is required "
                                                         "for apply patch"},
                                                        {"field", "fieldManager"}}})}})
            .dump(),
        {}};
  }
  const std::string force_text = QueryValue(query, "force");
  if (force_text != "" && force_text != "true" && force_text != "false") {
    return bad(400, absl::StrCat("invalid value for force: \"", force_text, "\""));
  }
  const bool force = force_text == "true";
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#dry-run
  const std::string dry_run = QueryValue(query, "dryRun");
  if (!dry_run.empty() && dry_run != "All") {
    return bad(400,
               absl::StrCat("Invalid dryRun value: \"", dry_run, "\": supported values: \"All\""));
  }
  absl::StatusOr<Json> parsed = common::ParseYaml(req.body, "apply-patch");
  if (!parsed.ok()) {
    return bad(400, absl::StrCat("error decoding YAML: ", parsed.status().message()));
  }
  Json config = std::move(*parsed);
  if (!config.is_object()) return bad(400, "error decoding YAML: the body is not an object");
  // Fields of the wrong JSON type fail decoding, as in the real server.
  for (const char* key : {"apiVersion", "kind"}) {
    if (config.contains(key) && !config[key].is_string()) {
      return bad(400, absl::StrCat("error decoding YAML: ", key, " must be a string"));
    }
  }
  if (config.contains("metadata") && config["metadata"].is_object()) {
    for (const char* key : {"name", "namespace", "resourceVersion"}) {
      if (config["metadata"].contains(key) && !config["metadata"][key].is_string()) {
        return bad(400, absl::StrCat("json: cannot unmarshal ", config["metadata"][key].type_name(),
                                     " into Go struct field ObjectMeta.metadata.", key,
                                     " of type string"));
      }
    }
  }
  if (config.value("apiVersion", "") == "" || config.value("kind", "") == "") {
    return bad(400, absl::StrCat("Object 'Kind' is missing in '", config.dump(), "'"));
  }
  if (config["apiVersion"] != api_version || config["kind"] != type.kind) {
    return bad(
        400, absl::StrCat("the API version in the data (", config.value("apiVersion", ""),
                          ") and kind (", config.value("kind", ""), ") do not match the expected ",
                          api_version, ", Kind=", type.kind));
  }
  if (!config.contains("metadata") || !config["metadata"].is_object())
    config["metadata"] = Json::object();
  Json& md = config["metadata"];
  if (md.value("name", "") != t.name) {
    return bad(400, absl::StrCat("the name of the object (", md.value("name", ""),
                                 ") does not match the name on the URL (", t.name, ")"));
  }
  if (type.namespaced) {
    if (md.contains("namespace") && md["namespace"] != t.ns) {
      return bad(400,
                 "the namespace of the provided object does not match the namespace sent on the "
                 "request");
    }
    md["namespace"] = t.ns;
    // A namespaced object can only be created in an existing namespace.
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
    if (objects_.find(Key{"", "namespaces", "", t.ns}) == objects_.end()) {
      return Response{
          404,
          NotFoundStatus(KubeResourceType{"", "v1", "Namespace", "namespaces", false}, t.ns).dump(),
          {}};
    }
  } else {
    md.erase("namespace");
  }

  const Key key{type.group, type.resource, t.ns, t.name};
  auto existing = objects_.find(key);
  const StoredObject* old = existing == objects_.end() ? nullptr : &existing->second;
  // metadata.resourceVersion in a write is a precondition (optimistic
  // concurrency; for patches since kubernetes/kubernetes#63104).
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
  if (md.contains("resourceVersion") && md["resourceVersion"].is_string() &&
      !md["resourceVersion"].get<std::string>().empty()) {
    const std::string current =
        old != nullptr ? old->object["metadata"].value("resourceVersion", "") : "";
    if (old == nullptr || md["resourceVersion"] != current) {
      return Response{
          409,
          FailureStatus(409,
                        absl::StrCat("Operation cannot be fulfilled on ", QualifiedResource(type),
                                     " \"", t.name,
                                     "\": the object has been modified; please apply your "
                                     "changes to the latest version and try again"),
                        ResourceDetails(type, t.name))
              .dump(),
          {}};
    }
  }

  const std::map<FieldPath, Json> applied = TrackedFields(config);
  StoredObject next;
  if (old != nullptr) {
    next = *old;
  } else {
    next.object = Json{
        {"apiVersion", api_version}, {"kind", type.kind}, {"metadata", Json{{"name", t.name}}}};
    if (type.namespaced) next.object["metadata"]["namespace"] = t.ns;
  }

  // Conflicts: a field another manager owns, applied with a different value.
  // https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
  std::vector<std::pair<ManagedFieldsEntry*, FieldPath>> conflicts;
  for (ManagedFieldsEntry& m : next.managers) {
    if (m.manager == manager && m.operation == "Apply") continue;
    for (const FieldPath& owned : m.fields) {
      for (const auto& [path, value] : applied) {
        if (!IsPrefix(owned, path) && !IsPrefix(path, owned)) continue;
        // Compare at the deeper of the two paths: an owned field inside an
        // applied (atomic) value is compared with its part of that value.
        const bool owned_inside = owned.size() > path.size();
        const Json* live = Lookup(next.object, owned_inside ? owned : path);
        Json wanted = value;
        if (owned_inside) {
          const Json* inner =
              Lookup(value, FieldPath(owned.begin() + static_cast<long>(path.size()), owned.end()));
          wanted = inner != nullptr ? *inner : Json();
        }
        if (live == nullptr || *live != wanted) {
          conflicts.emplace_back(&m, owned);
          break;
        }
      }
    }
  }
  if (!conflicts.empty() && !force) {
    // The message and causes of the real conflict error.
    // https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts
    auto print_manager = [](const ManagedFieldsEntry& m) {
      std::string s = Json(m.manager).dump();
      if (m.operation == "Update") absl::StrAppend(&s, " using ", m.api_version);
      return s;
    };
    Json causes = Json::array();
    for (const auto& [m, path] : conflicts) {
      causes.push_back(Json{{"reason", "FieldManagerConflict"},
                            {"message", "conflict with " + print_manager(*m)},
                            {"field", PathString(path)}});
    }
    std::string message;
    if (conflicts.size() == 1) {
      message =
          absl::StrCat("Apply failed with 1 conflict: conflict with ",
                       print_manager(*conflicts[0].first), ": ", PathString(conflicts[0].second));
    } else {
      std::map<std::string, std::vector<std::string>> by_manager;
      for (const auto& [m, path] : conflicts) {
        by_manager[print_manager(*m)].push_back("- " + PathString(path));
      }
      std::vector<std::string> lines;
      for (const auto& [m, paths] : by_manager) {
        lines.push_back(absl::StrCat("conflicts with ", m, ":"));
        lines.insert(lines.end(), paths.begin(), paths.end());
      }
      message = absl::StrCat("Apply failed with ", conflicts.size(),
                             " conflicts: ", absl::StrJoin(lines, "\n"));
    }
    return Response{409, FailureStatus(409, message, Json{{"causes", causes}}).dump(), {}};
  }
  // With force, the conflicting fields move to the applier.
  for (const auto& [m, path] : conflicts) {
    m->fields.erase(path);
  }

  // Fields this manager applied before and omits now are removed unless
  // another manager still owns them.
  // https://kubernetes.io/docs/reference/using-api/server-side-apply/#field-management
  auto mine = std::find_if(next.managers.begin(), next.managers.end(), [&](const auto& m) {
    return m.manager == manager && m.operation == "Apply";
  });
  if (mine != next.managers.end()) {
    for (const FieldPath& path : mine->fields) {
      if (applied.count(path) > 0) continue;
      bool shared = false;
      for (const ManagedFieldsEntry& m : next.managers) {
        if (&m != &*mine && m.fields.count(path) > 0) shared = true;
      }
      if (!shared) RemoveAt(&next.object, path);
    }
  } else {
    next.managers.push_back(ManagedFieldsEntry{manager, "Apply", api_version, "", {}});
    mine = std::prev(next.managers.end());
  }
  const Json content = TrackedContent(config);
  for (auto it = content.begin(); it != content.end(); ++it) {
    MergeInto(&next.object[it.key()], it.value());
  }
  mine->api_version = api_version;
  mine->fields.clear();
  for (const auto& [path, value] : applied) mine->fields.insert(path);
  // Ownership of fields that no longer exist goes with them.
  for (ManagedFieldsEntry& m : next.managers) {
    for (auto f = m.fields.begin(); f != m.fields.end();) {
      f = Lookup(next.object, *f) == nullptr ? m.fields.erase(f) : std::next(f);
    }
  }
  next.managers.erase(std::remove_if(next.managers.begin(), next.managers.end(),
                                     [](const auto& m) { return m.fields.empty(); }),
                      next.managers.end());
  StampMetadata(&next.object, old != nullptr ? &old->object : nullptr);
  SetServerFields(type, old != nullptr ? &old->object : nullptr, &next.object);

  // An apply that changes nothing is not a write: same resourceVersion. (A
  // real server does write for a few edge cases, kubernetes/kubernetes#124605.)
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
  bool changed =
      old == nullptr || old->object != next.object || old->managers.size() != next.managers.size();
  if (!changed) {
    for (size_t i = 0; i < next.managers.size(); ++i) {
      const ManagedFieldsEntry& a = old->managers[i];
      const ManagedFieldsEntry& b = next.managers[i];
      if (a.manager != b.manager || a.operation != b.operation || a.api_version != b.api_version ||
          a.fields != b.fields) {
        changed = true;
      }
    }
  }
  if (!changed) return Response{200, Render(*old, api_version).dump(), {}};
  for (ManagedFieldsEntry& m : next.managers) {
    if (m.manager == manager && m.operation == "Apply") m.time = NowRfc3339();
  }
  // metadata.generation counts changes outside metadata and status.
  // https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/object-meta/
  if (old != nullptr && GenerationContent(old->object) != GenerationContent(next.object)) {
    next.object["metadata"]["generation"] = old->object["metadata"].value("generation", 0) + 1;
  }
  const bool created = old == nullptr;
  if (dry_run == "All") {
    next.object["metadata"]["resourceVersion"] =
        old != nullptr ? old->object["metadata"].value("resourceVersion", "") : "";
    if (created) next.object["metadata"].erase("resourceVersion");
    return Response{created ? 201 : 200, Render(next, api_version).dump(), {}};
  }
  next.object["metadata"]["resourceVersion"] = NextResourceVersion();
  objects_[key] = std::move(next);
  AfterStore(type, objects_[key].object);
  ++writes_;
  return Response{created ? 201 : 200, Render(objects_[key], api_version).dump(), {}};
}

// DELETE of one object: preconditions and propagationPolicy from DeleteOptions.
// https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/delete-options/
KubeApiDouble::Response KubeApiDouble::DeleteObject(const Target& t, const Query& query) {
  const KubeResourceType type = *t.type;
  const Key key{type.group, type.resource, t.ns, t.name};
  auto it = objects_.find(key);
  if (it == objects_.end()) return Response{404, NotFoundStatus(type, t.name).dump(), {}};
  const std::string policy = QueryValue(query, "propagationPolicy");
  if (!policy.empty() && policy != "Orphan" && policy != "Background" && policy != "Foreground") {
    return Response{
        400,
        FailureStatus(400, absl::StrCat("propagationPolicy: Unsupported value: \"", policy, "\""))
            .dump(),
        {}};
  }
  const Json deleted = it->second.object;
  if (QueryValue(query, "dryRun") != "All") {
    EraseWithDependents(type, key);
    ++resource_version_;
    ++writes_;
  }
  if (type.group.empty() && type.kind == "Namespace") {
    // A deleted Namespace is answered with the object, phase Terminating.
    // https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/
    Json out = deleted;
    out["metadata"]["deletionTimestamp"] = NowRfc3339();
    out["status"]["phase"] = "Terminating";
    return Response{200, out.dump(), {}};
  }
  // https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/status/
  Json details = ResourceDetails(type, t.name);
  details["uid"] = deleted["metadata"].value("uid", "");
  return Response{200,
                  Json{{"kind", "Status"},
                       {"apiVersion", "v1"},
                       {"metadata", Json::object()},
                       {"status", "Success"},
                       {"details", details}}
                      .dump(),
                  {}};
}

// deletecollection: the matching objects go; the answer lists them.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#api-verbs
KubeApiDouble::Response KubeApiDouble::DeleteCollection(const Target& t, const Query& query) {
  Response listed = List(t, query);
  if (listed.status != 200) return listed;
  const KubeResourceType type = *t.type;
  const Json list = Json::parse(listed.body);
  if (QueryValue(query, "dryRun") != "All" && !list["items"].empty()) {
    for (const Json& item : list["items"]) {
      EraseWithDependents(type,
                          Key{type.group, type.resource, t.ns, item["metadata"].value("name", "")});
    }
    ++resource_version_;
    ++writes_;
  }
  return listed;
}

}  // namespace flotilla::testing
