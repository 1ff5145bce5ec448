// Kubernetes label selectors (metav1.LabelSelector) and label validation.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace flotilla::common {

using Labels = std::map<std::string, std::string>;

struct LabelSelectorRequirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kIn;
  std::vector<std::string> values;
};

// matchLabels AND matchExpressions. An empty selector ({}) matches everything.
struct LabelSelector {
  Labels match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  bool Matches(const Labels& labels) const;
  bool Empty() const { return match_labels.empty() && match_expressions.empty(); }
  nlohmann::json ToJson() const;
  // kubectl's string form: "a=b,c in (x,y),!d".
  std::string ToString() const;
};

// From the JSON/YAML form {matchLabels: {...}, matchExpressions: [{key,
// operator, values}]}. InvalidArgument names the offending field, prefixed by
// `where` (e.g. "fleet.yaml: targetCustomizations[1].clusterSelector").
absl::StatusOr<LabelSelector> ParseLabelSelector(const nlohmann::json& value,
                                                 absl::string_view where);

// From kubectl's -l syntax: "k=v,k==v,k!=v,k in (a,b),k notin (a),k,!k".
absl::StatusOr<LabelSelector> ParseSelectorString(absl::string_view text);

// Kubernetes label syntax: key = [prefix/]name, name ≤ 63 chars of
// [A-Za-z0-9._-] starting and ending alphanumeric, prefix a DNS subdomain
// ≤ 253; value ≤ 63 chars, same charset, may be empty.
absl::Status ValidateLabelKey(absl::string_view key);
absl::Status ValidateLabelValue(absl::string_view key, absl::string_view value);

}  // namespace flotilla::common
