// Packed Helm charts: a gzip-compressed tar (`helm package` output, Helm's
// pkg/chart/loader/archive.go) read from memory into a file map, with the
// single top-level directory (`<name>/Chart.yaml`, ...) stripped.
//
// An archive is untrusted input (a bundle from Git, a chart from the web), so
// reading is bounded: sizes are checked from each entry's header before its
// data is inflated, reading stops at the limits, and anything that is not a
// plain file or directory inside the one top-level directory is refused.
//
// Thread-safety: the functions are stateless; ArchiveUsage is not shared.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::common::helm {

struct ArchiveLimits {
  // Uncompressed bytes of all regular files together.
  int64_t max_total_bytes = int64_t{32} << 20;
  // Uncompressed bytes of one file (Helm's own default is 5 MiB).
  int64_t max_file_bytes = int64_t{5} << 20;
  // Entries of every type (files, directories, refused ones).
  int64_t max_entries = 10000;
};

// What archives read so far consumed, so that a chart and its packed
// subcharts (charts/*.tgz, themselves inside the parent's archive) share one
// budget and nesting cannot multiply the limits.
struct ArchiveUsage {
  int64_t bytes = 0;
  int64_t entries = 0;
};

// Reads the gzip tar `data` into path-within-the-chart -> content
// ("Chart.yaml", "templates/x.yaml"). Paths are cleaned (empty and `.`
// components dropped); directory entries only count against the limits.
// `name` (the archive's path in the bundle) starts every error message.
// `usage`, when given, is added to and checked against `limits` together with
// this archive.
//
// Errors, all InvalidArgument naming the archive and the entry:
//   <name>: not a gzip file
//   <name>: entry "<path>" has an absolute path
//   <name>: entry "<path>" has a ".." path component
//   <name>: entry "<path>" has a backslash in its path
//   <name>: entry "<path>" is a symlink to "<target>"
//   <name>: entry "<path>" is a hard link to "<target>"
//   <name>: entry "<path>" is a device, fifo or socket
//   <name>: entry "<path>" is not inside a top-level directory
//   <name>: entry "<path>" is outside the top-level directory "<dir>"
//   <name>: entry "<path>" is <n> bytes, over the per-file limit of <m> bytes
//   <name>: entry "<path>" takes the chart over its limit of <m> bytes uncompressed
//   <name>: entry "<path>" is over the limit of <m> entries
//   <name>: entry "<path>": <libarchive's message>  (a corrupt or truncated archive)
//   <name>: no files in the chart archive
absl::StatusOr<std::map<std::string, std::string>> ReadChartArchive(
    absl::string_view data, absl::string_view name, const ArchiveLimits& limits = {},
    ArchiveUsage* usage = nullptr);

// True for names Helm loads as packed charts: `*.tgz` and `*.tar.gz`.
bool IsChartArchiveName(absl::string_view path);

}  // namespace flotilla::common::helm
