// Input for `flotilla apply`: reading a file (or stdin) and cutting a
// multi-document YAML stream into the documents sent one by one to the manager.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace flotilla::cli {

// The whole of `path`, or of `stdin_stream` when path is "-". InvalidArgument
// naming the path and the system's reason when it cannot be read.
absl::StatusOr<std::string> ReadInput(const std::string& path, std::istream& stdin_stream);

// Splits a YAML stream on separator lines: lines that are "---" (trailing
// spaces or "\r" tolerated). Documents holding only blank lines and comments
// are dropped; the others are returned as written, without the separators.
std::vector<std::string> SplitYamlDocuments(absl::string_view text);

}  // namespace flotilla::cli
