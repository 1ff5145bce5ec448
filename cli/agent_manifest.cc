#include "cli/agent_manifest.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/labels.h"
#include "cli/version.h"
#include "common/fleet/gitrepo_spec.h"

namespace flotilla::cli {
namespace {

using common::Json;

constexpr char kAppName[] = "flotilla-agent";
constexpr char kBaseRoleName[] = "flotilla-agent-base";
constexpr char kImpersonateRoleName[] = "flotilla-agent-impersonate";
constexpr char kBootstrapSecret[] = "flotilla-agent-bootstrap";
constexpr char kStateClaim[] = "flotilla-agent-state";
constexpr char kBootstrapDir[] = "/etc/flotilla/bootstrap";
// Where InClusterConfig (agent/apply/kube/kube_config.h) reads token, ca.crt
// and namespace.
constexpr char kServiceAccountDir[] = "/var/run/secrets/kubernetes.io/serviceaccount";

constexpr char kTokenPlaceholder[] = "REPLACE-WITH-flt1.<id>.<secret>-FROM-flotilla-token-create";
constexpr char kManagerPlaceholder[] = "flotilla.example.com:7443";
constexpr char kCaPlaceholder[] =
    "-----BEGIN CERTIFICATE-----\n"
    "REPLACE with the manager CA certificate (<data-dir>/ca.crt on the manager)\n"
    "-----END CERTIFICATE-----\n";

bool IsBase64UrlChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
}

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// What the objects are built from; validated (or placeholders) already.
struct ManifestValues {
  std::string token;
  std::string manager;
  std::string name;
  std::map<std::string, std::string> labels;
  std::string ca_pem;  // empty when ca_pin is used
  std::string ca_pin;
  std::string image;
  std::string namespace_;
};

Json CommonLabels() {
  Json labels = Json::object();
  labels["app.kubernetes.io/name"] = kAppName;
  labels["app.kubernetes.io/component"] = "agent";
  labels["app.kubernetes.io/part-of"] = "flotilla";
  return labels;
}

Json Metadata(const std::string& name, const std::string& namespace_) {
  Json meta = Json::object();
  meta["name"] = name;
  if (!namespace_.empty()) meta["namespace"] = namespace_;
  meta["labels"] = CommonLabels();
  return meta;
}

Json Object(const char* api_version, const char* kind, Json metadata) {
  Json object = Json::object();
  object["apiVersion"] = api_version;
  object["kind"] = kind;
  object["metadata"] = std::move(metadata);
  return object;
}

Json Rule(const std::string& api_group, const std::vector<std::string>& resources,
          const std::vector<std::string>& verbs) {
  Json rule = Json::object();
  rule["apiGroups"] = Json::array({api_group});
  rule["resources"] = resources;
  rule["verbs"] = verbs;
  return rule;
}

// The kinds a bundle usually holds, with explicit verbs: never "*". Roles and
// bindings a bundle ships may only grant what this role grants (no escalate,
// no bind: Kubernetes' RBAC escalation check), which keeps the agent from
// handing out rights it does not hold. More kinds: deploy/README.md.
Json BaseRules() {
  const std::vector<std::string> manage = {"get",    "list",  "watch", "create",
                                           "update", "patch", "delete"};
  const std::vector<std::string> read = {"get", "list", "watch"};
  Json rules = Json::array();
  rules.push_back(Rule("",
                       {"namespaces", "configmaps", "secrets", "services", "serviceaccounts",
                        "persistentvolumeclaims", "limitranges", "resourcequotas"},
                       manage));
  // Readiness only: bundles ship workloads, not bare pods.
  rules.push_back(Rule("", {"pods", "endpoints"}, read));
  rules.push_back(
      Rule("apps", {"deployments", "statefulsets", "daemonsets", "replicasets"}, manage));
  rules.push_back(Rule("batch", {"jobs", "cronjobs"}, manage));
  rules.push_back(Rule("networking.k8s.io", {"ingresses", "networkpolicies"}, manage));
  rules.push_back(Rule("policy", {"poddisruptionbudgets"}, manage));
  rules.push_back(Rule("autoscaling", {"horizontalpodautoscalers"}, manage));
  rules.push_back(Rule("rbac.authorization.k8s.io",
                       {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}, manage));
  rules.push_back(Rule("apiextensions.k8s.io", {"customresourcedefinitions"}, manage));
  // Readiness of APIServices a bundle's CRDs or charts depend on.
  rules.push_back(Rule("apiregistration.k8s.io", {"apiservices"}, read));
  return rules;
}

Json PodSecurityContext() {
  Json context = Json::object();
  context["runAsNonRoot"] = true;
  context["runAsUser"] = kImageUid;
  context["runAsGroup"] = kImageUid;
  context["fsGroup"] = kImageUid;
  context["fsGroupChangePolicy"] = "OnRootMismatch";
  context["seccompProfile"] = {{"type", "RuntimeDefault"}};
  return context;
}

Json ContainerSecurityContext() {
  Json context = Json::object();
  context["allowPrivilegeEscalation"] = false;
  context["privileged"] = false;
  context["readOnlyRootFilesystem"] = true;
  context["runAsNonRoot"] = true;
  context["capabilities"] = {{"drop", Json::array({"ALL"})}};
  context["seccompProfile"] = {{"type", "RuntimeDefault"}};
  return context;
}

Json Resources(const char* cpu_request, const char* memory_request, const char* cpu_limit,
               const char* memory_limit) {
  Json resources = Json::object();
  resources["requests"] = {{"cpu", cpu_request}, {"memory", memory_request}};
  resources["limits"] = {{"cpu", cpu_limit}, {"memory", memory_limit}};
  return resources;
}

// The agent's --health-listen port: /healthz answers while its run loop
// makes progress, /readyz while it is connected to the manager.
constexpr int kHealthPort = 8081;

Json HttpProbe(const char* path, int initial_delay, int period, int failure_threshold) {
  Json probe = Json::object();
  probe["httpGet"] = {{"path", path}, {"port", "health"}};
  probe["initialDelaySeconds"] = initial_delay;
  probe["periodSeconds"] = period;
  probe["timeoutSeconds"] = 5;
  probe["failureThreshold"] = failure_threshold;
  return probe;
}

Json VolumeMount(const char* name, const std::string& path, bool read_only) {
  Json mount = Json::object();
  mount["name"] = name;
  mount["mountPath"] = path;
  if (read_only) mount["readOnly"] = true;
  return mount;
}

// The service account token, mounted explicitly (automount is off): a bound
// token of one hour that the kubelet rotates and the agent re-reads, the
// cluster CA and the namespace, under the names InClusterConfig reads.
Json ServiceAccountVolume() {
  Json token = Json::object();
  token["serviceAccountToken"] = {{"path", "token"}, {"expirationSeconds", 3600}};
  Json ca = Json::object();
  ca["configMap"] = {{"name", "kube-root-ca.crt"},
                     {"items", Json::array({Json{{"key", "ca.crt"}, {"path", "ca.crt"}}})}};
  Json field_ref = {{"apiVersion", "v1"}, {"fieldPath", "metadata.namespace"}};
  Json ns = Json::object();
  ns["downwardAPI"] = {
      {"items", Json::array({Json{{"path", "namespace"}, {"fieldRef", field_ref}}})}};
  Json volume = Json::object();
  volume["name"] = "kube-api-access";
  // 0644, as in the volume Kubernetes itself injects.
  volume["projected"] = {{"defaultMode", 0644}, {"sources", Json::array({token, ca, ns})}};
  return volume;
}

Json AgentDeployment(const ManifestValues& v) {
  std::vector<std::string> args = {
      "--target=kube",
      absl::StrCat("--manager=", v.manager),
      absl::StrCat("--token-file=", kBootstrapDir, "/token"),
      v.ca_pin.empty() ? absl::StrCat("--ca-file=", kBootstrapDir, "/ca.crt")
                       : absl::StrCat("--ca-pin=", v.ca_pin),
      absl::StrCat("--state-dir=", kAgentStateDir),
      absl::StrCat("--health-listen=:", kHealthPort),
  };
  if (!v.name.empty()) args.push_back(absl::StrCat("--name=", v.name));
  for (const auto& [key, value] : v.labels)
    args.push_back(absl::StrCat("--label=", key, "=", value));

  Json container = Json::object();
  container["name"] = "agent";
  container["image"] = v.image;
  container["imagePullPolicy"] = "IfNotPresent";
  container["args"] = args;
  container["securityContext"] = ContainerSecurityContext();
  container["resources"] = Resources("100m", "128Mi", "1", "512Mi");
  container["ports"] =
      Json::array({Json{{"name", "health"}, {"containerPort", kHealthPort}, {"protocol", "TCP"}}});
  container["readinessProbe"] = HttpProbe("/readyz", 5, 10, 3);
  container["livenessProbe"] = HttpProbe("/healthz", 60, 30, 5);
  container["volumeMounts"] = Json::array({
      VolumeMount("state", kAgentStateDir, false),
      VolumeMount("bootstrap", kBootstrapDir, true),
      VolumeMount("kube-api-access", kServiceAccountDir, true),
      VolumeMount("tmp", "/tmp", false),
  });

  Json state = {{"name", "state"}, {"persistentVolumeClaim", {{"claimName", kStateClaim}}}};
  // 0440: root and the pod's fsGroup may read the token.
  Json bootstrap = {{"name", "bootstrap"},
                    {"secret", {{"secretName", kBootstrapSecret}, {"defaultMode", 0440}}}};
  Json tmp = {{"name", "tmp"}, {"emptyDir", {{"sizeLimit", "64Mi"}}}};

  Json pod = Json::object();
  pod["serviceAccountName"] = kAppName;
  pod["automountServiceAccountToken"] = false;
  pod["securityContext"] = PodSecurityContext();
  pod["containers"] = Json::array({container});
  pod["volumes"] = Json::array({state, bootstrap, ServiceAccountVolume(), tmp});
  pod["terminationGracePeriodSeconds"] = 30;

  Json selector = {{"app.kubernetes.io/name", kAppName}};
  Json spec = Json::object();
  spec["replicas"] = 1;
  // One agent per cluster, and the state volume is ReadWriteOnce.
  spec["strategy"] = {{"type", "Recreate"}};
  spec["revisionHistoryLimit"] = 3;
  spec["selector"] = {{"matchLabels", selector}};
  spec["template"] = {{"metadata", {{"labels", CommonLabels()}}}, {"spec", pod}};

  Json deployment = Object("apps/v1", "Deployment", Metadata(kAppName, v.namespace_));
  deployment["spec"] = std::move(spec);
  return deployment;
}

std::vector<Json> BuildObjects(const ManifestValues& v) {
  std::vector<Json> objects;

  Json ns_meta = Metadata(v.namespace_, "");
  // The agent pod meets the restricted Pod Security Standard; say so.
  ns_meta["labels"]["pod-security.kubernetes.io/enforce"] = "restricted";
  objects.push_back(Object("v1", "Namespace", std::move(ns_meta)));

  Json account = Object("v1", "ServiceAccount", Metadata(kAppName, v.namespace_));
  account["automountServiceAccountToken"] = false;
  objects.push_back(std::move(account));

  Json base_meta = Metadata(kBaseRoleName, "");
  base_meta["labels"][kAgentAggregateLabel] = "true";
  Json base = Object("rbac.authorization.k8s.io/v1", "ClusterRole", std::move(base_meta));
  base["rules"] = BaseRules();
  objects.push_back(std::move(base));

  // Its rules are filled in by the aggregation controller: the union of every
  // ClusterRole labelled kAgentAggregateLabel="true".
  Json role = Object("rbac.authorization.k8s.io/v1", "ClusterRole", Metadata(kAppName, ""));
  role["aggregationRule"] = {
      {"clusterRoleSelectors",
       Json::array({Json{{"matchLabels", {{kAgentAggregateLabel, "true"}}}}})}};
  objects.push_back(std::move(role));

  Json binding =
      Object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", Metadata(kAppName, ""));
  binding["roleRef"] = {
      {"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", kAppName}};
  binding["subjects"] = Json::array(
      {Json{{"kind", "ServiceAccount"}, {"name", kAppName}, {"namespace", v.namespace_}}});
  objects.push_back(std::move(binding));

  // fleet.yaml serviceAccount: the agent writes as an account from its own
  // namespace (where the operator creates them with the bundle's rights), so
  // it may impersonate service accounts there and nowhere else.
  Json impersonate =
      Object("rbac.authorization.k8s.io/v1", "Role", Metadata(kImpersonateRoleName, v.namespace_));
  impersonate["rules"] = Json::array({Json{{"apiGroups", Json::array({""})},
                                           {"resources", Json::array({"serviceaccounts"})},
                                           {"verbs", Json::array({"impersonate"})}}});
  objects.push_back(std::move(impersonate));
  Json impersonate_binding = Object("rbac.authorization.k8s.io/v1", "RoleBinding",
                                    Metadata(kImpersonateRoleName, v.namespace_));
  impersonate_binding["roleRef"] = {
      {"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", kImpersonateRoleName}};
  impersonate_binding["subjects"] = Json::array(
      {Json{{"kind", "ServiceAccount"}, {"name", kAppName}, {"namespace", v.namespace_}}});
  objects.push_back(std::move(impersonate_binding));

  Json secret = Object("v1", "Secret", Metadata(kBootstrapSecret, v.namespace_));
  secret["type"] = "Opaque";
  secret["stringData"] = {{"token", v.token}};
  if (v.ca_pin.empty()) secret["stringData"]["ca.crt"] = v.ca_pem;
  objects.push_back(std::move(secret));

  // The agent's key, certificate and applied state must outlive the pod: the
  // registration token is single-use, so an agent that loses them cannot
  // register again by itself.
  Json claim = Object("v1", "PersistentVolumeClaim", Metadata(kStateClaim, v.namespace_));
  claim["spec"] = {{"accessModes", Json::array({"ReadWriteOnce"})},
                   {"resources", {{"requests", {{"storage", "1Gi"}}}}}};
  objects.push_back(std::move(claim));

  objects.push_back(AgentDeployment(v));
  return objects;
}

std::string ResolvedImage(absl::string_view image) {
  return image.empty() ? DefaultAgentImage() : std::string(image);
}

std::string ResolvedNamespace(absl::string_view namespace_) {
  return namespace_.empty() ? std::string(kAgentDefaultNamespace) : std::string(namespace_);
}

}  // namespace

std::string DefaultAgentImage() {
  return absl::StrCat("ghcr.io/flotilla/flotilla-agent:", kCliVersion);
}

absl::Status ValidateRegistrationToken(absl::string_view token) {
  constexpr char kWant[] =
      "want a registration token flt1.<id>.<secret> as printed by `flotilla token create`";
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat("--token is empty: ", kWant));
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts[0] == "flta") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--token holds an API token (flta.<id>.<secret>), which agents cannot register with: ",
        kWant));
  }
  if (parts.size() != 3 || parts[0] != "flt1") {
    return absl::InvalidArgumentError(absl::StrCat("--token is malformed: ", kWant));
  }
  if (parts[1].empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--token has an empty <id>: ", kWant));
  }
  if (parts[2].size() < 32) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--token has a <secret> of ", parts[2].size(),
        " characters, shorter than the 32 or more the manager issues (truncated?): ", kWant));
  }
  for (absl::string_view part : {parts[1], parts[2]}) {
    for (char c : part) {
      if (!IsBase64UrlChar(c)) {
        return absl::InvalidArgumentError(
            absl::StrCat("--token contains a character other than A-Z, a-z, 0-9, '-' and '_' "
                         "in its <id> or <secret> (copied with extra text?): ",
                         kWant));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateManagerAddress(absl::string_view address) {
  const std::string quoted = absl::StrCat("--manager \"", address, "\"");
  if (address.empty()) {
    return absl::InvalidArgumentError(
        "--manager is empty: want HOST:PORT, the manager's address as agents reach it");
  }
  if (absl::StrContains(address, "://") || absl::StrContains(address, "/")) {
    return absl::InvalidArgumentError(absl::StrCat(
        quoted, " is not HOST:PORT: give no scheme or path (e.g. flotilla.example.com:7443)"));
  }
  absl::string_view host;
  absl::string_view port;
  if (absl::StartsWith(address, "[")) {
    size_t close = address.find(']');
    if (close == absl::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted, " is not [IPv6]:PORT (e.g. [2001:db8::1]:7443)"));
    }
    host = address.substr(1, close - 1);
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted,
                       " has no port: want HOST:PORT (the manager listens on 7443 by "
                       "default, e.g. ",
                       address, ":7443)"));
    }
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
    if (absl::StrContains(host, ":")) {
      return absl::InvalidArgumentError(
          absl::StrCat(quoted, ": write an IPv6 address in brackets, [ADDRESS]:PORT"));
    }
    for (char c : host) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') {
        return absl::InvalidArgumentError(
            absl::StrCat(quoted, " has an invalid host: use a DNS name or an IP address"));
      }
    }
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted,
                     " has no host: want HOST:PORT, reachable from the cluster (not "
                     "127.0.0.1 unless the agent runs next to the manager)"));
  }
  int port_number = 0;
  bool digits = !port.empty() && std::all_of(port.begin(), port.end(), [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c));
  });
  if (!digits || !absl::SimpleAtoi(port, &port_number) || port_number < 1 || port_number > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted, " has an invalid port \"", port, "\": want 1 to 65535"));
  }
  return absl::OkStatus();
}

absl::Status ValidateCaPin(absl::string_view pin) {
  absl::string_view hex = pin;
  bool ok = absl::ConsumePrefix(&hex, "sha256:") && hex.size() == 64 &&
            std::all_of(hex.begin(), hex.end(), [](char c) { return IsLowerHex(c); });
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("--ca-pin \"", pin,
                     "\" is not sha256:<64 lowercase hex digits> (the ca-pin line of `flotilla "
                     "token create`)"));
  }
  return absl::OkStatus();
}

absl::Status ValidateImageReference(absl::string_view image) {
  const std::string quoted = absl::StrCat("--image \"", image, "\"");
  if (image.empty()) return absl::InvalidArgumentError("--image is empty: want REPOSITORY:TAG");
  for (char c : image) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(absl::StrCat(quoted, " contains whitespace"));
    }
  }
  if (absl::StrContains(image, "@sha256:")) return absl::OkStatus();
  // The tag is after the last ':' of the last path component, so that
  // "registry:5000/app" has no tag.
  absl::string_view last =
      image.substr(image.rfind('/') == absl::string_view::npos ? 0 : image.rfind('/') + 1);
  size_t colon = last.rfind(':');
  if (colon == absl::string_view::npos || colon + 1 == last.size()) {
    return absl::InvalidArgumentError(absl::StrCat(quoted, " has no tag: pin a version, e.g. ",
                                                   image, ":", kCliVersion, ", or a digest"));
  }
  if (last.substr(colon + 1) == "latest") {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted,
                     " uses the tag latest: pin a version or a digest, so that every "
                     "restart runs the same agent"));
  }
  return absl::OkStatus();
}

absl::Status ValidateNamespaceName(absl::string_view name) {
  const std::string quoted = absl::StrCat("--namespace \"", name, "\"");
  bool ok = !name.empty() && name.size() <= 63 &&
            absl::ascii_isalnum(static_cast<unsigned char>(name.front())) &&
            absl::ascii_isalnum(static_cast<unsigned char>(name.back())) &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return absl::ascii_islower(static_cast<unsigned char>(c)) ||
                     absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-';
            });
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        quoted,
        " is not a valid namespace name: at most 63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit"));
  }
  if (name == "default" || name == "kube-system") {
    return absl::InvalidArgumentError(
        absl::StrCat(quoted, ": the agent gets a namespace of its own (default ",
                     kAgentDefaultNamespace, "), not default or kube-system"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Json>> AgentManifestObjects(const AgentManifestOptions& options) {
  if (absl::Status s = ValidateRegistrationToken(options.token); !s.ok()) return s;
  if (absl::Status s = ValidateManagerAddress(options.manager); !s.ok()) return s;
  if (!options.name.empty()) {
    if (absl::Status s = common::ValidateObjectName("cluster", options.name); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--name: ", s.message()));
    }
  }
  for (const auto& [key, value] : options.labels) {
    if (absl::Status s = ValidateLabelKey(key); !s.ok()) return s;
    if (absl::Status s = ValidateLabelValue(key, value); !s.ok()) return s;
  }
  if (options.ca_pem.empty() == options.ca_pin.empty()) {
    return absl::InvalidArgumentError(
        "give the manager CA as a certificate (--ca-file) or as a pin (--ca-pin), exactly one");
  }
  if (!options.ca_pin.empty()) {
    if (absl::Status s = ValidateCaPin(options.ca_pin); !s.ok()) return s;
  }
  ManifestValues values{options.token,
                        options.manager,
                        options.name,
                        options.labels,
                        options.ca_pem,
                        options.ca_pin,
                        ResolvedImage(options.image),
                        ResolvedNamespace(options.namespace_)};
  if (absl::Status s = ValidateImageReference(values.image); !s.ok()) return s;
  if (absl::Status s = ValidateNamespaceName(values.namespace_); !s.ok()) return s;
  return BuildObjects(values);
}

absl::StatusOr<std::string> AgentManifestYaml(const AgentManifestOptions& options) {
  absl::StatusOr<std::vector<Json>> objects = AgentManifestObjects(options);
  if (!objects.ok()) return objects.status();
  std::string header = absl::StrCat(
      "# Flotilla agent install, printed by `flotilla agent-manifest` (flotilla ", kCliVersion,
      ").\n"
      "# Manager: ",
      options.manager,
      options.name.empty() ? "" : absl::StrCat("; proposed cluster name: ", options.name),
      ".\n"
      "# It holds a registration token: apply it (kubectl apply -f -), do not commit it to Git.\n");
  return absl::StrCat(header, common::ToYamlDocuments(*objects));
}

std::string AgentManifestTemplateYaml(absl::string_view image, absl::string_view namespace_) {
  ManifestValues values{
      kTokenPlaceholder,    kManagerPlaceholder,          "", {}, kCaPlaceholder, "",
      ResolvedImage(image), ResolvedNamespace(namespace_)};
  std::string header = absl::StrCat(
      "# Flotilla agent install template (flotilla ", kCliVersion,
      ").\n"
      "#\n"
      "# Generated: flotilla agent-manifest --template > deploy/kubernetes/agent.yaml\n"
      "# Do not edit by hand: tests/cli/deploy_manifests_test.cc checks it equals that output.\n"
      "#\n"
      "# Easiest: let the CLI fill it in and apply it on the downstream cluster:\n"
      "#   flotilla agent-manifest --token flt1.<id>.<secret> --manager HOST:PORT \\\n"
      "#       [--name NAME] [--label KEY=VALUE]... | kubectl apply -f -\n"
      "# By hand, replace in a copy of this file:\n"
      "#   Secret ",
      kBootstrapSecret,
      ", stringData.token: the token from `flotilla token create`.\n"
      "#   Secret ",
      kBootstrapSecret,
      ", stringData.ca.crt: the manager CA (<data-dir>/ca.crt);\n"
      "#     or drop it and replace the --ca-file=... argument with --ca-pin=sha256:<hex>.\n"
      "#   Deployment ",
      kAppName, ", --manager=", kManagerPlaceholder,
      ":\n"
      "#     the manager's HOST:PORT, a name in its --server-names.\n"
      "#   Optionally add --name=NAME and --label=KEY=VALUE arguments: the proposed cluster\n"
      "#   name and labels (the token's own --cluster and --label win).\n"
      "# The image is built from deploy/docker/agent.Dockerfile; no registry publishes it.\n");
  return absl::StrCat(header, common::ToYamlDocuments(BuildObjects(values)));
}

}  // namespace flotilla::cli
