// The baseline rules of shared/SECURITY.md §3 as a test helper: walks every
// object of an install manifest (pod specs of Pod, Deployment, StatefulSet,
// DaemonSet, ReplicaSet, Job and CronJob; containers, initContainers and
// ephemeralContainers; Services; RBAC) and returns one finding per broken
// rule, "<rule id> <Kind> <namespace>/<name> [container <c>]: <problem>".
// deploy/README.md ("Policy rules checked") lists the rules and says which
// test applies them to which file. Until the manager's policy gate exists,
// this is the check; the gate must agree with it.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/yaml.h"

namespace flotilla::cli::testing {

using common::Json;

// Kinds whose objects live outside namespaces; every other kind needs a
// namespace other than default (KSV-0110) and kube-system (KSV-0037).
inline bool ClusterScopedKind(const std::string& kind) {
  static const std::set<std::string> kinds = {
      "Namespace",    "ClusterRole",      "ClusterRoleBinding", "CustomResourceDefinition",
      "APIService",   "PersistentVolume", "StorageClass",       "PriorityClass",
      "IngressClass", "RuntimeClass"};
  return kinds.count(kind) > 0;
}

// The pod spec of a workload, or null when the kind holds none.
inline const Json* PodSpecOf(const Json& object) {
  const std::string kind = object.value("kind", "");
  auto at = [&object](const Json::json_pointer& pointer) -> const Json* {
    return object.contains(pointer) && object.at(pointer).is_object() ? &object.at(pointer)
                                                                      : nullptr;
  };
  if (kind == "Pod") return at(Json::json_pointer("/spec"));
  if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" ||
      kind == "ReplicaSet" || kind == "Job") {
    return at(Json::json_pointer("/spec/template/spec"));
  }
  if (kind == "CronJob") return at(Json::json_pointer("/spec/jobTemplate/spec/template/spec"));
  return nullptr;
}

// A value of `object` at `key`, or null.
inline Json Field(const Json& object, const char* key) {
  return object.is_object() && object.contains(key) ? object.at(key) : Json();
}

// KSV-0013: a tag other than latest, or a digest; "registry:5000/app" has no tag.
inline bool ImagePinned(const std::string& image) {
  if (absl::StrContains(image, "@sha256:")) return true;
  size_t slash = image.rfind('/');
  std::string last = slash == std::string::npos ? image : image.substr(slash + 1);
  size_t colon = last.rfind(':');
  if (colon == std::string::npos || colon + 1 == last.size()) return false;
  return last.substr(colon + 1) != "latest";
}

// Env names that must not carry a literal value.
inline bool SecretLookingName(const std::string& name) {
  std::string lower = absl::AsciiStrToLower(name);
  for (const char* word : {"password", "token", "secret", "key"}) {
    if (absl::StrContains(lower, word)) return true;
  }
  return false;
}

inline void CheckPodSpec(const Json& pod, const std::string& where,
                         std::vector<std::string>& findings) {
  auto find = [&findings, &where](const char* rule, const std::string& subject,
                                  const std::string& problem) {
    findings.push_back(absl::StrCat(rule, " ", where, subject, ": ", problem));
  };
  for (const char* host : {"hostNetwork", "hostPID", "hostIPC"}) {
    if (Field(pod, host) == Json(true)) {
      const char* rule = std::string(host) == "hostNetwork" ? "KSV-0009"
                         : std::string(host) == "hostPID"   ? "KSV-0010"
                                                            : "KSV-0008";
      find(rule, "", absl::StrCat(host, " is true"));
    }
  }
  if (Field(pod, "automountServiceAccountToken") != Json(false)) {
    find("KSV-0036", "", "automountServiceAccountToken is not false");
  }
  if (!Field(pod, "hostAliases").is_null()) find("KSV-0007", "", "hostAliases is set");
  for (const Json& volume : Field(pod, "volumes").is_array() ? pod["volumes"] : Json::array()) {
    if (volume.contains("hostPath")) {
      std::string path = Field(volume["hostPath"], "path").is_string()
                             ? volume["hostPath"]["path"].get<std::string>()
                             : "";
      find("KSV-0023", "", absl::StrCat("volume ", volume.value("name", ""), " is a hostPath"));
      if (absl::StrContains(path, ".sock")) {
        find("KSV-0006", "", absl::StrCat("mounts the runtime socket ", path));
      }
    }
  }
  const Json pod_context = Field(pod, "securityContext");
  const Json pod_seccomp = Field(Field(pod_context, "seccompProfile"), "type");

  std::vector<const Json*> containers;
  for (const char* list : {"containers", "initContainers", "ephemeralContainers"}) {
    if (Field(pod, list).is_array()) {
      for (const Json& c : pod[list]) containers.push_back(&c);
    }
  }
  if (containers.empty()) find("spec", "", "has no containers");
  for (const Json* c : containers) {
    const std::string subject = absl::StrCat(" container ", c->value("name", "?"));
    const Json context = Field(*c, "securityContext");
    auto setting = [&](const char* key) {
      Json own = Field(context, key);
      return own.is_null() ? Field(pod_context, key) : own;
    };
    if (Field(context, "privileged") == Json(true)) find("KSV-0017", subject, "privileged");
    if (Field(context, "allowPrivilegeEscalation") != Json(false)) {
      find("KSV-0001", subject, "allowPrivilegeEscalation is not false");
    }
    if (setting("runAsNonRoot") != Json(true)) find("KSV-0012", subject, "runAsNonRoot not true");
    if (setting("runAsUser") == Json(0)) find("KSV-0105", subject, "runAsUser is 0");
    if (Field(context, "readOnlyRootFilesystem") != Json(true)) {
      find("KSV-0014", subject, "readOnlyRootFilesystem is not true");
    }
    if (!Field(context, "procMount").is_null() && Field(context, "procMount") != "Default") {
      find("KSV-0027", subject, "procMount is not Default");
    }
    const Json capabilities = Field(context, "capabilities");
    bool drops_all = false;
    for (const Json& cap :
         Field(capabilities, "drop").is_array() ? capabilities["drop"] : Json::array()) {
      drops_all = drops_all || cap == "ALL";
    }
    if (!drops_all) find("KSV-0003", subject, "capabilities do not drop ALL");
    for (const Json& cap :
         Field(capabilities, "add").is_array() ? capabilities["add"] : Json::array()) {
      if (cap == "SYS_ADMIN") find("KSV-0005", subject, "adds SYS_ADMIN");
      if (cap != "NET_BIND_SERVICE") find("KSV-0022", subject, absl::StrCat("adds ", cap.dump()));
    }
    Json seccomp = Field(Field(context, "seccompProfile"), "type");
    if (seccomp.is_null()) seccomp = pod_seccomp;
    if (seccomp != "RuntimeDefault" && seccomp != "Localhost") {
      find("KSV-0030", subject, "seccompProfile is not RuntimeDefault or Localhost");
    }
    const std::string image = c->value("image", "");
    if (!ImagePinned(image)) {
      find("KSV-0013", subject, absl::StrCat("image \"", image, "\" is not pinned"));
    }
    const Json resources = Field(*c, "resources");
    for (const char* kind : {"requests", "limits"}) {
      for (const char* resource : {"cpu", "memory"}) {
        if (Field(Field(resources, kind), resource).is_null()) {
          find("KSV-0011/15/16/18", subject, absl::StrCat("no ", resource, " ", kind));
        }
      }
    }
    for (const char* probe : {"livenessProbe", "readinessProbe"}) {
      if (!Field(*c, probe).is_object()) find("probes", subject, absl::StrCat("no ", probe));
    }
    for (const Json& port : Field(*c, "ports").is_array() ? (*c)["ports"] : Json::array()) {
      if (!Field(port, "hostPort").is_null()) find("KSV-0024", subject, "sets a hostPort");
    }
    for (const Json& env : Field(*c, "env").is_array() ? (*c)["env"] : Json::array()) {
      const std::string name = env.value("name", "");
      const Json value = Field(env, "value");
      if (value.is_string() && (SecretLookingName(name) ||
                                absl::StrContains(value.get<std::string>(), "PRIVATE KEY-----"))) {
        find("secret-env", subject, absl::StrCat("env ", name, " holds a literal value"));
      }
    }
  }
}

// Every finding for `objects`; empty when all rules pass.
inline std::vector<std::string> PolicyFindings(const std::vector<Json>& objects) {
  std::vector<std::string> findings;
  for (const Json& object : objects) {
    const std::string kind = object.value("kind", "");
    const Json metadata = Field(object, "metadata");
    const std::string name = metadata.is_object() ? metadata.value("name", "") : "";
    const std::string ns = metadata.is_object() ? metadata.value("namespace", "") : "";
    const std::string where = absl::StrCat(kind, " ", ns.empty() ? "" : ns + "/", name);
    if (!ClusterScopedKind(kind)) {
      if (ns.empty() || ns == "default") {
        findings.push_back(absl::StrCat("KSV-0110 ", where, ": in the default namespace"));
      }
      if (ns == "kube-system") {
        findings.push_back(absl::StrCat("KSV-0037 ", where, ": in kube-system"));
      }
    }
    if (const Json* pod = PodSpecOf(object); pod != nullptr) {
      CheckPodSpec(*pod, where, findings);
    } else if (kind == "Deployment" || kind == "Pod" || kind == "StatefulSet" ||
               kind == "DaemonSet" || kind == "ReplicaSet" || kind == "Job" || kind == "CronJob") {
      findings.push_back(absl::StrCat("spec ", where, ": no pod spec"));
    }
    if (kind == "ServiceAccount" && Field(object, "automountServiceAccountToken") != Json(false)) {
      findings.push_back(
          absl::StrCat("KSV-0036 ", where, ": automountServiceAccountToken not false"));
    }
    if (kind == "Service") {
      const Json spec = Field(object, "spec");
      if (Field(spec, "type") == "NodePort") {
        findings.push_back(absl::StrCat("service ", where, ": type NodePort"));
      }
      for (const Json& port : Field(spec, "ports").is_array() ? spec["ports"] : Json::array()) {
        if (!Field(port, "nodePort").is_null()) {
          findings.push_back(absl::StrCat("service ", where, ": sets a nodePort"));
        }
      }
      if (!Field(spec, "externalIPs").is_null()) {
        findings.push_back(absl::StrCat("service ", where, ": sets externalIPs"));
      }
    }
    if (kind == "Role" || kind == "ClusterRole") {
      for (const Json& rule : Field(object, "rules").is_array() ? object["rules"] : Json::array()) {
        for (const char* list : {"verbs", "resources", "apiGroups"}) {
          for (const Json& item : Field(rule, list).is_array() ? rule[list] : Json::array()) {
            if (item.is_string() && absl::StrContains(item.get<std::string>(), "*")) {
              findings.push_back(absl::StrCat("KSV-0044/45/46 ", where, ": wildcard in ", list));
            }
          }
        }
      }
    }
    if ((kind == "RoleBinding" || kind == "ClusterRoleBinding") &&
        Field(Field(object, "roleRef"), "name") == "cluster-admin") {
      findings.push_back(absl::StrCat("cluster-admin ", where, ": binds cluster-admin"));
    }
  }
  return findings;
}

}  // namespace flotilla::cli::testing
