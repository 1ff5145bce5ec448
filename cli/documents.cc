#include "cli/documents.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flotilla::cli {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

absl::Status ReadError(const std::string& path, int error) {
  return absl::InvalidArgumentError(absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
}

bool IsSeparator(absl::string_view line) {
  return absl::StripTrailingAsciiWhitespace(line) == "---";
}

// Blank lines and comments only: nothing the manager could parse.
bool IsEmptyDocument(absl::string_view doc) {
  for (absl::string_view line : absl::StrSplit(doc, '\n')) {
    absl::string_view content = absl::StripAsciiWhitespace(line);
    if (!content.empty() && !absl::StartsWith(content, "#")) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> ReadInput(const std::string& path, std::istream& stdin_stream) {
  if (path == "-") {
    std::string text(std::istreambuf_iterator<char>(stdin_stream), {});
    if (stdin_stream.bad()) return absl::InvalidArgumentError("cannot read standard input");
    return text;
  }
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return ReadError(path, errno);
  std::string text;
  char buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, n);
  // A directory opens fine and fails here, with EISDIR.
  if (std::ferror(file.get())) return ReadError(path, errno);
  return text;
}

std::vector<std::string> SplitYamlDocuments(absl::string_view text) {
  std::vector<std::string> docs;
  std::string current;
  auto flush = [&] {
    if (!IsEmptyDocument(current)) docs.push_back(std::move(current));
    current.clear();
  };
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (IsSeparator(line)) {
      flush();
      continue;
    }
    absl::StrAppend(&current, line, "\n");
  }
  // StrSplit yields a final empty piece after a trailing newline; drop the
  // extra "\n" it added so documents keep their original ending.
  if (absl::EndsWith(text, "\n") && absl::EndsWith(current, "\n")) current.pop_back();
  flush();
  return docs;
}

}  // namespace flotilla::cli
