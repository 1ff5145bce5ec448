#include "common/scan/directory_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fs.h"

namespace flotilla::common {
namespace {

bool UnsafeName(const std::string& name) {
  return name.empty() || name == "." || name == ".." || name.find('\\') != std::string::npos ||
         name.find('\0') != std::string::npos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectoryTree>> DirectoryTree::Open(const std::string& root) {
  struct stat st {};
  if (stat(root.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(root, ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(root, ": not a directory"));
  }
  // Resolved once, so a root given as a symlink is that directory; nothing
  // below it is followed.
  std::error_code ec;
  std::string clean = std::filesystem::canonical(root, ec).string();
  if (ec) return absl::FailedPreconditionError(absl::StrCat(root, ": ", ec.message()));
  return std::unique_ptr<DirectoryTree>(new DirectoryTree(std::move(clean)));
}

absl::StatusOr<std::vector<TreeEntry>> DirectoryTree::List(std::string_view dir) const {
  // Normalised to "a/b": empty and "." components dropped, ".." refused.
  std::string rel;
  for (absl::string_view part :
       absl::StrSplit(absl::string_view(dir.data(), dir.size()), '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          "path \"", absl::string_view(dir.data(), dir.size()), "\" leaves the directory"));
    }
    absl::StrAppend(&rel, rel.empty() ? "" : "/", part);
  }
  // No symlink on the way down to `dir` is followed either.
  std::string walked;
  for (absl::string_view part : absl::StrSplit(rel, '/', absl::SkipEmpty())) {
    absl::StrAppend(&walked, walked.empty() ? "" : "/", part);
    struct stat pst {};
    if (lstat(absl::StrCat(root_, "/", walked).c_str(), &pst) != 0 || !S_ISDIR(pst.st_mode)) {
      return absl::NotFoundError(absl::StrCat("\"", rel, "\" is not a directory in ", root_));
    }
  }
  const std::string start = rel.empty() ? root_ : absl::StrCat(root_, "/", rel);
  struct stat st {};
  if (lstat(start.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::NotFoundError(
        absl::StrCat("\"", rel.empty() ? "." : rel, "\" is not a directory in ", root_));
  }
  std::vector<TreeEntry> out;
  // Iterative walk; symlinks are entries, never descended.
  std::vector<std::string> pending = {rel};
  while (!pending.empty()) {
    std::string current = std::move(pending.back());
    pending.pop_back();
    const std::string abs = current.empty() ? root_ : absl::StrCat(root_, "/", current);
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(abs, ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      std::string name = it->path().filename().string();
      std::string path = current.empty() ? name : absl::StrCat(current, "/", name);
      if (UnsafeName(name)) {
        return absl::InvalidArgumentError(absl::StrCat("unsafe file name \"", path, "\""));
      }
      if (name == ".git") continue;  // a checkout's repository, never content
      struct stat est {};
      if (lstat(it->path().c_str(), &est) != 0) continue;  // vanished meanwhile
      TreeEntry e;
      e.path = path;
      if (S_ISDIR(est.st_mode)) {
        pending.push_back(path);
        continue;
      } else if (S_ISLNK(est.st_mode)) {
        e.kind = TreeEntry::Kind::kSymlink;
      } else if (S_ISREG(est.st_mode)) {
        e.kind = TreeEntry::Kind::kFile;
        e.executable = (est.st_mode & S_IXUSR) != 0;
      } else {
        continue;  // sockets, devices, fifos: nothing Git could hold
      }
      e.size = static_cast<uint64_t>(est.st_size);
      out.push_back(std::move(e));
      if (out.size() > kMaxEntries) {
        return absl::ResourceExhaustedError(
            absl::StrCat(root_, " has more than ", kMaxEntries, " files"));
      }
    }
    if (ec) return absl::UnavailableError(absl::StrCat("cannot list ", abs, ": ", ec.message()));
  }
  std::sort(out.begin(), out.end(),
            [](const TreeEntry& a, const TreeEntry& b) { return a.path < b.path; });
  return out;
}

absl::StatusOr<std::string> DirectoryTree::Read(const TreeEntry& entry, uint64_t max_size) const {
  for (absl::string_view part : absl::StrSplit(entry.path, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat("path \"", entry.path, "\" is not inside the directory"));
    }
  }
  const std::string abs = absl::StrCat(root_, "/", entry.path);
  struct stat st {};
  if (lstat(abs.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(entry.path, ": ", std::strerror(errno)));
  }
  if (static_cast<uint64_t>(st.st_size) > max_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(entry.path, " is ", st.st_size, " bytes, over the limit of ", max_size));
  }
  if (S_ISLNK(st.st_mode)) {
    std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
    ssize_t n = readlink(abs.c_str(), target.data(), target.size());
    if (n < 0) return absl::UnavailableError(absl::StrCat(entry.path, ": ", std::strerror(errno)));
    target.resize(static_cast<size_t>(n));
    return target;
  }
  auto data = ReadFile(abs);
  if (!data.ok()) return data.status();
  if (data->size() > max_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(entry.path, " is over the limit of ", max_size, " bytes"));
  }
  return *data;
}

}  // namespace flotilla::common
