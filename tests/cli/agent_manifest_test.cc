#include "cli/agent_manifest.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "cli/connection.h"
#include "common/yaml.h"
#include "tests/cli/fake_fleet_api.h"
#include "tests/cli/manifest_policy.h"
#include "tests/support/test_pki.h"

namespace flotilla::cli {
namespace {

using common::Json;
using testing::CliHarness;
using testing::PolicyFindings;

constexpr char kToken[] = "flt1.0a1b2c3d4e5f.Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Xw";
constexpr char kPin[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

// A harness whose FLOTILLA_CA_FILE holds a real CA certificate.
struct ManifestHarness {
  ManifestHarness() { cli.env[kCaFileEnv] = cli.dir.Write("ca.crt", pki.ca_pem); }
  flotilla::testing::TestPki pki;
  CliHarness cli;
};

std::vector<Json> ParseOutput(const std::string& out) {
  absl::StatusOr<std::vector<Json>> docs = common::ParseYamlDocuments(out, "agent-manifest");
  REQUIRE(docs.ok());
  return *docs;
}

const Json& Find(const std::vector<Json>& objects, const std::string& kind,
                 const std::string& name) {
  for (const Json& object : objects) {
    if (object["kind"] == kind && object["metadata"]["name"] == name) return object;
  }
  FAIL("no " << kind << " " << name);
  static const Json none;
  return none;
}

std::vector<std::string> Args(const std::vector<Json>& objects) {
  return Find(objects, "Deployment",
              "flotilla-agent")["spec"]["template"]["spec"]["containers"][0]["args"]
      .get<std::vector<std::string>>();
}

// The whole install, in the order kubectl applies it: the namespace and the
// RBAC before what uses them.
TEST_CASE("agent-manifest prints the install objects with token, manager and CA filled in",
          "[agent-manifest]") {
  ManifestHarness h;
  auto result =
      h.cli.Run({"agent-manifest", "--token", kToken, "--manager", "flotilla.example.com:7443",
                 "--name", "edge-7", "--label", "env=prod", "--label", "region=eu"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.err.empty());
  CHECK(absl::StartsWith(result.out, "# Flotilla agent install"));
  CHECK(absl::StrContains(result.out, "do not commit it to Git"));
  CHECK(h.cli.fleet.calls == 0);  // offline

  std::vector<Json> objects = ParseOutput(result.out);
  std::vector<std::string> kinds;
  for (const Json& object : objects) {
    kinds.push_back(absl::StrCat(object["kind"].get<std::string>(), "/",
                                 object["metadata"]["name"].get<std::string>()));
  }
  CHECK(kinds == std::vector<std::string>{
                     "Namespace/flotilla-agent", "ServiceAccount/flotilla-agent",
                     "ClusterRole/flotilla-agent-base", "ClusterRole/flotilla-agent",
                     "ClusterRoleBinding/flotilla-agent", "Role/flotilla-agent-impersonate",
                     "RoleBinding/flotilla-agent-impersonate", "Secret/flotilla-agent-bootstrap",
                     "PersistentVolumeClaim/flotilla-agent-state", "Deployment/flotilla-agent"});

  const Json& secret = Find(objects, "Secret", "flotilla-agent-bootstrap");
  CHECK(secret["metadata"]["namespace"] == "flotilla-agent");
  CHECK(secret["stringData"]["token"] == kToken);
  CHECK(secret["stringData"]["ca.crt"] == h.pki.ca_pem);

  CHECK(Args(objects) == std::vector<std::string>{
                             "--target=kube",
                             "--manager=flotilla.example.com:7443",
                             "--token-file=/etc/flotilla/bootstrap/token",
                             "--ca-file=/etc/flotilla/bootstrap/ca.crt",
                             "--state-dir=/var/lib/flotilla-agent",
                             "--health-listen=:8081",
                             "--name=edge-7",
                             "--label=env=prod",
                             "--label=region=eu",
                         });
  // Probes on the agent's --health-listen port.
  const Json& container =
      Find(objects, "Deployment", "flotilla-agent")["spec"]["template"]["spec"]["containers"][0];
  CHECK(container["ports"][0] ==
        Json{{"name", "health"}, {"containerPort", 8081}, {"protocol", "TCP"}});
  CHECK(container["readinessProbe"]["httpGet"] == Json{{"path", "/readyz"}, {"port", "health"}});
  CHECK(container["livenessProbe"]["httpGet"] == Json{{"path", "/healthz"}, {"port", "health"}});
  // Only the agent's own namespace for impersonation.
  const Json& impersonate = Find(objects, "Role", "flotilla-agent-impersonate");
  CHECK(impersonate["metadata"]["namespace"] == "flotilla-agent");
  CHECK(impersonate["rules"] ==
        Json::parse(
            R"([{"apiGroups":[""],"resources":["serviceaccounts"],"verbs":["impersonate"]}])"));
  CHECK(container["image"] == DefaultAgentImage());
  CHECK(DefaultAgentImage() == "ghcr.io/flotilla/flotilla-agent:0.1.0");
}

// SECURITY.md §3: what the manager's policy gate will demand of bundles, the
// agent's own install meets too, with either way of trusting the manager.
TEST_CASE("the generated agent install passes every baseline policy rule", "[agent-manifest]") {
  ManifestHarness h;
  auto with_ca = h.cli.Run(
      {"agent-manifest", "--token", kToken, "--manager", "10.0.0.5:7443", "--label", "env=dev"});
  REQUIRE(with_ca.exit_code == 0);
  std::vector<std::string> findings = PolicyFindings(ParseOutput(with_ca.out));
  INFO(absl::StrJoin(findings, "\n"));
  CHECK(findings.empty());

  auto with_pin = h.cli.Run({"agent-manifest", "--token", kToken, "--manager", "[2001:db8::5]:7443",
                             "--ca-pin", kPin, "-n", "fleet-agent"});
  REQUIRE(with_pin.exit_code == 0);
  std::vector<std::string> pin_findings = PolicyFindings(ParseOutput(with_pin.out));
  INFO(absl::StrJoin(pin_findings, "\n"));
  CHECK(pin_findings.empty());
}

// The pod: the fixed non-root UID of the images, a persistent state volume,
// and the service account token mounted by hand where InClusterConfig looks.
TEST_CASE("the agent pod mounts a bound token, the bootstrap Secret and a persistent state dir",
          "[agent-manifest]") {
  ManifestHarness h;
  auto result =
      h.cli.Run({"agent-manifest", "--token", kToken, "--manager", "flotilla.example.com:7443"});
  REQUIRE(result.exit_code == 0);
  std::vector<Json> objects = ParseOutput(result.out);
  CHECK(Find(objects, "ServiceAccount", "flotilla-agent")["automountServiceAccountToken"] == false);
  const Json& deployment = Find(objects, "Deployment", "flotilla-agent");
  CHECK(deployment["spec"]["replicas"] == 1);
  CHECK(deployment["spec"]["strategy"]["type"] == "Recreate");
  const Json& pod = deployment["spec"]["template"]["spec"];
  CHECK(pod["serviceAccountName"] == "flotilla-agent");
  CHECK(pod["securityContext"]["runAsUser"] == kImageUid);
  CHECK(pod["securityContext"]["runAsGroup"] == kImageUid);
  CHECK(pod["securityContext"]["fsGroup"] == kImageUid);

  std::map<std::string, Json> volumes;
  for (const Json& volume : pod["volumes"]) volumes[volume["name"].get<std::string>()] = volume;
  std::map<std::string, std::string> mounts;
  for (const Json& mount : pod["containers"][0]["volumeMounts"]) {
    mounts[mount["name"].get<std::string>()] = mount["mountPath"].get<std::string>();
  }
  CHECK(mounts["kube-api-access"] == "/var/run/secrets/kubernetes.io/serviceaccount");
  CHECK(mounts["state"] == "/var/lib/flotilla-agent");
  CHECK(mounts["bootstrap"] == "/etc/flotilla/bootstrap");
  CHECK(volumes["state"]["persistentVolumeClaim"]["claimName"] == "flotilla-agent-state");
  CHECK(volumes["bootstrap"]["secret"]["secretName"] == "flotilla-agent-bootstrap");

  // token, ca.crt and namespace: the three files InClusterConfig reads.
  const Json& sources = volumes["kube-api-access"]["projected"]["sources"];
  REQUIRE(sources.size() == 3);
  CHECK(sources[0]["serviceAccountToken"]["path"] == "token");
  CHECK(sources[0]["serviceAccountToken"]["expirationSeconds"] == 3600);
  CHECK(sources[1]["configMap"]["name"] == "kube-root-ca.crt");
  CHECK(sources[1]["configMap"]["items"][0]["path"] == "ca.crt");
  CHECK(sources[2]["downwardAPI"]["items"][0]["path"] == "namespace");
  CHECK(sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.namespace");

  const Json& claim = Find(objects, "PersistentVolumeClaim", "flotilla-agent-state");
  CHECK(claim["spec"]["accessModes"] == Json::array({"ReadWriteOnce"}));
}

// Least rights: explicit kinds and verbs, more only through aggregation, and
// nothing that lets the agent grant what it does not hold.
TEST_CASE("the agent's RBAC lists explicit verbs and kinds and grows only by aggregation",
          "[agent-manifest]") {
  ManifestHarness h;
  auto result =
      h.cli.Run({"agent-manifest", "--token", kToken, "--manager", "flotilla.example.com:7443"});
  REQUIRE(result.exit_code == 0);
  std::vector<Json> objects = ParseOutput(result.out);

  const Json& role = Find(objects, "ClusterRole", "flotilla-agent");
  CHECK(role["aggregationRule"]["clusterRoleSelectors"][0]["matchLabels"] ==
        Json{{"flotilla.dev/aggregate-to-agent", "true"}});
  CHECK_FALSE(role.contains("rules"));  // the aggregation controller owns them

  const Json& base = Find(objects, "ClusterRole", "flotilla-agent-base");
  CHECK(base["metadata"]["labels"]["flotilla.dev/aggregate-to-agent"] == "true");
  const std::set<std::string> allowed_verbs = {"get",    "list",  "watch", "create",
                                               "update", "patch", "delete"};
  std::set<std::string> granted;  // "group/resource:verb"
  for (const Json& rule : base["rules"]) {
    for (const Json& verb : rule["verbs"]) {
      CHECK(allowed_verbs.count(verb.get<std::string>()) == 1);  // no escalate, bind, impersonate
      for (const Json& resource : rule["resources"]) {
        granted.insert(absl::StrCat(rule["apiGroups"][0].get<std::string>(), "/",
                                    resource.get<std::string>(), ":", verb.get<std::string>()));
      }
    }
  }
  for (const char* expected :
       {"/namespaces:delete", "/secrets:patch", "/configmaps:create", "apps/deployments:patch",
        "apps/statefulsets:delete", "batch/cronjobs:patch", "networking.k8s.io/ingresses:patch",
        "policy/poddisruptionbudgets:patch", "autoscaling/horizontalpodautoscalers:patch",
        "rbac.authorization.k8s.io/clusterrolebindings:patch",
        "apiextensions.k8s.io/customresourcedefinitions:delete",
        "apiregistration.k8s.io/apiservices:get", "/pods:watch"}) {
    CHECK(granted.count(expected) == 1);
  }
  CHECK(granted.count("/pods:create") == 0);
  CHECK(granted.count("apiregistration.k8s.io/apiservices:patch") == 0);

  const Json& binding = Find(objects, "ClusterRoleBinding", "flotilla-agent");
  CHECK(binding["roleRef"]["name"] == "flotilla-agent");
  CHECK(binding["subjects"] == Json::array({Json{{"kind", "ServiceAccount"},
                                                 {"name", "flotilla-agent"},
                                                 {"namespace", "flotilla-agent"}}}));
}

// --ca-pin: nothing to embed; the agent fetches and checks the CA itself.
TEST_CASE("agent-manifest --ca-pin passes the pin and embeds no certificate", "[agent-manifest]") {
  CliHarness cli;
  cli.env.erase(kCaFileEnv);
  auto result = cli.Run({"agent-manifest", "--token", kToken, "--manager",
                         "flotilla.example.com:7443", "--ca-pin", kPin, "--image",
                         "registry.local:5000/flotilla-agent@sha256:" + std::string(64, 'a'),
                         "--namespace", "edge-agent"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  std::vector<Json> objects = ParseOutput(result.out);
  const Json& secret = Find(objects, "Secret", "flotilla-agent-bootstrap");
  CHECK(secret["metadata"]["namespace"] == "edge-agent");
  CHECK(secret["stringData"] == Json{{"token", kToken}});
  std::vector<std::string> args = Args(objects);
  CHECK(std::count(args.begin(), args.end(), std::string("--ca-pin=") + kPin) == 1);
  CHECK(std::none_of(args.begin(), args.end(),
                     [](const std::string& a) { return absl::StartsWith(a, "--ca-file"); }));
  CHECK(Find(objects, "Namespace", "edge-agent")["kind"] == "Namespace");
}

// Mistakes in the token, which is never echoed back (it is a credential).
TEST_CASE("agent-manifest rejects malformed tokens without echoing them", "[agent-manifest]") {
  ManifestHarness h;
  auto run = [&h](const std::string& token) {
    return h.cli.Run({"agent-manifest", "--token", token, "--manager", "m.example:7443"});
  };
  auto api_token = run("flta.abc123.s3cretS3cretS3cretS3cretS3cretS3cret");
  CHECK(api_token.exit_code == 2);
  CHECK(absl::StrContains(api_token.err, "error: --token holds an API token (flta.<id>.<secret>)"));
  CHECK_FALSE(absl::StrContains(api_token.err, "s3cretS3cret"));

  auto malformed = run("hello-world");
  CHECK(malformed.err ==
        "error: --token is malformed: want a registration token flt1.<id>.<secret> as printed "
        "by `flotilla token create`\n"
        "Run 'flotilla agent-manifest --help' for usage.\n");
  auto short_secret = run("flt1.abc.tooShortSecret");
  CHECK(absl::StrContains(short_secret.err, "--token has a <secret> of 14 characters, shorter"));
  CHECK_FALSE(absl::StrContains(short_secret.err, "tooShortSecret"));
  auto bad_char = run("flt1.abc.Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2Fy cGx5Xw");
  CHECK(absl::StrContains(bad_char.err, "--token contains a character other than"));
  auto empty_id = run("flt1..Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5Xw");
  CHECK(absl::StrContains(empty_id.err, "--token has an empty <id>"));
  auto empty = run("");
  CHECK(absl::StrContains(empty.err, "error: --token is empty"));

  auto missing = h.cli.Run({"agent-manifest", "--manager", "m.example:7443"});
  CHECK(missing.exit_code == 2);
  CHECK(absl::StrContains(missing.err, "error: agent-manifest needs --token flt1.<id>.<secret>"));
  CHECK(h.cli.fleet.calls == 0);
}

// The address the agent dials: HOST:PORT, nothing more or less.
TEST_CASE("agent-manifest rejects a manager address without a port or with a scheme",
          "[agent-manifest]") {
  ManifestHarness h;
  auto run = [&h](const std::string& manager) {
    return h.cli.Run({"agent-manifest", "--token", kToken, "--manager", manager});
  };
  auto no_port = run("flotilla.example.com");
  CHECK(no_port.exit_code == 2);
  CHECK(no_port.err ==
        "error: --manager \"flotilla.example.com\" has no port: want HOST:PORT (the manager "
        "listens on 7443 by default, e.g. flotilla.example.com:7443)\n"
        "Run 'flotilla agent-manifest --help' for usage.\n");
  CHECK(absl::StrContains(run("https://flotilla.example.com:7443").err,
                          "is not HOST:PORT: give no scheme or path"));
  CHECK(absl::StrContains(run("flotilla.example.com:0").err, "has an invalid port \"0\""));
  CHECK(absl::StrContains(run("flotilla.example.com:http").err, "has an invalid port \"http\""));
  CHECK(absl::StrContains(run(":7443").err, "has no host"));
  CHECK(absl::StrContains(run("2001:db8::1:7443").err, "write an IPv6 address in brackets"));
  CHECK(absl::StrContains(run("[2001:db8::1]7443").err, "is not [IPv6]:PORT"));
  CHECK(absl::StrContains(run("bad_host!:7443").err, "has an invalid host"));
  auto missing = h.cli.Run({"agent-manifest", "--token", kToken});
  CHECK(absl::StrContains(missing.err, "error: agent-manifest needs --manager HOST:PORT"));
}

// Labels and names follow Kubernetes' syntax, checked by the same helpers as
// `flotilla label`.
TEST_CASE("agent-manifest rejects bad labels, names, images and namespaces", "[agent-manifest]") {
  ManifestHarness h;
  auto run = [&h](std::vector<std::string> extra) {
    std::vector<std::string> args = {"agent-manifest", "--token", kToken, "--manager",
                                     "m.example:7443"};
    args.insert(args.end(), extra.begin(), extra.end());
    return h.cli.Run(args);
  };
  auto no_equals = run({"--label", "env"});
  CHECK(no_equals.exit_code == 2);
  CHECK(no_equals.err ==
        "error: invalid label \"env\": missing \"=\" (want KEY=VALUE)\n"
        "Run 'flotilla agent-manifest --help' for usage.\n");
  CHECK(absl::StrContains(run({"--label=bad-=x"}).err, "bad-"));
  CHECK(run({"--label", "env=no spaces"}).exit_code == 2);
  CHECK(absl::StrContains(run({"--name", "Edge_7"}).err, "--name: cluster name \"Edge_7\""));
  CHECK(absl::StrContains(run({"--image", "ghcr.io/x/agent:latest"}).err,
                          "uses the tag latest: pin a version or a digest"));
  CHECK(absl::StrContains(run({"--image", "registry:5000/agent"}).err,
                          "--image \"registry:5000/agent\" has no tag"));
  CHECK(absl::StrContains(run({"--namespace", "default"}).err,
                          "the agent gets a namespace of its own"));
  CHECK(
      absl::StrContains(run({"--namespace", "Fleet_Agent"}).err, "is not a valid namespace name"));
  CHECK(absl::StrContains(run({"--ca-pin", "sha256:ABC"}).err,
                          "--ca-pin \"sha256:ABC\" is not sha256:<64 lowercase hex digits>"));
  CHECK(absl::StrContains(run({"unexpected"}).err, "unexpected argument \"unexpected\""));
  CHECK(h.cli.fleet.calls == 0);
}

// The CA comes from --ca-file or FLOTILLA_CA_FILE, or is replaced by a pin;
// each missing or wrong case says which.
TEST_CASE("agent-manifest names the missing, unreadable or wrong CA file", "[agent-manifest]") {
  ManifestHarness h;
  std::vector<std::string> base = {"agent-manifest", "--token", kToken, "--manager",
                                   "m.example:7443"};
  auto with = [&base](std::vector<std::string> extra) {
    std::vector<std::string> args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  };

  auto missing_file = h.cli.Run(with({"--ca-file", h.cli.dir.Path("nope.crt")}));
  CHECK(missing_file.exit_code == 2);
  CHECK(absl::StrContains(missing_file.err, "error: CA certificate file (from --ca-file): "));
  CHECK(absl::StrContains(missing_file.err, "nope.crt"));

  h.cli.env[kCaFileEnv] = h.cli.dir.Write("fake.crt", testing::kTestCaPem);
  auto not_a_cert = h.cli.Run(base);
  CHECK(not_a_cert.exit_code == 2);
  CHECK(absl::StrContains(not_a_cert.err, "(from FLOTILLA_CA_FILE) holds no PEM certificate"));

  h.cli.env.erase(kCaFileEnv);
  auto none = h.cli.Run(base);
  CHECK(none.err ==
        "error: agent-manifest needs the manager CA: pass --ca-file PATH (or set "
        "FLOTILLA_CA_FILE) to the manager's ca.crt, or --ca-pin sha256:<hex> as `flotilla token "
        "create` prints it\n"
        "Run 'flotilla agent-manifest --help' for usage.\n");

  auto both = h.cli.Run(with({"--ca-pin", kPin, "--ca-file", h.cli.dir.Path("ca.crt")}));
  CHECK(absl::StrContains(both.err, "error: give --ca-file or --ca-pin, not both"));
}

// --template is deploy/kubernetes/agent.yaml; filling flags make no sense with it.
TEST_CASE("agent-manifest --template prints placeholders and refuses filling flags",
          "[agent-manifest]") {
  CliHarness cli;
  auto result = cli.Run({"agent-manifest", "--template"});
  REQUIRE(result.exit_code == 0);
  CHECK(result.out == AgentManifestTemplateYaml());
  CHECK(absl::StrContains(result.out, "REPLACE-WITH-flt1.<id>.<secret>"));
  CHECK(absl::StrContains(result.out, "--manager=flotilla.example.com:7443"));

  auto with_token = cli.Run({"agent-manifest", "--template", "--token", kToken});
  CHECK(with_token.exit_code == 2);
  CHECK(absl::StrContains(with_token.err,
                          "error: --template prints placeholders and takes no --token"));
  auto image = cli.Run({"agent-manifest", "--template", "--image", "r.local/agent:1.2.3"});
  CHECK(image.exit_code == 0);
  CHECK(absl::StrContains(image.out, "image: r.local/agent:1.2.3"));
}

// The command is listed and documented like the others.
TEST_CASE("flotilla help lists agent-manifest and explains its flags", "[agent-manifest]") {
  CliHarness cli;
  auto general = cli.Run({"--help"});
  CHECK(absl::StrContains(general.out, "agent-manifest --token T --manager ADDR"));
  auto help = cli.Run({"agent-manifest", "--help"});
  CHECK(help.exit_code == 0);
  for (const char* flag : {"--token TOKEN", "--manager HOST:PORT", "--ca-pin sha256:HEX",
                           "--image IMAGE", "-n, --namespace NAMESPACE", "--template"}) {
    CHECK(absl::StrContains(help.out, flag));
  }
}

// The checker itself: each rule fires on a pod that breaks it, so an empty
// finding list above means something.
TEST_CASE("the policy checker reports each baseline rule a bad workload breaks",
          "[agent-manifest][policy]") {
  absl::StatusOr<std::vector<Json>> objects = common::ParseYamlDocuments(R"(
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  template:
    spec:
      hostNetwork: true
      hostPID: true
      hostIPC: true
      hostAliases: [{ip: 1.2.3.4, hostnames: [x]}]
      volumes: [{name: sock, hostPath: {path: /run/containerd/containerd.sock}}]
      securityContext: {runAsUser: 0}
      containers:
        - name: app
          image: registry:5000/app
          ports: [{containerPort: 80, hostPort: 80}]
          env: [{name: DB_PASSWORD, value: hunter2}]
          securityContext:
            privileged: true
            procMount: Unmasked
            capabilities: {add: [SYS_ADMIN]}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: kube-system}
spec: {type: NodePort, ports: [{port: 80, nodePort: 30080}], externalIPs: [1.2.3.4]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: all}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: admin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: x}
)",
                                                                         "bad.yaml");
  REQUIRE(objects.ok());
  std::string findings = absl::StrJoin(PolicyFindings(*objects), "\n");
  INFO(findings);
  for (const char* rule :
       {"KSV-0017", "KSV-0001",       "KSV-0012",     "KSV-0105", "KSV-0014", "KSV-0009",
        "KSV-0010", "KSV-0008",       "KSV-0023",     "KSV-0006", "KSV-0024", "KSV-0005",
        "KSV-0022", "KSV-0003",       "KSV-0030",     "KSV-0036", "KSV-0013", "KSV-0011/15/16/18",
        "probes",   "secret-env",     "KSV-0110",     "KSV-0037", "service",  "KSV-0007",
        "KSV-0027", "KSV-0044/45/46", "cluster-admin"}) {
    CHECK(absl::StrContains(findings, absl::StrCat(rule, " ")));
  }
  CHECK(absl::StrContains(findings, "KSV-0036 ServiceAccount x/sa"));
}

}  // namespace
}  // namespace flotilla::cli
