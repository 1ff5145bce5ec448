#include "common/selector.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/status_macros.h"

namespace flotilla::common {
namespace {

bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

bool ValidName(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsAlnum(c) || c == '-' || c == '_' || c == '.'; });
}

bool ValidDnsSubdomain(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (absl::string_view part : absl::StrSplit(s, '.')) {
    if (part.empty() || part.size() > 63) return false;
    if (!IsAlnum(part.front()) || !IsAlnum(part.back())) return false;
    for (char c : part) {
      if (!(absl::ascii_islower(static_cast<unsigned char>(c)) ||
            absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '-')) {
        return false;
      }
    }
  }
  return true;
}

const char* OpName(LabelSelectorRequirement::Op op) {
  switch (op) {
    case LabelSelectorRequirement::Op::kIn:
      return "In";
    case LabelSelectorRequirement::Op::kNotIn:
      return "NotIn";
    case LabelSelectorRequirement::Op::kExists:
      return "Exists";
    case LabelSelectorRequirement::Op::kDoesNotExist:
      return "DoesNotExist";
  }
  return "In";
}

}  // namespace

absl::Status ValidateLabelKey(absl::string_view key) {
  absl::string_view name = key;
  size_t slash = key.find('/');
  if (slash != absl::string_view::npos) {
    absl::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (!ValidDnsSubdomain(prefix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label key \"", key, "\": prefix must be a DNS subdomain (lowercase, at most 253)"));
    }
  }
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("label key \"", key,
                     "\": name must be 1-63 characters of [A-Za-z0-9._-], starting and ending "
                     "with a letter or digit"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabelValue(absl::string_view key, absl::string_view value) {
  if (value.empty()) return absl::OkStatus();
  if (!ValidName(value)) {
    return absl::InvalidArgumentError(
        absl::StrCat("label \"", key, "\": value \"", value,
                     "\" must be at most 63 characters of [A-Za-z0-9._-], starting and ending "
                     "with a letter or digit"));
  }
  return absl::OkStatus();
}

bool LabelSelector::Matches(const Labels& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& req : match_expressions) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    bool in =
        has && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    switch (req.op) {
      case LabelSelectorRequirement::Op::kIn:
        if (!in) return false;
        break;
      case LabelSelectorRequirement::Op::kNotIn:
        if (in) return false;
        break;
      case LabelSelectorRequirement::Op::kExists:
        if (!has) return false;
        break;
      case LabelSelectorRequirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

nlohmann::json LabelSelector::ToJson() const {
  nlohmann::json out = nlohmann::json::object();
  if (!match_labels.empty()) out["matchLabels"] = match_labels;
  for (const auto& req : match_expressions) {
    nlohmann::json r = {{"key", req.key}, {"operator", OpName(req.op)}};
    if (!req.values.empty()) r["values"] = req.values;
    out["matchExpressions"].push_back(r);
  }
  return out;
}

std::string LabelSelector::ToString() const {
  std::vector<std::string> parts;
  for (const auto& [k, v] : match_labels) parts.push_back(absl::StrCat(k, "=", v));
  for (const auto& req : match_expressions) {
    switch (req.op) {
      case LabelSelectorRequirement::Op::kIn:
        parts.push_back(absl::StrCat(req.key, " in (", absl::StrJoin(req.values, ","), ")"));
        break;
      case LabelSelectorRequirement::Op::kNotIn:
        parts.push_back(absl::StrCat(req.key, " notin (", absl::StrJoin(req.values, ","), ")"));
        break;
      case LabelSelectorRequirement::Op::kExists:
        parts.push_back(req.key);
        break;
      case LabelSelectorRequirement::Op::kDoesNotExist:
        parts.push_back(absl::StrCat("!", req.key));
        break;
    }
  }
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<LabelSelector> ParseLabelSelector(const nlohmann::json& value,
                                                 absl::string_view where) {
  LabelSelector sel;
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": must be a mapping"));
  }
  for (const auto& [field, v] : value.items()) {
    if (field == "matchLabels") {
      if (v.is_null()) continue;
      if (!v.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".matchLabels: must be a mapping"));
      }
      for (const auto& [k, lv] : v.items()) {
        if (!lv.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".matchLabels.", k, ": value must be a string"));
        }
        sel.match_labels[k] = lv.get<std::string>();
      }
    } else if (field == "matchExpressions") {
      if (v.is_null()) continue;
      if (!v.is_array()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".matchExpressions: must be a list"));
      }
      for (size_t i = 0; i < v.size(); ++i) {
        std::string at = absl::StrCat(where, ".matchExpressions[", i, "]");
        const auto& e = v[i];
        if (!e.is_object() || !e.contains("key") || !e["key"].is_string()) {
          return absl::InvalidArgumentError(absl::StrCat(at, ": needs a string \"key\""));
        }
        LabelSelectorRequirement req;
        req.key = e["key"].get<std::string>();
        std::string op = e.value("operator", "");
        if (op == "In") {
          req.op = LabelSelectorRequirement::Op::kIn;
        } else if (op == "NotIn") {
          req.op = LabelSelectorRequirement::Op::kNotIn;
        } else if (op == "Exists") {
          req.op = LabelSelectorRequirement::Op::kExists;
        } else if (op == "DoesNotExist") {
          req.op = LabelSelectorRequirement::Op::kDoesNotExist;
        } else {
          return absl::InvalidArgumentError(absl::StrCat(
              at, ".operator: \"", op, "\" is not one of In, NotIn, Exists, DoesNotExist"));
        }
        if (e.contains("values") && !e["values"].is_null()) {
          if (!e["values"].is_array()) {
            return absl::InvalidArgumentError(absl::StrCat(at, ".values: must be a list"));
          }
          for (const auto& s : e["values"]) {
            if (!s.is_string()) {
              return absl::InvalidArgumentError(absl::StrCat(at, ".values: must be strings"));
            }
            req.values.push_back(s.get<std::string>());
          }
        }
        bool set_op = req.op == LabelSelectorRequirement::Op::kIn ||
                      req.op == LabelSelectorRequirement::Op::kNotIn;
        if (set_op && req.values.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(at, ": operator ", op, " needs at least one value"));
        }
        if (!set_op && !req.values.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(at, ": operator ", op, " takes no values"));
        }
        sel.match_expressions.push_back(std::move(req));
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": unknown field \"", field, "\" (expected matchLabels, matchExpressions)"));
    }
  }
  return sel;
}

absl::StatusOr<LabelSelector> ParseSelectorString(absl::string_view text) {
  LabelSelector sel;
  // Split on commas outside parentheses.
  std::vector<std::string> terms;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      terms.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (depth != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("selector \"", text, "\": unbalanced parentheses"));
  }
  terms.push_back(cur);
  for (std::string term : terms) {
    absl::string_view t = absl::StripAsciiWhitespace(term);
    if (t.empty()) {
      if (terms.size() == 1) return sel;
      return absl::InvalidArgumentError(absl::StrCat("selector \"", text, "\": empty term"));
    }
    LabelSelectorRequirement req;
    size_t pos;
    if (t.front() == '!') {
      req.key = std::string(absl::StripAsciiWhitespace(t.substr(1)));
      req.op = LabelSelectorRequirement::Op::kDoesNotExist;
    } else if ((pos = t.find("!=")) != absl::string_view::npos) {
      req.key = std::string(absl::StripAsciiWhitespace(t.substr(0, pos)));
      req.op = LabelSelectorRequirement::Op::kNotIn;
      req.values.emplace_back(absl::StripAsciiWhitespace(t.substr(pos + 2)));
    } else if ((pos = t.find('=')) != absl::string_view::npos) {
      req.key = std::string(absl::StripAsciiWhitespace(t.substr(0, pos)));
      absl::string_view v = t.substr(pos + 1);
      if (!v.empty() && v.front() == '=') v.remove_prefix(1);
      sel.match_labels[req.key] = std::string(absl::StripAsciiWhitespace(v));
      RETURN_IF_ERROR(ValidateLabelKey(req.key));
      RETURN_IF_ERROR(ValidateLabelValue(req.key, sel.match_labels[req.key]));
      continue;
    } else if ((pos = t.find(" notin ")) != absl::string_view::npos ||
               (pos = t.find(" in ")) != absl::string_view::npos) {
      bool notin = t.substr(pos, 7) == " notin ";
      req.key = std::string(absl::StripAsciiWhitespace(t.substr(0, pos)));
      req.op = notin ? LabelSelectorRequirement::Op::kNotIn : LabelSelectorRequirement::Op::kIn;
      absl::string_view rest = absl::StripAsciiWhitespace(t.substr(pos + (notin ? 7 : 4)));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
        return absl::InvalidArgumentError(
            absl::StrCat("selector term \"", t, "\": values must be in parentheses"));
      }
      for (absl::string_view v : absl::StrSplit(rest.substr(1, rest.size() - 2), ',')) {
        req.values.emplace_back(absl::StripAsciiWhitespace(v));
      }
    } else {
      req.key = std::string(t);
      req.op = LabelSelectorRequirement::Op::kExists;
    }
    RETURN_IF_ERROR(ValidateLabelKey(req.key));
    for (const auto& v : req.values) RETURN_IF_ERROR(ValidateLabelValue(req.key, v));
    sel.match_expressions.push_back(std::move(req));
  }
  return sel;
}

}  // namespace flotilla::common
