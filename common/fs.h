// Small filesystem helpers with Status errors that name the path.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::common {

absl::StatusOr<std::string> ReadFile(const std::string& path);
// Writes to a temporary file in the same directory, fsyncs, then renames over
// `path`, so a reader sees the old or the new content, never a mix.
absl::Status WriteFileAtomic(const std::string& path, absl::string_view data, int mode = 0644);
// mkdir -p with the given mode for created directories.
absl::Status MakeDirs(const std::string& path, int mode = 0755);
bool PathExists(const std::string& path);
// Removes a file; a missing file is not an error.
absl::Status RemoveFile(const std::string& path);
// Files (not directories) below `root`, as paths relative to it, sorted.
absl::StatusOr<std::vector<std::string>> ListFilesRecursive(const std::string& root);
// Removes empty directories below `root` (not `root` itself).
void RemoveEmptyDirs(const std::string& root);

}  // namespace flotilla::common
