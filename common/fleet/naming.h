// Bundle names, as Fleet derives them (internal/names/name.go HelmReleaseName).
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace flotilla::common {

// The bundle name for the bundle directory `path` (relative to the repository
// root; "." for the root) of GitRepo `gitrepo`: join with "/", turn "/" into
// "-", append "-" + md5[:8] if the result had uppercase or characters outside
// [a-zA-Z0-9-], lowercase and sanitise, and shorten to 53 characters with a
// 5-hex-digit hash. Example: ("one", "multi-cluster/hello-world") ->
// "one-multi-cluster-hello-world".
std::string BundleName(absl::string_view gitrepo, absl::string_view path);

// Fleet's HelmReleaseName on an arbitrary string.
std::string HelmReleaseName(absl::string_view str);

// Fleet's names.Limit: at most `count` characters, a cut string ends in
// "-<5 hex of md5>".
std::string LimitName(absl::string_view s, size_t count);

}  // namespace flotilla::common
