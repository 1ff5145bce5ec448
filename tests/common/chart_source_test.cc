// Charts from outside the bundle (common/helm/chart_source.h): http URLs,
// chart repositories with index.yaml and version constraints, the mirror
// map, and every failure a download can have, against a real HTTP server on
// loopback (tests/support/static_http_server.h) and real libcurl.
#include "common/helm/chart_source.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/fs.h"
#include "common/hash.h"
#include "common/helm/archive.h"
#include "common/render/manifest.h"
#include "tests/support/static_http_server.h"
#include "tests/support/test_pki.h"
#include "tests/support/test_util.h"

namespace flotilla::common::helm {
namespace {

using testing::StaticHttpServer;
using testing::TempDir;

// A packed chart "web" made by `tar czf`, as a chart repository serves it.
std::string WebChartTgz(const TempDir& dir) {
  REQUIRE(MakeDirs(dir.Sub("src/web/templates")).ok());
  REQUIRE(
      WriteFileAtomic(dir.Sub("src/web/Chart.yaml"), "apiVersion: v2\nname: web\nversion: 1.2.0\n")
          .ok());
  REQUIRE(WriteFileAtomic(dir.Sub("src/web/values.yaml"), "greeting: hello\n").ok());
  REQUIRE(WriteFileAtomic(dir.Sub("src/web/templates/cm.yaml"),
                          "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n"
                          "data:\n  greeting: {{ .Values.greeting }}\n")
              .ok());
  testing::CommandResult tar = testing::RunCommand(
      absl::StrCat("tar czf ", dir.Sub("web-1.2.0.tgz"), " -C ", dir.Sub("src"), " web"));
  INFO(tar.output);
  REQUIRE(tar.exit_code == 0);
  auto data = ReadFile(dir.Sub("web-1.2.0.tgz"));
  REQUIRE(data.ok());
  return *data;
}

// An index.yaml listing web 1.0.0, 1.2.0 and 2.0.0 (relative URLs, as
// `helm repo index` writes them) and a 3.0.0-rc.1 prerelease.
constexpr const char* kIndex = R"(apiVersion: v1
entries:
  web:
  - name: web
    version: 1.0.0
    urls: [web-1.0.0.tgz]
  - name: web
    version: 2.0.0
    urls: [charts/web-2.0.0.tgz]
  - name: web
    version: 1.2.0
    urls: [web-1.2.0.tgz]
  - name: web
    version: 3.0.0-rc.1
    urls: [web-3.0.0-rc.1.tgz]
)";

void ServeRepo(StaticHttpServer& server) {
  server.Serve("/repo/index.yaml", kIndex);
  server.Serve("/repo/web-1.0.0.tgz", "archive 1.0.0");
  server.Serve("/repo/web-1.2.0.tgz", "archive 1.2.0");
  server.Serve("/repo/charts/web-2.0.0.tgz", "archive 2.0.0");
  server.Serve("/repo/web-3.0.0-rc.1.tgz", "archive 3.0.0-rc.1");
}

Json RepoChart(const StaticHttpServer& server, const std::string& version) {
  return {{"repo", server.Url("/repo")}, {"chart", "web"}, {"version", version}};
}

// A chart URL is fetched as it is, and its key is Fleet's
// sha256("<chart>:<repo>:<version>").
TEST_CASE("a chart URL is downloaded and keyed as Fleet keys it", "[chart-source]") {
  TempDir dir;
  StaticHttpServer server;
  const std::string tgz = WebChartTgz(dir);
  server.Serve("/charts/web-1.2.0.tgz", tgz);
  const std::string url = server.Url("/charts/web-1.2.0.tgz");

  auto chart = FetchChart({{"chart", url}}, {});
  INFO(chart.status().ToString());
  REQUIRE(chart.ok());
  CHECK(chart->archive == tgz);
  CHECK(chart->url == url);
  CHECK(chart->fetched_from == url);
  CHECK(chart->file_name == "web-1.2.0.tgz");
  CHECK(chart->key == Sha256Hex(absl::StrCat(url, "::")));
  auto files = ReadChartArchive(chart->archive, chart->file_name);
  REQUIRE(files.ok());
  CHECK(files->count("Chart.yaml") == 1);
}

// helm.version is a constraint over the index's versions: the highest match
// wins, an exact version string is taken as it is, and no version means the
// newest release (prereleases excluded, as Helm's "*").
TEST_CASE("a chart in a repository is resolved through index.yaml and the version constraint",
          "[chart-source]") {
  StaticHttpServer server;
  ServeRepo(server);
  auto fetch = [&](const std::string& version) {
    auto chart = FetchChart(RepoChart(server, version), {});
    INFO(version << ": " << chart.status().ToString());
    REQUIRE(chart.ok());
    return chart->archive;
  };
  CHECK(fetch("^1.0") == "archive 1.2.0");
  CHECK(fetch("~1.0.0") == "archive 1.0.0");
  CHECK(fetch(">=1.0.0 <3.0.0") == "archive 2.0.0");
  CHECK(fetch("") == "archive 2.0.0");
  CHECK(fetch("3.0.0-rc.1") == "archive 3.0.0-rc.1");

  auto chart = FetchChart(RepoChart(server, "2.x"), {});
  REQUIRE(chart.ok());
  CHECK(chart->url == server.Url("/repo/charts/web-2.0.0.tgz"));
  CHECK(chart->file_name == "web-2.0.0.tgz");
  CHECK(chart->key == Sha256Hex(absl::StrCat("web:", server.Url("/repo"), ":2.x")));
}

// A mirror to another URL prefix: the original host is never contacted.
TEST_CASE("a chart mirror to a URL fetches the index and the archive from the mirror",
          "[chart-source]") {
  StaticHttpServer server;
  ServeRepo(server);
  ChartSourceOptions options;
  options.mirrors.push_back({"https://unrelated.example/", server.Url("/x/")});
  options.mirrors.push_back({"https://charts.example.com/", server.Url("/repo/")});

  auto chart = FetchChart(
      {{"repo", "https://charts.example.com"}, {"chart", "web"}, {"version", "1.0.0"}}, options);
  INFO(chart.status().ToString());
  REQUIRE(chart.ok());
  CHECK(chart->archive == "archive 1.0.0");
  CHECK(chart->url == "https://charts.example.com/web-1.0.0.tgz");
  CHECK(chart->fetched_from == server.Url("/repo/web-1.0.0.tgz"));
  CHECK(server.requests() == 2);
}

// A mirror to a local directory reads files from disk, and a URL cannot
// climb out of it.
TEST_CASE("a chart mirror to a local directory reads the chart from disk", "[chart-source]") {
  TempDir dir;
  REQUIRE(MakeDirs(dir.Sub("mirror/example")).ok());
  REQUIRE(WriteFileAtomic(dir.Sub("mirror/example/guestbook-0.0.1.tgz"), "local archive").ok());
  ChartSourceOptions options;
  options.mirrors.push_back(
      {"https://github.com/rancher/fleet-examples/releases/download/", dir.Sub("mirror")});

  auto chart = FetchChart(
      {{"chart",
        "https://github.com/rancher/fleet-examples/releases/download/example/guestbook-0.0.1.tgz"}},
      options);
  INFO(chart.status().ToString());
  REQUIRE(chart.ok());
  CHECK(chart->archive == "local archive");
  CHECK(chart->file_name == "guestbook-0.0.1.tgz");

  auto missing = FetchChart(
      {{"chart", "https://github.com/rancher/fleet-examples/releases/download/example/no.tgz"}},
      options);
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(missing.status().message(), "no.tgz"));

  auto escape = FetchChart(
      {{"chart", "https://github.com/rancher/fleet-examples/releases/download/../secret.tgz"}},
      options);
  CHECK(escape.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(escape.status().message(), "has a \"..\" path component"));

  options.max_bytes = 5;
  auto big = FetchChart(
      {{"chart",
        "https://github.com/rancher/fleet-examples/releases/download/example/guestbook-0.0.1.tgz"}},
      options);
  CHECK(big.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(absl::StrContains(big.status().message(), "larger than the limit of 5 bytes"));
}

// HTTP failures keep the URL and the status; the code says what to do.
TEST_CASE("a chart download that fails names the URL and the HTTP status", "[chart-source]") {
  StaticHttpServer server;
  server.Serve("/broken.tgz", "oops", 500);
  server.Serve("/private.tgz", "no", 401);

  auto missing = FetchChart({{"chart", server.Url("/missing.tgz")}}, {});
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        absl::StrCat(server.Url("/missing.tgz"), ": HTTP status 404"));

  auto broken = FetchChart({{"chart", server.Url("/broken.tgz")}}, {});
  CHECK(broken.status().code() == absl::StatusCode::kUnavailable);
  CHECK(broken.status().message() == absl::StrCat(server.Url("/broken.tgz"), ": HTTP status 500"));

  auto denied = FetchChart({{"chart", server.Url("/private.tgz")}}, {});
  CHECK(denied.status().code() == absl::StatusCode::kPermissionDenied);

  // Through a mirror the message also names the original URL.
  ChartSourceOptions options;
  options.mirrors.push_back({"https://charts.example.com/", server.Url("/")});
  auto mirrored = FetchChart({{"chart", "https://charts.example.com/missing.tgz"}}, options);
  CHECK(mirrored.status().code() == absl::StatusCode::kNotFound);
  CHECK(absl::StrContains(mirrored.status().message(),
                          "(mirror of https://charts.example.com/missing.tgz)"));
}

// The size limit stops the download, whatever the server claims.
TEST_CASE("a chart over the size limit is refused", "[chart-source]") {
  StaticHttpServer server;
  server.Serve("/big.tgz", std::string(100000, 'x'));
  ChartSourceOptions options;
  options.max_bytes = 1000;
  auto chart = FetchChart({{"chart", server.Url("/big.tgz")}}, options);
  CHECK(chart.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(chart.status().message() ==
        absl::StrCat(server.Url("/big.tgz"), ": larger than the limit of 1000 bytes"));
}

// An index that is not YAML, or not an index, is bad input naming the index.
TEST_CASE("a chart repository with a bad index.yaml is an error naming the index",
          "[chart-source]") {
  StaticHttpServer server;
  server.Serve("/repo/index.yaml", "entries: [unclosed\n");
  auto chart = FetchChart(RepoChart(server, ""), {});
  CHECK(chart.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(chart.status().message(), server.Url("/repo/index.yaml")));

  server.Serve("/repo/index.yaml", "apiVersion: v1\n");
  chart = FetchChart(RepoChart(server, ""), {});
  CHECK(chart.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(chart.status().message() == absl::StrCat(server.Url("/repo/index.yaml"),
                                                 ": not a chart repository index (no "
                                                 "\"entries\" map)"));
}

// A name the index does not list, or a constraint nothing meets, is
// NotFound and says what the index has.
TEST_CASE("a chart missing from the index or with no matching version is NotFound",
          "[chart-source]") {
  StaticHttpServer server;
  ServeRepo(server);
  Json options = RepoChart(server, "");
  options["chart"] = "db";
  auto missing = FetchChart(options, {});
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() ==
        absl::StrCat("chart \"db\" not found in ", server.Url("/repo/index.yaml")));

  auto none = FetchChart(RepoChart(server, "^4.0"), {});
  CHECK(none.status().code() == absl::StatusCode::kNotFound);
  CHECK(none.status().message() ==
        absl::StrCat("no version of chart \"web\" in ", server.Url("/repo/index.yaml"),
                     " matches \"^4.0\" (available: 3.0.0-rc.1, 2.0.0, 1.2.0, 1.0.0)"));

  auto bad = FetchChart(RepoChart(server, "not a version"), {});
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(bad.status().message(),
                          "helm.version \"not a version\" is not a semver constraint"));
}

// A server that takes the request and never answers costs the timeout, no more.
TEST_CASE("a chart server that never answers times out", "[chart-source]") {
  StaticHttpServer server;
  server.SetHang(true);
  ChartSourceOptions options;
  options.timeout = absl::Milliseconds(300);
  auto chart = FetchChart({{"chart", server.Url("/slow.tgz")}}, options);
  CHECK(chart.status().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::StartsWith(chart.status().message(),
                         absl::StrCat(server.Url("/slow.tgz"), ": no complete answer within")));
}

ChartSourceOptions WithCredentials(const std::string& regex) {
  ChartSourceOptions options;
  options.username = "user";
  options.password = "pass";
  options.credentials_url_regex = regex;
  return options;
}

constexpr char kUserPass[] = "Basic dXNlcjpwYXNz";  // user:pass

// Credentials go out as HTTP Basic to a chart URL the regex matches, anchored
// at the start (Fleet's helmRepoURLRegex).
TEST_CASE("chart downloads send credentials only where helmRepoURLRegex matches",
          "[chart-source]") {
  StaticHttpServer server;
  server.Serve("/web.tgz", "archive");
  const Json chart = {{"chart", server.Url("/web.tgz")}};

  REQUIRE(FetchChart(chart, WithCredentials("http://127\\.0\\.0\\.1:")).ok());
  CHECK(server.last_authorization() == kUserPass);

  // Not anchored by the caller, but anchored all the same: "web" appears in
  // the URL, yet not at its start; an alternation cannot escape the anchor.
  REQUIRE(FetchChart(chart, WithCredentials("web")).ok());
  CHECK(server.last_authorization().empty());
  REQUIRE(FetchChart(chart, WithCredentials("https://other|web")).ok());
  CHECK(server.last_authorization().empty());

  // No regex: nothing is sent (as Fleet, which stopped forwarding them).
  REQUIRE(FetchChart(chart, WithCredentials("")).ok());
  CHECK(server.last_authorization().empty());
}

// A server that wants credentials which an empty regex kept back: the error
// says why, so the operator knows what to set.
TEST_CASE("a 401 with credentials held back by an empty helmRepoURLRegex says so",
          "[chart-source]") {
  StaticHttpServer server({.username = "user", .password = "pass"});
  server.Serve("/repo/index.yaml", kIndex);
  server.Serve("/repo/web-1.2.0.tgz", "archive 1.2.0");

  auto held_back = FetchChart(RepoChart(server, "1.2.0"), WithCredentials(""));
  CHECK(held_back.status().code() == absl::StatusCode::kPermissionDenied);
  CHECK(held_back.status().message() ==
        absl::StrCat(server.Url("/repo/index.yaml"),
                     ": HTTP status 401 (helmRepoURLRegex is empty, so the Helm credentials were "
                     "not sent; set spec.helmRepoURLRegex to a regex matching this repository's "
                     "URL to send them)"));

  auto fetched = FetchChart(RepoChart(server, "1.2.0"), WithCredentials(server.Url("/repo")));
  REQUIRE(fetched.ok());
  CHECK(fetched->archive == "archive 1.2.0");
  CHECK(server.authorization_for("/repo/index.yaml") == kUserPass);
  CHECK(server.authorization_for("/repo/web-1.2.0.tgz") == kUserPass);

  // Without credentials at all, a plain 401 (nothing to hint at).
  auto anonymous = FetchChart(RepoChart(server, "1.2.0"), {});
  CHECK(anonymous.status().message() ==
        absl::StrCat(server.Url("/repo/index.yaml"), ": HTTP status 401"));
}

// An index may point at archives on another server; the repository's
// credentials stay with the repository (Helm without --pass-credentials).
TEST_CASE("a chart archive on another host than its repository gets no credentials",
          "[chart-source]") {
  StaticHttpServer repo;
  StaticHttpServer cdn;
  cdn.Serve("/web-1.2.0.tgz", "archive from the cdn");
  repo.Serve("/repo/index.yaml",
             absl::StrCat("apiVersion: v1\nentries:\n  web:\n  - version: 1.2.0\n    urls: [",
                          cdn.Url("/web-1.2.0.tgz"), "]\n"));
  auto chart = FetchChart(RepoChart(repo, "1.2.0"), WithCredentials("http://127\\.0\\.0\\.1"));
  REQUIRE(chart.ok());
  CHECK(chart->archive == "archive from the cdn");
  CHECK(repo.authorization_for("/repo/index.yaml") == kUserPass);
  CHECK(cdn.authorization_for("/web-1.2.0.tgz").empty());
}

TEST_CASE("an invalid helmRepoURLRegex is an error naming it", "[chart-source]") {
  StaticHttpServer server;
  auto chart = FetchChart({{"chart", server.Url("/web.tgz")}}, WithCredentials("(unclosed"));
  CHECK(chart.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(chart.status().message(),
                         "helmRepoURLRegex \"(unclosed\" is not a valid regular expression: "));
  CHECK(server.requests() == 0);
}

// HTTPS chart servers: trusted through the configured CA bundle, refused
// with a certificate error otherwise, accepted blindly when told to.
TEST_CASE("https chart downloads check the server against the configured CA", "[chart-source]") {
  testing::TestPki pki;
  StaticHttpServer server({.tls_cert_pem = pki.cert_pem, .tls_key_pem = pki.key_pem});
  server.Serve("/web.tgz", "tls archive");
  const Json chart = {{"chart", server.Url("/web.tgz")}};
  REQUIRE(absl::StartsWith(server.Url("/web.tgz"), "https://"));

  ChartSourceOptions trusted;
  trusted.ca_bundle_pem = pki.ca_pem;
  auto ok = FetchChart(chart, trusted);
  REQUIRE(ok.ok());
  CHECK(ok->archive == "tls archive");

  ChartSourceOptions other_ca;
  other_ca.ca_bundle_pem = testing::TestPki().ca_pem;
  auto refused = FetchChart(chart, other_ca);
  CHECK(refused.status().code() == absl::StatusCode::kUnavailable);
  CHECK(absl::StartsWith(refused.status().message(), server.Url("/web.tgz") + ": "));
  CHECK(absl::StrContains(absl::AsciiStrToLower(refused.status().message()), "certificate"));

  ChartSourceOptions insecure = other_ca;
  insecure.insecure_skip_tls_verify = true;
  auto blind = FetchChart(chart, insecure);
  REQUIRE(blind.ok());
  CHECK(blind->archive == "tls archive");
}

// OCI registries and other schemes are not implemented, and say so.
TEST_CASE("oci charts and unknown URL schemes are Unimplemented", "[chart-source]") {
  auto oci = FetchChart({{"chart", "oci://registry.example/charts/web"}}, {});
  CHECK(oci.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(absl::StrContains(oci.status().message(), "OCI registries (oci://) are not supported"));

  auto ftp = FetchChart({{"chart", "ftp://example.com/web.tgz"}}, {});
  CHECK(ftp.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(ftp.status().message() ==
        "ftp://example.com/web.tgz: only http:// and https:// chart URLs are supported");

  auto no_name = FetchChart({{"repo", "https://charts.example.com"}}, {});
  CHECK(no_name.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("Chart mirror flag values are PREFIX=REPLACEMENT", "[chart-source]") {
  auto mirror = ParseChartMirror("https://a.example/charts/=http://127.0.0.1:8080/x=y/");
  REQUIRE(mirror.ok());
  CHECK(mirror->prefix == "https://a.example/charts/");
  CHECK(mirror->replacement == "http://127.0.0.1:8080/x=y/");
  for (const char* bad : {"no-equals", "=/dir", "https://a/="}) {
    INFO(bad);
    CHECK(ParseChartMirror(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

// The fetched chart lands in the bundle under .chart/<key>/ and helm.chart
// points there, so RenderBundle renders it as a packed chart in the bundle.
TEST_CASE("a remote chart added to the bundle renders like a chart in the bundle",
          "[chart-source]") {
  TempDir dir;
  StaticHttpServer server;
  server.Serve("/charts/web-1.2.0.tgz", WebChartTgz(dir));
  const std::string url = server.Url("/charts/web-1.2.0.tgz");

  RenderInput input;
  input.bundle_name = "web";
  input.files["fleet.yaml"] = "helm: {}\n";
  input.options = {{"helm", {{"chart", url}, {"values", {{"greeting", "hi"}}}}}};
  REQUIRE(AddRemoteChartToBundle(input.files, input.options, {}).ok());
  const std::string path =
      absl::StrCat(".chart/", Sha256Hex(absl::StrCat(url, "::")), "/web-1.2.0.tgz");
  CHECK(input.files.count(path) == 1);
  CHECK(input.options["helm"]["chart"] == path);

  auto rendered = RenderBundle(input);
  INFO(rendered.status().ToString());
  REQUIRE(rendered.ok());
  REQUIRE(rendered->objects.size() == 1);
  CHECK(rendered->objects[0]["kind"] == "ConfigMap");
  CHECK(rendered->objects[0]["data"]["greeting"] == "hi");

  // Options without a remote chart are left alone.
  Json local = {{"helm", {{"chart", "./chart"}}}};
  std::map<std::string, std::string> files;
  REQUIRE(AddRemoteChartToBundle(files, local, {}).ok());
  CHECK(files.empty());
  CHECK(local["helm"]["chart"] == "./chart");

  // A failed download names the chart.
  Json gone = {{"helm", {{"chart", server.Url("/gone.tgz")}}}};
  absl::Status st = AddRemoteChartToBundle(files, gone, {});
  CHECK(st.code() == absl::StatusCode::kNotFound);
  CHECK(st.message() == absl::StrCat("helm chart: ", server.Url("/gone.tgz"), ": HTTP status 404"));
}

// A bundle whose chart "app" depends on "web" (from a chart repository) and
// on "lib" (file://../lib, a chart elsewhere in the bundle), with neither in
// charts/: Fleet's dependency update fetches both before rendering.
RenderInput AppWithDependencies(const std::string& repo_url) {
  RenderInput input;
  input.bundle_name = "app";
  input.files["app/Chart.yaml"] = absl::StrCat(
      "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n"
      "- name: web\n  version: ^1.0.0\n  repository: ",
      repo_url, "\n- name: lib\n  version: 0.1.0\n  repository: file://../lib\n");
  input.files["app/templates/cm.yaml"] =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n";
  input.files["lib/Chart.yaml"] = "apiVersion: v2\nname: lib\nversion: 0.1.0\n";
  input.files["lib/templates/cm.yaml"] =
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lib\n";
  input.options = {{"helm", {{"chart", "app"}}}};
  return input;
}

std::vector<std::string> Names(const RenderedManifest& rendered) {
  std::vector<std::string> names;
  for (const Json& o : rendered.objects) names.push_back(o["metadata"]["name"]);
  return names;
}

TEST_CASE("missing chart dependencies are fetched from their repository or the bundle",
          "[chart-source]") {
  TempDir dir;
  StaticHttpServer server;
  server.Serve("/repo/index.yaml",
               "apiVersion: v1\nentries:\n  web:\n  - version: 1.2.0\n    urls: [web-1.2.0.tgz]\n"
               "  - version: 2.0.0\n    urls: [web-2.0.0.tgz]\n");
  server.Serve("/repo/web-1.2.0.tgz", WebChartTgz(dir));
  RenderInput input = AppWithDependencies(server.Url("/repo"));
  CHECK(NeedsDependencyUpdate(input.files, input.options));

  // Without the update, rendering fails as `helm template` does.
  auto unfetched = RenderBundle(input);
  CHECK(unfetched.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(unfetched.status().message(),
                          "chart \"app\": found in Chart.yaml, but missing in charts/ directory: "
                          "web, lib"));

  REQUIRE(AddMissingDependenciesToBundle(input.files, input.options, {}).ok());
  CHECK(input.files.count("app/charts/web-1.2.0.tgz") == 1);  // ^1.0.0 picked 1.2.0
  CHECK(input.files.at("app/charts/lib/Chart.yaml") == input.files.at("lib/Chart.yaml"));
  CHECK_FALSE(NeedsDependencyUpdate(input.files, input.options));
  auto rendered = RenderBundle(input);
  INFO(rendered.status().ToString());
  REQUIRE(rendered.ok());
  // Helm's order for objects of one kind: by template path, subcharts first.
  CHECK(Names(*rendered) == std::vector<std::string>{"lib", "web", "app"});

  // Nothing missing: nothing fetched.
  const int requests = server.requests();
  REQUIRE(AddMissingDependenciesToBundle(input.files, input.options, {}).ok());
  CHECK(server.requests() == requests);
}

TEST_CASE("disableDependencyUpdate leaves missing dependencies missing", "[chart-source]") {
  StaticHttpServer server;
  RenderInput input = AppWithDependencies(server.Url("/repo"));
  input.options["helm"]["disableDependencyUpdate"] = true;
  CHECK_FALSE(NeedsDependencyUpdate(input.files, input.options));
  REQUIRE(AddMissingDependenciesToBundle(input.files, input.options, {}).ok());
  CHECK(server.requests() == 0);
  auto rendered = RenderBundle(input);
  CHECK(rendered.status().message() ==
        "chart \"app\": found in Chart.yaml, but missing in charts/ directory: "
        "web, lib (commit them under charts/; unless helm.disableDependencyUpdate is set, the "
        "manager fetches missing dependencies from their repository)");
}

TEST_CASE("a dependency that cannot be fetched is an error naming it", "[chart-source]") {
  StaticHttpServer server;
  auto error_for = [&](const std::string& dependency) {
    std::map<std::string, std::string> files = {
        {"Chart.yaml",
         absl::StrCat("apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n", dependency)},
        {"other/Chart.yaml", "apiVersion: v2\nname: other\nversion: 0.1.0\n"}};
    const Json options = {{"helm", Json::object()}};
    absl::Status st = AddMissingDependenciesToBundle(files, options, {});
    REQUIRE_FALSE(st.ok());
    return std::string(st.message());
  };
  CHECK(error_for("- name: web\n  version: 1.0.0\n") ==
        "helm chart .: dependency update: dependency \"web\" is missing from charts/ and has no "
        "repository to fetch it from");
  CHECK(error_for("- name: web\n  repository: '@stable'\n") ==
        "helm chart .: dependency update: dependency \"web\": repository \"@stable\" names a "
        "repository of a local Helm configuration, which the manager does not have; use the "
        "repository's URL");
  CHECK(error_for("- name: lib\n  repository: file://../lib\n") ==
        "helm chart .: dependency update: dependency \"lib\": repository \"file://../lib\" is "
        "outside the bundle (only the bundle's own files are read); commit the chart under "
        "charts/ or inside the bundle");
  CHECK(error_for("- name: lib\n  repository: file://lib\n") ==
        "helm chart .: dependency update: dependency \"lib\": repository \"file://lib\" has no "
        "Chart.yaml in the bundle");
  CHECK(error_for("- name: self\n  repository: file://.\n") ==
        "helm chart .: dependency update: dependency \"self\": repository \"file://.\" is the "
        "chart itself or a directory above it");
  CHECK(error_for(absl::StrCat("- name: web\n  version: 9.x\n  repository: ", server.Url("/none"),
                               "\n")) ==
        absl::StrCat("helm chart .: dependency update: dependency \"web\": ",
                     server.Url("/none/index.yaml"), ": HTTP status 404"));
  CHECK(absl::StartsWith(error_for("- name: web\n  repository: oci://registry.example/charts\n"),
                         "helm chart .: dependency update: dependency \"web\": chart "
                         "oci://registry.example/charts: OCI registries (oci://) are not "
                         "supported yet"));
}

}  // namespace
}  // namespace flotilla::common::helm
