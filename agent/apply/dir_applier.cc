#include "agent/apply/dir_applier.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "agent/apply/drift.h"
#include "common/fs.h"
#include "common/status_macros.h"
#include "common/yaml.h"

namespace flotilla::agent {
namespace {

// Directory that holds cluster-scoped objects. Not a valid namespace name
// (Kubernetes namespaces are DNS labels), so it cannot collide with one.
constexpr char kClusterDir[] = "_cluster";

// Objects come from Git: every part of the path built from them must be one
// plain path component, or a bundle could write anywhere the agent can.
absl::Status CheckComponent(absl::string_view what, absl::string_view value) {
  if (value.empty() || value == "." || value == ".." ||
      value.find_first_of(absl::string_view("/\\\0", 3)) != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid ", what, " \"", absl::CEscape(value),
                     "\": must be a non-empty path component without '/', '\\' or NUL"));
  }
  return absl::OkStatus();
}

absl::Status CheckRef(const ObjectRef& ref) {
  RETURN_IF_ERROR(CheckComponent("kind", ref.kind));
  RETURN_IF_ERROR(CheckComponent("name", ref.name));
  if (!ref.namespace_.empty()) {
    RETURN_IF_ERROR(CheckComponent("namespace", ref.namespace_));
    if (ref.namespace_ == kClusterDir) {
      return absl::InvalidArgumentError(absl::StrCat("invalid namespace \"", kClusterDir,
                                                     "\": reserved for cluster-scoped objects"));
    }
  }
  return absl::OkStatus();
}

// The refs of `objects`, each checked to be a safe path, in request order.
absl::StatusOr<std::vector<ObjectRef>> CheckedRefs(const std::vector<nlohmann::json>& objects,
                                                   absl::string_view verb) {
  std::vector<ObjectRef> refs;
  refs.reserve(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    absl::StatusOr<ObjectRef> ref = RefOf(objects[i]);
    if (!ref.ok()) {
      return common::Annotate(ref.status(), absl::StrCat(verb, " object #", i + 1));
    }
    RETURN_IF_ERROR(common::Annotate(CheckRef(*ref), absl::StrCat(verb, " ", ref->ToString())));
    refs.push_back(*std::move(ref));
  }
  return refs;
}

// The file's content, or nullopt when it does not exist.
absl::StatusOr<std::optional<std::string>> ReadIfExists(const std::string& path) {
  absl::StatusOr<std::string> content = common::ReadFile(path);
  if (absl::IsNotFound(content.status())) return std::nullopt;
  if (!content.ok()) return content.status();
  return *std::move(content);
}

}  // namespace

DirApplier::DirApplier(std::string root) : root_(std::move(root)) {
  // Best effort here; Apply reports the error if the root still cannot be made.
  (void)common::MakeDirs(root_);
}

std::string DirApplier::PathFor(const ObjectRef& ref) const {
  return absl::StrCat(root_, "/", ref.namespace_.empty() ? kClusterDir : ref.namespace_, "/",
                      absl::AsciiStrToLower(ref.kind), "/", ref.name, ".yaml");
}

absl::StatusOr<ApplyResult> DirApplier::Apply(const ApplyRequest& request) {
  // Check everything before writing anything, so a bad object leaves the
  // directory as it was.
  ASSIGN_OR_RETURN(std::vector<ObjectRef> refs, CheckedRefs(request.objects, "apply"));
  std::map<std::string, const ObjectRef*> by_path;
  for (const ObjectRef& ref : refs) {
    auto [it, inserted] = by_path.emplace(PathFor(ref), &ref);
    if (!inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat("apply ", ref.ToString(), ": same object as ", it->second->ToString()));
    }
  }
  std::vector<const ObjectRef*> to_prune;
  if (!request.keep_resources) {
    for (const ObjectRef& old : request.previously_applied) {
      RETURN_IF_ERROR(common::Annotate(CheckRef(old), absl::StrCat("prune ", old.ToString())));
      // Compared by file, not by ref: an object whose apiVersion changed is
      // still the same object and must not be pruned.
      if (!by_path.contains(PathFor(old))) to_prune.push_back(&old);
    }
  }

  RETURN_IF_ERROR(common::MakeDirs(root_));
  ApplyResult result;
  for (size_t i = 0; i < refs.size(); ++i) {
    const ObjectRef& ref = refs[i];
    std::string context = absl::StrCat("apply ", ref.ToString());
    std::string path = PathFor(ref);
    std::string content = common::ToYaml(request.objects[i]);
    absl::StatusOr<std::optional<std::string>> on_disk = ReadIfExists(path);
    if (!on_disk.ok()) return common::Annotate(on_disk.status(), context);
    if (*on_disk != content) {
      std::string dir = path.substr(0, path.rfind('/'));
      RETURN_IF_ERROR(common::Annotate(common::MakeDirs(dir), context));
      RETURN_IF_ERROR(common::Annotate(common::WriteFileAtomic(path, content), context));
      ++result.written;
    }
  }
  for (const ObjectRef* old : to_prune) {
    std::string path = PathFor(*old);
    if (!common::PathExists(path)) continue;
    RETURN_IF_ERROR(
        common::Annotate(common::RemoveFile(path), absl::StrCat("prune ", old->ToString())));
    ++result.pruned;
  }
  if (result.pruned > 0) common::RemoveEmptyDirs(root_);

  result.applied = std::move(refs);
  std::sort(result.applied.begin(), result.applied.end());
  return result;
}

absl::Status DirApplier::Remove(const RemoveRequest& request) {
  if (request.keep_resources) return absl::OkStatus();
  for (const ObjectRef& ref : request.objects) {
    RETURN_IF_ERROR(common::Annotate(CheckRef(ref), absl::StrCat("remove ", ref.ToString())));
  }
  for (const ObjectRef& ref : request.objects) {
    RETURN_IF_ERROR(common::Annotate(common::RemoveFile(PathFor(ref)),
                                     absl::StrCat("remove ", ref.ToString())));
  }
  const std::string& ns = request.delete_namespace;
  // The namespace's directory goes with everything in it, as a Kubernetes
  // namespace takes its objects along; default and kube-* stay.
  if (!ns.empty() && ns != "default" && !absl::StartsWith(ns, "kube-")) {
    RETURN_IF_ERROR(common::Annotate(CheckComponent("namespace", ns), "deleteNamespace"));
    if (ns == kClusterDir) {
      return absl::InvalidArgumentError(
          absl::StrCat("deleteNamespace: invalid namespace \"", kClusterDir, "\""));
    }
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(root_) / ns, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("deleteNamespace: removing ", root_, "/", ns, ": ", ec.message()));
    }
  }
  common::RemoveEmptyDirs(root_);
  return absl::OkStatus();
}

absl::StatusOr<CheckResult> DirApplier::Check(const CheckRequest& request) {
  ASSIGN_OR_RETURN(std::vector<ObjectRef> refs, CheckedRefs(request.desired, "drift check"));
  CheckResult result;
  for (size_t i = 0; i < refs.size(); ++i) {
    const ObjectRef& ref = refs[i];
    if (IgnoredByComparePatches(request.compare_patches, ref)) continue;
    absl::StatusOr<std::optional<std::string>> on_disk = ReadIfExists(PathFor(ref));
    if (!on_disk.ok()) {
      return common::Annotate(on_disk.status(), absl::StrCat("drift check ", ref.ToString()));
    }
    if (!*on_disk) {
      result.modified.push_back({ref, "missing"});
      continue;
    }
    // Unchanged bytes: nothing to parse.
    if (**on_disk == common::ToYaml(request.desired[i])) continue;
    absl::StatusOr<std::vector<nlohmann::json>> live =
        common::ParseYamlDocuments(**on_disk, PathFor(ref));
    if (!live.ok() || live->size() != 1) {
      result.modified.push_back(
          {ref, absl::StrCat("modified (the file no longer holds one object",
                             live.ok() ? "" : absl::StrCat(": ", live.status().message()), ")")});
      continue;
    }
    nlohmann::json got = std::move(live->front());
    nlohmann::json want = request.desired[i];
    NormalizeForCompare(request.compare_patches, ref, got);
    NormalizeForCompare(request.compare_patches, ref, want);
    if (got == want) continue;
    nlohmann::json patch = DriftPatch(got, want);
    // A file is the whole object: fields added to it are drift too.
    result.modified.push_back({ref, patch.empty()
                                        ? "modified (fields the bundle does not set were added)"
                                        : absl::StrCat("modified ", patch.dump())});
  }
  std::sort(result.modified.begin(), result.modified.end(),
            [](const ResourceProblem& a, const ResourceProblem& b) { return a.ref < b.ref; });
  return result;
}

}  // namespace flotilla::agent
