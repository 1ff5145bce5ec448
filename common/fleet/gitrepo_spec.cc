#include "common/fleet/gitrepo_spec.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"
#include "re2/re2.h"

namespace flotilla::common {
namespace {

absl::Status FieldError(const YamlDocument& doc, const std::string& pointer,
                        absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(doc.Where(pointer), ": ", field, ": ", problem));
}

// Fleet GitRepo spec fields that Flotilla does not implement yet. They are
// refused rather than ignored so nobody believes they took effect.
constexpr absl::string_view kNotYetSupported[] = {"ociRegistrySecret", "imageScanInterval",
                                                  "imageScanCommit"};

// A relative path inside the repository: no "..", no backslash; a leading
// "/" is dropped as Fleet does. "" becomes ".".
absl::StatusOr<std::string> RepoPath(std::string p) {
  size_t start = p.find_first_not_of('/');
  p.erase(0, start == std::string::npos ? p.size() : start);
  for (absl::string_view part : absl::StrSplit(p, '/')) {
    if (part == "..")
      return absl::InvalidArgumentError(
          absl::StrCat("\"", p, "\" must stay inside the repository"));
  }
  if (p.find('\\') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("\"", p, "\" must use '/' separators"));
  }
  return p.empty() ? std::string(".") : p;
}

}  // namespace

absl::Status ValidateObjectName(absl::string_view kind, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= 253;
  for (char c : name) {
    ok = ok && (absl::ascii_islower(static_cast<unsigned char>(c)) ||
                absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.');
  }
  ok = ok && absl::ascii_isalnum(static_cast<unsigned char>(name.front())) &&
       absl::ascii_isalnum(static_cast<unsigned char>(name.back()));
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat(kind, " name \"", name,
                     "\" is invalid: use lowercase letters, digits, '-' and '.', starting and "
                     "ending with a letter or digit (at most 253 characters)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<GitRepoSpec> ParseGitRepo(absl::string_view text, absl::string_view filename) {
  ASSIGN_OR_RETURN(auto docs, ParseYamlDocumentsWithPositions(text, filename));
  if (docs.size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": expected one GitRepo document, found ", docs.size()));
  }
  const YamlDocument& doc = docs[0];
  const Json& v = doc.value;
  if (!v.is_object()) return FieldError(doc, "", "GitRepo", "must be a mapping");
  GitRepoSpec spec;
  // Not Json::value(), which throws when the field is there but not a string.
  auto text_of = [&v](const char* key) {
    auto it = v.find(key);
    if (it == v.end() || it->is_null()) return std::string();
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  std::string api = text_of("apiVersion");
  if (api != "fleet.cattle.io/v1alpha1") {
    return FieldError(doc, "/apiVersion", "apiVersion",
                      absl::StrCat("\"", api, "\" is not fleet.cattle.io/v1alpha1"));
  }
  if (text_of("kind") != "GitRepo") {
    return FieldError(doc, "/kind", "kind",
                      absl::StrCat("\"", text_of("kind"), "\" is not GitRepo"));
  }
  for (const auto& [k, fv] : v.items()) {
    if (k != "apiVersion" && k != "kind" && k != "metadata" && k != "spec" && k != "status") {
      return FieldError(doc, "/" + k, k, "unknown field");
    }
  }
  const Json& meta = v.contains("metadata") ? v["metadata"] : Json();
  if (!meta.is_object() || !meta.contains("name") || !meta["name"].is_string()) {
    return FieldError(doc, "/metadata", "metadata.name", "is required");
  }
  spec.name = meta["name"].get<std::string>();
  if (auto st = ValidateObjectName("GitRepo", spec.name); !st.ok()) {
    return FieldError(doc, "/metadata/name", "metadata.name", st.message());
  }
  if (meta.contains("namespace") && meta["namespace"].is_string()) {
    spec.namespace_ = meta["namespace"].get<std::string>();
  }
  const Json& s = v.contains("spec") ? v["spec"] : Json();
  if (!s.is_object()) return FieldError(doc, "/spec", "spec", "is required");
  for (const auto& [k, fv] : s.items()) {
    std::string at = "/spec/" + k;
    std::string field = "spec." + k;
    auto str = [&](std::string* out) -> absl::Status {
      if (fv.is_null()) return absl::OkStatus();
      if (!fv.is_string()) return FieldError(doc, at, field, "must be a string");
      *out = fv.get<std::string>();
      return absl::OkStatus();
    };
    auto boolean = [&](bool* out) -> absl::Status {
      if (fv.is_null()) return absl::OkStatus();
      if (!fv.is_boolean()) return FieldError(doc, at, field, "must be true or false");
      *out = fv.get<bool>();
      return absl::OkStatus();
    };
    if (k == "repo") {
      RETURN_IF_ERROR(str(&spec.repo));
    } else if (k == "branch") {
      RETURN_IF_ERROR(str(&spec.branch));
    } else if (k == "revision") {
      RETURN_IF_ERROR(str(&spec.revision));
    } else if (k == "targetNamespace") {
      RETURN_IF_ERROR(str(&spec.target_namespace));
    } else if (k == "paths") {
      if (fv.is_null()) continue;
      if (!fv.is_array()) return FieldError(doc, at, field, "must be a list of strings");
      for (size_t i = 0; i < fv.size(); ++i) {
        if (!fv[i].is_string()) {
          return FieldError(doc, absl::StrCat(at, "/", i), absl::StrCat(field, "[", i, "]"),
                            "must be a string");
        }
        auto p = RepoPath(fv[i].get<std::string>());
        if (!p.ok()) {
          return FieldError(doc, absl::StrCat(at, "/", i), absl::StrCat(field, "[", i, "]"),
                            p.status().message());
        }
        spec.paths.push_back(*p);
      }
    } else if (k == "bundles") {
      if (fv.is_null()) continue;
      if (!fv.is_array()) return FieldError(doc, at, field, "must be a list of {base, options}");
      for (size_t i = 0; i < fv.size(); ++i) {
        std::string item_at = absl::StrCat(at, "/", i);
        std::string item = absl::StrCat(field, "[", i, "]");
        if (!fv[i].is_object()) return FieldError(doc, item_at, item, "must be a mapping");
        BundlePath bp;
        for (const auto& [bk, bv] : fv[i].items()) {
          if (bk != "base" && bk != "options") {
            return FieldError(doc, item_at + "/" + bk, item + "." + bk, "unknown field");
          }
          if (bv.is_null()) continue;
          if (!bv.is_string()) {
            return FieldError(doc, item_at + "/" + bk, item + "." + bk, "must be a string");
          }
          auto p = RepoPath(bv.get<std::string>());
          if (!p.ok())
            return FieldError(doc, item_at + "/" + bk, item + "." + bk, p.status().message());
          (bk == "base" ? bp.base : bp.options) = *p;
        }
        if (bp.base.empty()) return FieldError(doc, item_at, item + ".base", "is required");
        if (bp.options == ".") bp.options.clear();
        spec.bundles.push_back(std::move(bp));
      }
    } else if (k == "targets") {
      if (fv.is_null()) continue;
      if (!fv.is_array()) return FieldError(doc, at, field, "must be a list");
      for (size_t i = 0; i < fv.size(); ++i) {
        auto t = ParseBundleTarget(doc, absl::StrCat(at, "/", i), false);
        if (!t.ok()) return t.status();
        spec.targets.push_back(std::move(*t));
      }
    } else if (k == "pollingInterval") {
      if (fv.is_null()) continue;
      absl::Duration d;
      // Fleet: "0" (or an unset field) means the default of 15s.
      if (fv.is_string() && fv.get<std::string>() == "0") continue;
      if (!fv.is_string() || !absl::ParseDuration(fv.get<std::string>(), &d) ||
          d < absl::Seconds(1)) {
        return FieldError(doc, at, field,
                          "must be a duration of at least 1s, like \"15s\", \"1m\" or \"1h\"");
      }
      spec.polling_interval = d;
    } else if (k == "serviceAccount") {
      RETURN_IF_ERROR(str(&spec.service_account));
    } else if (k == "clientSecretName") {
      RETURN_IF_ERROR(str(&spec.client_secret_name));
    } else if (k == "helmSecretName") {
      RETURN_IF_ERROR(str(&spec.helm_secret_name));
    } else if (k == "helmSecretNameForPaths") {
      RETURN_IF_ERROR(str(&spec.helm_secret_name_for_paths));
    } else if (k == "helmRepoURLRegex") {
      RETURN_IF_ERROR(str(&spec.helm_repo_url_regex));
      // Checked now, so a typo is the apply's error rather than every
      // bundle's download error later.
      RE2::Options quiet;
      quiet.set_log_errors(false);
      RE2 re(spec.helm_repo_url_regex, quiet);
      if (!re.ok()) {
        return FieldError(doc, at, field,
                          absl::StrCat("is not a valid regular expression: ", re.error()));
      }
    } else if (k == "webhookSecret") {
      RETURN_IF_ERROR(str(&spec.webhook_secret));
    } else if (k == "insecureSkipTLSVerify") {
      RETURN_IF_ERROR(boolean(&spec.insecure_skip_tls_verify));
    } else if (k == "caBundle") {
      // []byte in Fleet's Go type: base64 in YAML. A PEM given as plain text
      // is accepted too.
      std::string raw;
      RETURN_IF_ERROR(str(&raw));
      std::string pem;
      if (absl::StrContains(raw, "-----BEGIN")) {
        pem = raw;
      } else if (!absl::Base64Unescape(absl::StripAsciiWhitespace(raw), &pem) ||
                 !absl::StrContains(pem, "-----BEGIN CERTIFICATE-----")) {
        return FieldError(doc, at, field, "must be a base64-encoded PEM certificate bundle");
      }
      spec.ca_bundle = pem;
    } else if (k == "forceSyncGeneration") {
      if (fv.is_null()) continue;
      if (!fv.is_number_integer()) return FieldError(doc, at, field, "must be an integer");
      spec.force_sync_generation = fv.get<int64_t>();
    } else if (k == "correctDrift") {
      if (fv.is_null()) continue;
      if (!fv.is_object()) {
        return FieldError(doc, at, field, "must be a mapping {enabled, force, keepFailHistory}");
      }
      for (const auto& [ck, cv] : fv.items()) {
        bool* out = ck == "enabled"           ? &spec.correct_drift.enabled
                    : ck == "force"           ? &spec.correct_drift.force
                    : ck == "keepFailHistory" ? &spec.correct_drift.keep_fail_history
                                              : nullptr;
        if (out == nullptr)
          return FieldError(doc, at + "/" + ck, field + "." + ck, "unknown field");
        if (cv.is_null()) continue;
        if (!cv.is_boolean()) {
          return FieldError(doc, at + "/" + ck, field + "." + ck, "must be true or false");
        }
        *out = cv.get<bool>();
      }
    } else if (k == "disablePolling") {
      RETURN_IF_ERROR(boolean(&spec.disable_polling));
    } else if (k == "paused") {
      RETURN_IF_ERROR(boolean(&spec.paused));
    } else if (k == "keepResources") {
      RETURN_IF_ERROR(boolean(&spec.keep_resources));
    } else if (k == "deleteNamespace") {
      RETURN_IF_ERROR(boolean(&spec.delete_namespace));
    } else {
      bool later = false;
      for (auto n : kNotYetSupported) later = later || n == k;
      if (later) {
        return FieldError(doc, at, field,
                          "is a Fleet field this Flotilla version does not support yet "
                          "(see docs/fleet-compat.md)");
      }
      return FieldError(doc, at, field, "unknown field");
    }
  }
  if (spec.repo.empty()) return FieldError(doc, "/spec", "spec.repo", "is required");
  if (spec.branch.empty() && spec.revision.empty()) spec.branch = "master";
  if (spec.paths.empty()) spec.paths.push_back(".");
  if (spec.targets.empty()) {
    BundleTarget def;
    def.name = "default";
    def.cluster_group = "default";
    spec.targets.push_back(def);
  }
  return spec;
}

}  // namespace flotilla::common
