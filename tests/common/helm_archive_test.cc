// Packed Helm charts (common/helm/archive.h): a .tgz read from memory with
// its top-level directory stripped, loaded and rendered like the same chart
// as a directory, as a bundle's chart and as charts/*.tgz subcharts; and every
// kind of hostile archive refused with a message naming the entry, without
// inflating more than the limits allow. Archives are built here with
// libarchive's writer, so each test states exactly what the archive holds.
#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/helm/archive.h"
#include "common/helm/chart.h"
#include "common/helm/render.h"
#include "common/render/manifest.h"
#include "common/yaml.h"

namespace flotilla::common::helm {
namespace {

using Files = std::map<std::string, std::string>;

// One tar entry. `size` < 0: the size of `data`; otherwise that many bytes
// are declared and written as zeros (for bombs).
struct Entry {
  std::string path;
  std::string data;
  mode_t type = AE_IFREG;
  std::string symlink;   // for AE_IFLNK
  std::string hardlink;  // makes it a hard link
  int64_t size = -1;
};

la_ssize_t AppendToString(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

void WriteZeros(struct archive* a, int64_t n) {
  static const std::string kZeros(1 << 20, '\0');
  while (n > 0) {
    size_t chunk = static_cast<size_t>(std::min<int64_t>(n, kZeros.size()));
    REQUIRE(archive_write_data(a, kZeros.data(), chunk) == static_cast<la_ssize_t>(chunk));
    n -= static_cast<int64_t>(chunk);
  }
}

// A gzip-compressed pax tar of `entries`, in order.
std::string Tgz(const std::vector<Entry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  REQUIRE(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK);  // no padding
  REQUIRE(archive_write_open(a, &out, nullptr, AppendToString, nullptr) == ARCHIVE_OK);
  for (const Entry& e : entries) {
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.path.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, e.type == AE_IFDIR ? 0755 : 0644);
    if (!e.symlink.empty()) archive_entry_set_symlink(entry, e.symlink.c_str());
    if (!e.hardlink.empty()) archive_entry_set_hardlink(entry, e.hardlink.c_str());
    int64_t size = e.type == AE_IFREG && e.hardlink.empty()
                       ? (e.size >= 0 ? e.size : static_cast<int64_t>(e.data.size()))
                       : 0;
    archive_entry_set_size(entry, size);
    REQUIRE(archive_write_header(a, entry) == ARCHIVE_OK);
    if (e.size >= 0) {
      WriteZeros(a, e.size);
    } else if (size > 0) {
      REQUIRE(archive_write_data(a, e.data.data(), e.data.size()) ==
              static_cast<la_ssize_t>(e.data.size()));
    }
    archive_entry_free(entry);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

// `files` (chart-relative) packed under `top`/, as `helm package` does.
std::string PackChart(const std::string& top, const Files& files) {
  std::vector<Entry> entries = {{top + "/", "", AE_IFDIR}};
  for (const auto& [path, data] : files) entries.push_back({top + "/" + path, data});
  return Tgz(entries);
}

// A gzip stream of `n` zero bytes with no tar structure at all.
std::string GzipOfZeros(int64_t n) {
  std::string out;
  struct archive* a = archive_write_new();
  REQUIRE(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_format_raw(a) == ARCHIVE_OK);
  REQUIRE(archive_write_set_bytes_in_last_block(a, 1) == ARCHIVE_OK);  // no padding
  REQUIRE(archive_write_open(a, &out, nullptr, AppendToString, nullptr) == ARCHIVE_OK);
  struct archive_entry* entry = archive_entry_new();
  archive_entry_set_filetype(entry, AE_IFREG);
  REQUIRE(archive_write_header(a, entry) == ARCHIVE_OK);
  WriteZeros(a, n);
  archive_entry_free(entry);
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  return out;
}

Files Prefixed(const std::string& prefix, const Files& files) {
  Files out;
  for (const auto& [path, data] : files) out[prefix + path] = data;
  return out;
}

std::vector<Json> MustRenderObjects(const Files& bundle, const std::string& chart_path) {
  auto chart = LoadChart(bundle, chart_path);
  INFO(chart.status().ToString());
  REQUIRE(chart.ok());
  RenderOptions options;
  options.release_name = "rel";
  options.release_namespace = "apps";
  auto objects = RenderObjects(*chart, options);
  INFO(objects.status().ToString());
  REQUIRE(objects.ok());
  return *objects;
}

// The message of reading `tgz` as "chart.tgz", which must fail.
std::string ArchiveError(const std::string& tgz, const ArchiveLimits& limits = {}) {
  auto files = ReadChartArchive(tgz, "chart.tgz", limits);
  REQUIRE_FALSE(files.ok());
  CHECK(files.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(files.status().message());
}

const Files kSubchart = {
    {"Chart.yaml", "apiVersion: v2\nname: db\nversion: 0.1.0\n"},
    {"values.yaml", "port: 5432\n"},
    {"templates/svc.yaml",
     "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}-db\n"
     "  labels: {tier: {{ .Values.global.tier }}}\n"
     "spec:\n  ports: [{port: {{ .Values.port }}}]\n"},
};

const Files kChart = {
    {"Chart.yaml",
     "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: \"2.1\"\n"
     "dependencies:\n- name: db\n  version: 0.1.0\n  condition: db.enabled\n"},
    {"values.yaml", "replicas: 2\nglobal: {tier: backend}\ndb: {enabled: true, port: 6543}\n"},
    {"templates/_helpers.tpl", "{{ define \"web.name\" }}{{ .Release.Name }}-web{{ end }}"},
    {"templates/deploy.yaml",
     "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.name\" . }}\n"
     "spec:\n  replicas: {{ .Values.replicas }}\n"
     "  template: {metadata: {labels: {app: {{ .Chart.Name }}-{{ .Chart.AppVersion }}}}}\n"},
    {"templates/cm.yaml",
     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"web.name\" . }}\n"
     "data:\n{{ (.Files.Glob \"files/*\").AsConfig | indent 2 }}\n"},
    {"files/app.conf", "listen=8080\n"},
};

// A chart packed with `helm package` (web/Chart.yaml, ...) renders exactly
// as the same files in a directory of the bundle, its subchart included.
TEST_CASE("a packed chart renders the same objects as its directory form", "[helm][archive]") {
  Files with_sub = kChart;
  for (const auto& [path, data] : kSubchart) with_sub["charts/db/" + path] = data;

  std::vector<Json> from_dir = MustRenderObjects(Prefixed("chart/", with_sub), "chart");
  Files bundle = {{"chart/web-1.0.0.tgz", PackChart("web", with_sub)}};
  std::vector<Json> from_tgz = MustRenderObjects(bundle, "./chart/web-1.0.0.tgz");

  REQUIRE(from_dir.size() == 3);
  CHECK(from_tgz == from_dir);
  CHECK(from_tgz[0]["kind"] == "ConfigMap");
  CHECK(from_tgz[0]["data"] == Json::parse(R"({"app.conf": "listen=8080\n"})"));
  CHECK(from_tgz[1]["kind"] == "Service");
  CHECK(from_tgz[1]["metadata"]["labels"]["tier"] == "backend");
  CHECK(from_tgz[1]["spec"]["ports"][0]["port"] == 6543);
  CHECK(from_tgz[2]["metadata"]["name"] == "rel-web");

  auto chart = LoadChart(bundle, "chart/web-1.0.0.tgz");
  REQUIRE(chart.ok());
  CHECK(chart->name == "web");
  REQUIRE(chart->subcharts.size() == 1);
  CHECK(chart->subcharts[0].name == "db");
}

// Helm loads charts/*.tgz beside charts/<dir>/: a subchart packed as
// charts/db-0.1.0.tgz renders as the directory charts/db/ does, under a
// chart directory and inside a packed chart.
TEST_CASE("a subchart packed as charts/<name>-<version>.tgz renders like a directory subchart",
          "[helm][archive]") {
  Files dir_form = Prefixed("chart/", kChart);
  for (const auto& [path, data] : kSubchart) dir_form["chart/charts/db/" + path] = data;
  std::vector<Json> expected = MustRenderObjects(dir_form, "chart");

  Files packed_sub = Prefixed("chart/", kChart);
  packed_sub["chart/charts/db-0.1.0.tgz"] = PackChart("db", kSubchart);
  CHECK(MustRenderObjects(packed_sub, "chart") == expected);

  // Packed inside packed.
  Files parent = kChart;
  parent["charts/db-0.1.0.tgz"] = PackChart("db", kSubchart);
  CHECK(MustRenderObjects({{"web.tgz", PackChart("web", parent)}}, "web.tgz") == expected);

  // The condition still switches a packed subchart off.
  packed_sub["chart/values.yaml"] = "replicas: 2\ndb: {enabled: false}\n";
  CHECK(MustRenderObjects(packed_sub, "chart").size() == 2);
}

// Archive names starting with `_` or `.` and other files in charts/ are not
// subcharts (Helm's loader); a .tgz there that is not a chart is an error.
TEST_CASE("charts/ loads only *.tgz archives and fails on one that is not a chart",
          "[helm][archive]") {
  Files bundle = Prefixed("chart/", kChart);
  bundle["chart/charts/_skipped-0.1.0.tgz"] = "not even gzip";
  bundle["chart/charts/.hidden.tgz"] = "not even gzip";
  bundle["chart/charts/README.md"] = "notes";
  auto chart = LoadChart(bundle, "chart");
  REQUIRE(chart.ok());
  CHECK(chart->subcharts.empty());

  bundle["chart/charts/junk-1.0.0.tgz"] = PackChart("junk", {{"README.md", "no chart"}});
  CHECK(LoadChart(bundle, "chart").status().message() ==
        "chart/charts/junk-1.0.0.tgz/Chart.yaml: not found");
  bundle["chart/charts/junk-1.0.0.tgz"] = "plain text";
  CHECK(LoadChart(bundle, "chart").status().message() ==
        "chart/charts/junk-1.0.0.tgz: not a gzip file");
}

// Paths that would escape the chart, links and special files: each refused,
// naming the entry, whatever else the archive holds.
TEST_CASE("an archive with .., absolute paths, links or special files is refused",
          "[helm][archive]") {
  const Entry chart_yaml = {"web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n"};
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/../../etc/passwd", "x"}})) ==
        "chart.tgz: entry \"web/../../etc/passwd\" has a \"..\" path component");
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/templates/..", "", AE_IFDIR}})) ==
        "chart.tgz: entry \"web/templates/../\" has a \"..\" path component");
  CHECK(ArchiveError(Tgz({{"/web/Chart.yaml", chart_yaml.data}})) ==
        "chart.tgz: entry \"/web/Chart.yaml\" has an absolute path");
  CHECK(ArchiveError(Tgz({chart_yaml, {"web\\templates\\x.yaml", "x"}})) ==
        "chart.tgz: entry \"web\\templates\\x.yaml\" has a backslash in its path");
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/values.yaml", "", AE_IFLNK, "/etc/shadow"}})) ==
        "chart.tgz: entry \"web/values.yaml\" is a symlink to \"/etc/shadow\"");
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/values.yaml", "", AE_IFREG, "", "web/Chart.yaml"}})) ==
        "chart.tgz: entry \"web/values.yaml\" is a hard link to \"web/Chart.yaml\"");
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/dev", "", AE_IFCHR}})) ==
        "chart.tgz: entry \"web/dev\" is a device, fifo or socket");
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/disk", "", AE_IFBLK}})) ==
        "chart.tgz: entry \"web/disk\" is a device, fifo or socket");
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/pipe", "", AE_IFIFO}})) ==
        "chart.tgz: entry \"web/pipe\" is a device, fifo or socket");
}

// Helm takes the first path component as the chart's directory; we demand
// that there is exactly one, so nothing lands beside the chart.
TEST_CASE("an archive with two top-level directories or a top-level file is refused",
          "[helm][archive]") {
  const Entry chart_yaml = {"web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n"};
  CHECK(ArchiveError(Tgz({chart_yaml, {"other/Chart.yaml", chart_yaml.data}})) ==
        "chart.tgz: entry \"other/Chart.yaml\" is outside the top-level directory \"web\"");
  CHECK(ArchiveError(Tgz({{"web/", "", AE_IFDIR}, {"other/", "", AE_IFDIR}, chart_yaml})) ==
        "chart.tgz: entry \"other/\" is outside the top-level directory \"web\"");
  CHECK(ArchiveError(Tgz({{"Chart.yaml", chart_yaml.data}})) ==
        "chart.tgz: entry \"Chart.yaml\" is not inside a top-level directory");
  // "./" prefixes and empty components are cleaned, as tar -C dir . writes.
  auto files = ReadChartArchive(Tgz({{"./", "", AE_IFDIR}, {"./web//Chart.yaml", "x"}}), "c.tgz");
  REQUIRE(files.ok());
  CHECK(*files == Files{{"Chart.yaml", "x"}});
}

// Sizes come from each entry's header and are checked before its data is
// inflated: a 64 MiB file of zeros (64 KiB compressed) is refused at once.
TEST_CASE("an oversize file or a gzip bomb is refused from its header", "[helm][archive]") {
  const Entry chart_yaml = {"web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n"};
  CHECK(ArchiveError(Tgz({chart_yaml, {"web/big", "", AE_IFREG, "", "", (5 << 20) + 1}})) ==
        "chart.tgz: entry \"web/big\" is 5242881 bytes, over the per-file limit of 5242880 bytes");
  std::string bomb = Tgz({chart_yaml, {"web/zeros", "", AE_IFREG, "", "", int64_t{64} << 20}});
  CHECK(bomb.size() < (1 << 20));
  CHECK(ArchiveError(bomb) ==
        "chart.tgz: entry \"web/zeros\" is 67108864 bytes, over the per-file limit of 5242880 "
        "bytes");

  // A file of exactly the limit is fine.
  auto files =
      ReadChartArchive(Tgz({chart_yaml, {"web/max", "", AE_IFREG, "", "", 5 << 20}}), "chart.tgz");
  REQUIRE(files.ok());
  CHECK(files->at("max").size() == size_t{5} << 20);

  // Gzip of 128 MiB of zeros with no tar structure: zero blocks end a tar,
  // so reading stops there.
  CHECK(ArchiveError(GzipOfZeros(int64_t{128} << 20)) ==
        "chart.tgz: no files in the chart archive");
}

// Seven files of 5 MiB pass the per-file limit but not the 32 MiB total.
TEST_CASE("an archive over the total size limit is refused at the file that crosses it",
          "[helm][archive]") {
  std::vector<Entry> entries = {{"web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1\n"}};
  for (int i = 0; i < 7; ++i) {
    entries.push_back({"web/files/f" + std::to_string(i), "", AE_IFREG, "", "", 5 << 20});
  }
  CHECK(ArchiveError(Tgz(entries)) ==
        "chart.tgz: entry \"web/files/f6\" takes the chart over its limit of 33554432 bytes "
        "uncompressed");
}

// A packed subchart inside a packed chart draws on the same budget, so
// nesting archives cannot multiply the limit.
TEST_CASE("packed subcharts share the limits of the chart that holds them", "[helm][archive]") {
  Files sub = kSubchart;
  sub["files/blob"] = std::string(600, 'x');
  Files parent = kChart;
  parent["charts/db-0.1.0.tgz"] = PackChart("db", sub);
  Files bundle = {{"web.tgz", PackChart("web", parent)}};
  // Each archive alone is under the limit, together they are over it.
  int64_t total = 0;
  for (const auto& [path, data] : parent) total += static_cast<int64_t>(data.size());
  for (const auto& [path, data] : sub) total += static_cast<int64_t>(data.size());
  ArchiveLimits limits;
  limits.max_total_bytes = total;
  REQUIRE(LoadChart(bundle, "web.tgz", limits).ok());
  limits.max_total_bytes = total - 1;
  CHECK(LoadChart(bundle, "web.tgz", limits).status().message() ==
        "web.tgz/charts/db-0.1.0.tgz: entry \"db/values.yaml\" takes the chart over its limit of " +
            std::to_string(total - 1) + " bytes uncompressed");
}

// 10,001 empty files: the entry limit stops reading at the 10,001st.
TEST_CASE("an archive with too many entries is refused", "[helm][archive]") {
  std::vector<Entry> entries = {{"web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1\n"}};
  for (int i = 1; i <= 10000; ++i) entries.push_back({"web/f" + std::to_string(i), ""});
  CHECK(ArchiveError(Tgz(entries)) ==
        "chart.tgz: entry \"web/f10000\" is over the limit of 10000 entries");
  entries.pop_back();
  CHECK(ReadChartArchive(Tgz(entries), "chart.tgz").ok());
}

// Not gzip at all, an uncompressed tar, gzip that is not a tar, a truncated
// archive, an empty one.
TEST_CASE("an archive that is not a gzip tar is refused", "[helm][archive]") {
  CHECK(ArchiveError("") == "chart.tgz: not a gzip file");
  CHECK(ArchiveError("apiVersion: v2\n") == "chart.tgz: not a gzip file");
  std::string tar;
  {
    struct archive* a = archive_write_new();
    REQUIRE(archive_write_set_format_pax_restricted(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open(a, &tar, nullptr, AppendToString, nullptr) == ARCHIVE_OK);
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
  }
  CHECK(ArchiveError(tar) == "chart.tgz: not a gzip file");

  std::string text;
  {
    struct archive* a = archive_write_new();
    REQUIRE(archive_write_add_filter_gzip(a) == ARCHIVE_OK);
    REQUIRE(archive_write_set_format_raw(a) == ARCHIVE_OK);
    REQUIRE(archive_write_open(a, &text, nullptr, AppendToString, nullptr) == ARCHIVE_OK);
    struct archive_entry* entry = archive_entry_new();
    archive_entry_set_filetype(entry, AE_IFREG);
    REQUIRE(archive_write_header(a, entry) == ARCHIVE_OK);
    std::string body(2048, 'y');
    REQUIRE(archive_write_data(a, body.data(), body.size()) == 2048);
    archive_entry_free(entry);
    REQUIRE(archive_write_close(a) == ARCHIVE_OK);
    archive_write_free(a);
  }
  CHECK(ArchiveError(text) == "chart.tgz: Unrecognized archive format");

  // Incompressible content, cut in half.
  std::string noise(8192, '\0');
  uint32_t x = 1;
  for (char& c : noise) c = static_cast<char>((x = x * 1103515245u + 12345u) >> 24);
  std::string full = Tgz({{"web/Chart.yaml", "x"}, {"web/values.yaml", noise}});
  CHECK(ArchiveError(full.substr(0, full.size() / 2)) == "chart.tgz: truncated gzip input");

  CHECK(ArchiveError(Tgz({{"web/", "", AE_IFDIR}})) == "chart.tgz: no files in the chart archive");
}

TEST_CASE("chart archive names are .tgz and .tar.gz", "[helm][archive]") {
  CHECK(IsChartArchiveName("charts/db-0.1.0.tgz"));
  CHECK(IsChartArchiveName("web.tar.gz"));
  CHECK_FALSE(IsChartArchiveName("chart"));
  CHECK_FALSE(IsChartArchiveName("web.gz"));
}

// A bundle whose fleet.yaml helm.chart names a packed chart in the bundle
// renders through RenderBundle, and the archive's errors reach the caller.
TEST_CASE("RenderBundle renders a packed chart named by helm.chart", "[helm][archive]") {
  RenderInput in;
  in.bundle_name = "test-web";
  in.files = {{"fleet.yaml", "helm:\n  chart: ./web-1.0.0.tgz\n"},
              {"web-1.0.0.tgz",
               PackChart("web", {{"Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n"},
                                 {"values.yaml", "n: 1\n"},
                                 {"templates/cm.yaml",
                                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: '{{ "
                                  ".Release.Name }}'}\ndata: {n: '{{ .Values.n }}'}\n"}})}};
  in.options = Json::parse(R"({"defaultNamespace": "apps", "helm": {"chart": "./web-1.0.0.tgz",
                               "values": {"n": 3}}})");
  auto out = RenderBundle(in);
  INFO(out.status().ToString());
  REQUIRE(out.ok());
  REQUIRE(out->objects.size() == 1);
  CHECK(out->objects[0]["metadata"] == Json::parse(R"({"name": "test-web", "namespace": "apps"})"));
  CHECK(out->objects[0]["data"]["n"] == "3");

  in.files["web-1.0.0.tgz"] = PackChart("web", {{"../x", "x"}});
  CHECK(RenderBundle(in).status().message() ==
        "web-1.0.0.tgz: entry \"web/../x\" has a \"..\" path component");
}

}  // namespace
}  // namespace flotilla::common::helm
