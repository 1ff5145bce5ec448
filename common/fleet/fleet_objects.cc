#include "common/fleet/fleet_objects.h"

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/fleet/gitrepo_spec.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

absl::Status FieldError(const YamlDocument& doc, const std::string& pointer,
                        absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(doc.Where(pointer), ": ", field, ": ", problem));
}

absl::StatusOr<YamlDocument> OneDocument(absl::string_view text, absl::string_view filename) {
  ASSIGN_OR_RETURN(auto docs, ParseYamlDocumentsWithPositions(text, filename));
  if (docs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": expected one document, found ", docs.size()));
  }
  if (!docs[0].value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(docs[0].Where(""), ": must be a mapping"));
  }
  return std::move(docs[0]);
}

// Checks apiVersion/kind and the top-level keys; returns metadata.name.
absl::StatusOr<std::string> CheckHeader(const YamlDocument& doc, absl::string_view api_version,
                                        absl::string_view kind,
                                        const std::set<std::string>& top_level) {
  const Json& v = doc.value;
  auto text_of = [&v](const char* key) {
    auto it = v.find(key);
    return it != v.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (text_of("apiVersion") != api_version) {
    return FieldError(doc, "/apiVersion", "apiVersion",
                      absl::StrCat("\"", text_of("apiVersion"), "\" is not ", api_version));
  }
  if (text_of("kind") != kind) {
    return FieldError(doc, "/kind", "kind",
                      absl::StrCat("\"", text_of("kind"), "\" is not ", kind));
  }
  for (const auto& [k, unused] : v.items()) {
    if (k != "apiVersion" && k != "kind" && k != "metadata" && !top_level.count(k)) {
      return FieldError(doc, "/" + k, k, "unknown field");
    }
  }
  auto meta = v.find("metadata");
  if (meta == v.end() || !meta->is_object() || !meta->contains("name") ||
      !(*meta)["name"].is_string()) {
    return FieldError(doc, "/metadata", "metadata.name", "is required");
  }
  std::string name = (*meta)["name"].get<std::string>();
  if (auto st = ValidateObjectName(kind, name); !st.ok()) {
    return FieldError(doc, "/metadata/name", "metadata.name", st.message());
  }
  return name;
}

// metadata.labels / metadata.annotations as a string map.
absl::StatusOr<Labels> StringMapAt(const YamlDocument& doc, const std::string& pointer,
                                   absl::string_view field, bool validate_labels) {
  Labels out;
  const Json* node = &doc.value;
  for (absl::string_view part :
       {absl::string_view("metadata"), field.substr(field.rfind('.') + 1)}) {
    if (!node->is_object() || !node->contains(std::string(part))) return out;
    node = &(*node)[std::string(part)];
  }
  if (node->is_null()) return out;
  if (!node->is_object()) return FieldError(doc, pointer, field, "must be a mapping");
  for (const auto& [k, v] : node->items()) {
    if (!v.is_string()) {
      return FieldError(doc, pointer + "/" + k, absl::StrCat(field, ".", k), "must be a string");
    }
    if (validate_labels) {
      if (auto st = ValidateLabelKey(k); !st.ok()) {
        return FieldError(doc, pointer + "/" + k, absl::StrCat(field, ".", k), st.message());
      }
      if (auto st = ValidateLabelValue(k, v.get<std::string>()); !st.ok()) {
        return FieldError(doc, pointer + "/" + k, absl::StrCat(field, ".", k), st.message());
      }
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

}  // namespace

absl::StatusOr<ObjectKind> DocumentKind(absl::string_view text, absl::string_view filename) {
  ASSIGN_OR_RETURN(YamlDocument doc, OneDocument(text, filename));
  ObjectKind k;
  auto api = doc.value.find("apiVersion");
  auto kind = doc.value.find("kind");
  if (api == doc.value.end() || !api->is_string() || kind == doc.value.end() ||
      !kind->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        doc.Where(""), ": not a Kubernetes object (apiVersion and kind are required)"));
  }
  k.api_version = api->get<std::string>();
  k.kind = kind->get<std::string>();
  return k;
}

// Fleet: pkg/apis/fleet.cattle.io/v1alpha1/clustergroup_types.go.
absl::StatusOr<ClusterGroupSpec> ParseClusterGroup(absl::string_view text,
                                                   absl::string_view filename) {
  ASSIGN_OR_RETURN(YamlDocument doc, OneDocument(text, filename));
  ClusterGroupSpec spec;
  ASSIGN_OR_RETURN(
      spec.name, CheckHeader(doc, "fleet.cattle.io/v1alpha1", "ClusterGroup", {"spec", "status"}));
  ASSIGN_OR_RETURN(spec.labels, StringMapAt(doc, "/metadata/labels", "metadata.labels", true));
  const Json& v = doc.value;
  if (!v.contains("spec") || v["spec"].is_null()) return spec;
  if (!v["spec"].is_object()) return FieldError(doc, "/spec", "spec", "must be a mapping");
  for (const auto& [k, fv] : v["spec"].items()) {
    if (k != "selector") return FieldError(doc, "/spec/" + k, "spec." + k, "unknown field");
    if (fv.is_null()) continue;  // a null selector: no members
    auto selector = ParseLabelSelector(fv, "spec.selector");
    if (!selector.ok()) {
      return FieldError(doc, "/spec/selector", "spec.selector", selector.status().message());
    }
    spec.selector = *std::move(selector);
  }
  return spec;
}

// Fleet: pkg/apis/fleet.cattle.io/v1alpha1/cluster_types.go (the fields that
// mean something without a Kubernetes API server in between).
absl::StatusOr<ClusterSpec> ParseCluster(absl::string_view text, absl::string_view filename) {
  ASSIGN_OR_RETURN(YamlDocument doc, OneDocument(text, filename));
  ClusterSpec spec;
  ASSIGN_OR_RETURN(spec.name,
                   CheckHeader(doc, "fleet.cattle.io/v1alpha1", "Cluster", {"spec", "status"}));
  ASSIGN_OR_RETURN(spec.labels, StringMapAt(doc, "/metadata/labels", "metadata.labels", true));
  ASSIGN_OR_RETURN(spec.annotations,
                   StringMapAt(doc, "/metadata/annotations", "metadata.annotations", false));
  const Json& v = doc.value;
  if (!v.contains("spec") || v["spec"].is_null()) return spec;
  if (!v["spec"].is_object()) return FieldError(doc, "/spec", "spec", "must be a mapping");
  for (const auto& [k, fv] : v["spec"].items()) {
    std::string at = "/spec/" + k;
    if (k == "paused") {
      if (fv.is_null()) continue;
      if (!fv.is_boolean()) return FieldError(doc, at, "spec.paused", "must be true or false");
      spec.paused = fv.get<bool>();
    } else if (k == "templateValues") {
      if (fv.is_null()) continue;
      if (!fv.is_object()) return FieldError(doc, at, "spec.templateValues", "must be a mapping");
      spec.template_values = fv;
    } else if (k == "kubeConfigSecret" || k == "kubeConfigSecretNamespace" || k == "clientID" ||
               k == "agentNamespace" || k == "privateRepoURL" || k == "redeployAgentGeneration" ||
               k == "agentEnvVars" || k == "agentTolerations" || k == "agentAffinity" ||
               k == "agentResources" || k == "agentSchedulingCustomization" || k == "hostNetwork") {
      return FieldError(doc, at, "spec." + k,
                        "configures Fleet's own agent deployment, which Flotilla does not do: "
                        "Flotilla agents register themselves (see docs/fleet-compat.md)");
    } else {
      return FieldError(doc, at, "spec." + k, "unknown field");
    }
  }
  return spec;
}

// Kubernetes core/v1 Secret; types from k8s.io/api/core/v1/types.go.
absl::StatusOr<SecretSpec> ParseSecret(absl::string_view text, absl::string_view filename) {
  ASSIGN_OR_RETURN(YamlDocument doc, OneDocument(text, filename));
  SecretSpec spec;
  ASSIGN_OR_RETURN(spec.name,
                   CheckHeader(doc, "v1", "Secret", {"type", "data", "stringData", "immutable"}));
  const Json& v = doc.value;
  std::string type = "Opaque";
  if (v.contains("type") && !v["type"].is_null()) {
    if (!v["type"].is_string()) return FieldError(doc, "/type", "type", "must be a string");
    type = v["type"].get<std::string>();
  }
  if (type == "kubernetes.io/basic-auth") {
    spec.type = "basic-auth";
  } else if (type == "kubernetes.io/ssh-auth") {
    spec.type = "ssh-auth";
  } else if (type == "Opaque") {
    spec.type = "generic";
  } else {
    return FieldError(doc, "/type", "type",
                      absl::StrCat("\"", type,
                                   "\" is not supported (use kubernetes.io/basic-auth, "
                                   "kubernetes.io/ssh-auth or Opaque)"));
  }
  if (v.contains("data") && !v["data"].is_null()) {
    if (!v["data"].is_object()) return FieldError(doc, "/data", "data", "must be a mapping");
    for (const auto& [k, fv] : v["data"].items()) {
      std::string decoded;
      if (!fv.is_string() || !absl::Base64Unescape(fv.get<std::string>(), &decoded)) {
        // Never echo the value: it is a secret.
        return FieldError(doc, "/data/" + k, "data." + k,
                          "must be base64 (use stringData for "
                          "plain text)");
      }
      spec.data[k] = std::move(decoded);
    }
  }
  if (v.contains("stringData") && !v["stringData"].is_null()) {
    if (!v["stringData"].is_object()) {
      return FieldError(doc, "/stringData", "stringData", "must be a mapping");
    }
    for (const auto& [k, fv] : v["stringData"].items()) {
      if (!fv.is_string()) {
        return FieldError(doc, "/stringData/" + k, "stringData." + k, "must be a string");
      }
      spec.data[k] = fv.get<std::string>();
    }
  }
  const std::string data_at = v.contains("data")         ? "/data"
                              : v.contains("stringData") ? "/stringData"
                                                         : "";
  auto require = [&](const char* key) -> absl::Status {
    if (spec.data.count(key) && !spec.data[key].empty()) return absl::OkStatus();
    return FieldError(doc, data_at, absl::StrCat("data.", key),
                      absl::StrCat("is required for type ", type));
  };
  if (spec.type == "basic-auth") {
    RETURN_IF_ERROR(require("password"));
    for (const auto& [k, unused] : spec.data) {
      if (k != "username" && k != "password") {
        return FieldError(doc, data_at, "data." + k,
                          "is not a key of kubernetes.io/basic-auth (username, password)");
      }
    }
  } else if (spec.type == "ssh-auth") {
    RETURN_IF_ERROR(require("ssh-privatekey"));
    for (const auto& [k, unused] : spec.data) {
      if (k != "ssh-privatekey" && k != "known_hosts") {
        return FieldError(doc, data_at, "data." + k,
                          "is not a key of kubernetes.io/ssh-auth (ssh-privatekey, known_hosts)");
      }
    }
  } else if (spec.data.empty()) {
    return FieldError(doc, data_at, "data", "an Opaque secret needs at least one key");
  }
  return spec;
}

}  // namespace flotilla::common
