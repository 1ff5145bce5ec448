// YAML <-> JSON. Kubernetes objects and fleet.yaml are held as nlohmann::json
// (keys sorted, so serialisation is canonical). Parsing follows the YAML 1.1
// scalar rules that sigs.k8s.io/yaml (go-yaml v2) applies, so a document means
// here what it means to kubectl and Fleet.
//
// Bad input is bounded: a document may expand (through aliases) to at most
// `max_nodes` nodes and nest at most `max_depth` levels; beyond that the parse
// fails with InvalidArgument instead of using unbounded time or memory.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace flotilla::common {

using Json = nlohmann::json;

struct YamlLimits {
  size_t max_nodes = 1'000'000;
  int max_depth = 512;
};

// Parses every document of a (multi-document) YAML stream. Empty documents
// (only comments or "---") are skipped. Errors are InvalidArgument and read
// "<filename>:<line>:<column>: <problem>". A UTF-8 BOM and CRLF line ends are
// accepted.
absl::StatusOr<std::vector<Json>> ParseYamlDocuments(absl::string_view text,
                                                     absl::string_view filename,
                                                     const YamlLimits& limits = {});
// Parses exactly one document (an empty stream gives null).
absl::StatusOr<Json> ParseYaml(absl::string_view text, absl::string_view filename,
                               const YamlLimits& limits = {});

// A parsed document with the source position of every node, so that
// validation after parsing can still name file:line:column.
struct YamlDocument {
  Json value;
  std::string filename;
  // JSON pointer ("/spec/targets/0") -> 1-based {line, column}.
  std::map<std::string, std::pair<int, int>> positions;
  // "<filename>:<line>:<column>" for the node at `pointer`, falling back to
  // its nearest ancestor that has a position, then to the filename.
  std::string Where(absl::string_view pointer) const;
};
absl::StatusOr<std::vector<YamlDocument>> ParseYamlDocumentsWithPositions(
    absl::string_view text, absl::string_view filename, const YamlLimits& limits = {});

// Block-style YAML for one value; strings that would read back as another
// type ("true", "1.0", "null", ...) are quoted so they round-trip.
std::string ToYaml(const Json& value);
// Several objects as one multi-document stream ("---" between documents).
std::string ToYamlDocuments(const std::vector<Json>& docs);

// Canonical JSON (sorted keys, no spaces): what hashes are computed over.
std::string CanonicalJson(const Json& value);

}  // namespace flotilla::common
