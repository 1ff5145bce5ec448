// Parse and execution options of a template set, and the limits that keep a
// hostile template from using unbounded time, memory or stack.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace flotilla::common::tmpl {

struct Limits {
  // Nesting of if/range/with/block and of parentheses in one template.
  int max_parse_depth = 100;
  // Nested {{template}} calls (and Helm-style include). Go allows 100000;
  // deep recursion is almost always a template calling itself by mistake.
  int max_template_depth = 1000;
  // Bytes one execution may write (and the largest string any function may
  // return or printf may format).
  size_t max_output_bytes = 64 << 20;
  // Range iterations in one execution, summed over all loops.
  int64_t max_range_iterations = 10'000'000;
  // Units of work in one execution: nodes walked, commands run, and elements
  // touched by functions that walk values (toJson, deepCopy, until, ...).
  int64_t max_steps = 50'000'000;
  // Nesting walked when printing, comparing, copying or converting values
  // (a map that contains itself is caught here).
  int max_value_depth = 1000;
  // Elements a function may build into one list (until, seq, splitList...).
  size_t max_list_length = 1'000'000;
};

// What a field access on a map yields when the key is absent (Go's
// Option("missingkey=...")).
enum class MissingKey {
  kDefault,  // the missing value, printed "<no value>"
  kZero,     // the zero value of the map's element type (nil for interface{})
  kError,    // execution stops: map has no entry for key "x"
};

struct Options {
  std::string left_delim = "{{";
  std::string right_delim = "}}";
  MissingKey missing_key = MissingKey::kDefault;
  // Execute(Json) keeps JSON integers as Go ints. Set this to read every
  // number as float64, which is what Go programs that decode JSON into
  // interface{} (Fleet's cluster values, Helm's values) hand their templates:
  // then 1000000 prints as 1e+06 and `eq .n 1` fails, as there.
  bool json_numbers_as_float64 = false;
  Limits limits;
};

}  // namespace flotilla::common::tmpl
