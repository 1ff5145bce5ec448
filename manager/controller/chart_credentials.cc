#include "manager/controller/chart_credentials.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/scan/go_filepath.h"
#include "common/status_macros.h"
#include "common/yaml.h"

namespace flotilla::manager {
namespace {

constexpr char kSecretsPathKey[] = "secrets-path.yaml";

absl::Status SecretError(absl::string_view field, absl::string_view secret,
                         absl::string_view problem) {
  return absl::FailedPreconditionError(absl::StrCat(field, ": secret \"", secret, "\" ", problem));
}

// Go's strconv.ParseBool, which Fleet applies to the secret's flags.
std::optional<bool> ParseGoBool(absl::string_view v) {
  if (v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True") return true;
  if (v == "0" || v == "f" || v == "F" || v == "false" || v == "FALSE" || v == "False") {
    return false;
  }
  return std::nullopt;
}

// A CA bundle as PEM, or base64 of one ([]byte in Fleet's Auth type).
std::optional<std::string> PemOrBase64Pem(absl::string_view raw) {
  if (absl::StrContains(raw, "-----BEGIN")) return std::string(raw);
  std::string pem;
  if (absl::Base64Unescape(absl::StripAsciiWhitespace(raw), &pem) &&
      absl::StrContains(pem, "-----BEGIN CERTIFICATE-----")) {
    return pem;
  }
  return std::nullopt;
}

absl::StatusOr<SecretRecord> Require(const SecretLookup& get_secret, absl::string_view field,
                                     const std::string& name) {
  ASSIGN_OR_RETURN(std::optional<SecretRecord> secret, get_secret(name));
  if (!secret) {
    return SecretError(field, name,
                       absl::StrCat("does not exist (create it with `flotilla secret create "
                                    "basic-auth|generic ",
                                    name, " ...` or `flotilla apply -f`)"));
  }
  return *std::move(secret);
}

// helmSecretName: username, password, cacerts, insecureSkipVerify.
absl::Status ApplyHelmSecret(const SecretRecord& secret,
                             common::helm::ChartSourceOptions& options) {
  constexpr absl::string_view kField = "helmSecretName";
  auto value = [&](const char* key) -> const std::string* {
    auto it = secret.data.find(key);
    return it == secret.data.end() ? nullptr : &it->second;
  };
  if (const std::string* v = value("username")) options.username = *v;
  if (const std::string* v = value("password")) options.password = *v;
  if (const std::string* v = value("cacerts")) {
    if (!absl::StrContains(*v, "-----BEGIN CERTIFICATE-----")) {
      return SecretError(kField, secret.name, "key \"cacerts\" is not a PEM certificate bundle");
    }
    options.ca_bundle_pem = *v;
  }
  if (const std::string* v = value("insecureSkipVerify")) {
    std::optional<bool> b = ParseGoBool(absl::StripAsciiWhitespace(*v));
    if (!b) {
      return SecretError(kField, secret.name, "key \"insecureSkipVerify\" must be true or false");
    }
    options.insecure_skip_tls_verify = options.insecure_skip_tls_verify || *b;
  }
  return absl::OkStatus();
}

// The entry of secrets-path.yaml for `bundle_path`: the exact key, else the
// first glob in lexical order that matches (Fleet's setAuthByPath).
absl::StatusOr<std::optional<common::Json>> EntryForPath(const common::Json& by_path,
                                                         absl::string_view bundle_path,
                                                         absl::string_view secret) {
  constexpr absl::string_view kField = "helmSecretNameForPaths";
  const std::string path(bundle_path);
  if (by_path.contains(path)) return std::optional<common::Json>(by_path[path]);
  std::vector<std::string> patterns;
  for (const auto& [k, v] : by_path.items()) patterns.push_back(k);
  std::sort(patterns.begin(), patterns.end());
  for (const std::string& pattern : patterns) {
    uint64_t budget = uint64_t{1} << 20;
    switch (common::GoMatch(pattern, bundle_path, &budget)) {
      case common::GoMatchResult::kMatch:
        return std::optional<common::Json>(by_path[pattern]);
      case common::GoMatchResult::kNoMatch:
        break;
      case common::GoMatchResult::kBadPattern:
        return SecretError(kField, secret,
                           absl::StrCat("key \"", kSecretsPathKey, "\": path pattern \"", pattern,
                                        "\" is not a valid glob"));
      case common::GoMatchResult::kOverBudget:
        return SecretError(kField, secret,
                           absl::StrCat("key \"", kSecretsPathKey, "\": path pattern \"", pattern,
                                        "\" is too expensive to match"));
    }
  }
  return std::optional<common::Json>();
}

// helmSecretNameForPaths: one entry of secrets-path.yaml.
absl::Status ApplyPathEntry(const common::Json& entry, absl::string_view secret,
                            absl::string_view where, common::helm::ChartSourceOptions& options) {
  constexpr absl::string_view kField = "helmSecretNameForPaths";
  auto bad = [&](absl::string_view problem) {
    return SecretError(kField, secret,
                       absl::StrCat("key \"", kSecretsPathKey, "\": ", where, ": ", problem));
  };
  if (!entry.is_object()) return bad("must be a map of username, password, caBundle, ...");
  for (const auto& [k, v] : entry.items()) {
    if (k == "username" || k == "password") {
      if (!v.is_string()) return bad(absl::StrCat(k, " must be a string"));
      (k == "username" ? options.username : options.password) = v.get<std::string>();
    } else if (k == "caBundle") {
      std::optional<std::string> pem;
      if (v.is_string()) pem = PemOrBase64Pem(v.get<std::string>());
      if (!pem) return bad("caBundle must be a (base64-encoded) PEM certificate bundle");
      options.ca_bundle_pem = *pem;
    } else if (k == "insecureSkipVerify") {
      if (!v.is_boolean()) return bad("insecureSkipVerify must be true or false");
      options.insecure_skip_tls_verify = options.insecure_skip_tls_verify || v.get<bool>();
    } else if (k == "sshPrivateKey" || k == "sshKnownHosts" || k == "basicHTTP") {
      // Fleet's fields for git:: and OCI charts, which Flotilla does not
      // download (docs/helm-compat.md): accepted, unused.
    } else {
      return bad(absl::StrCat("unknown field \"", k,
                              "\" (known: username, password, caBundle, insecureSkipVerify)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<common::helm::ChartSourceOptions> ChartSourceForBundle(
    const common::helm::ChartSourceOptions& manager_options, const common::GitRepoSpec& spec,
    absl::string_view bundle_path, const SecretLookup& get_secret) {
  common::helm::ChartSourceOptions options = manager_options;
  options.username.clear();
  options.password.clear();
  options.credentials_url_regex = spec.helm_repo_url_regex;
  options.insecure_skip_tls_verify = spec.insecure_skip_tls_verify;
  if (!spec.helm_secret_name_for_paths.empty()) {
    const std::string& name = spec.helm_secret_name_for_paths;
    ASSIGN_OR_RETURN(SecretRecord secret, Require(get_secret, "helmSecretNameForPaths", name));
    auto it = secret.data.find(kSecretsPathKey);
    if (it == secret.data.end()) {
      return SecretError("helmSecretNameForPaths", name,
                         absl::StrCat("has no key \"", kSecretsPathKey, "\""));
    }
    absl::StatusOr<common::Json> by_path = common::ParseYaml(it->second, kSecretsPathKey);
    if (!by_path.ok()) {
      return SecretError("helmSecretNameForPaths", name,
                         absl::StrCat("key \"", kSecretsPathKey,
                                      "\" does not parse: ", by_path.status().message()));
    }
    if (by_path->is_null()) return options;
    if (!by_path->is_object()) {
      return SecretError(
          "helmSecretNameForPaths", name,
          absl::StrCat("key \"", kSecretsPathKey, "\" must map bundle paths to credentials"));
    }
    ASSIGN_OR_RETURN(std::optional<common::Json> entry, EntryForPath(*by_path, bundle_path, name));
    if (entry) {
      RETURN_IF_ERROR(
          ApplyPathEntry(*entry, name, absl::StrCat("path \"", bundle_path, "\""), options));
    }
    return options;
  }
  if (!spec.helm_secret_name.empty()) {
    ASSIGN_OR_RETURN(SecretRecord secret,
                     Require(get_secret, "helmSecretName", spec.helm_secret_name));
    RETURN_IF_ERROR(ApplyHelmSecret(secret, options));
  }
  return options;
}

}  // namespace flotilla::manager
