#include "common/helm/chart_source.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"
#include "common/hash.h"
#include "common/helm/archive.h"
#include "common/helm/chart.h"
#include "common/status_macros.h"
#include "common/template/semver.h"
#include "re2/re2.h"

namespace flotilla::common::helm {
namespace {

std::string HelmString(const Json& helm, const char* key) {
  return helm.is_object() && helm.contains(key) && helm[key].is_string()
             ? helm[key].get<std::string>()
             : "";
}

absl::string_view SchemeOf(absl::string_view url) {
  size_t pos = url.find("://");
  return pos == absl::string_view::npos ? absl::string_view() : url.substr(0, pos);
}

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using CurlHandle = std::unique_ptr<CURL, CurlDeleter>;

struct Download {
  std::string body;
  int64_t max_bytes = 0;
  bool oversize = false;
};

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* download = static_cast<Download*>(user);
  const size_t n = size * nmemb;
  if (static_cast<int64_t>(download->body.size() + n) > download->max_bytes) {
    download->oversize = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  download->body.append(data, n);
  return n;
}

absl::Status TooLarge(absl::string_view where, int64_t max_bytes) {
  return absl::ResourceExhaustedError(
      absl::StrCat(where, ": larger than the limit of ", max_bytes, " bytes"));
}

// GET `url` with libcurl, bounded by the options' timeout and size.
absl::StatusOr<std::string> HttpGet(const std::string& url, const ChartSourceOptions& options,
                                    bool with_credentials) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CurlHandle curl(curl_easy_init());
  if (curl == nullptr) return absl::InternalError(absl::StrCat(url, ": curl_easy_init failed"));
  CURL* c = curl.get();
  Download download;
  download.max_bytes = options.max_bytes;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(absl::ToInt64Milliseconds(options.timeout)));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options.max_bytes));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &download);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "flotilla");
  if (with_credentials && (!options.username.empty() || !options.password.empty())) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(c, CURLOPT_USERNAME, options.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options.password.c_str());
  }
  curl_blob ca_blob{};
  if (!options.ca_bundle_pem.empty()) {
    ca_blob.data = const_cast<char*>(options.ca_bundle_pem.data());
    ca_blob.len = options.ca_bundle_pem.size();
    ca_blob.flags = CURL_BLOB_COPY;
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca_blob);
  }
  if (options.insecure_skip_tls_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(c);
  if (download.oversize || rc == CURLE_FILESIZE_EXCEEDED) {
    return TooLarge(url, options.max_bytes);
  }
  const std::string detail = error[0] != '\0' ? error : curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return absl::DeadlineExceededError(absl::StrCat(url, ": no complete answer within ",
                                                    absl::FormatDuration(options.timeout), " (",
                                                    detail, ")"));
  }
  if (rc != CURLE_OK) return absl::UnavailableError(absl::StrCat(url, ": ", detail));
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return std::move(download.body);
  const std::string message = absl::StrCat(url, ": HTTP status ", status);
  if (status == 404 || status == 410) return absl::NotFoundError(message);
  if (status == 401 || status == 403) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

// Reads a mirrored file from disk; `rest` is the URL's part after the prefix.
absl::StatusOr<std::string> ReadMirrorFile(const std::string& url, const std::string& dir,
                                           absl::string_view rest,
                                           const ChartSourceOptions& options) {
  // The URL comes from a bundle (untrusted): it must not walk out of the
  // mirror directory.
  for (absl::string_view part : absl::StrSplit(rest, '/')) {
    if (part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(url, ": has a \"..\" path component, refused for the local mirror ", dir));
    }
  }
  while (absl::StartsWith(rest, "/")) rest.remove_prefix(1);
  std::string path = dir;
  if (!path.empty() && path.back() != '/') path += '/';
  path.append(rest.data(), rest.size());
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat(url, ": no file ", path, " in the local mirror"));
  }
  if (st.st_size > options.max_bytes) {
    return TooLarge(absl::StrCat(url, " (", path, ")"), options.max_bytes);
  }
  return ReadFile(path);
}

// Fetches `url` through the mirror map; `*from` receives what was read.
absl::StatusOr<std::string> Get(const std::string& url, const ChartSourceOptions& options,
                                bool with_credentials, std::string* from) {
  std::string target = url;
  for (const ChartMirror& mirror : options.mirrors) {
    if (mirror.prefix.empty() || !absl::StartsWith(url, mirror.prefix)) continue;
    absl::string_view rest = absl::string_view(url).substr(mirror.prefix.size());
    if (!absl::StrContains(mirror.replacement, "://")) {
      *from = absl::StrCat(mirror.replacement, "/", rest);
      return ReadMirrorFile(url, mirror.replacement, rest, options);
    }
    target = absl::StrCat(mirror.replacement, rest);
    break;
  }
  *from = target;
  absl::string_view scheme = SchemeOf(target);
  if (scheme != "http" && scheme != "https") {
    return absl::UnimplementedError(
        absl::StrCat(target, ": only http:// and https:// chart URLs are supported"));
  }
  absl::StatusOr<std::string> body = HttpGet(target, options, with_credentials);
  if (!body.ok() && target != url) {
    return absl::Status(body.status().code(),
                        absl::StrCat(body.status().message(), " (mirror of ", url, ")"));
  }
  return body;
}

// `ref` (from index.yaml) against the repository URL, as Helm's
// repo.ResolveReferenceURL: absolute URLs stay, others are relative to the
// repository directory.
std::string ResolveReference(const std::string& repo, const std::string& ref) {
  if (!SchemeOf(ref).empty()) return ref;
  std::string base = repo;
  if (base.empty() || base.back() != '/') base += '/';
  absl::string_view rel = ref;
  while (absl::StartsWith(rel, "./")) rel.remove_prefix(2);
  if (absl::StartsWith(rel, "/")) {
    // Host-relative: keep scheme://host.
    size_t host = base.find("://");
    size_t path = host == std::string::npos ? std::string::npos : base.find('/', host + 3);
    if (path != std::string::npos) base.erase(path);
    return absl::StrCat(base, rel);
  }
  return absl::StrCat(base, rel);
}

struct IndexVersion {
  std::string version;
  tmpl::SemverVersion parsed;
  std::vector<std::string> urls;
};

// The chart URL `name` at `version` (a constraint) in an index.yaml.
absl::StatusOr<std::string> ChooseFromIndex(const std::string& index_url,
                                            absl::string_view index_text, const std::string& name,
                                            const std::string& version) {
  ASSIGN_OR_RETURN(Json index, ParseYaml(index_text, index_url));
  if (!index.is_object() || !index.contains("entries") || !index["entries"].is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_url, ": not a chart repository index (no \"entries\" map)"));
  }
  const Json& entries = index["entries"];
  if (!entries.contains(name)) {
    return absl::NotFoundError(absl::StrCat("chart \"", name, "\" not found in ", index_url));
  }
  if (!entries[name].is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat(index_url, ": entries.", name, " is not a list"));
  }
  std::vector<IndexVersion> versions;
  for (const Json& entry : entries[name]) {
    if (!entry.is_object() || !entry.contains("version") || !entry["version"].is_string()) {
      continue;
    }
    IndexVersion v;
    v.version = entry["version"].get<std::string>();
    absl::StatusOr<tmpl::SemverVersion> parsed = tmpl::ParseSemver(v.version);
    if (!parsed.ok()) continue;  // Helm skips versions it cannot parse
    v.parsed = *parsed;
    if (entry.contains("urls") && entry["urls"].is_array()) {
      for (const Json& u : entry["urls"]) {
        if (u.is_string()) v.urls.push_back(u.get<std::string>());
      }
    }
    versions.push_back(std::move(v));
  }
  std::stable_sort(versions.begin(), versions.end(), [](const auto& a, const auto& b) {
    return tmpl::CompareSemver(a.parsed, b.parsed) > 0;
  });
  const IndexVersion* chosen = nullptr;
  for (const IndexVersion& v : versions) {
    if (!version.empty() && v.version == version) {
      chosen = &v;
      break;
    }
  }
  if (chosen == nullptr) {
    absl::StatusOr<tmpl::SemverConstraint> constraint =
        tmpl::SemverConstraint::Parse(version.empty() ? "*" : version);
    if (!constraint.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("helm.version \"", version,
                       "\" is not a semver constraint: ", constraint.status().message()));
    }
    for (const IndexVersion& v : versions) {
      if (constraint->Check(v.parsed)) {
        chosen = &v;
        break;
      }
    }
  }
  if (chosen == nullptr) {
    std::vector<std::string> available;
    for (const IndexVersion& v : versions) available.push_back(v.version);
    return absl::NotFoundError(absl::StrCat(
        "no version of chart \"", name, "\" in ", index_url, " matches \"",
        version.empty() ? "*" : version,
        "\" (available: ", available.empty() ? "none" : absl::StrJoin(available, ", "), ")"));
  }
  if (chosen->urls.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(index_url, ": chart \"", name, "\" version ",
                                                   chosen->version, " has no urls"));
  }
  return chosen->urls.front();
}

// "scheme://host:port" of a URL, lowercased, with the scheme's default port
// made explicit and any user info dropped; "" without a scheme.
std::string OriginOf(absl::string_view url) {
  const absl::string_view scheme = SchemeOf(url);
  if (scheme.empty()) return "";
  absl::string_view authority = url.substr(scheme.size() + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (size_t at = authority.rfind('@'); at != absl::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string out = absl::AsciiStrToLower(absl::StrCat(scheme, "://", authority));
  const size_t colon = authority.rfind(':');
  const size_t bracket = authority.rfind(']');  // an IPv6 literal's end
  const bool has_port =
      colon != absl::string_view::npos && (bracket == absl::string_view::npos || colon > bracket);
  if (!has_port) {
    if (absl::EqualsIgnoreCase(scheme, "https")) out += ":443";
    if (absl::EqualsIgnoreCase(scheme, "http")) out += ":80";
  }
  return out;
}

std::string FileNameOf(const std::string& url) {
  absl::string_view path = url;
  path = path.substr(0, path.find_first_of("?#"));
  size_t slash = path.rfind('/');
  std::string name(slash == absl::string_view::npos ? path : path.substr(slash + 1));
  if (name.empty() || name == "." || name == "..") name = "chart";
  if (!IsChartArchiveName(name)) name += ".tgz";
  return name;
}

}  // namespace

bool IsRemoteChart(const Json& helm_options) {
  return !HelmString(helm_options, "repo").empty() ||
         !SchemeOf(HelmString(helm_options, "chart")).empty();
}

absl::StatusOr<ResolvedChart> FetchChart(const Json& helm_options,
                                         const ChartSourceOptions& options) {
  const std::string chart = HelmString(helm_options, "chart");
  const std::string repo = HelmString(helm_options, "repo");
  const std::string version = HelmString(helm_options, "version");
  for (const std::string* url : {&chart, &repo}) {
    if (absl::StartsWith(*url, "oci://")) {
      return absl::UnimplementedError(
          absl::StrCat("chart ", *url,
                       ": OCI registries (oci://) are not supported yet; use an http(s) "
                       "chart URL, a chart repository (helm.repo) or a chart in the bundle"));
    }
  }
  if (chart.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("helm.repo \"", repo, "\" is set but helm.chart (the chart's name) is not"));
  }
  ASSIGN_OR_RETURN(const bool send_credentials, SendCredentialsTo(options, repo, chart));
  const bool has_credentials = !options.username.empty() || !options.password.empty();
  // Fleet's hint when credentials exist but an empty regex kept them back.
  auto explain = [&](absl::Status st) {
    if (st.ok() || !has_credentials || !options.credentials_url_regex.empty()) return st;
    return absl::Status(
        st.code(), absl::StrCat(st.message(),
                                " (helmRepoURLRegex is empty, so the Helm credentials were not "
                                "sent; set spec.helmRepoURLRegex to a regex matching this "
                                "repository's URL to send them)"));
  };
  ResolvedChart out;
  out.key = Sha256Hex(absl::StrCat(chart, ":", repo, ":", version));
  if (repo.empty()) {
    out.url = chart;
  } else {
    std::string index_url = repo;
    while (!index_url.empty() && index_url.back() == '/') index_url.pop_back();
    index_url += "/index.yaml";
    std::string from;
    absl::StatusOr<std::string> index = Get(index_url, options, send_credentials, &from);
    if (!index.ok()) return explain(index.status());
    ASSIGN_OR_RETURN(std::string ref, ChooseFromIndex(index_url, *index, chart, version));
    out.url = ResolveReference(repo, ref);
  }
  // An archive elsewhere than the repository does not get its credentials.
  const bool archive_credentials =
      send_credentials && (repo.empty() || OriginOf(out.url) == OriginOf(repo));
  absl::StatusOr<std::string> archive =
      Get(out.url, options, archive_credentials, &out.fetched_from);
  if (!archive.ok()) return explain(archive.status());
  out.archive = std::move(*archive);
  out.file_name = FileNameOf(out.url);
  return out;
}

absl::StatusOr<bool> SendCredentialsTo(const ChartSourceOptions& options, absl::string_view repo,
                                       absl::string_view chart) {
  if (options.credentials_url_regex.empty()) return false;
  RE2::Options quiet;
  quiet.set_log_errors(false);
  // Checked as given, so that an error shows the operator's own pattern.
  const RE2 given(options.credentials_url_regex, quiet);
  if (!given.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("helmRepoURLRegex \"", options.credentials_url_regex,
                     "\" is not a valid regular expression: ", given.error()));
  }
  // Anchored at the start, the whole pattern grouped so that an alternation
  // cannot escape the anchor (Fleet's shouldAddAuthToRequest).
  const RE2 re(absl::StrCat("^(?:", options.credentials_url_regex, ")"), quiet);
  const absl::string_view url = repo.empty() ? chart : repo;
  return RE2::PartialMatch(re2::StringPiece(url.data(), url.size()), re);
}

absl::StatusOr<ChartMirror> ParseChartMirror(absl::string_view flag) {
  size_t eq = flag.find('=');
  if (eq == absl::string_view::npos || eq == 0 || eq + 1 == flag.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("chart mirror \"", flag, "\" is not PREFIX=REPLACEMENT"));
  }
  return ChartMirror{std::string(flag.substr(0, eq)), std::string(flag.substr(eq + 1))};
}

absl::Status AddRemoteChartToBundle(std::map<std::string, std::string>& files, Json& options,
                                    const ChartSourceOptions& source) {
  if (!options.is_object() || !options.contains("helm") || !options["helm"].is_object() ||
      !IsRemoteChart(options["helm"])) {
    return absl::OkStatus();
  }
  Json& helm = options["helm"];
  absl::StatusOr<ResolvedChart> chart = FetchChart(helm, source);
  if (!chart.ok()) {
    return absl::Status(chart.status().code(),
                        absl::StrCat("helm chart: ", chart.status().message()));
  }
  std::string path = absl::StrCat(".chart/", chart->key, "/", chart->file_name);
  files[path] = std::move(chart->archive);
  helm["chart"] = path;
  helm.erase("repo");
  helm.erase("version");
  return absl::OkStatus();
}

namespace {

// `base`/`rel` with "." and ".." resolved; nullopt when it leaves the root.
std::optional<std::string> JoinInside(absl::string_view base, absl::string_view rel) {
  std::vector<std::string> parts;
  for (absl::string_view p : absl::StrSplit(base, '/', absl::SkipEmpty())) parts.emplace_back(p);
  for (absl::string_view p : absl::StrSplit(rel, '/', absl::SkipEmpty())) {
    if (p == ".") continue;
    if (p == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.emplace_back(p);
  }
  return absl::StrJoin(parts, "/");
}

std::string Under(absl::string_view dir, absl::string_view rel) {
  return dir.empty() ? std::string(rel) : absl::StrCat(dir, "/", rel);
}

absl::Status AddDependency(std::map<std::string, std::string>& files, const std::string& chart_dir,
                           const Json& dep, const ChartSourceOptions& source) {
  const std::string name = HelmString(dep, "name");
  const std::string repository = HelmString(dep, "repository");
  const std::string version = HelmString(dep, "version");
  const std::string what = absl::StrCat("dependency \"", name, "\"");
  if (repository.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is missing from charts/ and has no repository to fetch it from"));
  }
  if (absl::StartsWith(repository, "@") || absl::StartsWith(repository, "alias:")) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": repository \"", repository,
        "\" names a repository of a local Helm configuration, which the manager does not have; "
        "use the repository's URL"));
  }
  if (absl::StartsWith(repository, "file://")) {
    const absl::string_view rel = absl::string_view(repository).substr(7);
    std::optional<std::string> from = JoinInside(chart_dir, rel);
    if (!from || absl::StartsWith(rel, "/")) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": repository \"", repository,
          "\" is outside the bundle (only the bundle's own files are read); commit the chart "
          "under charts/ or inside the bundle"));
    }
    if (files.count(Under(*from, "Chart.yaml")) == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": repository \"", repository, "\" has no Chart.yaml in the bundle"));
    }
    const std::string prefix = from->empty() ? "" : *from + "/";
    if (absl::StartsWith(chart_dir + "/", prefix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": repository \"", repository, "\" is the chart itself or a directory above it"));
    }
    const std::string target = Under(chart_dir, absl::StrCat("charts/", name));
    std::vector<std::pair<std::string, std::string>> copies;
    for (const auto& [path, content] : files) {
      if (!absl::StartsWith(path, prefix)) continue;
      copies.emplace_back(absl::StrCat(target, "/", path.substr(prefix.size())), content);
    }
    for (auto& [path, content] : copies) files[path] = std::move(content);
    return absl::OkStatus();
  }
  Json helm = {{"repo", repository}, {"chart", name}, {"version", version}};
  absl::StatusOr<ResolvedChart> chart = FetchChart(helm, source);
  if (!chart.ok()) {
    return absl::Status(chart.status().code(), absl::StrCat(what, ": ", chart.status().message()));
  }
  files[Under(chart_dir, absl::StrCat("charts/", chart->file_name))] = std::move(chart->archive);
  return absl::OkStatus();
}

}  // namespace

// The chart directory whose dependencies Fleet would update, and the chart
// loaded from it; nullopt when there is none.
std::optional<std::pair<std::string, Chart>> DependencyUpdateChart(
    const std::map<std::string, std::string>& files, const Json& options) {
  if (!options.is_object() || !options.contains("helm") || !options["helm"].is_object()) {
    return std::nullopt;
  }
  const Json& helm = options["helm"];
  if (helm.value("disableDependencyUpdate", Json(false)) == Json(true)) return std::nullopt;
  std::string dir = HelmString(helm, "chart");
  while (absl::StartsWith(dir, "./")) dir.erase(0, 2);
  while (!dir.empty() && dir.back() == '/') dir.pop_back();
  if (dir == ".") dir.clear();
  if (files.count(Under(dir, "Chart.yaml")) == 0) return std::nullopt;  // not a chart directory
  absl::StatusOr<Chart> chart = LoadChart(files, dir);
  // A chart that does not load fails when it is rendered, with that error.
  if (!chart.ok()) return std::nullopt;
  return std::make_pair(dir, *std::move(chart));
}

bool NeedsDependencyUpdate(const std::map<std::string, std::string>& files, const Json& options) {
  auto chart = DependencyUpdateChart(files, options);
  return chart && !MissingDependencies(chart->second).empty();
}

absl::Status AddMissingDependenciesToBundle(std::map<std::string, std::string>& files,
                                            const Json& options, const ChartSourceOptions& source) {
  auto chart = DependencyUpdateChart(files, options);
  if (!chart) return absl::OkStatus();
  const std::string& dir = chart->first;
  for (const Json& dep : MissingDependencies(chart->second)) {
    absl::Status st = AddDependency(files, dir, dep, source);
    if (!st.ok()) {
      return absl::Status(st.code(), absl::StrCat("helm chart ", dir.empty() ? "." : dir,
                                                  ": dependency update: ", st.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace flotilla::common::helm
