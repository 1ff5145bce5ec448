#include "agent/apply/applier.h"

#include <tuple>

#include "absl/strings/str_cat.h"

namespace flotilla::agent {

bool ObjectRef::operator<(const ObjectRef& o) const {
  return std::tie(kind, namespace_, name, api_version) <
         std::tie(o.kind, o.namespace_, o.name, o.api_version);
}

std::string ObjectRef::ToString() const {
  if (namespace_.empty()) return absl::StrCat(kind, " ", name);
  return absl::StrCat(kind, " ", namespace_, "/", name);
}

namespace {

// The string at `object[key]`, or "" when it is absent or not a string.
std::string StringField(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

}  // namespace

absl::StatusOr<ObjectRef> RefOf(const nlohmann::json& object) {
  if (!object.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("object is not a mapping but ", object.type_name()));
  }
  ObjectRef ref;
  ref.api_version = StringField(object, "apiVersion");
  ref.kind = StringField(object, "kind");
  nlohmann::json metadata = nlohmann::json::object();
  if (auto it = object.find("metadata"); it != object.end() && it->is_object()) metadata = *it;
  ref.name = StringField(metadata, "name");
  ref.namespace_ = StringField(metadata, "namespace");

  // Say as much about the object as is known, so the author can find it.
  std::string what = ref.kind.empty() ? "object" : ref.kind;
  if (!ref.name.empty()) absl::StrAppend(&what, " ", ref.name);
  if (ref.kind.empty()) return absl::InvalidArgumentError(absl::StrCat(what, " has no kind"));
  if (ref.api_version.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has no apiVersion"));
  }
  if (ref.name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has no metadata.name"));
  }
  return ref;
}

}  // namespace flotilla::agent
