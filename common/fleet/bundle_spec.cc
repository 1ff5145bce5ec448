#include "common/fleet/bundle_spec.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "common/fleet/rollout.h"
#include "common/status_macros.h"

namespace flotilla::common {

absl::Status ValidateOptions(const YamlDocument& doc, const std::string& pointer,
                             const Json& options, absl::string_view where);

namespace {

absl::Status FieldError(const YamlDocument& doc, const std::string& pointer,
                        absl::string_view field, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(doc.Where(pointer), ": ", field, ": ", problem));
}

// rolloutStrategy as Fleet reads it, plus Flotilla's excludeOfflineClusters:
// limits are an int or a percentage, partitions are targets with a name and
// their own maxUnavailable. Checked when fleet.yaml is read, so a typo is a
// bundle error rather than a stalled rollout.
absl::Status ValidateRolloutStrategy(const YamlDocument& doc, const std::string& at,
                                     const Json& strategy) {
  for (const auto& [k, fv] : strategy.items()) {
    const std::string field_at = absl::StrCat(at, "/", k);
    const std::string what = absl::StrCat(doc.Where(field_at), ": rolloutStrategy.", k);
    if (fv.is_null()) continue;
    if (k == "maxUnavailable" || k == "maxUnavailablePartitions" || k == "autoPartitionSize") {
      RETURN_IF_ERROR(RolloutLimit(10, fv, nullptr, what).status());
    } else if (k == "autoPartitionThreshold" || k == "maxNew") {
      if (!fv.is_number_integer()) return FieldError(doc, field_at, k, "must be an integer");
    } else if (k == "excludeOfflineClusters") {
      if (!fv.is_boolean()) return FieldError(doc, field_at, k, "must be true or false");
    } else if (k == "partitions") {
      if (!fv.is_array()) return FieldError(doc, field_at, k, "must be a list");
      for (size_t i = 0; i < fv.size(); ++i) {
        const std::string p_at = absl::StrCat(field_at, "/", i);
        RETURN_IF_ERROR(ParseBundleTarget(doc, p_at, true).status());
        if (fv[i].contains("maxUnavailable") && !fv[i]["maxUnavailable"].is_null()) {
          RETURN_IF_ERROR(
              RolloutLimit(10, fv[i]["maxUnavailable"], nullptr,
                           absl::StrCat(doc.Where(p_at + "/maxUnavailable"),
                                        ": rolloutStrategy.partitions[", i, "].maxUnavailable"))
                  .status());
        }
      }
    }
    // Other keys are ignored, as Fleet ignores unknown fields.
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<BundleTarget>> TargetList(const YamlDocument& doc,
                                                     const std::string& key, bool allow_options) {
  std::vector<BundleTarget> out;
  // find(), not operator[]: a const Json asserts on a missing key.
  auto it = doc.value.find(key);
  if (it == doc.value.end() || it->is_null()) return out;
  const Json& v = *it;
  if (!v.is_array()) return FieldError(doc, "/" + key, key, "must be a list");
  for (size_t i = 0; i < v.size(); ++i) {
    auto t = ParseBundleTarget(doc, absl::StrCat("/", key, "/", i), allow_options);
    if (!t.ok()) return t.status();
    // Fleet's default name for an unnamed customization.
    if (t->name.empty()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "target%03zu", i);
      t->name = buf;
    }
    out.push_back(std::move(*t));
  }
  return out;
}

absl::StatusOr<BundleSpec> FromDocument(const YamlDocument& doc) {
  BundleSpec spec;
  const Json& v = doc.value;
  if (v.is_null()) return spec;
  if (!v.is_object()) return FieldError(doc, "", "fleet.yaml", "must be a mapping");
  for (const auto& [k, fv] : v.items()) {
    std::string at = "/" + k;
    if (k == "name") {
      if (!fv.is_null() && !fv.is_string()) return FieldError(doc, at, k, "must be a string");
      if (fv.is_string()) spec.name = fv.get<std::string>();
    } else if (k == "labels") {
      if (fv.is_null()) continue;
      if (!fv.is_object()) return FieldError(doc, at, k, "must be a mapping of strings");
      for (const auto& [lk, lv] : fv.items()) {
        if (!lv.is_string()) {
          return FieldError(doc, at + "/" + lk, "labels." + lk, "must be a string");
        }
        auto st = ValidateLabelKey(lk);
        if (st.ok()) st = ValidateLabelValue(lk, lv.get<std::string>());
        if (!st.ok()) return FieldError(doc, at + "/" + lk, "labels", st.message());
        spec.labels[lk] = lv.get<std::string>();
      }
    } else if (k == "targetCustomizationMode") {
      if (fv.is_null()) continue;
      if (!fv.is_string() || (fv != "FirstMatch" && fv != "AllMatches")) {
        return FieldError(doc, at, k, "must be FirstMatch or AllMatches");
      }
      spec.target_customization_mode = fv.get<std::string>();
    } else if (k == "paused") {
      if (!fv.is_null() && !fv.is_boolean()) return FieldError(doc, at, k, "must be true or false");
      spec.paused = fv.is_boolean() && fv.get<bool>();
    } else if (k == "dependsOn") {
      if (!fv.is_null() && !fv.is_array()) return FieldError(doc, at, k, "must be a list");
      if (fv.is_array()) spec.depends_on = fv;
    } else if (k == "rolloutStrategy") {
      if (!fv.is_null() && !fv.is_object()) return FieldError(doc, at, k, "must be a mapping");
      if (fv.is_object()) {
        RETURN_IF_ERROR(ValidateRolloutStrategy(doc, at, fv));
        spec.rollout_strategy = fv;
      }
    } else if (k == "imageScans") {
      if (!fv.is_null() && !(fv.is_array() && fv.empty())) {
        return FieldError(doc, at, k, "image scanning is not enabled in this manager");
      }
    } else if (IsDeploymentOptionKey(k)) {
      spec.options[k] = fv;
    }
    // targetCustomizations / overrideTargets below; other keys are ignored as
    // Fleet ignores them.
  }
  RETURN_IF_ERROR(ValidateOptions(doc, "", spec.options, ""));
  ASSIGN_OR_RETURN(spec.target_customizations, TargetList(doc, "targetCustomizations", true));
  ASSIGN_OR_RETURN(spec.override_targets, TargetList(doc, "overrideTargets", false));
  return spec;
}

}  // namespace

absl::StatusOr<BundleSpec> ParseBundleSpec(absl::string_view text, absl::string_view filename) {
  ASSIGN_OR_RETURN(auto docs, ParseYamlDocumentsWithPositions(text, filename));
  if (docs.empty()) return BundleSpec{};
  if (docs.size() > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(filename, ": expected one YAML document, found ", docs.size()));
  }
  return FromDocument(docs[0]);
}

Json BundleSpec::ToJson() const {
  Json out = options;
  if (!name.empty()) out["name"] = name;
  if (!labels.empty()) out["labels"] = labels;
  if (target_customization_mode != "FirstMatch") {
    out["targetCustomizationMode"] = target_customization_mode;
  }
  for (const auto& t : target_customizations) out["targetCustomizations"].push_back(t.ToJson());
  for (const auto& t : override_targets) out["overrideTargets"].push_back(t.ToJson());
  if (paused) out["paused"] = true;
  if (!depends_on.empty()) out["dependsOn"] = depends_on;
  if (!rollout_strategy.empty()) out["rolloutStrategy"] = rollout_strategy;
  return out;
}

absl::StatusOr<BundleSpec> BundleSpec::FromJson(const Json& value) {
  YamlDocument doc;
  doc.filename = "stored bundle spec";
  doc.value = value;
  return FromDocument(doc);
}

}  // namespace flotilla::common
