#include "common/helm/archive.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace flotilla::common::helm {
namespace {

struct ArchiveReadFree {
  void operator()(struct archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadFree>;

constexpr size_t kReadChunk = 64 * 1024;

std::string LibarchiveError(struct archive* a) {
  const char* message = archive_error_string(a);
  return message != nullptr ? message : "unknown libarchive error";
}

class Reader {
 public:
  Reader(absl::string_view name, const ArchiveLimits& limits, ArchiveUsage& usage)
      : name_(name), limits_(limits), usage_(usage) {}

  absl::StatusOr<std::map<std::string, std::string>> Read(absl::string_view data) {
    if (data.size() < 2 || static_cast<unsigned char>(data[0]) != 0x1f ||
        static_cast<unsigned char>(data[1]) != 0x8b) {
      return Error("not a gzip file");
    }
    ArchiveReader a(archive_read_new());
    if (a == nullptr) return absl::ResourceExhaustedError("archive_read_new failed");
    // gzip only: with no other filter enabled libarchive would also pass an
    // uncompressed tar through, which the magic check above already refused.
    if (archive_read_support_filter_gzip(a.get()) != ARCHIVE_OK ||
        archive_read_support_format_tar(a.get()) != ARCHIVE_OK) {
      return absl::InternalError(absl::StrCat("libarchive: ", LibarchiveError(a.get())));
    }
    if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
      return Error(LibarchiveError(a.get()));
    }
    std::map<std::string, std::string> files;
    std::vector<char> chunk(kReadChunk);
    std::string previous;
    for (;;) {
      struct archive_entry* entry = nullptr;
      int r = archive_read_next_header(a.get(), &entry);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) {
        return Error(previous.empty() ? LibarchiveError(a.get())
                                      : absl::StrCat("after entry \"", previous,
                                                     "\": ", LibarchiveError(a.get())));
      }
      const char* raw_path = archive_entry_pathname(entry);
      std::string raw = raw_path != nullptr ? raw_path : "";
      previous = raw;
      if (++usage_.entries > limits_.max_entries) {
        return EntryError(raw,
                          absl::StrCat("is over the limit of ", limits_.max_entries, " entries"));
      }
      if (absl::StrContains(raw, '\\')) return EntryError(raw, "has a backslash in its path");
      if (absl::StartsWith(raw, "/")) return EntryError(raw, "has an absolute path");
      std::vector<absl::string_view> parts;
      for (absl::string_view part : absl::StrSplit(raw, '/')) {
        if (part.empty() || part == ".") continue;
        if (part == "..") return EntryError(raw, "has a \"..\" path component");
        parts.push_back(part);
      }
      if (const char* target = archive_entry_hardlink(entry); target != nullptr) {
        return EntryError(raw, absl::StrCat("is a hard link to \"", target, "\""));
      }
      const mode_t type = archive_entry_filetype(entry);
      if (type == AE_IFLNK) {
        const char* target = archive_entry_symlink(entry);
        return EntryError(
            raw, absl::StrCat("is a symlink to \"", target != nullptr ? target : "", "\""));
      }
      if (type != AE_IFREG && type != AE_IFDIR) {
        return EntryError(raw, "is a device, fifo or socket");
      }
      if (parts.empty()) continue;  // "./": the archive's own root
      if (type == AE_IFREG && parts.size() == 1) {
        return EntryError(raw, "is not inside a top-level directory");
      }
      if (top_.empty()) {
        top_ = std::string(parts[0]);
      } else if (parts[0] != top_) {
        return EntryError(raw, absl::StrCat("is outside the top-level directory \"", top_, "\""));
      }
      if (type == AE_IFDIR) continue;

      // Bounded before anything is inflated: the header states the size.
      const int64_t declared = archive_entry_size_is_set(entry) ? archive_entry_size(entry) : 0;
      if (declared > limits_.max_file_bytes) return FileTooLarge(raw, declared);
      if (declared > limits_.max_total_bytes - usage_.bytes) return TotalTooLarge(raw);
      std::string content;
      content.reserve(static_cast<size_t>(declared));
      for (;;) {
        la_ssize_t n = archive_read_data(a.get(), chunk.data(), chunk.size());
        if (n < 0) return EntryError(raw, LibarchiveError(a.get()), ":");
        if (n == 0) break;
        // Also bounded while reading, should a header understate its size.
        const int64_t size = static_cast<int64_t>(content.size()) + n;
        if (size > limits_.max_file_bytes) return FileTooLarge(raw, size);
        if (size > limits_.max_total_bytes - usage_.bytes) return TotalTooLarge(raw);
        content.append(chunk.data(), static_cast<size_t>(n));
      }
      usage_.bytes += static_cast<int64_t>(content.size());
      files[absl::StrJoin(parts.begin() + 1, parts.end(), "/")] = std::move(content);
    }
    if (files.empty()) return Error("no files in the chart archive");
    return files;
  }

 private:
  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": ", message));
  }
  absl::Status EntryError(absl::string_view path, absl::string_view message,
                          absl::string_view separator = "") const {
    return Error(absl::StrCat("entry \"", path, "\"", separator, " ", message));
  }
  absl::Status FileTooLarge(absl::string_view path, int64_t size) const {
    return EntryError(path, absl::StrCat("is ", size, " bytes, over the per-file limit of ",
                                         limits_.max_file_bytes, " bytes"));
  }
  absl::Status TotalTooLarge(absl::string_view path) const {
    return EntryError(path, absl::StrCat("takes the chart over its limit of ",
                                         limits_.max_total_bytes, " bytes uncompressed"));
  }

  const std::string name_;
  const ArchiveLimits& limits_;
  ArchiveUsage& usage_;
  std::string top_;
};

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ReadChartArchive(absl::string_view data,
                                                                    absl::string_view name,
                                                                    const ArchiveLimits& limits,
                                                                    ArchiveUsage* usage) {
  ArchiveUsage local;
  return Reader(name, limits, usage != nullptr ? *usage : local).Read(data);
}

bool IsChartArchiveName(absl::string_view path) {
  return absl::EndsWith(path, ".tgz") || absl::EndsWith(path, ".tar.gz");
}

}  // namespace flotilla::common::helm
