#include "common/render/overlays.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/render/patch.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

constexpr absl::string_view kOverlaysDir = "overlays/";

std::string StringField(const Json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

// What a patch document names: kind, apiVersion, metadata.name and
// metadata.namespace, each only if set.
struct Identity {
  std::string kind, api_version, name, ns;

  static Identity Of(const Json& doc) {
    Identity id;
    if (!doc.is_object()) return id;
    id.kind = StringField(doc, "kind");
    id.api_version = StringField(doc, "apiVersion");
    if (auto m = doc.find("metadata"); m != doc.end() && m->is_object()) {
      id.name = StringField(*m, "name");
      id.ns = StringField(*m, "namespace");
    }
    return id;
  }
  bool empty() const { return kind.empty() && api_version.empty() && name.empty() && ns.empty(); }
  // Whether `doc` has every field this identity sets.
  bool Matches(const Json& doc) const {
    Identity other = Of(doc);
    return (kind.empty() || kind == other.kind) &&
           (api_version.empty() || api_version == other.api_version) &&
           (name.empty() || name == other.name) && (ns.empty() || ns == other.ns);
  }
  std::string ToString() const {
    std::vector<std::string> parts;
    if (!api_version.empty()) parts.push_back(api_version);
    parts.push_back(kind.empty() ? "object" : kind);
    if (!name.empty()) parts.push_back(absl::StrCat("named \"", name, "\""));
    if (!ns.empty()) parts.push_back(absl::StrCat("in namespace \"", ns, "\""));
    return absl::StrJoin(parts, " ");
  }
};

std::string DocumentLabel(const Json& doc, size_t index, size_t count) {
  Identity id = Identity::Of(doc);
  std::string label = count > 1 ? absl::StrCat("document ", index + 1) : "";
  if (!id.kind.empty() && !id.name.empty()) {
    absl::StrAppend(&label, label.empty() ? "" : ", ", id.kind, " ", id.name);
  }
  return label.empty() ? "" : absl::StrCat(" (", label, ")");
}

}  // namespace

absl::StatusOr<std::vector<std::string>> OverlayNames(const Json& options) {
  std::vector<std::string> names;
  if (!options.is_object()) return names;
  auto yaml = options.find("yaml");
  if (yaml == options.end() || yaml->is_null()) return names;
  if (!yaml->is_object()) return absl::InvalidArgumentError("yaml: must be a map");
  auto overlays = yaml->find("overlays");
  if (overlays == yaml->end() || overlays->is_null()) return names;
  if (!overlays->is_array()) {
    return absl::InvalidArgumentError("yaml.overlays: must be a list of overlay names");
  }
  for (size_t i = 0; i < overlays->size(); ++i) {
    const Json& name = (*overlays)[i];
    if (!name.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("yaml.overlays[", i, "]: must be a string, not ", name.dump()));
    }
    names.push_back(name.get<std::string>());
  }
  return names;
}

std::optional<std::string> PatchTarget(absl::string_view path) {
  size_t slash = path.rfind('/');
  size_t base = slash == absl::string_view::npos ? 0 : slash + 1;
  size_t at = path.find("_patch.", base);
  if (at == absl::string_view::npos) return std::nullopt;
  return absl::StrCat(path.substr(0, at), path.substr(at + 6));  // drop "_patch"
}

absl::StatusOr<std::string> PatchFile(const std::string& target_path,
                                      const std::string& target_content,
                                      const std::string& patch_path,
                                      const std::string& patch_content) {
  // Errors from parsing already read "<file>:<line>:<column>: <problem>".
  ASSIGN_OR_RETURN(std::vector<Json> patches, ParseYamlDocuments(patch_content, patch_path));
  if (patches.empty()) return target_content;
  auto parsed = ParseYamlDocuments(target_content, target_path);
  if (!parsed.ok()) {
    return Annotate(parsed.status(), absl::StrCat(patch_path, ": patching ", target_path));
  }
  std::vector<Json> docs = *std::move(parsed);
  if (docs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(patch_path, ": ", target_path, " has no document to patch"));
  }
  for (size_t p = 0; p < patches.size(); ++p) {
    const Json& patch = patches[p];
    std::string where =
        patches.size() > 1 ? absl::StrCat(patch_path, " (document ", p + 1, ")") : patch_path;
    // Which documents of the target this patch applies to.
    std::vector<size_t> chosen;
    Identity id = Identity::Of(patch);
    if (docs.size() == 1 || !patch.is_object() || id.empty()) {
      chosen.push_back(0);
    } else {
      for (size_t d = 0; d < docs.size(); ++d) {
        if (id.Matches(docs[d])) chosen.push_back(d);
      }
      if (chosen.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": no document in ", target_path,
                                                       " is a ", id.ToString(), " to patch"));
      }
    }
    for (size_t d : chosen) {
      auto patched = ApplyPatch(docs[d], patch);
      if (!patched.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": cannot patch ", target_path,
                                                       DocumentLabel(docs[d], d, docs.size()), ": ",
                                                       patched.status().message()));
      }
      docs[d] = *std::move(patched);
    }
  }
  return ToYamlDocuments(docs);
}

absl::StatusOr<BundleFiles> ApplyOverlays(const BundleFiles& files,
                                          const std::vector<std::string>& overlays) {
  BundleFiles out = files;
  for (const std::string& overlay : overlays) {
    std::string prefix = absl::StrCat(kOverlaysDir, overlay, "/");
    // Snapshot the overlay's files first: applying them changes `out`.
    struct OverlayFile {
      std::string source;    // overlays/<name>/<relative>
      std::string relative;  // the bundle file it replaces or patches
      std::string content;
    };
    std::vector<OverlayFile> replacements, patches;
    for (auto it = out.lower_bound(prefix); it != out.end() && absl::StartsWith(it->first, prefix);
         ++it) {
      std::string relative = it->first.substr(prefix.size());
      if (std::optional<std::string> target = PatchTarget(relative)) {
        patches.push_back({it->first, *target, it->second});
      } else {
        replacements.push_back({it->first, relative, it->second});
      }
    }
    for (auto& r : replacements) out[r.relative] = std::move(r.content);
    for (const auto& p : patches) {
      auto it = out.find(p.relative);
      if (it == out.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(p.source, ": there is no file ", p.relative, " to patch"));
      }
      ASSIGN_OR_RETURN(it->second, PatchFile(p.relative, it->second, p.source, p.content));
    }
  }
  for (auto it = out.lower_bound(std::string(kOverlaysDir));
       it != out.end() && absl::StartsWith(it->first, kOverlaysDir);) {
    it = out.erase(it);
  }
  return out;
}

}  // namespace flotilla::common
