#include "cli/secrets.h"

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace flotilla::cli {
namespace {

// DNS-1123 subdomain length, Kubernetes' limit for a key.
constexpr size_t kMaxKeyLength = 253;

absl::Status InvalidKey(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid Secret key \"", key, "\": ", why));
}

}  // namespace

absl::Status ValidateSecretKey(absl::string_view key) {
  if (key.empty()) return InvalidKey(key, "must not be empty");
  if (key.size() > kMaxKeyLength) return InvalidKey(key, "must be no more than 253 characters");
  for (char c : key) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_' && c != '.') {
      return InvalidKey(key,
                        "must consist of alphanumeric characters, '-', '_' or '.' "
                        "([-._a-zA-Z0-9]+)");
    }
  }
  if (key == "." || key == ".." || absl::StartsWith(key, "..")) {
    return InvalidKey(key, "must not be \".\" or \"..\", nor start with \"..\"");
  }
  return absl::OkStatus();
}

std::string SecretDocument(absl::string_view name, absl::string_view type,
                           const std::map<std::string, std::string>& data) {
  nlohmann::json encoded = nlohmann::json::object();
  for (const auto& [key, value] : data) encoded[key] = absl::Base64Escape(value);
  nlohmann::json document = {
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", {{"name", std::string(name)}}},
      {"type", std::string(type)},
      {"data", std::move(encoded)},
  };
  // The name is the operator's text: replace invalid UTF-8 rather than throw.
  return document.dump(2, ' ', /*ensure_ascii=*/false, nlohmann::json::error_handler_t::replace) +
         "\n";
}

}  // namespace flotilla::cli
