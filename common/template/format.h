// Go's fmt over template values: Sprint, Sprintln and Sprintf with Go's verbs,
// flags, width and precision, and Go's way of printing composite values
// (%v of a map is "map[a:1 b:2]" with sorted keys, of a list "[a b]") and of
// mistakes ("%!d(string=x)", "%!s(MISSING)", "%!(EXTRA int=1)").
//
// Bounded: output beyond `max_bytes`, or a value nested deeper than
// `max_depth` (a map that contains itself), fails with ResourceExhausted
// instead of using unbounded memory or stack.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/template/value.h"

namespace flotilla::common::tmpl {

struct FormatLimits {
  size_t max_bytes = 64 << 20;
  int max_depth = 1000;
};

// fmt.Sprint: spaces between operands when neither is a string.
absl::StatusOr<std::string> GoSprint(const std::vector<Value>& args,
                                     const FormatLimits& limits = {});
// fmt.Sprintln: spaces between all operands and a final newline.
absl::StatusOr<std::string> GoSprintln(const std::vector<Value>& args,
                                       const FormatLimits& limits = {});
// fmt.Sprintf.
absl::StatusOr<std::string> GoSprintf(absl::string_view format, const std::vector<Value>& args,
                                      const FormatLimits& limits = {});

// What an action like {{.x}} writes for a value: "<no value>" for a missing
// value, otherwise fmt.Sprint(v).
absl::StatusOr<std::string> FormatForOutput(const Value& v, const FormatLimits& limits = {});

// fmt.Sprint(v) of one value; for values known to be small (no limits).
std::string FormatV(const Value& v);

}  // namespace flotilla::common::tmpl
