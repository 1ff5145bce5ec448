// Exec credential plugins (agent/apply/kube/exec_credential.h) and the
// Kubernetes client's use of them and of impersonation
// (agent/apply/kube/kube_client.h), following
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins
// and #user-impersonation. Plugins are real bash scripts in a temporary
// directory; the API server is the double in tests/support/kube_api_double.h.
#include "agent/apply/kube/exec_credential.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "agent/apply/kube/kube_client.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/yaml.h"
#include "tests/support/http_connection.h"
#include "tests/support/kube_api_double.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace flotilla::agent::kube {
namespace {

using common::Json;
using testing::KubeApiDouble;
using testing::TempDir;

constexpr char kV1[] = "client.authentication.k8s.io/v1";
constexpr char kV1beta1[] = "client.authentication.k8s.io/v1beta1";

// Writes an executable bash script `name` into `dir`; returns its path.
std::string Script(const TempDir& dir, const std::string& name, const std::string& body) {
  const std::string path = dir.Sub(name);
  REQUIRE(common::WriteFileAtomic(path, absl::StrCat("#!/bin/bash\n", body), 0755).ok());
  return path;
}

ExecPlugin Plugin(const std::string& command, const std::string& api_version = kV1) {
  ExecPlugin plugin;
  plugin.command = command;
  plugin.api_version = api_version;
  plugin.interactive_mode = "Never";
  return plugin;
}

std::string Read(const std::string& path) {
  auto text = common::ReadFile(path);
  REQUIRE(text.ok());
  return std::string(absl::StripAsciiWhitespace(*text));
}

int Runs(const std::string& count_file) {
  if (!common::PathExists(count_file)) return 0;
  int n = 0;
  REQUIRE(absl::SimpleAtoi(Read(count_file), &n));
  return n;
}

// A plugin that counts its runs in $DIR/count, prints the token in
// $DIR/token (or `test-token`) expiring at $EXPIRY, and leaves its
// arguments and KUBERNETES_EXEC_INFO in $DIR/args and $DIR/info.
constexpr char kCountingPlugin[] = R"(set -e
n=$(( $(cat "$DIR/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$DIR/count"
echo "$@" > "$DIR/args"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$DIR/info"
token=$(cat "$DIR/token" 2>/dev/null || echo test-token)
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' \
  "$API_VERSION" "$token" "$EXPIRY"
)";

// A client of `api` whose credentials come from the counting plugin, with
// time from `clock`.
struct PluginClient {
  PluginClient(KubeApiDouble& api, const common::Clock& clock, const std::string& api_version,
               absl::Time expiry) {
    ExecPlugin plugin = Plugin(Script(dir, "plugin.sh", kCountingPlugin), api_version);
    plugin.args = {"--cluster", "test"};
    plugin.env = {{"DIR", dir.path()},
                  {"API_VERSION", api_version},
                  {"EXPIRY", absl::FormatTime(absl::RFC3339_sec, expiry, absl::UTCTimeZone())}};
    KubeConfig config;
    config.server = api.url();
    config.ca_pem = api.ca_pem();
    config.exec = plugin;
    config.source = "test kubeconfig";
    KubeClientOptions options;
    options.clock = &clock;
    options.sleep = [](absl::Duration) {};
    auto c = KubeClient::Create(config, options);
    INFO(c.status().ToString());
    REQUIRE(c.ok());
    client = *std::move(c);
  }
  int runs() const { return Runs(dir.Sub("count")); }

  TempDir dir;
  std::unique_ptr<KubeClient> client;
};

// A client whose plugin says its token expires in an hour runs the plugin
// once at Create, reuses the token for every request within the hour, and
// runs it again 10 seconds before the expiry.
TEST_CASE("an exec plugin's token is sent, cached, and renewed shortly before it expires",
          "[exec-credential][kube-client]") {
  KubeApiDouble api;
  common::SimulatedClock clock;
  PluginClient c(api, clock, kV1, clock.Now() + absl::Hours(1));
  CHECK(c.runs() == 1);
  CHECK(Read(c.dir.Sub("args")) == "--cluster test");
  CHECK(Json::parse(Read(c.dir.Sub("info"))) ==
        Json::parse(R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
                        "spec":{"interactive":false}})"));

  REQUIRE(c.client->Call("GET", "/api/v1/namespaces").ok());
  clock.Advance(absl::Minutes(59));
  REQUIRE(c.client->Call("GET", "/api/v1/namespaces").ok());
  CHECK(c.runs() == 1);

  clock.Advance(absl::Seconds(55));  // 5 s before the expiry
  REQUIRE(c.client->Call("GET", "/api/v1/namespaces").ok());
  CHECK(c.runs() == 2);
  CHECK(c.client->requests() == 3);
}

// The API server revokes the plugin's token before its expiry: the 401 makes
// the client run the plugin once more and repeat the request with the new
// token; a plugin whose new token is refused too is not run a third time.
TEST_CASE("a 401 runs the exec plugin once more and retries with its new token",
          "[exec-credential][kube-client]") {
  KubeApiDouble api;
  common::SimulatedClock clock;
  PluginClient c(api, clock, kV1beta1, clock.Now() + absl::Hours(1));
  REQUIRE(c.client->Call("GET", "/api/v1/namespaces").ok());
  CHECK(c.runs() == 1);

  api.SetToken("rotated");
  REQUIRE(common::WriteFileAtomic(c.dir.Sub("token"), "rotated\n").ok());
  auto after = c.client->Call("GET", "/api/v1/namespaces");
  INFO(after.status().ToString());
  CHECK(after.ok());
  CHECK(c.runs() == 2);
  CHECK(c.client->requests() == 3);

  api.SetToken("revoked-for-good");
  auto denied = c.client->Call("GET", "/api/v1/namespaces");
  CHECK(denied.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(absl::StartsWith(denied.status().message(), "GET /api/v1/namespaces: HTTP 401"));
  CHECK(c.runs() == 3);
}

// Clients made by Impersonating() share the plugin's cached token.
TEST_CASE("an impersonating client reuses the exec plugin's cached credentials",
          "[exec-credential][kube-client]") {
  KubeApiDouble api;
  common::SimulatedClock clock;
  PluginClient c(api, clock, kV1, clock.Now() + absl::Hours(1));
  auto as = c.client->Impersonating(ServiceAccountUser("apps", "deployer"));
  REQUIRE(as.ok());
  REQUIRE((*as)->Call("GET", "/api/v1/namespaces").ok());
  CHECK((*as)->config().impersonate->user == "system:serviceaccount:apps:deployer");
  CHECK_FALSE(c.client->config().impersonate.has_value());
  CHECK(c.runs() == 1);
}

// The plugin's environment is the agent's plus its `env` entries (which win)
// and KUBERNETES_EXEC_INFO; with provideClusterInfo the latter carries the
// server and its CA (base64, as JSON encodes bytes). A bare command name is
// looked up on PATH.
TEST_CASE("an exec plugin gets the environment, the cluster, and is found on PATH",
          "[exec-credential]") {
  TempDir dir;
  const std::string script = Script(dir, "env.sh", R"(
printf '%s' "$KUBERNETES_EXEC_INFO" > "$DIR/info"
echo "$PATH|$OVERRIDDEN" > "$DIR/env"
printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"t"}}'
)");
  setenv("OVERRIDDEN", "from-agent", 1);
  ExecPlugin plugin = Plugin("bash", kV1beta1);  // on PATH
  plugin.interactive_mode = "";                  // v1beta1's default, IfAvailable
  plugin.args = {script};
  plugin.env = {{"DIR", dir.path()}, {"OVERRIDDEN", "from-plugin"}};
  plugin.provide_cluster_info = true;
  auto cred = RunExecPlugin(plugin, ExecClusterInfo{"https://k:6443", "CA PEM", true});
  unsetenv("OVERRIDDEN");
  INFO(cred.status().ToString());
  REQUIRE(cred.ok());
  CHECK(cred->token == "t");
  CHECK(cred->expiry == absl::InfiniteFuture());
  CHECK(Read(dir.Sub("env")) == absl::StrCat(getenv("PATH"), "|from-plugin"));
  CHECK(Json::parse(Read(dir.Sub("info"))) ==
        Json::parse(absl::StrCat(R"({"apiVersion":"client.authentication.k8s.io/v1beta1",
           "kind":"ExecCredential","spec":{"interactive":false,"cluster":{
           "server":"https://k:6443","certificate-authority-data":"Q0EgUEVN",
           "insecure-skip-tls-verify":true}}})")));
}

// Each way a plugin can fail gives an error that names the command and says
// what went wrong, with the code telling the caller what to do.
TEST_CASE("a failing exec plugin is reported with its command and the reason",
          "[exec-credential]") {
  TempDir dir;
  auto error_of = [&](const std::string& body, ExecPluginLimits limits = {}) {
    const std::string path = Script(dir, "plugin.sh", body);
    auto cred = RunExecPlugin(Plugin(path), ExecClusterInfo{}, limits);
    REQUIRE_FALSE(cred.ok());
    const std::string prefix = absl::StrCat("exec credential plugin ", path, ": ");
    REQUIRE(absl::StartsWith(cred.status().message(), prefix));
    return std::make_pair(cred.status().code(),
                          std::string(cred.status().message().substr(prefix.size())));
  };
  using P = std::pair<absl::StatusCode, std::string>;
  const absl::StatusCode unauthenticated = absl::StatusCode::kUnauthenticated;

  CHECK(error_of("echo 'no credentials for you' >&2\necho second line >&2\nexit 3") ==
        P{unauthenticated, "exited with status 3: no credentials for you | second line"});
  CHECK(error_of("echo 'hello, not json'") ==
        P{unauthenticated, "its output is not a JSON ExecCredential (16 bytes on stdout)"});
  CHECK(error_of(R"(echo '{"apiVersion":"client.authentication.k8s.io/v1","kind":"Secret"}')") ==
        P{unauthenticated, "it printed kind \"Secret\", not ExecCredential"});
  CHECK(error_of(R"(echo '{"apiVersion":"client.authentication.k8s.io/v1beta1",
                     "kind":"ExecCredential","status":{"token":"t"}}')") ==
        P{unauthenticated,
          "it printed apiVersion \"client.authentication.k8s.io/v1beta1\", configured for "
          "\"client.authentication.k8s.io/v1\""});
  CHECK(error_of(R"(echo '{"apiVersion":"client.authentication.k8s.io/v1",
                     "kind":"ExecCredential","status":{}}')") ==
        P{unauthenticated,
          "its ExecCredential has neither status.token nor status.clientCertificateData and "
          "clientKeyData"});
  CHECK(error_of(R"(echo '{"apiVersion":"client.authentication.k8s.io/v1",
                     "kind":"ExecCredential","status":{"clientCertificateData":"PEM"}}')") ==
        P{unauthenticated,
          "status.clientCertificateData and status.clientKeyData must be given together"});
  auto bad_time = error_of(R"(echo '{"apiVersion":"client.authentication.k8s.io/v1",
      "kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"tomorrow"}}')");
  CHECK(bad_time.first == unauthenticated);
  CHECK(absl::StartsWith(bad_time.second, "status.expirationTimestamp is not an RFC 3339 time"));

  ExecPluginLimits quick;
  quick.timeout = absl::Milliseconds(300);
  // `sleep` is a child of bash: the whole process group is killed.
  CHECK(error_of("echo waiting >&2\nsleep 30\necho done", quick) ==
        P{absl::StatusCode::kDeadlineExceeded, "still running after 300ms (killed): waiting"});
  ExecPluginLimits small;
  small.max_stdout = 100;
  CHECK(error_of("head -c 1000 /dev/zero | tr '\\0' x", small) ==
        P{unauthenticated, "printed more than 100 bytes (killed)"});
  CHECK(error_of("kill -9 $$") == P{unauthenticated, "killed by signal 9: (no stderr)"});
}

// A plugin that cannot be started, and one that wants a terminal.
TEST_CASE("a missing or interactive-only exec plugin is refused before anything runs",
          "[exec-credential]") {
  ExecPlugin missing = Plugin("flotilla-no-such-credential-plugin");
  missing.install_hint = "install it from https://example.com/plugin";
  auto not_found = RunExecPlugin(missing, ExecClusterInfo{});
  CHECK(not_found.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(not_found.status().message() ==
        "exec credential plugin flotilla-no-such-credential-plugin: cannot run: No such file or "
        "directory (install it from https://example.com/plugin)");

  TempDir dir;
  ExecPlugin always = Plugin(Script(dir, "plugin.sh", "touch \"$0.ran\"\n"));
  always.interactive_mode = "Always";
  KubeConfig config;
  config.server = "https://127.0.0.1:1";
  config.exec = always;
  config.source = "kubeconfig (context c)";
  auto client = KubeClient::Create(config);
  CHECK(client.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(client.status().message() ==
        absl::StrCat("kubeconfig (context c): exec credential plugin ", always.command,
                     ": interactiveMode Always needs a terminal, and the agent never has one "
                     "(use a plugin that works with interactiveMode Never)"));
  CHECK_FALSE(common::PathExists(always.command + ".ran"));
}

// ExecCredentialSource on its own: a failed renewal keeps credentials that
// have not expired yet, and Invalidate only drops the credentials it names.
TEST_CASE("cached exec credentials outlive a failed renewal until they expire",
          "[exec-credential]") {
  TempDir dir;
  common::SimulatedClock clock;
  const std::string expiry =
      absl::FormatTime(absl::RFC3339_sec, clock.Now() + absl::Minutes(5), absl::UTCTimeZone());
  const std::string script = Script(dir, "plugin.sh",
                                    absl::StrCat(R"(
if [ -e "$0.fail" ]; then echo "token service down" >&2; exit 1; fi
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t1","expirationTimestamp":")",
                                                 expiry, R"("}}'
)"));
  ExecCredentialSource source(Plugin(script), ExecClusterInfo{}, &clock);
  auto first = source.Get();
  REQUIRE(first.ok());
  CHECK(first->token == "t1");
  CHECK(first->expiry == clock.Now() + absl::Minutes(5));

  REQUIRE(common::WriteFileAtomic(script + ".fail", "").ok());
  clock.Advance(absl::Minutes(5) - absl::Seconds(5));  // within the renewal margin
  auto kept = source.Get();
  REQUIRE(kept.ok());
  CHECK(kept->token == "t1");
  CHECK(source.runs() == 2);

  ExecCredential other = *first;
  other.token = "someone else's";
  source.Invalidate(other);  // not the cached one: nothing happens
  clock.Advance(absl::Seconds(5));
  auto expired = source.Get();
  CHECK(expired.status().code() == absl::StatusCode::kUnauthenticated);
  CHECK(expired.status().message() == absl::StrCat("exec credential plugin ", script,
                                                   ": exited with status 1: token service down"));
  CHECK(source.runs() == 3);
}

// A plugin may hand out a client certificate instead of (or with) a token;
// the client presents it from memory, and a renewed certificate replaces the
// old one: here the renewal is not a PEM, which curl then fails to load.
TEST_CASE("an exec plugin's client certificate is used and replaced when renewed",
          "[exec-credential][kube-client]") {
  KubeApiDouble api;
  testing::TestPki pki;
  TempDir dir;
  common::SimulatedClock clock;
  REQUIRE(common::WriteFileAtomic(
              dir.Sub("cred.json"),
              Json{{"apiVersion", kV1},
                   {"kind", "ExecCredential"},
                   {"status",
                    {{"token", "test-token"},
                     {"clientCertificateData", pki.cert_pem},
                     {"clientKeyData", pki.key_pem},
                     {"expirationTimestamp",
                      absl::FormatTime(absl::RFC3339_sec, clock.Now() + absl::Hours(1),
                                       absl::UTCTimeZone())}}}}
                  .dump())
              .ok());
  KubeConfig config;
  config.server = api.url();
  config.ca_pem = api.ca_pem();
  config.exec = Plugin(Script(dir, "plugin.sh", "cat \"$CRED\"\n"));
  config.exec->env = {{"CRED", dir.Sub("cred.json")}};
  KubeClientOptions options;
  options.clock = &clock;
  options.max_attempts = 1;
  auto client = KubeClient::Create(config, options);
  REQUIRE(client.ok());
  auto ok = (*client)->Call("GET", "/api/v1/namespaces");
  INFO(ok.status().ToString());
  REQUIRE(ok.ok());

  Json renewed = Json::parse(Read(dir.Sub("cred.json")));
  renewed["status"]["clientCertificateData"] = "not a certificate";
  renewed["status"]["clientKeyData"] = "not a key";
  renewed["status"]["expirationTimestamp"] =
      absl::FormatTime(absl::RFC3339_sec, clock.Now() + absl::Hours(2), absl::UTCTimeZone());
  REQUIRE(common::WriteFileAtomic(dir.Sub("cred.json"), renewed.dump()).ok());
  clock.Advance(absl::Hours(1));
  auto broken = (*client)->Call("GET", "/api/v1/namespaces");
  INFO(broken.status().ToString());
  CHECK(broken.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(broken.status().message(), "GET /api/v1/namespaces: "));
  CHECK(absl::StrContains(broken.status().message(), "client certificate"));
}

// A plain-HTTP server on loopback that keeps every request's raw header block
// (the API double keeps only "METHOD path", and IncomingRequest keeps one
// value per header name) and answers `{}`.
class HeaderRecorder {
 public:
  HeaderRecorder()
      : listener_("header recorder", [this](int fd) {
          testing::HttpConnection conn(fd, nullptr);
          std::string buffered;
          char buf[4096];
          for (;;) {
            const size_t end = buffered.find("\r\n\r\n");
            if (end == std::string::npos) {
              const size_t n = conn.Read(buf, sizeof(buf));
              if (n == 0) return;
              buffered.append(buf, n);
              continue;
            }
            {
              absl::MutexLock lock(&mu_);
              requests_.push_back(buffered.substr(0, end + 2));
            }
            buffered.erase(0, end + 4);  // GET requests only: no body
            conn.WriteAll(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                "Content-Length: 2\r\n\r\n{}");
          }
        }) {}
  std::string url() const { return absl::StrCat("http://127.0.0.1:", listener_.port()); }
  std::vector<std::string> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  testing::LoopbackListener listener_;  // last: stopped first
};

// Impersonation from the kubeconfig and from Impersonating(): one
// Impersonate-User header, one Impersonate-Group header per group, the
// original client unchanged.
TEST_CASE("impersonating clients send Impersonate-User and one Impersonate-Group per group",
          "[kube-client]") {
  const Impersonation sa = ServiceAccountUser("apps", "deployer");
  CHECK(sa.user == "system:serviceaccount:apps:deployer");
  // The API server adds a service account's groups itself.
  CHECK(sa.groups.empty());
  CHECK(ImpersonationHeaders(sa) ==
        std::vector<std::string>{"Impersonate-User: system:serviceaccount:apps:deployer"});
  CHECK(ImpersonationHeaders(Impersonation{"jane", "42", {}}) ==
        std::vector<std::string>{"Impersonate-User: jane", "Impersonate-Uid: 42"});
  CHECK(ImpersonationHeaders(Impersonation{}).empty());

  HeaderRecorder server;
  KubeConfig config;
  config.server = server.url();
  config.token = "agent-token";
  config.source = "test";
  auto agent = KubeClient::Create(config);
  REQUIRE(agent.ok());
  Impersonation with_groups = sa;
  with_groups.groups = {"system:serviceaccounts", "system:serviceaccounts:apps"};
  auto as = (*agent)->Impersonating(with_groups);
  REQUIRE(as.ok());
  REQUIRE((*as)->Call("GET", "/api/v1/namespaces/apps/configmaps").ok());
  REQUIRE((*agent)->Call("GET", "/api/v1/namespaces").ok());
  const std::vector<std::string> seen = server.requests();
  REQUIRE(seen.size() == 2);
  CHECK(absl::StrContains(seen[0],
                          "\r\nImpersonate-User: system:serviceaccount:apps:deployer\r\n"
                          "Impersonate-Group: system:serviceaccounts\r\n"
                          "Impersonate-Group: system:serviceaccounts:apps\r\n"));
  CHECK(absl::StrContains(seen[0], "Authorization: Bearer agent-token\r\n"));
  CHECK_FALSE(absl::StrContains(seen[1], "Impersonate-"));

  auto bad = (*agent)->Impersonating(Impersonation{"eve\r\nX-Evil: 1", "", {}});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.status().message() ==
        "test: impersonation value \"eve\\r\\nX-Evil: 1\" has a line break");
  CHECK((*agent)->Impersonating(Impersonation{"", "", {"g"}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flotilla::agent::kube
