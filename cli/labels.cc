#include "cli/labels.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace flotilla::cli {
namespace {

constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxPrefixLength = 253;
constexpr char kNameCharset[] =
    "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool IsLabelName(absl::string_view s) {
  if (s.empty() || !absl::ascii_isalnum(s.front()) || !absl::ascii_isalnum(s.back())) {
    return false;
  }
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// RFC 1123 subdomain: dot-separated labels of [a-z0-9-] that start and end
// with [a-z0-9].
bool IsDnsSubdomain(absl::string_view s) {
  if (s.empty() || s.size() > kMaxPrefixLength) return false;
  for (absl::string_view part : absl::StrSplit(s, '.')) {
    if (part.empty() || part.front() == '-' || part.back() == '-') return false;
    for (char c : part) {
      if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
    }
  }
  return true;
}

absl::Status InvalidKey(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid label key \"", key, "\": ", why));
}

}  // namespace

absl::Status ValidateLabelKey(absl::string_view key) {
  absl::string_view name = key;
  size_t slash = key.find('/');
  if (slash != absl::string_view::npos) {
    absl::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (name.find('/') != absl::string_view::npos) {
      return InvalidKey(key, "a key has at most one '/' (an optional DNS subdomain prefix)");
    }
    if (!IsDnsSubdomain(prefix)) {
      return InvalidKey(key,
                        "prefix part must be a lowercase RFC 1123 subdomain of at most 253 "
                        "characters, e.g. example.com");
    }
  }
  if (name.empty()) return InvalidKey(key, "name part must be non-empty");
  if (name.size() > kMaxNameLength) {
    return InvalidKey(key, "name part must be no more than 63 characters");
  }
  if (!IsLabelName(name)) return InvalidKey(key, absl::StrCat("name part must ", kNameCharset));
  return absl::OkStatus();
}

absl::Status ValidateLabelValue(absl::string_view key, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  std::string why;
  if (value.size() > kMaxNameLength) {
    why = "must be no more than 63 characters";
  } else if (!IsLabelName(value)) {
    why = absl::StrCat("must be empty or ", kNameCharset);
  } else {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("invalid label value \"", value, "\" for key \"", key, "\": ", why));
}

absl::StatusOr<LabelChanges> ParseLabelChanges(absl::Span<const std::string> args) {
  LabelChanges changes;
  std::map<std::string, std::string> seen;  // key -> the argument that named it
  for (const std::string& arg : args) {
    std::string key;
    size_t eq = arg.find('=');
    bool remove = false;
    if (eq != std::string::npos) {
      key = arg.substr(0, eq);
    } else if (!arg.empty() && arg.back() == '-') {
      key = arg.substr(0, arg.size() - 1);
      remove = true;
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid label \"", arg, "\": missing \"=\" (want KEY=VALUE, or KEY- to remove)"));
    }
    if (absl::Status s = ValidateLabelKey(key); !s.ok()) return s;
    auto [it, inserted] = seen.emplace(key, arg);
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrCat("label key \"", key, "\" given twice (\"",
                                                     it->second, "\" and \"", arg, "\")"));
    }
    if (remove) {
      changes.remove.push_back(key);
      continue;
    }
    std::string value = arg.substr(eq + 1);
    if (absl::Status s = ValidateLabelValue(key, value); !s.ok()) return s;
    changes.set.emplace(key, std::move(value));
  }
  return changes;
}

absl::StatusOr<std::map<std::string, std::string>> ParseLabelAssignments(
    absl::Span<const std::string> args) {
  for (const std::string& arg : args) {
    if (arg.find('=') == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid label \"", arg, "\": missing \"=\" (want KEY=VALUE)"));
    }
  }
  absl::StatusOr<LabelChanges> changes = ParseLabelChanges(args);
  if (!changes.ok()) return changes.status();
  return std::move(changes->set);
}

}  // namespace flotilla::cli
